#!/usr/bin/env bash
# collectd's own CPU per read cycle with the seed plugin and with ours, on the same live podman
# containers, in one run of alternating rounds (BENCHMARKS.md, "collectd against the seed").
#
#   scripts/bench-collectd.sh [-n CONTAINERS] [-r ROUNDS] [-s SECONDS] [-w WARMUP] [-i INTERVAL]
#                             [-p PROFILE_DIR] SEED_SO CASE...
#   CASE = LABEL=SO[:GROUP,GROUP...]   one of our builds, with these `Metrics` groups
#                                      (none: the plugin's defaults)
#
# e.g.  scripts/bench-collectd.sh /work/shared/tools/seed-go/libpodstats-go.so \
#         default=target/release/libpodstats.so seed=target/release/libpodstats.so:seed
#
# Root only (podman, cgroups, mount namespaces). It makes a podman store of its own under a
# temp dir (runc, cgroupfs manager, busybox-static image), starts CONTAINERS containers named
# `lpsbench-<n>` on podman's default bridge network, and removes them, the store and every
# daemon it started on exit, also on failure or Ctrl-C. Each case runs its own collectd
# (Interval INTERVAL, the network plugin writing to an unused loopback port, nothing else);
# a round runs every case once (the seed, collectd without a read plugin, then the CASEs; the
# order is reversed every other round); each daemon is measured for SECONDS after WARMUP
# seconds: the CPU time of all its threads (/proc/<pid>/task/*/schedstat) divided by the read
# cycles in the window. Before the rounds, each case runs once with the csv writer to count
# the value lists it dispatches per cycle. With -p, each case is also profiled (perf record -g
# for SECONDS, before the rounds): PROFILE_DIR/<label>.perf.data and <label>.txt (perf report).
#
# The seed plugin finds containers in /var/lib/containers/storage and builds cgroup paths for
# the systemd manager (README of ../shared/tools/seed-go): it runs in a mount namespace of its
# own where the bench store is bound onto that path and each container's cpuacct and memory
# cgroup onto the machine.slice path it expects (nothing changes outside). Ours reads the
# store with `Store` and the real cgroups. A TypesDB file `types.db.libpodstats` beside a
# CASE's .so is used for it, else plugin/types.db.libpodstats of this checkout.
set -euo pipefail

n=100 rounds=3 seconds=10 warmup=3 interval=0.1 profile=""
while getopts n:r:s:w:i:p: opt; do
    case $opt in
    n) n=$OPTARG ;;
    r) rounds=$OPTARG ;;
    s) seconds=$OPTARG ;;
    w) warmup=$OPTARG ;;
    i) interval=$OPTARG ;;
    p) profile=$(mkdir -p "$OPTARG" && realpath "$OPTARG") ;;
    *) sed -n '2,12p' "$0" >&2 && exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ]; then
    sed -n '2,12p' "$0" >&2
    exit 2
fi
seed_so=$(realpath "$1")
shift
repo=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "bench-collectd: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
for tool in podman collectd unshare nsenter runc conmon; do
    command -v $tool >/dev/null || die "$tool is missing (scripts/install-deps.sh)"
done
[ -x /bin/busybox ] || die "busybox-static is missing"
[ -f "$seed_so" ] || die "no seed plugin at $seed_so"
seed_types=$(dirname "$seed_so")/types.db.libpodstats
[ -f "$seed_types" ] || die "no types.db.libpodstats beside $seed_so"

