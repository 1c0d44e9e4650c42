"""Golden data for the effective rank of embeddings (RankMe, Garrido et
al., ICML 2023): numpy's singular values in float64.

Run from the repository root with Debian's Python:
    /usr/bin/python3 tests/reference/rankme.py
It writes tests/data/rankme.txt: named arrays, "name count" then the
values. For each case X (N x D float32): the rows, then
rank = exp(-sum_k p_k log p_k), p_k = s_k / sum(s) + 1e-7, s the singular
values of X (not centred), as the paper defines it.
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "data", "rankme.txt")
rng = np.random.default_rng(20261205)
out = []


def emit(name, values):
    values = np.asarray(values, dtype=np.float64).ravel()
    out.append("%s %d" % (name, values.size))
    for i in range(0, values.size, 8):
        out.append(" ".join("%.17g" % v for v in values[i:i + 8]))


def rankme(x):
    s = np.linalg.svd(x.astype(np.float64), compute_uv=False)
    p = s / s.sum() + 1e-7
    return float(np.exp(-(p * np.log(p)).sum()))


cases = {}
# healthy: Gaussian rows, every direction used
cases["full"] = rng.standard_normal((300, 16))
# dimensional collapse: rank 4 of 16, with unequal directions
basis = rng.standard_normal((4, 16)) * np.array([[3.0], [1.5], [1.0], [0.5]])
cases["rank4"] = rng.standard_normal((300, 4)) @ basis
# complete collapse: every row the same up to a little noise
cases["collapsed"] = np.tile(rng.standard_normal((1, 16)), (300, 1)) + \
    1e-4 * rng.standard_normal((300, 16))
# fewer rows than dimensions, in a positive cone as ReLU features are
cases["wide"] = np.abs(rng.standard_normal((8, 20))) + 2.0

for name, x in cases.items():
    x = x.astype(np.float32)
    emit("rankme_%s_x" % name, x)
    emit("rankme_%s" % name, [rankme(x)])

with open(OUT, "w") as f:
    f.write("\n".join(out) + "\n")
print("wrote", OUT)
