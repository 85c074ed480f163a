#!/bin/sh
# Builds libtardy.a and libtardy.so (release) and installs them with
# tardy.h and tardy.pc under PREFIX (default /usr/local):
#
#   sh ffi/install.sh [PREFIX]
#
#   PREFIX/lib/libtardy.a, PREFIX/lib/libtardy.so,
#   PREFIX/include/tardy.h, PREFIX/lib/pkgconfig/tardy.pc
#
# Honours CARGO_TARGET_DIR. Needs cargo, sed and install.
set -eu
prefix=${1:-/usr/local}
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}

# The libraries, and the system libraries a static link needs (rustc's
# native-static-libs note).
native=$(cargo rustc --lib --release --features capi --crate-type staticlib,cdylib \
    -- --print native-static-libs 2>&1 | sed -n 's/.*native-static-libs: //p' | tail -n 1)
[ -n "$native" ] || { echo "install.sh: the library build failed" >&2; exit 1; }
version=$(sed -n 's/^#define TARDY_VERSION "\(.*\)"$/\1/p' include/tardy.h)

install -d "$prefix/lib/pkgconfig" "$prefix/include"
install -m 644 "$target/release/libtardy.a" "$prefix/lib/libtardy.a"
install -m 755 "$target/release/libtardy.so" "$prefix/lib/libtardy.so"
install -m 644 include/tardy.h "$prefix/include/tardy.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@NATIVE_LIBS@|$native|" \
    ffi/tardy.pc.in >"$prefix/lib/pkgconfig/tardy.pc"
echo "installed tardy $version under $prefix"
