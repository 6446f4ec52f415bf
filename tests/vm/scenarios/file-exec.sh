# boots: lsm
# kernels: 6.12
# file-exec: a file rule with ops = ["exec"] refuses running the file (execve fails with
# EPERM: the shell reports it and exits 126; one BLOCKED record with op exec), while reading
# it is allowed. An exec opens the file for reading too, and is judged as exec only: so a
# rule with ops = ["read"] refuses cat but lets the file run.
# Every check is tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

copy_busybox /opt/tools/x
copy_busybox /opt/tools/y
copy_busybox /opt/ro/z
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "/opt/tools/x", ops = ["exec"] }, { path = "/opt/ro", ops = ["read"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

say "running /opt/tools/x is refused with EPERM"
run_sh 'exec /opt/tools/x true'
x_pid=$SH_PID
case $OUT in
    *"Operation not permitted"*) [ "$RC" = 126 ] || problem "exec /opt/tools/x: status $RC (want 126): $OUT" ;;
    *) problem "exec /opt/tools/x: no EPERM, status $RC (139 = SIGSEGV), output: $OUT" ;;
esac
if find_new_record '"module":"file"' '"action":"BLOCKED"' '"path":"/opt/tools/x"'; then
    echo "$REC"
    for p in '"op":"exec"' "\"pid\":$x_pid" '"comm":"sh"' \
        '"rule":"{ path = \"/opt/tools/x\", ops = [\"exec\"] }"'; do
        case $REC in *"$p"*) ;; *) problem "the BLOCKED record for /opt/tools/x lacks $p" ;; esac
    done
else
    problem "no BLOCKED record for /opt/tools/x"
fi

say "reading /opt/tools/x is allowed"
run_cmd cmp /opt/tools/x /bin/busybox
[ "$RC" = 0 ] || problem "cmp /opt/tools/x /bin/busybox: status $RC, output: $OUT"

say "another copy runs"
run_sh 'exec -a true /opt/tools/y'
[ "$RC" = 0 ] || problem "/opt/tools/y (as true): status $RC, output: $OUT"

say "a read-only rule: reading /opt/ro/z is refused, running it is not"
run_cmd cat /opt/ro/z
case $OUT in *"Operation not permitted"*) ;; *) problem "cat /opt/ro/z: no EPERM (status $RC)" ;; esac
run_sh 'exec -a true /opt/ro/z'
[ "$RC" = 0 ] || problem "running /opt/ro/z (as true): status $RC, output: $OUT (an exec is not a read)"

stop_agent
echo "--- file records:"
records '"module":"file"'
n=$(count_records '"module":"file"' '"path":"/opt/tools/x"')
[ "$n" = 1 ] || problem "$n records for /opt/tools/x, want 1 (the refused exec)"
n=$(count_records '"module":"file"' '"path":"/opt/ro/z"')
[ "$n" = 1 ] || problem "$n records for /opt/ro/z, want 1 (the refused cat)"
end_problems problems
