# boots: bench
# bench-audit: the audited-event pipeline end to end (hook, ring buffer, decode, JSON,
# write), in one boot whose clock counts instructions (-icount shift=0). An audit rule on
# one file (block mode, nothing denied); N opens of it with the agent detached, then with
# the agent: the loop's own CPU time (SG_LOOP_CLOCK=cpu: the hook and the ring buffer, in
# the opening process) plus the CPU time every thread of the agent spent from before the
# loop until the last record was in the log (/proc/PID/task/*/schedstat; under -icount
# both count instructions). Not the loop's elapsed time: the one vCPU runs the agent's
# threads in between the opens, and their time would be counted twice. Then a burst of BURST opens: every event written or
# counted lost (lost_kernel). Losses are reported, not failed on (this measures).
# Prints two SG-BENCH lines, which `make bench` collects.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

N=20000
BURST=100000
export SG_LOOP_CLOCK=cpu
mkdir -p /srv/audit
echo x >/srv/audit/p
cat >/tmp/sg.toml <<'EOF_CONFIG'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
audit = ["/srv/audit/p"]
EOF_CONFIG

/usr/local/bin/sg-loop open /srv/audit/p $N >/dev/null || fail "open loop failed" # warm the caches
best=""
for _ in 1 2 3; do
    t=$(/usr/local/bin/sg-loop open /srv/audit/p $N) || fail "open loop failed"
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
done
detached=$best

start_agent /tmp/sg.toml
sleep 2 # the start's own work (first counters, hits) out of the way
cpu0=$(cpu "$AGENT_PID")
loop=$(/usr/local/bin/sg-loop open /srv/audit/p $N) || fail "open loop failed"
settle $N '"path":"/srv/audit/p"'
cpu1=$(cpu "$AGENT_PID")
records=$(grep -c '"path":"/srv/audit/p"' "$SG_LOG")
stop_agent
lost=$(stop_total lost_kernel)
echo "SG-BENCH audit-event kernel=$(uname -r) n=$N detached=$detached attached=$loop agent_cpu=$((cpu1 - cpu0)) records=$records lost_kernel=${lost:-?}" |
    awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%s extra_per_event=%.0f (in the hook %.0f, in the agent %.0f)\n", $0,
            (v["attached"] - v["detached"] + v["agent_cpu"]) / v["n"],
            (v["attached"] - v["detached"]) / v["n"], v["agent_cpu"] / v["n"]
    }'

rm -f /tmp/sg.log
start_agent /tmp/sg.toml
sleep 2
/usr/local/bin/sg-loop open /srv/audit/p $BURST >/dev/null || fail "open loop failed"
settle $BURST '"path":"/srv/audit/p"'
records=$(grep -c '"path":"/srv/audit/p"' "$SG_LOG")
stop_agent
echo "SG-BENCH audit-burst kernel=$(uname -r) n=$BURST written=$(stop_total written)" \
    "lost_kernel=$(stop_total lost_kernel) records=$records"
