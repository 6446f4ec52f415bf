# boots: bench
# bench-outputs: what journald, syslog and the metrics endpoint add to the audited-event
# pipeline, in one boot whose clock counts instructions (-icount shift=0). As bench-audit:
# an audit rule on one file (block mode, nothing denied), N opens of it with the agent
# detached, then with the agent, the loop's own time plus the CPU time every thread of the
# agent spent from before the loop until every record was written and the agent was idle
# again (/proc/PID/task/*/schedstat), the loop in chunks (below). Twice: (a) [log] file
# only; (b) the same plus [output] journald, syslog on /dev/log and metrics on
# 127.0.0.1:9464. The receivers are
# busybox syslogds writing to /dev/null: one on /dev/log, one on the journal's socket
# (busybox's syslogd has no -p: the first one's /dev/log is renamed and
# /run/systemd/journal/socket links to it; it reads the native protocol's datagrams as
# plain messages, which is all a sink needs). Phase (b) fails unless both outputs sent at
# least N records (safeguard_output_records_total, scraped once from /metrics after the
# measurement) and lost at most 1% (lost_outputs of the stop record). Prints one SG-BENCH
# line, which `make bench` collects.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

N=10000
mkdir -p /srv/audit
echo x >/srv/audit/p
cat >/tmp/file.toml <<'EOF_CONFIG'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
audit = ["/srv/audit/p"]
EOF_CONFIG
cp /tmp/file.toml /tmp/all.toml
cat >>/tmp/all.toml <<'EOF_CONFIG'
[output]
journald = true
syslog = "unix:/dev/log"
metrics = "127.0.0.1:9464"
EOF_CONFIG

# wait_dev_log WHO: until a syslogd has made /dev/log, at most 5 s.
wait_dev_log() {
    i=0
    until [ -S /dev/log ]; do
        [ "$i" -lt 50 ] || fail "$1 made no /dev/log"
        sleep 0.1
        i=$((i + 1))
    done
}

# the receivers: the journal's sink first (its /dev/log moved away), then /dev/log's
rm -f /dev/log /dev/journal.sock
syslogd -n -O /dev/null &
journal_pid=$!
wait_dev_log syslogd
mv /dev/log /dev/journal.sock
mkdir -p /run/systemd/journal
ln -sf /dev/journal.sock /run/systemd/journal/socket
syslogd -n -O /dev/null &
syslog_pid=$!
wait_dev_log "the second syslogd"

# drain: waits (at most 60 s) until the agent ran less than 1,000,000 instructions in
# 0.5 s: the outputs' threads have sent what their queues held (the file is written
# before them, so settle alone would stop the count early).
drain() {
    i=0
    prev=$(cpu "$AGENT_PID")
    while [ "$i" -lt 120 ]; do
        sleep 0.5
        now=$(cpu "$AGENT_PID")
        [ $((now - prev)) -lt 1000000 ] && return
        prev=$now
        i=$((i + 1))
    done
}

# The N opens run as CHUNKS loops of N/CHUNKS, each followed by settle and drain: one
# loop of 10,000 outran the agent with every output on (one vCPU shared by the loop,
# the agent and both syslogds; 6.12 lost 2,483 events at the ring buffer), and lost
# events would have cost nothing. The loop's time (sg-loop: CLOCK_MONOTONIC, every
# instruction of the guest while it runs) is the sum over the chunks, detached too.
CHUNKS=10
C=$((N / CHUNKS))
# loops: the CHUNKS loops' summed time (without an agent: no settle, no drain)
loops() {
    sum=0
    for _ in $(seq "$CHUNKS"); do
        t=$(/usr/local/bin/sg-loop open /srv/audit/p $C) || fail "open loop failed"
        sum=$((sum + t))
    done
    echo "$sum"
}
/usr/local/bin/sg-loop open /srv/audit/p $N >/dev/null || fail "open loop failed" # warm the caches
best=""
for _ in 1 2 3; do
    t=$(loops)
    [ -n "$t" ] || fail "open loop failed"
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
done
detached=$best

