#!/usr/bin/env bash
# Builds the example firmware for thumbv7em-none-eabihf and runs it in QEMU's
# MPS2 AN386 model (Cortex-M4); passes when the firmware prints its PASS line
# over semihosting and exits with status 0 through semihosting.
#
# Needs: rustup target thumbv7em-none-eabihf; Debian package qemu-system-arm.
# Usage: examples/firmware/run-qemu.sh   (from anywhere; CI runs it)
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${FIRMWARE_TARGET_DIR:-$PWD/target}"

command -v qemu-system-arm >/dev/null || {
    echo "run-qemu.sh: qemu-system-arm not found (apt-get install qemu-system-arm)" >&2
    exit 2
}

# `panic-exit`: the release profile (opt-level s, LTO) with a panic handler
# that links, so the run does not depend on the panic-path check of
# footprint.sh. Both subject types of the jobs run, and the periodic
# sampler (tardy's `periodic`).
elf="$CARGO_TARGET_DIR/thumbv7em-none-eabihf/release/tardy-firmware"
for features in panic-exit panic-exit,u8-subject panic-exit,periodic-sampler; do
    echo "== features $features"
    cargo build --release --features "$features"
    set +e
    out="$(timeout 60 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 \
        -semihosting-config enable=on,target=native -nographic -kernel "$elf" 2>&1)"
    status=$?
    set -e
    printf '%s\n' "$out"
    if [ "$status" -ne 0 ]; then
        echo "run-qemu.sh: FAILED: qemu exited with status $status (124: timed out)" >&2
        exit 1
    fi
    if ! grep -q '^tardy firmware: PASS$' <<<"$out"; then
        echo "run-qemu.sh: FAILED: no PASS line in the firmware output" >&2
        exit 1
    fi
done
echo "run-qemu.sh: ok"
