#!/bin/sh
# Experiment 1 of docs/experiments.md: each method's anti-collapse mechanism
# removed, beside its normal recipe -- SimSiam without its stop-gradient,
# BYOL without its predictor, VICReg without its variance term and without
# its covariance term -- with the loss, the std of the normalised
# embeddings, the effective rank and kNN over training, as SVG plots and a
# table.
#
# usage: collapse.sh SELFSUP OUT [EPOCHS] [IMAGES] [THREADS]
#   SELFSUP  the selfsup program (build/release/examples/selfsup)
#   OUT      a folder for the runs, the plots (OUT/collapse_*.svg) and the
#            table (OUT/collapse.md)
#   EPOCHS   3 by default; IMAGES the first N training images (10000; 60000
#            is the full scale), THREADS 2
# The default scale takes about 15 minutes on two cores.
set -eu
selfsup=$1
out=$2
epochs=${3:-3}
images=${4:-10000}
threads=${5:-2}
mkdir -p "$out"

# A run that finished before is kept, so the script can be run again after
# an interruption.
run() {
    name=$1
    shift
    [ -f "$out/$name/encoder.ckpt" ] && return 0
    echo "training $name"
    "$selfsup" train --epochs "$epochs" --limit "$images" --eval-every 1 \
        --threads "$threads" "$@" --out "$out/$name" > "$out/$name.log" 2>&1
}
run simsiam --method simsiam
run simsiam_no_stop_gradient --method simsiam --set "stop_gradient=0"
run byol --method byol
run byol_no_predictor --method byol --set "predictor=none"
run vicreg --method vicreg
run vicreg_no_variance --method vicreg --objective "vicreg:var=0"
run vicreg_no_covariance --method vicreg --objective "vicreg:cov=0"

runs="simsiam simsiam_no_stop_gradient byol byol_no_predictor vicreg
      vicreg_no_variance vicreg_no_covariance"
dirs=""
for r in $runs; do dirs="$dirs $out/$r"; done
for y in knn collapse rankme loss; do
    # shellcheck disable=SC2086
    "$selfsup" plot $dirs --x steps --y "$y" --title "collapse: $y" \
        --out "$out/collapse_$y.svg" > /dev/null
done

# The last evaluation and the last step of each run.
last() { grep "\"type\": \"$2\"" "$1/metrics.jsonl" | tail -n 1; }
field() { sed -n "s/.*\"$1\": \([-0-9.e]*\).*/\1/p"; }
{
    echo "| run | kNN top-1 | effective rank | std of normalised embeddings | loss |"
    echo "|---|---|---|---|---|"
    for r in $runs; do
        e=$(last "$out/$r" eval)
        s=$(last "$out/$r" step)
        printf '| %s | %s | %s | %s | %s |\n' "$r" \
            "$(echo "$e" | field knn_top1)" "$(echo "$e" | field rankme)" \
            "$(echo "$s" | field collapse_std)" "$(echo "$s" | field loss)"
    done
} > "$out/collapse.md"
cat "$out/collapse.md"
