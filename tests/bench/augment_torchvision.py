#!/usr/bin/python3
"""The peer of bench_augment: torchvision 0.14's BYOL views on the same
kind of images, one image at a time on one thread, as a DataLoader worker
makes them (tensors, antialias off).

Run: /usr/bin/python3 tests/bench/augment_torchvision.py [repeats]"""
import statistics
import sys
import time

import torch
import torchvision.transforms as T

torch.set_num_threads(1)
COUNT = 512


def byol(side, solarize):
    k = 2 * int(0.05 * side) + 1
    ops = [T.RandomResizedCrop(side, scale=(0.08, 1.0), antialias=False),
           T.RandomHorizontalFlip(),
           T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8),
           T.RandomGrayscale(p=0.2),
           T.RandomApply([T.GaussianBlur(k, (0.1, 2.0))], p=0.1 if solarize else 1.0)]
    if solarize:
        ops.append(T.RandomSolarize(0.5, p=0.2))
    ops.append(T.Normalize([0.5], [0.25]))
    return T.Compose(ops)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.manual_seed(0)
    for side, c, name in [(28, 1, "28x28 gray"), (32, 3, "32x32 RGB")]:
        images = torch.randint(0, 256, (COUNT, c, side, side), dtype=torch.uint8)
        views = [byol(side, False), byol(side, True)]
        wall, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(COUNT):
                x = images[i].float() / 255
                for v in views:
                    v(x)
            wall.append(2 * COUNT / (time.perf_counter() - t0))
            cpu.append(2 * COUNT / (time.process_time() - c0))
        print(f"{name:11s} views per CPU-second {statistics.median(cpu):7.0f} "
              f"(1 thread); views/s wall {statistics.median(wall):7.0f} "
              f"(torchvision)")


if __name__ == "__main__":
    main()
