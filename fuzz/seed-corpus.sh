#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds: the committed fuzz/seeds/<target>/ files, every
# regression input, and every fixture file of the family the target reads (cgroup files
# by name, mountinfo, meminfo, net/dev, /proc/<pid>/cgroup, bolt_state.db, containers.json,
# config/state JSON). Files are named by their content hash, so re-running adds only what
# is new and libFuzzer's own additions are kept.
set -euo pipefail
cd "$(dirname "$0")"
repo=..

add() { # add TARGET FILE...
    local target=$1 f sum
    shift
    mkdir -p "corpus/$target"
    for f in "$@"; do
        [ -f "$f" ] || continue
        # libFuzzer's default -max_len follows the largest seed; keep seeds below 1 MiB.
        [ "$(stat -c %s "$f")" -le 1048576 ] || continue
        sum=$(sha1sum "$f" | cut -c1-40)
        [ -e "corpus/$target/$sum" ] || cp "$f" "corpus/$target/$sum"
    done
}

by_name() { # by_name TARGET NAME-PATTERN...
    local target=$1 args=() p
    shift
    for p in "$@"; do args+=(-o -name "$p"); done
    mapfile -d '' files < <(find "$repo/fixtures" -type f \( -false "${args[@]}" \) -print0 2>/dev/null)
    add "$target" "${files[@]}"
}

for dir in seeds/* regressions/*; do
    [ -d "$dir" ] || continue
    add "$(basename "$dir")" "$dir"/*
done

by_name single 'memory.max' 'memory.current' 'memory.high' 'memory.peak' 'memory.swap.*' \
    'memory.limit_in_bytes' 'memory.usage_in_bytes' 'memory.max_usage_in_bytes' \
    'memory.memsw.*' 'pids.max' 'pids.current' 'pids.peak' 'cpuacct.usage' \
    'cpuacct.usage_user' 'cpuacct.usage_sys' 'cpu.weight' 'memory.oom.group'
by_name flat_keyed 'memory.stat' 'cpu.stat' 'memory.events' 'memory.events.local' \
    'pids.events' 'cgroup.stat' 'cpuacct.stat' 'memory.oom_control'
by_name nested_keyed 'io.stat' 'io.max' 'memory.numa_stat'
by_name blkio 'blkio.*'
by_name percpu 'cpuacct.usage_percpu*'
by_name usage_all 'cpuacct.usage_all'
by_name psi '*.pressure'
by_name proc_cgroup 'cgroup'
by_name mountinfo 'mountinfo'
by_name meminfo 'meminfo'
by_name net_dev 'dev'
by_name bolt_reader 'bolt_state.db' '*.bolt'
by_name bolt_state 'bolt_state.db'
by_name sqlite_state 'db.sql'
by_name containers_json 'containers.json' 'volatile-containers.json'
by_name redact_json '*.json'
# The JSON interpreter's input is config and state joined by NUL bytes; a fixture's
# config.json alone is still a useful start.
by_name state_json 'config.json'

for dir in corpus/*; do
    printf '%-16s %5d seeds\n' "$(basename "$dir")" "$(find "$dir" -type f | wc -l)"
done
