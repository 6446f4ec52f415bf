# boots: lsm
# kernels: none
# network-accept-recv: a connection from a denied peer never reaches the listener (its SYN
# is dropped: the client times out) and the record names the listening task; a UDP
# datagram from a denied peer is dropped before the receiver sees it. Peers elsewhere pass.
# On lo a connection to an address comes from that same address.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
"$NETTOOL" serve 0.0.0.0:8080 >/tmp/serve.log 2>&1 &
server=$!
net_config /tmp/sg.toml block "ops = [\"accept\", \"recvmsg\"]" "cidr = { deny = [\"$NET_A/32\"] }"
start_agent /tmp/sg.toml
sleep 0.5

say "accept: the server listened before the agent started (owner known only by uid)"
run_sh "exec $NETTOOL connect $NET_A:8080 1500"
case $OUT in *"ok connected"*) fail "a connection from the denied peer was accepted: $OUT" ;; esac
wait_for_record '"op":"accept"' '"action":"BLOCKED"' "\"src_addr\":\"$NET_A\""
rec_has '"dst_port":8080' '"uid":0' "\"rule\":\"cidr.deny $NET_A/32\""
net_ok connect "$NET_B:8080"
kill "$server"

say "accept: a server started under the agent is named"
"$NETTOOL" serve 0.0.0.0:8081 >/tmp/serve2.log 2>&1 &
server=$!
sleep 0.5
run_sh "exec $NETTOOL connect $NET_A:8081 1500"
case $OUT in *"ok connected"*) fail "a connection from the denied peer was accepted: $OUT" ;; esac
wait_for_record '"op":"accept"' '"action":"BLOCKED"' "\"pid\":$server"
rec_has '"comm":"sg-nettool"' "\"src_addr\":\"$NET_A\"" "\"dst_addr\":\"$NET_A\"" '"dst_port":8081' '"protocol":"tcp"'
grep -q "accepted $NET_A" /tmp/serve2.log && fail "the server accepted the denied peer"
net_ok connect "$NET_B:8081"

say "recvmsg: a datagram from a denied peer is dropped"
"$NETTOOL" recv 0.0.0.0:9999 3000 >/tmp/recv.log 2>&1 &
receiver=$!
sleep 0.5
net_ok sendfrom "$NET_A:4000" "$NET_B:9999"
wait "$receiver"
grep -q "ok received" /tmp/recv.log && fail "the datagram from the denied peer arrived: $(cat /tmp/recv.log)"
wait_for_record '"op":"recvmsg"' '"action":"BLOCKED"' "\"pid\":$receiver"
rec_has '"protocol":"udp"' "\"src_addr\":\"$NET_A\"" '"src_port":4000' '"dst_port":9999'

"$NETTOOL" recv 0.0.0.0:9999 3000 >/tmp/recv.log 2>&1 &
receiver=$!
sleep 0.5
net_ok sendfrom "$NET_B:4000" "$NET_B:9999"
wait "$receiver"
grep -q "ok received 10 bytes from $NET_B:4000" /tmp/recv.log || fail "the allowed datagram did not arrive: $(cat /tmp/recv.log)"
stop_agent
