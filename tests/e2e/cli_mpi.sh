#!/bin/sh
# `mpirun -np 2 selfsup train`: two ranks train as one process (the first
# step, before any update, has the one process's loss; the run's loss stays
# within the reduction-order noise of it), rank 0 alone prints and writes
# (one metrics line a step, one set of files), and the 2-rank checkpoint
# resumes on one process; rank 0's time budget stops every rank.
# Usage: cli_mpi.sh SELFSUP MPIEXEC
set -eu
selfsup=$1
mpiexec=$2
. "$(dirname "$0")/common.sh"
# As root Open MPI asks for these two; idle ranks yield the core.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mpi_yield_when_idle=1 OMP_NUM_THREADS=1

# 1024 images at batch 64: 16 steps; a small GroCo projector.
run="train --limit 1024 --batch 64 --epochs 1 --eval-every 0 --threads 1
     --set projector=mlp:out=64,layers=3,last_bn=1"
# shellcheck disable=SC2086 # run is a list of words
"$selfsup" $run --out "$out/one" > "$out/one.log"
# shellcheck disable=SC2086
"$mpiexec" -np 2 --oversubscribe "$selfsup" $run --out "$out/two" \
    > "$out/two.log"
grep -c "over 2 ranks: 32 images of each batch a rank" "$out/two.log" |
    grep -qx 1
[ "$(grep -c '"type": "step"' "$out/two/metrics.jsonl")" -eq 16 ]
for f in last.ckpt encoder.ckpt curves.svg; do
    [ -s "$out/two/$f" ] || { echo "no $f from the 2-rank run"; exit 1; }
done

# loss_at DIR STEP: the loss of that step line of DIR/metrics.jsonl.
loss_at() {
    awk -v step="$2" '/"type": "step"/ && $0 ~ "\"step\": " step "," {
        sub(/.*"loss": /, ""); sub(/,.*/, ""); print }' "$1/metrics.jsonl"
}
# The first loss: the forward pass alone, batch norm's statistics over the
# ranks against one process's (measured 2e-6 apart); the last: after 16
# updates, where reduction order alone moves the loss (measured 4e-5;
# per-rank statistics are ten times further, test_ranks).
awk -v a="$(loss_at "$out/one" 1)" -v b="$(loss_at "$out/two" 1)" \
    -v c="$(loss_at "$out/one" 16)" -v d="$(loss_at "$out/two" 16)" 'BEGIN {
    first = (a > b ? a - b : b - a) / a; last = (c > d ? c - d : d - c) / c
    printf "first loss %s vs %s (%.2g), last %s vs %s (%.2g)\n",
        a, b, first, c, d, last
    exit !(first < 1e-4 && last < 2e-2) }'

# Rank 0's clock stops every rank at the same step (a budget this small:
# after the first); that checkpoint continues on one process.
# shellcheck disable=SC2086
"$mpiexec" -np 2 --oversubscribe "$selfsup" $run --time-budget 0.000001 \
    --out "$out/split" > "$out/split.log"
grep -c "time budget of .* reached at step 1$" "$out/split.log" | grep -qx 1
# shellcheck disable=SC2086
"$selfsup" $run --resume "$out/split/last.ckpt" --out "$out/split" \
    > "$out/resumed.log"
[ "$(grep -c '"type": "step"' "$out/split/metrics.jsonl")" -eq 16 ]
echo "2 ranks train as one process; their checkpoint resumes on one"
