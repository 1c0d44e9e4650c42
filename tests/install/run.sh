#!/bin/sh
set -eu
build=$1 src=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"

libdir=$(find "$prefix" -name libselfsup.so.0 -exec dirname {} \; | head -n1)
[ -f "$libdir/libselfsup.a" ] || { echo "static library not installed"; exit 1; }
[ -f "$prefix/include/selfsup/selfsup.h" ] || { echo "headers missing"; exit 1; }

echo "== pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --modversion selfsup)" = "$(sed -n 's/^#define SELFSUP_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' "$src/include/selfsup/version.h" | paste -sd.)" ]
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror -o "$tmp/via_pkgconfig" \
    "$src/examples/tensor_basics.c" $(pkg-config --cflags --libs selfsup) \
    -Wl,-rpath,"$libdir"
"$tmp/via_pkgconfig"

echo "== find_package(selfsup)"
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DSELFSUP_EXAMPLE="$src/examples/tensor_basics.c" > "$tmp/configure.log"
cmake --build "$tmp/consumer" > "$tmp/build.log"
"$tmp/consumer/consumer_shared"
"$tmp/consumer/consumer_static"
echo "installed package works through pkg-config and find_package"
