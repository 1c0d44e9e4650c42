#!/bin/sh
# `selfsup train --time-budget S` without --epochs plans the run: it times a
# step, fits the steps to the budget and sets the schedule to end with them,
# so the learning rate has decayed by the last step and every planned step
# ran, the plan corrected from the run's own pace on the way (a planned run
# stops early only when its steps run a tenth slower than planned). With
# --epochs the budget only stops. Every run trains on smaller views
# when the user left the views to the program. Batches of 64 so that even a slow or busy
# machine (two seconds a step of 256 images, seen on AVX2 with other tests
# running) plans enough steps for the schedule's decay to show.
set -eu
selfsup=$1
. "$(dirname "$0")/common.sh"
# shellcheck source=auto_precision.sh
. "$(dirname "$0")/auto_precision.sh"

# Views the user sizes are kept, whatever the plan gives them.
"$selfsup" train --time-budget 20 --limit 2048 --batch 64 --eval-every 0 --threads 2 \
    --view-size 28 --out "$out/plan" > "$out/plan.log"
grep "^planned for 20s" "$out/plan.log"
if grep -q "pixels for the" "$out/plan.log"; then
    echo "--view-size 28 was not kept"; exit 1
fi
grep "^training groco on resnet18:width=16,in_channels=1,precision=$auto_precision: .* 2 views of 28x28," \
    "$out/plan.log"
# The plan is the planner's, or the last re-plan's (at a tenth and at half of
# the planned steps, from the run's own pace).
planned=$(tr '\r' '\n' < "$out/plan.log" |
    sed -n 's/^\(planned for 20s\|re-planned at step [0-9]*\): .*: \([0-9]*\) steps .*/\2/p' |
    tail -n 1)
# The steps run, the first and the last step's learning rates, their times.
awk -v planned="$planned" '
    /"type": "step"/ {
        for (i = 1; i <= NF; i++) {
            if ($i == "\"lr\":") lr = $(i + 1) + 0
            if ($i == "\"seconds\":") t = $(i + 1) + 0
        }
        # wall time since the command started: positive, never going back
        if (t <= 0 || t < last_t) late++
        last_t = t
        if (!steps++ || lr > peak) peak = lr
        last = lr
    }
    END {
        printf "planned %d steps, ran %d; peak lr %g, last %g\n",
               planned, steps, peak, last
        exit !(planned > 8 && steps == planned && last < 0.05 * peak &&
               !late)
    }' "$out/plan/metrics.jsonl"

# With --epochs the plan is the epochs and the budget a hard stop.
"$selfsup" train --time-budget 2 --epochs 50 --limit 2048 --eval-every 0 \
    --threads 2 --out "$out/stop" > "$out/stop.log"
if grep -q "^planned for" "$out/stop.log"; then
    echo "a run of --epochs was planned to its budget"; exit 1
fi
grep "time budget of 2s reached" "$out/stop.log"

# Views left to the program are 20 pixels for the 28-pixel images, with
# the same encoder, planned runs and runs of epochs alike.
"$selfsup" train --time-budget 4 --limit 4096 --eval-every 0 --threads 2 \
    --out "$out/fast" > "$out/fast.log"
grep "^views of 20 pixels for the 28-pixel images (--view-size 28 trains on the images' own)" \
    "$out/fast.log"
grep "^planned for 4s" "$out/fast.log"
grep " 2 views of 20x20," "$out/stop.log"
grep "^training groco on resnet18:width=16,in_channels=1,precision=$auto_precision: .* 2 views of 20x20," \
    "$out/fast.log"
# The export embeds the images at their own size.
"$selfsup" embed --checkpoint "$out/fast/encoder.ckpt" --threads 2 \
    --input "$data/t10k-images-idx3-ubyte.gz" --output "$out/fast/t10k.npy" \
    > "$out/fast_embed.log"
# 10000 rows of the 2x2 grid's 512 features, float32, after the header
test "$(wc -c < "$out/fast/t10k.npy")" -gt $((10000 * 512 * 4))
