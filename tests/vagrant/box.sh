#!/usr/bin/env bash
# Builds the Vagrant box of `make vagrant-test` locally, once, from the debootstrapped
# Debian root of the package tests (tests/pkg/root.sh): nothing is downloaded but Debian
# packages (a cloud kernel with its initramfs, systemd-sysv, openssh-server, sudo, udev). The box is a
# libvirt box: an ext4 file system of the whole root as a qcow2 disk (box.img), and the
# kernel and initramfs beside it, which the box's own Vagrantfile hands to libvirt for a
# direct kernel boot (docs/vagrant.md says why).
# Usage: box.sh BOX_FILE. Reuses BOX_FILE when it exists.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BOX=${1:?usage: box.sh BOX_FILE}
PKG_CACHE=${SG_PKG_CACHE:-/var/cache/safeguard-pkg}
ROOT_TAR=$PKG_CACHE/bookworm-minbase-systemd.tar.gz
# The public half of the key pair every Vagrant knows as "insecure": it ships in
# Debian's vagrant package, so the box needs no download for it either.
INSECURE_PUB=$(gem contents vagrant 2>/dev/null | grep '/keys/vagrant.pub$' ||
    find /usr/share/rubygems-integration /usr/share/vagrant -name vagrant.pub -path '*keys*' 2>/dev/null | head -n 1)

[ -s "$BOX" ] && exit 0
[ -s "$INSECURE_PUB" ] || { echo "box: no vagrant.pub (is Debian's vagrant package installed?)"; exit 1; }
"$here/../pkg/root.sh" "$ROOT_TAR"

t0=$(date +%s)
dir=$(dirname "$BOX")
mkdir -p "$dir"
work=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir "$root"
tar -C "$root" -xzf "$ROOT_TAR"
chmod 0755 "$root"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Nothing starts in the chroot (the host runs no guest services).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
echo "box: installing a kernel, systemd-sysv, openssh-server, sudo and udev into the root"
{
    in_root apt-get update -q &&
        in_root apt-get install -y -q --no-install-recommends \
            linux-image-cloud-amd64 initramfs-tools systemd-sysv openssh-server sudo udev
} >"$work/apt.log" 2>&1 || {
    echo "box: apt-get in the root failed; last lines:"
    tail -n 20 "$work/apt.log"
    exit 1
}
in_root apt-get clean
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/*_dists_* "$root"/usr/share/{locale,doc,man,info}
: >"$root/etc/resolv.conf"

# The vagrant user of every box: the insecure key, sudo without a password.
in_root useradd -m -s /bin/bash vagrant
install -d -m 0700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"
install -m 0600 -o 1000 -g 1000 "$INSECURE_PUB" "$root/home/vagrant/.ssh/authorized_keys"
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/vagrant"
chmod 0440 "$root/etc/sudoers.d/vagrant"
# Vagrant finds the guest by its DHCP lease on libvirt's management network.
cat >"$root/etc/systemd/network/80-dhcp.network" <<'NET'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
NET
in_root systemctl enable systemd-networkd ssh >/dev/null 2>&1
# sshd's reverse lookups of the host would wait for a resolver the guest lacks.
echo 'UseDNS no' >"$root/etc/ssh/sshd_config.d/vagrant.conf"
echo safeguard-box >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 safeguard-box\n' >"$root/etc/hosts"
echo '/dev/vda / ext4 defaults 0 1' >"$root/etc/fstab"

box=$work/box
mkdir "$box"
cp "$root"/boot/vmlinuz-* "$box/vmlinuz" # the one kernel installed
cp "$root"/boot/initrd.img-* "$box/initrd.img"
# 3 GiB, sparse: the root takes about a third of it.
truncate -s 3G "$work/root.ext4"
mkfs.ext4 -q -L root -d "$root" "$work/root.ext4"
qemu-img convert -O qcow2 "$work/root.ext4" "$box/box.img"
echo '{"provider": "libvirt", "format": "qcow2", "virtual_size": 3}' >"$box/metadata.json"
cat >"$box/Vagrantfile" <<'VF'
# The box's own settings: its kernel and initramfs are files of the box, booted directly.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.join(__dir__, "vmlinuz")
    lv.initrd = File.join(__dir__, "initrd.img")
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 quiet"
  end
end
VF
tar -C "$box" -cf "$BOX.tmp" metadata.json Vagrantfile vmlinuz initrd.img box.img
mv "$BOX.tmp" "$BOX"
echo "box: $BOX built in $(($(date +%s) - t0)) s ($(du -h "$BOX" | cut -f1))"
