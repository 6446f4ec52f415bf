# boots: lsm
# kernels: 5.10
# network-ports: port rules on the host (block). Ranges, tcp/ and udp/ entries, entries
# written as integers, bind by the local port; MPTCP and UDP-Lite sockets judged as TCP
# and UDP; a subject allow list does not exempt from a port denial.
# network-ports-allowlist has the allow list and monitor mode.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
# listeners made before the agent starts (their binds are not judged)
net_serve 0.0.0.0:8080
net_serve 0.0.0.0:5353
net_serve 0.0.0.0:2525

# expect_port_block OP RULE PATTERN...: the BLOCKED record of $SH_PID for OP names RULE.
expect_port_block() {
    op=$1 rule=$2
    shift 2
    wait_for_record "\"op\":\"$op\"" '"action":"BLOCKED"' "\"pid\":$SH_PID"
    rec_has "\"rule\":\"$rule\"" "$@"
}

# maybe_sock PROTO OP ADDR RULE: a socket of a protocol the kernel may lack (MPTCP,
# UDP-Lite): refused with RULE, or skipped when the kernel has no such protocol.
maybe_sock() {
    run_sh "exec $NETTOOL sock $1 $2 $3"
    case $OUT in
        *"socket: "*) say "no $1 sockets on this kernel ($OUT): skipped" ;;
        *"Operation not permitted"*)
            say "refused with EPERM: sock $1 $2 $3"
            expect_port_block bind "$4" "\"protocol\":\"$1\""
            ;;
        *) fail "expected EPERM from sock $1 $2 $3 (status $RC): $OUT" ;;
    esac
}

say "deny list (block): ranges, tcp/, udp/"
# (accept is off: the listeners would refuse the denied address as peer)
net_config /tmp/sg.toml block 'ops = ["connect", "sendmsg", "bind"]' \
    "port = { deny = [\"1-1023\", \"udp/5353\", \"tcp/8040-8069\", 2525] }" \
    "cidr = { deny = [\"$NET_A/32\"] }" \
    "command = { allow = [\"sg-nettool\"] }"
start_agent /tmp/sg.toml
net_eperm connect "$NET_B:22"
expect_port_block connect "port.deny 1-1023" '"dst_port":22' '"protocol":"tcp"' "\"dst_addr\":\"$NET_B\""
net_eperm connect "[$NET_B6]:443"
expect_port_block connect "port.deny 1-1023" '"dst_port":443' '"family":"ipv6"'
net_ok connect "$NET_B:8080"
net_eperm connect "$NET_B:8050"
expect_port_block connect "port.deny tcp/8040-8069" '"dst_port":8050'
net_ok sendto "$NET_B:8050"                  # a tcp/ entry leaves UDP alone
net_eperm sendto "$NET_B:5353"
expect_port_block sendmsg "port.deny udp/5353" '"dst_port":5353' '"protocol":"udp"'
net_ok connect "$NET_B:5353"                 # and a udp/ entry TCP
net_eperm connect "$NET_B:2525"              # an entry written as an integer
expect_port_block connect "port.deny 2525" '"dst_port":2525'
net_eperm sendto "$NET_B:2525"
expect_port_block sendmsg "port.deny 2525" '"dst_port":2525' '"protocol":"udp"'
say "bind: the local port"
net_eperm sock tcp listen 0.0.0.0:22
expect_port_block bind "port.deny 1-1023" '"src_port":22' '"protocol":"tcp"'
net_eperm bind 0.0.0.0:5353
expect_port_block bind "port.deny udp/5353" '"src_port":5353' '"protocol":"udp"'
net_ok bind 0.0.0.0:8050
net_ok sock tcp listen "[::]:9000"
maybe_sock mptcp listen 0.0.0.0:22 "port.deny 1-1023"
maybe_sock udplite bind 0.0.0.0:5353 "port.deny udp/5353"
say "a subject allow list exempts from address denials, not from port denials"
net_ok connect "$NET_A:8080"
net_eperm connect "$NET_A:8050"
expect_port_block connect "port.deny tcp/8040-8069" "\"dst_addr\":\"$NET_A\""
stop_agent
assert_no_record '"action":"BLOCKED"' '"dst_port":8080'
