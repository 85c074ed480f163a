#!/usr/bin/env bash
# Builds tardy's C ABI as a no_std static library for thumbv7em-none-eabihf
# (libtardy_baremetal.a), checks it holds no allocator symbol, compiles and
# links host.c against it with arm-none-eabi-gcc (-Wall -Wextra -Werror
# -pedantic), and runs the result in QEMU's mps2-an386 (Cortex-M4), where it
# checks every function and prints PASS over semihosting.
#
# Needs: rustup target thumbv7em-none-eabihf; Debian packages
# gcc-arm-none-eabi, binutils-arm-none-eabi, qemu-system-arm.
# Usage: c/baremetal/run.sh   (from anywhere; CI runs it)
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${BAREMETAL_TARGET_DIR:-$PWD/target}"

for tool in arm-none-eabi-gcc arm-none-eabi-nm arm-none-eabi-size qemu-system-arm; do
    command -v "$tool" >/dev/null || {
        echo "run.sh: $tool not found (apt-get install gcc-arm-none-eabi binutils-arm-none-eabi qemu-system-arm)" >&2
        exit 2
    }
done

# --locked: the committed Cargo.lock is kept up to date (CI checks it), never
# rewritten by a run.
cargo build --locked --release --target thumbv7em-none-eabihf
lib="$CARGO_TARGET_DIR/thumbv7em-none-eabihf/release/libtardy_baremetal.a"

# No allocator: the archive defines and needs no allocation entry point.
if arm-none-eabi-nm "$lib" 2>/dev/null | grep -E ' [TtUuWw] (__rust_alloc|__rust_dealloc|__rust_realloc|__rg_alloc|__rust_alloc_error_handler|malloc|calloc|realloc|free)$'; then
    echo "run.sh: FAILED: allocator symbols in $lib" >&2
    exit 1
fi
echo "allocator symbols in libtardy_baremetal.a: none"

mkdir -p build
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
    -std=c11 -Wall -Wextra -Werror -pedantic -Os -ffreestanding -ffunction-sections \
    -I../../include -I. -nostdlib -nostartfiles -T link.ld -Wl,--gc-sections -Wl,-z,noexecstack \
    -o build/host.elf host.c "$lib" -lgcc
arm-none-eabi-size build/host.elf

set +e
out="$(timeout 60 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 \
    -semihosting-config enable=on,target=native -nographic -kernel build/host.elf 2>&1)"
status=$?
set -e
printf '%s\n' "$out"
if [ "$status" -ne 0 ] || ! grep -q '^tardy baremetal C: PASS$' <<<"$out"; then
    echo "run.sh: FAILED (qemu status $status)" >&2
    exit 1
fi
echo "run.sh: ok"
