"""Golden data for the eval suite (tests/eval): kNN, linear probe, .npy.

Run from the repository root with Debian's Python:
    /usr/bin/python3 tests/reference/eval.py
It writes tests/data/eval.txt: named arrays, "name count" then the values.

kNN: the weighted vote of InstDisc / DINO's kNN monitor in float64:
cosine similarities, the k most similar train rows, weights exp(sim / T)
summed per class, argmax. The ranking of classes for top-5 uses the
library's documented tie rule (larger score, then lower class index).

Linear probe: multinomial logistic regression on features standardised
with the train set's mean and population std (constant columns scaled by
1), mean cross-entropy + weight_decay / 2 |W|^2 (bias not decayed), solved
in float64 with torch.optim.LBFGS (strong Wolfe) until the gradient's
max-norm is below 1e-9: the exact optimum for the C test to approach.

NPY: the bytes np.save writes for a few small arrays, and the headers
numpy writes for a few shapes.
"""
import io
import os

import numpy as np
import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(__file__), "..", "data", "eval.txt")
rng = np.random.default_rng(20240601)

N_TRAIN, N_TEST, DIM, N_CLASSES = 1000, 300, 16, 8


def clustered(n):
    """Gaussian clusters that overlap, per-dimension scales and offsets
    (so standardisation matters), and one constant column."""
    y = rng.integers(0, N_CLASSES, size=n)
    x = CENTERS[y] + 1.1 * rng.standard_normal((n, DIM))
    x = x * SCALES + OFFSETS
    x[:, DIM - 1] = 2.5
    return x.astype(np.float32), y.astype(np.int32)


CENTERS = rng.standard_normal((N_CLASSES, DIM))
SCALES = rng.uniform(0.1, 5.0, size=DIM)
OFFSETS = rng.uniform(-1.0, 1.0, size=DIM)
x_train, y_train = clustered(N_TRAIN)
x_test, y_test = clustered(N_TEST)

out = []


def emit(name, values):
    values = np.asarray(values).ravel()
    out.append("%s %d" % (name, values.size))
    for i in range(0, values.size, 8):
        out.append(" ".join("%.9g" % v for v in values[i:i + 8]))


emit("x_train", x_train)
emit("y_train", y_train)
emit("x_test", x_test)
emit("y_test", y_test)

# ---------------------------------------------------------------- kNN
def normalize(x):
    x = torch.from_numpy(x.astype(np.float64))
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


sims = normalize(x_test) @ normalize(x_train).T  # (test, train)
# Sort by similarity, then train index: the library's tie rule.
order = np.lexsort((np.tile(np.arange(N_TRAIN), (N_TEST, 1)), -sims.numpy()))
sorted_sims = np.take_along_axis(sims.numpy(), order, axis=1)

# A row's prediction is "robust" when float32 rounding of the similarities
# (|error| <= 1e-6 for unit vectors of 16 dims) cannot change it: the k-th
# and (k+1)-th neighbours are more than 1e-5 apart (or of one class), and
# the best class beats the second by more than 1e-3 of its score, well above
# the 2e-5 / T relative change of a weight exp(sim / T) that a 1e-6 error
# in sim makes for the smallest T used here (0.02).
KNN_CASES = [(1, 0.1), (5, 0.07), (10, 0.02), (20, 0.1), (200, 0.1),
             (50, 0.5), (N_TRAIN, 1.0)]
emit("knn_cases", np.array(KNN_CASES, dtype=np.float64))
for case, (k, t) in enumerate(KNN_CASES):
    idx = torch.from_numpy(order[:, :k].copy())
    w = (torch.from_numpy(sorted_sims[:, :k].copy()) / t).exp()
    scores = torch.zeros(N_TEST, N_CLASSES)
    scores.scatter_add_(1, torch.from_numpy(y_train.astype(np.int64))[idx], w)
    scores = scores.numpy()
    pred = scores.argmax(axis=1)  # first maximum: lowest class index
    y = y_test
    ahead = (scores > scores[np.arange(N_TEST), y][:, None]) | (
        (scores == scores[np.arange(N_TEST), y][:, None])
        & (np.arange(N_CLASSES)[None, :] < y[:, None]))
    rank = ahead.sum(axis=1)
    top2 = np.sort(scores, axis=1)[:, -2:]
    margin = (top2[:, 1] - top2[:, 0]) / top2[:, 1]
    if k < N_TRAIN:
        gap = sorted_sims[:, k - 1] - sorted_sims[:, k]
        same = y_train[order[:, k - 1]] == y_train[order[:, k]]
        boundary_ok = (gap > 1e-5) | same
    else:
        boundary_ok = np.ones(N_TEST, dtype=bool)
    robust = (margin > 1e-3) & boundary_ok
    emit("knn%d_pred" % case, pred)
    emit("knn%d_robust" % case, robust.astype(np.int32))
    emit("knn%d_top1" % case, [(pred == y).mean()])
    emit("knn%d_top5" % case, [(rank < 5).mean()])
    print("kNN k=%d T=%g: top1 %.4f top5 %.4f, %d of %d rows not robust" %
          (k, t, (pred == y).mean(), (rank < 5).mean(),
           (~robust).sum(), N_TEST))

