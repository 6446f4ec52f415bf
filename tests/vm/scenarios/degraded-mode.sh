# boots: nolsm
# degraded-mode: booted without bpf in lsm=, the agent still starts, says so in ONE stderr
# line with the remedy, runs the process module audit-only (the denied executable runs and
# is logged as MONITOR), refuses to start with --require-enforcement, and probe says why.
# probe's text contract (see probe.sh): "BPF LSM active: no" and "effective: degraded";
# --json: "bpf_lsm":false and "effective":"degraded".
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
mode = "block"
ops = ["exec"]
deny = ["/opt/bin/denied"]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"enforcement":"degraded"' '"process":"audit-only"'
n=$(grep -ciE 'degraded|audit-only' "$AGENT_ERR")
[ "$n" = 1 ] || fail "$n stderr lines mention degraded/audit-only mode, want exactly 1"
line=$(grep -iE 'degraded|audit-only' "$AGENT_ERR")
case $line in
    *lsm=*bpf*) say "stderr: $line" ;;
    *) fail "the degraded-mode line names no remedy (lsm=...,bpf): $line" ;;
esac

say "nothing is enforced, the denial is logged"
run_sh 'exec -a true /opt/bin/denied'
[ "$RC" = 0 ] || fail "the denied executable did not run in degraded mode (status $RC: $OUT)"
wait_for_record '"module":"process"' '"op":"exec"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/bin/denied"' '"rule":"/opt/bin/denied"'
stop_agent
assert_no_record '"action":"BLOCKED"'

say "--require-enforcement refuses to run"
rm -f /tmp/sg.log
run_cmd timeout 60 "$SG" run --require-enforcement -c /tmp/sg.toml
[ "$RC" = 1 ] || fail "run --require-enforcement exited $RC, want 1: $OUT"
say "exit 1: $OUT"
assert_no_record '"module":"agent"' '"op":"start"'

say "probe"
run_cmd timeout 60 "$SG" probe
[ "$RC" = 0 ] || fail "probe exited $RC: $OUT"
echo "$OUT"
echo "$OUT" | grep -q '^BPF LSM active:[[:space:]]*no$' || fail "probe: no line 'BPF LSM active: no'"
echo "$OUT" | grep -q '^effective:[[:space:]]*degraded$' || fail "probe: no line 'effective: degraded'"
run_cmd timeout 60 "$SG" probe --json
[ "$RC" = 0 ] || fail "probe --json exited $RC: $OUT"
REC=$OUT
rec_has '"bpf_lsm":false' '"effective":"degraded"'
