#!/bin/sh
# The selfsup program's options: --help on every subcommand, usage errors
# that name the option, and --set reaching the learner (a warmup set with
# --set lowers the first step's learning rate).
set -eu
selfsup=$1
data=/usr/share/datasets/fashion-mnist
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for cmd in train eval embed bench demo plot; do
    "$selfsup" "$cmd" --help > "$out/help" 2>&1
    grep -q "^usage: selfsup $cmd" "$out/help"
done

# usage_error EXPECTED_TEXT ARGS...: exit status 2 and the text on stderr.
usage_error() {
    expected=$1
    shift
    status=0
    "$selfsup" "$@" > /dev/null 2> "$out/err" || status=$?
    if [ "$status" -ne 2 ] || ! grep -qF -e "$expected" "$out/err"; then
        echo "selfsup $*: status $status, stderr:"
        cat "$out/err"
        echo "(wanted status 2 and \"$expected\")"
        exit 1
    fi
}
usage_error "unknown option" train --no-such-option

# The demo's --method reaches the library, which names the bad value.
status=0
"$selfsup" demo --method nope --out "$out/demo" > /dev/null 2> "$out/err" ||
    status=$?
[ "$status" -eq 1 ]
grep -qF 'method "nope" is not one of byol, simsiam, vicreg' "$out/err"

# train opens the images before it reads --set.
[ -f "$data/train-images-idx3-ubyte.gz" ] || {
    echo "skipped the rest: $data is missing"
    exit 77
}
usage_error "--set: \"ema_base\" is not KEY=VALUE" train --set ema_base \
    --out "$out/x"
usage_error "--set: lr has its own option: --lr" train --set "lr=0.1" \
    --out "$out/x"
usage_error "--set: batch_size has its own option: --batch" train \
    --set "warmup_fraction=0.1;batch_size=64" --out "$out/x"

# A key the library refuses: its own message, exit status 1.
status=0
"$selfsup" train --set "ema_base=2" --out "$out/x" > /dev/null \
    2> "$out/err" || status=$?
[ "$status" -eq 1 ]
grep -qF -e 'ema_base = "2" is not a number in [0, 1]' "$out/err"

# first_lr DIR: the learning rate of the first step in DIR/metrics.jsonl.
first_lr() {
    awk '/"type": "step"/ {
        for (i = 1; i <= NF; i++) if ($i == "\"lr\":") { print $(i + 1) + 0; exit }
    }' "$1/metrics.jsonl"
}
run() {
    name=$1
    shift
    "$selfsup" train --method simsiam --limit 1024 --batch 256 --epochs 1 \
        --eval-every 0 --threads 1 --out "$out/$name" "$@" > /dev/null
}
usage_error "--embed-grid 9 is not an integer in [1, 8]" train --embed-grid 9 --out "$out/x"
run plain
run warm --set "warmup_fraction=0.5;predictor=mlp:hidden=64,out=256,layers=2" \
    --embed-grid 1
# The export embeds through 2x2 cells unless told otherwise; the trained
# network (last.ckpt) keeps its global pooling either way.
"$selfsup" eval --checkpoint "$out/plain/encoder.ckpt" --limit 256 --no-probe \
    --no-baselines --threads 1 | grep -q "in_channels=1,grid=2,precision=f32 "
"$selfsup" eval --checkpoint "$out/warm/encoder.ckpt" --limit 256 --no-probe \
    --no-baselines --threads 1 | grep -q "in_channels=1,precision=f32 "
"$selfsup" eval --checkpoint "$out/plain/last.ckpt" --limit 256 --no-probe \
    --no-baselines --threads 1 | grep -q "in_channels=1,precision=f32 "
# --network: another encoder of a full checkpoint. BYOL with its target
# frozen (ema_base=1) at two learning rates: the online encoders differ,
# the targets (the shared initialisation, BN statistics from the same
# views) are the same to the bit.
for lr in 0.06 0.6; do
    "$selfsup" train --method byol --limit 512 --batch 256 --epochs 1 \
        --eval-every 0 --threads 1 --lr $lr --set ema_base=1 \
        --out "$out/byol_$lr" > /dev/null
    for net in online target; do
        "$selfsup" eval --checkpoint "$out/byol_$lr/last.ckpt" --limit 512 \
            --network $net.encoder --no-probe --no-baselines --json \
            --threads 1 | sed 's/"checkpoint": "[^"]*"//' \
            > "$out/byol_$lr.$net.json"
    done
