# boots: lsm
# process-overlay-upper-link: a process deny rule on a directory used as an overlay's
# UPPER layer (README, File rules, overlayfs: "a rule on a directory used as an
# overlay's lower or upper layer ... holds through the overlay") is shed by a hard link
# or a rename made THROUGH the overlay: `ln $O/denied/tool $O/tool-ln` makes overlayfs
# call vfs_link() on the upper layer (only security_inode_link; the path_link hook sees
# the overlay's dentries, which no rule names), so the guard (guard() in
# bpf/process.bpf.c, path_link/path_rename only) lets the program get a name outside
# the denied layer directory, and it runs from there (through the overlay and from the
# layer). Same for mv (vfs_rename). Right after the ln, `exec $O/tool-ln` happens to be
# refused (the overlay inode's first alias is still $O/denied/tool; the record names
# exe "/denied/tool"), but the upper layer's new name runs at once, and the overlay's
# after drop_caches. With process rules only ([file] off; the file module judges those
# inode hooks where overlayfs overrides the credentials). Found by attack5, as root
# (whoever may write the overlay's directories).
# Steps: tmpfs T; T/upper/denied/tool; overlay O lowerdir=T/lower,upperdir=T/upper,
# workdir=T/work; process deny "T/upper/denied"; ln O/denied/tool O/tool-ln (allowed);
# T/upper/tool-ln runs; mv O/denied/tool2 O/tool-mv (allowed); O/tool-mv runs.
# This scenario passes once every variant is refused (EPERM and a BLOCKED record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

T=/mnt/pou-t
O=/mnt/pou-o
cleanup_pou() {
    umount "$O" 2>/dev/null
    umount "$T" 2>/dev/null
    rmdir "$O" "$T" 2>/dev/null
}
trap cleanup_pou EXIT
cleanup_pou
mkdir -p "$T" "$O" || fail "mkdir"
mount -t tmpfs tmpfs "$T" || fail "mount tmpfs $T"
mkdir -p "$T/lower" "$T/upper/denied" "$T/work"
copy_busybox "$T/upper/denied/tool"
copy_busybox "$T/upper/denied/tool2"
mount_overlay "$T/lower" "$T/upper" "$T/work" "$O"
cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
enable = false
[process]
mode = "block"
deny = ["$T/upper/denied"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
WAIT_SECS=8
BAD=""
# attack NAME SCRIPT: SCRIPT must be refused (expect_refused).
attack() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$2"
    expect_refused "$1"
}
attack "the denied program through the overlay (control)" "exec -a echo $O/denied/tool RAN"
attack "the denied program in the upper layer (control)" "exec -a echo $T/upper/denied/tool RAN"
attack "ln from the layer itself, run (control)" "ln $T/upper/denied/tool $T/upper/tool-l && exec -a echo $T/upper/tool-l RAN"
attack "ln through the overlay out of the denied upper directory, run from the upper layer" \
    "ln $O/denied/tool $O/tool-ln && exec -a echo $T/upper/tool-ln RAN"
echo 2 >/proc/sys/vm/drop_caches
attack "the new name run through the overlay after drop_caches" "exec -a echo $O/tool-ln RAN"
attack "mv through the overlay out of the denied upper directory, run through the overlay" \
    "mv $O/denied/tool2 $O/tool-mv && exec -a echo $O/tool-mv RAN"
attack "the moved program run from the upper layer" "exec -a echo $T/upper/tool-mv RAN"
stop_agent
[ -z "$BAD" ] || fail "a program under a denied upper layer directory got a name outside it and ran:$BAD"
