#!/usr/bin/python3
"""Golden values for tests/objective: every objective's loss, gradients and
diagnostics, and the differentiable sorting network, computed in float64
with PyTorch autograd from the papers' reference formulas (written here, not
taken from the library).

Run from the repository root:  /usr/bin/python3 tests/reference/objectives.py
Writes tests/data/objectives.txt: "name count" lines, each followed by
count numbers (%.9g). Inputs are drawn in float32 and written too, so the C
suite reads exactly the values the reference used.
"""
import math
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(20240611)
DT = torch.float64

arrays = []


def emit(name, value):
    if not torch.is_tensor(value):
        value = torch.tensor([float(value)], dtype=DT)
    arrays.append((name, value.detach().reshape(-1).tolist()))


def draw(*shape, scale=None):
    x = torch.randn(*shape, dtype=torch.float32)
    if scale is not None:
        x = x * scale
    return x.to(DT)


def cos(a, b):
    # the contract's cos: a.b / (max(|a|, 1e-12) max(|b|, 1e-12))
    return (F.normalize(a, dim=1, eps=1e-12) *
            F.normalize(b, dim=1, eps=1e-12)).sum(dim=1)


def off_diagonal(m):
    n = m.shape[0]
    return m.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def collapse_std(z):
    return F.normalize(z, dim=1, eps=1e-12).std(dim=0).mean()


# ---------------------------------------------------------------- losses

def byol(on, tg, opt):
    # BYOL reference: 2 - 2 cos per direction, summed, mean over the batch
    c0, c1 = cos(on[0], tg[1].detach()), cos(on[1], tg[0].detach())
    loss = ((2 - 2 * c0) + (2 - 2 * c1)).mean()
    return loss, {"cos": torch.cat([c0, c1]).mean()}


def simsiam(on, tg, opt):
    c0, c1 = cos(on[0], tg[1].detach()), cos(on[1], tg[0].detach())
    loss = -0.5 * (c0.mean() + c1.mean())
    return loss, {"cos": torch.cat([c0, c1]).mean()}


def vicreg(on, tg, opt):
    # facebookresearch/vicreg main_vicreg.py, VICReg.forward
    sim, var, cov, eps = (opt.get(k, d) for k, d in
                          (("sim", 25.0), ("var", 25.0), ("cov", 1.0),
                           ("eps", 1e-4)))
    x, y = on
    n, d = x.shape
    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + eps)
    std_y = torch.sqrt(y.var(dim=0) + eps)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + \
        torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (n - 1)
    cov_y = (y.T @ y) / (n - 1)
    cov_loss = off_diagonal(cov_x).pow(2).sum() / d + \
        off_diagonal(cov_y).pow(2).sum() / d
    loss = sim * repr_loss + var * std_loss + cov * cov_loss
    return loss, {"invariance": repr_loss, "variance": std_loss,
                  "covariance": cov_loss,
                  "std": torch.cat([std_x, std_y]).mean()}


def barlow(on, tg, opt):
    # facebookresearch/barlowtwins: BatchNorm1d(affine=False) then
    # c = z1^T z2 / N; eps is the contract's 0 unless given
    lam, eps = opt.get("lambda", 0.0051), opt.get("eps", 0.0)
    n = on[0].shape[0]
    z0 = F.batch_norm(on[0], None, None, training=True, eps=eps)
    z1 = F.batch_norm(on[1], None, None, training=True, eps=eps)
    c = z0.T @ z1 / n
    on_diag = (torch.diagonal(c) - 1).pow(2).sum()
    off_diag = off_diagonal(c).pow(2).sum()
    return on_diag + lam * off_diag, {"on_diag": on_diag,
                                      "off_diag": off_diag}


def simclr(on, tg, opt):
    tau = opt.get("temperature", 0.5)
    n = on[0].shape[0]
    z = F.normalize(torch.cat(on), dim=1, eps=1e-12)
    logits = z @ z.T / tau
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool),
                                float("-inf"))
    labels = (torch.arange(2 * n) + n) % (2 * n)
    loss = F.cross_entropy(logits, labels)
    pos = logits[torch.arange(2 * n), labels]
    top = (logits.argmax(dim=1) == labels).to(DT).mean()
    return loss, {"pos_sim": (pos * tau).mean(), "top1": top}


# ---------------------------------------------- differentiable sorting

def relax(kind, v):
    if kind == "cauchy":
        return torch.atan(v) / math.pi + 0.5
    if kind == "logistic":
        return torch.sigmoid(v)
    # optimal; branches evaluated on a safe copy so autograd sees no inf
    far = v.abs() > 0.25
    vs = torch.where(far, v, torch.ones_like(v))
    return torch.where(v < -0.25, -1 / (16 * vs),
                       torch.where(v > 0.25, 1 - 1 / (16 * vs), v + 0.5))


def odd_even_layers(n):
    return [[(s, s + 1) for s in range(l % 2, n - 1, 2)] for l in range(n)]


