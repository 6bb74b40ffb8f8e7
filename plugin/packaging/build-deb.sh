#!/usr/bin/env bash
# Builds the Debian package libpod-stats: the CLI with its manual page, the collectd plugin,
# its types.db and example configurations. Needs cargo, dpkg-deb and help2man (Debian 12).
#
#   plugin/packaging/build-deb.sh [--debug] [--out DIR]
#
# Installs (dpkg -i):
#   /usr/bin/libpod-stats
#   /usr/lib/collectd/libpodstats.so                      (collectd's plugin directory)
#   /usr/share/collectd/types.db.libpodstats
#   /etc/collectd/collectd.conf.d/libpodstats.conf         (conffile; read when collectd.conf includes the dir)
#   /usr/share/doc/libpod-stats/examples/collectd.conf     (a whole config for collectd-core alone)
#   /usr/share/man/man1/libpod-stats.1.gz
# Prints the path of the .deb on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
profile=release
out="$top/target/debian"
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --out) out="$2"; shift ;;
    *) echo "build-deb: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

cd "$top"
flags=()
[ "$profile" = release ] && flags+=(--release)
# The command is linked static-pie (glibc inside, still position-independent, so ASLR
# stays): a dynamically linked one spends 0.3 ms of its 3.4 ms `stats --no-stream` over 10
# containers loading and relocating libc, libm and libgcc_s (BENCHMARKS.md, CLI). It calls
# nothing of glibc's that loads modules at run time (NSS, iconv, dlopen), and it no longer
# follows libc6 security updates: a new package does. `--target` keeps the flag off build
# scripts and proc macros, and the objects apart from target/<profile>.
host="$(rustc -vV | sed -n 's/^host: //p')"
case "$host" in
  *-linux-gnu) cli_target=(--target "$host"); cli_dir="$host/$profile"
    cli_rustflags="${RUSTFLAGS:-} -C target-feature=+crt-static" ;;
  *) cli_target=(); cli_dir="$profile"; cli_rustflags="${RUSTFLAGS:-}" ;;
esac
RUSTFLAGS="$cli_rustflags" cargo build "${flags[@]}" "${cli_target[@]}" -q -p libpod-stats-cli \
  --bin libpod-stats >&2
cargo build "${flags[@]}" -q -p libpodstats-plugin >&2
target_dir="${CARGO_TARGET_DIR:-$top/target}"
bin_dir="$target_dir/$profile"
cli="$target_dir/$cli_dir/libpod-stats"

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
# An address under .example (reserved for examples, RFC 2606): the project has no mail host.
maintainer="libpod-stats maintainers <maintainers@libpod-stats.example>"
arch="$(dpkg --print-architecture)"
stage="$(mktemp -d /tmp/libpod-stats-deb.XXXXXX)"
trap 'rm -rf "$stage"' EXIT
# mktemp makes the dir 0700; it becomes the package's "./" entry.
chmod 0755 "$stage"

install -D -m 0755 "$cli" "$stage/usr/bin/libpod-stats"
install -D -m 0644 "$bin_dir/libpodstats.so" "$stage/usr/lib/collectd/libpodstats.so"
install -D -m 0644 plugin/types.db.libpodstats "$stage/usr/share/collectd/types.db.libpodstats"
install -D -m 0644 "$here/libpodstats.conf" "$stage/etc/collectd/collectd.conf.d/libpodstats.conf"
install -D -m 0644 "$here/collectd.conf" "$stage/usr/share/doc/libpod-stats/examples/collectd.conf"
install -D -m 0644 README.md "$stage/usr/share/doc/libpod-stats/README.md"
if [ -n "${cli_target[*]}" ]; then
  # A static-pie executable has the ELF type of a shared object and no NEEDED entry.
  mkdir -p "$stage/usr/share/lintian/overrides"
  cat > "$stage/usr/share/lintian/overrides/libpod-stats" <<'OVERRIDES'
# /usr/bin/libpod-stats is a static-pie executable, not a shared library
libpod-stats: shared-library-lacks-prerequisites [usr/bin/libpod-stats]
OVERRIDES
  chmod 0644 "$stage/usr/share/lintian/overrides/libpod-stats"
fi
# Debian policy: every package has a copyright file in its doc dir.
cat > "$stage/usr/share/doc/libpod-stats/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: libpod-stats

Files: *
Copyright: 2026 libpod-stats maintainers
License: MIT or Apache-2.0
 On Debian systems the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
# The plugin needs only libc6 (GLIBC_2.34 symbols at most) and libgcc_s (GCC_4.2.0), as
# `objdump -T` shows; hence the Depends line below (the command needs no library).
# Debug info is most of the size, and a package does not need it (the .so keeps the dynamic
# symbols collectd looks up).
strip --strip-unneeded "$stage/usr/bin/libpod-stats" "$stage/usr/lib/collectd/libpodstats.so"

# The CLI's manual page, from its own --help (help2man), with each subcommand's help added.
subcommands="$stage/subcommands.h2m"
{
  echo "[SUBCOMMANDS]"
  for sub in ps stats capture replay; do
    echo ".SS $sub"
    echo ".nf"
    # roff: a backslash is \e, and a line may not start with a control character.
    "$cli" "$sub" --help | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
    echo ".fi"
  done
} > "$subcommands"
mkdir -p "$stage/usr/share/man/man1"
help2man --no-info --section 1 --include "$subcommands" \
  --name "podman container resource usage from cgroupfs" "$cli" |
  gzip -9n > "$stage/usr/share/man/man1/libpod-stats.1.gz"
chmod 0644 "$stage/usr/share/man/man1/libpod-stats.1.gz"
rm "$subcommands"

# Debian policy: a native package's changelog, gzip -9n (no name or time stamp inside).
{
  printf 'libpod-stats (%s) unstable; urgency=medium\n\n' "$version"
  printf '  * Built from this source tree; see README.md for what it holds.\n\n'
  printf ' -- %s  %s\n' "$maintainer" "$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n > "$stage/usr/share/doc/libpod-stats/changelog.gz"
chmod 0644 "$stage/usr/share/doc/libpod-stats/changelog.gz"

size_kb="$(du -sk "$stage" | cut -f1)"
mkdir -p "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: libpod-stats
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size_kb
Depends: libc6 (>= 2.34), libgcc-s1 (>= 4.2)
Recommends: collectd-core
Suggests: podman
Section: admin
Priority: optional
Description: podman container resource usage from cgroupfs, with a collectd plugin
 libpod-stats reads podman (libpod) containers' cpu, memory, pids, block I/O,
 network and OOM numbers straight from cgroupfs and libpod's state, with no
 podman process in the loop. This package has the libpod-stats command and
 the collectd plugin libpodstats.
CONTROL
echo "/etc/collectd/collectd.conf.d/libpodstats.conf" > "$stage/DEBIAN/conffiles"

mkdir -p "$out"
deb="$out/libpod-stats_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "$deb"
