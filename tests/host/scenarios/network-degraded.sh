# network-degraded: on a kernel that refuses BPF LSM the network module runs audit-only:
# a TCP connect to a denied loopback address succeeds and gives one MONITOR record with
# the task, the addresses, the port and the rule (tracepoint inet_sock_set_state), and so
# does the accepted end of that connection; other addresses give no record.
# Run by tests/host/run.sh in a fresh directory $SG_WORK.
# shellcheck shell=sh source=../../vm/lib.sh
. "$SG_LIB"
AGENT_ERR=$SG_WORK/agent.err
AGENT_OUT=$SG_WORK/agent.out

port=$((20000 + $$ % 10000))
cat >"$SG_WORK/sg.toml" <<TOML
[log]
format = "json"
output = "$SG_WORK/sg.log"
[network]
mode = "block"
cidr = { deny = ["127.0.0.2/32"] }
TOML

python3 - "$port" >"$SG_WORK/server.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
print("listening", flush=True)
while True:
    c, peer = s.accept()
    print("accepted", peer[0], flush=True)
    c.close()
PY
server=$!
trap 'kill $server 2>/dev/null' EXIT

start_agent "$SG_WORK/sg.toml"
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"enforcement":"degraded"' '"network":"audit-only"'

connect() {
    python3 -c 'import os, socket, sys
print(os.getpid(), flush=True)
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
print("connected", flush=True)' "$1" "$port"
}

say "a denied address connects (audit-only) and is reported"
out=$(connect 127.0.0.2) || fail "connect to 127.0.0.2 failed in degraded mode: $out"
pid=$(echo "$out" | head -n 1)
wait_for_record '"module":"network"' '"op":"connect"' '"action":"MONITOR"' "\"pid\":$pid"
rec_has '"level":"WARNING"' '"comm":"python3"' '"family":"ipv4"' '"protocol":"tcp"' \
    '"dst_addr":"127.0.0.2"' "\"dst_port\":$port" '"rule":"cidr.deny 127.0.0.2/32"'

say "the accepted end is reported too (peer 127.0.0.2 only when the source is that address)"
out=$(python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.2", 0)); s.settimeout(3)
s.connect(("127.0.0.3", int(sys.argv[1]))); s.close(); print("connected")' "$port") || fail "connect from 127.0.0.2 failed: $out"
wait_for_record '"module":"network"' '"op":"accept"' '"action":"MONITOR"' '"src_addr":"127.0.0.2"'
rec_has '"dst_addr":"127.0.0.3"' "\"dst_port\":$port" '"rule":"cidr.deny 127.0.0.2/32"'

say "other addresses are not reported"
out=$(connect 127.0.0.3) || fail "connect to 127.0.0.3 failed: $out"
pid3=$(echo "$out" | head -n 1)
sleep 1
stop_agent
assert_no_record '"module":"network"' "\"pid\":$pid3"
assert_no_record '"action":"BLOCKED"'
n=$(count_records '"module":"network"' '"op":"connect"' "\"pid\":$pid")
[ "$n" = 1 ] || fail "$n connect records for pid $pid, want 1"
