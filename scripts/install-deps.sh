#!/usr/bin/env bash
# Installs the Debian packages the tests and the main job need, when they are missing.
# Idempotent; run as root on Debian 12. Nothing is written to /etc by the tests themselves.
set -euo pipefail

packages=(
  # real podman 4.3 (BoltDB state, runc, cgroupfs manager) for the end-to-end tests
  podman runc conmon catatonit busybox-static uidmap iptables containernetworking-plugins
  # collectd 5.12 for the plugin tests and the main job
  collectd-core collectd-utils
  # the libraries of collectd's write_prometheus plugin (collectd-core only recommends them)
  libprotobuf-c1 libmicrohttpd12
  # sqlite3 CLI for building the db.sql fixture
  sqlite3
  # jq for scripts/fixtures/podman-capture.sh (rebuilding the podman fixtures)
  jq
  # lintian: the package test checks the .deb with Debian's own checker; help2man makes the
  # package's manual page from the CLI's --help
  lintian help2man
  # useradd, runuser, pkill/pgrep: the rootless podman test makes and removes a user
  passwd util-linux procps
  # the VM tests (scripts/vm/): debootstrap builds the guests, mkfs.ext4 -d their images,
  # curl reads the mirror's Release date; qemu itself is installed below
  debootstrap e2fsprogs curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: must run as root to install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# qemu for the VM tests. The machine image may carry qemu-utils from bookworm-backports,
# which Breaks bookworm's qemu-system-common: pin qemu-utils to qemu-system-x86's candidate
# (a downgrade when the backport is installed). Only Debian's own archive is used.
if ! dpkg-query -W -f='${Status}' qemu-system-x86 2>/dev/null | grep -q "install ok installed"; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: must run as root to install qemu-system-x86" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  [ ${#missing[@]} -gt 0 ] || apt-get update -qq
  qemu_version="$(apt-cache policy qemu-system-x86 | awk '/Candidate:/ {print $2}')"
  echo "install-deps: installing qemu-system-x86 $qemu_version" >&2
  apt-get install -y -qq --no-install-recommends --allow-downgrades \
    qemu-system-x86 "qemu-utils=$qemu_version" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: cargo not found: install Rust (rustup) first" >&2
  exit 1
fi
