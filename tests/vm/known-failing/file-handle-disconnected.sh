# boots: lsm
# file-handle-disconnected (KNOWN FAILING, intermittent, on 5.10, 6.1 and 6.12): a file
# under a read-denied directory
# is opened by open_by_handle_at(2) after the dentry cache was dropped. The kernel then
# builds a DISCONNECTED dentry for the file (d_obtain_alias: its d_parent is itself, so
# no directory above it is met by a walk); root (CAP_DAC_READ_SEARCH) reads the file with
# no EPERM and no record. Found by attack-variants (attack2). Seen: 5.10.262 at the 3rd
# attempt and 6.1.192 at the 2nd (two runs each); 6.12.118 once in a single attempt
# (attack-variants), not in two later runs of 10 and 20. A dentry still cached is
# connected and refused.
# The filesystem must let its dentries be evicted and support file handles: cgroup2
# (kernfs) here; tmpfs pins its dentries (not reproducible there). Disk filesystems
# (ext4, xfs: `echo 2 >/proc/sys/vm/drop_caches` evicts their dentries too) were not
# tried: the guests have no block device.
# Steps: mkdir /sys/fs/cgroup/sg-hd; [file] mode = "block", deny = ["/sys/fs/cgroup/sg-hd"];
# then as root: name_to_handle_at(/sys/fs/cgroup/sg-hd/cgroup.procs), write 2 to
# /proc/sys/vm/drop_caches, open_by_handle_at(fd of /sys/fs/cgroup, handle, O_RDONLY):
# it succeeds (its /proc/self/fd link reads "/"), and read(2) returns the file.
# Tried up to 20 times (each drops the caches again); the scenario FAILs when any attempt
# opens the file (and says whether that attempt's pid has a record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

A=/usr/bin/sg-attacktool
C=/sys/fs/cgroup/sg-hd
trap 'rmdir $C 2>/dev/null' EXIT
mkdir -p "$C" || fail "mkdir $C"
cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = ["$C"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
expect_eperm_file cat "$C/cgroup.procs"

BYPASS=""
n=1
while [ "$n" -le 20 ]; do
    mark_records
    run_sh "exec $A handle-drop $C/cgroup.procs /sys/fs/cgroup"
    say "attempt $n (pid $SH_PID): status $RC: $OUT"
    case $OUT in
        *"opened as:"*)
            BYPASS="attempt $n opened it: $OUT"
            if find_new_record "\"pid\":$SH_PID,"; then
                BYPASS="$BYPASS; record: $REC"
            else
                BYPASS="$BYPASS; no record from pid $SH_PID"
            fi
            break
            ;;
        *"Operation not permitted"*)
            find_new_record '"action":"BLOCKED"' "\"pid\":$SH_PID," || fail "attempt $n: EPERM but no BLOCKED record"
            ;;
        *) fail "attempt $n: unexpected: $OUT" ;;
    esac
    n=$((n + 1))
done
stop_agent
[ -z "$BYPASS" ] || fail "read-denied $C/cgroup.procs opened through a disconnected dentry: $BYPASS"
