# boots: lsm
# kernels: 5.10
# network-allowlist: with an allow list that differs from the default only the listed
# network is reachable (IPv6 too is outside it); a more specific allow inside a denied
# network wins over the deny.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
net_serve '[::]:8086'

say "allow list: only $NET_B/32"
net_config /tmp/sg.toml block "ops = [\"connect\"]" "cidr = { allow = [\"$NET_B/32\"] }"
start_agent /tmp/sg.toml
net_ok connect "$NET_B:8080"
net_eperm connect "$NET_A:8080"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"rule":"not in network.cidr.allow"' "\"dst_addr\":\"$NET_A\""
net_eperm connect "[$NET_B6]:8086"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"rule":"not in network.cidr.allow"' '"family":"ipv6"'
stop_agent

say "a more specific allow inside a denied network"
rm -f /tmp/sg.log
net_config /tmp/sg.toml block "ops = [\"connect\"]" \
    "cidr = { allow = [\"0.0.0.0/0\", \"::/0\", \"$NET_B/32\"], deny = [\"10.254.249.0/24\"] }"
start_agent /tmp/sg.toml
net_ok connect "$NET_B:8080"
net_eperm connect "$NET_A:8080"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"rule":"cidr.deny 10.254.249.0/24"'
net_ok connect "[$NET_A6]:8086"
stop_agent
