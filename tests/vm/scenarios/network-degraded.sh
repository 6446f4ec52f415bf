# boots: nolsm notramp
# network-degraded: without BPF LSM, block mode runs audit-only: a TCP connect to a denied
# address succeeds and gives a MONITOR record (from the inet_sock_set_state tracepoint),
# and so does an accepted connection from a denied peer.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
net_config /tmp/sg.toml block "cidr = { deny = [\"$NET_A/32\"] }"
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"enforcement":"degraded"' '"network":"audit-only"'
net_ok connect "$NET_A:8080"
wait_for_record '"op":"connect"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"comm":"sg-nettool"' "\"dst_addr\":\"$NET_A\"" '"dst_port":8080' "\"rule\":\"cidr.deny $NET_A/32\""
wait_for_record '"op":"accept"' '"action":"MONITOR"' "\"src_addr\":\"$NET_A\""
rec_has '"dst_port":8080' '"uid":0'
stop_agent
assert_no_record '"action":"BLOCKED"'
