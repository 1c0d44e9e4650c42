#!/usr/bin/env python3
"""kNN accuracy of features under post-processings fitted on the train
split (none, centred, standardised, PCA-whitened), for learned features and
for raw pixels side by side, so that a post-processing is judged on what it
does to both (issue 16: the table compares what was learned, not what was
whitened). The kNN is the library's protocol: l2-normalised features,
cosine, the k most similar train rows vote with weight exp(sim / T).

    python3 tests/reference/postprocess_knn.py DATADIR \\
        [--features TRAIN.npy TEST.npy] [--k 200] [--t 0.1]

DATADIR holds the IDX files (e.g. a held-out split from holdout_split.py);
features come from `selfsup embed` on its train-* and t10k-* images.
"""
import argparse
import gzip
import os

import numpy as np


def read_idx(path, header):
    return np.frombuffer(gzip.open(path, "rb").read()[header:], np.uint8)


def knn(train, train_labels, test, test_labels, k, t, classes=10):
    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    train, test = unit(train).astype(np.float32), unit(test).astype(np.float32)
    correct = 0
    for i in range(0, len(test), 1000):
        sims = test[i:i + 1000] @ train.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        s = np.take_along_axis(sims, top, axis=1)
        votes = np.zeros((len(s), classes))
        rows = np.repeat(np.arange(len(s)), k)
        np.add.at(votes, (rows, train_labels[top].ravel()),
                  np.exp(s / t).ravel())
        correct += int((votes.argmax(1) == test_labels[i:i + 1000]).sum())
    return correct / len(test)


def post_processings(train, test, components):
    mean = train.mean(0)
    yield "none", train, test
    yield "centred", train - mean, test - mean
    std = train.std(0) + 1e-6
    yield "standardised", (train - mean) / std, (test - mean) / std
    cov = np.cov((train - mean).T.astype(np.float64))
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    for n in components:
        if n > train.shape[1]:
            continue
        w = vectors[:, :n] / np.sqrt(values[:n] + 1e-5 * values[0])
        yield f"PCA-whitened {n}", (train - mean) @ w, (test - mean) @ w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--features", nargs=2)
    ap.add_argument("--k", type=int, default=200)
    ap.add_argument("--t", type=float, default=0.1)
    a = ap.parse_args()
    d = a.data
    labels = [read_idx(os.path.join(d, f"{s}-labels-idx1-ubyte.gz"), 8)
              .astype(np.int64) for s in ("train", "t10k")]
    pixels = [read_idx(os.path.join(d, f"{s}-images-idx3-ubyte.gz"), 16)
              .reshape(-1, 784).astype(np.float64) / 255 for s in ("train", "t10k")]
    # The program's "raw pixels" row: standardised with the global mean/std.
    m, sd = pixels[0].mean(), pixels[0].std()
    sets = [("raw pixels (standardised)", [(p - m) / sd for p in pixels])]
    if a.features:
        sets.insert(0, ("features", [np.load(f).astype(np.float64)
                                     for f in a.features]))
    for name, (train, test) in sets:
        for pp, tr, te in post_processings(train, test, (64, 128, 256)):
            acc = knn(tr, labels[0], te, labels[1], a.k, a.t)
            print(f"{name:28s} {pp:18s} kNN {100 * acc:.2f}%", flush=True)


if __name__ == "__main__":
    main()
