# boots: lsm
# kernels: 6.1
# network-raw-hdrincl: a raw socket that writes its own IP header (IPPROTO_RAW, IP_HDRINCL,
# IPV6_HDRINCL) sends to the header's destination whatever its sockaddr says: the header's
# destination is judged too; a header the agent cannot read (spread over two iovecs) is
# refused.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_config /tmp/sg.toml block 'ops = ["sendmsg"]' \
    "cidr = { deny = [\"$NET_A/32\", \"$NET_A6/128\"] }"
start_agent /tmp/sg.toml

say "IPPROTO_RAW: sockaddr allowed, header denied"
net_eperm hdrincl raw "$NET_B:0" "$NET_A"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"protocol":"raw"' "\"dst_addr\":\"$NET_A\"" "\"rule\":\"cidr.deny $NET_A/32\""
net_ok hdrincl raw "$NET_B:0" "$NET_B"

say "IP_HDRINCL on a UDP raw socket"
net_eperm hdrincl udp "$NET_B:0" "$NET_A"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"protocol":"udp"' "\"dst_addr\":\"$NET_A\""
net_ok hdrincl udp "$NET_B:0" "$NET_B"

say "IPv6: IPPROTO_RAW and IPV6_HDRINCL"
net_eperm hdrincl raw6 "[$NET_B6]:0" "$NET_A6"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"dst_addr\":\"$NET_A6\"" '"family":"ipv6"'
net_eperm hdrincl udp6 "[$NET_B6]:0" "$NET_A6"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
net_ok hdrincl raw6 "[$NET_B6]:0" "$NET_B6"

say "a header the agent cannot read is refused"
net_eperm hdrincl split "$NET_B:0" "$NET_B"
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"rule":"raw IP header not readable (address rules apply)"'
stop_agent
