# boots: lsm
# kernels: none
# network-peer-gid: getpeername on a connection to a denied peer is refused; gid deny
# lists refuse every operation of the group, gid allow lists exempt it from address
# denials.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
net_config /tmp/sg.toml block 'ops = ["getpeername"]' "cidr = { deny = [\"$NET_A/32\"] }"
start_agent /tmp/sg.toml

say "getpeername"
net_eperm peername "$NET_A:8080"
wait_for_record '"op":"getpeername"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"dst_addr\":\"$NET_A\"" '"dst_port":8080' "\"rule\":\"cidr.deny $NET_A/32\""
net_ok peername "$NET_B:8080"
stop_agent

say "gid deny"
rm -f /tmp/sg.log # a new agent: start_agent waits for its own start record
net_config /tmp/sg.toml block 'ops = ["connect", "sendmsg"]' 'gid = { deny = [1000] }'
start_agent /tmp/sg.toml
run_cmd su -s /bin/sh user -c "echo \$\$ \$PPID; exec $NETTOOL connect $NET_B:8080"
sh_pids
case $OUT in *"Operation not permitted"*) ;; *) fail "gid 1000 connected: $OUT" ;; esac
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"gid":1000' '"rule":"gid.deny 1000"'
net_ok connect "$NET_B:8080"
stop_agent

say "gid allow"
rm -f /tmp/sg.log
net_config /tmp/sg.toml block 'ops = ["connect"]' "cidr = { deny = [\"$NET_A/32\"] }" 'gid = { allow = [1000] }'
start_agent /tmp/sg.toml
run_cmd su -s /bin/sh user -c "exec $NETTOOL connect $NET_A:8080"
case $OUT in *"ok connected"*) ;; *) fail "gid 1000 is not exempt: $OUT" ;; esac
net_eperm connect "$NET_A:8080"
stop_agent
