#!/bin/sh
# Fails if the shared library exports anything but selfsup_* (or internal
# selfsup__* helpers), or references exit/abort/assert: a library must never
# end its host program.
set -eu
lib=$1
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBRVW]/ {print $3}' |
           sed 's/@.*//')
[ -n "$exported" ] || { echo "no exported symbols in $lib"; exit 1; }
bad=$(printf '%s\n' "$exported" | grep -v '^selfsup_' || true)
internal=$(printf '%s\n' "$exported" | grep '^selfsup__' || true)
if [ -n "$bad$internal" ]; then
    echo "symbols outside the public API are exported:"
    printf '%s\n' $bad $internal
    exit 1
fi
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = "libselfsup.so.0" ] || { echo "SONAME is '$soname'"; exit 1; }
calls=$(nm -D --undefined-only "$lib" | awk '{print $2}' | sed 's/@.*//' |
        grep -E '^(exit|_exit|_Exit|abort|__assert_fail|quick_exit)$' || true)
if [ -n "$calls" ]; then
    echo "the library references process-ending functions: $calls"
    exit 1
fi
echo "$(printf '%s\n' "$exported" | wc -l) symbols exported, all selfsup_*;" \
     "SONAME $soname; no exit/abort"
