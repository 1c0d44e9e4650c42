"""Golden data for the nn suite (tests/nn/test_golden.c).

Builds in PyTorch the networks libselfsup builds from
  resnet18:width=8,in_channels=1 / in_channels=3
  mlp:in=32,hidden=64,out=16,layers=3,last_bn=1,bias=1
  mlp:in=32,hidden=48,out=16,layers=2,last_bn=0,bias=0
(torchvision's resnet18 with conv1 a 3x3 stride-1 convolution, maxpool and
fc Identity, the stage widths scaled to 8, 16, 32, 64), loads weights it
draws here, and records on the same batches: the training-mode output, the
input gradient and the weight gradients of sum(output * grad_output), the
running statistics after a second training forward, and the eval-mode
output.

Weights and inputs are small integers times a power of two, written as the
integers and the scale, so that both sides hold exactly the same float32
values. Run: /usr/bin/python3 tests/reference/nn.py (writes tests/data/nn_*.txt)
"""
import math
import os

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")


class Writer:
    def __init__(self, path):
        self.f = open(path, "w")

    def array(self, name, values):
        v = values.detach().reshape(-1).double().tolist()
        self.f.write("%s %d\n" % (name, len(v)))
        for i in range(0, len(v), 8):
            self.f.write(" ".join("%.9g" % x for x in v[i:i + 8]) + "\n")

    def ints(self, name, values):
        v = values.reshape(-1).tolist()
        self.f.write("%s %d\n" % (name, len(v)))
        for i in range(0, len(v), 16):
            self.f.write(" ".join("%d" % x for x in v[i:i + 16]) + "\n")

    def scalar(self, name, x):
        self.f.write("%s 1\n%.9g\n" % (name, x))

    def close(self):
        self.f.close()


class NullWriter:
    """A Writer that keeps nothing (for runs that only measure)."""

    def array(self, name, values):
        pass

    def ints(self, name, values):
        pass

    def scalar(self, name, x):
        pass

    def close(self):
        pass


def quantized(gen, shape, bound):
    """U(-bound, bound)-like values q * 2^-e with |q| <= 127."""
    e = math.ceil(math.log2(127.0 / bound))
    q = torch.randint(-127, 128, shape, generator=gen)
    return q, 2.0 ** -e


def load_params(model, gen, w, prefix, skip=()):
    """Draws every parameter (and writes it as ints + scale); BN scales
    near 1, shifts near 0."""
    for name, p in model.named_parameters():
        if name in skip:
            continue
        if name.endswith("weight") and p.dim() == 1:  # batch-norm scale
            q = torch.randint(64, 193, p.shape, generator=gen)  # 0.5 .. 1.5
            s = 1.0 / 128
        elif p.dim() == 1:  # biases and shifts
            q = torch.randint(-64, 65, p.shape, generator=gen)
            s = 1.0 / 256
        else:
            fan_in = p[0].numel()
            q, s = quantized(gen, p.shape, 1.0 / math.sqrt(fan_in))
        with torch.no_grad():
            p.copy_(q.float() * s)
        w.ints(prefix + name + ".q", q)
        w.scalar(prefix + name + ".scale", s)


def next_prime(n):
    n = max(n, 2)
    while any(n % k == 0 for k in range(2, int(n ** 0.5) + 1)):
        n += 1
    return n


def write_grads(w, model, prefix):
    """Every gradient of tensors up to 4096 values; a strided sample of
    about 2000 (prime stride, so it visits every kernel position and
    channel residue) of the larger ones."""
    for name, p in model.named_parameters():
        g = p.grad.reshape(-1)
        step = 1 if g.numel() <= 4096 else next_prime(g.numel() // 2000)
        w.scalar(prefix + name + ".step", step)
        w.array(prefix + name, g[::step])


def write_buffers(w, model, prefix):
    for name, b in model.named_buffers():
        if name.endswith("num_batches_tracked"):
            continue
        w.array(prefix + name, b)


def cifar_resnet18(width, in_channels):
    m = torchvision.models.resnet18()
    m.inplanes = width
    m.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
    m.bn1 = nn.BatchNorm2d(width)
    m.maxpool = nn.Identity()
    m.layer1 = m._make_layer(BasicBlock, width, 2)
    m.layer2 = m._make_layer(BasicBlock, 2 * width, 2, stride=2)
    m.layer3 = m._make_layer(BasicBlock, 4 * width, 2, stride=2)
    m.layer4 = m._make_layer(BasicBlock, 8 * width, 2, stride=2)
    m.fc = nn.Identity()
    return m


def run(w, model, prefix, xa, xb, gy):
    model.train()
    xa = xa.clone().requires_grad_(True)
    y = model(xa)
    (y * gy).sum().backward()
    w.array(prefix + "out_train", y)
    w.array(prefix + "grad_input", xa.grad)
    write_grads(w, model, prefix + "grad.")
    with torch.no_grad():
        model(xb)
    write_buffers(w, model, prefix + "after2.")
    model.eval()
    with torch.no_grad():
        w.array(prefix + "out_eval", model(xa))


def batch(gen, shape, name, w):
    q = torch.randint(-256, 257, shape, generator=gen)
    w.ints(name + ".q", q)
    return q.float() / 256


def resnet_file():
    w = Writer(os.path.join(DATA, "nn_resnet18_w8.txt"))
    gen = torch.Generator().manual_seed(20240607)
    width, n = 8, 4
    base = cifar_resnet18(width, 3)
    load_params(base, gen, w, "w.", skip=("conv1.weight",))
    gy = batch(gen, (n, 8 * width), "grad_output", w)
    for c in (1, 3):
        m = cifar_resnet18(width, c)
        sd = {k: v for k, v in base.state_dict().items()
              if not k.startswith("conv1.")}
        m.load_state_dict(sd, strict=False)
        fan_in = c * 9
        q, s = quantized(gen, m.conv1.weight.shape, 1.0 / math.sqrt(fan_in))
        with torch.no_grad():
            m.conv1.weight.copy_(q.float() * s)
        w.ints("c%d.conv1.weight.q" % c, q)
        w.scalar("c%d.conv1.weight.scale" % c, s)
        xa = batch(gen, (n, c, 28, 28), "c%d.xa" % c, w)
        xb = batch(gen, (n, c, 28, 28), "c%d.xb" % c, w)
        run(w, m, "c%d." % c, xa, xb, gy)
    w.close()


def mlp(i, hidden, out, layers, last_bn, bias):
    mods = []
    d = i
    for _ in range(layers - 1):
        mods += [nn.Linear(d, hidden, bias=bias), nn.BatchNorm1d(hidden),
                 nn.ReLU(inplace=True)]
        d = hidden
    mods.append(nn.Linear(d, out, bias=bias))
    if last_bn:
        mods.append(nn.BatchNorm1d(out, affine=False))
    return nn.Sequential(*mods)


def mlp_file():
    w = Writer(os.path.join(DATA, "nn_mlp.txt"))
    gen = torch.Generator().manual_seed(977)
    n = 8
    for tag, args in (("a", (32, 64, 16, 3, 1, True)),
                      ("b", (32, 48, 16, 2, 0, False))):
        m = mlp(*args)
        load_params(m, gen, w, tag + ".w.")
        xa = batch(gen, (n, 32), tag + ".xa", w)
        xb = batch(gen, (n, 32), tag + ".xb", w)
        gy = batch(gen, (n, 16), tag + ".grad_output", w)
        run(w, m, tag + ".", xa, xb, gy)
    w.close()


if __name__ == "__main__":
    resnet_file()
    mlp_file()
