#!/usr/bin/python3
"""Golden values for lib/train/optimizer.c from torch.optim (PyTorch 1.13).

A small "network" of named parameters of every kind (conv and linear weights,
biases, batch-norm scale and shift, and a zero-initialised weight) takes five
steps of each optimizer configuration, with a learning rate that changes
every step and fixed random gradients. SGD, SGD with Nesterov momentum and
AdamW are torch.optim's own; LARS is written below to the formulation of the
VICReg / Barlow Twins reference code (the BYOL reference computes the same).

Writes tests/data/optim.txt: the inputs (initial parameters, gradients,
learning rates), the parameters after every step of every configuration, and
each configuration's final optimizer state, flattened in table order.

    /usr/bin/python3 tests/reference/optim.py

Importing the module only defines things (tests/reference/train.py uses its
LARS); the golden file is written by main().
"""
import os

import torch

torch.set_num_threads(1)

# name, shape, kind (W weight, B bias, N norm) - the table the C test builds.
TABLE = [
    ("conv.weight", (4, 2, 3, 3), "W"),
    ("conv.bias", (4,), "B"),
    ("bn.weight", (4,), "N"),
    ("bn.bias", (4,), "N"),
    ("fc.weight", (3, 8), "W"),
    ("fc.bias", (3,), "B"),
    ("pred.weight", (3, 3), "W"),
    ("pred.bias", (3,), "B"),
    ("zero.weight", (2, 4), "W"),
]
STEPS = 5
LR_SGD = [0.1, 0.08, 0.05, 0.12, 0.03]
LR_LARS = [1.0, 0.8, 1.5, 0.5, 1.2]
LR_ADAMW = [1e-3, 2e-3, 5e-4, 1e-3, 3e-3]


def draw_inputs():
    """The initial parameters and every step's gradients (seeded)."""
    torch.manual_seed(1234)
    init = {}
    for name, shape, _ in TABLE:
        init[name] = (torch.zeros(shape) if name == "zero.weight"
                      else 0.5 * torch.randn(shape))
    grads = []
    for k in range(STEPS):
        g = {name: torch.randn(shape) for name, shape, _ in TABLE}
        if k == 1:
            g["pred.weight"].zero_()  # LARS: a zero update norm gives trust 1
        grads.append(g)
    return init, grads


def flat(tensors):
    return torch.cat([tensors[name].reshape(-1) for name, _, _ in TABLE])


class LARS(torch.optim.Optimizer):
    """LARS as the VICReg and Barlow Twins reference code computes it:
    d = g + wd p (unless excluded), d *= eta |p| / |d| when both norms are
    positive (unless excluded), mu = momentum mu + d, p -= lr mu."""

    def __init__(self, params, lr, weight_decay, momentum, eta, excluded):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay,
                                      momentum=momentum, eta=eta))
        self.excluded = excluded  # set of parameter ids

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                dp = p.grad
                skip = id(p) in self.excluded
                if not skip:
                    dp = dp.add(p, alpha=g["weight_decay"])
                    p_norm = torch.norm(p)
                    d_norm = torch.norm(dp)
                    one = torch.ones_like(p_norm)
                    q = torch.where(
                        p_norm > 0.0,
                        torch.where(d_norm > 0, g["eta"] * p_norm / d_norm,
                                    one),
                        one)
                    dp = dp.mul(q)
                state = self.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                mu = state["mu"]
                mu.mul_(g["momentum"]).add_(dp)
                p.add_(mu, alpha=-g["lr"])


def run(inputs, config, make_optimizer, lrs, group_lr, state_names):
    """Runs STEPS steps from inputs = (init, grads); group_lr(group, lr)
    gives each group's lr."""
    init, grads = inputs
    params = {name: init[name].clone().requires_grad_(True)
              for name, _, _ in TABLE}
    opt = make_optimizer(params)
    out = {}
    for k in range(STEPS):
        for name, _, _ in TABLE:
            params[name].grad = grads[k][name].clone()
        for group in opt.param_groups:
            group["lr"] = group_lr(group, lrs[k])
        opt.step()
        out[f"{config}.params.{k + 1}"] = flat(
            {n: p.detach() for n, p in params.items()})
    for state_name, key in state_names:
        out[f"{config}.{state_name}"] = flat(
            {n: opt.state[p][key] for n, p in params.items()})
    return out


def kinds(params, wanted):
    return [params[name] for name, _, kind in TABLE if kind in wanted]


