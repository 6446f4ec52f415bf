#!/bin/sh
# Builds the guest's initramfs: busybox-static with every applet linked, the safeguard
# binary at /usr/sbin/safeguard, tests/vm/lib.sh at /tests/lib.sh, tests/vm/scenarios/*.sh
# under /tests/scenarios/, tests/vm/init.sh as /init, and the modules of $SG_VM_MODULES.
# The guest's architecture is BIN's: an x86_64 BIN gets the host's busybox and gcc, an
# aarch64 BIN gets Debian's busybox-static:arm64 (unpacked, not installed) and
# aarch64-linux-gnu-gcc, plus sg-exit, the guest's way to give qemu its verdict.
# Usage: tests/vm/initramfs.sh BIN OUT.cpio.gz
set -eu

[ $# -eq 2 ] || { echo "usage: $0 BIN OUT.cpio.gz" >&2; exit 2; }
bin=$(realpath "$1") out=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$bin" ] || { echo "initramfs: no such binary: $bin" >&2; exit 2; }

# ELF e_machine (byte 18): 3e x86_64, b7 aarch64.
case $(od -An -tx1 -j18 -N1 "$bin" | tr -d ' ') in
    3e) arch=x86_64 ;;
    b7) arch=aarch64 ;;
    *) echo "initramfs: $bin is neither x86_64 nor aarch64" >&2; exit 2 ;;
esac
if [ "$arch" = x86_64 ]; then
    packages="busybox-static cpio gzip"
    cc=gcc
    ldso=/lib64/ld-linux-x86-64.so.2
else
    packages="cpio gzip gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
    cc=aarch64-linux-gnu-gcc
    ldso=/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
fi

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "initramfs: installing:$missing" >&2
    # shellcheck disable=SC2086 # word splitting of the list is wanted
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
fi

# The guest has no libraries: a dynamically linked agent cannot run there.
if ldd "$bin" 2>/dev/null | grep -q '=>'; then
    echo "initramfs: warning: $bin is dynamically linked and will not run in the guest" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cd "$stage"
mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys tmp run root home/user var/log mnt \
    tests/scenarios
chmod 1777 tmp
chown 1000:1000 home/user

if [ "$arch" = x86_64 ]; then
    cp /bin/busybox bin/busybox
else
    # Debian's static busybox for arm64, unpacked from its package (installing it would
    # replace the host's). Cached beside the initramfs.
    cache=$(dirname "$out")/busybox-arm64
    if [ ! -s "$cache/busybox" ]; then
        rm -rf "$cache" && mkdir -p "$cache"
        (cd "$cache" && apt-get -o APT::Sandbox::User=root download -qq busybox-static:arm64 >&2) ||
            { apt-get update -qq >&2 && (cd "$cache" && apt-get -o APT::Sandbox::User=root download -qq busybox-static:arm64 >&2); } ||
            { echo "initramfs: apt-get download busybox-static:arm64 failed" >&2; exit 1; }
        dpkg-deb --fsys-tarfile "$cache"/busybox-static_*.deb | tar -xO ./bin/busybox >"$cache/busybox.tmp"
        mv "$cache/busybox.tmp" "$cache/busybox"
    fi
    cp "$cache/busybox" bin/busybox
    chmod 755 bin/busybox
