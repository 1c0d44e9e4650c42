#!/usr/bin/python3
"""Paired runs: the library's training step against train.py's on the same
data (docs/benchmarks.md, "Paired runs").

Trains libselfsup's learner (through its C API, with ctypes) from the same
initial encoder weights, on the same views of the same batches, as
train.py's learner, and scores both encoders with train.py's kNN monitor
after every epoch. Differences between two such runs come from the steps
alone (and float rounding); differences between ordinary runs of the two
libraries also carry the draw of weights and batches, which at 10000
images moves a five-epoch result by three points.

  --views torch   torchvision's views (train.py's), the same for both;
  --views lib     the library's own (selfsup_views_apply, preset fmnist or
                  --preset), for the library only;
  --weights torch the encoder's initial weights are train.py's draw, copied
                  into the library (each library draws its own heads);
                  not for BYOL: the C API cannot set its target network,
                  which would keep the library's own draw;
  --weights from-lib
                  the library's draw from --seed, copied into train.py's
                  encoder (and BYOL's target encoder): for BYOL;
  --weights lib   each library keeps its own draw;
  --no-torch      train the library only;
  --twin          the null: in the library's place, a second train.py
                  learner from the same encoder weights with its own draw of
                  heads (from --twin-seed); how far apart two PyTorch runs
                  on the same data end is the yardstick for the pairs.

The recipe, views and monitor are train.py's defaults (recipe=auto's rule,
views of 5/7 the images' side, the 2x2-grid monitor; --recipe, --view-size,
--embed-grid change them). --save-dir DIR saves both encoders after every
epoch as train.py's snapshots (DIR/torch_eN.pt, DIR/lib_eN.pt) instead of
scoring them with the monitor, for export_encoder.py --grid 2 and
selfsup eval; --stop-after N ends after N epochs of the --epochs schedule.

The batch order is train.py's (torch.randperm from --seed). Run, from the
build tree's library:
  /usr/bin/python3 tests/reference/paired.py --method groco \\
      --lib build/release/lib/libselfsup.so [--limit 60000 --epochs 5 \\
      --stop-after 1 --save-dir DIR]
(--lr, --optimizer and --set change the recipe on both sides.)
"""
import argparse
import copy
import ctypes
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--method", required=True)
    p.add_argument("--lib", help="path of libselfsup.so (not with --twin)")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--limit", type=int, default=10000)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float)
    p.add_argument("--optimizer", help="as selfsup train's --optimizer")
    p.add_argument("--set", default="",
                   help="KEY=VALUE;... learner keys, as selfsup train's")
    p.add_argument("--crop-scale", type=float, default=train.FMNIST_CROP_LO,
                   help="torchvision views' crop:scale=LO-1.0")
    p.add_argument("--preset", default="fmnist", help="the library's views")
    p.add_argument("--views", choices=("torch", "lib"), default="torch")
    p.add_argument("--weights", choices=("torch", "from-lib", "lib"),
                   default="torch")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--stop-after", type=int,
                   help="stop after this many epochs of the --epochs "
                   "schedule (to compare early epochs of a longer run)")
    p.add_argument("--recipe", choices=("auto", "paper", "short"),
                   default="auto", help="as train.py's --recipe")
    p.add_argument("--view-size", type=int, default=0,
                   help="side of the views (0: selfsup train's, as train.py)")
    p.add_argument("--embed-grid", type=int, default=2,
                   help="the monitor's grid (train.py's --embed-grid)")
    p.add_argument("--save-dir",
                   help="save both encoders after every epoch as train.py's "
                   "snapshots (export_encoder.py turns them into checkpoints "
                   "for selfsup eval) instead of scoring them here")
    p.add_argument("--twin", action="store_true")
    p.add_argument("--twin-seed", type=int,
                   help="seed of the twin's heads (default: --seed + 1000)")
    args = p.parse_args()
    if args.twin:
        if args.views != "torch" or args.weights != "torch":
            p.error("--twin takes train.py's views and weights")
    elif args.lib is None:
        p.error("--lib is required (unless --twin)")
    if args.method == "byol" and args.weights == "torch" and not args.twin:
        p.error("BYOL: the library's target network cannot be set through "
                "its API; use --weights from-lib")
    return args


