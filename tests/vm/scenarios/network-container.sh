# boots: lsm
# kernels: none
# network-container: target = "container" judges only tasks in another pid namespace.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
net_config /tmp/sg.toml block 'target = "container"' "cidr = { deny = [\"$NET_A/32\"] }"
start_agent /tmp/sg.toml
net_ok connect "$NET_A:8080"
run_cmd unshare -p -f --mount-proc "$NETTOOL" connect "$NET_A:8080"
case $OUT in *"Operation not permitted"*) ;; *) fail "the container task connected: $OUT" ;; esac
wait_for_record '"op":"connect"' '"action":"BLOCKED"' '"container":true'
rec_has "\"dst_addr\":\"$NET_A\""
stop_agent
n=$(count_records '"module":"network"' '"action":"BLOCKED"')
[ "$n" = 1 ] || fail "$n BLOCKED records, want 1 (the host's connect is out of target)"
