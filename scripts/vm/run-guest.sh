#!/usr/bin/env bash
# Runs the VM scenario in one Debian guest and extracts its results:
#   scripts/vm/run-guest.sh SUITE DEB OUTDIR
# SUITE: trixie or sid; DEB: our package (plugin/packaging/build-deb.sh); OUTDIR: new or empty.
# Builds or reuses the guest tree (build-tree.sh), makes an ext4 image of it with the package
# and run-scenario.sh added (hard-linked staging copy: the cached tree stays pristine), boots
# it with qemu TCG (KVM does not boot ordinary guests on these machines), and waits at most
# LPS_VM_TIMEOUT seconds (default 1200). The guest writes its results as a tar on a second
# disk. On a timeout or any error qemu is killed and the console's tail is printed; no qemu is
# ever left running. Timings go to OUTDIR/host-timings.
set -euo pipefail
suite=${1:?usage: run-guest.sh SUITE DEB OUTDIR}
deb=${2:?usage: run-guest.sh SUITE DEB OUTDIR}
out=${3:?usage: run-guest.sh SUITE DEB OUTDIR}
here="$(cd "$(dirname "$0")" && pwd)"
timeout=${LPS_VM_TIMEOUT:-1200}
[ -f "$deb" ] || { echo "run-guest: no package at $deb" >&2; exit 1; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"

work="$(mktemp -d /var/tmp/lps-vm.XXXXXX)"
qemu_pid=
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill -KILL "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s)
# a second try when the mirror fails us once (a fresh CI machine downloads ~300 packages)
tree="$("$here/build-tree.sh" "$suite")" || {
  echo "run-guest: building the $suite tree failed; trying once more" >&2
  sleep 10
  tree="$("$here/build-tree.sh" "$suite")"
}
t1=$(date +%s)

# the image: the cached tree plus /lps (hard links: nothing in the tree is written)
stage="$work/stage"
cp -al "$tree" "$stage"
mkdir -p "$stage/lps"
install -m 0755 "$here/run-scenario.sh" "$stage/lps/run-scenario.sh"
install -m 0644 "$deb" "$stage/lps/libpod-stats.deb"
# processes left at shutdown are killed after 10 s, not systemd's default 90 s
rm -f "$stage/etc/systemd/system.conf.d/lps.conf"
mkdir -p "$stage/etc/systemd/system.conf.d"
printf '[Manager]\nDefaultTimeoutStopSec=10s\n' >"$stage/etc/systemd/system.conf.d/lps.conf"
kernel="$(ls "$tree"/boot/vmlinuz-* | sort -V | tail -n1)"
initrd="$(ls "$tree"/boot/initrd.img-* | sort -V | tail -n1)"
mkfs.ext4 -q -F -L lpsroot -d "$stage" "$work/root.img" 6G
truncate -s 512M "$work/results.img"
t2=$(date +%s)

console="$out/console.log"
qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 3072 -display none -no-reboot \
  -nic none -monitor none -serial "file:$console" \
  -kernel "$kernel" -initrd "$initrd" \
  -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 systemd.show_status=1" \
  -drive "file=$work/root.img,format=raw,if=virtio" \
  -drive "file=$work/results.img,format=raw,if=virtio" &
qemu_pid=$!
status=0
deadline=$((t2 + timeout))
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "run-guest: $suite did not finish within $timeout s; killing qemu. Console tail:" >&2
    kill -KILL "$qemu_pid" 2>/dev/null || true
    status=1
    break
  fi
  sleep 2
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=
t3=$(date +%s)

tar xf "$work/results.img" -C "$out" 2>/dev/null || true
if [ ! -f "$out/done" ]; then
  [ "$status" -eq 0 ] && echo "run-guest: $suite wrote no results; console tail:" >&2
  status=1
fi
[ "$status" -eq 0 ] || tail -n 60 "$console" >&2
printf 'tree_s %s\nimage_s %s\nqemu_s %s\n' $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) >"$out/host-timings"
cat "$out/host-timings" >&2
exit "$status"
