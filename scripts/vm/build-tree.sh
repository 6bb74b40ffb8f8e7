#!/usr/bin/env bash
# Builds (or finds in the cache) the root tree of a Debian guest for the VM tests:
#   scripts/vm/build-tree.sh SUITE        (trixie or sid)
# and prints the tree's directory on stdout. The tree is cached under
# ${LPS_VM_CACHE:-/var/cache/libpod-stats-vm}/<suite>-<key>/tree, key = a hash of this script
# (its package list and recipe) and the suite's Release date on the mirror (sid moves
# daily), so a second run on the same day reuses it. The host's apt sources are never touched:
# debootstrap is pointed at the mirror by argument. Needs root, debootstrap and network.
set -euo pipefail

suite=${1:?usage: build-tree.sh trixie|sid}
mirror=${LPS_VM_MIRROR:-http://deb.debian.org/debian}
cache=${LPS_VM_CACHE:-/var/cache/libpod-stats-vm}

# Every package the scenario needs, named explicitly (minbase has no Recommends).
packages=(
  systemd systemd-sysv dbus dbus-user-session libpam-systemd udev
  podman crun conmon catatonit uidmap passt netavark
  busybox-static procps collectd-core linux-image-amd64
)
case "$suite" in
  # sid's kernel packages need dracut; trixie's work with initramfs-tools
  sid) packages+=(dracut) ;;
  *) packages+=(initramfs-tools) ;;
esac

release_date=$(curl -fsS --max-time 60 "$mirror/dists/$suite/Release" | sed -n 's/^Date: //p')
[ -n "$release_date" ] || { echo "build-tree: no Release date for $suite at $mirror" >&2; exit 1; }
key=$( { sha256sum "$0" | cut -d' ' -f1; echo "$suite $release_date"; } | sha256sum | cut -c1-16)
dir="$cache/$suite-$key"

if [ -f "$dir/done" ]; then
  echo "build-tree: cached $dir ($suite, Release $release_date)" >&2
  echo "$dir/tree"
  exit 0
fi

mkdir -p "$cache"
# older trees of this suite are stale now
for old in "$cache/$suite"-*; do
  [ -e "$old" ] && [ "$old" != "$dir" ] && rm -rf --one-file-system "$old"
done
rm -rf --one-file-system "$dir"
mkdir -p "$dir"
started=$(date +%s)
echo "build-tree: debootstrap $suite into $dir (Release $release_date)" >&2
include=$(IFS=,; echo "${packages[*]}")
if ! debootstrap --variant=minbase --include="$include" "$suite" "$dir/tree" "$mirror" \
  >"$dir/debootstrap.log" 2>&1; then
  tail -n 40 "$dir/debootstrap.log" >&2
  [ -f "$dir/tree/debootstrap/debootstrap.log" ] && tail -n 40 "$dir/tree/debootstrap/debootstrap.log" >&2
  exit 1
fi

t=$dir/tree
echo lpsguest >"$t/etc/hostname"
printf '127.0.0.1 localhost lpsguest\n' >"$t/etc/hosts"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$t/etc/fstab"
# the rootless user, with linger (user@UID.service starts at boot) and sub-ids
chroot "$t" useradd -m -u 1500 -s /bin/sh lpsuser
grep -q '^lpsuser:' "$t/etc/subuid" || echo 'lpsuser:200000:65536' >>"$t/etc/subuid"
grep -q '^lpsuser:' "$t/etc/subgid" || echo 'lpsuser:200000:65536' >>"$t/etc/subgid"
mkdir -p "$t/var/lib/systemd/linger"
touch "$t/var/lib/systemd/linger/lpsuser"
# collectd runs only when the scenario starts it
chroot "$t" systemctl disable collectd.service >/dev/null 2>&1 || true
chroot "$t" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1 || true
# the scenario's unit: runs /lps/run-scenario.sh (copied in by make-image.sh) and powers off
cat >"$t/etc/systemd/system/lps-scenario.service" <<'UNIT'
[Unit]
Description=libpod-stats VM scenario
After=multi-user.target user@1500.service
Wants=user@1500.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c '/lps/run-scenario.sh >/dev/ttyS0 2>&1; systemctl poweroff --no-block'
StandardOutput=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
UNIT
chroot "$t" systemctl enable lps-scenario.service >/dev/null 2>&1
# the busybox image podman imports in the guest (no registry is reachable)
mkdir -p "$t/opt/lps-rootfs/bin"
cp "$t/bin/busybox" "$t/opt/lps-rootfs/bin/busybox"
for a in sh sleep yes dd cat tail head ls true mkdir; do ln -sf busybox "$t/opt/lps-rootfs/bin/$a"; done
tar -C "$t/opt/lps-rootfs" -cf "$t/opt/lps-rootfs.tar" .
rm -rf "$t/opt/lps-rootfs"
# apt's downloaded packages are not needed in the image
rm -rf "$t"/var/cache/apt/archives/*.deb
echo "$(($(date +%s) - started))" >"$dir/seconds"
touch "$dir/done"
echo "build-tree: built $dir in $(cat "$dir/seconds") s" >&2
echo "$dir/tree"
