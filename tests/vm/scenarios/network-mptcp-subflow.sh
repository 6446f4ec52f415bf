# boots: lsm
# kernels: none
# network-mptcp-subflow: an MPTCP subflow the kernel opens itself must not reach a
# denied address. A connection to an allowed address, whose peer announces the denied one
# (ADD_ADDR, the in-kernel path manager with add_addr_accepted = 1): the kernel connects
# the new subflow with kernel_connect(), which calls no socket_connect hook; the module
# judges it in __mptcp_subflow_connect() by the MPTCP socket's owner and refuses the
# subflow's socket. A direct MPTCP connect to the denied address is refused (EPERM) as
# the control. Fails when the subflow to the denied address is established (its TCP
# state, MPTCP_TCPINFO) or a packet to it is seen on lo; passes only with a refusal
# recorded. Debian's 5.10 has no MPTCP: skipped there.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

AT=/usr/bin/sg-attacktool
PORT=7411
net_setup
sysctl -w net.mptcp.enabled=1 >/dev/null 2>&1
net_config /tmp/sg.toml block "cidr = { deny = [\"$NET_A/32\"] }"
start_agent /tmp/sg.toml

say "control: a direct MPTCP connect to the denied address"
run_sh "exec $AT mptcp-connect $NET_A $PORT 0"
case $OUT in
    *"Operation not permitted"*) say "refused" ;;
    *"Protocol not supported"*) say "no MPTCP in this kernel: skipped"; stop_agent; exit 0 ;;
    *) fail "direct MPTCP connect to $NET_A: $OUT" ;;
esac

say "a subflow to the denied address announced by the peer"
# (no endpoint left by an earlier scenario: the one announce accepted must be NET_A)
run_cmd "$AT" mptcp-pm flush
[ "$OUT" = ok ] || fail "mptcp-pm flush: $OUT"
run_cmd "$AT" mptcp-pm limits 1 1
[ "$OUT" = ok ] || fail "mptcp-pm limits: $OUT"
run_cmd "$AT" mptcp-pm signal "$NET_A" 7
[ "$OUT" = ok ] || fail "mptcp-pm signal: $OUT"
# attempt: the server announces NET_A; the client connects to NET_B (mptcp_exchange).
attempt() {
    mptcp_exchange "$NET_A" "exec $AT mptcp-serve 0.0.0.0 $PORT 6000" "$AT" mptcp-connect "$NET_B" "$PORT" 4000
}
attempt
records '"module":"network"' | tail -n 5
stop_agent
case $client in
    *"subflow $NET_A:$PORT state 1"*)
        fail "an MPTCP subflow to the denied $NET_A:$PORT was established, with no record" ;;
esac
case $sniffed in
    seen*) fail "a packet reached the denied $NET_A through an MPTCP subflow" ;;
esac
# nothing reached it: that must be a refusal (a record beyond the control's), not a setup
# that made no subflow
n=$(count_records '"action":"BLOCKED"' "\"dst_addr\":\"$NET_A\"")
[ "$n" -ge 2 ] || fail "no subflow to $NET_A was tried (only $n BLOCKED records): setup broken?"

say "an allow-listed owner: exempt from the address denial, its subflow too"
net_config /tmp/sg.toml block "cidr = { deny = [\"$NET_A/32\"] }" 'command = { allow = ["sg-attacktool"] }'
start_agent /tmp/sg.toml
attempt
stop_agent
case $client in
    *"subflow $NET_A:$PORT state 1"*) say "the exempt owner's subflow to $NET_A is established" ;;
    *) fail "the allow-listed owner's subflow to $NET_A was not established: $client" ;;
esac
