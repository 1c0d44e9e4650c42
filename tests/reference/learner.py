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
updates are large enough to compare in float32 over four steps.

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
import train  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")

BATCH, SIDE, STEPS = 16, 16, 4
SAMPLE = 32  # values recorded per tensor (a prime-strided sample)

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
        "projector": "mlp:hidden=32,out=32,layers=3,last_bn=1"}, 3),
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


def case(w, gen, name, method, changes, views, encoder, inputs):
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
    if learner.target_encoder is not None:  # copies of the loaded weights
        learner.target_encoder.load_state_dict(learner.encoder.state_dict())
        learner.target_projector.load_state_dict(
            learner.projector.state_dict())
    losses, rates = [], []
    for step in range(STEPS):
        loss, lr, _ = learner.step(inputs[step][:views])
        losses.append(loss)
        rates.append(lr)
    w.array(f"{name}.loss", torch.tensor(losses, dtype=torch.float64))
    w.array(f"{name}.lr", torch.tensor(rates, dtype=torch.float64))
    for net_name, net in nets:
        record(w, f"{name}.after.{net_name}.", net)
    if learner.target_encoder is not None:
        record(w, f"{name}.after.target_encoder.", learner.target_encoder)
        record(w, f"{name}.after.target_projector.",
               learner.target_projector)


def main():
    torch.set_num_threads(1)
    w = reference_nn.Writer(os.path.join(DATA, "learner_steps.txt"))
    gen = torch.Generator().manual_seed(20261122)
    # One encoder and one set of views for every case.
    encoder, _ = train.make_encoder("resnet18:width=4,in_channels=1")
    reference_nn.load_params(encoder, gen, w, "encoder.")
    inputs = [[reference_nn.batch(gen, (BATCH, 1, SIDE, SIDE),
                                  f"step{step}.view{v}", w)
               for v in range(3)] for step in range(STEPS)]
    for name, method, changes, views in CASES:
        case(w, gen, name, method, changes, views, encoder, inputs)
    w.close()


if __name__ == "__main__":
    main()
