"""Golden data for the symmetric eigensolver (tests/core) and the PCA
whitening (tests/nn): numpy's eigh in float64.

Run from the repository root with Debian's Python:
    /usr/bin/python3 tests/reference/whitening.py
It writes tests/data/whitening.txt: named arrays, "name count" then the
values.

Conventions the library documents (include/selfsup/whitening.h): values in
descending order; each eigenvector's entry of largest magnitude (the first
such) positive; covariance with divisor N - 1; W[k] = v_k / sqrt(lambda_k +
epsilon * lambda_0).
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "data", "whitening.txt")
rng = np.random.default_rng(20261203)
out = []


def emit(name, values):
    values = np.asarray(values, dtype=np.float64).ravel()
    out.append("%s %d" % (name, values.size))
    for i in range(0, values.size, 8):
        out.append(" ".join("%.17g" % v for v in values[i:i + 8]))


def eig_desc(a):
    values, vectors = np.linalg.eigh(a)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    for j in range(vectors.shape[1]):
        big = np.argmax(np.abs(vectors[:, j]))
        if vectors[big, j] < 0:
            vectors[:, j] = -vectors[:, j]
    return values, vectors


# A 9 x 9 symmetric matrix with well separated eigenvalues of both signs,
# so the vectors are determined (up to the documented sign).
q, _ = np.linalg.qr(rng.standard_normal((9, 9)))
lam = np.array([7.5, 4.0, 2.25, 1.0, 0.5, -0.3, -1.2, -2.6, -5.0])
a = (q * lam) @ q.T
a = (a + a.T) / 2
values, vectors = eig_desc(a)
emit("eig_a", a)
emit("eig_values", values)
emit("eig_vectors", vectors)

# Features in a narrow cone, as a ReLU encoder's are: a large common mean,
# a few strong directions, per-dimension scales.
N, D, N_TEST = 500, 12, 40
mix = rng.standard_normal((D, D)) * rng.uniform(0.05, 2.0, size=D)
def features(n):
    return (5.0 + rng.standard_normal((n, D)) @ mix.T).astype(np.float32)
x, x_test = features(N), features(N_TEST)
emit("white_x", x)
emit("white_x_test", x_test)
xd = x.astype(np.float64)
mean = xd.mean(0)
cov = (xd - mean).T @ (xd - mean) / (N - 1)
values, vectors = eig_desc(cov)
emit("white_mean", mean)
emit("white_values", values)
for k, eps in ((D, 1e-5), (5, 1e-2)):
    w = (vectors[:, :k] / np.sqrt(values[:k] + eps * values[0])).T  # (k, D)
    emit("white_projection_k%d" % k, w)
    emit("white_test_k%d" % k, (x_test.astype(np.float64) - mean) @ w.T)

with open(OUT + ".tmp", "w") as f:
    f.write("\n".join(out) + "\n")
os.replace(OUT + ".tmp", OUT)
print("wrote", OUT)
