# boots: lsm
# kernels: none
# network-ports-allowlist: a port allow list on the host (block): every other port
# denied, a deny inside it, an allowed port does not lift an address denial, bind to
# port 0 and a server's answers are not judged; then monitor mode.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
# listeners made before the agent starts (their binds are not judged)
net_serve 0.0.0.0:8080
net_serve 0.0.0.0:5353
net_serve 0.0.0.0:2525
"$NETTOOL" tcp-echo 0.0.0.0:8443 >/tmp/echo.log 2>&1 &
i=0
while ! grep -q listening /tmp/echo.log; do
    [ "$i" -lt 50 ] || fail "no echo listener: $(cat /tmp/echo.log)"
    sleep 0.1
    i=$((i + 1))
done

# expect_port_block OP RULE PATTERN...: the BLOCKED record of $SH_PID for OP names RULE.
expect_port_block() {
    op=$1 rule=$2
    shift 2
    wait_for_record "\"op\":\"$op\"" '"action":"BLOCKED"' "\"pid\":$SH_PID"
    rec_has "\"rule\":\"$rule\"" "$@"
}

say "allow list (block): every other port denied, a deny inside it, addresses still judged"
net_config /tmp/sg.toml block 'ops = ["connect", "sendmsg", "bind"]' \
    "port = { allow = [\"tcp/8080\", \"tcp/8443\", \"udp/5000-5100\", \"53\"], deny = [\"udp/5050\"] }" \
    "cidr = { deny = [\"$NET_A/32\"] }"
start_agent /tmp/sg.toml
net_ok connect "$NET_B:8080"
# sends to the connected peer are not judged by port: the server answers the client's
# ephemeral port, which the allow list does not name
net_ok talk "$NET_B:8443"
i=0
until grep -q "echoed 4 bytes" /tmp/echo.log; do
    [ "$i" -lt 20 ] || fail "the server could not answer: $(cat /tmp/echo.log)"
    sleep 0.1
    i=$((i + 1))
done
net_eperm connect "$NET_B:5353"
expect_port_block connect "not in network.port.allow" '"dst_port":5353'
net_ok sendto "$NET_B:5001"                  # from a socket bound to port 0: not judged
net_eperm sendto "$NET_B:5050"
expect_port_block sendmsg "port.deny udp/5050" '"dst_port":5050'
net_eperm sendto "$NET_B:6000"
expect_port_block sendmsg "not in network.port.allow" '"dst_port":6000'
net_ok sendto "$NET_B:53"
net_eperm connect "$NET_A:8080"              # the port is allowed, the address is not
expect_port_block connect "cidr.deny $NET_A/32" '"dst_port":8080'
net_ok bind 0.0.0.0:5000
net_ok bind 0.0.0.0:0
net_eperm bind 0.0.0.0:7000
expect_port_block bind "not in network.port.allow" '"src_port":7000'
stop_agent
mv /tmp/sg.log /tmp/sg-allow.log

say "monitor mode"
net_config /tmp/sg.toml monitor "port = { deny = [\"tcp/2525\"] }"
start_agent /tmp/sg.toml
net_ok connect "$NET_B:2525"
wait_for_record '"op":"connect"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"rule":"port.deny tcp/2525"' '"dst_port":2525' '"level":"WARNING"'
net_ok connect "$NET_B:8080"
stop_agent
assert_no_record '"action":"BLOCKED"'
[ "$(count_records '"module":"network"' '"action":"MONITOR"')" = 1 ] || fail "want one MONITOR record"
