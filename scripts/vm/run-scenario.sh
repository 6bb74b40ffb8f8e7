#!/bin/bash
# The guest's scenario (run by lps-scenario.service as root, then the guest powers off).
# It starts podman containers in every shape the tests check, records podman's own view,
# runs libpod-stats (installed from our .deb in /lps) with raw reads of the cgroup files just
# before and after each run, runs Debian's collectd with our plugin, takes a capture, stops
# every container and writes everything in /lps-out as a tar onto /dev/vdb. The host
# (plugin/tests/integration/vm_podman5.rs) makes every judgement; this script only records.
set -u
OUT=/lps-out
rm -rf "$OUT"
mkdir -p "$OUT/root" "$OUT/user" "$OUT/ours" "$OUT/raw" "$OUT/collectd"
exec > >(tee "$OUT/scenario.log") 2>&1
USER_NAME=lpsuser
USER_UID=1500
IMG=localhost/bb:latest

step() { echo "== $(cut -d' ' -f1 /proc/uptime) $*"; }
# runs a command as the rootless user, in its home, with its systemd/dbus session
as_user() {
  (cd "/home/$USER_NAME" && runuser -u "$USER_NAME" -- env HOME="/home/$USER_NAME" \
    USER="$USER_NAME" LOGNAME="$USER_NAME" PATH=/usr/local/bin:/usr/bin:/bin \
    XDG_RUNTIME_DIR="/run/user/$USER_UID" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$USER_UID/bus" "$@")
}
# every cgroup file the host compares with, of every container cgroup, in one process:
# `grep -H ''` prints `path:line` (cgroup files report size 0, so tar cannot copy them)
raw() {
  local f=$OUT/raw/$1.txt
  { echo "time_ns:$(date +%s%N)"
    if [ -s "$OUT/raw/cgroups.list" ]; then
      (cd /sys/fs/cgroup && while read -r d; do
        for n in cgroup.procs cpu.stat cpu.max cpu.pressure memory.current memory.stat memory.max \
            memory.events io.stat pids.current; do
          echo ".$d/$n"
        done
      done <"$OUT/raw/cgroups.list" >"$OUT/raw/files.list"
      # `exists:path` for every file there (an empty io.stat is not a missing one), then the text
      xargs grep -H -c '' <"$OUT/raw/files.list" 2>/dev/null | sed 's|^\./|exists:/|'
      xargs grep -H '' <"$OUT/raw/files.list" 2>/dev/null | sed 's|^\./|/|')
    fi
    echo "time_ns:$(date +%s%N)"; } >"$f"
}
finish() {
  step "stopping every container"
  systemctl stop lpstest-quadlet.service >/dev/null 2>&1
  as_user systemctl --user stop lpstest-rlquadlet.service >/dev/null 2>&1
  systemctl stop collectd.service >/dev/null 2>&1
  podman unpause -a >/dev/null 2>&1
  podman pod stop -a -t 0 >/dev/null 2>&1
  podman stop -a -t 0 >/dev/null 2>&1
  as_user podman stop -a -t 0 >/dev/null 2>&1
  podman ps --format '{{.Names}}' >"$OUT/root/left-running.txt" 2>&1
  as_user podman ps --format '{{.Names}}' >"$OUT/user/left-running.txt" 2>&1
  step "writing results"
  echo "$(cut -d' ' -f1 /proc/uptime)" >"$OUT/finished-uptime"
  journalctl -b --no-pager >"$OUT/journal.txt" 2>&1
  touch "$OUT/done"
  tar cf /dev/vdb -C "$OUT" . && sync
  step "results written"
}
trap finish EXIT

step "scenario starts"
echo "$(cut -d' ' -f1 /proc/uptime)" >"$OUT/start-uptime"
{ podman version --format json; } >"$OUT/podman-version.json" 2>&1
{ uname -r; crun --version | head -n1; conmon --version | head -n1; systemctl --version | head -n1
  cat /etc/debian_version; } >"$OUT/versions.txt" 2>&1
nproc >"$OUT/nproc"

step "installing our package"
dpkg -i /lps/libpod-stats.deb >"$OUT/dpkg.log" 2>&1
echo $? >"$OUT/dpkg.rc"

step "waiting for user@$USER_UID.service"
for _ in $(seq 1 120); do
  systemctl is-active --quiet "user@$USER_UID.service" && [ -S "/run/user/$USER_UID/bus" ] && break
  sleep 1
done
systemctl is-active "user@$USER_UID.service" >"$OUT/user/manager-state" 2>&1

step "images"
podman import --change 'CMD ["/bin/sh"]' /opt/lps-rootfs.tar "$IMG" >/dev/null
as_user podman import --change 'CMD ["/bin/sh"]' /opt/lps-rootfs.tar "$IMG" >/dev/null

step "rootful containers (systemd manager)"
run() { podman run -d --network none "$@" >/dev/null || echo "FAILED: podman run $*"; }
run --name lpstest-idle "$IMG" sleep 100000
run --name lpstest-burner "$IMG" sh -c 'yes > /dev/null'
run --name lpstest-mem --tmpfs /mem:size=80m "$IMG" \
  sh -c 'dd if=/dev/zero of=/mem/blob bs=1M count=64 2>/dev/null; sleep 100000'
podman pod create --name lpstest-pod --network none --cpus 0.5 --memory 96m \
  --label lpsmark=LPSMKpodlabel >/dev/null
podman run -d --pod lpstest-pod --name lpstest-podmember "$IMG" sleep 100000 >/dev/null
run --name lpstest-paused "$IMG" sleep 100000
podman pause lpstest-paused >/dev/null
podman create --network none --name lpstest-created "$IMG" sleep 100000 >/dev/null
podman run --network none --name lpstest-exited "$IMG" true >/dev/null
step "markers through every door"
mkdir -p /srv/LPSMKvolsrc
run --name lpstest-markers -e LPS_ENV=LPSMKenv --label lpslabel=LPSMKlabel \
  --annotation lpsann=LPSMKannot --health-cmd 'echo LPSMKhealth' --health-interval disable \
  --hostname LPSMKhost --add-host LPSMKaddhost:10.9.9.9 -v /srv/LPSMKvolsrc:/data \
  "$IMG" sh -c 'sleep 100000' LPSMKarg
step "health checks"
# a failing check (unhealthy after one failure); the markers' check prints a marker, which
# podman keeps in the health log's output: no capture may hold it
run --name lpstest-unhealthy --health-cmd 'exit 1' --health-retries 1 --health-interval disable \
  "$IMG" sleep 100000
podman healthcheck run lpstest-markers >"$OUT/root/healthcheck-markers.out" 2>&1
podman healthcheck run lpstest-unhealthy >"$OUT/root/healthcheck-unhealthy.out" 2>&1
step "throttling and an OOM kill (root)"
# a busy loop limited to 0.2 cpus, and a 16 MiB container whose child the kernel OOM-kills
# while its shell (pid 1) keeps running: `tail` holds a 64 MiB "line" and raises its own
# OOM score, so the killer picks it; `sh` waits on `sleep`
OOM_CMD='sleep 100000 & head -c 67108864 /dev/zero | sh -c "echo 1000 >/proc/self/oom_score_adj && exec tail" >/dev/null; wait'
run --name lpstest-throttled --cpus 0.2 "$IMG" sh -c 'while :; do :; done'
# Now and then the kernel goes on to kill the container's `sh` too (nothing in a container
# can lower its own OOM score), and the container ends: that run says nothing about our
# counting, so oom_container notes it and makes the container again (up to 5 runs). It
# leaves the container running with an OOM kill counted, or says FAILED.
# oom_container NAME PODMAN... (`podman` or `as_user podman`)
oom_container() {
  local name=$1 attempt id f n state; shift
  for attempt in 1 2 3 4 5; do
    "$@" run -d --network none --name "$name" --memory 16m "$IMG" sh -c "$OOM_CMD" >/dev/null ||
      { echo "FAILED: podman run $name"; return; }
    id=$("$@" inspect -f '{{.Id}}' "$name")
    # memory.events counts the scope's descendants too (crun's `container` child)
    f=""; n=0
    for _ in $(seq 1 90); do
      [ -n "$f" ] || f=$(find /sys/fs/cgroup -path "*libpod-$id.scope/memory.events" 2>/dev/null | head -n1)
      n=$(sed -n 's/^oom_kill //p' "$f" 2>/dev/null)
      [ "${n:-0}" -gt 0 ] && break
      sleep 1
    done
    # let the kernel finish with its victim, then see whether the container outlived it
    sleep 2
    state=$("$@" inspect -f '{{.State.Status}}' "$name" 2>&1)
    echo "$name attempt $attempt: oom_kill ${n:-none} in ${f:-no memory.events}, then $state" |
      tee -a "$OUT/oom-attempts.txt"
    [ "${n:-0}" -gt 0 ] && [ "$state" = running ] && return
    "$@" rm -f -t 0 "$name" >/dev/null 2>&1
  done
  echo "FAILED: $name: in 5 runs no OOM kill left the container running"
}
step "cgroupfs manager"
podman --cgroup-manager=cgroupfs run -d --network none --name lpstest-cgfs "$IMG" sleep 100000 >/dev/null
step "quadlet"
mkdir -p /etc/containers/systemd
cat >/etc/containers/systemd/lpstest-quadlet.container <<'Q'
[Container]
Image=localhost/bb:latest
ContainerName=lpstest-quadlet
Exec=sleep 100000
Network=none
Q
systemctl daemon-reload
systemctl start lpstest-quadlet.service || echo "FAILED: quadlet start"
systemctl status lpstest-quadlet.service --no-pager >"$OUT/root/quadlet-status.txt" 2>&1

step "rootless containers"
as_user podman run -d --network none --name lpstest-rl1 "$IMG" sleep 100000 >/dev/null || echo "FAILED: rl1"
as_user podman run -d --network none --name lpstest-rl2 "$IMG" \
  sh -c 'dd if=/dev/zero of=/tmp/f bs=1M count=8 2>/dev/null; sleep 100000' >/dev/null || echo "FAILED: rl2"
as_user podman --cgroup-manager=cgroupfs run -d --network none --name lpstest-rlcgfs "$IMG" \
  sleep 100000 >"$OUT/user/rlcgfs.out" 2>&1 || echo "FAILED: rlcgfs"

as_user podman run -d --network none --name lpstest-rlthrottled --cpus 0.2 "$IMG" \
  sh -c 'while :; do :; done' >/dev/null || echo "FAILED: rlthrottled"

step "rootless quadlet"
# the user's own Quadlet unit (systemd --user runs it): InstanceBy "unit" names it with the uid
as_user mkdir -p "/home/$USER_NAME/.config/containers/systemd"
as_user tee "/home/$USER_NAME/.config/containers/systemd/lpstest-rlquadlet.container" >/dev/null <<'Q'
[Container]
Image=localhost/bb:latest
ContainerName=lpstest-rlquadlet
Exec=sleep 100000
Network=none
Q
as_user systemctl --user daemon-reload
as_user systemctl --user start lpstest-rlquadlet.service || echo "FAILED: rootless quadlet start"
as_user systemctl --user status lpstest-rlquadlet.service --no-pager >"$OUT/user/quadlet-status.txt" 2>&1

step "OOM kills (root, then rootless)"
oom_container lpstest-oom podman
oom_container lpstest-rloom as_user podman

step "bolt_state.db-old"
if [ ! -e /var/lib/containers/storage/libpod/bolt_state.db-old ]; then
  # podman's migration from BoltDB leaves one; a fresh install has none: plant a stale one
  mkdir -p /var/lib/containers/storage/libpod
  printf 'not a bolt database' >/var/lib/containers/storage/libpod/bolt_state.db-old
  echo planted >"$OUT/root/bolt-old"
else
  echo present >"$OUT/root/bolt-old"
fi

sleep 3

step "podman's view"
podman ps -a --format json >"$OUT/root/podman-ps.json" 2>"$OUT/root/podman-ps.err"
podman inspect $(podman ps -aq --no-trunc) >"$OUT/root/podman-inspect.json" 2>"$OUT/root/podman-inspect.err"
as_user podman ps -a --format json >"$OUT/user/podman-ps.json" 2>"$OUT/user/podman-ps.err"
as_user podman inspect $(as_user podman ps -aq --no-trunc) >"$OUT/user/podman-inspect.json" 2>"$OUT/user/podman-inspect.err"
# every container cgroup (conmon's scopes too: the host checks they are never listed)
find /sys/fs/cgroup -type d -name 'libpod-*' | sed 's|^/sys/fs/cgroup||' >"$OUT/raw/cgroups.found"
# and every directory below them (crun's `container` sub-cgroup)
find /sys/fs/cgroup -type d -path '*/libpod-*' | sed 's|^/sys/fs/cgroup||' | sort >"$OUT/raw/cgroup-tree.list"
# plus every cgroup podman names (a rootless cgroupfs container's is not called libpod-*)
{ cat "$OUT/raw/cgroups.found"
  cat "$OUT/root/podman-inspect.json" "$OUT/user/podman-inspect.json" |
    sed -n 's/^ *"CgroupPath": "\(\/[^"]*\)",*$/\1/p'; } | sort -u >"$OUT/raw/cgroups.list"
step "podman's stats (root)"
raw pstats-root-before
podman stats --no-stream --format '{{json .ContainerStats}}' >"$OUT/root/podman-stats.jsonl" 2>"$OUT/root/podman-stats.err"
raw pstats-root-after
step "podman's stats (rootless)"
raw pstats-user-before
as_user podman stats --no-stream --format '{{json .ContainerStats}}' >"$OUT/user/podman-stats.jsonl" 2>"$OUT/user/podman-stats.err"
raw pstats-user-after

step "ours (root)"
raw ours-before
libpod-stats ps --all --format json >"$OUT/ours/ps.json" 2>"$OUT/ours/ps.err"; echo $? >"$OUT/ours/ps.rc"
libpod-stats stats --no-stream --format json >"$OUT/ours/stats.json" 2>"$OUT/ours/stats.err"; echo $? >"$OUT/ours/stats.rc"
raw ours-after
libpod-stats stats --no-stream --interval 1 --format json >"$OUT/ours/stats-interval.json" 2>"$OUT/ours/stats-interval.err"
echo $? >"$OUT/ours/stats-interval.rc"
raw ours-interval-after
step "ours (the rootless user itself)"
as_user libpod-stats ps --all --format json >"$OUT/ours/user-ps.json" 2>"$OUT/ours/user-ps.err"; echo $? >"$OUT/ours/user-ps.rc"
raw ours-user-before
as_user libpod-stats stats --no-stream --format json >"$OUT/ours/user-stats.json" 2>"$OUT/ours/user-stats.err"; echo $? >"$OUT/ours/user-stats.rc"
raw ours-user-after

step "capture"
libpod-stats capture --out "$OUT/capture" --count 3 --interval 1 >"$OUT/ours/capture.out" 2>&1; echo $? >"$OUT/ours/capture.rc"
libpod-stats --root "$OUT/capture/002" stats --no-stream --format json >"$OUT/ours/capture-stats.json" 2>"$OUT/ours/capture-stats.err"
libpod-stats replay "$OUT/capture" --format json >"$OUT/ours/capture-replay.json" 2>"$OUT/ours/capture-replay.err"

step "collectd (Debian's collectd.service, our package's conf.d snippet)"
cat >/etc/collectd/collectd.conf <<'C'
Hostname "lpsguest"
FQDNLookup false
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "/var/log/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "/var/lib/collectd/csv"
  StoreRates false
</Plugin>
<Include "/etc/collectd/collectd.conf.d">
  Filter "*.conf"
</Include>
C
raw collectd-before
systemctl start collectd.service
for _ in $(seq 1 60); do
  [ "$(cat /var/lib/collectd/csv/lpsguest/libpodstats-lpstest-idle/pod_memory-* 2>/dev/null | wc -l)" -ge 4 ] && break
  sleep 1
done
systemctl is-active collectd.service >"$OUT/collectd/state-while-running" 2>&1
systemctl stop collectd.service
raw collectd-after
cp -r /var/lib/collectd/csv "$OUT/collectd/csv" 2>/dev/null
cp /var/log/collectd.log "$OUT/collectd/collectd.log" 2>/dev/null
step "scenario done"
