#!/usr/bin/env bash
# Captures tests/data/v1-hybrid from this machine's real cgroupfs (hybrid v1 + unified):
# creates lpstest-cap-<pid> in every hierarchy, runs a cpu burner, a memory user and a
# writer in it, copies the files the reader uses into a snapshot as
# /libpod_parent/libpod-<id>, then removes the cgroups. Run as root.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)/v1-hybrid"
id=$(printf 'c0ffee%058d' 1)
name="lpstest-cap-$$"
cg=/sys/fs/cgroup
ctrls=(cpu cpuacct memory pids blkio unified)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for c in "${ctrls[@]}"; do rmdir "$cg/$c/$name" 2>/dev/null || true; done
}
trap cleanup EXIT
for c in "${ctrls[@]}"; do mkdir "$cg/$c/$name"; done
echo 268435456 > "$cg/memory/$name/memory.limit_in_bytes"
echo 64 > "$cg/pids/$name/pids.max"
# shellcheck disable=SC2016
sh -c 'for c in cpu cpuacct memory pids blkio unified; do echo $$ > '"$cg"'/$c/'"$name"'/cgroup.procs; done
       dd if=/dev/zero of=/var/tmp/lpstest-cap-blob bs=1M count=32 oflag=direct 2>/dev/null
       rm -f /var/tmp/lpstest-cap-blob
       exec sh -c "while :; do :; done"' &
pids+=($!)
sleep 2
rm -rf "$out"
mkdir -p "$out/proc/self"
grep -E ' - (cgroup|cgroup2|tmpfs) ' /proc/self/mountinfo | grep /sys/fs/cgroup > "$out/proc/self/mountinfo"
for c in "${ctrls[@]}"; do
  dst="$out/sys/fs/cgroup/$c/libpod_parent/libpod-$id"
  mkdir -p "$dst"
  for f in "$cg/$c/$name"/*; do
    base=$(basename "$f")
    case "$base" in
      cpu.stat|cpuacct.*|memory.usage_in_bytes|memory.limit_in_bytes|memory.stat|memory.oom_control|memory.failcnt|memory.max_usage_in_bytes|pids.*|blkio.throttle.io_service*|*.pressure|cgroup.procs) ;;
      *) continue ;;
    esac
    cat "$f" > "$dst/$base" 2>/dev/null || rm -f "$dst/$base"
  done
  : > "$dst/cgroup.procs"
done
printf '{"taken_at_ns": %s, "online_cpus": %s, "hostname": "lpstest-host", "kernel": "%s"}\n' \
  "$(date +%s%N)" "$(nproc)" "$(uname -r)" > "$out/snapshot.json"
echo "captured into $out"