NB_K = 10
emit("nb_indices", order[:, :NB_K])
emit("nb_sims", sorted_sims[:, :NB_K])
# Position i of a row is pinned when it is more than 1e-5 away from both
# neighbours in the sorted list (the 11th included).
gaps = -np.diff(sorted_sims[:, :NB_K + 1], axis=1)  # (test, NB_K)
left = np.concatenate([np.full((N_TEST, 1), np.inf), gaps[:, :NB_K - 1]], 1)
emit("nb_pinned", ((gaps > 1e-5) & (left > 1e-5)).astype(np.int32))

# -------------------------------------------------------- linear probe
mean = x_train.astype(np.float64).mean(axis=0)
std = x_train.astype(np.float64).std(axis=0)
constant = (std <= 4 * np.finfo(np.float32).eps * np.abs(mean)) | (std == 0)
inv_std = np.where(constant, 1.0, 1.0 / np.where(constant, 1.0, std))
xs_train = torch.from_numpy((x_train - mean) * inv_std)
xs_test = torch.from_numpy((x_test - mean) * inv_std)
yt_train = torch.from_numpy(y_train.astype(np.int64))
emit("probe_mean", mean)
emit("probe_inv_std", inv_std)


def probe_loss(w, b, wd):
    z = xs_train @ w.T + b
    return torch.nn.functional.cross_entropy(z, yt_train) + 0.5 * wd * (w * w).sum()


for tag, wd in (("default", 1e-4), ("wd1e-2", 1e-2)):
    w = torch.zeros(N_CLASSES, DIM, requires_grad=True)
    b = torch.zeros(N_CLASSES, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=5000, history_size=50,
                            tolerance_grad=1e-13, tolerance_change=0,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = probe_loss(w, b, wd)
        loss.backward()
        return loss

    for _ in range(20):
        opt.step(closure)
        gmax = max(w.grad.abs().max().item(), b.grad.abs().max().item())
        if gmax < 1e-9:
            break
    assert gmax < 1e-9, gmax
    with torch.no_grad():
        loss = probe_loss(w, b, wd).item()
        z_train = xs_train @ w.T + b
        z_test = xs_test @ w.T + b
    acc_train = (z_train.argmax(1).numpy() == y_train).mean()
    acc_test = (z_test.argmax(1).numpy() == y_test).mean()
    print("probe %s: loss %.12f, |grad|max %.2g, train %.4f test %.4f" %
          (tag, loss, gmax, acc_train, acc_test))
    emit("probe_%s_loss" % tag, [loss])
    emit("probe_%s_w" % tag, w.detach().numpy())
    emit("probe_%s_b" % tag, b.detach().numpy())
    emit("probe_%s_train_top1" % tag, [acc_train])
    emit("probe_%s_test_top1" % tag, [acc_test])
    emit("probe_%s_train_pred" % tag, z_train.argmax(1).numpy())
    emit("probe_%s_test_pred" % tag, z_test.argmax(1).numpy())

# ---------------------------------------------------------------- NPY
def npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return np.frombuffer(buf.getvalue(), dtype=np.uint8)


emit("npy_f32_3x4", npy_bytes((np.arange(12, dtype=np.float32) / 7 - 0.5)
                               .reshape(3, 4)))
emit("npy_f32_1", npy_bytes(np.array([-1.5e-38], dtype=np.float32)))
emit("npy_f32_2x3x5", npy_bytes((np.arange(30, dtype=np.float32) * 1e3 - 7)
                                 .reshape(2, 3, 5)))
emit("npy_i32_7", npy_bytes(np.array([3, 0, -5, 2147483647, -2147483648, 9, 1],
                                     dtype=np.int32)))
for shape in ((60000, 128), (1, 1), (123456789, 3), (10,),
              (2, 3, 4, 5, 6, 7, 8, 9)):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    emit("npy_header_" + "x".join(map(str, shape)),
         np.frombuffer(buf.getvalue(), dtype=np.uint8))

with open(OUT, "w") as f:
    f.write("\n".join(out) + "\n")
print("wrote", os.path.normpath(OUT))
