#!/usr/bin/python3
"""PyTorch reference for `selfsup train`: the same recipes, the same data and
the same kNN monitor, so that each of libselfsup's methods can be compared
with PyTorch at the same budget. Not run by CI.

    /usr/bin/python3 tests/reference/train.py --method byol --epochs 5 \\
        --threads 1 [--limit N] [--batch 256] [--seed S] [--lr X] \\
        [--optimizer SPEC] [--objective SPEC] [--encoder SPEC] [--views V] \\
        [--recipe auto|paper|short] [--view-size S] [--embed-grid G] [--whiten] \\
        [--eval-every N] [--knn-k 200] [--knn-t 0.1] [--out FILE.jsonl] \\
        [--run-dir DIR [--snapshot-every N]] [--save-encoder FILE.pt]

It prints the kNN top-1 at initialisation and after each evaluated epoch,
and ends with one JSON line (also appended to --out when given):
{"method", "epochs", "limit", "knn_init", "knn_top1", "knn_k", "knn_t",
"seconds", ...}; "seconds" is the wall time of the run, evaluations
included ("train_seconds" leaves them out), and "knn_curve" lists
[epoch, top-1] pairs. --epochs 0 only evaluates the initialisation. The
per-step lines show loss, lr and collapse_std as selfsup's metrics.jsonl
does; --run-dir DIR writes them and the evaluations to DIR/metrics.jsonl in
selfsup train's format ("seconds" from the script's start, evaluations
included), so that `selfsup plot` draws PyTorch's runs beside the
library's. Options and defaults are selfsup train's; specs use the
library's grammar (name:key=value,...).

What is reproduced, and from where:

- Recipes (RECIPES below, the spec strings copied from
  lib/train/learner_config.c; docs/training.md gives their sources), and
  the short-run overrides with recipe=auto's rule (SHORT_RECIPES: short
  when the run is at most the method's limit in epochs; an explicit
  --recipe, or a key given by option, wins as in the library): encoder
  resnet18 width 16 on 1 channel; projector / predictor heads; objective;
  optimizer; base lr at lr_batch, peak = lr * batch / lr_batch (GroCo: 0.75
  at 32, so 6.0 at 256); warmup_fraction of the planned steps, rounded half
  up (lib/train/learner.c); cosine from the peak to peak * final_lr_ratio
  (lib/train/schedule.c: step 0 of a warmup has lr 0, the rate is taken at
  the step's index before it is counted); GroCo's projector hidden width =
  the encoder's output width (lib/train/learner.c).
- Wiring (lib/train/learner_step.c): each view through the networks
  separately (batch-norm statistics per view); BYOL compares predictions
  with the EMA target's projections, the target being a copy of the online
  encoder + projector at start, run in training mode under no_grad (its BN
  running statistics its own), its parameters only averaged after the
  optimizer step with tau = 1 - (1 - base)(cos(pi k / K) + 1) / 2 at step
  k of K (lib/train/ema.c, schedule.c); SimSiam compares predictions with
  its own detached projections; VICReg, SimCLR and Barlow compare
  projections; GroCo compares projections with themselves as constants.
- Optimizers (lib/train/optimizer.c, learner_update.c): one spec for every
  online network. sgd and adamw are torch.optim's; lars is the LARS class of
  tests/reference/optim.py (golden-tested against the library).
  exclude_bias_and_norm (default 1 for lars, 0 otherwise) takes the 1-D
  tensors (biases and batch-norm parameters, the library's "bias" and
  "norm" kinds) out of weight decay and, for LARS, of the trust ratio.
  Barlow Twins: biases and norms at 0.0048 / 0.2 of the scheduled rate.
  SimSiam: the predictor at the fixed peak rate.
- Networks: cifar_resnet18 and mlp of tests/reference/nn.py, initialised as
  torchvision and nn.Linear initialise them (docs/nn.md): convolutions
  N(0, 2 / fan_out), Linear U(+-1/sqrt(fan_in)) for weights and biases,
  batch norm 1, 0. (nn.py's cifar_resnet18 rebuilds conv1 and the stages
  after torchvision's init loop, so the convolutions are re-initialised
  here.)
- Objectives: tests/reference/objectives.py (golden-tested against the
  library), evaluated in float32 (the golden script uses float64); the
  objective's keys (--objective vicreg:sim=25,...) go to it as options.
- Views: the `fmnist` preset of lib/augment/presets.c at selfsup train's
  side when the views are the program's (5/7 of the images', 20 for 28;
  --view-size), both views RandomResizedCrop(20, scale 0.7-1, ratio
  3/4-4/3, bilinear, no antialiasing), flip 0.5, ColorJitter(brightness
  0.4, contrast 0.4) with p 0.8, GaussianBlur(kernel 3 = 2 floor(0.05 *
  side) + 1 for sides 20 to 39, sigma 0.1-1); blur p
  0.5 on view 0, 0.1 on view 1, which also solarizes (threshold 0.5) with
  p 0.2; Normalize with the training set's own mean and population std of
  pixel / 255 (lib/data/dataset.c). Views beyond two cycle the two
  pipelines (lib/augment/views.c). torchvision 0.14's tensor functionals
  are what the library's operations are tested against (augment.py).
- Data (examples/selfsup/cmd_train.c, lib/data/loader.c): Fashion-MNIST
  train, cut to its first --limit images (the statistics are then those of
  the cut set); a new shuffle every epoch; the last partial batch dropped;
  steps = (images // batch) * epochs.
- kNN monitor (examples/selfsup/cli_eval.c, lib/eval/knn.c,
  docs/evaluation.md): the online encoder in eval mode (running
  statistics), its last feature map averaged over 2x2 cells as the export
  (--embed-grid; 1 is the network's global pooling), embeds the training
  images used (the --limit cut) and the 10000 test images at their own
  size, un-augmented and normalised with the cut training
  set's mean and std; rows l2-normalised (eps 1e-12), cosine similarity,
  the k = 200 most similar vote with weight exp(sim / T), T = 0.1, scores
  summed in float64, the largest score wins (lower class on a tie).

Deliberate differences: random numbers (network initialisation, epoch
shuffles, augmentation draws) come from torch's generator seeded with
--seed, not from the library's Philox streams, so runs agree in
distribution, not bit for bit. Objectives are float32 torch expressions
(the library accumulates long sums in double). The library's numerics guard
(refusing a step with a non-finite loss or gradient, restoring the BN
statistics) is a plain error here. Only the fmnist views are built
(selfsup train's --augment is not mirrored). The library's precision=bf16
is mirrored by --precision bf16 (auto: bf16 where the CPU has AVX512_BF16
or AMX, as the library decides for every method's recipe, BYOL's too):
the networks run under torch.autocast to bfloat16, the objective and the
optimizer in float32, as the library's mixed precision does; the kernels
and their rounding are PyTorch's.
"""
import argparse
import copy
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T

