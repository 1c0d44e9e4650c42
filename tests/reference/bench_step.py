#!/usr/bin/python3
"""PyTorch's side of `selfsup bench`: one method's whole training step
(both views through the online networks and, for BYOL, the target; the
objective; backward; the optimizer; BYOL's moving average) with train.py's
Learner, the recipes the library runs, on synthetic views. Not run by CI.

    /usr/bin/python3 tests/reference/bench_step.py --method groco \\
        [--width 16] [--batch 256] [--size 28] [--steps 10] [--warmup 3] \\
        [--threads 2] [--recipe paper] [--precision f32|bf16]

selfsup bench's counterpart, option for option: images N(0, 1) of one
channel, the same views every step, the median step after the warm-up
ones. It prints each step and ends with "images_per_s: X", as selfsup bench
does, so that both can be timed side by side under /usr/bin/time -v (peak
RSS) by the same harness.
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--method", default="groco", choices=list(train.RECIPES))
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--recipe", default="paper", choices=("paper", "short"),
                   help="selfsup bench's learner knows no dataset size, so "
                   "it runs the paper's recipe")
    p.add_argument("--precision", default="f32", choices=("f32", "bf16"),
                   help="bf16: the step under CPU autocast to bfloat16 "
                   "(selfsup bench --precision bf16's counterpart)")
    args = p.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.batch < 2 or args.width < 1:
        p.error("an option is out of range")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = train.recipe(args.method, None, args.recipe)
    config["encoder"] = f"resnet18:width={args.width},in_channels=1"
    total = args.steps + args.warmup
    # the Learner's own autocast (train.py's --precision): an autocast
    # around its step would be switched off again inside it
    learner = train.Learner(args.method, config, total, args.batch,
                            bf16=args.precision == "bf16")
    gen = torch.Generator().manual_seed(1)
    views = [torch.randn(args.batch, 1, args.size, args.size, generator=gen)
             for _ in range(config["views"])]
    print(f"bench {args.method} (PyTorch {torch.__version__}), width "
          f"{args.width}, batch {args.batch}, {args.size}x{args.size}, "
          f"{torch.get_num_threads()} threads, {args.precision}", flush=True)
    times = []
    for i in range(total):
        t0 = time.perf_counter()
        loss, _, _ = learner.step(views)
        dt = time.perf_counter() - t0
        warm = i < args.warmup
        if not warm:
            times.append(dt)
        print(f"step {i + 1}{' (warm-up)' if warm else ''}: {dt:.3f} s, "
              f"{args.batch / dt:.1f} images/s, loss {loss:.4f}", flush=True)
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    print(f"median step: {median:.4f} s\nimages_per_s: {args.batch / median:.1f}")


if __name__ == "__main__":
    main()
