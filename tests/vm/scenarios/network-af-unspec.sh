# boots: lsm
# kernels: none
# network-af-unspec: a sendto whose sockaddr says AF_UNSPEC is read by IPv4 UDP and raw
# sockets as AF_INET and by IPv6 raw sockets as AF_INET6: it is judged as such (it used
# to be taken for "no address" and fell back to the unconnected peer). An unconnected
# send of a command denied everything is refused too.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
mkdir -p /opt/bin
cp "$NETTOOL" /opt/bin/nonet
net_config /tmp/sg.toml block 'ops = ["sendmsg"]' \
    "cidr = { deny = [\"$NET_A/32\", \"$NET_A6/128\"] }" \
    'command = { deny = ["/opt/bin/nonet"] }'
start_agent /tmp/sg.toml

say "UDP sendto with AF_UNSPEC to a denied address"
net_eperm unspec udp "$NET_A:9999"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"protocol":"udp"' "\"dst_addr\":\"$NET_A\"" '"dst_port":9999' "\"rule\":\"cidr.deny $NET_A/32\""
net_ok unspec udp "$NET_B:9999"

say "raw ICMP sendto with AF_UNSPEC"
net_eperm unspec icmp "$NET_A:0"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"protocol":"icmp"' "\"dst_addr\":\"$NET_A\""
net_ok unspec icmp "$NET_B:0"

say "raw ICMPv6 sendto with AF_UNSPEC"
net_eperm unspec raw6 "[$NET_A6]:0"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"protocol":"icmpv6"' "\"dst_addr\":\"$NET_A6\"" '"family":"ipv6"'
net_ok unspec raw6 "[$NET_B6]:0"

say "command.deny: AF_UNSPEC to an allowed address"
run_sh "exec /opt/bin/nonet unspec udp $NET_B:9999"
case $OUT in *"Operation not permitted"*) ;; *) fail "nonet could send: $OUT" ;; esac
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"rule":"command.deny /opt/bin/nonet"' "\"dst_addr\":\"$NET_B\""
stop_agent
