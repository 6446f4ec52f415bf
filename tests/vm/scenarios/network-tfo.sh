# boots: lsm
# kernels: none
# network-tfo: TCP fast open connects without connect(2) (sendto with MSG_FASTOPEN): with
# only `connect` in ops it is judged as a connect. TCP_FASTOPEN_CONNECT goes through
# connect(2) and is judged there.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
net_serve "[::]:8086"
net_config /tmp/sg.toml block 'ops = ["connect"]' \
    "cidr = { deny = [\"$NET_A/32\", \"$NET_A6/128\"] }"
start_agent /tmp/sg.toml

say "sendto(MSG_FASTOPEN) to a denied address"
net_eperm tfo "$NET_A:8080"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"protocol":"tcp"' "\"dst_addr\":\"$NET_A\"" '"dst_port":8080' "\"rule\":\"cidr.deny $NET_A/32\""
net_eperm tfo "[::ffff:$NET_A]:8086"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID" '"family":"ipv4"'
net_eperm tfo "[$NET_A6]:8086"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID" '"family":"ipv6"'
net_ok tfo "$NET_B:8080"

say "TCP_FASTOPEN_CONNECT + write"
net_eperm tfo-connect "$NET_A:8080"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
net_ok tfo-connect "$NET_B:8080"
stop_agent
