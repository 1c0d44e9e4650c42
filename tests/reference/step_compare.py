#!/usr/bin/python3
"""The library's training step against train.py's at full size, step by
step (docs/benchmarks.md, "Barlow Twins against PyTorch: four seeds,
float32, and step by step").

Both learners start from the same weights (train.py's draw of the encoder
and the heads, copied into the library through selfsup_learner_network) and
take the same views of the same batches: width-16 encoder, batch 256,
20-pixel views of Fashion-MNIST, the recipe of a five-epoch run, float32
on both sides. After every step it prints both losses and the tensors that
differ most, each as |lib - torch| / |torch's change since the start| (how
much of what the step did differs). --twin puts a second train.py learner
in the library's place, its weights disturbed by 2^-21 relative (float32
rounding): how fast two runs of the *same* library drift apart, the
yardstick for the first mode. The golden tests (tests/learner) check a few
steps at width 4 with 32-wide heads; this checks the sizes the runs use.

    /usr/bin/python3 tests/reference/step_compare.py --method barlow \\
        --steps 6 --lib build/release/lib/libselfsup.so [--twin]
"""
import argparse
import ctypes as c
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
from paired import Library  # noqa: E402

BATCH, SIDE, EPOCHS = 256, 20, 5
TWIN_NOISE = 2.0 ** -21
SHOWN = 4  # tensors listed per step


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--method", required=True, choices=list(train.RECIPES))
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--lib", required=True, help="path of libselfsup.so")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--twin", action="store_true")
    args = p.parse_args()
    if args.method == "byol":
        p.error("BYOL: the target network starts as a copy in each library; "
                "not compared here")

    torch.set_num_threads(1)
    torch.manual_seed(0)
    images, _ = train.fashion_mnist(args.data, "train")
    mean, std = train.pixel_stats(images)
    total = images.shape[0] // BATCH * EPOCHS
    config = train.recipe(args.method, float(EPOCHS))
    config["encoder"] = "resnet18:width=16,in_channels=1"
    ref = train.Learner(args.method, config, total, BATCH)
    roles = {"online.encoder": ref.encoder, "online.projector": ref.projector}
    if ref.predictor is not None:
        roles["online.predictor"] = ref.predictor
    start = {r: {k: v.detach().numpy().ravel().copy()
                 for k, v in net.state_dict().items()}
             for r, net in roles.items()}

    lib = Library(args.lib)
    lib("selfsup_set_num_threads", 1)
    if args.twin:
        other = train.Learner(args.method, config, total, BATCH)
        nets = {"online.encoder": other.encoder,
                "online.projector": other.projector}
        if other.predictor is not None:
            nets["online.predictor"] = other.predictor
        noise = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for r, net in nets.items():
                net.load_state_dict(roles[r].state_dict())
                for q in net.parameters():
                    q.mul_(1 + TWIN_NOISE * torch.randn(q.shape,
                                                        generator=noise))

        def other_step(views):
            return other.step([v.clone() for v in views])[0]

        def other_values(role):
            return {k: v.detach().numpy().ravel()
                    for k, v in nets[role].state_dict().items()}
    else:
        other_step, other_values = library_side(lib, args.method, config,
                                                total, roles)

    views_of = train.fmnist_views(SIDE, mean, std)
    order = torch.randperm(images.shape[0],
                           generator=torch.Generator().manual_seed(0))
    for s in range(args.steps):
        idx = order[s * BATCH:(s + 1) * BATCH]
        views = [train.make_view(images[idx], views_of[v])
                 for v in range(config["views"])]
        theirs = other_step(views)
        ours, lr, _ = ref.step(views)
        rows = []
        for r, net in roles.items():
            values = other_values(r)
            for name, t in net.state_dict().items():
                t = t.detach().numpy().ravel()
                change = np.linalg.norm(t - start[r][name])
                # a change within float32 rounding of the tensor (the heads'
                # biases before a standardisation: their gradient is zero
                # but for rounding) says nothing about either step
                floor = 1e-6 * max(np.linalg.norm(start[r][name]), 1.0)
                if change <= floor or name not in values:
                    continue
                rows.append((np.linalg.norm(values[name] - t) / change,
                             f"{r}.{name}"))
        rows.sort(reverse=True)
        who = "twin" if args.twin else "lib"
        print(f"step {s + 1} (lr {lr:.4f}): loss {who} {theirs:.5f} torch "
              f"{ours:.5f}; most apart: "
              + "; ".join(f"{n} {d:.1e}" for d, n in rows[:SHOWN]),
              flush=True)


def library_side(lib, method, config, total, roles):
    """A library learner with train.py's weights; its step and values."""
    learner = lib.learner(method, {
        "encoder": config["encoder"], "batch_size": BATCH,
        "total_steps": total, "seed": 0, "recipe": config["recipe"],
        "precision": "f32"})
    handles = {}
    for role, net in roles.items():
        h = c.c_void_p()
        lib("selfsup_learner_network", learner, role.encode(), c.byref(h))
        handles[role] = h
        state = net.state_dict()
        for i, name in lib.params(h):
            v = np.ascontiguousarray(state[name].numpy(), np.float32)
            lib("selfsup_encoder_param_write", h, i,
                v.ctypes.data_as(c.c_void_p), c.c_int64(v.size))
    dims = (c.c_int64 * 4)(BATCH, 1, SIDE, SIDE)
    tensors = (c.c_void_p * config["views"])()
    for k in range(config["views"]):
        t = c.c_void_p()
        lib("selfsup_tensor_create", c.byref(t), 4, dims)
        tensors[k] = t
    loss = c.c_float()

    def step(views):
        for k, v in enumerate(views):
            a = np.ascontiguousarray(v.numpy(), np.float32)
            lib("selfsup_tensor_write", c.c_void_p(tensors[k]),
                a.ctypes.data_as(c.c_void_p), c.c_int64(a.size))
        lib("selfsup_learner_step", learner, len(views), tensors,
            c.byref(loss))
        return loss.value

    def values(role):
        out, state = {}, roles[role].state_dict()
        for i, name in lib.params(handles[role]):
            b = np.zeros(state[name].numel(), np.float32)
            lib("selfsup_encoder_param_read", handles[role], i,
                b.ctypes.data_as(c.c_void_p), c.c_int64(b.size))
            out[name] = b
        return out

    return step, values


if __name__ == "__main__":
    main()
