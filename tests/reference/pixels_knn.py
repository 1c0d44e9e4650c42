#!/usr/bin/python3
"""kNN top-1 of raw Fashion-MNIST pixels in [0, 1] (cosine, k 200, T 0.1,
weighted vote), the bank being the first --limit training images: the
figure `selfsup eval` prints as "raw pixels [0,1]" (tests/e2e checks it).
With --whiten, of the pixels standardised with the bank's global mean and
std and PCA-whitened with the bank's statistics as the library does
(include/selfsup/whitening.h: 256 components, epsilon 1e-5): the
"raw pixels" row's "kNN whitened" figure. With --plain, the textbook
baseline instead: the k = 5 nearest pixels in [0, 1] by Euclidean distance,
each voting with weight 1 / distance (scikit-learn's KNeighborsClassifier
with weights="distance").

    /usr/bin/python3 tests/reference/pixels_knn.py [--limit 8192] \
        [--whiten | --plain]
"""
import argparse
import gzip

import numpy as np


def load(path, header):
    return np.frombuffer(gzip.open(path).read()[header:], np.uint8)


def plain_knn(bank, bank_y, query, query_y, k):
    """Euclidean k-NN, votes weighted by 1 / distance (an exact match
    decides alone, as scikit-learn's weights="distance" does). In torch:
    Debian's numpy runs on the reference BLAS, 100 times slower here."""
    import torch
    bank, query = torch.from_numpy(bank), torch.from_numpy(query)
    bank_y = torch.from_numpy(bank_y.astype(np.int64))
    query_y = torch.from_numpy(query_y.astype(np.int64))
    bank_sq = (bank * bank).sum(1)
    correct = 0
    for i in range(0, len(query), 1000):
        q = query[i:i + 1000]
        d2 = (q * q).sum(1)[:, None] + bank_sq[None, :] - 2 * q @ bank.T
        d2, idx = d2.topk(k, dim=1, largest=False)
        d = d2.clamp(min=0).sqrt()
        exact = d == 0
        w = torch.where(exact.any(1, keepdim=True), exact.double(),
                        1 / torch.where(exact, torch.ones_like(d), d))
        votes = torch.zeros(len(q), 10, dtype=torch.float64)
        votes.scatter_add_(1, bank_y[idx], w)
        correct += int((votes.argmax(1) == query_y[i:i + 1000]).sum())
    return correct / len(query)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--k", type=int, default=200)
    p.add_argument("--t", type=float, default=0.1)
    p.add_argument("--whiten", action="store_true")
    p.add_argument("--plain", action="store_true")
    a = p.parse_args()
    if a.plain and a.whiten:
        p.error("--plain and --whiten are two different baselines")
    bank = load(f"{a.data}/train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    bank_y = load(f"{a.data}/train-labels-idx1-ubyte.gz", 8)
    if a.limit > 0:
        bank, bank_y = bank[:a.limit], bank_y[:a.limit]
    query = load(f"{a.data}/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    query_y = load(f"{a.data}/t10k-labels-idx1-ubyte.gz", 8)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
    bank, query = bank.astype(np.float64) / 255, query.astype(np.float64) / 255
    if a.plain:
        print(f"{plain_knn(bank, bank_y, query, query_y, 5):.4f}")
        return
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