def adopt_encoder(learner, state):
    """Starts train.py's learner from the encoder weights in state."""
    learner.encoder.load_state_dict(state)
    if learner.target_encoder is not None:
        learner.target_encoder.load_state_dict(state)


class Library:
    """The few C API calls the runs need; every status is checked."""

    def __init__(self, path):
        self.c = ctypes.CDLL(path)
        self.c.selfsup_last_error.restype = ctypes.c_char_p
        self.c.selfsup_encoder_param_name.restype = ctypes.c_char_p
        self.c.selfsup_learner_encoder.restype = ctypes.c_void_p

    def __call__(self, name, *args):
        if getattr(self.c, name)(*args) != 0:
            raise SystemExit(f"{name}: {self.c.selfsup_last_error().decode()}")

    def params(self, encoder):
        for i in range(self.c.selfsup_encoder_param_count(encoder)):
            yield i, self.c.selfsup_encoder_param_name(encoder, i).decode()

    def learner(self, method, settings):
        """A learner of method made from a config with settings set."""
        cfg = ctypes.c_void_p()
        self("selfsup_learner_config_create", ctypes.byref(cfg),
             method.encode())
        for key, value in settings.items():
            self("selfsup_learner_config_set", cfg, key.encode(),
                 str(value).encode())
        learner = ctypes.c_void_p()
        self("selfsup_learner_create", ctypes.byref(learner), cfg)
        self.c.selfsup_learner_config_destroy(cfg)
        return learner


def run_twin(args, config, total, reference, pipelines, monitor, shuffle,
             images):
    """train.py against itself: same encoder weights and data, other heads."""
    seed = args.seed + 1000 if args.twin_seed is None else args.twin_seed
    with torch.random.fork_rng():  # the views keep the pair runs' stream
        torch.manual_seed(seed)
        twin = train.Learner(args.method, config, total, args.batch)
    adopt_encoder(twin, reference.encoder.state_dict())

    def scores():
        theirs = float("nan") if args.no_torch else monitor(reference.encoder)
        return theirs, monitor(twin.encoder)

    print(f"{args.method}, seed {args.seed}, twin's heads from seed {seed}: "
          f"kNN at initialisation PyTorch %.4f twin %.4f" % scores(),
          flush=True)
    per_epoch, started = images.shape[0] // args.batch, time.time()
    for epoch in range(args.epochs):
        order = torch.randperm(images.shape[0], generator=shuffle)
        for b in range(per_epoch):
            idx = order[b * args.batch:(b + 1) * args.batch]
            views = [train.make_view(images[idx],
                                     pipelines[v % len(pipelines)])
                     for v in range(config["views"])]
            twin.step(views)
            if not args.no_torch:
                reference.step(views)
        print(f"epoch {epoch + 1}: kNN PyTorch %.4f twin %.4f "
              f"({time.time() - started:.0f} s)" % scores(), flush=True)


