#!/bin/sh
# Experiment 3 of docs/experiments.md: batch size. The claim that methods
# without negatives (BYOL, SimSiam, VICReg) hold up at small batches where
# a contrastive one (SimCLR: its negatives are the rest of the batch) does
# not. Every method at batches 32 to 512 for the same epochs, the learning
# rate scaled as each recipe says (lr x batch / lr_batch: linear).
#
# usage: batch_size.sh SELFSUP OUT [EPOCHS] [IMAGES] [THREADS]
#   SELFSUP  the selfsup program (build/release/examples/selfsup)
#   OUT      a folder for the runs, the plots (OUT/batch_size_METHOD.svg)
#            and the table (OUT/batch_size.md)
#   EPOCHS   2 by default; IMAGES the first N training images (10000;
#            60000 is the full scale); THREADS 2
# The default scale takes about 26 minutes on two cores (docs/experiments.md).
set -eu
selfsup=$1
out=$2
epochs=${3:-2}
images=${4:-10000}
threads=${5:-2}
mkdir -p "$out"

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

methods="simclr byol simsiam vicreg"
batches="32 64 128 256 512"
for m in $methods; do
    for b in $batches; do
        run "${m}_b$b" --method "$m" --batch "$b"
    done
done

for m in $methods; do
    runs=""
    for b in $batches; do runs="$runs ${m}_b$b"; done
    # shellcheck disable=SC2086
    plot "batch_size_$m" epochs knn "$m: kNN at batch 32 to 512" $runs
done

{
    printf '| method |'
    for b in $batches; do printf ' batch %s |' "$b"; done
    printf '\n|---|'
    for b in $batches; do printf -- '---|'; done
    printf '\n'
    for m in $methods; do
        printf '| %s |' "$m"
        for b in $batches; do
            printf ' %s |' "$(metric "$out/${m}_b$b" eval knn_top1)"
        done
        printf '\n'
    done
} > "$out/batch_size.md"
cat "$out/batch_size.md"
