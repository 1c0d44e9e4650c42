#!/usr/bin/python3
"""Writes N synthetic photos (W x H RGB JPEG, quality 90: smooth colour
fields with noise, so the entropy decoder has real work) into
DIR/<class>/NNNNN.jpg, 4 classes, for bench_decode and its peer.

Run: /usr/bin/python3 tests/bench/make_photo_folder.py DIR N W H"""
import os
import sys

import numpy as np
from PIL import Image


def main():
    root, n, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in range(n):
        d = os.path.join(root, "c%d" % (i % 4))
        os.makedirs(d, exist_ok=True)
        f = rng.uniform(0.005, 0.05, size=3)
        p = rng.uniform(0, 6.3, size=3)
        img = np.stack([127 + 100 * np.sin(f[c] * xx + 0.7 * f[c] * yy + p[c])
                        for c in range(3)], axis=-1)
        img += rng.normal(0, 12, size=img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            os.path.join(d, "%05d.jpg" % i), quality=90)


if __name__ == "__main__":
    main()
