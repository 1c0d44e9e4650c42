#!/bin/sh
# Every public function that returns a status fails at least once under
# ss_assert_fails somewhere in the suites, which checks that its message
# starts with its own name (tests/support/test_support.c). A new public
# function without such a test fails here, by name.
# Usage: check_entry_names.sh INCLUDE_DIR TESTS_DIR
set -eu
include=$1
tests=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat "$include"/*.h | tr '\n' ' ' |
    grep -o 'SELFSUP_API *selfsup_status *selfsup_[a-z0-9_]*' |
    awk '{ print $3 }' | sort -u > "$work/public"
find "$tests" -name '*.c' -exec cat {} + | tr '\n' ' ' |
    grep -o 'ss_assert_fails( *selfsup_[a-z0-9_]*(' |
    sed 's/^ss_assert_fails( *//; s/($//' | sort -u > "$work/failed"

[ "$(wc -l < "$work/public")" -gt 50 ] || {
    echo "found only $(wc -l < "$work/public") public functions in $include"
    exit 1
}
missing=$(comm -23 "$work/public" "$work/failed")
if [ -n "$missing" ]; then
    echo "public functions no suite fails through ss_assert_fails:"
    echo "$missing"
    exit 1
fi
echo "$(wc -l < "$work/public") public functions, each failed under test"
