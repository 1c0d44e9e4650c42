#!/bin/sh
# The selfsup program's options: --help on every subcommand, usage errors
# that name the option, and --set reaching the learner (a warmup set with
# --set lowers the first step's learning rate).
set -eu
selfsup=$1
data=/usr/share/datasets/fashion-mnist
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for cmd in train eval embed bench demo; do
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
run plain
run warm --set "warmup_fraction=0.5;predictor=mlp:hidden=64,out=256,layers=2"
plain=$(first_lr "$out/plain")
warm=$(first_lr "$out/warm")
echo "first-step lr: $plain without a warmup, $warm with warmup_fraction 0.5"
awk -v a="$plain" -v b="$warm" 'BEGIN { exit !(a > 0 && b >= 0 && b < a / 1.9) }'
