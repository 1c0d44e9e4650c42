#!/bin/sh
# Stopping and resuming `selfsup train`: a run stopped mid-epoch (by its time
# budget) and resumed ends with the same bits as the uninterrupted run;
# Ctrl-C saves a checkpoint and exits with status 130; --resume refuses the
# options that would change the checkpoint's recipe.
set -eu
selfsup=$1
. "$(dirname "$0")/common.sh"

# BYOL carries the most state across a resume: online and target networks,
# momentum buffers, the EMA schedule's position and the loader's shuffle.
# Small heads keep the steps short; 1024 images at batch 256: 4 per epoch.
heads="projector=mlp:hidden=128,out=64,layers=2;predictor=mlp:hidden=128,out=64,layers=2"
data_options="--limit 1024 --eval-every 0 --threads 1"
# shellcheck disable=SC2086 # data_options is a list of words
"$selfsup" train --method byol --batch 256 --epochs 2 --seed 3 \
    --set "$heads" $data_options --out "$out/whole" > "$out/whole.log"

# A time budget this small stops the run after its first step.
# shellcheck disable=SC2086
"$selfsup" train --method byol --batch 256 --epochs 2 --seed 3 \
    --set "$heads" $data_options --time-budget 0.000001 --out "$out/split" \
    > "$out/first.log"
grep -q "time budget of .* reached at step 1$" "$out/first.log"
# A line the checkpoint does not cover, as a run killed after its last
# checkpoint leaves: the resumed run replaces it.
echo '{"type": "step", "step": 2, "epoch": 0, "loss": 99.0}' \
    >> "$out/split/metrics.jsonl"
# The command that started the run, plus --resume, continues it: options
# equal to the checkpoint's are accepted (the encoder in any spelling).
# shellcheck disable=SC2086
"$selfsup" train --method byol --batch 256 --epochs 2 --seed 3 \
    --set "$heads" $data_options --encoder "resnet18: in_channels=1,width=16" \
    --resume "$out/split/last.ckpt" --out "$out/split" > "$out/second.log"
tail -n 1 "$out/second.log"

# step_losses DIR: "step loss" of each step line of DIR/metrics.jsonl.
step_losses() {
    awk '/"type": "step"/ {
        for (i = 1; i <= NF; i++) {
            if ($i == "\"step\":") step = $(i + 1) + 0
            if ($i == "\"loss\":") loss = $(i + 1)
        }
        print step, loss
    }' "$1/metrics.jsonl"
}
step_losses "$out/whole" > "$out/whole.losses"
step_losses "$out/split" > "$out/split.losses"
[ "$(wc -l < "$out/whole.losses")" -eq 8 ]
if ! cmp -s "$out/whole.losses" "$out/split.losses"; then
    echo "losses of the resumed run differ from the uninterrupted run's:"
    diff "$out/whole.losses" "$out/split.losses" || true
    exit 1
fi
cmp "$out/whole/last.ckpt" "$out/split/last.ckpt"
cmp "$out/whole/encoder.ckpt" "$out/split/encoder.ckpt"
# The plot shows the whole run, not only its resumed part.
cmp "$out/whole/curves.svg" "$out/split/curves.svg"
echo "resumed after step 1: the same 8 losses, checkpoints and plot"

# Ctrl-C: a checkpoint of the step it stopped at, exit status 130.
# shellcheck disable=SC2086
"$selfsup" train --method byol --batch 256 --epochs 1000 --seed 3 \
    --set "$heads" $data_options --out "$out/int" > "$out/int.log" &
pid=$!
tries=0
until grep -q '"type": "step"' "$out/int/metrics.jsonl" 2> /dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 600 ] || {
        kill "$pid"
        echo "no training step within 60 s"
        exit 1
    }
    sleep 0.1
done
kill -INT "$pid"
status=0
wait "$pid" || status=$?
tail -n 2 "$out/int.log"
[ "$status" -eq 130 ]
stopped=$(sed -n 's/^interrupted at step \([0-9]*\):.*/\1/p' "$out/int.log")
[ -n "$stopped" ] && [ -s "$out/int/last.ckpt" ] && [ -s "$out/int/encoder.ckpt" ]
# Resuming it continues at the next step.
# shellcheck disable=SC2086
"$selfsup" train --resume "$out/int/last.ckpt" $data_options \
    --time-budget 0.000001 --out "$out/int" > "$out/int2.log"
grep -q "time budget of .* reached at step $((stopped + 1))$" "$out/int2.log"
echo "Ctrl-C at step $stopped: status 130, checkpoint resumed at $((stopped + 1))"

# Options that would change the recipe are refused with --resume, naming
# the checkpoint's value.
for case in "--lr 0.1|lr = 1.6" "--epochs 3|plan of 8 steps" \
    "--set warmup_fraction=0.1|warmup_fraction = 0.01" \
    "--encoder resnet18:width=8|encoder resnet18:width=16,in_channels=1," \
    "--seed 1|seed = 3" "--batch 128|batch_size = 256"; do
    option=${case%%|*}
    want=${case#*|}
    status=0
    # shellcheck disable=SC2086
    "$selfsup" train --resume "$out/split/last.ckpt" $option \
        --out "$out/refused" > /dev/null 2> "$out/err" || status=$?
    if [ "$status" -ne 2 ] ||
        ! grep -qF -e "$option differs from the checkpoint's" "$out/err" ||
        ! grep -qF -e "$want" "$out/err"; then
        echo "train --resume with $option: status $status, stderr:"
        cat "$out/err"
        exit 1
    fi
done
# The export beside the checkpoint fixes the embedding's grid: another one
# is refused, the same one (or none given) accepted.
status=0
"$selfsup" train --resume "$out/split/last.ckpt" --embed-grid 1 \
    --out "$out/refused" > /dev/null 2> "$out/err" || status=$?
[ "$status" -eq 2 ]
grep -qF "embed-grid 1 differs from the run's export (grid=2 beside" "$out/err"
# A method other than the checkpoint's.
status=0
"$selfsup" train --resume "$out/split/last.ckpt" --method vicreg \
    --out "$out/refused" > /dev/null 2> "$out/err" || status=$?
[ "$status" -eq 2 ]
grep -qF "was trained with --method byol, not vicreg" "$out/err"