# Every case: label, .so, types file, Metrics groups ("" = defaults; "-" = no read plugin).
labels=(seed collectd-alone) sos=("$seed_so" "") types=("$seed_types" "") groups=("" "-")
for spec in "$@"; do
    label=${spec%%=*} rest=${spec#*=}
    so=${rest%%:*} grp=""
    [ "$so" != "$rest" ] && grp=${rest#*:}
    [ -n "$label" ] && [ "$label" != "$spec" ] || die "bad case '$spec' (LABEL=SO[:GROUPS])"
    so=$(realpath "$so")
    [ -f "$so" ] || die "no plugin at $so"
    t=$(dirname "$so")/types.db.libpodstats
    [ -f "$t" ] || t=$repo/plugin/types.db.libpodstats
    labels+=("$label") sos+=("$so") types+=("$t") groups+=("$grp")
done

work=$(mktemp -d /tmp/lpsbench-XXXXXX)
store=$work/root
pids=()
holder=""
pm() {
    CONTAINERS_CONF=$work/containers.conf TMPDIR=$work/tmp podman --root "$store" \
        --runroot "$work/runroot" --tmpdir "$work/libpod-tmp" "$@"
}
cleanup() {
    set +e
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    pids=()
    [ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
    if [ -f "$work/containers.conf" ]; then
        pm rm -f -t 0 --all >/dev/null 2>&1 || pm rm -f -t 0 --all >/dev/null 2>&1
        pm rmi -a -f >/dev/null 2>&1
    fi
    findmnt -rn -o TARGET | grep "^$work/" | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$store" "$work/runroot" "$work/libpod-tmp" "$work/tmp" "$work/rootfs/bin"
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
image_copy_tmp_dir = "$work/tmp"
lock_type = "file"
EOF
cp /bin/busybox "$work/rootfs/bin/"
for a in sh sleep; do ln -s busybox "$work/rootfs/bin/$a"; done
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
pm import -q --change 'CMD ["/bin/sh"]' "$work/rootfs.tar" localhost/lpsbench-bb:latest >/dev/null

echo "# starting $n containers" >&2
start=$(date +%s)
for i in $(seq 1 "$n"); do
    pm run -d --name "lpsbench-$i" --stop-timeout 0 localhost/lpsbench-bb:latest \
        sleep 1000000 >/dev/null
done
echo "# $n containers running after $(($(date +%s) - start)) s" >&2
pm ps -q --no-trunc >"$work/ids"
[ "$(wc -l <"$work/ids")" = "$n" ] || die "only $(wc -l <"$work/ids") of $n containers run"

# The seed's view: the bench store at its fixed path, each container's cgroups where it
# builds their paths (a tmpfs over /sys/fs/cgroup), in a namespace held by one `sleep`.
unshare -m --propagation private bash -c '
    set -e
    work=$1
    mount -t tmpfs lpsbench /var/lib/containers
    mkdir -p /var/lib/containers/storage
    mount --bind "$work/root" /var/lib/containers/storage
    real=$work/cgroup && mkdir -p "$real" && mount --rbind /sys/fs/cgroup "$real"
    mount -t tmpfs lpsbench /sys/fs/cgroup
    while read -r id; do
        for pair in cpu:cpuacct memory:memory; do
            d=/sys/fs/cgroup/${pair%%:*}/machine.slice/libpod-$id.scope
            mkdir -p "$d"
            mount --bind "$real/${pair##*:}/libpod_parent/libpod-$id" "$d"
        done
    done <"$work/ids"
    touch "$work/ns-ready"
    exec sleep 1000000' _ "$work" &
holder=$!
for _ in $(seq 1 100); do [ -f "$work/ns-ready" ] && break; sleep 0.1; done
[ -f "$work/ns-ready" ] || die "the seed's mount namespace did not come up"

# The config of case $1 in its own dir; $2 = csv to also write CSV (the list count).
configure() {
    local i=$1 dir=$work/case-$1 writer=$2
    rm -rf "$dir" && mkdir -p "$dir/plugins"
    for p in logfile network csv; do cp "/usr/lib/collectd/$p.so" "$dir/plugins/"; done
    {
        echo "Hostname \"bench\""
        echo "FQDNLookup false"
        echo "BaseDir \"$dir\""
        echo "PIDFile \"$dir/collectd.pid\""
        echo "PluginDir \"$dir/plugins\""
        echo "Interval $interval"
        echo "LoadPlugin logfile"
        echo "<Plugin logfile>"
        echo "  LogLevel info"
        echo "  File \"$dir/collectd.log\""
        echo "</Plugin>"
        if [ "$writer" = csv ]; then
            echo "LoadPlugin csv"
            echo "<Plugin csv>"
            echo "  DataDir \"$dir/csv\""
            echo "</Plugin>"
        else
            # An unused loopback port: every list is serialized and sent, nobody listens.
            echo "LoadPlugin network"
            echo "<Plugin network>"
            echo "  Server \"127.0.0.1\" \"25999\""
            echo "</Plugin>"
        fi
        if [ "${groups[$i]}" = - ]; then
            echo "TypesDB \"/usr/share/collectd/types.db\""
        else
            cp "${sos[$i]}" "$dir/plugins/libpodstats.so"
            echo "TypesDB \"/usr/share/collectd/types.db\" \"${types[$i]}\""
            echo "LoadPlugin libpodstats"
            if [ "$i" != 0 ]; then
                echo "<Plugin libpodstats>"
                echo "  Store \"$store\""
                echo "  RootlessStores false"
                echo "  Include \"^lpsbench-\""
                if [ -n "${groups[$i]}" ]; then
                    echo "  Metrics $(echo "${groups[$i]}" | sed 's/[^,][^,]*/"&"/g; s/,/ /g')"
                fi
                echo "</Plugin>"
            fi
        fi
    } >"$dir/collectd.conf"
}

# Starts case $1's collectd (the seed inside its namespace); sets $daemon.
launch() {
    local i=$1 dir=$work/case-$1
    if [ "$i" = 0 ]; then
        nsenter -t "$holder" -m collectd -f -C "$dir/collectd.conf" >"$dir/stdout" 2>&1 &
    else
        collectd -f -C "$dir/collectd.conf" >"$dir/stdout" 2>&1 &
    fi
    daemon=$!
    pids+=("$daemon")
}

stop() {
    local p keep=()
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}

# Nanoseconds of CPU all threads of $1 have run.
cpu_ns() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'
}

cases=${#labels[@]}
echo "# value lists per read cycle (csv writer, one run of 3 s per case)" >&2
for i in $(seq 0 $((cases - 1))); do
    configure "$i" csv
    launch "$i"
    sleep 3
    stop "$daemon"
    lists=$( (find "$work/case-$i/csv" -type f 2>/dev/null || true) | wc -l)
    errors=$(grep -ci "error" "$work/case-$i/collectd.log" 2>/dev/null || true)
    echo "lists ${labels[$i]} $lists per cycle, $(awk -v l="$lists" -v n="$n" 'BEGIN {print l / n}') per container (log errors: $errors)"
    if [ "${groups[$i]}" != - ] && [ "$lists" -lt "$n" ]; then
        cat "$work/case-$i/stdout" "$work/case-$i/collectd.log" 2>/dev/null | sed 's/^/  log: /' >&2
        die "${labels[$i]} dispatched $lists series for $n containers"
    fi
done

if [ -n "$profile" ]; then
    command -v perf >/dev/null || die "perf is missing (-p)"
    for i in $(seq 0 $((cases - 1))); do
        [ "${groups[$i]}" = - ] && continue
        configure "$i" network
        launch "$i"
        sleep "$warmup"
        perf record -q -g -p "$daemon" -o "$profile/${labels[$i]}.perf.data" -- sleep "$seconds" \
            >/dev/null 2>&1 || true
        stop "$daemon"
        perf report -i "$profile/${labels[$i]}.perf.data" --no-children --sort dso,symbol \
            --percent-limit 0.5 --stdio 2>/dev/null | grep -v '^$' >"$profile/${labels[$i]}.txt" || true
        echo "# profile of ${labels[$i]}: $profile/${labels[$i]}.txt" >&2
    done
fi

echo "# host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r), collectd $(collectd -h | sed -n 's/^collectd \([0-9.]*\).*/\1/p' | head -1)"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $n containers, Interval $interval, $rounds rounds, ${warmup} s warm-up + ${seconds} s measured per case"
cycles=$(awk -v s="$seconds" -v i="$interval" 'BEGIN {print s / i}')
order=$(seq 0 $((cases - 1)))
for r in $(seq 1 "$rounds"); do
    for i in $order; do
        configure "$i" network
        launch "$i"
        sleep "$warmup"
        a=$(cpu_ns "$daemon") t0=$(date +%s%N)
        sleep "$seconds"
        b=$(cpu_ns "$daemon") t1=$(date +%s%N)
        stop "$daemon"
        awk -v l="${labels[$i]}" -v r="$r" -v a="$a" -v b="$b" -v t0="$t0" -v t1="$t1" \
            -v i="$interval" 'BEGIN {printf "round %d %s %.3f ms\n", r, l, (b - a) / 1e6 / ((t1 - t0) / 1e9 / i)}' |
            tee -a "$work/rounds"
    done
    order=$(echo "$order" | tac)
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per case, and each case against the seed (median of its ratios within a round).
awk '
    { ms[$3, $2] = $4; seen[$3] = 1; if (!($3 in order)) { order[$3] = ++k; name[k] = $3 } ; if ($2 > R) R = $2 }
    function median(v, n,   i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
        for (c = 1; c <= k; c++) {
            l = name[c]; delete v; delete q
            for (r = 1; r <= R; r++) { v[r] = ms[l, r]; q[r] = ms[l, r] / ms["seed", r] }
            printf "case %-16s median %7.3f ms per cycle, x seed: median %.3f (rounds:", l, median(v, R), median(q, R)
            for (r = 1; r <= R; r++) printf " %.3f", ms[l, r] / ms["seed", r]
            printf ")\n"
        }
    }' "$work/rounds"
