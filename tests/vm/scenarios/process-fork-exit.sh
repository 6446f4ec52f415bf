# boots: all
# kernels: 6.1
# process-fork-exit: life-cycle records, with BPF LSM and in degraded mode alike (they
# come from tracepoints): fork (pid = parent, child_pid = child), exec (argv) and exit
# (exit_code, or signal for a killed task).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
enable = false
[network]
enable = false
[process]
mode = "monitor"
ops = ["fork", "exec", "exit"]
EOF

start_agent /tmp/sg.toml

say "fork and exit code"
/bin/sh -c 'exit 7' &
child=$!
wait "$child"
[ "$?" = 7 ] || fail "sh -c 'exit 7' did not exit 7"
wait_for_record '"module":"process"' '"op":"fork"' "\"child_pid\":$child"
rec_has "\"pid\":$$"
wait_for_record '"module":"process"' '"op":"exit"' "\"pid\":$child"
rec_has '"exit_code":7'

say "exec argv and death by signal"
# A full path: busybox sh runs a bare "sleep" as execve("/proc/self/exe", ["sleep",...]).
/bin/sleep 30 &
child=$!
# Kill it only once it is sleep: the exec must have happened.
i=0
until [ "$(cat "/proc/$child/comm" 2>/dev/null)" = sleep ]; do
    [ "$i" -lt 50 ] || fail "sleep did not start"
    sleep 0.1
    i=$((i + 1))
done
kill -9 "$child"
wait "$child"
wait_for_record '"module":"process"' '"op":"exec"' "\"pid\":$child" '"argv":["/bin/sleep","30"]'
rec_has '"comm":"sleep"' '"filename":"/bin/sleep"'
wait_for_record '"module":"process"' '"op":"exit"' "\"pid\":$child" '"signal":9'
stop_agent