done
cmp -s "$out/byol_0.06.target.json" "$out/byol_0.6.target.json"
cmp -s "$out/byol_0.06.online.json" "$out/byol_0.6.online.json" && exit 1
grep -q '"knn_top1": 0\.[0-9]' "$out/byol_0.6.target.json"
usage_error "--network online.predictor is not one of online.encoder" \
    eval --checkpoint "$out/plain/last.ckpt" --network online.predictor
status=0
"$selfsup" eval --checkpoint "$out/plain/last.ckpt" --network target.encoder \
    --limit 256 --threads 1 > /dev/null 2> "$out/err" || status=$?
[ "$status" -eq 1 ]
grep -qF 'a simsiam learner has online.encoder, online.projector' "$out/err"
status=0
"$selfsup" eval --checkpoint "$out/plain/encoder.ckpt" \
    --network target.encoder --limit 256 --threads 1 > /dev/null \
    2> "$out/err" || status=$?
[ "$status" -eq 1 ]
grep -qF 'an encoder export holds the online encoder only' "$out/err"

plain=$(first_lr "$out/plain")
warm=$(first_lr "$out/warm")
echo "first-step lr: $plain without a warmup, $warm with warmup_fraction 0.5"
awk -v a="$plain" -v b="$warm" 'BEGIN { exit !(a > 0 && b >= 0 && b < a / 1.9) }'

# plot overlays both runs' losses against steps: one polyline a run, with
# every step of its metrics, and the legend's labels.
"$selfsup" plot "$out/plain" "$out/warm" --y loss --x steps \
    --labels "plain,warm <0.5>" --out "$out/loss.svg" > /dev/null
[ "$(grep -c '<polyline' "$out/loss.svg")" -eq 2 ]
grep -qF '>warm &lt;0.5&gt;</text>' "$out/loss.svg"
steps=$(grep -c '"type": "step"' "$out/plain/metrics.jsonl")
points=$(grep '<polyline' "$out/loss.svg" | head -n 1 |
    sed "s/.*points='\([^']*\)'.*/\1/" | wc -w)
[ "$points" -eq "$steps" ]
[ ! -e "$out/loss.svg.tmp" ]
# Ticks through zero print 0, not a running sum's -1.38778e-16: a run whose
# loss climbs from -0.55 to -0.02 (GroCo's margin does) has ticks -0.6 to
# 0 by 0.1.
mkdir -p "$out/ticks"
awk 'BEGIN { for (i = 1; i <= 20; i++)
    printf "{\"type\": \"step\", \"step\": %d, \"epoch\": 0, \"loss\": %.4f}\n",
        i, -0.55 + 0.53 * i / 20 }' > "$out/ticks/metrics.jsonl"
"$selfsup" plot "$out/ticks" --y loss --x steps --out "$out/ticks.svg" \
    > /dev/null
grep -qF '>-0.6</text>' "$out/ticks.svg"
grep -qF '>0</text>' "$out/ticks.svg"
if grep -q 'e-[0-9]*</text>' "$out/ticks.svg"; then
    echo "a tick label in exponent form:"
    grep 'e-[0-9]*</text>' "$out/ticks.svg"
    exit 1
fi
# A long label widens the legend instead of running off the canvas.
long=run-with-a-label-of-sixty-characters-that-needs-its-own-room
"$selfsup" plot "$out/plain" --y loss --x steps --labels "$long" \
    --out "$out/wide.svg" > /dev/null
svg_width() { sed -n "s/^<svg [^>]*width='\([0-9]*\)'.*/\1/p" "$1"; }
[ "$(svg_width "$out/wide.svg")" -gt "$(svg_width "$out/loss.svg")" ]
# --pairs: a run and its peer in one colour, the peer's curve dashed;
# without it, a colour a run and nothing dashed.
"$selfsup" plot "$out/plain" "$out/warm" --y loss --x steps --pairs \
    --out "$out/pairs.svg" > /dev/null
curve_colours() {
    grep '<polyline' "$1" | sed "s/.*stroke='\([^']*\)'.*/\1/" | sort -u |
        wc -l
}
[ "$(curve_colours "$out/pairs.svg")" -eq 1 ]
[ "$(curve_colours "$out/loss.svg")" -eq 2 ]
grep '<polyline' "$out/pairs.svg" | sed -n 1p | grep -vq dasharray
grep '<polyline' "$out/pairs.svg" | sed -n 2p | grep -q dasharray
if grep '<polyline' "$out/loss.svg" | grep -q dasharray; then
    echo "a dashed curve in a plot without --pairs"
    exit 1
