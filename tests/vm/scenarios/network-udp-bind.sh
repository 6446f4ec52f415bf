# boots: lsm
# kernels: none
# network-udp-bind: a UDP datagram sent (sendto, no connect) to a denied address is
# refused, to another address it leaves; bind to a denied local address is refused.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_config /tmp/sg.toml block "ops = [\"sendmsg\", \"bind\"]" \
    "cidr = { deny = [\"$NET_A/32\", \"$NET_A6/128\"] }"
start_agent /tmp/sg.toml

say "sendto"
net_eperm sendto "$NET_A:9999"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"protocol":"udp"' "\"dst_addr\":\"$NET_A\"" '"dst_port":9999' "\"rule\":\"cidr.deny $NET_A/32\""
net_ok sendto "$NET_B:9999"
net_eperm sendto "[$NET_A6]:9999"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID" '"family":"ipv6"'

say "bind"
net_eperm bind "$NET_A:5000"
wait_for_record '"op":"bind"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"src_addr\":\"$NET_A\"" '"src_port":5000' "\"rule\":\"cidr.deny $NET_A/32\""
net_ok bind "$NET_B:5000"
net_ok bind "0.0.0.0:5001"
stop_agent
assert_no_record '"action":"BLOCKED"' "\"dst_addr\":\"$NET_B\""
