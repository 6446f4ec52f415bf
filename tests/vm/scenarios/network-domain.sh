# boots: lsm
# kernels: none
# network-domain: a denied domain, served by a DNS responder in the guest: connections to
# its address are refused and the records carry the domain; when the answer changes and
# the TTL (5 s) expires, the new address is denied and the old one is free again. A name
# the server does not know denies nothing; the entry matches case-insensitively. When the
# server stops answering, one WARNING record says so and the last answer stays in force.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
ip addr add 127.0.0.53/32 dev lo 2>/dev/null
echo "blocked.test 5 $NET_A" >/tmp/zone
"$NETTOOL" dnsd 127.0.0.53:53 /tmp/zone >/tmp/dnsd.log 2>&1 &
dnsd=$!
cp /etc/resolv.conf /tmp/resolv.conf.saved 2>/dev/null
echo "nameserver 127.0.0.53" >/etc/resolv.conf
trap 'if [ -f /tmp/resolv.conf.saved ]; then cp /tmp/resolv.conf.saved /etc/resolv.conf; else rm -f /etc/resolv.conf; fi' EXIT
sleep 0.3

net_config /tmp/sg.toml block 'ops = ["connect"]' \
    'domain = { deny = ["Blocked.Test.", "unknown.test"] }'
start_agent /tmp/sg.toml

say "the domain's address is denied from the start"
net_eperm connect "$NET_A:8080"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"domain":"blocked.test"' '"rule":"domain.deny blocked.test"' "\"dst_addr\":\"$NET_A\""
net_ok connect "$NET_B:8080"

say "the answer changes: after the TTL the new address is denied, the old one free"
denied_after_ttl "$NET_B" "$NET_A"

say "the server goes away: a WARNING record, and the last answer stays in force"
kill "$dnsd"
wait_for_record '"module":"network"' '"op":"resolve"' '"level":"WARNING"' '"domain":"blocked.test"'
net_eperm connect "$NET_B:8080"
stop_agent
n=$(count_records '"op":"resolve"' '"domain":"blocked.test"')
[ "$n" = 1 ] || fail "$n resolve warnings, want 1 per failure streak"
assert_no_record '"action":"BLOCKED"' '"domain":"unknown.test"'
