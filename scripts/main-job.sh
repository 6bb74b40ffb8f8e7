#!/usr/bin/env bash
# The main job: build the collectd plugin libpodstats (release), run Debian's collectd in the
# foreground for a few seconds with it, and print the values collectd wrote (its CSV files).
#
#   scripts/main-job.sh                 # this host's podman containers when any run, else
#                                       # a replay of the bundled podman fixture series
#   scripts/main-job.sh --live          # read this host's podman containers, even if none run
#   scripts/main-job.sh --replay        # replay the bundled podman fixture series
#   scripts/main-job.sh --series DIR    # replay another captured series
#   scripts/main-job.sh --seconds N     # run collectd for N seconds (default: replay length)
#
# Everything happens in a temp dir that is removed at the end; nothing is written to /etc and
# no daemon is left running.
set -euo pipefail
cd "$(dirname "$0")/.."

series=fixtures/cgroupv1/series-podman
live=auto
seconds=""
while [ $# -gt 0 ]; do
  case "$1" in
    --live) live=true ;;
    --replay) live=false ;;
    --series) series="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "main-job: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

scripts/install-deps.sh

echo "main-job: building the plugin (cargo build --release -p libpodstats-plugin)" >&2
cargo build --release -q -p libpodstats-plugin
target_dir="${CARGO_TARGET_DIR:-target}"
so="$target_dir/release/libpodstats.so"
[ -f "$so" ] || { echo "main-job: $so was not built" >&2; exit 1; }

tmp="$(mktemp -d /tmp/libpodstats-main-job.XXXXXX)"
collectd_pid=""
cleanup() {
  if [ -n "$collectd_pid" ] && kill -0 "$collectd_pid" 2>/dev/null; then
    kill -TERM "$collectd_pid" 2>/dev/null || true
    wait "$collectd_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$tmp/plugins"
cp "$so" "$tmp/plugins/libpodstats.so"
cp /usr/lib/collectd/csv.so /usr/lib/collectd/logfile.so "$tmp/plugins/"

if [ "$live" = auto ]; then
  # Our own reader decides (read-only, no podman process): live when any container runs here.
  cargo build --release -q -p libpod-stats-cli --bin libpod-stats
  running="$("$target_dir/release/libpod-stats" ps --format json 2>/dev/null | grep -o '"id": *"[0-9a-f]\{64\}"' | wc -l || true)"
  if [ "${running:-0}" -gt 0 ]; then
    echo "main-job: $running podman container(s) run on this host: reading them live" >&2
    live=true
  else
    echo "main-job: no podman container runs on this host: replaying the bundled fixture" >&2
    live=false
  fi
fi

if $live; then
  block=""
  seconds="${seconds:-5}"
  echo "main-job: collectd reads the live host for $seconds s" >&2
else
  [ -d "$series" ] || { echo "main-job: no series at $series" >&2; exit 1; }
  series="$(cd "$series" && pwd)"
  steps="$(find "$series" -mindepth 1 -maxdepth 1 -type d -name '[0-9][0-9][0-9]' | wc -l)"
  block="  Replay \"$series\""
  # One step per 1 s interval, plus start-up and a last interval to see the end logged.
  seconds="${seconds:-$((steps + 3))}"
  echo "main-job: collectd replays $steps snapshots of $series (${seconds} s)" >&2
fi

cat > "$tmp/collectd.conf" <<CONF
FQDNLookup false
BaseDir "$tmp"
PIDFile "$tmp/collectd.pid"
PluginDir "$tmp/plugins"
TypesDB "/usr/share/collectd/types.db" "$PWD/plugin/types.db.libpodstats"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$tmp/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$tmp/csv"
  StoreRates false
</Plugin>
LoadPlugin libpodstats
<Plugin libpodstats>
$block
</Plugin>
CONF

collectd -f -C "$tmp/collectd.conf" &
collectd_pid=$!
sleep "$seconds"
kill -TERM "$collectd_pid"
wait "$collectd_pid" || true
collectd_pid=""

echo "== collectd's log (libpodstats lines)"
grep -E "libpodstats" "$tmp/collectd.log" || true
echo
echo "== values collectd wrote (csv/<host>/<plugin>-<instance>/<type>[-<type instance>], header: epoch and data sources)"
if [ -d "$tmp/csv" ]; then
  find "$tmp/csv" -type f | sort | while read -r f; do
    rel="${f#"$tmp"/csv/}"
    echo "-- ${rel%-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]}"
    cat "$f"
  done
else
  echo "(none)"
fi
