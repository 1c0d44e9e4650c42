#!/usr/bin/python3
"""Time to accuracy from training runs: kNN after each evaluated epoch
against minutes of *training*, for `selfsup train` runs (their
metrics.jsonl: the monitor's evaluations are left out of the clock, and so
is the start-up before the first step) and for tests/reference/train.py
runs made with --snapshot-every (their snapshots scored afterwards by
`selfsup eval --json` into DIR/eval_eE.json). Prints a table, the minutes
at which each run first reached the thresholds (linear between
evaluations), and writes DIR/metrics.jsonl per run under --plot-dir (eval
lines with those training minutes) for `selfsup plot --x minutes`.
With --ratio PEER/RUN (repeatable), a second table gives PEER's minutes
over RUN's at each threshold: how many times longer the peer took.

    /usr/bin/python3 tests/bench/time_to_accuracy.py [--plot-dir D] \\
        [--ratio PEER/RUN ...] NAME=RUN_DIR ...
"""
import argparse
import json
import os


def library_points(run):
    """(epoch, training minutes, kNN %, whitened kNN %) per evaluation."""
    points, last_step, in_evals = [], None, 0.0
    for line in open(os.path.join(run, "metrics.jsonl")):
        r = json.loads(line)
        if r["type"] == "step":
            last_step = r["seconds"]
        elif r["type"] == "eval":
            # the step-0 evaluation and the start-up before it are not
            # training; later ones last from the step before them
            in_evals += r["seconds"] - (last_step or 0.0)
            points.append((r["epoch"], (r["seconds"] - in_evals) / 60,
                           100 * r["knn_top1"],
                           100 * r.get("knn_white_top1", float("nan"))))
            last_step = r["seconds"]
    return points


def snapshot_points(run):
    times = {}
    for line in open(os.path.join(run, "metrics.jsonl")):
        r = json.loads(line)
        if r["type"] == "snapshot":
            times[r["epoch"]] = r["seconds"]
    start = times.get(0, 0.0)
    points = []
    for epoch in sorted(times):
        path = os.path.join(run, f"eval_e{epoch}.json")
        if os.path.exists(path):
            j = json.load(open(path))
            points.append((epoch, (times[epoch] - start) / 60,
                           100 * j["knn_top1"], 100 * j["knn_white_top1"]))
    return points


def reached(points, threshold, column):
    for i, p in enumerate(points):
        if p[column] >= threshold:
            if i == 0:
                return p[1]
            q = points[i - 1]
            f = (threshold - q[column]) / (p[column] - q[column])
            return q[1] + f * (p[1] - q[1])
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--plot-dir")
    p.add_argument("--bare", default="80,82", help="kNN thresholds (%%)")
    p.add_argument("--whitened", default="85,88",
                   help="whitened kNN thresholds (%%)")
    p.add_argument("--ratio", action="append", default=[],
                   metavar="PEER/RUN",
                   help="also print PEER's minutes over RUN's to each "
                   "threshold (two run names)")
    p.add_argument("runs", nargs="+", metavar="NAME=RUN_DIR")
    a = p.parse_args()
    names = [item.partition("=")[0] for item in a.runs]
    for pair in a.ratio:
        peer, _, run = pair.partition("/")
        if peer not in names or run not in names:
            p.error(f"--ratio {pair}: both must name runs given")
    bare = [float(x) for x in a.bare.split(",") if x]
    white = [float(x) for x in a.whitened.split(",") if x]
    head = ["run", "epochs", "training minutes", "kNN", "kNN whitened"]
    head += [f"to {t:g}%" for t in bare]
    head += [f"to {t:g}% whitened" for t in white]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    reach = {}
    for item in a.runs:
        name, _, run = item.partition("=")
        snap = any('"snapshot"' in line
                   for line in open(os.path.join(run, "metrics.jsonl")))
        points = snapshot_points(run) if snap else library_points(run)
        cells = [name, ", ".join(str(q[0]) for q in points),
                 ", ".join(f"{q[1]:.1f}" for q in points),
                 ", ".join(f"{q[2]:.2f}" for q in points),
                 ", ".join(f"{q[3]:.2f}" for q in points)]
        times = [reached(points, t, 2) for t in bare]
        times += [reached(points, t, 3) for t in white]
        reach[name] = times
        cells += ["-" if m is None else f"{m:.1f}" for m in times]
        print("| " + " | ".join(cells) + " |")
        if a.plot_dir:
            d = os.path.join(a.plot_dir, name)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "metrics.jsonl"), "w") as f:
                for epoch, minutes, knn, knn_white in points:
                    f.write(json.dumps({
                        "type": "eval", "step": 0, "epoch": epoch,
                        "knn_top1": knn / 100, "knn_white_top1": knn_white / 100,
                        "seconds": round(60 * minutes, 1)}) + "\n")
    if a.ratio:
        head = ["peer over run"] + head[5:]
        print()
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for pair in a.ratio:
            peer, _, run = pair.partition("/")
            cells = [f"{peer} / {run}"]
            for x, y in zip(reach[peer], reach[run]):
                cells.append("-" if x is None or y is None or y <= 0
                             else f"{x / y:.2f}x")
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
