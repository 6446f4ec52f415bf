# boots: lsm
# file-exec: a file rule with ops = ["exec"] refuses running the file (EPERM from execve,
# one BLOCKED record with op exec), while reading it is allowed: an exec opens the file for
# reading too, and is judged as exec only.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

copy_busybox /opt/tools/x
copy_busybox /opt/tools/y
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "/opt/tools/x", ops = ["exec"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

say "running it is refused"
expect_eperm_sh 'exec /opt/tools/x true'
wait_for_record '"module":"file"' '"op":"exec"' '"action":"BLOCKED"' '"path":"/opt/tools/x"'
rec_has "\"pid\":$SH_PID" "\"ppid\":$SH_PPID" '"comm":"sh"' '"exe":"/bin/busybox"' \
    '"rule":"{ path = \"/opt/tools/x\", ops = [\"exec\"] }"' '"level":"WARNING"'

say "reading it is allowed, and gives no record"
expect_ok cmp /opt/tools/x /bin/busybox

say "another copy runs"
run_sh 'exec -a true /opt/tools/y'
[ "$RC" = 0 ] || fail "/opt/tools/y (as true) failed: status $RC, output: $OUT"

stop_agent
n=$(count_records '"module":"file"')
[ "$n" = 1 ] || fail "$n file records, want 1 (the refused exec)"
