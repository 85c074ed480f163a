#!/usr/bin/env bash
# The C library as a C user gets it: installs tardy with cargo-c into
# temporary prefixes and builds the README's C example (the first ```c block
# of its "C" section) against each install:
#
#   1. a staged install (DESTDIR=... sh c/install.sh /usr/local): every file
#      under DESTDIR, tardy.pc naming the real prefix;
#   2. `cargo cinstall --prefix P --libdir lib64`: libtardy.so.X.Y.Z with its
#      SONAME and links, libtardy.a, tardy.h (the committed one) and tardy.pc;
#      the header compiles as C99, C11, C17, C2x and C++11 to C++20; the
#      example linked with pkg-config, found through its rpath and through
#      LD_LIBRARY_PATH, and with CMake (pkg_check_modules IMPORTED_TARGET);
#   3. `cargo cinstall --library-type staticlib`: the example linked with
#      `pkg-config --static` and with CMake has no NEEDED libtardy; the sizes
#      of libtardy.a and of the static program with and without
#      -Wl,--gc-sections.
#
# Needs cargo-c 0.10.24, cc, pkg-config, cmake, make and readelf; a missing
# one fails the test. Run from anywhere: bash c/packaging/test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

say() { printf 'packaging: %s\n' "$*"; }
fail() {
    printf 'packaging: FAIL: %s\n' "$*" >&2
    exit 1
}

for tool in cc c++ pkg-config cmake make readelf; do
    command -v "$tool" >/dev/null || fail "$tool is not installed"
done
# `cargo cinstall --version` prints "cargo-c 0.10.24+cargo-0.98.0".
cargo_c=$(cargo cinstall --version 2>/dev/null | sed -n 's/^cargo-c \([0-9.]*\)+.*$/\1/p')
[ "$cargo_c" = 0.10.24 ] ||
    fail "cargo-c 0.10.24 is needed (found: ${cargo_c:-none}): cargo install cargo-c --version 0.10.24 --locked"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
IFS=. read -r major minor patch <<<"$version"
# cargo-c's SONAME: the version part that semver says stays compatible.
if [ "$major" != 0 ]; then
    soversion=$major
elif [ "$minor" != 0 ]; then
    soversion=$major.$minor
else
    soversion=$major.$minor.$patch
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset PKG_CONFIG_PATH

awk '/^## /{ in_c = ($0 == "## C") }
     in_c && /^```c$/ { grab = 1; next }
     grab && /^```$/ { exit }
     grab { print }' README.md >"$tmp/example.c"
[ -s "$tmp/example.c" ] || fail "no C example in the README's C section"
expected='renew example.org (subject 42)'

# needed PROGRAM: its NEEDED entries, one a line.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
# needs PROGRAM LIBRARY: whether PROGRAM has a NEEDED entry LIBRARY.
needs() {
    local list
    list=$(needed "$1")
    grep -qx "$2" <<<"$list"
}

# run_example PROGRAM [env...]: runs it, checks that it succeeds and prints
# the delivered task.
run_example() {
    local exe=$1 out
    shift
    out=$(env "$@" "$exe" 2>&1) || fail "$exe failed: $out"
    grep -qF "$expected" <<<"$out" || fail "$exe printed: $out"
}

say "1. staged install: DESTDIR=$tmp/stage sh c/install.sh /usr/local"
DESTDIR=$tmp/stage sh c/install.sh /usr/local
staged=$tmp/stage/usr/local
for f in lib/libtardy.so."$version" lib/libtardy.a include/tardy.h lib/pkgconfig/tardy.pc; do
    [ -f "$staged/$f" ] || fail "DESTDIR install has no $f"
done
grep -qx 'prefix=/usr/local' "$staged/lib/pkgconfig/tardy.pc" ||
    fail "staged tardy.pc does not name the prefix /usr/local: $(cat "$staged/lib/pkgconfig/tardy.pc")"
say "ok: staged under DESTDIR: $(cd "$tmp/stage" && find . -type f -o -type l | sort | tr '\n' ' ')"

say "2. shared and static: cargo cinstall --release --features capi --prefix $tmp/shared --libdir lib64"
cargo cinstall --release --features capi --prefix "$tmp/shared" --libdir lib64
lib=$tmp/shared/lib64
[ -f "$lib/libtardy.so.$version" ] && [ ! -L "$lib/libtardy.so.$version" ] ||
    fail "no libtardy.so.$version in $lib"
