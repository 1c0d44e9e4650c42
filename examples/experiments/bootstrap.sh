#!/bin/sh
# Experiment 2 of docs/experiments.md: bootstrapping. BYOL's claim that an
# online network trained to predict a *frozen, randomly initialised*
# target learns features better than the target's own: the target's
# moving-average momentum set to 1 (`--set ema_base=1`: it never moves from
# the initialisation it shares with the online network), beside BYOL with
# its usual moving average. Both networks are probed as trained (global
# pooling, last.ckpt), with every training label and with the first
# LABELS only (a weaker probe, where what the features give matters more).
#
# usage: bootstrap.sh SELFSUP OUT [EPOCHS] [IMAGES] [THREADS] [LABELS]
#   SELFSUP  the selfsup program (build/release/examples/selfsup)
#   OUT      a folder for the runs, the plot (OUT/bootstrap_knn.svg) and
#            the table (OUT/bootstrap.md)
#   EPOCHS   3 by default; IMAGES the first N training images (10000;
#            60000 is the full scale); THREADS 2; LABELS 1000
# The default scale takes about 6 minutes on two cores (docs/experiments.md).
set -eu
selfsup=$1
out=$2
epochs=${3:-3}
images=${4:-10000}
threads=${5:-2}
labels=${6:-1000}
mkdir -p "$out"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

run byol --method byol
run byol_random_target --method byol --set "ema_base=1"

# The frozen target itself (--network target.encoder): the initial network
# the online one started from, its batch-norm statistics those of the views
# it embedded. (The evaluation's random-init row is another draw.)
evaluate random_target "$out/byol_random_target/last.ckpt" \
    --network target.encoder --no-baselines
evaluate random_target_few "$out/byol_random_target/last.ckpt" \
    --network target.encoder --no-baselines --limit "$labels"
# With the baselines: the evaluation's random-init row, the architecture
# drawn again with batch-norm statistics at their initial values (mean 0,
# variance 1), where the frozen target's are those of the data.
evaluate online_random_target "$out/byol_random_target/last.ckpt"
evaluate online_random_target_few "$out/byol_random_target/last.ckpt" \
    --limit "$labels"
evaluate byol "$out/byol/last.ckpt" --no-baselines
evaluate byol_few "$out/byol/last.ckpt" --no-baselines --limit "$labels"

plot bootstrap_knn epochs knn "bootstrapping: kNN" byol byol_random_target

row() {
    printf '| %s | %s | %s | %s | %s |\n' "$1" \
        "$(json_field "$out/$2.json" "${3}knn_top1")" \
        "$(json_field "$out/$2.json" "${3}linear_top1")" \
        "$(json_field "$out/${2}_few.json" "${3}knn_top1")" \
        "$(json_field "$out/${2}_few.json" "${3}linear_top1")"
}
{
    echo "| network | kNN, $images labels (%) | linear, $images labels (%) | kNN, $labels labels (%) | linear, $labels labels (%) |"
    echo "|---|---|---|---|---|"
    row "random network (the frozen target)" random_target ""
    row "online network trained to predict it" online_random_target ""
    row "BYOL (moving-average target)" byol ""
    row "random init, initial batch-norm statistics (another draw)" \
        online_random_target random_
} > "$out/bootstrap.md"
cat "$out/bootstrap.md"
