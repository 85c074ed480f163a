#!/usr/bin/env bash
# Runs the C stress test (c/stress_api.c) under ThreadSanitizer, with the
# library instrumented too: libtardy.a is built by nightly Rust with
# `-Zsanitizer=thread -Zbuild-std` (std itself instrumented, so its locks
# and atomics are seen), the C program by gcc with -fsanitize=thread, and
# the two are linked against gcc's libtsan. Fails on any ThreadSanitizer
# report, on a task lost or returned twice, or after 10 minutes.
#
# rustc's instrumentation calls __tsan_memcpy / __tsan_memset /
# __tsan_memmove, which gcc 12's libtsan does not export; tsan_mem.c supplies
# them as calls of the intercepted memcpy / memset / memmove, so those
# accesses are still checked.
#
# Needs: a nightly toolchain with rust-src, gcc with libtsan (Debian:
# gcc, which pulls libtsan2).
# Usage: c/stress_sanitized.sh [TASKS, default 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
items="${1:-20000}"
target_dir="${TSAN_TARGET_DIR:-$PWD/target/tsan}"
triple="$(rustc -vV | sed -n 's/^host: //p')"

RUSTFLAGS="-Zsanitizer=thread -Cforce-frame-pointers=yes" \
    CARGO_TARGET_DIR="$target_dir" \
    cargo +nightly rustc --lib --release --features capi --target "$triple" \
    -Zbuild-std --crate-type staticlib --quiet
lib="$target_dir/$triple/release/libtardy.a"

out="$target_dir/stress"
mkdir -p "$out"
cat >"$out/tsan_mem.c" <<'C'
#include <stddef.h>
#include <string.h>
void *__tsan_memcpy(void *d, const void *s, size_t n);
void *__tsan_memset(void *d, int c, size_t n);
void *__tsan_memmove(void *d, const void *s, size_t n);
void *__tsan_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
void *__tsan_memset(void *d, int c, size_t n) { return memset(d, c, n); }
void *__tsan_memmove(void *d, const void *s, size_t n) { return memmove(d, s, n); }
C
cc -std=c11 -Wall -Wextra -Werror -pedantic -g -O1 -fsanitize=thread -Iinclude \
    c/stress_api.c "$out/tsan_mem.c" "$lib" -o "$out/stress_api-tsan" \
    -pthread -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

log="$out/stress.log"
status=0
STRESS_ITEMS="$items" TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
    timeout 600 "$out/stress_api-tsan" >"$log" 2>&1 || status=$?
cat "$log"
if [ "$status" -ne 0 ] || grep -q "ThreadSanitizer" "$log" || ! grep -q "^stress_api: ok$" "$log"; then
    echo "stress_sanitized.sh: FAILED (exit $status)" >&2
    exit 1
fi
echo "stress_sanitized.sh: ok (ThreadSanitizer, $items tasks)"
