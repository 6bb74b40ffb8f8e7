#!/usr/bin/env bash
# A bounded fuzz run of every cargo-fuzz target (about 10 s each, no sanitizer, stable
# toolchain), seeded from fuzz/seeds, fuzz/regressions and the fixtures. Fails when any
# target crashes, leaks past the RSS limit or hangs on one input; the crashing input is
# left in fuzz/artifacts/<target>/ to be copied to fuzz/regressions/<target>/ once fixed.
#
#   scripts/fuzz-smoke.sh            # every target, 10 s each
#   FUZZ_SECONDS=300 scripts/fuzz-smoke.sh bolt_reader psi   # longer, chosen targets
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${FUZZ_SECONDS:-10}

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cargo fuzz build -s none

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

./seed-corpus.sh >/dev/null

summary=()
failed=()
for t in "${targets[@]}"; do
    log=$(mktemp)
    echo "== fuzz $t (${seconds} s)"
    if cargo fuzz run -s none "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        summary+=("$(printf '%-16s %10s runs in %ss' "$t" "${runs:-?}" "$seconds")")
    else
        tail -40 "$log"
        failed+=("$t")
    fi
    rm -f "$log"
done

printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz targets that failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
