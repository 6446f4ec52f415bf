# boots: lsm
# kernels: 6.12
# detect: every built detection, each run for real (sg-detecttool, sg-exectool): one record
# with its name, ATT&CK technique, severity, evidence and the subject's parent and
# grandparent executables. Three policies in one agent (reloads): what `block` refuses gets
# EPERM, what `kill` answers ends before its next step (status 137, nothing printed, no
# side effect), `alert` lets it through; monitor mode only alerts whatever the responses; an
# exclude entry (by executable identity) and `disable` take a detection away; the stats
# record counts detections by severity; `events --module detect` reads them.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

DT=/usr/bin/sg-detecttool
# userns_create needs the LSM hook of 6.7 and later.
case $(uname -r) in 5.* | 6.[0-6].*) USERNS=0 ;; *) USERNS=1 ;; esac

# detect_config MODE RESPONSES [EXTRA]: the detect module alone, stats every second.
detect_config() {
    printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\nstats_interval = "1s"\n' >/tmp/sg.toml
    printf '[detect]\nmode = "%s"\nresponse = %s\n%s\n' "$1" "$2" "${3:-}" >>/tmp/sg.toml
    printf 'exclude = [{ detection = "ptrace_inject", command = ["/opt/sg-gdb"] }]\n' >>/tmp/sg.toml
}

# detected NAME ACTION PATTERN...: a new detect record NAME with ACTION from $SH_PID, with
# the patterns; else a problem.
detected() {
    name=$1 action=$2
    shift 2
    if find_new_record '"module":"detect"' "\"op\":\"$name\"" "\"action\":\"$action\"" "\"pid\":$SH_PID" "$@"; then
        echo "$REC"
    else
        problem "no $action $name record from pid $SH_PID with: $*"
    fi
}

# outcome WANT: the last run_sh ended as WANT: eperm (the tool's EPERM), killed (status
# 137 and nothing printed after the pid line), ok (status 0).
outcome() {
    case $1 in
        eperm) case $OUT in *"Operation not permitted"*) ;; *) problem "want EPERM (status $RC): $OUT" ;; esac ;;
        # opening /proc/PID/mem reports a refused access check as EACCES
        eacces) case $OUT in *"Permission denied"*) ;; *) problem "want EACCES (status $RC): $OUT" ;; esac ;;
        killed)
            rest=$(printf '%s\n' "$OUT" | tail -n +2)
            [ "$RC" = 137 ] && [ -z "$rest" ] || problem "want SIGKILL before the next step (status $RC): $OUT"
            ;;
        ok) [ "$RC" = 0 ] || problem "want success (status $RC): $OUT" ;;
    esac
}

mkdir -p /opt
copy_busybox /opt/bb
copy_busybox /tmp/bb
cp "$DT" /opt/sg-gdb
printf 'junk' >/opt/junk.ko
/bin/sleep 1000 &
TARGET=$!
net_serve 127.0.0.1:4444

detect_config block '{ fileless_exec = "block", exec_from_writable = "alert", reverse_shell = "kill", ptrace_inject = "block", module_load = "block", bpf_load = "block", userns_create = "block" }'
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"detect":"enforcing"'

say "block mode: fileless_exec blocks, exec_from_writable alerts, reverse_shell kills"
mark_records
run_sh "exec /usr/bin/sg-exectool memfd /bin/busybox true"
outcome eperm
detected fileless_exec BLOCKED '"technique":"T1620"' '"severity":"high"' '"level":"WARNING"' \
    '"exe":"/usr/bin/sg-exectool"' '"parent_exe":"/bin/busybox"' '"grandparent_exe":"/bin/busybox"' '"path":"memfd:sg'
run_sh "exec $DT deleted /opt/bb true"
outcome eperm
detected fileless_exec BLOCKED '"path":"/opt/bb'
run_sh "exec -a true /tmp/bb"
outcome ok
detected exec_from_writable ALERT '"technique":"T1105"' '"severity":"medium"' '"path":"/tmp/bb"' '"dir_mode":"1777"'
rm -f /tmp/rs.out
run_sh "exec $DT revshell 127.0.0.1 4444 /bin/sh -c 'echo reached >/tmp/rs.out'"
outcome killed
[ ! -e /tmp/rs.out ] || problem "the killed reverse shell ran"
detected reverse_shell KILLED '"technique":"T1059.004"' '"severity":"critical"' '"level":"CRITICAL"' \
    '"exe":"/usr/bin/sg-detecttool"' '"peer_addr":"127.0.0.1"' '"peer_port":4444' '"fd":0' '"path":"/bin/'

say "block mode: ptrace_inject, module_load, bpf_load, userns_create block"
run_sh "exec $DT ptrace $TARGET"
outcome eperm
detected ptrace_inject BLOCKED '"technique":"T1055.008"' "\"target_pid\":$TARGET" '"target_comm":"sleep"' \
    '"access":"ptrace_or_process_vm"'
