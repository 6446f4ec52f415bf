# boots: lsm
# kernels: 6.12
# file-handle-disconnected: a file under a read-denied directory, opened by
# open_by_handle_at(2) after the dentry cache was dropped, is refused. The kernel then
# builds a DISCONNECTED dentry for the file (d_obtain_alias: its d_parent is itself, so
# no directory above it is met by a walk); the walk sees the DCACHE_DISCONNECTED flag
# where it ends and refuses the open as in a detached tree (rule "detached"). Found by
# attack-variants (a bypass on 5.10, 6.1 and 6.12 before the fix: root read the file
# with no EPERM and no record, 5.10 at the 3rd attempt, 6.1 at the 2nd).
# The filesystem must let its dentries be evicted and support file handles: cgroup2
# (kernfs) here; tmpfs pins its dentries. Whether an attempt meets an evicted dentry is
# up to the kernel, so there are 20 attempts (each drops the caches again): every one
# must be refused with EPERM and a BLOCKED record (by the directory's rule while the
# dentry is still cached, as detached once it was evicted); the count of each is said.
# Twice: with every rule path present, and with one that does not exist yet, which puts
# the module in path mode (another identity walk, sg_walk_global, which goes on past a
# disconnected dentry: there the path walk's detached top refuses it).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

A=/usr/bin/sg-attacktool
C=/sys/fs/cgroup/sg-hd
trap 'rmdir $C 2>/dev/null' EXIT
mkdir -p "$C" || fail "mkdir $C"
# $1: the deny list (TOML array items)
attempts() {
    cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = [$1]
CONF
    start_agent /tmp/sg.toml
    wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
    expect_eperm_file cat "$C/cgroup.procs"

    BYPASS=""
    by_rule=0 detached=0
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
                case $REC in
                    *'"rule":"'"$C"'"'*) by_rule=$((by_rule + 1)) ;;
                    *'"rule":"path in a detached mount tree'*) detached=$((detached + 1)) ;;
                    *) fail "attempt $n: refused by an unexpected rule: $REC" ;;
                esac
                ;;
            *) fail "attempt $n: unexpected: $OUT" ;;
        esac
        n=$((n + 1))
    done
    stop_agent
    [ -z "$BYPASS" ] || fail "read-denied $C/cgroup.procs opened through a disconnected dentry: $BYPASS"
    say "refused: $by_rule by the directory's rule, $detached as disconnected"
}

say "every rule path present"
attempts "\"$C\""
say "a rule path that does not exist yet (path mode)"
attempts "\"$C\", \"/nonexistent/sg-hd/later\""
