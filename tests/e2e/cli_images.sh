#!/bin/sh
# Your own images through the program: Fashion-MNIST images written as an
# ImageFolder of PNGs train, evaluate and embed, and give the same numbers
# as the same pixels in IDX files (the same order, so the same batches):
# identical losses, kNN and evaluation table.
# usage: cli_images.sh SELFSUP MAKE_IMAGE_FOLDER
set -eu
selfsup=$1
make_folder=$2
. "$(dirname "$0")/common.sh"

"$make_folder" "$data" "$out/d" 1200 300
png="folder:path=$out/d/png,size=28,channels=1"
for form in idx png; do
    case $form in idx) src=$out/d/idx ;; png) src=$png ;; esac
    "$selfsup" train --data "$src" --epochs 1 --batch 64 --threads 2 \
        --eval-every 1 --out "$out/$form" > "$out/$form.log"
    "$selfsup" eval --data "$src" --checkpoint "$out/$form/encoder.ckpt" \
        --json --threads 2 > "$out/$form.json"
done
# every step's loss and the kNN figures, bit for bit
strip() { sed 's/"seconds": [0-9.]*//; s/"images_per_s": [0-9.]*//' "$1"; }
strip "$out/idx/metrics.jsonl" > "$out/idx.m"
strip "$out/png/metrics.jsonl" > "$out/png.m"
cmp "$out/idx.m" "$out/png.m" || {
    echo "FAIL: training on the PNG folder differs from the IDX files"
    diff "$out/idx.m" "$out/png.m" | head
    exit 1
}
sed 's/"checkpoint": "[^"]*"//' "$out/idx.json" > "$out/idx.j"
sed 's/"checkpoint": "[^"]*"//' "$out/png.json" > "$out/png.j"
cmp "$out/idx.j" "$out/png.j" || {
    echo "FAIL: the evaluations differ"; cat "$out/idx.json" "$out/png.json"
    exit 1
}
grep -q '"knn_top1"' "$out/png.json"
# the run kept its decoded splits beside its output (IDX needs none)
[ -s "$out/png/train-images.cache" ] && [ -s "$out/png/test-images.cache" ] ||
    { echo "FAIL: no decode cache beside the output"; ls "$out/png"; exit 1; }
[ ! -e "$out/idx/train-images.cache" ]

# embed a collection: features, labels and the files in row order
"$selfsup" embed --checkpoint "$out/png/encoder.ckpt" --input "$png" \
    --output "$out/f.npy" --labels-output "$out/l.npy" > "$out/embed.log"
rows=$(wc -l < "$out/f.paths.txt")
[ "$rows" -eq 1200 ] || { echo "FAIL: $rows paths, not 1200"; exit 1; }
head -n 1 "$out/f.paths.txt" | grep -q "/png/train/0/" ||
    { echo "FAIL: the first row is not class 0's"; exit 1; }
[ -s "$out/f.npy" ] && [ -s "$out/l.npy" ]

# a damaged file: refused by name, or skipped with a warning
printf 'not a png' > "$out/d/png/train/3/zz_bad.png"
if "$selfsup" train --data "$png" --epochs 1 --batch 64 --threads 2 \
    --eval-every 0 --out "$out/bad" > "$out/bad.log" 2>&1; then
    echo "FAIL: a damaged PNG was accepted"; exit 1
fi
grep -q "zz_bad.png: not a PNG or JPEG" "$out/bad.log" ||
    { echo "FAIL: the message does not name the file"; cat "$out/bad.log"; exit 1; }
"$selfsup" train --data "$png" --skip-bad --epochs 1 --batch 64 --threads 2 \
    --eval-every 0 --out "$out/skip" > "$out/skip.log" 2>&1
grep -q "warning: skipped .*zz_bad.png" "$out/skip.log" ||
    { echo "FAIL: no warning for the skipped file"; cat "$out/skip.log"; exit 1; }
echo "ok: the PNG folder trains, evaluates and embeds as the IDX files do"
