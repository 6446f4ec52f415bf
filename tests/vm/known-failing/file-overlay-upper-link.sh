# boots: lsm
# file-overlay-upper-link: a read-deny file rule on a directory used as an overlay's
# UPPER layer ($T/upper/secret) is shed by a hard link or a rename made THROUGH the
# overlay: `ln $O/secret/k1 $O/k1-ln`, `mv`, renameat2(RENAME_EXCHANGE) and io_uring
# RENAMEAT give the file a name outside the denied directory with no refusal and no
# record, and it is read from there (from the upper layer at once; through the overlay
# at once after a rename, and after an ln once drop_caches evicted the inode on 5.10 and
# 6.1; 6.12 refuses that one read). README (File rules, Links and renames)
# refuses a link or rename that would shed a rule ("otherwise a read-only rule could be
# escaped by ln /srv/secret/key /tmp/k"), and (overlayfs) says linking and renaming
# through an overlay are judged in the inode hooks where overlayfs overrides the
# credentials: the op is judged there, but not the shedding of a rule that denies other
# ops (a rule denying every op refuses them). Found by attack5 on 5.10, 6.1 and 6.12, as
# root (whoever may write the overlay's directories). The lower-layer equivalent
# (metacopy=on: chmod, then ln or mv out) is refused (attack-variants3).
# Steps: tmpfs T; echo s3cret >T/upper/secret/k1; overlay O lowerdir=T/lower,
# upperdir=T/upper,workdir=T/work; deny { path = "T/upper/secret", ops = ["read"] };
# ln O/secret/k1 O/k1-ln (allowed); cat T/upper/k1-ln prints s3cret.
# This scenario passes once every variant is refused (EPERM and a BLOCKED record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

A=/usr/bin/sg-attacktool
T=/mnt/fou-t
O=/mnt/fou-o
cleanup_fou() {
    umount "$O" 2>/dev/null
    umount "$T" 2>/dev/null
    rmdir "$O" "$T" 2>/dev/null
}
trap cleanup_fou EXIT
cleanup_fou
mkdir -p "$T" "$O" || fail "mkdir"
mount -t tmpfs tmpfs "$T" || fail "mount tmpfs $T"
mkdir -p "$T/lower" "$T/upper/secret" "$T/work"
for f in k1 k2 k3 k4; do echo s3cret >"$T/upper/secret/$f"; done
echo x >"$T/upper/other"
mount_overlay "$T/lower" "$T/upper" "$T/work" "$O"
cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = [{ path = "$T/upper/secret", ops = ["read"] }]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
WAIT_SECS=6
BAD=""
# try NAME SCRIPT: SCRIPT must be refused (expect_refused).
try() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$2"
    expect_refused "$1"
}
try "read $O/secret/k1 (control)" "cat $O/secret/k1"
try "ln from the upper layer itself, read (control)" "ln $T/upper/secret/k1 $T/upper/k1-l && cat $T/upper/k1-l"
try "ln through the overlay out of the read-denied upper directory, read from the layer" \
    "ln $O/secret/k1 $O/k1-ln && cat $T/upper/k1-ln"
echo 2 >/proc/sys/vm/drop_caches
try "the new name read through the overlay after drop_caches" "cat $O/k1-ln"
try "mv through the overlay out of the read-denied upper directory, read" \
    "mv $O/secret/k2 $O/k2-mv && cat $O/k2-mv"
try "renameat2(RENAME_EXCHANGE) through the overlay with a file outside, read" \
    "$A exchange $O/secret/k3 $O/other && cat $O/other"
try "io_uring RENAMEAT through the overlay out of the read-denied upper directory, read" \
    "$A urrename $O/secret/k4 $O/k4-ur 0 && cat $O/k4-ur"
stop_agent
[ -z "$BAD" ] || fail "a file under a read-denied upper layer directory got a name outside it and was read:$BAD"