def by_prefix(params, prefix, inside=True):
    return [params[name] for name, _, _ in TABLE
            if name.startswith(prefix) == inside]


def scaled(group, lr):
    return group.get("scale", 1.0) * lr


def fixed_or_scheduled(group, lr):
    return group["fixed"] if "fixed" in group else lr


MOMENTUM = [("momentum", "momentum_buffer")]
MU = [("momentum", "mu")]
ADAM = [("exp_avg", "exp_avg"), ("exp_avg_sq", "exp_avg_sq")]


def lars(p, excluded_kinds, groups=None, **kw):
    excluded = {id(t) for t in kinds(p, excluded_kinds)}
    return LARS(groups if groups else list(p.values()), lr=0,
                excluded=excluded, **kw)


def main():
    inputs = draw_inputs()
    results = {}
    results.update(run(
        inputs, "sgd",
        lambda p: torch.optim.SGD(list(p.values()), lr=0, momentum=0.9),
        LR_SGD, scaled, MOMENTUM))
    results.update(run(
        inputs, "sgd_nesterov_wd", lambda p: torch.optim.SGD(
            list(p.values()), lr=0, momentum=0.9, nesterov=True,
            weight_decay=5e-4),
        LR_SGD, scaled, MOMENTUM))
    results.update(run(
        inputs, "sgd_plain_wd", lambda p: torch.optim.SGD(
            list(p.values()), lr=0, momentum=0.0, weight_decay=1e-3),
        LR_SGD, scaled, []))  # momentum 0: PyTorch keeps no buffer
    # SimSiam: the predictor keeps a fixed learning rate (0.05 here).
    results.update(run(
        inputs, "sgd_fixed_pred", lambda p: torch.optim.SGD(
            [{"params": by_prefix(p, "pred.", inside=False)},
             {"params": by_prefix(p, "pred."), "fixed": 0.05}],
            lr=0, momentum=0.9, weight_decay=1e-4),
        LR_SGD, fixed_or_scheduled, MOMENTUM))
    results.update(run(
        inputs, "adamw", lambda p: torch.optim.AdamW(
            list(p.values()), lr=0, weight_decay=0.05),
        LR_ADAMW, scaled, ADAM))
    results.update(run(
        inputs, "adamw_betas", lambda p: torch.optim.AdamW(
            list(p.values()), lr=0, betas=(0.8, 0.99), eps=1e-6,
            weight_decay=0.0),
        LR_ADAMW, scaled, ADAM))
    # Biases and norms without weight decay (exclude_bias_and_norm=1).
    results.update(run(
        inputs, "adamw_exclude", lambda p: torch.optim.AdamW(
            [{"params": kinds(p, "W")},
             {"params": kinds(p, "BN"), "weight_decay": 0.0}],
            lr=0, weight_decay=0.05),
        LR_ADAMW, scaled, ADAM))
    results.update(run(
        inputs, "lars", lambda p: lars(
            p, "BN", weight_decay=1e-2, momentum=0.9, eta=0.02),
        LR_LARS, scaled, MU))
    # Barlow Twins: weights at 0.2 of the schedule, biases and norms at 0.0048.
    results.update(run(
        inputs, "lars_barlow", lambda p: lars(
            p, "BN", groups=[{"params": kinds(p, "W"), "scale": 0.2},
                             {"params": kinds(p, "BN"), "scale": 0.0048}],
            weight_decay=1e-3, momentum=0.9, eta=0.001),
        LR_LARS, scaled, MU))
    results.update(run(
        inputs, "lars_all", lambda p: lars(
            p, "", weight_decay=0.0, momentum=0.8, eta=0.01),
        LR_LARS, scaled, MU))

    init, grads = inputs
    out_path = os.path.join(os.path.dirname(__file__), "..", "data",
                            "optim.txt")
    with open(out_path, "w") as f:
        def write(name, values):
            values = values.reshape(-1).tolist()
            f.write(f"{name} {len(values)}\n")
            f.write(" ".join(f"{v:.9g}" for v in values) + "\n")
        write("init", flat(init))
        for k in range(STEPS):
            write(f"grads.{k + 1}", flat(grads[k]))
        write("lr_sgd", torch.tensor(LR_SGD, dtype=torch.float64))
        write("lr_lars", torch.tensor(LR_LARS, dtype=torch.float64))
        write("lr_adamw", torch.tensor(LR_ADAMW, dtype=torch.float64))
        for name, values in results.items():
            write(name, values)
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
