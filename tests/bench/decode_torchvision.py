#!/usr/bin/python3
"""The peer of bench_decode: torchvision 0.14's ImageFolder with the same
work per image (PIL decode, Resize(size) + CenterCrop(size) with PIL's
antialiased bilinear, conversion to L or RGB), every image into one uint8
array, through a DataLoader with 0 workers (the main process: one thread)
or 2 worker processes. Prints the median of REPEATS passes.

Run: /usr/bin/python3 tests/bench/decode_torchvision.py DIR SIZE MODE WORKERS REPEATS
(MODE L or RGB; DIR an ImageFolder)"""
import json
import statistics
import sys
import time

import numpy as np
import torch
import torchvision.datasets as datasets
import torchvision.transforms as T

torch.set_num_threads(1)


def main():
    root, size, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    workers, repeats = int(sys.argv[4]), int(sys.argv[5])
    tf = T.Compose([T.Resize(size), T.CenterCrop(size),
                    T.Lambda(lambda im: np.asarray(im, dtype=np.uint8))])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ds = datasets.ImageFolder(root, transform=tf,
                                  loader=lambda p: datasets.folder.pil_loader(p).convert(mode))
        loader = torch.utils.data.DataLoader(ds, batch_size=256,
                                             num_workers=workers)
        parts = [x.numpy() for x, _ in loader]
        out = np.concatenate(parts)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(json.dumps({"images": len(out), "workers": workers,
                      "median_s": round(median, 3),
                      "images_per_s": round(len(out) / median)}))


if __name__ == "__main__":
    main()
