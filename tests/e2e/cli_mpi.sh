#!/bin/sh
# `mpirun -np 2 selfsup train`: two ranks train as one process (the first
# step, before any update, has the one process's loss) and learn; rank 0
# alone prints and writes (one metrics line a step, one set of files),
# and the 2-rank checkpoint resumes on one process (and over ranks with
# --precision auto); rank 0's time budget stops every rank; a rank killed
# with SIGKILL ends the job and the run resumes from its checkpoint;
# eval and embed shard the images and give one process's results.
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
# Over ranks --precision auto is f32 (batch norm is synchronised in
# float32), so the one process to match runs f32 too.
# shellcheck disable=SC2086 # run is a list of words
"$selfsup" $run --precision f32 --out "$out/one" > "$out/one.log"
# shellcheck disable=SC2086
"$mpiexec" -np 2 --oversubscribe "$selfsup" $run --out "$out/two" \
    > "$out/two.log"
grep -q "^training groco on resnet18:.*precision=f32:" "$out/two.log"
grep -c "over 2 ranks: 32 images of each batch a rank" "$out/two.log" |
    grep -qx 1
[ "$(grep -c '"type": "step"' "$out/two/metrics.jsonl")" -eq 16 ]
for f in last.ckpt encoder.ckpt curves.svg; do
    [ -s "$out/two/$f" ] || { echo "no $f from the 2-rank run"; exit 1; }
done
# The command that started the run resumes it: --precision auto over
# ranks is the f32 the checkpoint holds, whatever auto gives one process.
# shellcheck disable=SC2086
"$mpiexec" -np 2 --oversubscribe "$selfsup" $run --precision auto \
    --resume "$out/two/last.ckpt" --out "$out/two" > "$out/two_again.log"
[ "$(grep -c '"type": "step"' "$out/two/metrics.jsonl")" -eq 16 ]

# loss_at DIR STEP: the loss of that step line of DIR/metrics.jsonl.
loss_at() {
    awk -v step="$2" '/"type": "step"/ && $0 ~ "\"step\": " step "," {
        sub(/.*"loss": /, ""); sub(/,.*/, ""); print }' "$1/metrics.jsonl"
}
# The first loss is the forward pass alone: batch norm's statistics over
# the ranks against one process's (measured 6e-6 apart). Later steps part
# as a run on 2 threads parts from one on 1 (reduction order through
# GroCo's sort at batch 64: 9-13% by step 16), which test_ranks measures
# against that yardstick; here the 2-rank run must learn: its last four
# losses below its first four.
awk -v a="$(loss_at "$out/one" 1)" -v b="$(loss_at "$out/two" 1)" 'BEGIN {
    first = (a > b ? a - b : b - a) / a
    printf "first loss %s on one process, %s on 2 ranks (%.2g)\n", a, b, first
    exit !(first < 1e-4) }'
awk '/"type": "step"/ { sub(/.*"loss": /, ""); sub(/,.*/, ""); loss[++n] = $0 }
    END { for (i = 1; i <= 4; i++) { early += loss[i]; late += loss[n - 4 + i] }
          printf "2 ranks: mean loss %.4f over the first 4 steps, %.4f over the last 4\n",
              early / 4, late / 4
          exit !(late < early) }' "$out/two/metrics.jsonl"

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

# A rank killed with SIGKILL ends the job (mpirun's doing; no rank waits
# forever), and the last checkpoint stays intact: the run resumes from it.
# 4096 images at batch 64: 64 steps, far more than the second before the
# kill even on a quiet machine.
long="train --limit 4096 --batch 64 --epochs 1 --eval-every 0 --threads 1
      --set projector=mlp:out=64,layers=3,last_bn=1"
# shellcheck disable=SC2086
"$mpiexec" -np 2 --oversubscribe "$selfsup" $long --time-budget 0.000001 \
    --out "$out/kill" > "$out/kill.log"
cksum < "$out/kill/last.ckpt" > "$out/kill.sum"
set +e
# shellcheck disable=SC2016,SC2086 # $$ and $@ are the rank's shell's
timeout 300 "$mpiexec" -np 2 --oversubscribe sh -c '
    if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then
        (sleep 1; kill -KILL $$) &
    fi
    exec "$@"' sh "$selfsup" $long --resume "$out/kill/last.ckpt" \
    --out "$out/kill" > "$out/killed.log" 2>&1
status=$?
set -e
[ "$status" -ne 0 ] || { echo "the job went on with a rank killed"; exit 1; }
[ "$status" -ne 124 ] ||
    { echo "the job hung after a rank was killed"; exit 1; }
echo "a rank killed: the job ended with status $status"
cksum < "$out/kill/last.ckpt" | cmp -s - "$out/kill.sum" ||
    { echo "the checkpoint changed"; exit 1; }
# shellcheck disable=SC2086
"$selfsup" $long --resume "$out/kill/last.ckpt" --out "$out/kill" \
    > "$out/kill_resumed.log"
[ "$(grep -c '"type": "step"' "$out/kill/metrics.jsonl")" -eq 64 ]

# eval and embed over ranks: each rank embeds its share, rank 0 scores and
# writes; the same numbers and bytes as one process.
t10k="$data/t10k-images-idx3-ubyte.gz"
"$selfsup" embed --checkpoint "$out/one/encoder.ckpt" --input "$t10k" \
    --output "$out/one.npy" --threads 1 > /dev/null
"$mpiexec" -np 2 --oversubscribe "$selfsup" embed \
    --checkpoint "$out/one/encoder.ckpt" --input "$t10k" \
    --output "$out/two.npy" --threads 1 > /dev/null
cmp "$out/one.npy" "$out/two.npy"
scoring="eval --checkpoint $out/one/encoder.ckpt --limit 2000 --no-probe
         --no-baselines --json --threads 1"
# shellcheck disable=SC2086 # scoring is a list of words
"$selfsup" $scoring > "$out/one.json"
# shellcheck disable=SC2086
"$mpiexec" -np 2 --oversubscribe "$selfsup" $scoring > "$out/two.json"
cmp "$out/one.json" "$out/two.json"
echo "2 ranks train as one process; their checkpoint resumes on one; eval" \
    "and embed over 2 ranks give one process's numbers"
