# boots: lsm
# kernels: 6.1
# overlay-rule-identity: deny rules that name files and directories INSIDE an overlayfs
# mount whose layers are on two filesystems (lower on one tmpfs, upper on another:
# overlayroot, a live system's squashfs + tmpfs, any overlay with a separate upper, xino
# off) hold, through the overlay's path and through a bind mount of it. There stat(2)
# gives a file its layer's pseudo device (a lower file: 33:N here, an upper file:
# 32:N) while the kernel's inode has the overlay's device with that number, and a
# directory a number that overlayfs allocates anew each time it builds the inode (after
# drop_caches or memory pressure). Found by attack4 on 5.10, 6.1 and 6.12 (file rules
# never matched; `cat $O/d1/d2/k` read under a denied directory after drop_caches).
# The agent takes a file's device from its mount and keeps rule paths inside an overlay
# open (src/rule_paths.rs, overlay_identity). Last: an upper file made with a protected
# lower file's number (the same identity in the kernel), then deleted, must not take
# the rule away (bpf/file/names.h, forget_identity).
# This scenario passes when every attack is refused (EPERM and a BLOCKED record).
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
# hkey's number (lower layer) is one the upper layer has not given yet (see the end)
i=0
while [ "$i" -lt 100 ]; do
    : >"$L/burn" && rm "$L/burn"
    i=$((i + 1))
done
echo s3cret >"$L/lower/hkey"
echo s3cret >"$L/lower/d1/d2/k"
echo s3cret >"$L/lower/lkey"
echo s3cret >"$U/upper/ukey"
echo s3cret >"$L/lower/ldir/k"
echo s3cret >"$U/upper/udir/k"
copy_busybox "$L/lower/ltool"
copy_busybox "$U/upper/utool"
mount_overlay "$L/lower" "$U/upper" "$U/work" "$O"
grep " $O " /proc/mounts
echo "overlay's device: $(stat -c '%d' "$O")"
for f in lkey ukey hkey ldir udir d1 d1/d2 ltool utool; do
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
deny = ["$O/lkey", "$O/ukey", { path = "$O/hkey", ops = ["read"] }, "$O/ldir", "$O/udir", "$O/d1/d2"]
[process]
mode = "block"
deny = ["$O/ltool", "$O/utool"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
WAIT_SECS=6
BAD=""
# try NAME SCRIPT: SCRIPT must be refused (expect_refused).
try() {
    mark_records
    run_cmd /bin/sh -c "$2"
    expect_refused "$1"
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
# Two files of different layers can have the same number, and so the same identity in
# the kernel (the overlay's device, that number): an upper file made with hkey's number
# (files written through the overlay go to the upper layer), deleted and freed, must
# not take hkey's rule with it.
want=$(stat -c %i "$O/hkey")
i=0
while [ "$i" -lt 400 ]; do
    # a number that is a rule's identity is refused (stricter, not looser)
    touch "$O/c$i" 2>/dev/null
    if [ "$(stat -c %i "$O/c$i" 2>/dev/null)" = "$want" ]; then
        say "upper file $O/c$i has hkey's number $want"
        break
    fi
    i=$((i + 1))
done
[ "$i" -lt 400 ] || fail "no upper file got hkey's number $want"
rm -f "$O"/c*
[ ! -e "$O/c$i" ] || fail "rm $O/c$i"
echo 2 >/proc/sys/vm/drop_caches
try "after a file with its number was deleted: read the read-denied lower file $O/hkey" "cat $O/hkey"
stop_agent
[ -z "$BAD" ] || fail "deny rules on files inside a two-filesystem overlay do not hold:$BAD"
