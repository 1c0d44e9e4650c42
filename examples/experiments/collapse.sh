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
# The default scale takes about 13 minutes on two cores (docs/experiments.md).
set -eu
selfsup=$1
out=$2
epochs=${3:-3}
images=${4:-10000}
threads=${5:-2}
mkdir -p "$out"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

run simsiam --method simsiam
run simsiam_no_stop_gradient --method simsiam --set "stop_gradient=0"
run byol --method byol
run byol_no_predictor --method byol --set "predictor=none"
run vicreg --method vicreg
run vicreg_no_variance --method vicreg --objective "vicreg:var=0"
run vicreg_no_covariance --method vicreg --objective "vicreg:cov=0"

runs="simsiam simsiam_no_stop_gradient byol byol_no_predictor vicreg
      vicreg_no_variance vicreg_no_covariance"
for y in knn collapse rankme loss; do
    # shellcheck disable=SC2086
    plot "collapse_$y" steps "$y" "collapse: $y" $runs
done

# The last evaluation and the last step of each run.
{
    echo "| run | kNN top-1 (%) | effective rank | std of normalised embeddings | loss |"
    echo "|---|---|---|---|---|"
    for r in $runs; do
        printf '| %s | %s | %s | %s | %s |\n' "$r" \
            "$(metric "$out/$r" eval knn_top1)" \
            "$(metric "$out/$r" eval rankme)" \
            "$(metric "$out/$r" step collapse_std)" \
            "$(metric "$out/$r" step loss)"
    done
} > "$out/collapse.md"
cat "$out/collapse.md"