DEFAULT_THREADS = torch.get_num_threads()  # before nn.py sets 1

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nn as reference_nn  # noqa: E402
import objectives  # noqa: E402
import optim as reference_optim  # noqa: E402

objectives.DT = torch.float32  # the losses' constants in the networks' dtype

# ----------------------------------------------------------------- recipes

# lib/train/learner_config.c: COMMON, then each method's keys.
COMMON = {
    "encoder": "resnet18:width=16,in_channels=1",
    "predictor": "none",
    "lr_batch": 256,
    "warmup_fraction": 0.01,
    "final_lr_ratio": 0.0,
    "ema_base": 0.0,
    "views": 2,
    "predictor_fixed_lr": False,
    "precision": "auto",
}
RECIPES = {
    "byol": {
        "projector": "mlp:hidden=4096,out=256,layers=2",
        "predictor": "mlp:hidden=4096,out=256,layers=2",
        "objective": "byol",
        "optimizer": "lars:momentum=0.9,weight_decay=1.5e-6,eta=0.001",
        "lr": 0.2,
        "ema_base": 0.99,
    },
    "simsiam": {
        "projector": "mlp:hidden=2048,out=2048,layers=3,last_bn=1",
        "predictor": "mlp:hidden=512,out=2048,layers=2",
        "objective": "simsiam",
        "optimizer": "sgd:momentum=0.9,weight_decay=1e-4",
        "lr": 0.05,
        "warmup_fraction": 0.0,
        "predictor_fixed_lr": True,
    },
    "vicreg": {
        "projector": "mlp:hidden=2048,out=2048,layers=3",
        "objective": "vicreg",
        "optimizer": "lars:momentum=0.9,weight_decay=1e-6,eta=0.001",
        "lr": 0.2,
        "final_lr_ratio": 0.001,
    },
    "simclr": {
        "projector": "mlp:hidden=2048,out=128,layers=2",
        "objective": "simclr",
        "optimizer": "lars:momentum=0.9,weight_decay=1e-6,eta=0.001",
        "lr": 0.3,
    },
    "barlow": {
        "projector": "mlp:hidden=2048,out=2048,layers=3",
        "objective": "barlow",
        "optimizer": "lars:momentum=0.9,weight_decay=1.5e-6,eta=0.001",
        "lr": 0.2,
        "final_lr_ratio": 0.001,
    },
    "groco": {
        # hidden = the encoder's width, filled in when the head is made
        "projector": "mlp:out=2048,layers=3,last_bn=1",
        "objective": "groco:steepness=16",
        "optimizer": "sgd:momentum=0.9,weight_decay=1e-6",
        "lr": 0.75,
        "lr_batch": 32,
    },
}
# lib/train/learner_config.c's short-run recipes (docs/training.md, "Recipes
# that follow the run's length"): the overrides, and the longest run in
# epochs that recipe=auto gives them.
SHORT_RECIPES = {
    "byol": {"lr": 1.6, "ema_base": 0.9},
    "simsiam": {"projector": "mlp:hidden=4096,out=256,layers=2",
                "predictor": "mlp:hidden=4096,out=256,layers=2",
                "optimizer": "lars:momentum=0.9,weight_decay=1.5e-6,"
                             "eta=0.001",
                "lr": 0.8},
    "vicreg": {"lr": 3.2},
    "simclr": {"lr": 4.8},
    "barlow": {"lr": 3.2},
    "groco": {"lr": 1.0},
}
SHORT_LIMIT_EPOCHS = {"byol": 20, "simsiam": 20, "vicreg": 40, "simclr": 40,
                      "barlow": 40, "groco": 3}
