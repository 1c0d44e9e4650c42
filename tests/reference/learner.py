"""Golden data for whole training steps (tests/learner/test_golden_steps.c).

Runs each method's learner of tests/reference/train.py (the recipe's
objective, optimizer, parameter groups, schedule and BYOL's EMA target, as
`selfsup train` wires them) for a few steps on fixed views, from weights
drawn here, and records the loss and learning rate of every step, then the
parameters and batch-norm statistics of every network at the end. The
library, loaded with the same weights and fed the same views, must end in
the same place: that checks the wiring of a step (which views go through
which network, what is detached, which rate each group gets, when the
target moves) beyond the per-part golden tests.

The networks are the recipes' shapes made small: resnet18 width 4 on one
channel, 16x16 inputs, heads of width 16-32 with the recipe's layer count
and last batch norm. Rates are given at lr_batch = batch so that LARS's
updates are large enough to compare in float32.

Two steps, from a draw chosen to be well conditioned (main): at this size
rounding can flip a ReLU and, a few steps on, move the whole trajectory.
The draw is searched from SEED (or $LEARNER_SEED) on; the file records the
seed and each case's measured spread, which the test checks.

Every case starts from the same encoder weights and sees the same views
(the first two, or all three for GroCo); the heads are drawn per case.
Weights and inputs are small integers times a power of two (nn.py's
Writer and load_params). Run: /usr/bin/python3 tests/reference/learner.py
(writes tests/data/learner_steps.txt).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nn as reference_nn  # noqa: E402
import objectives  # noqa: E402
import train  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")

BATCH, SIDE, STEPS = 16, 16, 2
SAMPLE = 32  # values recorded per tensor (a prime-strided sample)
# Where the search for a well-conditioned draw starts (main): the seed it
# found, so that a rerun writes the same file at once.
SEED = int(os.environ.get("LEARNER_SEED", 20261150))
NOISE = 2.0 ** -21  # relative disturbance of the stability check
DISTURBANCES = 3
# The test's tolerances (test_golden_steps.c): of a tensor's change, of
# each step's loss.
TOLERANCE = {"byol": 0.03, "byol_sgd": 0.03, "simsiam": 0.03,
             "vicreg": 0.03, "simclr": 0.03, "barlow": 0.03, "groco": 0.1}
LOSS_TOLERANCE = (1e-5, 1e-4)

# name, method, recipe keys changed, views. The same table is in
# tests/learner/test_golden_steps.c.
CASES = [
    ("byol", "byol", {"projector": "mlp:hidden=32,out=16,layers=2",
                      "predictor": "mlp:hidden=32,out=16,layers=2",
                      "ema_base": 0.9}, 2),
    ("byol_sgd", "byol", {"projector": "mlp:hidden=32,out=16,layers=2",
                          "predictor": "mlp:hidden=32,out=16,layers=2",
                          "optimizer": "sgd:momentum=0.9,weight_decay=1e-4",
                          "lr": 0.06, "ema_base": 0.9}, 2),
    ("simsiam", "simsiam", {
        "projector": "mlp:hidden=32,out=16,layers=3,last_bn=1",
        "predictor": "mlp:hidden=8,out=16,layers=2"}, 2),
    ("vicreg", "vicreg", {"projector": "mlp:hidden=32,out=32,layers=3"}, 2),
    ("simclr", "simclr", {"projector": "mlp:hidden=32,out=16,layers=2"}, 2),
    ("barlow", "barlow", {"projector": "mlp:hidden=32,out=32,layers=3"}, 2),
    ("groco", "groco", {
        "projector": "mlp:hidden=32,out=32,layers=3,last_bn=1",
        "objective": "groco"}, 3),
]


def sampled(w, name, values):
    v = values.detach().reshape(-1)
    step = 1 if v.numel() <= SAMPLE else \
        reference_nn.next_prime(v.numel() // SAMPLE)
    w.scalar(name + ".step", step)
    w.array(name, v[::step])


def record(w, prefix, net):
    for name, p in net.named_parameters():
        sampled(w, prefix + name, p)
    for name, b in net.named_buffers():
        if not name.endswith("num_batches_tracked"):
            sampled(w, prefix + name, b)


def run_case(w, gen, name, method, changes, views, encoder, inputs,
             noise=None):
    """One case's steps. With noise (a generator), every starting
    weight and input is scaled by 1 + NOISE * N(0, 1) first: a float32-sized
    disturbance, to measure how far the trajectory moves from it."""
    config = train.recipe(method)
    config.update(changes)
    config["encoder"] = "resnet18:width=4,in_channels=1"
    config["views"] = views
    config["lr_batch"] = BATCH
    learner = train.Learner(method, config, STEPS, BATCH)
    nets = [("encoder", learner.encoder), ("projector", learner.projector)]
    if learner.predictor is not None:
        nets.append(("predictor", learner.predictor))
    learner.encoder.load_state_dict(encoder.state_dict())
    for net_name, net in nets[1:]:
        reference_nn.load_params(net, gen, w, f"{name}.{net_name}.")
    if noise is not None:
        with torch.no_grad():
            for _, net in nets:
                for p in net.parameters():
                    p.mul_(1 + NOISE * torch.randn(p.shape, generator=noise))
        inputs = [[x * (1 + NOISE * torch.randn(x.shape, generator=noise))
                   for x in step] for step in inputs]
    if learner.target_encoder is not None:  # copies of the loaded weights
        learner.target_encoder.load_state_dict(learner.encoder.state_dict())
        learner.target_projector.load_state_dict(
            learner.projector.state_dict())
    start = {f"{n}.{k}": p.detach().clone()
             for n, net in nets for k, p in net.named_parameters()}
    losses, rates = [], []
    for step in range(STEPS):
        loss, lr, _ = learner.step([x.to(torch.get_default_dtype())
                                    for x in inputs[step][:views]])
        losses.append(loss)
        rates.append(lr)
    changes = {key: dict(nets)[key.split(".", 1)[0]].get_parameter(
        key.split(".", 1)[1]).detach() - p0 for key, p0 in start.items()}
    return learner, nets, losses, rates, changes


def record_case(w, name, learner, nets, losses, rates):
    w.array(f"{name}.loss", torch.tensor(losses, dtype=torch.float64))
    w.array(f"{name}.lr", torch.tensor(rates, dtype=torch.float64))
    for net_name, net in nets:
        record(w, f"{name}.after.{net_name}.", net)
    if learner.target_encoder is not None:
        record(w, f"{name}.after.target_encoder.", learner.target_encoder)
        record(w, f"{name}.after.target_projector.",
               learner.target_projector)


def draw(seed, w):
    """The encoder weights and views every case shares, and the generator
    the cases' heads are drawn from."""
    gen = torch.Generator().manual_seed(seed)
    encoder, _ = train.make_encoder("resnet18:width=4,in_channels=1")
    reference_nn.load_params(encoder, gen, w, "encoder.")
    inputs = [[reference_nn.batch(gen, (BATCH, 1, SIDE, SIDE),
                                  f"step{step}.view{v}", w)
               for v in range(3)] for step in range(STEPS)]
    return gen, encoder, inputs


