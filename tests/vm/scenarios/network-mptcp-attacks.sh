# boots: lsm
# kernels: 6.12
# network-mptcp-attacks: more ways for an MPTCP subflow the kernel connects itself to
# reach what the rules deny, each refused in block mode with a record:
#  1. an address announced with a port (ADD_ADDR with port, the in-kernel path manager):
#     the subflow to an allowed address but a denied port (a `port` rule);
#  2. the userspace path manager (net.mptcp.pm_type = 1): a process asks for a subflow
#     to a denied address (MPTCP_PM_CMD_SUBFLOW_CREATE with the connection's token); the
#     kernel connects it in that process's context with kernel_connect();
#  3. the same from a server in a container (target = "container"): a subflow of the
#     connection it accepted, whose socket the kernel made (it inherits the listener's
#     owner).
# Fails when the subflow is established (MPTCP_TCPINFO) or a packet reaches the denied
# address on lo. Debian's 5.10 has no MPTCP: skipped there.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

AT=/usr/bin/sg-attacktool
PORT=7421
JOINPORT=7422
net_setup
sysctl -w net.mptcp.enabled=1 >/dev/null 2>&1

# serve_and SNIFFDST CMD...: an MPTCP listener on PORT, then CMD (mptcp_exchange).
serve_and() {
    sniffdst=$1
    shift
    mptcp_exchange "$sniffdst" "exec $AT mptcp-serve 0.0.0.0 $PORT 6000" "$@"
}

say "1. an announced port denied by a port rule"
net_config /tmp/sg.toml block "port = { deny = [\"$JOINPORT\"] }"
start_agent /tmp/sg.toml
run_sh "exec $AT mptcp-connect $NET_B $JOINPORT 0"
case $OUT in
    *"Operation not permitted"*) say "control refused: a direct connect to port $JOINPORT" ;;
    *"Protocol not supported"*) say "no MPTCP in this kernel: skipped"; stop_agent; exit 0 ;;
    *) fail "direct MPTCP connect to $NET_B:$JOINPORT: $OUT" ;;
esac
run_cmd "$AT" mptcp-pm flush
[ "$OUT" = ok ] || fail "mptcp-pm flush: $OUT"
run_cmd "$AT" mptcp-pm limits 1 1
[ "$OUT" = ok ] || fail "mptcp-pm limits: $OUT"
run_cmd "$AT" mptcp-pm signal "$NET_B" 9 "$JOINPORT"
[ "$OUT" = ok ] || fail "mptcp-pm signal with port: $OUT"
serve_and "$NET_A" "$AT" mptcp-connect "$NET_B" "$PORT" 4000
records '"module":"network"' | tail -n 5
stop_agent
case $client in
    *"subflow $NET_B:$JOINPORT state 1"*)
        fail "an MPTCP subflow to the denied port $JOINPORT was established" ;;
esac
n=$(count_records '"action":"BLOCKED"' "\"dst_port\":$JOINPORT")
[ "$n" -ge 2 ] || fail "no subflow to port $JOINPORT was tried (only $n BLOCKED records): setup broken?"
say "refused and recorded: the subflow to the announced port $JOINPORT"
# the next scenarios start with no endpoint announced
run_cmd "$AT" mptcp-pm flush
[ "$OUT" = ok ] || fail "mptcp-pm flush: $OUT"

say "2. the userspace path manager: a subflow to a denied address"
if ! sysctl -w net.mptcp.pm_type=1 >/dev/null 2>&1; then
    say "no userspace path manager (net.mptcp.pm_type) on this kernel: skipped"
    exit 0
fi
net_config /tmp/sg.toml block "cidr = { deny = [\"$NET_A/32\"] }"
start_agent /tmp/sg.toml
serve_and "$NET_A" "$AT" mptcp-us "$NET_B" "$PORT" "$NET_B" "$NET_A" "$PORT" 3000
records '"module":"network"' | tail -n 5
stop_agent
sysctl -w net.mptcp.pm_type=0 >/dev/null 2>&1
case $client in
    *"subflow $NET_A:$PORT state 1"*)
        fail "a userspace-PM subflow to the denied $NET_A was established" ;;
    *"create: ok"*) fail "the userspace PM created a subflow to the denied $NET_A" ;;
    *"create: error"*) ;;
    *) fail "MPTCP_PM_CMD_SUBFLOW_CREATE was not tried: $client" ;;
esac
case $sniffed in
    seen*) fail "a packet reached the denied $NET_A through a userspace-PM subflow" ;;
esac
n=$(count_records '"action":"BLOCKED"' "\"dst_addr\":\"$NET_A\"")
[ "$n" -ge 1 ] || fail "the userspace-PM subflow to $NET_A was refused with no record"
say "refused and recorded: the userspace-PM subflow to $NET_A"

say "3. a server's subflow of an accepted connection, in a container"
net_config /tmp/sg.toml block 'target = "container"' "cidr = { deny = [\"$NET_A/32\"] }"
start_agent /tmp/sg.toml
sysctl -w net.mptcp.pm_type=1 >/dev/null 2>&1 || fail "net.mptcp.pm_type"
mptcp_exchange "$NET_A" \
    "exec unshare -p -f --mount-proc $AT mptcp-us-serve 0.0.0.0 $PORT $NET_B $NET_A $PORT 3000" \
    "$AT" mptcp-connect "$NET_B" "$PORT" 5000
records '"module":"network"' | tail -n 5
stop_agent
sysctl -w net.mptcp.pm_type=0 >/dev/null 2>&1
case $served in
    *"subflow $NET_A:$PORT state 1"*) fail "the container's subflow to the denied $NET_A was established" ;;
    *"create: ok"*) fail "the container's server made a subflow to the denied $NET_A" ;;
    *"create: error"*) ;;
    *) fail "MPTCP_PM_CMD_SUBFLOW_CREATE was not tried by the server: $served" ;;
esac
case $sniffed in
    seen*) fail "a packet reached the denied $NET_A through the server's subflow" ;;
esac
n=$(count_records '"action":"BLOCKED"' "\"dst_addr\":\"$NET_A\"" '"container":true')
[ "$n" -ge 1 ] || fail "the container server's subflow to $NET_A was refused with no record"
say "refused and recorded: the container server's subflow to $NET_A"
