#!/usr/bin/python3
"""The library's views against train.py's torchvision views of the same
images, as summary statistics (docs/benchmarks.md, "Five epochs, every
method": why the library's GroCo and PyTorch's differ). The two draw their
random parameters from different generators, so the views agree in
distribution only; a systematic difference in any operation shows as a
difference in these figures larger than their sampling spread.

  /usr/bin/python3 tests/reference/view_stats.py --lib build/release/lib/libselfsup.so

Per view (0: blur p 0.5; 1: blur p 0.1 and solarize p 0.2), in [0, 1]
pixel units: mean and std of all pixels, the spread of the images' means,
the mean of the images' stds, the mean absolute difference of neighbours
across and down (sharpness), the fraction of pixels above 0.5; and the
correlation of the two views of one image (how alike the pairs the
objective sees are), mean and spread over images. Not run by CI.
"""
import argparse
import ctypes as c
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
from paired import Library  # noqa: E402


def library_views(lib, data, preset, count, side, seed):
    dataset, views = c.c_void_p(), c.c_void_p()
    lib("selfsup_dataset_open_fashion_mnist", c.byref(dataset),
        data.encode(), b"train")
    lib("selfsup_views_create", c.byref(views), preset.encode(), 2, side)
    dims = (c.c_int64 * 4)(count, 1, side, side)
    tensors = (c.c_void_p * 2)()
    for k in range(2):
        t = c.c_void_p()
        lib("selfsup_tensor_create", c.byref(t), 4, dims)
        tensors[k] = t
    at = (c.c_int64 * count)(*range(count))
    lib("selfsup_views_apply", views, dataset, at, c.c_int64(count),
        c.c_uint64(seed), c.c_int64(0), tensors)
    out = []
    for k in range(2):
        b = np.zeros(count * side * side, np.float32)
        lib("selfsup_tensor_read", c.c_void_p(tensors[k]),
            b.ctypes.data_as(c.c_void_p), c.c_int64(b.size))
        out.append(b.reshape(count, 1, side, side))
        lib.c.selfsup_tensor_destroy(c.c_void_p(tensors[k]))
    lib.c.selfsup_views_destroy(views)
    lib.c.selfsup_dataset_destroy(dataset)
    return out


def report(name, views, mean, std):
    print(name)
    for k, v in enumerate(views):
        u = v * std + mean
        flat = u.reshape(u.shape[0], -1)
        across = np.abs(np.diff(u, axis=3)).mean()
        down = np.abs(np.diff(u, axis=2)).mean()
        print(f"  view {k}: mean {flat.mean():.4f} std {flat.std():.4f} "
              f"image means' spread {flat.mean(1).std():.4f} image std "
              f"{flat.std(1).mean():.4f} sharpness {across:.4f} / "
              f"{down:.4f} above 0.5 {(flat > 0.5).mean():.4f}")
    a, b = (v.reshape(v.shape[0], -1) for v in views)
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    corr = (a * b).sum(1) / (np.linalg.norm(a, axis=1) *
                             np.linalg.norm(b, axis=1) + 1e-12)
    print(f"  pair correlation {corr.mean():.4f} (spread {corr.std():.4f}, "
          f"standard error {corr.std() / np.sqrt(len(corr)):.4f})")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lib", required=True, help="path of libselfsup.so")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--count", type=int, default=4096)
    p.add_argument("--side", type=int, default=0,
                   help="views' side (0: selfsup train's, 20 for 28)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    lib = Library(args.lib)
    lib("selfsup_set_num_threads", 1)
    images, _ = train.fashion_mnist(args.data, "train")
    mean, std = train.pixel_stats(images)
    side = args.side or train.small_view_side(images.shape[-1]) or \
        images.shape[-1]
    pipelines = train.fmnist_views(side, mean, std)
    theirs = [train.make_view(images[:args.count], pipelines[k]).numpy()
              for k in range(2)]
    ours = library_views(lib, args.data, "fmnist", args.count, side,
                         args.seed)
    report(f"torchvision (train.py), {args.count} images, {side} pixels",
           theirs, mean, std)
    report("libselfsup (preset fmnist)", ours, mean, std)


if __name__ == "__main__":
    main()