def spreads(seed):
    """Per case, how far float64 runs from disturbed starts end from the
    undisturbed one: the largest relative error of a tensor's change (the
    test's measure, on whole tensors) and of each step's loss (the error
    over 1 + |loss|, as the test's tolerance)."""
    constants = objectives.DT
    torch.set_default_dtype(torch.float64)
    objectives.DT = torch.float64
    null = reference_nn.NullWriter()
    runs = []
    try:
        for k in range(DISTURBANCES + 1):
            gen, encoder, inputs = draw(seed, null)
            noise = torch.Generator().manual_seed(k) if k else None
            runs.append([run_case(null, gen, *case, encoder, inputs, noise)
                         for case in CASES])
    finally:
        torch.set_default_dtype(torch.float32)
        objectives.DT = constants
    out = {}
    for i, case in enumerate(CASES):
        _, _, losses0, _, changes0 = runs[0][i]
        change, loss = 0.0, [0.0] * STEPS
        for run in runs[1:]:
            _, _, losses, _, changes = run[i]
            for key, d0 in changes0.items():
                if d0.norm() > 1e-7 * d0.numel() ** 0.5:
                    err = (changes[key] - d0).norm() / d0.norm()
                    change = max(change, err.item())
            for step, (a, b) in enumerate(zip(losses, losses0)):
                loss[step] = max(loss[step], abs(a - b) / (1 + abs(b)))
        out[case[0]] = (change, loss)
    return out


def main():
    torch.set_num_threads(1)
    # A ReLU input within rounding of zero flips with the order of a sum,
    # and at 2x2 maps one flipped unit moves a batch norm's gradient by
    # percents, which later steps amplify: from most draws, runs whose
    # starts differ by 2^-21 end tens of percent apart after four steps,
    # and some after two. The data is drawn where that does not happen,
    # else the test would check luck: two steps, and the first seed whose
    # spread is a third of the test's tolerances.
    for seed in range(SEED, SEED + 200):
        found = spreads(seed)
        print(seed, " ".join(f"{k} {c:.1e}/" + "/".join(f"{x:.1e}" for x in l)
                             for k, (c, l) in found.items()), flush=True)
        # The first loss has no step before it to amplify a flip: its
        # spread is the disturbance itself, far above rounding's.
        if all(c <= TOLERANCE[k] / 3 and
               all(x <= t / 3 for x, t in zip(l[1:], LOSS_TOLERANCE[1:]))
               for k, (c, l) in found.items()):
            break
    else:
        raise SystemExit("no well-conditioned draw found")
    w = reference_nn.Writer(os.path.join(DATA, "learner_steps.txt"))
    w.scalar("seed", seed)
    for name, (change, loss) in found.items():
        w.scalar(name + ".spread", change)
        w.array(name + ".loss_spread", torch.tensor(loss, dtype=torch.float64))
    gen, encoder, inputs = draw(seed, w)
    for case in CASES:
        learner, nets, losses, rates, _ = run_case(w, gen, *case, encoder,
                                                   inputs)
        record_case(w, case[0], learner, nets, losses, rates)
    w.close()


if __name__ == "__main__":
    main()
