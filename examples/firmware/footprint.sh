#!/usr/bin/env bash
# Measures and checks tardy's footprint on thumbv7em-none-eabihf:
#
#   1. bytes per task slot beyond subject and payload (a size_of test of the
#      tardy crate);
#   2. .text of the example firmware (one queue), release profile
#      (opt-level s, LTO): at most TEXT_LIMIT bytes (also reported, not
#      limited, with a u8 subject instead of (), and with the periodic
#      sampler: tardy's `periodic`);
#   3. no allocator symbol in the firmware;
#   4. panic paths: the release build's panic handler calls an undefined
#      function, so any panic path that survives optimisation fails its link.
#      The script counts the call sites into the panic machinery (from a
#      disassembly of the same build with a panic handler that links) and
#      fails when there are more than PANIC_PATHS_ALLOWED;
#   5. the same strict build at opt-level 3 (the optimiser then proves the
#      remaining bounds check away): it must link, i.e. no panic path at all.
#
# Needs: rustup target thumbv7em-none-eabihf; Debian package
# binutils-arm-none-eabi (arm-none-eabi-size, -objdump, -nm).
# Usage: examples/firmware/footprint.sh   (from anywhere; CI runs it)
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${FIRMWARE_TARGET_DIR:-$PWD/target}"

TEXT_LIMIT=8192
# None may remain: the strict build below must link at every opt-level.
PANIC_PATHS_ALLOWED=0

for tool in arm-none-eabi-size arm-none-eabi-objdump arm-none-eabi-nm; do
    command -v "$tool" >/dev/null || {
        echo "footprint.sh: $tool not found (apt-get install binutils-arm-none-eabi)" >&2
        exit 2
    }
done
fail=0
elf="$CARGO_TARGET_DIR/thumbv7em-none-eabihf/release/tardy-firmware"

echo "== bytes per task slot (tests/embedded_footprint.rs)"
(cd ../.. && CARGO_TARGET_DIR="$CARGO_TARGET_DIR/host" \
    cargo test --quiet --no-default-features --test embedded_footprint -- --nocapture) |
    grep '^footprint:'

echo "== panic paths: strict release build (panic handler calls an undefined symbol)"
if strict="$(cargo build --release 2>&1)"; then
    echo "strict build links: no panic path left"
    strict_ok=1
else
    if grep -q 'undefined symbol: tardy_panic_path_found' <<<"$strict"; then
        grep -A2 'undefined symbol: tardy_panic_path_found' <<<"$strict" | sed 's/^ *= note: *//'
        echo "strict build does not link: a panic path remains"
        strict_ok=0
    else
        printf '%s\n' "$strict" >&2
        echo "footprint.sh: the strict build failed for another reason" >&2
        exit 1
    fi
fi

echo "== the same build with a panic handler that links (panic-exit)"
cargo build --quiet --release --features panic-exit
arm-none-eabi-size -A "$elf" | grep -E '^(section|\.vector_table|\.text|\.rodata|\.data|\.bss) '
text=$(arm-none-eabi-size -A "$elf" | awk '$1 == ".text" { print $2 }')
if [ "$text" -le "$TEXT_LIMIT" ]; then
    echo ".text: $text bytes (limit $TEXT_LIMIT): ok"
else
    echo ".text: $text bytes, over the limit of $TEXT_LIMIT" >&2
    fail=1
fi

cargo build --quiet --release --features panic-exit,u8-subject
echo ".text with a u8 subject (feature u8-subject, not limited): $(arm-none-eabi-size -A "$elf" | awk '$1 == ".text" { print $2 }') bytes"
cargo build --quiet --release --features panic-exit,periodic-sampler
echo ".text with the periodic sampler (feature periodic-sampler, not limited): $(arm-none-eabi-size -A "$elf" | awk '$1 == ".text" { print $2 }') bytes"
cargo build --quiet --release --features panic-exit

alloc=$(arm-none-eabi-nm "$elf" | grep -Ec '__rust_alloc|__rg_alloc|__rust_no_alloc_shim|\bmalloc\b|\bfree\b' || true)
if [ "$alloc" -eq 0 ]; then
    echo "allocator symbols: none"
else
    echo "allocator symbols found:" >&2
    arm-none-eabi-nm "$elf" | grep -E '__rust_alloc|__rg_alloc|\bmalloc\b|\bfree\b' >&2
    fail=1
fi

# Call sites into the panic machinery from outside it.
sites=$(arm-none-eabi-objdump -d --no-show-raw-insn "$elf" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $2; inside = (fn ~ /panicking|rust_begin_unwind|panic_fmt|unwrap_failed|expect_failed|core..result|slice_.*fail|str.*fail/) }
    /\tb(l|\.w)?\t/ && /panicking|rust_begin_unwind|panic_fmt|panic_bounds_check|unwrap_failed|expect_failed|_fail>/ && !inside { print fn }' |
    sort | uniq -c)
count=0
if [ -n "$sites" ]; then
    count=$(awk '{ n += $1 } END { print n }' <<<"$sites")
    echo "panic call sites ($count), by function:"
    printf '%s\n' "$sites"
fi
echo "panic paths: $count (allowed $PANIC_PATHS_ALLOWED)"
if [ "$count" -gt "$PANIC_PATHS_ALLOWED" ]; then
    echo "footprint.sh: more panic paths than allowed" >&2
    fail=1
fi
if [ "$count" -eq 0 ] && [ "$strict_ok" -eq 0 ]; then
    echo "footprint.sh: the strict build failed but no panic call site was found" >&2
    fail=1
fi

echo "== panic paths: strict release build at opt-level 3 (must link)"
if strict3="$(CARGO_PROFILE_RELEASE_OPT_LEVEL=3 cargo build --release 2>&1)"; then
    echo "strict build at opt-level 3 links: no panic path; .text $(arm-none-eabi-size -A "$elf" | awk '$1 == ".text" { print $2 }') bytes"
else
    printf '%s\n' "$strict3" | grep -A2 'undefined symbol' >&2 || printf '%s\n' "$strict3" >&2
    echo "footprint.sh: the strict build at opt-level 3 does not link: a panic path remains" >&2
    fail=1
fi

if [ "$fail" -ne 0 ]; then
    echo "footprint.sh: FAILED" >&2
    exit 1
fi
echo "footprint.sh: ok"
