# boots: lsm
# kernels: 5.10
# network-cidr-deny: a denied /32, /128 and the IPv4-mapped form of the /32 are refused
# with EPERM and give exactly one BLOCKED record each naming the task, the addresses and
# the rule; the neighbour addresses connect.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
net_serve '[::]:8086'
net_config /tmp/sg.toml block \
    "cidr = { deny = [\"$NET_A/32\", \"$NET_A6/128\"] }"
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"network":"enforcing"'

say "IPv4 /32"
net_eperm connect "$NET_A:8080"
pid=$SH_PID
wait_for_record '"module":"network"' '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$pid"
rec_has '"level":"WARNING"' '"comm":"sg-nettool"' '"exe":"/usr/bin/sg-nettool"' "\"ppid\":$SH_PPID" '"uid":0' '"family":"ipv4"' \
    '"protocol":"tcp"' "\"dst_addr\":\"$NET_A\"" '"dst_port":8080' "\"rule\":\"cidr.deny $NET_A/32\"" \
    '"hostname":"sg-guest"' '"cgroup_id":'
net_ok connect "$NET_B:8080"

say "IPv6 /128"
net_eperm connect "[$NET_A6]:8086"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"family":"ipv6"' "\"dst_addr\":\"$NET_A6\"" '"dst_port":8086' "\"rule\":\"cidr.deny $NET_A6/128\""
net_ok connect "[$NET_B6]:8086"

say "IPv4-mapped IPv6 is judged as IPv4"
net_eperm connect "[::ffff:$NET_A]:8080"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"family":"ipv4"' "\"dst_addr\":\"$NET_A\"" "\"rule\":\"cidr.deny $NET_A/32\""
net_ok connect "[::ffff:$NET_B]:8080"

stop_agent
n=$(count_records '"action":"BLOCKED"' "\"pid\":$pid")
[ "$n" = 1 ] || fail "$n BLOCKED records for pid $pid, want exactly 1"
n=$(count_records '"module":"network"' '"action":"BLOCKED"')
[ "$n" = 3 ] || fail "$n BLOCKED records in all, want 3"
assert_no_record '"module":"network"' "\"dst_addr\":\"$NET_B\""
