#!/bin/sh
# Builds the guest's initramfs: busybox-static with every applet linked, the safeguard
# binary at /usr/sbin/safeguard, tests/vm/lib.sh at /tests/lib.sh, tests/vm/scenarios/*.sh
# under /tests/scenarios/, and tests/vm/init.sh as /init.
# Usage: tests/vm/initramfs.sh BIN OUT.cpio.gz
set -eu

[ $# -eq 2 ] || { echo "usage: $0 BIN OUT.cpio.gz" >&2; exit 2; }
bin=$(realpath "$1") out=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$bin" ] || { echo "initramfs: no such binary: $bin" >&2; exit 2; }

missing=""
for p in busybox-static cpio gzip; do
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

cp /bin/busybox bin/busybox
# --list-full gives each applet's usual place (bin/, sbin/, usr/bin/, usr/sbin/).
for applet in $(bin/busybox --list-full); do
    [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done

cp "$bin" usr/sbin/safeguard
chmod 755 usr/sbin/safeguard
# The benchmark loops (bench/loop.c), static like everything else here.
mkdir -p usr/local/bin
gcc -O2 -static -o usr/local/bin/sg-loop "$here/../../bench/loop.c" || exit 1
# mount module: the mount scenarios' helper (exact mount(2) strings, open_tree + move_mount)
gcc -O2 -static -o usr/bin/sg-mounttool "$here/mounttool.c" || exit 1
# process module: sg-exectool (fexecve, mmap, uselib, link, rename...), and for PT_INTERP a
# libc-free static PIE (it can be an ELF interpreter) and a PIE whose interpreter is
# /tmp/sg-interp; the host's dynamic loader for `ld.so PROGRAM`.
gcc -O2 -static -o usr/bin/sg-exectool "$here/exectool.c" || exit 1
gcc -O2 -nostdlib -fPIE -fno-stack-protector -DMESSAGE='"interp ran"' -static-pie \
    -o usr/bin/sg-interp "$here/interp.c" || exit 1
gcc -O2 -nostdlib -fPIE -fno-stack-protector -DMESSAGE='"main ran"' -pie \
    -Wl,--dynamic-linker=/tmp/sg-interp -o usr/bin/sg-interp-main "$here/interp.c" || exit 1
mkdir -p usr/lib/sg
cp "$(realpath /lib64/ld-linux-x86-64.so.2)" usr/lib/sg/ld.so || exit 1
# file module: mprotect, xattrs, io_uring, odd open flags (busybox has no applet for them)
gcc -O2 -static -o usr/bin/sg-filetool "$here/filetool.c" || exit 1
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
    cargo build --quiet --release --target x86_64-unknown-linux-gnu) ||
    { echo "initramfs: building tests/vm/nettool failed" >&2; exit 1; }
cp "$nettool_dir/x86_64-unknown-linux-gnu/release/sg-nettool" usr/bin/sg-nettool
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
