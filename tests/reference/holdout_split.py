#!/usr/bin/env python3
"""Writes a held-out split of Fashion-MNIST's training set as a dataset
directory that `selfsup train --data` and `selfsup eval` read: the first
--train images as train-*, the rest as t10k-* (the "test" split). Recipe
choices (docs/augmentation.md) were made on such a split, not on the test
set.

    python3 tests/reference/holdout_split.py OUTDIR [--train 50000]
"""
import argparse
import gzip
import os
import struct

IMAGES, LABELS = 2051, 2049


def read_idx(path, magic):
    data = gzip.open(path, "rb").read()
    header = 16 if magic == IMAGES else 8
    if struct.unpack(">I", data[:4])[0] != magic:
        raise SystemExit(f"{path}: not an IDX file of magic {magic}")
    return data[header:]


def write_idx(path, magic, body, count):
    tmp = path + ".tmp"
    with gzip.open(tmp, "wb") as f:
        if magic == IMAGES:
            f.write(struct.pack(">IIII", IMAGES, count, 28, 28))
        else:
            f.write(struct.pack(">II", LABELS, count))
        f.write(body)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--train", type=int, default=50000)
    args = p.parse_args()
    pixels = read_idx(f"{args.data}/train-images-idx3-ubyte.gz", IMAGES)
    labels = read_idx(f"{args.data}/train-labels-idx1-ubyte.gz", LABELS)
    n, cut = len(labels), args.train
    if not 0 < cut < n:
        raise SystemExit(f"--train {cut} is not in 1..{n - 1}")
    os.makedirs(args.out, exist_ok=True)
    for prefix, lo, hi in (("train", 0, cut), ("t10k", cut, n)):
        write_idx(f"{args.out}/{prefix}-images-idx3-ubyte.gz", IMAGES,
                  pixels[lo * 784:hi * 784], hi - lo)
        write_idx(f"{args.out}/{prefix}-labels-idx1-ubyte.gz", LABELS,
                  labels[lo:hi], hi - lo)
    print(f"{args.out}: {cut} train, {n - cut} held out")


if __name__ == "__main__":
    main()
