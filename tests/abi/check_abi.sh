#!/bin/sh
# Compares the built library with the committed baseline. Only additions are
# compatible: any removed or changed function or variable (a parameter or
# return type, a struct reachable from the API, an enum's values) fails, even
# where abidiff itself calls the change "compatible" (it reports int64_t ->
# int as status 4, not 8). A deliberate change rewrites the baseline with
# `cmake --build BUILD -t abi-baseline` in a commit of its own.
abidiff=$1 baseline=$2 lib=$3 headers=$4
report=$("$abidiff" --headers-dir2 "$headers" "$baseline" "$lib")
rc=$?
printf '%s\n' "$report"
if [ $((rc & 3)) -ne 0 ]; then
    echo "abidiff could not compare (status $rc)"
    exit 1
fi
# Lines such as "Functions changes summary: 0 Removed, 1 Changed, 2 Added".
broken=$(printf '%s\n' "$report" |
         grep -E 'summary: ' |
         grep -E '[1-9][0-9]* Removed|[1-9][0-9]* Changed' || true)
if [ $((rc & 8)) -ne 0 ] || [ -n "$broken" ]; then
    echo "ABI change beyond additions against $baseline"
    exit 1
fi
echo "ABI compatible with the baseline (abidiff status $rc)"
