#!/usr/bin/env bash
# Fuzzes every target for a bounded time each, starting from the committed
# seed corpus (and whatever earlier runs added to fuzz/corpus/, which git
# ignores). Needs a nightly toolchain; installs cargo-fuzz if missing.
#
#   fuzz/run.sh [SECONDS per target, default 60]
#
# Exits non-zero, leaving the input in fuzz/artifacts/<target>/, as soon as a
# target finds a failure. Replay one with:
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

targets=(core_ops)
features=()
if [ -f fuzz_targets/c_api_ops.rs ]; then
    targets+=(c_api_ops)
    features=(--features capi)
fi

for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    printf '=== fuzz %s for %ss\n' "$target" "$secs"
    log="$(mktemp)"
    status=0
    cargo +nightly fuzz run "${features[@]}" "$target" "corpus/$target" -- \
        -max_total_time="$secs" -max_len=512 -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log" || true
    if [ "$status" -ne 0 ]; then
        grep -A3 'panicked at' "$log" >&2 || true
        grep -v '^    ' "$log" | tail -30 >&2
        rm -f "$log"
        echo "fuzz target $target failed (exit $status); input in fuzz/artifacts/$target/" >&2
        exit "$status"
    fi
    rm -f "$log"
done
