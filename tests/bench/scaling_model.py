#!/usr/bin/python3
"""Scaling of a training run over R nodes, on paper (docs/benchmarks.md,
"Scaling on paper"). Nodes like the 2-core machine the images/s were
measured on; per step: the encoder on b images a node, the objective, the
gradients' ring all-reduce, the gathered rows, batch norm's all-reduces.
Prints each method's efficiency (one node's step on b images over the
modelled step) at the best per-node batch b, as built (every rank computes
the whole objective) and with the objective sharded."""
import math

# one process of two threads, images/s at batch 256 (docs/benchmarks.md)
IMAGES_PER_S = dict(groco=321.6, simclr=361.2, vicreg=252.7, barlow=258.5,
                    byol=218.4, simsiam=219.7)
GRADIENT_BYTES = dict(groco=4.02e6, simclr=4.95e6, vicreg=37.5e6,
                      barlow=37.5e6, byol=17.66e6, simsiam=45.93e6)
WIDTH = dict(groco=2048, simclr=128, vicreg=2048, barlow=2048, byol=256,
             simsiam=2048)
GATHERED = dict(groco=2, simclr=2, vicreg=2, barlow=2, byol=4, simsiam=4)
GEMM_FLOPS = 200e9
BN_ALLREDUCES = 140
# bytes/s and seconds a message
NETWORKS = {10: (1.25e9, 20e-6), 25: (3.125e9, 10e-6), 100: (12.5e9, 3e-6)}


def objective_flops(m, rows):
    d = WIDTH[m]
    if m in ("groco", "simclr"):
        return 3 * 2 * (2 * rows) ** 2 * d
    if m == "vicreg":
        return 12 * rows * d * d
    if m == "barlow":
        return 6 * rows * d * d
    return 3 * 2 * 2 * rows * d * 2


def efficiency(m, ranks, b, gbps, sharded):
    beta, alpha = NETWORKS[gbps]
    batch = ranks * b
    one = b / IMAGES_PER_S[m]
    encoder = one - objective_flops(m, b) / GEMM_FLOPS
    gathered = GATHERED[m] * batch * WIDTH[m] * 4
    comm = (2 * (ranks - 1) / ranks * GRADIENT_BYTES[m] / beta
            + (ranks - 1) / ranks * gathered / beta
            + BN_ALLREDUCES * math.log2(ranks) * alpha)
    objective = objective_flops(m, batch) / GEMM_FLOPS
    if sharded and m in ("groco", "simclr"):
        objective /= ranks
        comm += (ranks - 1) / ranks * gathered / beta  # the reduce-scatter
    elif sharded and m in ("vicreg", "barlow"):
        objective = objective_flops(m, b) / GEMM_FLOPS
        matrices = 2 if m == "vicreg" else 1
        comm += 2 * (ranks - 1) / ranks * matrices * WIDTH[m] ** 2 * 4 / beta
    return one / (encoder + objective + comm)


for sharded in (False, True):
    print("objective sharded" if sharded else "objective whole on every rank")
    for m in IMAGES_PER_S:
        for gbps in NETWORKS:
            row = []
            for ranks in (8, 32, 64):
                e, b = max((efficiency(m, ranks, b, gbps, sharded), b)
                           for b in (32, 64, 128, 256, 512))
                row.append("%.2f (b %d)" % (e, b))
            print("  %-8s %3d Gb/s  %s" % (m, gbps, "  ".join(row)))