def main():
    args = parse_args()
    c = ctypes
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    images, labels = train.fashion_mnist(args.data, "train")
    images, labels = images[:args.limit], labels[:args.limit]
    mean, std = train.pixel_stats(images)
    per_epoch = images.shape[0] // args.batch
    total = per_epoch * args.epochs
    config = train.recipe(args.method, total * args.batch / images.shape[0],
                          args.recipe)
    changes = dict(item.split("=", 1) for item in args.set.split(";")
                   if item)
    if args.lr is not None:
        changes["lr"] = args.lr
    if args.optimizer is not None:
        changes["optimizer"] = args.optimizer
    for key, value in changes.items():
        if key not in config:
            raise SystemExit(f"--set: train.py's recipe has no {key!r}")
        kind = type(config[key])
        config[key] = kind(value) if kind in (int, float) else value
    config["encoder"] = "resnet18:width=16,in_channels=1"
    reference = train.Learner(args.method, config, total, args.batch)
    side = images.shape[-1]
    view_side = args.view_size or train.small_view_side(side) or side
    pipelines = train.fmnist_views(view_side, mean, std, args.crop_scale)
    monitor = train.Monitor(images, labels, args.data, 200, 0.1, mean, std,
                            args.embed_grid)
    shuffle = torch.Generator().manual_seed(args.seed)
    if args.twin:
        run_twin(args, config, total, reference, pipelines, monitor, shuffle,
                 images)
        return

    lib = Library(args.lib)
    lib("selfsup_set_num_threads", 1)
    settings = {"encoder": config["encoder"], "batch_size": args.batch,
                "total_steps": total, "seed": args.seed,
                "recipe": config["recipe"],
                # PyTorch's side is float32: so is the library's, on any CPU
                "precision": "f32"}
    settings.update(changes)
    learner = lib.learner(args.method, settings)
    encoder = c.c_void_p(lib.c.selfsup_learner_encoder(learner))
    if args.weights == "torch":
        state = reference.encoder.state_dict()
        for i, name in lib.params(encoder):
            v = np.ascontiguousarray(state[name].numpy(), dtype=np.float32)
            lib("selfsup_encoder_param_write", encoder, i,
                v.ctypes.data_as(c.c_void_p), c.c_int64(v.size))

    def library_encoder():
        """The library's encoder as a copy of train.py's module."""
        m = copy.deepcopy(reference.encoder)
        state = m.state_dict()
        for i, name in lib.params(encoder):
            b = np.zeros(state[name].numel(), np.float32)
            lib("selfsup_encoder_param_read", encoder, i,
                b.ctypes.data_as(c.c_void_p), c.c_int64(b.size))
            state[name].copy_(torch.from_numpy(b).reshape(state[name].shape))
        return m

    if args.weights == "from-lib":
        adopt_encoder(reference, library_encoder().state_dict())

    views_count = config["views"]
    if args.views == "lib":
        dataset, lib_views = c.c_void_p(), c.c_void_p()
        lib("selfsup_dataset_open_fashion_mnist", c.byref(dataset),
            args.data.encode(), b"train")
        lib("selfsup_views_create", c.byref(lib_views), args.preset.encode(),
            views_count, view_side)
    dims = (c.c_int64 * 4)(args.batch, 1, view_side, view_side)
    tensors = (c.c_void_p * views_count)()
    for k in range(views_count):
        t = c.c_void_p()
        lib("selfsup_tensor_create", c.byref(t), 4, dims)
        tensors[k] = t

    def save(epoch):
        for who, net in (("torch", None if args.no_torch
                          else reference.encoder),
                         ("lib", library_encoder())):
            if net is not None:
                torch.save({"encoder": net.state_dict(),
                            "spec": config["encoder"], "mean": mean,
                            "std": std},
                           os.path.join(args.save_dir,
                                        f"{who}_e{epoch}.pt"))
        return f"encoders saved as {args.save_dir}/*_e{epoch}.pt"

    def scores(epoch):
        """What the run reports after an epoch: kNN, or where it saved."""
        if args.save_dir:
            return save(epoch)
        theirs = float("nan") if args.no_torch else monitor(reference.encoder)
        return "kNN PyTorch %.4f libselfsup %.4f" % (
            theirs, monitor(library_encoder()))

    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)

    print(f"{args.method}, seed {args.seed}, views {args.views}, weights "
          f"{args.weights}: at initialisation {scores(0)}", flush=True)
    loss, started = c.c_float(), time.time()
    for epoch in range(min(args.epochs, args.stop_after or args.epochs)):
        order = torch.randperm(images.shape[0], generator=shuffle)
        for b in range(per_epoch):
            idx = order[b * args.batch:(b + 1) * args.batch]
            views = None
            if args.views == "torch" or not args.no_torch:
                views = [train.make_view(images[idx],
                                         pipelines[v % len(pipelines)])
                         for v in range(views_count)]
            if args.views == "torch":
                for k in range(views_count):
                    a = np.ascontiguousarray(views[k].numpy(), np.float32)
                    lib("selfsup_tensor_write", c.c_void_p(tensors[k]),
                        a.ctypes.data_as(c.c_void_p), c.c_int64(a.size))
            else:
                at = (c.c_int64 * args.batch)(*[int(i) for i in idx])
                lib("selfsup_views_apply", lib_views, dataset, at,
                    c.c_int64(args.batch), c.c_uint64(args.seed),
                    c.c_int64(epoch), tensors)
            lib("selfsup_learner_step", learner, views_count, tensors,
                c.byref(loss))
            if not args.no_torch:
                reference.step(views)
        print(f"epoch {epoch + 1}: {scores(epoch + 1)} "
              f"({time.time() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
