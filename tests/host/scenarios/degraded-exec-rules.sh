# degraded-exec-rules: on a kernel that refuses BPF LSM the agent runs audit-only and
# judges every exec in the exec tracepoint with the same rules as the LSM hook: a denied
# file is reported (MONITOR) by its path, through a hard link made before the agent
# started, a symlink, a relative path and a path deeper than the walk's limit; other files
# are not. Run by tests/host/run.sh in a fresh directory $SG_WORK.
# shellcheck shell=sh source=../../vm/lib.sh
. "$SG_LIB"
AGENT_ERR=$SG_WORK/agent.err
AGENT_OUT=$SG_WORK/agent.out

mkdir -p "$SG_WORK/bin" "$SG_WORK/denied-dir"
cp /bin/true "$SG_WORK/bin/denied"
ln "$SG_WORK/bin/denied" "$SG_WORK/hardlink"
ln -s "$SG_WORK/bin/denied" "$SG_WORK/symlink"
cp /bin/true "$SG_WORK/denied-dir/tool"
cp /bin/true "$SG_WORK/bin/free"
cat >"$SG_WORK/sg.toml" <<TOML
[log]
format = "json"
output = "$SG_WORK/sg.log"
stats_interval = "1s"
[process]
mode = "block"
ops = ["exec", "fork", "exit"]
deny = ["$SG_WORK/bin/denied", "$SG_WORK/denied-dir"]
TOML

start_agent "$SG_WORK/sg.toml"
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"enforcement":"degraded"' '"process":"audit-only"'

say "a denied file runs (audit-only) and is reported"
"$SG_WORK/bin/denied" || fail "the denied file did not run in degraded mode"
wait_for_record '"action":"MONITOR"' "\"filename\":\"$SG_WORK/bin/denied\""
rec_has '"level":"WARNING"' "\"rule\":\"$SG_WORK/bin/denied\"" "\"exe\":\"$SG_WORK/bin/denied\"" '"uid":0'

say "hard link, symlink and relative path reach the same rule"
"$SG_WORK/hardlink" || fail "hardlink did not run"
wait_for_record '"action":"MONITOR"' "\"filename\":\"$SG_WORK/hardlink\""
rec_has "\"rule\":\"$SG_WORK/bin/denied\""
"$SG_WORK/symlink" || fail "symlink did not run"
wait_for_record '"action":"MONITOR"' "\"filename\":\"$SG_WORK/symlink\""
rec_has "\"exe\":\"$SG_WORK/bin/denied\"" "\"rule\":\"$SG_WORK/bin/denied\""
(cd "$SG_WORK/bin" && ./denied) || fail "relative path did not run"
wait_for_record '"action":"MONITOR"' '"filename":"./denied"'
rec_has "\"exe\":\"$SG_WORK/bin/denied\""

say "a directory rule covers what is below it, not a sibling that starts the same"
"$SG_WORK/denied-dir/tool" || fail "tool did not run"
wait_for_record '"action":"MONITOR"' "\"filename\":\"$SG_WORK/denied-dir/tool\""
rec_has "\"rule\":\"$SG_WORK/denied-dir\""
mkdir -p "$SG_WORK/denied-dir-sibling" && cp /bin/true "$SG_WORK/denied-dir-sibling/tool"
"$SG_WORK/denied-dir-sibling/tool"

say "a path deeper than the walk's limit under a denied directory is still denied"
deep="$SG_WORK/denied-dir"
for i in $(seq 1 70); do deep="$deep/d$i"; done
mkdir -p "$deep" && cp /bin/true "$deep/deep-tool"
"$deep/deep-tool" || fail "deep tool did not run"
wait_for_record '"action":"MONITOR"' '"truncated":true' 'deep-tool'

say "a file no rule covers is not reported"
"$SG_WORK/bin/free" || fail "free did not run"
wait_for_record '"op":"exec"' "\"filename\":\"$SG_WORK/bin/free\""
stop_agent
assert_no_record '"action":"MONITOR"' "\"filename\":\"$SG_WORK/bin/free\""
assert_no_record '"action":"MONITOR"' "denied-dir-sibling"
assert_no_record '"action":"BLOCKED"'
