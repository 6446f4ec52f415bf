# boots: lsm
# kernels: 5.10 6.12
# network-domain-own-dns: the agent's own DNS queries are no subject of the rules. With a
# port rule that denies every privileged port (53 among them), anyone else's query to the
# name server is refused (EPERM, one BLOCKED record), yet the agent still resolves its
# denied domain: when the answer changes and the TTL (5 s) expires, the new address is
# denied. No record refuses the agent. After a reload, whose first query the replaced
# instance refuses, the last answer stands until the new one. Then with datagrams judged
# by their source (recvmsg, without sendmsg) and the server's address denied: the answers
# still reach the agent. (The server, on a local address, is talked to from that same
# address: an allow-listed command, dnsd, keeps its own receives out of the address rule.)
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
ip addr add 127.0.0.53/32 dev lo 2>/dev/null
echo "blocked.test 5 $NET_A" >/tmp/zone
mkdir -p /opt/bin
cp "$NETTOOL" /opt/bin/dnsd
/opt/bin/dnsd dnsd 127.0.0.53:53 /tmp/zone >/tmp/dnsd.log 2>&1 &
cp /etc/resolv.conf /tmp/resolv.conf.saved 2>/dev/null
echo "nameserver 127.0.0.53" >/etc/resolv.conf
trap 'if [ -f /tmp/resolv.conf.saved ]; then cp /tmp/resolv.conf.saved /etc/resolv.conf; else rm -f /etc/resolv.conf; fi' EXIT
sleep 0.3

net_config /tmp/sg.toml block 'ops = ["connect", "sendmsg", "recvmsg"]' \
    'domain = { deny = ["blocked.test"] }' 'port = { deny = ["1-1023"] }'
start_agent /tmp/sg.toml

say "the name server is out of reach for everyone else"
net_eperm sendto 127.0.0.53:53
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"dst_addr":"127.0.0.53"' '"dst_port":53' '"rule":"port.deny 1-1023"'
net_eperm connect 127.0.0.53:53

say "the domain's address is denied from the start"
net_eperm connect "$NET_A:8080"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"domain":"blocked.test"'

say "the answer changes: the agent asks again after the TTL, and the new address is denied"
denied_after_ttl "$NET_B" "$NET_A"
assert_no_record '"action":"BLOCKED"' '"exe":"/usr/sbin/safeguard"'
assert_no_record '"op":"resolve"'

# The instance a reload replaces judges the new one's first query without its mark and
# refuses it (port 53): the last answer must stand meanwhile, not none.
say "a reload: the new instance starts from the last answer, then follows the server"
net_config /tmp/sg.toml block 'ops = ["connect", "sendmsg", "recvmsg", "bind"]' \
    'domain = { deny = ["blocked.test"] }' 'port = { deny = ["1-1023"] }'
reload_and_wait 1
net_eperm connect "$NET_B:8080"
denied_after_ttl "$NET_A" "$NET_B"
stop_agent

say "answers judged by their source, the server's address denied"
net_config /tmp/sg.toml block 'ops = ["connect", "recvmsg"]' 'domain = { deny = ["blocked.test"] }' \
    'cidr = { deny = ["127.0.0.53/32"] }' 'command = { allow = ["dnsd"] }'
start_agent /tmp/sg.toml
net_eperm connect 127.0.0.53:53
net_eperm connect "$NET_A:8080"
denied_after_ttl "$NET_B" "$NET_A"
stop_agent
