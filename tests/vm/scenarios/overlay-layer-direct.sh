# boots: lsm
# kernels: 5.10
# overlay-layer-direct: a deny rule that names a path INSIDE an overlayfs mount (a file
# or process rule on $O/secret, $O/denied) holds on the same files reached through the
# overlay's layer directories: `cat LOWER/secret/key`, `LOWER/denied/tool` and the upper
# layer's files are refused as the overlay's are. Found by attack4 on 5.10, 6.1 and
# 6.12, as root (any user who may read the layer directories): the overlay's inodes are
# not the layers', and the layer's path is not the rule's. The agent now gives such a
# rule the same path in each layer the mount's options name (rule_paths.rs,
# overlay_layer_paths).
# This scenario passes when the layers' files are refused too (EPERM and a BLOCKED record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

T=/mnt/old-t
O=/mnt/old-o
overlay_scratch "$T" "$O"
mkdir -p "$T/lower/secret" "$T/lower/denied" "$T/upper/secret" "$T/upper/denied" "$T/work"
echo s3cret >"$T/lower/secret/key"
echo s3cret >"$T/upper/secret/key2"
copy_busybox "$T/lower/denied/tool"
copy_busybox "$T/upper/denied/tool2"
mount_overlay "$T/lower" "$T/upper" "$T/work" "$O"

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
# try NAME SCRIPT: SCRIPT must be refused (expect_refused).
try() {
    mark_records
    run_cmd /bin/sh -c "$2"
    expect_refused "$1"
}

try "read through the overlay (control)" "cat $O/secret/key"
try "run through the overlay (control)" "exec -a echo $O/denied/tool RAN"
try "read the lower layer's file" "cat $T/lower/secret/key"
try "read the upper layer's file" "cat $T/upper/secret/key2"
try "run the lower layer's program" "exec -a echo $T/lower/denied/tool RAN"
try "run the upper layer's program" "exec -a echo $T/upper/denied/tool2 RAN"
stop_agent
[ -z "$BAD" ] || fail "files under deny rules on overlay paths reached through the layers:$BAD"
