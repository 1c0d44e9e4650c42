# shellcheck shell=sh disable=SC2154
# Shared by the experiment scripts (sourced, not run): training a run,
# evaluating a checkpoint, reading their figures back and plotting. The
# script sets selfsup (the program), out (its folder), epochs, images (the
# first N training images) and threads before using them.

# run NAME ARGS...: `selfsup train` into OUT/NAME with the script's scale
# and the ARGS. A run that finished before is kept, so a script can be run
# again after an interruption.
run() {
    name=$1
    shift
    [ -f "$out/$name/encoder.ckpt" ] && return 0
    echo "training $name"
    "$selfsup" train --epochs "$epochs" --limit "$images" --eval-every 1 \
        --threads "$threads" "$@" --out "$out/$name" > "$out/$name.log" 2>&1
}

# evaluate NAME CHECKPOINT ARGS...: `selfsup eval --json` of CHECKPOINT
# into OUT/NAME.json (kept if there), bank and probe on the training images
# the runs used unless ARGS says otherwise.
evaluate() {
    name=$1
    checkpoint=$2
    shift 2
    [ -s "$out/$name.json" ] && return 0
    echo "evaluating $name"
    "$selfsup" eval --checkpoint "$checkpoint" --limit "$images" --json \
        --threads "$threads" "$@" > "$out/$name.json.tmp" 2> "$out/$name.err"
    mv "$out/$name.json.tmp" "$out/$name.json"
}

# json_field FILE KEY: a number of a one-line JSON object, as a percentage
# when it is a top-1 fraction ("-" when absent or null).
json_field() {
    v=$(sed -n "s/.*\"$2\": \([-0-9.e]*\).*/\1/p" "$1")
    case $2 in
    *top1) [ -n "$v" ] && v=$(awk "BEGIN { printf \"%.2f\", 100 * $v }") ;;
    esac
    echo "${v:--}"
}

# last RUN TYPE: the last metrics line of a type (eval or step) of a run.
last() { grep "\"type\": \"$2\"" "$1/metrics.jsonl" | tail -n 1; }

# metric RUN TYPE KEY: that line's value of KEY.
metric() {
    last "$1" "$2" > "$out/.last.json"
    json_field "$out/.last.json" "$3"
}

# plot NAME X Y TITLE RUN...: `selfsup plot` of the runs into OUT/NAME.svg.
plot() {
    name=$1
    x=$2
    y=$3
    title=$4
    shift 4
    dirs=""
    for r in "$@"; do dirs="$dirs $out/$r"; done
    # shellcheck disable=SC2086
    "$selfsup" plot $dirs --x "$x" --y "$y" --title "$title" \
        --out "$out/$name.svg" > /dev/null
}
