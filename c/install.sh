#!/bin/sh
# Builds and installs the tardy C library with cargo-c:
#
#   sh c/install.sh [PREFIX] [cargo cinstall options]
#   sh c/install.sh --prefix PREFIX [cargo cinstall options]
#
# runs `cargo cinstall --release --features capi --prefix PREFIX` with the
# options given (--libdir, --includedir, --library-type staticlib, ...) and
# turns a DESTDIR in the environment into --destdir (a staged install, as
# with make). It installs, LIBDIR being PREFIX/lib unless --libdir says
# otherwise:
#
#   LIBDIR/libtardy.so.0.1.0 (SONAME libtardy.so.0.1), libtardy.so.0.1 and
#   libtardy.so (links), LIBDIR/libtardy.a, PREFIX/include/tardy.h,
#   LIBDIR/pkgconfig/tardy.pc
#
# PREFIX defaults to /usr/local. cargo-c alone would pick lib/<multiarch
# triple> as LIBDIR on Debian; this script keeps PREFIX/lib for every
# system (pass --libdir to choose). Needs cargo-c, pinned:
#
#   cargo install cargo-c --version 0.10.24 --locked
set -eu
cd "$(dirname "$0")/.."

if ! cargo cinstall --help >/dev/null 2>&1; then
    echo "install.sh: cargo-c is not installed; install it with" >&2
    echo "  cargo install cargo-c --version 0.10.24 --locked" >&2
    exit 1
fi

prefix=/usr/local
case "${1:-}" in
    "" | -*) ;;
    *) prefix=$1; shift ;;
esac
libdir=lib
for arg in "$@"; do
    case "$arg" in
        --prefix | --prefix=*) prefix= ;;
        --libdir | --libdir=*) libdir= ;;
    esac
done
set -- ${prefix:+--prefix "$prefix"} ${libdir:+--libdir "$libdir"} "$@"
if [ -n "${DESTDIR:-}" ]; then
    set -- --destdir "$DESTDIR" "$@"
fi
exec cargo cinstall --release --features capi "$@"