[ "$(readlink "$lib/libtardy.so.$soversion")" = "libtardy.so.$version" ] ||
    fail "libtardy.so.$soversion is not a link to libtardy.so.$version"
[ "$(readlink -f "$lib/libtardy.so")" = "$(readlink -f "$lib/libtardy.so.$version")" ] ||
    fail "libtardy.so does not lead to libtardy.so.$version"
soname=$(readelf -d "$lib/libtardy.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
[ "$soname" = "libtardy.so.$soversion" ] || fail "SONAME is '$soname', not libtardy.so.$soversion"
[ -f "$lib/libtardy.a" ] || fail "no libtardy.a"
cmp include/tardy.h "$tmp/shared/include/tardy.h" || fail "the installed tardy.h is not include/tardy.h"
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion tardy)" = "$version" ] || fail "pkg-config --modversion tardy"
grep -q '^Libs.private: .*-lpthread' "$lib/pkgconfig/tardy.pc" ||
    fail "tardy.pc has no Libs.private with the system libraries"
files=
for f in "$lib"/libtardy*; do
    if [ -L "$f" ]; then files+="${f##*/} -> $(readlink "$f"), "; else files+="${f##*/}, "; fi
done
say "ok: $lib: ${files%, }"
say "ok: SONAME $soname; tardy.pc:"
sed 's/^/    /' "$lib/pkgconfig/tardy.pc"

# The header in every C and C++ standard it claims, as strict as the tests.
printf '#include <tardy.h>\nint main(void) { return tardy_version() == NULL; }\n' >"$tmp/header.c"
printf '#include <tardy.h>\nint main() { return tardy_version() == nullptr; }\n' >"$tmp/header.cpp"
for std in c99 c11 c17 c2x; do
    cc -std=$std -Wall -Wextra -Werror -pedantic -fsyntax-only $(pkg-config --cflags tardy) "$tmp/header.c" ||
        fail "tardy.h does not compile as $std"
done
for std in c++11 c++14 c++17 c++20; do
    c++ -std=$std -Wall -Wextra -Werror -pedantic -fsyntax-only $(pkg-config --cflags tardy) "$tmp/header.cpp" ||
        fail "tardy.h does not compile as $std"
done
say "ok: tardy.h compiles as C99, C11, C17, C2x, C++11, C++14, C++17, C++20 (-Wall -Wextra -Werror -pedantic)"
# The bare-metal header is not installed (its library is built by
# c/baremetal/): checked from the source tree, in the same standards.
printf '#include <tardy_baremetal.h>\nint main(void) { return tardy_version() == NULL; }\n' >"$tmp/header_bm.c"
printf '#include <tardy_baremetal.h>\nint main() { return tardy_version() == nullptr; }\n' >"$tmp/header_bm.cpp"
for std in c99 c11 c17 c2x; do
    cc -std=$std -Wall -Wextra -Werror -pedantic -fsyntax-only -Iinclude "$tmp/header_bm.c" ||
        fail "tardy_baremetal.h does not compile as $std"
done
for std in c++11 c++14 c++17 c++20; do
    c++ -std=$std -Wall -Wextra -Werror -pedantic -fsyntax-only -Iinclude "$tmp/header_bm.cpp" ||
        fail "tardy_baremetal.h does not compile as $std"
done
say "ok: tardy_baremetal.h compiles as C99, C11, C17, C2x, C++11, C++14, C++17, C++20 (-Wall -Wextra -Werror -pedantic)"

cflags=(-std=c11 -Wall -Wextra -Werror -pedantic)
# shellcheck disable=SC2046 # pkg-config output is a list of flags
cc "${cflags[@]}" "$tmp/example.c" -o "$tmp/app-dynamic" $(pkg-config --cflags --libs tardy) \
    -Wl,-rpath,"$(pkg-config --variable=libdir tardy)"
needs "$tmp/app-dynamic" "libtardy.so.$soversion" || fail "dynamic: no NEEDED libtardy.so.$soversion"
run_example "$tmp/app-dynamic"
say "ok: pkg-config --libs + rpath: NEEDED libtardy.so.$soversion, runs"

# shellcheck disable=SC2046
cc "${cflags[@]}" "$tmp/example.c" -o "$tmp/app-dynamic-norpath" $(pkg-config --cflags --libs tardy)
if "$tmp/app-dynamic-norpath" >/dev/null 2>&1; then
    fail "without rpath or LD_LIBRARY_PATH the program found libtardy (a stale copy in the loader's path?)"
