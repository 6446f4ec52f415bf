# boots: lsm
# kernels: none
# network-monitor: monitor mode denies nothing and writes MONITOR records.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
net_config /tmp/sg.toml monitor "cidr = { deny = [\"$NET_A/32\"] }"
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"network":"audit-only"'
net_ok connect "$NET_A:8080"
wait_for_record '"op":"connect"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"level":"WARNING"' "\"dst_addr\":\"$NET_A\"" "\"rule\":\"cidr.deny $NET_A/32\""
net_ok sendto "$NET_A:9999"
wait_for_record '"op":"sendmsg"' '"action":"MONITOR"' "\"pid\":$SH_PID"
stop_agent
assert_no_record '"action":"BLOCKED"'
