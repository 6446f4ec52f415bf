# boots: lsm
# kernels: 6.1
# agent-accounting: nothing is lost silently. Under a stress of audited operations the
# agent's stop record balances: produced (counted by the kernel) = written + lost, and the
# log holds exactly `written` event records. With a ring buffer too small for the load
# (SAFEGUARD_RING_KIB, the test knob) the kernel's losses are counted per op and reported
# in an ERROR stats record, and the balance still holds.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /srv/stress
echo data >/srv/stress/f
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
stats_interval = "1s"
[file]
mode = "monitor"
audit = ["/srv/stress"]
ops = ["read"]
[process]
mode = "monitor"
ops = ["fork", "exec", "exit"]
EOF

# totals_of FIELD: FIELD of the totals in the stop record ($REC).
totals_of() {
    printf '%s\n' "$REC" | sed -n "s/.*\"totals\":{\"produced\":[0-9]*.*\"$1\":\([0-9]*\).*/\1/p;s/.*\"totals\":{\"$1\":\([0-9]*\).*/\1/p" | head -n 1
}

# stress SECONDS: four shells open the audited file as fast as they can (a redirection:
# no fork), and one forks and execs, for SECONDS.
stress() {
    rm -f /tmp/stop-stress
    pids=""
    for i in 1 2 3 4; do
        /bin/sh -c 'while [ ! -e /tmp/stop-stress ]; do read -r x </srv/stress/f; done' &
        pids="$pids $!"
    done
    /bin/sh -c 'while [ ! -e /tmp/stop-stress ]; do /bin/true; done' &
    pids="$pids $!"
    sleep "$1"
    touch /tmp/stop-stress
    i=0
    for pid in $pids; do
        while alive "$pid"; do
            [ "$i" -lt 150 ] || { ps; fail "the stress shells did not stop within 30 s"; }
            sleep 0.2
            i=$((i + 1))
        done
    done
}

# balance: the stop record's totals add up, and the log holds `written` event records.
balance() {
    wait_for_record '"module":"agent"' '"op":"stop"'
    produced=$(totals_of produced)
    written=$(totals_of written)
    filtered=$(totals_of filtered)
    lost=$(totals_of lost)
    lost_kernel=$(totals_of lost_kernel)
    say "produced $produced, written $written, filtered $filtered, lost $lost (kernel $lost_kernel)"
    [ -n "$produced" ] && [ -n "$written" ] && [ -n "$filtered" ] && [ -n "$lost" ] ||
        fail "stop record lacks totals: $REC"
    [ "$produced" -ge 1000 ] || fail "only $produced events produced: the stress did not run"
    [ "$produced" = $((written + filtered + lost)) ] ||
        fail "produced $produced != written $written + filtered $filtered + lost $lost"
    # Events in the log: a folded record stands for `count` of them.
    events=$(grep -v '"module":"agent"' "$SG_LOG" |
        awk '{ n = 1; if (match($0, /"count":[0-9]+/)) n = substr($0, RSTART + 8, RLENGTH - 8); s += n } END { print s + 0 }')
    [ "$events" = "$written" ] || fail "the log holds $events events, the agent says it wrote $written"
}

say "a stress with the default ring buffer"
start_agent /tmp/sg.toml
stress 5
stop_agent
balance

say "a stress with a 16 KiB ring buffer: the kernel must lose events, and count them"
rm -f /tmp/sg.log
SAFEGUARD_RING_KIB=16
export SAFEGUARD_RING_KIB
start_agent /tmp/sg.toml
stress 5
stop_agent
balance
[ "$lost_kernel" -gt 0 ] || fail "no event lost with a 16 KiB ring buffer: the loss path was not exercised"
rec_has '"lost_kernel_by_op":{' '"file.read":'
wait_for_record '"op":"stats"' '"level":"ERROR"'
rec_has '"lost_kernel":'
