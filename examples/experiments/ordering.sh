#!/bin/sh
# Experiment 4 of docs/experiments.md: ordering. GroCo's claim that
# asking every positive to rank above every hardest negative (a
# differentiable sorting network over the similarities) beats SimCLR's
# softmax over the same pairs, at an equal budget (the same epochs; the
# table gives each run's minutes), and GroCo's own ablations: the sorting
# network (odd-even, bitonic), the comparator's relaxation (cauchy,
# logistic, optimal), its steepness and the number of hardest negatives.
# Every GroCo run is the program's recipe (steepness 16, 10 negatives,
# odd-even, cauchy) with one thing changed.
#
# usage: ordering.sh SELFSUP OUT [EPOCHS] [IMAGES] [THREADS]
#   SELFSUP  the selfsup program (build/release/examples/selfsup)
#   OUT      a folder for the runs, the plots (OUT/ordering_*.svg) and the
#            table (OUT/ordering.md)
#   EPOCHS   3 by default; IMAGES the first N training images (10000;
#            60000 is the full scale); THREADS 2
# The default scale takes about 16 minutes on two cores (docs/experiments.md).
set -eu
selfsup=$1
out=$2
epochs=${3:-3}
images=${4:-10000}
threads=${5:-2}
mkdir -p "$out"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

run simclr --method simclr
run groco --method groco
ablation() {
    name=$1
    shift
    run "$name" --method groco --objective "groco:$1"
}
ablation groco_bitonic steepness=16,network=bitonic
ablation groco_logistic steepness=16,relax=logistic
ablation groco_optimal steepness=16,relax=optimal
ablation groco_steepness1 steepness=1
ablation groco_steepness4 steepness=4
ablation groco_steepness64 steepness=64
ablation groco_topk5 steepness=16,topk=5
ablation groco_topk20 steepness=16,topk=20

runs="simclr groco groco_bitonic groco_logistic groco_optimal
      groco_steepness1 groco_steepness4 groco_steepness64 groco_topk5
      groco_topk20"
for r in $runs; do
    evaluate "$r" "$out/$r/encoder.ckpt" --no-baselines
done
plot ordering_knn epochs knn "GroCo against SimCLR: kNN" simclr groco
plot ordering_ablations_knn epochs knn "GroCo's ablations: kNN" groco \
    groco_bitonic groco_logistic groco_optimal groco_steepness1 \
    groco_steepness4 groco_steepness64 groco_topk5 groco_topk20
plot ordering_margin steps margin "GroCo: smallest positive - largest negative" \
    groco groco_steepness1 groco_steepness64 groco_topk5 groco_topk20

{
    echo "| run | kNN (%) | linear (%) | kNN whitened (%) | minutes |"
    echo "|---|---|---|---|---|"
    for r in $runs; do
        s=$(metric "$out/$r" step seconds)
        printf '| %s | %s | %s | %s | %s |\n' "$r" \
            "$(json_field "$out/$r.json" knn_top1)" \
            "$(json_field "$out/$r.json" linear_top1)" \
            "$(json_field "$out/$r.json" knn_white_top1)" \
            "$(awk "BEGIN { printf \"%.1f\", $s / 60 }")"
    done
} > "$out/ordering.md"
cat "$out/ordering.md"