def bitonic_layers(width):
    # the textbook bitonic sorter: blocks of 2^(b+1) alternate ascending /
    # descending; a pair is (receives min, receives max)
    layers = []
    for b in range(int(math.log2(width))):
        for l in range(b + 1):
            m = 2 ** (b - l)
            pairs = []
            for i in range(0, width, 2 * m):
                for j in range(m):
                    a, c = i + j, i + j + m
                    if ((i + j) // 2 ** (b + 1)) % 2 == 1:
                        a, c = c, a
                    pairs.append((a, c))
            layers.append(pairs)
    return layers


def soft_sort(x, network, kind, steepness):
    """x (rows, n) -> relaxed sorted values (rows, n) and P (rows, n, n).

    bitonic: the network on the next power of two with the first wires
    holding -inf, executed literally: a comparator that meets a -inf wire is
    exact (the -inf goes to the min side), all others are relaxed."""
    rows, n = x.shape
    if network == "odd_even":
        width, layers = n, odd_even_layers(n)
    else:
        width = 1
        while width < n:
            width *= 2
        layers = bitonic_layers(width)
    pad = width - n
    val = [None] * pad + [x[:, r] for r in range(n)]
    eye = torch.eye(n).to(x.dtype)  # eye has no bfloat16 kernel on CPU
    col = [None] * pad + [eye[r].expand(rows, n) for r in range(n)]
    for pairs in layers:
        for lo, hi in pairs:
            if val[lo] is None:
                continue                      # -inf already on the min side
            if val[hi] is None:               # exact swap
                val[lo], val[hi] = val[hi], val[lo]
                col[lo], col[hi] = col[hi], col[lo]
                continue
            a, b = val[lo], val[hi]
            alpha = relax(kind, steepness * (b - a))
            val[lo], val[hi] = alpha * a + (1 - alpha) * b, \
                (1 - alpha) * a + alpha * b
            al = alpha[:, None]
            cl, ch = col[lo], col[hi]
            col[lo], col[hi] = al * cl + (1 - al) * ch, \
                (1 - al) * cl + al * ch
    assert all(v is None for v in val[:pad])
    return torch.stack(val[pad:], dim=1), torch.stack(col[pad:], dim=2)


def groco(on, tg, opt, detach=True):
    topk = opt.get("topk", 10)
    steep = opt.get("steepness", 1.0)
    network = opt.get("network", "odd_even")
    kind = opt.get("relax", "cauchy")
    V = len(on)
    n = on[0].shape[0]
    t = tg if tg is not None else on
    if detach:
        t = [x.detach() for x in t]
    fn = lambda x: F.normalize(x, dim=1, eps=1e-12)
    total, pos_all, neg_all, hard_all, ordered, margin = 0, [], [], [], [], []
    for v in range(V):
        a = fn(on[v])
        pos = torch.stack([(a * fn(t[w])).sum(1) for w in range(V) if w != v],
                          dim=1)
        neg = a @ fn(t[v]).T
        pos_all.append(pos.flatten())
        neg_all.append(neg[~torch.eye(n, dtype=torch.bool)])
        neg = neg.masked_fill(torch.eye(n, dtype=torch.bool), float("-inf"))
        pos, _ = torch.sort(pos, dim=1)
        neg, _ = torch.topk(neg, k=topk, dim=1)
        neg = torch.flip(neg, dims=[1])
        hard_all.append(neg.flatten())
        ordered.append((pos[:, 0] > neg[:, -1]).to(DT))
        margin.append(pos[:, 0] - neg[:, -1])
        s = torch.cat([neg, pos], dim=1)
        _, P = soft_sort(s, network, kind, steep)
        q = torch.clamp(P[:, :, topk:].sum(dim=2), 0, 1)
        y = (torch.arange(s.shape[1]) >= topk).to(DT).expand_as(q)
        total = total + F.binary_cross_entropy(q, y, reduction="none") \
            .mean(dim=1).sum()
    loss = total / (V * n)
    return loss, {"pos_sim": torch.cat(pos_all).mean(),
                  "neg_sim": torch.cat(neg_all).mean(),
                  "hard_neg_sim": torch.cat(hard_all).mean(),
                  "ordered": torch.cat(ordered).mean(),
                  "margin": torch.cat(margin).mean()}


LOSSES = {"byol": byol, "simsiam": simsiam, "vicreg": vicreg,
          "barlow": barlow, "simclr": simclr, "groco": groco}

# name, objective, options, V, N, D, target given
CASES = [
    ("byol_a", "byol", {}, 2, 8, 16, True),
    ("byol_b", "byol", {}, 2, 32, 64, True),
    ("byol_c", "byol", {}, 2, 5, 3, True),
    ("byol_zero", "byol", {}, 2, 6, 4, True),
    ("simsiam_a", "simsiam", {}, 2, 8, 16, True),
    ("simsiam_b", "simsiam", {}, 2, 32, 64, True),
    ("vicreg_a", "vicreg", {}, 2, 8, 16, False),
    ("vicreg_b", "vicreg", {}, 2, 32, 64, False),
    ("vicreg_c", "vicreg", {"sim": 10.0, "var": 5.0, "cov": 2.0,
                            "eps": 0.01}, 2, 8, 16, False),
    ("vicreg_d", "vicreg", {"eps": 0.5}, 2, 6, 5, False),
    ("simclr_a", "simclr", {}, 2, 8, 16, False),
    ("simclr_b", "simclr", {"temperature": 0.1}, 2, 32, 64, False),
    ("simclr_c", "simclr", {"temperature": 1.0}, 2, 5, 3, False),
    ("barlow_a", "barlow", {}, 2, 8, 16, False),
    ("barlow_b", "barlow", {"lambda": 0.02}, 2, 32, 64, False),
    ("barlow_c", "barlow", {"eps": 1e-5}, 2, 8, 16, False),
    ("barlow_d", "barlow", {"lambda": 0.1, "eps": 0.001}, 2, 16, 8, False),
    ("groco_a", "groco", {}, 2, 16, 8, True),
    ("groco_b", "groco", {}, 2, 16, 8, False),
    ("groco_c", "groco", {"topk": 3}, 3, 8, 16, True),
    ("groco_d", "groco", {"topk": 5, "steepness": 4.0, "relax": "logistic"},
     4, 12, 8, False),
    ("groco_e", "groco", {"topk": 4, "network": "bitonic"}, 2, 10, 6, True),
    ("groco_f", "groco", {"topk": 10, "network": "bitonic",
                          "relax": "optimal", "steepness": 2.0},
     2, 32, 16, False),
    ("groco_g", "groco", {"topk": 7, "relax": "optimal"}, 3, 9, 5, True),
    ("groco_h", "groco", {"topk": 6, "network": "bitonic",
                          "relax": "logistic"}, 4, 8, 4, True),
    ("groco_i", "groco", {"topk": 7}, 2, 8, 16, False),
]


def objective_cases():
    for name, kind, opt, V, N, D, has_target in CASES:
        # vicreg: columns of different scales so that some stds are above 1
        # (hinge inactive) and some below
        scale = torch.linspace(0.3, 2.0, D) if kind == "vicreg" else None
        on = [draw(N, D, scale=scale) for _ in range(V)]
        if name == "byol_zero":
            on[0][2].zero_()   # the cos clamp: max(|a|, 1e-12)
        tg = [draw(N, D) for _ in range(V)] if has_target else None
        for v in range(V):
            emit(f"{name}_online{v}", on[v])
            if has_target:
                emit(f"{name}_target{v}", tg[v])
        leaves = [x.clone().requires_grad_(True) for x in on]
        loss, diag = LOSSES[kind](leaves, tg, opt)
        grads = torch.autograd.grad(loss, leaves)
        emit(f"{name}_loss", loss)
        for v in range(V):
            emit(f"{name}_grad{v}", grads[v])
        emit(f"{name}_collapse_std", collapse_std(on[0]))
        for k, value in diag.items():
            emit(f"{name}_diag_{k}", value)
        if kind == "groco" and not has_target:
            # without detaching online where it stands in for the target:
            # what the stop-gradient rule must NOT give
            leaves = [x.clone().requires_grad_(True) for x in on]
            full, _ = groco(leaves, None, opt, detach=False)
            grads = torch.autograd.grad(full, leaves)
            for v in range(V):
                emit(f"{name}_fullgrad{v}", grads[v])


# name, network, relax, n, steepness, rows
SORT_CASES = [(f"sort_{net}_{kind}_{n}_{int(steep)}", net, kind, n, steep, 3)
              for net in ("odd_even", "bitonic")
              for kind in ("cauchy", "logistic", "optimal")
              for n, steep in ((3, 1.0), (8, 1.0), (11, 1.0), (11, 4.0),
                               (22, 1.0))]


def sort_cases():
    for name, net, kind, n, steep, rows in SORT_CASES:
        x = draw(rows, n)
        wy = draw(rows, n)
        wp = draw(rows, n, n)
        leaf = x.clone().requires_grad_(True)
        y, P = soft_sort(leaf, net, kind, steep)
        (gx,) = torch.autograd.grad((wy * y).sum() + (wp * P).sum(), leaf)
        emit(f"{name}_x", x)
        emit(f"{name}_wy", wy)
        emit(f"{name}_wp", wp)
        emit(f"{name}_sorted", y)
        emit(f"{name}_perm", P)
        emit(f"{name}_grad", gx)


def main():
    objective_cases()
    sort_cases()
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "data", "objectives.txt")
    with open(path, "w") as f:
        for name, values in arrays:
            f.write(f"{name} {len(values)}\n")
            f.write(" ".join("%.9g" % v for v in values) + "\n")
    print(f"wrote {len(arrays)} arrays to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
