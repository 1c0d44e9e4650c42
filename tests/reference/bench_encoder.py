"""PyTorch side of tests/bench/bench_encoder.c: forward + backward of the
same CIFAR ResNet-18 (nn.py's cifar_resnet18) in training mode, images per
second, median over steps after warm-up.

  /usr/bin/python3 tests/reference/bench_encoder.py [width] [batch] [steps]
      [threads] [H] [bf16]
"""
import statistics
import sys
import time

import torch

from nn import cifar_resnet18

width = int(sys.argv[1]) if len(sys.argv) > 1 else 16
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 256
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
h = int(sys.argv[5]) if len(sys.argv) > 5 else 28
bf16 = len(sys.argv) > 6 and sys.argv[6] == "bf16"
torch.set_num_threads(threads)
torch.manual_seed(0)
model = cifar_resnet18(width, 1).train()
x = torch.rand(batch, 1, h, h) * 2 - 1
gy = torch.rand(batch, 8 * width) * 2 - 1
times, cpu = [], []
for s in range(-3, steps):
    t0, c0 = time.perf_counter(), time.process_time()
    model.zero_grad(set_to_none=False)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        y = model(x)
    (y.float() * gy).sum().backward()
    if s >= 0:
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
med = statistics.median(times)
print("pytorch %s resnet18 width %d batch %d %dx%d threads %d%s: median "
      "%.1f ms/step, %.1f img/s (min %.1f ms, max %.1f ms); median CPU "
      "%.1f ms/step"
      % (torch.__version__, width, batch, h, h, threads,
         " autocast-bf16" if bf16 else "", 1e3 * med, batch / med,
         1e3 * min(times), 1e3 * max(times), 1e3 * statistics.median(cpu)))