# Barlow Twins' reference: biases and norms at 0.0048 where weights are at 0.2.
BARLOW_NORM_SCALE = 0.0048 / 0.2


def recipe(method, epochs=None, which="auto"):
    """The keys a learner runs: the paper's recipe, with the short-run
    overrides when `which` is "short", or "auto" and the run is at most the
    method's limit long in epochs (total_steps * batch / dataset_size, as
    the library counts them; None, an unknown dataset size: the paper's)."""
    config = dict(COMMON)
    config.update(RECIPES[method])
    if which == "auto":
        short = method in SHORT_RECIPES and epochs is not None and \
            epochs <= SHORT_LIMIT_EPOCHS[method]
        which = "short" if short else "paper"
    if which == "short":
        config.update(SHORT_RECIPES.get(method, {}))
    config["recipe"] = which
    return config


def cpu_has_native_bf16():
    """The library's test for precision=auto (core/dnnl_ctx.c): bf16
    instructions, AVX512_BF16 or AMX."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def parse_spec(text):
    """'name:key=value,...' -> (name, {key: value text})."""
    name, _, rest = text.partition(":")
    keys = {}
    for item in rest.split(",") if rest.strip() else []:
        key, eq, value = item.partition("=")
        if not eq:
            raise SystemExit(f"spec \"{text}\": \"{item}\" is not key=value")
        keys[key.strip()] = value.strip()
    return name.strip(), keys


def no_keys_left(text, keys):
    if keys:
        raise SystemExit(f"spec \"{text}\": unknown key(s) "
                         f"{', '.join(sorted(keys))}")


def number(text):
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


# ---------------------------------------------------------------- networks

def make_encoder(spec):
    name, keys = parse_spec(spec)
    if name != "resnet18":
        raise SystemExit(f"encoder \"{spec}\": only resnet18 is mirrored")
    width = int(keys.pop("width", 16))
    in_channels = int(keys.pop("in_channels", 1))
    if keys.pop("precision", "f32") != "f32":
        raise SystemExit("encoder: only precision=f32 is mirrored")
    no_keys_left(spec, keys)
    net = reference_nn.cifar_resnet18(width, in_channels)
    for m in net.modules():  # torchvision's ResNet initialisation
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                    nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return net, 8 * width


def make_head(spec, in_features, default_hidden=4096):
    """An mlp head (nn.Linear's default initialisation); its output width."""
    name, keys = parse_spec(spec)
    if name != "mlp":
        raise SystemExit(f"head \"{spec}\": only mlp is mirrored")
    given_in = int(keys.pop("in", in_features))
    if given_in != in_features:
        raise SystemExit(f"\"{spec}\" sets in = {given_in}, but the network "
                         f"feeding it gives {in_features}")
    hidden = int(keys.pop("hidden", default_hidden))
    out = int(keys.pop("out", 256))
    layers = int(keys.pop("layers", 2))
    last_bn = int(keys.pop("last_bn", 0))
    bias = int(keys.pop("bias", 1))
    if keys.pop("precision", "f32") != "f32":
        raise SystemExit("head: only precision=f32 is mirrored")
    no_keys_left(spec, keys)
    return reference_nn.mlp(in_features, hidden, out, layers, last_bn,
                            bool(bias)), out


# --------------------------------------------------------------- objective

TAKES_TARGET = {"byol": "required", "simsiam": "required", "vicreg": "none",
                "simclr": "none", "barlow": "none", "groco": "optional"}


def make_objective(spec):
    name, keys = parse_spec(spec)
    if name not in objectives.LOSSES:
        raise SystemExit(f"objective \"{spec}\" is not one of "
                         f"{', '.join(objectives.LOSSES)}")
    options = {key: number(value) for key, value in keys.items()}
    loss = objectives.LOSSES[name]
    return name, lambda online, target: loss(online, target, options)[0]


# --------------------------------------------------------------- optimizer

def make_optimizer(spec, networks, peak_lr, method, predictor_fixed_lr):
    """torch optimizer over the online networks; its groups carry "scale"
    (a multiple of the scheduled rate) or "fixed" (a rate of their own)."""
    kind, keys = parse_spec(spec)
    if kind not in ("sgd", "lars", "adamw"):
        raise SystemExit(f"unknown optimizer \"{kind}\" (known: sgd, lars, "
                         "adamw)")
    momentum = float(keys.pop("momentum", 0.9)) if kind != "adamw" else 0
    nesterov = bool(int(keys.pop("nesterov", 0))) if kind == "sgd" else False
    eta = float(keys.pop("eta", 0.001)) if kind == "lars" else 0
    betas = (float(keys.pop("beta1", 0.9)), float(keys.pop("beta2", 0.999))) \
        if kind == "adamw" else None
    eps = float(keys.pop("eps", 1e-8)) if kind == "adamw" else None
    weight_decay = float(keys.pop("weight_decay",
                                  0.01 if kind == "adamw" else 0.0))
    exclude = bool(int(keys.pop("exclude_bias_and_norm",
                                1 if kind == "lars" else 0)))
    no_keys_left(spec, keys)

    # One group per (network, weight or not): 1-D tensors are the library's
    # "bias" and "norm" kinds.
    groups = []
    for net_name, net in networks:
        for is_weight in (True, False):
            params = [p for p in net.parameters() if (p.ndim > 1) == is_weight]
            if not params:
                continue
            group = {"params": params, "scale": 1.0, "fixed": None,
                     "weight_decay": weight_decay}
            if not is_weight and exclude and kind != "lars":
                group["weight_decay"] = 0.0  # LARS skips them by itself
            if not is_weight and method == "barlow":
                group["scale"] = BARLOW_NORM_SCALE
            if net_name == "predictor" and predictor_fixed_lr:
                group["fixed"] = peak_lr
            groups.append(group)

    if kind == "sgd":
        return torch.optim.SGD(groups, lr=0, momentum=momentum,
                               nesterov=nesterov)
    if kind == "adamw":
        return torch.optim.AdamW(groups, lr=0, betas=betas, eps=eps)
    excluded = {id(p) for _, net in networks for p in net.parameters()
                if p.ndim == 1} if exclude else set()
    return reference_optim.LARS(groups, lr=0, weight_decay=weight_decay,
                                momentum=momentum, eta=eta, excluded=excluded)


def group_lr(group, lr):
    """A group's rate: its fixed one, or its multiple of the scheduled lr."""
    if group["fixed"] is not None:
        return group["fixed"]
    return group["scale"] * lr


# --------------------------------------------------------------- schedules

def lr_at(step, peak, final, warmup, total):
    """lib/train/schedule.c's cosine schedule, held at its end after total."""
    warmup = min(warmup, total)
    step = min(max(step, 0), total)
    if step < warmup:
        return peak * step / warmup
    if step >= total:
        return final
    progress = (step - warmup) / (total - warmup)
    return final + (peak - final) * 0.5 * (1.0 + math.cos(math.pi * progress))


def byol_tau(base, k, total):
    k = min(max(k, 0), total)
    return 1.0 - (1.0 - base) * (math.cos(math.pi * k / total) + 1.0) / 2.0


# ----------------------------------------------------------------- learner

class Learner:
    """The networks, objective, optimizer and schedules of one method."""

    def __init__(self, method, config, total_steps, batch, bf16=False):
        self.method = method
        self.bf16 = bf16
        self.total = total_steps
        self.warmup = int(config["warmup_fraction"] * total_steps + 0.5)
        self.peak_lr = config["lr"] * batch / config["lr_batch"]
        self.final_lr = self.peak_lr * config["final_lr_ratio"]
        self.ema_base = config["ema_base"]
        self.step_count = 0

        self.encoder, features = make_encoder(config["encoder"])
        hidden = features if method == "groco" else 4096
        self.projector, proj_dim = make_head(config["projector"], features,
                                             hidden)
        self.predictor = None
        if config["predictor"] != "none":
            self.predictor, pred_dim = make_head(config["predictor"],
                                                 proj_dim)
            if pred_dim != proj_dim:
                raise SystemExit(f"the predictor outputs {pred_dim} features "
                                 f"but must match the projector's {proj_dim}")
        self.target_encoder = self.target_projector = None
        if method == "byol":  # the target starts as a copy of the online
            self.target_encoder = copy.deepcopy(self.encoder)
            self.target_projector = copy.deepcopy(self.projector)
            for p in list(self.target_encoder.parameters()) + \
                    list(self.target_projector.parameters()):
                p.requires_grad_(False)

        objective, self.objective = make_objective(config["objective"])
        gives_target = method == "byol" or self.predictor is not None
        rule = TAKES_TARGET[objective]
        if (gives_target and rule == "none") or \
                (not gives_target and rule == "required"):
            raise SystemExit(f"objective \"{objective}\" "
                             f"{'takes no' if rule == 'none' else 'needs'} a "
                             f"target, but method {method} "
                             f"{'gives' if gives_target else 'has no'} one")
        if config["views"] != 2 and objective != "groco":
            raise SystemExit(f"views = {config['views']}, but objective "
                             f"\"{objective}\" takes 2")

        networks = [("encoder", self.encoder), ("projector", self.projector)]
        if self.predictor is not None:
            networks.append(("predictor", self.predictor))
        self.online = [net for _, net in networks]
        self.optimizer = make_optimizer(config["optimizer"], networks,
                                        self.peak_lr, method,
                                        config["predictor_fixed_lr"])
        for net in self.online:
            net.train()
        if self.target_encoder is not None:  # training mode, as BYOL's code
            self.target_encoder.train()
            self.target_projector.train()

    def step(self, views):
        self.optimizer.zero_grad(set_to_none=True)
        online, target = [], []
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            for x in views:
                z = self.projector(self.encoder(x))
                online.append(self.predictor(z) if self.predictor else z)
                if self.target_encoder is not None:
                    with torch.no_grad():
                        target.append(self.target_projector(
                            self.target_encoder(x)))
                elif self.predictor is not None:
                    target.append(z)  # SimSiam: detached in the objective
        # the objective in float32, as the library's bf16 runs it
        online = [o.float() for o in online]
        target = [t.float() for t in target]
        loss = self.objective(online, target if target else None)
        if not torch.isfinite(loss):
            raise SystemExit(f"step {self.step_count}: the loss is "
                             f"{loss.item()}")
        loss.backward()
        for net in self.online:
            for name, p in net.named_parameters():
                if p.grad is not None and not torch.isfinite(p.grad).all():
                    raise SystemExit(f"step {self.step_count}: the gradient "
                                     f"of {name} is not finite")

        lr = lr_at(self.step_count, self.peak_lr, self.final_lr, self.warmup,
                   self.total)
        for group in self.optimizer.param_groups:
            group["lr"] = group_lr(group, lr)
        self.optimizer.step()
        if self.target_encoder is not None:
            tau = byol_tau(self.ema_base, self.step_count, self.total)
            with torch.no_grad():
                for t_net, o_net in ((self.target_encoder, self.encoder),
                                     (self.target_projector, self.projector)):
                    for t, o in zip(t_net.parameters(), o_net.parameters()):
                        t.add_(o - t, alpha=1.0 - tau)
        self.step_count += 1
        # the library's "collapse_std" diagnostic: of the first view's output
        collapse = objectives.collapse_std(online[0].detach()).item()
        return loss.item(), lr, collapse


# -------------------------------------------------------------------- data

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
            for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8,
                         offset=4 + 4 * ndim).reshape(dims)


