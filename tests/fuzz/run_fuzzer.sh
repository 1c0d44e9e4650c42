#!/bin/sh
# Runs a libFuzzer target for a bounded time on a scratch copy of its seed
# corpus (the committed corpus is never modified by a run). No input of
# at most 4096 bytes has a reason to allocate 64 MB at once: a single
# larger allocation is reported as the finding, with its input, instead of
# surfacing later as an RSS limit that ASan's quarantine reaches.
set -eu
fuzzer=$1 corpus=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=64 \
    -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$work/" "$work"
