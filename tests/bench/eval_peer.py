"""PyTorch peer of tests/bench/eval_bench.c: the same kNN and linear probe on
the same features, timed the same way (median of --repeats runs).

    eval_bench --save DIR          # writes DIR/{train,test}{,_labels}.npy
    /usr/bin/python3 tests/bench/eval_peer.py DIR [--threads N] [--repeats R]

kNN: the DINO / InstDisc monitor as usually written in PyTorch (normalise,
similarities of 1000-row test chunks against the whole train set,
torch.topk, exp(sim / T) weights, scatter_add per class). Probe: the same
objective as selfsup_linear_probe (standardised features, mean
cross-entropy + weight_decay / 2 |W|^2), torch.optim.LBFGS with strong
Wolfe line search, history 10, stopping when max |grad| <= 1e-6.
"""
import argparse
import statistics
import time

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()
torch.set_num_threads(args.threads)

x_train = torch.from_numpy(np.load(args.dir + "/train.npy"))
x_test = torch.from_numpy(np.load(args.dir + "/test.npy"))
y_train = torch.from_numpy(np.load(args.dir + "/train_labels.npy")).long()
y_test = torch.from_numpy(np.load(args.dir + "/test_labels.npy")).long()
C, K, T = 10, 200, 0.1


def knn():
    train = torch.nn.functional.normalize(x_train, dim=1)
    test = torch.nn.functional.normalize(x_test, dim=1)
    correct = 0
    for i in range(0, test.shape[0], 1000):
        sims = test[i:i + 1000] @ train.T
        top, idx = sims.topk(K, dim=1)
        w = (top / T).exp()
        scores = torch.zeros(sims.shape[0], C).scatter_add_(1, y_train[idx], w)
        correct += (scores.argmax(1) == y_test[i:i + 1000]).sum().item()
    return correct / test.shape[0]


def probe(wd=1e-4):
    mean = x_train.double().mean(0)
    std = x_train.double().std(0, unbiased=False)
    std = torch.where(std <= 4 * 1.1920929e-07 * mean.abs(), torch.ones_like(std), std)
    xs = ((x_train - mean) / std).float()
    xt = ((x_test - mean) / std).float()
    w = torch.zeros(C, xs.shape[1], requires_grad=True)
    b = torch.zeros(C, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=1000, history_size=10,
                            tolerance_grad=1e-6, tolerance_change=0,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xs @ w.T + b, y_train) \
            + 0.5 * wd * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        acc = ((xt @ w.T + b).argmax(1) == y_test).float().mean().item()
    return acc, opt.state[opt._params[0]]["n_iter"]


for name, fn in (("knn k=200 T=0.1", knn), ("linear probe", probe)):
    wall, cpu = [], []
    for _ in range(args.repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    print("torch %s (%d thread(s)): %s, median %.3f s (cpu %.3f s)" %
          (name, args.threads, result, statistics.median(wall),
           statistics.median(cpu)))
