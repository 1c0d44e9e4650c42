#!/usr/bin/python3
"""kNN top-1 of raw Fashion-MNIST pixels in [0, 1] (cosine, k 200, T 0.1,
weighted vote), the bank being the first --limit training images: the
figure `selfsup eval` prints as "raw pixels [0,1]" (tests/e2e checks it).
With --whiten, of the pixels standardised with the bank's global mean and
std and PCA-whitened with the bank's statistics as the library does
(include/selfsup/whitening.h: 256 components, epsilon 1e-5): the
"raw pixels" row's "kNN whitened" figure.

    /usr/bin/python3 tests/reference/pixels_knn.py [--limit 8192] [--whiten]
"""
import argparse
import gzip

import numpy as np


def load(path, header):
    return np.frombuffer(gzip.open(path).read()[header:], np.uint8)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--k", type=int, default=200)
    p.add_argument("--t", type=float, default=0.1)
    p.add_argument("--whiten", action="store_true")
    a = p.parse_args()
    bank = load(f"{a.data}/train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    bank_y = load(f"{a.data}/train-labels-idx1-ubyte.gz", 8)
    if a.limit > 0:
        bank, bank_y = bank[:a.limit], bank_y[:a.limit]
    query = load(f"{a.data}/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    query_y = load(f"{a.data}/t10k-labels-idx1-ubyte.gz", 8)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
    bank, query = bank.astype(np.float64) / 255, query.astype(np.float64) / 255
    if a.whiten:
        m, sd = bank.mean(), bank.std()
        bank, query = (bank - m) / sd, (query - m) / sd
        mean = bank.mean(0)
        values, vectors = np.linalg.eigh(np.cov((bank - mean).T))
        order = np.argsort(values)[::-1][:256]
        w = vectors[:, order] / np.sqrt(values[order] + 1e-5 * values.max())
        bank, query = (bank - mean) @ w, (query - mean) @ w
    bank, query = unit(bank), unit(query)
    correct = 0
    for i in range(0, len(query), 1000):
        sim = query[i:i + 1000] @ bank.T
        idx = np.argpartition(-sim, a.k, axis=1)[:, :a.k]
        w = np.exp(np.take_along_axis(sim, idx, 1) / a.t)
        votes = np.stack([(w * (bank_y[idx] == c)).sum(1) for c in range(10)], 1)
        correct += int((votes.argmax(1) == query_y[i:i + 1000]).sum())
    print(f"{correct / len(query):.4f}")


if __name__ == "__main__":
    main()
