# boots: lsm
# overlay-rule-identity: deny rules that name FILES inside an overlayfs mount whose
# layers are on two filesystems (lower on one tmpfs, upper on another: overlayroot, a
# live system's squashfs + tmpfs, any overlay with a separate upper, xino off) do not
# hold. For such an overlay stat(2) reports a file's inode number with the LAYER's
# (pseudo) device, not the overlay's (a lower file: 30:7 here, an upper file: 29:5),
# while the kernel's inode is (overlay device, that inode number): the identity the
# agent records at load is met by no walk. The file module matches a rule path that
# existed at start by identity only, so `cat $O/ukey` reads a read-denied file through
# its own path, with no EPERM and no record; the process module matches by path too, so
# `$O/ltool` is refused, but the same program through a bind mount of the overlay runs.
# Found by attack4 on 5.10, 6.1 and 6.12 (root mounted the overlay before the agent
# started; nothing else is needed).
# Rules on the overlay's DIRECTORIES match (the overlay reports its own device for a
# directory), but with an inode number the overlay allocates anew (a counter) each time
# it builds the inode: once the kernel has evicted the overlay's dentries and inodes
# (root: drop_caches; memory pressure on a real host), `$O/d1/d2` comes back with a new
# number and `cat $O/d1/d2/k` reads a file under the read-denied directory (5.10, 6.1,
# 6.12). A rule directory right below the overlay's root (`$O/ldir`) gets its identity
# back when its name is looked up again (the rules-follow-the-name hook: its parent, the
# overlay's root, keeps its number); `d2`'s parent `d1` does not. Without the 200
# inode numbers used up below, the layers' small file numbers collided with the
# directories' (same device): a lower file was refused by a directory's rule, and after
# drop_caches `cat $O/udir/k` by rule /mnt/ori-o/d1/d2 (a rule with other ops or
# selectors would decide wrongly).
# This scenario passes once every attack is refused (EPERM and a BLOCKED record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

L=/mnt/ori-l
U=/mnt/ori-u
O=/mnt/ori-o
B=/mnt/ori-b
cleanup_ori() {
    for m in "$B" "$O" "$L" "$U"; do umount "$m" 2>/dev/null; done
    rmdir "$B" "$O" "$L" "$U" 2>/dev/null
}
trap cleanup_ori EXIT
cleanup_ori
mkdir -p "$L" "$U" "$O" "$B"
mount -t tmpfs tmpfs "$L" && mount -t tmpfs tmpfs "$U" || fail "mount tmpfs"
# tmpfs numbers its inodes per filesystem from 1, and so does the overlay its
# directories: use up 200 numbers in each layer first, so that no layer file's number
# is an overlay directory's (such collisions decide for the wrong rule by chance).
i=0
while [ "$i" -lt 200 ]; do
    : >"$L/burn" && rm "$L/burn" && : >"$U/burn" && rm "$U/burn"
    i=$((i + 1))
done
mkdir -p "$L/lower/ldir" "$L/lower/d1/d2" "$U/upper/udir" "$U/work"
echo s3cret >"$L/lower/d1/d2/k"
echo s3cret >"$L/lower/lkey"
echo s3cret >"$U/upper/ukey"
echo s3cret >"$L/lower/ldir/k"
echo s3cret >"$U/upper/udir/k"
copy_busybox "$L/lower/ltool"
copy_busybox "$U/upper/utool"
if ! grep overlay /proc/filesystems >/dev/null; then
    insmod "/lib/modules/$(uname -r)/overlay.ko" 2>&1 || insmod "/lib/sg-extra/overlay-$SG_BOOT.ko" 2>&1
fi
mount -t overlay none -o "lowerdir=$L/lower,upperdir=$U/upper,workdir=$U/work" "$O" || fail "mount overlay"
grep " $O " /proc/mounts
echo "overlay's device: $(stat -c '%d' "$O")"
for f in lkey ukey ldir udir d1 d1/d2 ltool utool; do
    echo "stat $O/$f: $(stat -c '%d:%i' "$O/$f")"
done
cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = ["$O/lkey", "$O/ukey", "$O/ldir", "$O/udir", "$O/d1/d2"]
[process]
mode = "block"
deny = ["$O/ltool", "$O/utool"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
WAIT_SECS=6
BAD=""
# try NAME SCRIPT: SCRIPT must fail with EPERM, print no s3cret or RAN, and write a new
# BLOCKED record.
try() {
    mark_records
    run_cmd /bin/sh -c "$2"
    case $OUT in
        *s3cret* | *RAN*) BAD="$BAD
  $1: BYPASS (status $RC, output: $OUT)" ;;
        *"Operation not permitted"*)
            if find_new_record '"action":"BLOCKED"'; then
                say "refused: $1"
                echo "$REC"
            else
                BAD="$BAD
  $1: EPERM but no BLOCKED record"
            fi
            ;;
        *) BAD="$BAD
  $1: not refused with EPERM (status $RC, output: $OUT)" ;;
    esac
}
mount --bind "$O" "$B" || fail "mount --bind $O $B"
for via in "$O" "$B"; do
    try "read the read-denied lower file $via/lkey" "cat $via/lkey"
    try "read the read-denied upper file $via/ukey" "cat $via/ukey"
    try "read a file under the denied lower directory $via/ldir" "cat $via/ldir/k"
    try "read a file under the denied upper directory $via/udir" "cat $via/udir/k"
    try "run the denied lower program $via/ltool" "exec -a echo $via/ltool RAN"
    try "run the denied upper program $via/utool" "exec -a echo $via/utool RAN"
done
try "read a file under the denied lower directory $O/d1/d2" "cat $O/d1/d2/k"
umount "$B"
# The overlay's directory inode numbers are not persistent on such an overlay: once the
# kernel evicts the overlay's dentries and inodes (drop_caches here; memory pressure on
# a real host), a directory comes back with a new inode number.
echo 2 >/proc/sys/vm/drop_caches
for f in ldir udir d1 d1/d2; do
    echo "after drop_caches: stat $O/$f: $(stat -c '%d:%i' "$O/$f")"
done
try "after drop_caches: read a file under the denied lower directory $O/ldir" "cat $O/ldir/k"
try "after drop_caches: read a file under the denied upper directory $O/udir" "cat $O/udir/k"
try "after drop_caches: read a file under the denied lower directory $O/d1/d2" "cat $O/d1/d2/k"
stop_agent
[ -z "$BAD" ] || fail "deny rules on files inside a two-filesystem overlay do not hold:$BAD"
