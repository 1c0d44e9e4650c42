#!/usr/bin/python3
"""The PyTorch side of tests/bench/bench_objectives.c: forward + backward of
each objective in float32 at N = 256, D = 256 and 2048 (GroCo: 2 views,
topk 10), median of repeated runs, on torch.set_num_threads(THREADS).

    /usr/bin/python3 tests/reference/bench_objectives.py [repeats] [threads]

The losses are the reference formulas of objectives.py; GroCo's sorting
network runs one layer at a time with index ops over all anchors (the way
diffsort executes it), not one comparator at a time.
"""
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import objectives as ref  # noqa: E402


def layers_of(network, n):
    if network == "odd_even":
        return ref.odd_even_layers(n)
    raise ValueError("the benchmark uses odd_even")


def soft_sort_layers(x, layers, steepness):
    """Layer-vectorised relaxed sort with cauchy comparators; P only."""
    rows, n = x.shape
    P = torch.eye(n, dtype=x.dtype).expand(rows, n, n)
    for pairs in layers:
        if not pairs:
            continue
        lo = torch.tensor([p[0] for p in pairs])
        hi = torch.tensor([p[1] for p in pairs])
        a, b = x[:, lo], x[:, hi]
        alpha = torch.atan(steepness * (b - a)) / math.pi + 0.5
        x = x.clone()
        x[:, lo] = alpha * a + (1 - alpha) * b
        x[:, hi] = (1 - alpha) * a + alpha * b
        pl, ph = P[:, :, lo], P[:, :, hi]
        al = alpha[:, None, :]
        P = P.clone()
        P[:, :, lo] = al * pl + (1 - al) * ph
        P[:, :, hi] = (1 - al) * pl + al * ph
    return x, P


def groco(on, tg, opt):
    topk = 10
    V, n = len(on), on[0].shape[0]
    t = [x.detach() for x in (tg if tg is not None else on)]
    layers = layers_of("odd_even", topk + V - 1)
    total = 0
    for v in range(V):
        a = F.normalize(on[v], dim=1)
        pos = torch.stack([(a * F.normalize(t[w], dim=1)).sum(1)
                           for w in range(V) if w != v], dim=1)
        neg = a @ F.normalize(t[v], dim=1).T
        neg = neg.masked_fill(torch.eye(n, dtype=torch.bool), float("-inf"))
        pos, _ = torch.sort(pos, dim=1)
        neg = torch.flip(torch.topk(neg, k=topk, dim=1)[0], dims=[1])
        _, P = soft_sort_layers(torch.cat([neg, pos], dim=1), layers, 1.0)
        q = torch.clamp(P[:, :, topk:].sum(dim=2), 0, 1)
        y = (torch.arange(q.shape[1]) >= topk).to(q.dtype).expand_as(q)
        total = total + F.binary_cross_entropy(q, y, reduction="none") \
            .mean(dim=1).sum()
    return total / (V * n), {}


LOSSES = [("byol", ref.byol, True), ("simsiam", ref.simsiam, True),
          ("vicreg", ref.vicreg, False), ("simclr", ref.simclr, False),
          ("barlow", ref.barlow, False), ("groco", groco, False)]


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    n = 256
    print(f"# torch {torch.__version__}, {threads} threads, N = {n}, "
          f"median of {repeats} runs (ms)")
    print("%-8s %6s %10s" % ("name", "D", "ms"))
    for d in (256, 2048):
        on = [torch.randn(n, d) for _ in range(2)]
        tg = [torch.randn(n, d) for _ in range(2)]
        for name, fn, needs_target in LOSSES:
            times = []
            for r in range(repeats + 2):
                leaves = [x.clone().requires_grad_(True) for x in on]
                t0 = time.perf_counter()
                loss, _ = fn(leaves, tg if needs_target else None, {})
                loss.backward()
                if r >= 2:
                    times.append(time.perf_counter() - t0)
            print("%-8s %6d %10.3f" % (name, d,
                                       1e3 * statistics.median(times)))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
