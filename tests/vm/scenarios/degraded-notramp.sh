# boots: notramp
# degraded-notramp: an arm64 kernel before 6.4 (Debian's 5.10 and 6.1; openEuler 22.03's
# 5.10 on Kunpeng) lists bpf as an active LSM but cannot attach BPF LSM or fentry programs:
# arm64 has BPF trampolines only from 6.4. The agent starts degraded and says so in ONE
# stderr line that names the cause and a remedy that can work (a newer kernel, not lsm=);
# process rules run audit-only through tracepoints (the denied program runs and is logged
# as MONITOR); the file module, which needs fentry there, is off; --require-enforcement
# exits 1; probe reports "effective: degraded". (network-degraded and mount-degraded run on
# these boots too.)
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

copy_busybox /opt/bin/denied
cat >/tmp/sg.toml <<'EOF2'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "/opt/secret", ops = ["read"] }]
[network]
enable = false
[process]
mode = "block"
ops = ["exec"]
deny = ["/opt/bin/denied"]
EOF2
echo secret >/opt/secret

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"enforcement":"degraded"' '"process":"audit-only"' '"file":"off"'
n=$(grep -ciE 'degraded|audit-only' "$AGENT_ERR")
[ "$n" = 1 ] || fail "$n stderr lines mention degraded/audit-only mode, want exactly 1"
line=$(grep -iE 'degraded|audit-only' "$AGENT_ERR")
say "stderr: $line"
case $line in
    *"arm64"*"trampolines"*"Remedy: boot an arm64 kernel 6.4 or later"*) ;;
    *) fail "the degraded-mode line does not name the missing arm64 trampolines and a newer kernel" ;;
esac
case $line in *"lsm="*) fail "the line sends the administrator to lsm=, which cannot help here" ;; esac

say "nothing is enforced, the denial is logged"
run_sh 'exec -a true /opt/bin/denied'
[ "$RC" = 0 ] || fail "the denied executable did not run in degraded mode (status $RC: $OUT)"
wait_for_record '"module":"process"' '"op":"exec"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/bin/denied"' '"rule":"/opt/bin/denied"'
[ "$(cat /opt/secret)" = secret ] || fail "the file module refused a read while off"
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
echo "$OUT" | grep -q '^bpf in LSM list:[[:space:]]*yes$' || fail "probe: no line 'bpf in LSM list: yes'"
echo "$OUT" | grep -q '^LSM program:[[:space:]]*refused' || fail "probe: the LSM program was not refused"
echo "$OUT" | grep -q '^fentry:[[:space:]]*refused' || fail "probe: the fentry program was not refused"
echo "$OUT" | grep -q '^effective:[[:space:]]*degraded$' || fail "probe: no line 'effective: degraded'"
run_cmd timeout 60 "$SG" probe --json
[ "$RC" = 0 ] || fail "probe --json exited $RC: $OUT"
REC=$OUT
rec_has '"bpf_lsm":false' '"effective":"degraded"' '"bpf_in_lsm_list":true'