run_sh "exec $DT vmwrite $TARGET"
outcome eperm
detected ptrace_inject BLOCKED "\"target_pid\":$TARGET" '"access":"ptrace_or_process_vm"'
run_sh "exec $DT procmem $TARGET"
outcome eacces
detected ptrace_inject BLOCKED "\"target_pid\":$TARGET" '"access":"proc_mem"'
run_sh "exec /opt/sg-gdb ptrace $TARGET"
outcome ok
assert_no_record '"module":"detect"' "\"pid\":$SH_PID"
run_sh "exec $DT initmod"
outcome eperm
detected module_load BLOCKED '"technique":"T1547.006"' '"severity":"high"'
run_sh "exec $DT finitmod /opt/junk.ko"
outcome eperm
detected module_load BLOCKED '"path":"/opt/junk.ko"'
run_sh "exec $DT bpfload"
outcome eperm
detected bpf_load BLOCKED '"technique":"T1014"' '"prog_type":1' '"prog_name":"sg_test_prog"'
if [ "$USERNS" = 1 ]; then
    run_cmd su -s /bin/sh user -c "echo \$\$ \$PPID; exec $DT userns"
    sh_pids
    outcome eperm
    detected userns_create BLOCKED '"technique":"T1068"' '"severity":"low"' '"uid":1000'
fi
end_problems "block mode, first responses"

say "reload: the other responses"
detect_config block '{ fileless_exec = "kill", exec_from_writable = "block", reverse_shell = "block", ptrace_inject = "alert", module_load = "alert", bpf_load = "alert", userns_create = "kill" }'
reload_and_wait 1
mark_records
run_sh "exec /usr/bin/sg-exectool memfd /bin/busybox true"
outcome killed
detected fileless_exec KILLED '"path":"memfd:sg'
run_sh "exec -a true /tmp/bb"
case $OUT in *"Operation not permitted"*) ;; *) problem "exec from /tmp: want EPERM (status $RC): $OUT" ;; esac
detected exec_from_writable BLOCKED '"path":"/tmp/bb"'
run_sh "exec $DT revshell 127.0.0.1 4444 /bin/sh -c 'echo reached >/tmp/rs.out'"
outcome eperm
[ ! -e /tmp/rs.out ] || problem "the blocked reverse shell ran"
detected reverse_shell BLOCKED '"peer_port":4444'
run_sh "exec $DT ptrace $TARGET"
outcome ok
detected ptrace_inject ALERT "\"target_pid\":$TARGET"
run_sh "exec $DT initmod"
case $OUT in *"error: "*) ;; *) problem "init_module of junk: want an error: $OUT" ;; esac
case $OUT in *"Operation not permitted"*) problem "init_module alerted but got EPERM: $OUT" ;; esac
detected module_load ALERT
run_sh "exec $DT bpfload"
outcome ok
detected bpf_load ALERT '"prog_name":"sg_test_prog"'
if [ "$USERNS" = 1 ]; then
    run_cmd su -s /bin/sh user -c "echo \$\$ \$PPID; exec $DT userns"
    sh_pids
    outcome killed
    detected userns_create KILLED '"uid":1000'
fi
end_problems "block mode, second responses"

say "reload: monitor mode only alerts; a disabled detection is silent"
detect_config monitor '{ reverse_shell = "kill", ptrace_inject = "block", bpf_load = "block" }' 'disable = ["bpf_load"]'
reload_and_wait 2
mark_records
run_sh "exec $DT revshell 127.0.0.1 4444 /bin/sh -c 'echo reached >/tmp/rs.out'"
detected reverse_shell ALERT '"peer_port":4444'
i=0
while [ ! -e /tmp/rs.out ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /tmp/rs.out ] || problem "monitor mode: the reverse shell did not run"
run_sh "exec $DT ptrace $TARGET"
outcome ok
detected ptrace_inject ALERT
run_sh "exec $DT bpfload"
outcome ok
BPF_PID=$SH_PID
end_problems "monitor mode"

say "the stats record counts detections by severity; events --module detect"
# critical: reverse_shell x3; high: fileless_exec x3, ptrace_inject x5, module_load x3;
# medium: exec_from_writable x2, bpf_load x2; low: userns_create x2 where the hook is.
wait_for_new_record '"module":"agent"' '"op":"stats"' '"detections":{' "\"low\":$((USERNS * 2))" '"medium":4' \
    '"high":11' '"critical":3'
stop_agent
assert_no_record '"module":"detect"' "\"pid\":$BPF_PID"
run_cmd "$SG" events /tmp/sg.log --module detect
[ "$RC" = 0 ] || fail "events --module detect: status $RC: $OUT"
n=$(printf '%s\n' "$OUT" | grep -c 'reverse_shell')
[ "$n" = 3 ] || fail "events --module detect shows $n reverse_shell records, want 3: $OUT"
n=$(count_records '"module":"detect"')
[ "$n" = $((18 + USERNS * 2)) ] || fail "$n detect records, want $((18 + USERNS * 2))"
kill "$TARGET"