fi
# --list-full gives each applet's usual place (bin/, sbin/, usr/bin/, usr/sbin/); the
# host's busybox lists them for an arm64 one (the same Debian version, the same applets).
for applet in $(/bin/busybox --list-full); do
    [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done

cp "$bin" usr/sbin/safeguard
chmod 755 usr/sbin/safeguard
# The benchmark loops (bench/loop.c), static like everything else here.
mkdir -p usr/local/bin
"$cc" -O2 -static -o usr/local/bin/sg-loop "$here/../../bench/loop.c" || exit 1
# mount module: the mount scenarios' helper (exact mount(2) strings, open_tree + move_mount)
"$cc" -O2 -static -o usr/bin/sg-mounttool "$here/mounttool.c" || exit 1
# process module: sg-exectool (fexecve, mmap, uselib, link, rename...), and for PT_INTERP a
# libc-free static PIE (it can be an ELF interpreter) and a PIE whose interpreter is
# /tmp/sg-interp; the host's dynamic loader for `ld.so PROGRAM`.
"$cc" -O2 -static -o usr/bin/sg-exectool "$here/exectool.c" || exit 1
"$cc" -O2 -nostdlib -fPIE -fno-stack-protector -DMESSAGE='"interp ran"' -static-pie \
    -o usr/bin/sg-interp "$here/interp.c" || exit 1
"$cc" -O2 -nostdlib -fPIE -fno-stack-protector -DMESSAGE='"main ran"' -pie \
    -Wl,--dynamic-linker=/tmp/sg-interp -o usr/bin/sg-interp-main "$here/interp.c" || exit 1
mkdir -p usr/lib/sg
cp "$(realpath "$ldso")" usr/lib/sg/ld.so || exit 1
# detect module: the intrusion techniques the detections are tested with
"$cc" -O2 -static -o usr/bin/sg-detecttool "$here/detecttool.c" || exit 1
# file module: mprotect, xattrs, io_uring, odd open flags (busybox has no applet for them)
"$cc" -O2 -static -o usr/bin/sg-filetool "$here/filetool.c" || exit 1
# attack scenarios: other system calls reaching a covered file, program or address
"$cc" -O2 -static -o usr/bin/sg-attacktool "$here/attacktool.c" || exit 1
# protect module: ptrace, process_vm_writev, pidfd_getfd, BPF objects by id
"$cc" -O2 -static -o usr/bin/sg-protecttool "$here/protecttool.c" || exit 1
# telemetry: workloads with known CPU, switch and traffic counts
"$cc" -O2 -static -pthread -o usr/bin/sg-teltool "$here/teltool.c" || exit 1
if [ "$arch" = aarch64 ]; then
    # qemu's virt machine has no isa-debug-exit: init hands the verdict over by
    # semihosting (see sg-exit.c).
    "$cc" -O2 -static -o usr/bin/sg-exit "$here/sg-exit.c" || exit 1
fi
# SG_VM_MODULES: directories of kernel modules (kernels.sh's <kernel>/modules, one
# <release>/ folder each), copied to /lib/modules: the scenarios load overlayfs from there.
for dir in ${SG_VM_MODULES:-}; do
    [ -d "$dir" ] || continue
    mkdir -p lib/modules && cp -r "$dir"/. lib/modules/ || exit 1
done
# SG_VM_EXTRA: a directory of extra guest files (kernel modules a known-failing proof
# needs, e.g. overlay-6.1.ko), copied to /lib/sg-extra; never set by make test.
if [ -n "${SG_VM_EXTRA:-}" ]; then
    mkdir -p lib/sg-extra && cp -r "$SG_VM_EXTRA"/. lib/sg-extra/ || exit 1
fi
cp "$here/init.sh" init
chmod 755 init
cp "$here/lib.sh" tests/lib.sh
for f in "$here"/scenarios/*.sh; do
    [ -e "$f" ] && cp "$f" tests/scenarios/
done

# ---- network module: sg-nettool (tests/vm/nettool), the scenarios' socket and DNS
# helper, built statically like the agent; never part of the product.
nettool_dir=$(cd "$here/../.." && pwd)/target/nettool
(cd "$here/nettool" && RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR="$nettool_dir" \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    cargo build --quiet --release --target "$arch-unknown-linux-gnu") ||
    { echo "initramfs: building tests/vm/nettool failed" >&2; exit 1; }
cp "$nettool_dir/$arch-unknown-linux-gnu/release/sg-nettool" usr/bin/sg-nettool
# ---- end network module

cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
EOF
cat >etc/group <<'EOF'
root:x:0:
user:x:1000:
EOF
echo /bin/sh >etc/shells
echo sg-guest >etc/hostname
# The kernel opens /dev/console before /init runs (devtmpfs is mounted later).
mknod -m 600 dev/console c 5 1 2>/dev/null || true

find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
