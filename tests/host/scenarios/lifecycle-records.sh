# lifecycle-records: fork records carry the child's pid, exec records argv, exit records
# the exit code or the signal; the periodic stats record counts events and losses.
# shellcheck shell=sh source=../../vm/lib.sh
. "$SG_LIB"
AGENT_ERR=$SG_WORK/agent.err
AGENT_OUT=$SG_WORK/agent.out

cat >"$SG_WORK/sg.toml" <<TOML
[log]
format = "json"
output = "$SG_WORK/sg.log"
stats_interval = "1s"
[process]
ops = ["fork", "exec", "exit"]
TOML
start_agent "$SG_WORK/sg.toml"

sh -c 'exit 7' &
child=$!
wait $child
wait_for_record '"op":"fork"' "\"child_pid\":$child"
rec_has "\"pid\":$$"
wait_for_record '"op":"exit"' "\"pid\":$child" '"exit_code":7'

sleep 30 &
sleeper=$!
wait_for_record '"op":"exec"' "\"pid\":$sleeper" '"argv":["sleep","30"]'
kill -9 $sleeper
wait_for_record '"op":"exit"' "\"pid\":$sleeper" '"signal":9'
rec_has '"comm":"sleep"' '"exe":"/usr/bin/sleep"'

say "odd bytes in a file name are escaped, never dropped"
odd="$SG_WORK/$(printf 'odd\377name\nx')"
cp /bin/true "$odd"
"$odd"
wait_for_record '"op":"exec"' 'odd\\xffname\nx'

wait_for_record '"module":"agent"' '"op":"stats"'
rec_has '"lost_kernel":0' '"lost_queue":0'
stop_agent
wait_for_record '"module":"agent"' '"op":"stop"' '"totals":{'
