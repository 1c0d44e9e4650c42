#!/usr/bin/python3
"""Turns an encoder trained by train.py (--save-encoder FILE.pt) into a
libselfsup encoder file, so that `selfsup eval --checkpoint` scores both
libraries' encoders with the same kNN and linear probe
(docs/benchmarks.md, "Five epochs in PyTorch").

    /usr/bin/python3 tests/reference/export_encoder.py [--grid 2] \\
        --lib build/release/lib/libselfsup.so IN.pt OUT.ckpt

The parameters and batch-norm statistics are copied by name through the C
API (selfsup_encoder_param_write) into a learner's online encoder of the
same spec, with train.py's input normalisation recorded, and written by
selfsup_learner_export_encoder. The file is then loaded back
(selfsup_encoder_load) and every tensor compared with the .pt's: the
script fails unless they are equal to the bit. Not run by CI.
"""
import argparse
import ctypes as c
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paired import Library  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lib", required=True, help="path of libselfsup.so")
    p.add_argument("--grid", type=int, default=1,
                   help="write the encoder as resnet18:grid=G, its last "
                   "feature map over G x G cells (what selfsup train "
                   "exports: 2); the parameters are the same")
    p.add_argument("input", help="train.py --save-encoder file")
    p.add_argument("output", help="libselfsup encoder file to write")
    args = p.parse_args()

    try:
        saved = torch.load(args.input)
    except (OSError, RuntimeError) as e:
        raise SystemExit(f"{args.input}: {e}")
    state = saved["encoder"]
    spec = saved["spec"]
    if args.grid < 1:
        raise SystemExit(f"--grid {args.grid}: must be 1 or more")
    if args.grid > 1:
        spec += f",grid={args.grid}"
    lib = Library(args.lib)

    cfg, learner = c.c_void_p(), c.c_void_p()
    lib("selfsup_learner_config_create", c.byref(cfg), b"vicreg")
    lib("selfsup_learner_config_set", cfg, b"encoder", spec.encode())
    lib("selfsup_learner_create", c.byref(learner), cfg)
    lib.c.selfsup_learner_config_destroy(cfg)
    encoder = c.c_void_p(lib.c.selfsup_learner_encoder(learner))

    names = set()
    for i, name in lib.params(encoder):
        if name not in state:
            raise SystemExit(f"{args.input} has no tensor {name!r}")
        v = np.ascontiguousarray(state[name].numpy(), dtype=np.float32)
        lib("selfsup_encoder_param_write", encoder, i,
            v.ctypes.data_as(c.c_void_p), c.c_int64(v.size))
        names.add(name)
    unused = [k for k in state
              if k not in names and not k.endswith("num_batches_tracked")]
    if unused:
        raise SystemExit(f"{args.input}: tensors the library's "
                         f"{spec} does not have: {unused[:5]}")

    # The stem's weight is the first 4-d tensor: (out, in, kh, kw).
    channels = next(v.shape[1] for v in state.values() if v.dim() == 4)
    mean = (c.c_float * channels)(*[saved["mean"]] * channels)
    std = (c.c_float * channels)(*[saved["std"]] * channels)
    lib("selfsup_learner_set_input_normalization", learner, mean, std)
    lib("selfsup_learner_export_encoder", learner, args.output.encode())
    lib.c.selfsup_learner_destroy(learner)

    loaded = c.c_void_p()
    lib("selfsup_encoder_load", c.byref(loaded), args.output.encode())
    for i, name in lib.params(loaded):
        want = state[name].numpy().astype(np.float32).ravel()
        got = np.zeros(want.size, np.float32)
        lib("selfsup_encoder_param_read", loaded, i,
            got.ctypes.data_as(c.c_void_p), c.c_int64(got.size))
        if not np.array_equal(got, want):
            os.remove(args.output)
            raise SystemExit(f"{args.output}: {name} did not round-trip "
                             "(file removed)")
    lib.c.selfsup_encoder_destroy(loaded)
    print(f"{args.output}: {len(names)} tensors from {args.input} "
          f"({spec}, normalisation mean {saved['mean']:.4f} "
          f"std {saved['std']:.4f}), checked")


if __name__ == "__main__":
    main()
