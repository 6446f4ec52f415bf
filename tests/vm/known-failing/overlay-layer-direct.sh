# boots: lsm
# overlay-layer-direct: a deny rule that names a path INSIDE an overlayfs mount (a file
# or process rule on $O/secret, $O/denied) does not reach the same files through the
# overlay's layer directories: `cat LOWER/secret/key` and `LOWER/denied/tool` (and the
# upper layer's files) are read and run with no EPERM and no record, while the same
# files through the overlay are refused. The overlay's inodes are not the layers' (the
# rule's identity is the overlay's (device, inode), the layer file's device is its own
# filesystem's), and the layer's path is not the rule's. The README covers the other
# direction (a rule on a layer holds through the overlay) and says nothing of this one;
# a host whose / is an overlay with its layers reachable (overlayroot's /media/root-ro,
# a container's lowerdir under /var/lib) is open so. Found by attack4 on 5.10, 6.1 and
# 6.12, as root (any user who may read the layer directories).
# This scenario passes once the layer's files are refused too (EPERM and a BLOCKED record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

T=/mnt/old-t
O=/mnt/old-o
cleanup_old() {
    umount "$O" 2>/dev/null
    umount "$T" 2>/dev/null
    rmdir "$O" "$T" 2>/dev/null
}
trap cleanup_old EXIT
cleanup_old
mkdir -p "$T" "$O" || fail "mkdir"
mount -t tmpfs tmpfs "$T" || fail "mount tmpfs $T"
mkdir -p "$T/lower/secret" "$T/lower/denied" "$T/upper/secret" "$T/upper/denied" "$T/work"
echo s3cret >"$T/lower/secret/key"
echo s3cret >"$T/upper/secret/key2"
copy_busybox "$T/lower/denied/tool"
copy_busybox "$T/upper/denied/tool2"
if ! grep overlay /proc/filesystems >/dev/null; then
    insmod "/lib/modules/$(uname -r)/overlay.ko" 2>&1 || insmod "/lib/sg-extra/overlay-$SG_BOOT.ko" 2>&1
fi
mount -t overlay none -o "lowerdir=$T/lower,upperdir=$T/upper,workdir=$T/work" "$O" ||
    fail "mount overlay $O"

cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = ["$O/secret"]
[process]
mode = "block"
deny = ["$O/denied"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
WAIT_SECS=8
BAD=""
# refused NAME: the command just run must have failed with EPERM, printed no s3cret or
# RAN, and written a new BLOCKED record.
refused() {
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
try() {
    mark_records
    run_cmd /bin/sh -c "$2"
    refused "$1"
}

try "read through the overlay (control)" "cat $O/secret/key"
try "run through the overlay (control)" "exec -a echo $O/denied/tool RAN"
try "read the lower layer's file" "cat $T/lower/secret/key"
try "read the upper layer's file" "cat $T/upper/secret/key2"
try "run the lower layer's program" "exec -a echo $T/lower/denied/tool RAN"
try "run the upper layer's program" "exec -a echo $T/upper/denied/tool2 RAN"
stop_agent
[ -z "$BAD" ] || fail "files under deny rules on overlay paths reached through the layers:$BAD"