# phase CONFIG: the chunks with the agent on CONFIG. Sets loop (summed), cpu (the
# agent's, from before each loop until drained), in_loop (the part of cpu that ran
# inside the loops), recv and recv_in_loop (the same for both syslogds) and records.
phase() {
    rm -f /tmp/sg.log
    start_agent "$1"
    sleep 2 # the start's own work (first counters, hits) out of the way
    drain
    loop=0 cpu=0 in_loop=0 recv=0 recv_in_loop=0
    k=0
    while [ "$k" -lt "$CHUNKS" ]; do
        a0=$(cpu "$AGENT_PID")
        r0=$(cpu "$journal_pid" "$syslog_pid")
        t=$(/usr/local/bin/sg-loop open /srv/audit/p $C) || fail "open loop failed"
        a1=$(cpu "$AGENT_PID")
        r1=$(cpu "$journal_pid" "$syslog_pid")
        k=$((k + 1))
        settle $((k * C)) '"path":"/srv/audit/p"'
        drain
        a2=$(cpu "$AGENT_PID")
        r2=$(cpu "$journal_pid" "$syslog_pid")
        loop=$((loop + t)) cpu=$((cpu + a2 - a0)) in_loop=$((in_loop + a1 - a0))
        recv=$((recv + r2 - r0)) recv_in_loop=$((recv_in_loop + r1 - r0))
    done
    records=$(grep -c '"path":"/srv/audit/p"' "$SG_LOG")
    # a lost event costs nothing past the kernel: the figure would be too low
    [ "$records" = "$N" ] || fail "$records of $N audit records written on $1: $(records '"op":"stats"' | tail -n 1)"
}

say "phase a: the log file only"
phase /tmp/file.toml
stop_agent
file_loop=$loop file_cpu=$cpu file_in_loop=$in_loop file_recv=$recv file_recv_in_loop=$recv_in_loop
file_records=$records file_lost=$(stop_total lost_kernel)

say "phase b: the log file, journald, syslog and metrics"
phase /tmp/all.toml
wget -q -O /tmp/metrics http://127.0.0.1:9464/metrics || fail "GET /metrics failed"
"$SG" status | grep '^output ' || fail "status shows no output: $("$SG" status 2>&1)"
stop_agent
all_lost=$(stop_total lost_kernel)
# sent OUTPUT: the records OUTPUT sent, from the scrape; lost OUTPUT: from the stop record
sent() { sed -n "s/^safeguard_output_records_total{output=\"$1\"} \([0-9]*\)$/\1/p" /tmp/metrics; }
lost() {
    records '"module":"agent"' '"op":"stop"' | tail -n 1 |
        sed -n "s/.*\"lost_outputs\":{[^}]*\"$1\":\([0-9]*\).*/\1/p"
}
for o in journald syslog; do
    s=$(sent $o)
    l=$(lost $o)
    if [ -z "$s" ] || [ "$s" -lt "$N" ]; then
        fail "$o sent ${s:-nothing} records, want at least $N: $(grep output /tmp/metrics)"
    fi
    [ "${l:-0}" -le $((N / 100)) ] || fail "$o lost $l records"
    eval "sent_$o=\$s lost_$o=\${l:-0}"
done
kill "$journal_pid" "$syslog_pid" 2>/dev/null
# Two figures per phase. extra: (loop attached - detached + agent cpu) / n, as
# bench-audit's audit-event (comparable with it; the agent's time inside the loops is
# counted twice, and the receivers' time inside them once). agent: the agent's own
# instructions per event, (loop attached - detached - agent and receivers inside the
# loops + agent cpu) / n. recv: both syslogds' instructions per event.
# shellcheck disable=SC2154 # set by the eval above
echo "SG-BENCH outputs-event kernel=$(uname -r) n=$N chunks=$CHUNKS detached=$detached" \
    "file_attached=$file_loop file_agent_cpu=$file_cpu file_agent_in_loop=$file_in_loop" \
    "file_recv=$file_recv file_recv_in_loop=$file_recv_in_loop" \
    "all_attached=$loop all_agent_cpu=$cpu all_agent_in_loop=$in_loop all_recv=$recv all_recv_in_loop=$recv_in_loop" \
    "records=$file_records/$records lost_kernel=${file_lost:-?}/${all_lost:-?}" \
    "journald_sent=$sent_journald journald_lost=$lost_journald syslog_sent=$sent_syslog syslog_lost=$lost_syslog" |
    awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        n = v["n"]
        f = (v["file_attached"] - v["detached"] + v["file_agent_cpu"]) / n
        a = (v["all_attached"] - v["detached"] + v["all_agent_cpu"]) / n
        fa = (v["file_attached"] - v["detached"] - v["file_agent_in_loop"] - v["file_recv_in_loop"] + v["file_agent_cpu"]) / n
        aa = (v["all_attached"] - v["detached"] - v["all_agent_in_loop"] - v["all_recv_in_loop"] + v["all_agent_cpu"]) / n
        printf "SG-BENCH outputs-event kernel=%s n=%d file_only=%.0f all_outputs=%.0f ratio=%.2f", v["kernel"], n, f, a, a / f
        printf " agent_file_only=%.0f agent_all_outputs=%.0f agent_ratio=%.2f recv_all_outputs=%.0f", fa, aa, aa / fa, v["all_recv"] / n
        for (i = 5; i <= NF; i++) printf " %s", $i
        printf "\n"
    }'