def fashion_mnist(directory, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(directory,
                                   f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(directory,
                                   f"{prefix}-labels-idx1-ubyte.gz"))
    # (N, 1, H, W) uint8 and int64 labels
    return (torch.from_numpy(images.copy()).unsqueeze(1),
            torch.from_numpy(labels.astype(np.int64)))


def pixel_stats(images):
    """Mean and population std of pixel / 255, as lib/data/dataset.c."""
    hist = np.bincount(images.numpy().ravel(), minlength=256)
    x = np.arange(256) / 255.0
    count = hist.sum()
    mean = (hist * x).sum() / count
    var = (hist * x * x).sum() / count - mean * mean
    std = math.sqrt(var) if var > 1e-12 else 1.0
    return float(np.float32(mean)), float(np.float32(std))


FMNIST_CROP_LO = 0.7


def small_view_side(side):
    """examples/selfsup/commands.h's cli_small_view_side: 5/7 of the
    images' side, rounded, never under 16 (0: too small to shrink)."""
    small = (side * 5 + 3) // 7
    return small if small >= 16 else 0


def fmnist_views(size, mean, std, crop_lo=FMNIST_CROP_LO):
    """The two pipelines of the fmnist preset (lib/augment/presets.c); a
    different crop_lo stands for the same recipe with crop:scale=LO-1.0."""
    kernel = 2 * int(0.05 * size) + 1

    def pipeline(blur_p, solarize_p):
        ops = [T.RandomResizedCrop(size, scale=(crop_lo, 1.0),
                                   ratio=(3.0 / 4.0, 4.0 / 3.0),
                                   interpolation=T.InterpolationMode.BILINEAR,
                                   antialias=False),
               T.RandomHorizontalFlip(p=0.5),
               T.RandomApply([T.ColorJitter(brightness=0.4, contrast=0.4)],
                             p=0.8),
               T.RandomApply([T.GaussianBlur(kernel, sigma=(0.1, 1.0))],
                             p=blur_p)]
        if solarize_p > 0:
            ops.append(T.RandomSolarize(threshold=0.5, p=solarize_p))
        ops.append(T.Normalize([mean], [std]))
        return T.Compose(ops)

    return [pipeline(0.5, 0.0), pipeline(0.1, 0.2)]


def make_view(images, pipeline):
    """One view of a batch of uint8 images (N, C, H, W), image by image."""
    return torch.stack([pipeline(img.float() / 255.0) for img in images])


# --------------------------------------------------------------------- kNN

def grid_features(net, x, grid):
    """The ResNet's last feature map averaged over grid x grid cells, as the
    library's resnet18:grid=G (docs/training.md, "The embedding keeps the
    layout"); grid 1 is the network's own global pooling."""
    if grid <= 1:
        return net(x)
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
    return F.adaptive_avg_pool2d(x, grid).flatten(1)


@torch.no_grad()
def embed(encoder, images, mean, std, batch=500, grid=1):
    was_training = encoder.training
    encoder.eval()
    out = []
    for i in range(0, images.shape[0], batch):
        x = (images[i:i + batch].float() / 255.0 - mean) / std
        out.append(grid_features(encoder, x, grid))
    encoder.train(was_training)
    return torch.cat(out)


@torch.no_grad()
def knn_top1(train, train_labels, test, test_labels, k, t, block=256):
    """Weighted kNN (docs/evaluation.md): cosine similarity, the k most
    similar train rows vote with weight exp(sim / T) (computed as
    exp((sim - best) / T), the same ranking), scores summed in float64."""
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    train = F.normalize(train, dim=1, eps=1e-12)
    test = F.normalize(test, dim=1, eps=1e-12)
    correct = 0
    for i in range(0, test.shape[0], block):
        sims = test[i:i + block] @ train.T
        top, idx = sims.topk(k, dim=1)
        weights = ((top - top[:, :1]) / t).exp().double()
        scores = torch.zeros(top.shape[0], n_classes, dtype=torch.float64)
        scores.scatter_add_(1, train_labels[idx], weights)
        pred = scores.argmax(dim=1)  # the first maximum: the lower class
        correct += (pred == test_labels[i:i + block]).sum().item()
    return correct / test.shape[0]


def whiten(train, test, components=512, epsilon=1e-5):
    """PCA whitening with the train rows' statistics, as the library's
    selfsup_whitening (docs/evaluation.md, "Whitening"): covariance with
    divisor N - 1 in float64, the K largest eigenpairs, W[k] = v_k /
    sqrt(lambda_k + epsilon lambda_0), y = W (x - mean)."""
    x = train.double()
    mean = x.mean(dim=0)
    xc = x - mean
    cov = xc.T @ xc / (x.shape[0] - 1)
    values, vectors = torch.linalg.eigh(cov)
    values, vectors = values.flip(0), vectors.flip(1)
    k = min(components, x.shape[1])
    w = vectors[:, :k] / torch.sqrt(values[:k] + epsilon * values[0])
    return (xc @ w).float(), ((test.double() - mean) @ w).float()


class Monitor:
    """selfsup train's kNN monitor: the training images used as the bank,
    the test split as queries, the bank's own normalisation."""

    def __init__(self, train_images, train_labels, data, k, t, mean, std,
                 grid=1, white=False):
        self.train_images, self.train_labels = train_images, train_labels
        self.test_images, self.test_labels = fashion_mnist(data, "test")
        self.k, self.t = k, t
        self.mean, self.std = mean, std
        self.grid = grid
        self.white = white

    def __call__(self, encoder):
        train = embed(encoder, self.train_images, self.mean, self.std,
                      grid=self.grid)
        test = embed(encoder, self.test_images, self.mean, self.std,
                     grid=self.grid)
        top1 = knn_top1(train, self.train_labels, test, self.test_labels,
                        self.k, self.t)
        self.last_white = None  # the whitened figure, when asked for
        if self.white:
            wtrain, wtest = whiten(train, test)
            self.last_white = knn_top1(wtrain, self.train_labels, wtest,
                                       self.test_labels, self.k, self.t)
        return top1


# -------------------------------------------------------------------- main

def parse_args():
    p = argparse.ArgumentParser(
        description="Trains an encoder with one of libselfsup's recipes in "
                    "PyTorch and reports the kNN monitor of selfsup train.")
    p.add_argument("--method", default="byol", choices=list(RECIPES))
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--encoder", help="encoder spec (default: the recipe's)")
    p.add_argument("--objective", help="objective spec (the method's)")
    p.add_argument("--optimizer", help="optimizer spec (the method's)")
    p.add_argument("--lr", type=float, help="base learning rate at lr_batch "
                   "(the method's)")
    p.add_argument("--epochs", type=int, default=5,
                   help="epochs to train (0: only the kNN at initialisation)")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--views", type=int, default=2)
    p.add_argument("--set", help="other recipe keys, as selfsup train's "
                   "--set: 'KEY=VALUE;KEY=VALUE'")
    p.add_argument("--crop-scale", type=float, default=FMNIST_CROP_LO,
                   help="lower end of the views' crop scale")
    p.add_argument("--view-size", type=int, default=0,
                   help="side of the views (0: selfsup train's, 5/7 of the "
                   "images' side, 20 for 28, never under 16)")
    p.add_argument("--recipe", default="auto",
                   choices=("auto", "paper", "short"),
                   help="the recipe key: auto is short for runs up to the "
                   "method's limit in epochs")
    p.add_argument("--embed-grid", type=int, default=2,
                   help="the kNN monitor's embedding: the last feature map "
                   "over G x G cells (selfsup train's --embed-grid)")
    p.add_argument("--whiten", action="store_true",
                   help="the monitor also scores the features PCA-whitened "
                   "with the training images' statistics (up to 512 "
                   "components), as selfsup train's monitor does")
    p.add_argument("--run-dir", help="write DIR/metrics.jsonl in "
                   "selfsup train's format (selfsup plot draws it)")
    p.add_argument("--snapshot-every", type=int, default=0,
                   help="with --run-dir: save the encoder as "
                   "DIR/encoder_eE.pt at the start and every N epochs (a "
                   "\"snapshot\" line in metrics.jsonl with its seconds), "
                   "to be scored afterwards (export_encoder.py, selfsup "
                   "eval) instead of by the slow monitor here")
    p.add_argument("--threads", type=int, default=0,
                   help="torch threads (0: torch's default)")
    p.add_argument("--precision", default="f32",
                   choices=["f32", "bf16", "auto"],
                   help="bf16: the networks under CPU autocast to bfloat16 "
                   "(auto: where the CPU has AVX512_BF16 or AMX, as the "
                   "library's precision=auto decides)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0,
                   help="train on the first N images only")
    p.add_argument("--eval-every", type=int, default=1,
                   help="kNN evaluation every N epochs (0: never)")
    p.add_argument("--knn-k", type=int, default=200)
    p.add_argument("--knn-t", type=float, default=0.1)
    p.add_argument("--log-every", type=int, default=10,
                   help="print the loss every N steps (0: per epoch only)")
    p.add_argument("--out", help="append the final JSON line to this file")
    p.add_argument("--save-encoder", metavar="FILE.pt",
                   help="torch.save the trained encoder's state_dict and the "
                   "normalisation (export_encoder.py turns it into a "
                   "libselfsup encoder for selfsup eval)")
    args = p.parse_args()
    if args.epochs < 0 or args.batch < 2 or not 2 <= args.views <= 8 or \
            args.limit < 0 or args.eval_every < 0 or args.knn_k < 1 or \
            not args.knn_t > 0 or args.view_size < 0 or args.embed_grid < 1 \
            or args.snapshot_every < 0 or (args.snapshot_every and
                                           not args.run_dir):
        p.error("an option is out of range")
    return args


def main():
    args = parse_args()
    started = time.time()
    torch.set_num_threads(args.threads if args.threads > 0
                          else DEFAULT_THREADS)
    torch.manual_seed(args.seed)

    train_images, train_labels = fashion_mnist(args.data, "train")
    if 0 < args.limit < train_images.shape[0]:
        train_images = train_images[:args.limit]
        train_labels = train_labels[:args.limit]
    count = train_images.shape[0]
    mean, std = pixel_stats(train_images)
    per_epoch = count // args.batch
    if per_epoch < 1:
        raise SystemExit(f"--batch {args.batch} is larger than the {count} "
                         "training images")
    total = per_epoch * args.epochs

    config = recipe(args.method, total * args.batch / count, args.recipe)
    for key, value in (("encoder", args.encoder),
                       ("objective", args.objective),
                       ("optimizer", args.optimizer), ("lr", args.lr)):
        if value is not None:
            config[key] = value
    for item in filter(None, (args.set or "").split(";")):
        key, eq, value = item.partition("=")
        if not eq or key not in config or key in ("encoder", "objective",
                                                  "optimizer", "lr", "views"):
            raise SystemExit(f"--set: cannot set {item!r}")
        kind = type(config[key])
        config[key] = (value == "1" if kind is bool
                       else kind(value) if kind in (int, float) else value)
    config["views"] = args.views
    if args.encoder is None:
        config["encoder"] = ("resnet18:width=16,in_channels=%d"
                             % train_images.shape[1])
    bf16 = args.precision == "bf16" or (
        args.precision == "auto" and config["precision"] == "auto"
        and cpu_has_native_bf16())
    learner = Learner(args.method, config, max(total, 1), args.batch, bf16)
    side = train_images.shape[-1]
    view_side = args.view_size or small_view_side(side) or side
    pipelines = fmnist_views(view_side, mean, std, args.crop_scale)
    monitor = Monitor(train_images, train_labels, args.data, args.knn_k,
                      args.knn_t, mean, std, args.embed_grid, args.whiten)
    metrics = None
    if args.run_dir:
        os.makedirs(args.run_dir, exist_ok=True)
        metrics = open(os.path.join(args.run_dir, "metrics.jsonl"), "w")

    def record(**fields):
        fields = {k: v for k, v in fields.items() if v is not None}
        if metrics:
            fields["seconds"] = round(time.time() - started, 1)
            metrics.write(json.dumps(fields) + "\n")
            metrics.flush()
    shuffle = torch.Generator().manual_seed(args.seed)

    print(f"training {args.method} (PyTorch {torch.__version__}): {count} "
          f"images, batch {args.batch}, {args.views} views of {view_side}x"
          f"{view_side}, {config['recipe']} recipe, {total} steps "
          f"({args.epochs} epochs), {torch.get_num_threads()} threads, "
          f"{'bf16 autocast' if bf16 else 'float32'}; "
          f"peak lr {learner.peak_lr:g}, warmup {learner.warmup} steps; "
          f"normalisation mean {mean:.4f} std {std:.4f}", flush=True)
    def snapshot(epoch):
        """The encoder as it is, for scoring later; the save's time is
        counted as an evaluation's."""
        t0 = time.time()
        path = os.path.join(args.run_dir, f"encoder_e{epoch}.pt")
        torch.save({"encoder": learner.encoder.state_dict(),
                    "spec": config["encoder"], "mean": mean, "std": std},
                   path + ".tmp")
        os.replace(path + ".tmp", path)
        record(type="snapshot", step=learner.step_count, epoch=epoch,
               path=os.path.basename(path))
        return time.time() - t0

    eval_seconds = 0.0
    if args.snapshot_every:
        eval_seconds += snapshot(0)
    knn_init = knn_last = None
    curve = []
    if args.eval_every > 0 or args.epochs == 0:
        t0 = time.time()
        knn_init = knn_last = monitor(learner.encoder)
        eval_seconds += time.time() - t0
        curve.append([0, knn_init])
        record(type="eval", step=0, epoch=0, knn_top1=knn_init,
               knn_white_top1=monitor.last_white, knn_k=args.knn_k,
               knn_t=args.knn_t)
        print(f"kNN top-1 at initialisation: {100 * knn_init:.2f}% "
              f"({time.time() - t0:.1f} s)", flush=True)

    loss = float("nan")
    for epoch in range(args.epochs):
        order = torch.randperm(count, generator=shuffle)
        epoch_start, losses = time.time(), []
        for b in range(per_epoch):
            idx = order[b * args.batch:(b + 1) * args.batch]
            batch = train_images[idx]
            views = [make_view(batch, pipelines[v % len(pipelines)])
                     for v in range(args.views)]
            loss, lr, collapse = learner.step(views)
            losses.append(loss)
            step = learner.step_count
            record(type="step", step=step, epoch=epoch, loss=loss, lr=lr,
                   collapse_std=collapse)
            if args.log_every > 0 and step % args.log_every == 0:
                rate = (b + 1) * args.batch / (time.time() - epoch_start)
                print(f"  step {step}/{total}: loss {loss:.4f}, lr {lr:.4g}, "
                      f"collapse_std {collapse:.4f}, {rate:.1f} images/s",
                      flush=True)
        seconds = time.time() - epoch_start
        print(f"epoch {epoch + 1}/{args.epochs}: mean loss "
              f"{sum(losses) / len(losses):.4f}, last {loss:.4f}, "
              f"{per_epoch * args.batch / seconds:.1f} images/s", flush=True)
        if args.snapshot_every and ((epoch + 1) % args.snapshot_every == 0
                                    or epoch + 1 == args.epochs):
            eval_seconds += snapshot(epoch + 1)
        if args.eval_every > 0 and ((epoch + 1) % args.eval_every == 0 or
                                    epoch + 1 == args.epochs):
            t0 = time.time()
            knn_last = monitor(learner.encoder)
            eval_seconds += time.time() - t0
            curve.append([epoch + 1, knn_last])
            record(type="eval", step=learner.step_count, epoch=epoch + 1,
                   knn_top1=knn_last, knn_white_top1=monitor.last_white,
                   knn_k=args.knn_k, knn_t=args.knn_t)
            white = "" if monitor.last_white is None else \
                f", whitened {100 * monitor.last_white:.2f}%"
            print(f"kNN top-1 after epoch {epoch + 1}: {100 * knn_last:.2f}%"
                  f"{white} (k = {args.knn_k}, T = {args.knn_t:g})",
                  flush=True)

    seconds = time.time() - started
    result = {"method": args.method, "epochs": args.epochs,
              "limit": args.limit if args.limit > 0 else None,
              "knn_init": knn_init, "knn_top1": knn_last,
              "knn_k": args.knn_k, "knn_t": args.knn_t,
              "seconds": round(seconds, 1),
              "train_seconds": round(seconds - eval_seconds, 1),
              "framework": "pytorch", "images": count, "batch": args.batch,
              "steps": learner.step_count, "seed": args.seed,
              "threads": torch.get_num_threads(),
              "loss": None if math.isnan(loss) else loss,
              "knn_curve": curve, "view_size": view_side,
              "recipe": config["recipe"], "embed_grid": args.embed_grid,
              "precision": "bf16" if bf16 else "f32"}
    if metrics:
        metrics.close()
    if args.save_encoder:
        tmp = args.save_encoder + ".tmp"
        torch.save({"encoder": learner.encoder.state_dict(),
                    "spec": config["encoder"], "mean": mean, "std": std},
                   tmp)
        os.replace(tmp, args.save_encoder)
    line = json.dumps(result)
    print(line)
    if args.out:
        with open(args.out, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
