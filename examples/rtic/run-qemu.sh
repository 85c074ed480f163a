#!/usr/bin/env bash
# Builds the RTIC example for thumbv7m-none-eabi and runs it in QEMU's
# LM3S6965 evaluation board model (Cortex-M3), as RTIC's own examples run;
# passes when it prints its PASS line over semihosting and exits with
# status 0 through semihosting.
#
# Needs: rustup target thumbv7m-none-eabi; Debian package qemu-system-arm.
# Usage: examples/rtic/run-qemu.sh   (from anywhere; CI runs it)
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${RTIC_TARGET_DIR:-$PWD/target}"

command -v qemu-system-arm >/dev/null || {
    echo "run-qemu.sh: qemu-system-arm not found (apt-get install qemu-system-arm)" >&2
    exit 2
}

elf="$CARGO_TARGET_DIR/thumbv7m-none-eabi/release/tardy-rtic"
cargo build --locked --release
set +e
out="$(timeout 60 qemu-system-arm -cpu cortex-m3 -machine lm3s6965evb \
    -semihosting-config enable=on,target=native -nographic -kernel "$elf" 2>&1)"
status=$?
set -e
printf '%s\n' "$out"
if [ "$status" -ne 0 ]; then
    echo "run-qemu.sh: FAILED: qemu exited with status $status (124: timed out)" >&2
    exit 1
fi
if ! grep -q '^tardy rtic: PASS$' <<<"$out"; then
    echo "run-qemu.sh: FAILED: no PASS line in the output" >&2
    exit 1
fi
echo "run-qemu.sh: ok"
