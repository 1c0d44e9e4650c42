#!/bin/sh
# Short self-supervised run on a subset, then kNN against the random-init
# encoder of the same architecture on the full 10000-image test split.
set -eu
selfsup=$1
. "$(dirname "$0")/common.sh"

method=${SELFSUP_E2E_METHOD:-vicreg}
limit=${SELFSUP_E2E_LIMIT:-8192}
epochs=${SELFSUP_E2E_EPOCHS:-3}
margin=${SELFSUP_E2E_MARGIN:-0.02}

"$selfsup" train --method "$method" --limit "$limit" --epochs "$epochs" \
    --batch 256 --eval-every 0 --seed 1 --threads 2 --out "$out/run" \
    > "$out/train.log"
tail -n 3 "$out/train.log"
"$selfsup" eval --checkpoint "$out/run/encoder.ckpt" --limit 256 --no-probe \
    --no-baselines --threads 2 | grep -q "in_channels=1,grid=2,precision=f32"
"$selfsup" eval --checkpoint "$out/run/encoder.ckpt" --limit "$limit" \
    --no-probe --json --threads 2 > "$out/eval.json"
cat "$out/eval.json"

# The JSON holds knn_top1 and random_knn_top1; awk does the comparison.
awk -v margin="$margin" '
    {
        for (i = 1; i <= NF; i++) {
            if ($i == "\"knn_top1\":") trained = $(i + 1) + 0
            if ($i == "\"random_knn_top1\":") random = $(i + 1) + 0
        }
    }
    END {
        printf "trained kNN %.4f, random init %.4f, margin %.4f (need %.4f)\n",
               trained, random, trained - random, margin
        exit !(trained - random >= margin)
    }' "$out/eval.json"

# The effective rank of every row's test features: above 1 (no collapse)
# and at most the features' width (512 for the grid, 784 for pixels).
awk '
    {
        for (i = 1; i <= NF; i++) {
            if ($i == "\"rankme\":") trained = $(i + 1) + 0
            if ($i == "\"pixels_rankme\":") pixels = $(i + 1) + 0
        }
    }
    END {
        printf "effective rank: trained %.1f of 512, pixels %.1f of 784\n",
               trained, pixels
        exit !(trained > 1 && trained <= 512 && pixels > 1 && pixels <= 784)
    }' "$out/eval.json"

# Raw [0, 1] pixels of the same 8192-image bank: 0.7207 in float64 numpy
# (tests/reference/pixels_knn.py --limit 8192); float32 may flip a few ties.
awk '
    {
        for (i = 1; i <= NF; i++)
            if ($i == "\"pixels01_knn_top1\":") pixels = $(i + 1) + 0
    }
    END {
        printf "raw [0,1] pixels kNN %.4f (reference 0.7207)\n", pixels
        exit !(pixels > 0.7197 && pixels < 0.7217)
    }' "$out/eval.json"

# The same pixels standardised and PCA-whitened with the bank's statistics:
# 0.8519 in float64 numpy (pixels_knn.py --limit 8192 --whiten); the
# library's covariance is summed from float32 products, and the whitening
# scales its smallest components by up to 1 / sqrt(1e-5) of the largest,
# so a few more rows may flip.
awk '
    {
        for (i = 1; i <= NF; i++)
            if ($i == "\"pixels_knn_white_top1\":") pixels = $(i + 1) + 0
    }
    END {
        printf "whitened pixels kNN %.4f (reference 0.8519)\n", pixels
        exit !(pixels > 0.8494 && pixels < 0.8544)
    }' "$out/eval.json"

# The export records the training normalisation and `selfsup embed` uses it
# (it notes on stderr when an export has none): all test images, one row
# each, in a .npy file.
"$selfsup" embed --checkpoint "$out/run/encoder.ckpt" \
    --input "$data/t10k-images-idx3-ubyte.gz" --output "$out/test.npy" \
    --threads 2 > "$out/embed.log" 2> "$out/embed.err"
cat "$out/embed.log"
if [ -s "$out/embed.err" ]; then
    echo "selfsup embed wrote to stderr:"
    cat "$out/embed.err"
    exit 1
fi
# The export embeds with the last map in 2x2 cells (512 features) and
# whitens them keeping all 512 components.
grep -q "wrote $out/test.npy: 10000 x 512 float32 (whitened)" "$out/embed.log"
"$selfsup" embed --raw --checkpoint "$out/run/encoder.ckpt" \
    --input "$data/t10k-images-idx3-ubyte.gz" --output "$out/raw.npy" \
    --threads 2 > "$out/embed_raw.log"
grep -q "wrote $out/raw.npy: 10000 x 512 float32$" "$out/embed_raw.log"
if cmp -s "$out/test.npy" "$out/raw.npy"; then
    echo "embed --raw wrote the same features as the whitened embed"
    exit 1
fi
[ "$(head -c 6 "$out/test.npy" | tail -c 5)" = NUMPY ]

# A warm start: a new run from the export begins where the first one ended.
# Its step-0 kNN (the monitor: the same bank, 2x2 grid and protocol) is the
# export's own figure from `selfsup eval` above, to the printed digit.
"$selfsup" train --method "$method" --limit "$limit" --epochs 1 --batch 256 \
    --seed 2 --threads 2 --init-encoder "$out/run/encoder.ckpt" \
    --time-budget 0.000001 --out "$out/warm" > "$out/warm.log"
grep "kNN top-1 at the start (--init-encoder)" "$out/warm.log"
awk '
    FNR == NR {
        for (i = 1; i <= NF; i++)
            if ($i == "\"knn_top1\":") want = $(i + 1)
        next
    }
    /"type": "eval", "step": 0,/ {
        for (i = 1; i <= NF; i++)
            if ($i == "\"knn_top1\":") got = $(i + 1)
    }
    END {
        sub(/,$/, "", want)
        sub(/,$/, "", got)
        printf "warm start at kNN %s, the export %s\n", got, want
        exit !(got != "" && got == want)
    }' "$out/eval.json" "$out/warm/metrics.jsonl"
if "$selfsup" train --limit 512 --init-encoder "$out/run/encoder.ckpt" \
    --resume "$out/run/last.ckpt" --out "$out/both" 2> "$out/both.err"; then
    echo "--init-encoder with --resume was accepted"
    exit 1
fi
grep -q "give one of them" "$out/both.err"
