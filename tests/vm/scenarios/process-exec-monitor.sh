# boots: lsm
# kernels: none
# process-exec-monitor: monitor mode lets the denied executable run and writes a MONITOR
# record for it (and no BLOCKED one).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

copy_busybox /opt/bin/denied
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
ops = ["exec"]
deny = ["/opt/bin/denied"]
EOF

start_agent /tmp/sg.toml
# exec -a: a busybox copy needs an applet name as argv[0] to do anything.
run_sh 'exec -a true /opt/bin/denied'
[ "$RC" = 0 ] || fail "the denied executable did not run in monitor mode (status $RC: $OUT)"
wait_for_record '"module":"process"' '"op":"exec"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/bin/denied"' '"exe":"/opt/bin/denied"' '"rule":"/opt/bin/denied"' \
    '"uid":0' '"hostname":"sg-guest"'
stop_agent
assert_no_record '"action":"BLOCKED"'
# Judged at its open and at bprm_check: reported once.
n=$(count_records '"action":"MONITOR"' "\"pid\":$SH_PID")
[ "$n" = 1 ] || fail "$n MONITOR records for pid $SH_PID, want 1"
