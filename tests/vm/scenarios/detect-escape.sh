# boots: lsm
# kernels: none
# detect-escape: container_escape, each technique run for real from a "container" made by
# unshare (new pid, mount, uts and net namespaces, made by root: a container runtime's;
# the host's /proc stays mounted in it, as in a container given the host's /proc): the
# usermode helpers written (core_pattern, modprobe, uevent_helper where the kernel has it,
# a cgroup v1 release_agent), a host device mounted, /proc/sys bound elsewhere and
# remounted writable, a host process reached through /proc (/proc/1/root, the ns file
# setns would take), a module loaded and one requested. With `block` each is refused
# (EPERM; /proc's links report the refused access check as EACCES) with one record each
# (op container_escape, T1611, critical, via and evidence); runc's in-place read-only
# bind of /proc/sys is no detection. With `alert` each goes through (where it can in the
# VM) and is recorded; with `kill` the task ends before its next step. The same
# operations from the host raise nothing.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

DT=/usr/bin/sg-detecttool
MT=/usr/bin/sg-mounttool

# escape_config RESPONSE: the detect module with container_escape alone.
escape_config() {
    cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[detect]
mode = "block"
response = { container_escape = "$1" }
disable = ["reverse_shell", "fileless_exec", "exec_from_writable", "module_load", "ptrace_inject", "credential_access", "account_tamper", "persistence", "log_tamper", "privilege_escalation", "bpf_load", "userns_create"]
EOF
}

# in_ct SCRIPT: SCRIPT run by a shell in a new container; $OUT and $RC. Records are
# marked first.
in_ct() {
    mark_records
    run_cmd unshare -p -f -m -u -n /bin/sh -c "$1"
}

# escaped VIA ACTION PATTERN...: exactly one new container_escape record VIA with ACTION
# and the patterns, from a task in a container (echoed); else a problem.
escaped() {
    via=$1 action=$2
    shift 2
    if find_new_record '"module":"detect"' '"op":"container_escape"' "\"action\":\"$action\"" "\"via\":\"$via\"" \
        '"technique":"T1611"' '"severity":"critical"' '"level":"CRITICAL"' '"container":true' "$@"; then
        echo "$REC"
    else
        problem "no $action container_escape record via $via with: $*"
    fi
    n=$(tail -n +"$((MARK + 1))" "$SG_LOG" | match '"op":"container_escape"' "\"via\":\"$via\"" | wc -l)
    [ "$n" = 1 ] || problem "$n container_escape records via $via, want 1"
}

# refused WANT: the last in_ct printed WANT (the error) and not "reached" (its next step).
refused() {
    case $OUT in *"$1"*) ;; *) problem "want $1 (status $RC): $OUT" ;; esac
    case $OUT in *reached*) problem "the refused step went on: $OUT" ;; esac
}

CORE=$(cat /proc/sys/kernel/core_pattern)
MODPROBE=$(cat /proc/sys/kernel/modprobe)
UEVENT=0
[ -e /sys/kernel/uevent_helper ] && UEVENT=1
cleanup() {
    echo "$CORE" >/proc/sys/kernel/core_pattern
    echo "$MODPROBE" >/proc/sys/kernel/modprobe
    [ "$UEVENT" = 0 ] || echo >/sys/kernel/uevent_helper
    rm -f /dev/sg-disk
}
trap cleanup EXIT
mkdir -p /opt
printf 'junk' >/opt/junk.ko
mknod /dev/sg-disk b 1 0 || fail "mknod /dev/sg-disk"
mkdir -p /tmp/m /tmp/ps /tmp/cg

escape_config block
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"detect":"enforcing"'

say "block: the usermode helpers"
mark_records
in_ct "echo '|/tmp/sg-evil' >/proc/sys/kernel/core_pattern && echo reached"
refused "Operation not permitted"
escaped core_pattern BLOCKED '"path":"/proc/sys/kernel/core_pattern"'
[ "$(cat /proc/sys/kernel/core_pattern)" = "$CORE" ] || problem "core_pattern changed"
in_ct "echo /tmp/sg-evil >/proc/sys/kernel/modprobe && echo reached"
refused "Operation not permitted"
escaped modprobe BLOCKED '"path":"/proc/sys/kernel/modprobe"'
if [ "$UEVENT" = 1 ]; then
    in_ct "echo /tmp/sg-evil >/sys/kernel/uevent_helper && echo reached"
    refused "Operation not permitted"
    escaped uevent_helper BLOCKED '"path":"/sys/kernel/uevent_helper"'
else
    say "no /sys/kernel/uevent_helper on $(uname -r) (CONFIG_UEVENT_HELPER off)"
fi
in_ct "mount -t cgroup -o none,name=sgesc cgroup /tmp/cg || exit 9; echo /tmp/sg-evil >/tmp/cg/release_agent && echo reached"
refused "Operation not permitted"
escaped release_agent BLOCKED '"path":"/tmp/cg/release_agent"'
end_problems "block: usermode helpers"

say "block: mounts"
in_ct "$MT mount /dev/sg-disk /tmp/m ext4"
refused "Operation not permitted"
escaped mount_device BLOCKED '"source":"/dev/sg-disk"' '"fstype":"ext4"' '"target":"/tmp/m"'
in_ct "$MT mount /proc/sys /tmp/ps - bind"
refused "Operation not permitted"
escaped bind_sys BLOCKED '"source":"/proc/sys"' '"target":"/tmp/ps"'
# runc's read-only /proc/sys: bound onto itself, remounted read-only. Then made writable.
in_ct "$MT mount /proc/sys /proc/sys - bind && $MT mount none /proc/sys - remount && echo reached"
refused "Operation not permitted"
case $OUT in ok*) ;; *) problem "the in-place bind of /proc/sys was refused: $OUT" ;; esac
escaped remount_sys BLOCKED '"target":"/proc/sys"'
n=$(tail -n +"$((MARK + 1))" "$SG_LOG" | match '"op":"container_escape"' | wc -l)
[ "$n" = 1 ] || problem "$n container_escape records for the in-place bind and the remount, want 1"
end_problems "block: mounts"