fi
# Past the ten colours the eleventh run takes the first colour, dashed.
"$selfsup" plot "$out/ticks" "$out/ticks" "$out/ticks" "$out/ticks" \
    "$out/ticks" "$out/ticks" "$out/ticks" "$out/ticks" "$out/ticks" \
    "$out/ticks" "$out/ticks" --y loss --x steps --out "$out/many.svg" \
    > /dev/null
[ "$(curve_colours "$out/many.svg")" -eq 10 ]
[ "$(grep '<polyline' "$out/many.svg" | grep -c dasharray)" -eq 1 ]
grep '<polyline' "$out/many.svg" | sed -n 11p | grep -q dasharray
usage_error "--out FILE.svg is required" plot "$out/plain"
usage_error "--x hours is not one of" plot "$out/plain" --x hours \
    --out "$out/x.svg"
usage_error "--y loss is per step" plot "$out/plain" --y loss --x epochs \
    --out "$out/x.svg"
# A run without kNN records is named, and nothing is written.
status=0
"$selfsup" plot "$out/plain" --out "$out/knn.svg" > /dev/null 2> "$out/err" ||
    status=$?
[ "$status" -eq 1 ] && [ ! -e "$out/knn.svg" ]
grep -qF 'plain/metrics.jsonl has no "eval" record with "knn_top1"' "$out/err"

# --precision: auto is bf16 where the CPU has bf16 instructions and f32
# where oneDNN may not use them (ONEDNN_MAX_CPU_ISA=AVX2 stands in for such
# a CPU); the training line names the encoder's precision, the export is
# f32 either way, and a resumed run keeps the precision it ran in.
# shellcheck source=auto_precision.sh
. "$(dirname "$0")/auto_precision.sh"
want=$auto_precision
tiny="--epochs 1 --limit 512 --batch 64 --eval-every 0 --threads 1"
# shellcheck disable=SC2086
"$selfsup" train $tiny --out "$out/p_auto" > "$out/p_auto.txt"
grep -q "^training groco on resnet18:.*precision=$want:" "$out/p_auto.txt"
# BYOL's recipe follows auto as every method's does; --precision f32
# overrides it.
# shellcheck disable=SC2086
"$selfsup" train $tiny --method byol --out "$out/p_byol" > "$out/p_byol.txt"
grep -q "^training byol on resnet18:.*precision=$want:" "$out/p_byol.txt"
# shellcheck disable=SC2086
"$selfsup" train $tiny --method byol --precision f32 \
    --out "$out/p_byol_f32" > "$out/p_byol_f32.txt"
grep -q "^training byol on resnet18:.*precision=f32:" "$out/p_byol_f32.txt"
# shellcheck disable=SC2086
ONEDNN_MAX_CPU_ISA=AVX2 "$selfsup" train $tiny --out "$out/p_avx2" \
    > "$out/p_avx2.txt"
grep -q "^training groco on resnet18:.*precision=f32:" "$out/p_avx2.txt"
"$selfsup" eval --checkpoint "$out/p_auto/encoder.ckpt" --limit 512 \
    --no-probe --no-baselines --threads 1 > "$out/p_eval.txt"
grep -q "^encoder resnet18:.*precision=f32 from" "$out/p_eval.txt"
usage_error "--precision bf16 differs from the checkpoint's precision = f32" \
    train --resume "$out/p_avx2/last.ckpt" --precision bf16 \
    --out "$out/p_avx2"
status=0
# shellcheck disable=SC2086
ONEDNN_MAX_CPU_ISA=AVX2 "$selfsup" train $tiny --precision bf16 \
    --out "$out/p_bf16" > /dev/null 2> "$out/err" || status=$?
[ "$status" -eq 1 ]
grep -qF "precision=bf16 needs oneDNN's AVX-512 kernels, but this CPU runs oneDNN at avx2" "$out/err"
status=0
"$selfsup" train --precision half --out "$out/x" > /dev/null 2> "$out/err" ||
    status=$?
[ "$status" -eq 1 ]
grep -qF 'precision = "half" is not auto, f32 or bf16' "$out/err"
