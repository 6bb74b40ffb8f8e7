#!/usr/bin/env bash
# Turns a guest's capture into a committed fixture series:
#   scripts/vm/make-fixtures.sh RESULTS_DIR        (e.g. target/debug/vm-trixie)
# writes fixtures/cgroupv2/podman-<major.minor>-mixed/{000,001,002} by re-capturing each step
# of RESULTS_DIR/capture with the CLI built here (so the redaction on this checkout applies),
# and a README saying how it was made. Then regenerate the goldens:
#   INSTA_UPDATE=always cargo test --test integration golden_cgroup
#   INSTA_UPDATE=always cargo test -p libpod-stats-cli --test integration -- stats_golden fixtures_discovery
set -euo pipefail
res=${1:?usage: make-fixtures.sh RESULTS_DIR}
top="$(cd "$(dirname "$0")/../.." && pwd)"
cli=${LPS_CLI:-$top/target/debug/libpod-stats}
version="$(sed -n 's/.*"Version": *"\([0-9]*\.[0-9]*\)\..*/\1/p' "$res/podman-version.json" | head -n1)"
[ -n "$version" ] || { echo "make-fixtures: no podman version in $res" >&2; exit 1; }
dest="$top/fixtures/cgroupv2/podman-$version-mixed"
rm -rf "$dest"
mkdir -p "$dest"
for step in "$res"/capture/[0-9][0-9][0-9]; do
  "$cli" --root "$step" capture --out "$dest/$(basename "$step")" >/dev/null
done
chmod -R u+rwX,go+rX "$dest"
versions="$(tr '\n' ';' <"$res/versions.txt" | sed 's/;$//; s/;/; /g')"
cat >"$dest/README.md" <<README
# podman $version on cgroup v2 under systemd: a series of 3 steps

Made by the VM test rig (\`plugin/tests/integration/vm_podman5.rs\`, \`scripts/vm/\`; see the README's
"Tests in VMs"): a Debian guest booted with qemu ($versions), cgroup v2 only, SQLite state,
running \`scripts/vm/run-scenario.sh\`'s containers: rootful under the systemd manager (idle,
cpu burner, a 64 MiB tmpfs holder, a pod made with \`--cpus 0.5 --memory 96m\` with infra and
member, paused, created, exited, one with markers through every door whose health check
passed once, one whose health check failed once (\`unhealthy\`), a \`--cpus 0.2\` busy loop,
a \`--memory 16m\` one whose child was OOM-killed), one under \`--cgroup-manager=cgroupfs\`
(\`/libpod_parent/libpod-<id>\`), a Quadlet unit (\`--cgroups=split\`,
\`libpod-payload-<id>\`), and the rootless user lpsuser's (uid 1500) two containers, their
own \`--cpus 0.2\` and \`--memory 16m\` ones under \`user@1500.service\` plus one under
cgroupfs (crun's bare \`<id>\` cgroup). The guest ran
\`libpod-stats capture --count 3 --interval 1\`; each step was then re-captured here with
\`libpod-stats --root <step> capture\` (redaction on) by \`scripts/vm/make-fixtures.sh\`.
No file is hand-edited. Goldens: \`tests/integration/snapshots/\` (golden_cgroup) and
\`cli/tests/integration/snapshots/\` (stats_golden,
fixtures_discovery).
README
du -sh "$dest"