say "block: a host process through /proc; modules"
in_ct "cat /proc/1/root/proc/version && echo reached"
refused "Permission denied"
escaped host_process BLOCKED '"target_pid":1' '"access":"read"'
# The ns file setns takes. 5.10 (seen on 5.10.262) opens the ns directory instead when the
# access check refuses the link, so the namespace is not reached there either.
in_ct "exec 3</proc/1/ns/mnt && readlink /proc/self/fd/3 && echo reached"
case $(uname -r):$OUT in
    5.10.*:/proc/1/ns*reached*) say "5.10: the refused link opened /proc/1/ns, not the namespace" ;;
    *) refused "Permission denied" ;;
esac
case $OUT in *"mnt:["*) problem "the host's mount namespace was opened: $OUT" ;; esac
escaped host_process BLOCKED '"target_pid":1'
in_ct "$DT initmod && echo reached"
refused "Operation not permitted"
escaped module_load BLOCKED
in_ct "$DT finitmod /opt/junk.ko && echo reached"
refused "Operation not permitted"
escaped module_load BLOCKED '"path":"/opt/junk.ko"'
# request_module("fs-sgnofs"): the mount fails (no such filesystem) either way.
in_ct "$MT mount none /tmp/m sgnofs"
escaped module_request BLOCKED '"module_name":"fs-sgnofs"'
end_problems "block: host process, modules"

say "block: the same from the host raise nothing"
mark_records
echo "$CORE" >/proc/sys/kernel/core_pattern || problem "host: core_pattern write"
echo "$MODPROBE" >/proc/sys/kernel/modprobe || problem "host: modprobe write"
run_cmd unshare -m /bin/sh -c "$MT mount /proc/sys /tmp/ps - bind && cat /proc/1/root/proc/version && exec 3</proc/1/ns/mnt && echo reached"
case $OUT in *reached*) ;; *) problem "host: bind of /proc/sys, /proc/1: $OUT" ;; esac
run_cmd "$MT" mount /dev/sg-disk /tmp/m ext4
case $OUT in *"not permitted"*) problem "host: device mount refused: $OUT" ;; esac
run_cmd "$DT" finitmod /opt/junk.ko
case $OUT in *"not permitted"*) problem "host: finit_module refused: $OUT" ;; esac
run_cmd "$MT" mount none /tmp/m sgnofs
sleep 1
n=$(tail -n +"$((MARK + 1))" "$SG_LOG" | match '"module":"detect"' | wc -l)
[ "$n" = 0 ] || problem "$n detect records from the host"
end_problems "block: host"

say "reload: alert lets each through, recorded"
escape_config alert
reload_and_wait 1
mark_records
in_ct "echo '|/tmp/sg-evil' >/proc/sys/kernel/core_pattern && echo reached"
case $OUT in *reached*) ;; *) problem "alert: core_pattern write: $OUT" ;; esac
escaped core_pattern ALERT '"path":"/proc/sys/kernel/core_pattern"'
[ "$(cat /proc/sys/kernel/core_pattern)" = "|/tmp/sg-evil" ] || problem "alert: core_pattern not written"
echo "$CORE" >/proc/sys/kernel/core_pattern
in_ct "mount -t cgroup -o none,name=sgesc cgroup /tmp/cg && echo /tmp/sg-evil >/tmp/cg/release_agent && echo reached"
case $OUT in *reached*) ;; *) problem "alert: release_agent write: $OUT" ;; esac
escaped release_agent ALERT
in_ct "$MT mount /dev/sg-disk /tmp/m ext4"
case $OUT in *"not permitted"*) problem "alert: device mount refused: $OUT" ;; esac
escaped mount_device ALERT '"source":"/dev/sg-disk"'
in_ct "$MT mount /proc/sys /tmp/ps - bind && cat /tmp/ps/kernel/modprobe && echo reached"
case $OUT in *reached*) ;; *) problem "alert: bind of /proc/sys: $OUT" ;; esac
escaped bind_sys ALERT '"target":"/tmp/ps"'
in_ct "cat /proc/1/root/proc/version && echo reached"
case $OUT in *Linux*reached*) ;; *) problem "alert: /proc/1/root: $OUT" ;; esac
escaped host_process ALERT '"target_pid":1'
in_ct "$DT initmod"
case $OUT in *"not permitted"*) problem "alert: init_module refused: $OUT" ;; esac
escaped module_load ALERT
end_problems "alert"

say "reload: kill ends the escaping task before its next step"
escape_config kill
reload_and_wait 2
in_ct "/bin/sh -c 'echo /tmp/sg-evil >/proc/sys/kernel/core_pattern; echo reached'; echo status \$?"
case $OUT in *reached*) problem "kill: the shell went on: $OUT" ;; esac
case $OUT in *"status 137"*) ;; *) problem "kill: want status 137: $OUT" ;; esac
escaped core_pattern KILLED '"path":"/proc/sys/kernel/core_pattern"'
[ "$(cat /proc/sys/kernel/core_pattern)" = "$CORE" ] || problem "kill: core_pattern changed"
end_problems "kill"
stop_agent
