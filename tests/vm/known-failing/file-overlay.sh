# boots: lsm
# file-overlay (known failing on 5.10 and 6.1, passes on 6.12): an overlayfs whose lower
# layer is a denied directory (or a directory above it) shows the denied files under the
# overlay's path: read, executed (process deny), and written when the denied directory is
# the upper layer. Debian's kernels have overlayfs as a module, which the test guest does
# not carry: give it with SG_VM_EXTRA=DIR holding overlay-<boot>.ko (see
# known-failing/README.md).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-file-overlay
if ! grep -q overlay /proc/filesystems; then
    insmod "/lib/sg-extra/overlay-$SG_BOOT.ko" 2>&1 || insmod /lib/sg-extra/overlay.ko 2>&1
fi
grep -q overlay /proc/filesystems || fail "no overlayfs in this kernel (module not provided)"
rm -rf "$D"
mkdir -p "$D/f" "$D/x" "$D/u1" "$D/w1" "$D/u2" "$D/w2" "$D/u3" "$D/w3" "$D/w4" /mnt/o1 /mnt/o2 /mnt/o3 /mnt/o4
echo s3cret >"$D/f/key"
copy_busybox "$D/x/prog"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = ["$D/f"]
[process]
mode = "block"
deny = ["$D/x"]
EOF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
trap 'umount /mnt/o1 /mnt/o2 /mnt/o3 /mnt/o4 2>/dev/null' EXIT

try_mount() {
    run_cmd mount -t overlay ovl -o "$1" "$2"
    [ "$RC" = 0 ] || problem "mount $1: status $RC: $OUT"
}
try_mount "lowerdir=$D/f,upperdir=$D/u1,workdir=$D/w1" /mnt/o1
file_refused "cat /mnt/o1/key" '"op":"read"'
try_mount "lowerdir=$D,upperdir=$D/u2,workdir=$D/w2" /mnt/o2
file_refused "cat /mnt/o2/f/key" '"op":"read"'
try_mount "lowerdir=$D/x,upperdir=$D/u3,workdir=$D/w3" /mnt/o3
mark_records
run_sh "exec -a echo /mnt/o3/prog RAN"
case $OUT in
    *RAN*) problem "the denied program ran from the overlay" ;;
    *"Operation not permitted"*) say "refused: /mnt/o3/prog" ;;
    *) problem "/mnt/o3/prog: status $RC: $OUT" ;;
esac
# the denied directory as the upper layer: writes through the overlay land in it
try_mount "lowerdir=$D/u1,upperdir=$D/f,workdir=$D/w4" /mnt/o4
mark_records
run_sh "exec /bin/sh -c 'echo changed >/mnt/o4/key'"
say "write through the upper layer: status $RC: $OUT"
stop_agent
[ "$(cat "$D/f/key")" = s3cret ] || problem "the denied file was written through the overlay's upper layer"
end_problems "file-overlay"
