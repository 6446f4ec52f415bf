#!/usr/bin/env bash
# Boots the installed .deb under a real systemd: a Debian cloud kernel (6.1, BPF LSM on
# by default) under qemu with the whole Debian root as its initramfs and guest.sh as the
# only job, then powers off. Writes the serial console to OUT_LOG; the verdict is the
# "SG-PKG PASS|FAIL name" lines and "SG-PKG DONE" in it.
# Usage: systemd-vm.sh ROOT_TAR DEB UPGRADE_DEB OUT_LOG (UPGRADE_DEB: the same package one
# revision later, for the upgrade check, in the guest as /root/upgrade.deb). The kernel comes from the VM test bed's cache
# (${SG_VM_CACHE:-/var/cache/safeguard-vm}/kernels/6.1) or is fetched into SG_PKG_CACHE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: systemd-vm.sh ROOT_TAR DEB UPGRADE_DEB OUT_LOG"
ROOT_TAR=${1:?$usage}
DEB=${2:?$usage}
UPGRADE_DEB=${3:?$usage}
OUT_LOG=${4:?$usage}
CACHE=${SG_PKG_CACHE:-/var/cache/safeguard-pkg}

kernel=${SG_VM_CACHE:-/var/cache/safeguard-vm}/kernels/6.1/vmlinuz
if [ ! -s "$kernel" ]; then
    kernel=$CACHE/kernel-6.1/vmlinuz
    if [ ! -s "$kernel" ]; then
        # The meta package names the current ABI; never hard-code it.
        pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
        dl=$(mktemp -d)
        chmod 0755 "$dl" # apt downloads as _apt
        (cd "$dl" && apt-get download -q "$pkg" >/dev/null)
        mkdir -p "$(dirname "$kernel")"
        dpkg-deb --fsys-tarfile "$dl"/*.deb | tar -xO --wildcards './boot/vmlinuz-*' >"$kernel.tmp"
        mv "$kernel.tmp" "$kernel"
        rm -rf "$dl"
    fi
fi
command -v qemu-system-x86_64 >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null

work=$(mktemp -d /tmp/sg-pkg-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
guest=$work/root
mkdir "$guest"
tar -C "$guest" -xzf "$ROOT_TAR"
chmod 0755 "$guest" # it becomes / in the guest
rm -rf "$guest"/usr/share/{locale,doc,man,info} "$guest"/var/cache/apt/*
cp "$DEB" "$guest/tmp/"
chroot "$guest" dpkg -i "/tmp/$(basename "$DEB")" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; exit 1; }
rm "$guest/tmp/$(basename "$DEB")"
cp "$UPGRADE_DEB" "$guest/root/upgrade.deb"
install -m 0755 "$here/guest.sh" "$guest/usr/local/sbin/sg-pkg-guest"
# Under TCG, beside the VM tier's boots, the agent's start (verifying the file module's
# programs) took over 90 s, systemd's default start limit: the guest allows 300 s. The
# package itself keeps the default: on hardware the start takes seconds.
mkdir -p "$guest/etc/systemd/system/safeguard.service.d"
printf '[Service]\nTimeoutStartSec=300\n' >"$guest/etc/systemd/system/safeguard.service.d/tcg.conf"
cat >"$guest/etc/systemd/system/sg-pkg-test.service" <<'UNIT'
[Unit]
Description=safeguard package test
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/sg-pkg-guest
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TimeoutStartSec=1500
UNIT
(cd "$guest" && find . | cpio -o -H newc --quiet) >"$work/initramfs.cpio"

timeout "${SG_PKG_VM_TIMEOUT:-1800}" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 \
    -nographic -no-reboot -net none -kernel "$kernel" -initrd "$work/initramfs.cpio" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/lib/systemd/systemd systemd.unit=sg-pkg-test.service systemd.show_status=false" \
    </dev/null >"$OUT_LOG" 2>&1 &
qemu_job=$!
# Stopped early (run.sh interrupted): take the guest down too; timeout passes TERM on.
trap 'kill "$qemu_job" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
wait "$qemu_job" || echo "qemu exit $?" >>"$OUT_LOG"