fi
run_example "$tmp/app-dynamic-norpath" LD_LIBRARY_PATH="$lib"
say "ok: no rpath: the loader does not find libtardy; with LD_LIBRARY_PATH it runs"

# A linker takes libtardy.so over libtardy.a in the same directory: here
# --static only adds the system libraries (see step 3 for a static link).
# shellcheck disable=SC2046
cc "${cflags[@]}" "$tmp/example.c" -o "$tmp/app-full-static-flags" $(pkg-config --static --cflags --libs tardy)
needs "$tmp/app-full-static-flags" "libtardy.so.$soversion" ||
    fail "expected: pkg-config --static of a full install still links libtardy.so"
say "ok: pkg-config --static of a full install still links libtardy.so (as the README says)"

cmake -S c/packaging -B "$tmp/cmake-shared" -DEXAMPLE_SOURCE="$tmp/example.c" >"$tmp/cmake.log" ||
    fail "cmake configure: $(cat "$tmp/cmake.log")"
cmake --build "$tmp/cmake-shared" >>"$tmp/cmake.log" || fail "cmake build: $(cat "$tmp/cmake.log")"
needs "$tmp/cmake-shared/example" "libtardy.so.$soversion" ||
    fail "CMake: no NEEDED libtardy.so.$soversion"
run_example "$tmp/cmake-shared/example"
say "ok: CMake, pkg_check_modules(TARDY REQUIRED IMPORTED_TARGET tardy) with PKG_CONFIG_PATH: NEEDED libtardy.so.$soversion, runs"
unset PKG_CONFIG_PATH

say "3. static only: cargo cinstall --release --features capi --library-type staticlib --prefix $tmp/static --libdir lib"
cargo cinstall --release --features capi --library-type staticlib --prefix "$tmp/static" --libdir lib
slib=$tmp/static/lib
[ -f "$slib/libtardy.a" ] || fail "no libtardy.a"
if ls "$slib"/libtardy.so* >/dev/null 2>&1; then fail "a staticlib install has a shared library"; fi
export PKG_CONFIG_PATH=$slib/pkgconfig
say "ok: pkg-config --static --libs tardy: $(pkg-config --static --libs tardy)"
# shellcheck disable=SC2046
cc "${cflags[@]}" "$tmp/example.c" -o "$tmp/app-static" $(pkg-config --static --cflags --libs tardy)
# shellcheck disable=SC2046
cc "${cflags[@]}" "$tmp/example.c" -o "$tmp/app-static-gc" $(pkg-config --static --cflags --libs tardy) \
    -Wl,--gc-sections
for exe in "$tmp/app-static" "$tmp/app-static-gc"; do
    case "$(needed "$exe")" in *libtardy*) fail "$exe needs libtardy: $(needed "$exe")" ;; esac
    case "$(ldd "$exe")" in *libtardy*) fail "ldd $exe lists libtardy" ;; esac
    run_example "$exe"
done
say "ok: pkg-config --static: no NEEDED libtardy (NEEDED: $(needed "$tmp/app-static" | tr '\n' ' ')), runs"
unset PKG_CONFIG_PATH

cmake -S c/packaging -B "$tmp/cmake-static" -DEXAMPLE_SOURCE="$tmp/example.c" \
    -DCMAKE_PREFIX_PATH="$tmp/static" >"$tmp/cmake.log" </dev/null ||
    fail "cmake configure: $(cat "$tmp/cmake.log")"
cmake --build "$tmp/cmake-static" >>"$tmp/cmake.log" || fail "cmake build: $(cat "$tmp/cmake.log")"
case "$(needed "$tmp/cmake-static/example")" in *libtardy*) fail "CMake static: NEEDED libtardy" ;; esac
run_example "$tmp/cmake-static/example"
say "ok: CMake with CMAKE_PREFIX_PATH of the static install: no NEEDED libtardy, runs"

kb() { echo "$(($(stat -c %s "$1") / 1024)) KB"; }
strip -o "$tmp/app-static-stripped" "$tmp/app-static"
strip -o "$tmp/app-static-gc-stripped" "$tmp/app-static-gc"
say "sizes: libtardy.a $(kb "$slib/libtardy.a"), libtardy.so.$version $(kb "$lib/libtardy.so.$version");" \
    "the example linked statically $(kb "$tmp/app-static") (stripped $(kb "$tmp/app-static-stripped")), with" \
    "-Wl,--gc-sections $(kb "$tmp/app-static-gc") (stripped $(kb "$tmp/app-static-gc-stripped"));" \
    "linked dynamically $(kb "$tmp/app-dynamic")"
say PASS
