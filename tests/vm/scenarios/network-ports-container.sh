# boots: lsm
# kernels: none
# network-ports-container: with target = "container", a task in another pid namespace
# may not listen on port 22 nor connect to port 25 (EPERM, BLOCKED records naming the
# port rule), while the host may.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:25
net_config /tmp/sg.toml block 'target = "container"' 'port = { deny = ["tcp/22", "25"] }'
start_agent /tmp/sg.toml

say "the container"
run_cmd unshare -p -f --mount-proc "$NETTOOL" sock tcp listen 0.0.0.0:22
case $OUT in *"Operation not permitted"*) ;; *) fail "the container task listened on 22: $OUT" ;; esac
wait_for_record '"op":"bind"' '"action":"BLOCKED"' '"container":true'
rec_has '"rule":"port.deny tcp/22"' '"src_port":22' '"protocol":"tcp"'
run_cmd unshare -p -f --mount-proc "$NETTOOL" connect "$NET_B:25"
case $OUT in *"Operation not permitted"*) ;; *) fail "the container task connected to 25: $OUT" ;; esac
wait_for_record '"op":"connect"' '"action":"BLOCKED"' '"container":true' '"dst_port":25'
rec_has '"rule":"port.deny 25"' "\"dst_addr\":\"$NET_B\""
run_cmd unshare -p -f --mount-proc "$NETTOOL" sendto "$NET_B:25"
case $OUT in *"Operation not permitted"*) ;; *) fail "the container task sent to udp 25: $OUT" ;; esac
wait_for_record '"op":"sendmsg"' '"action":"BLOCKED"' '"container":true' '"dst_port":25'

say "the host"
net_ok sock tcp listen 0.0.0.0:22
net_ok connect "$NET_B:25"
net_ok sendto "$NET_B:25"
stop_agent
n=$(count_records '"module":"network"' '"action":"BLOCKED"')
[ "$n" = 3 ] || fail "$n BLOCKED records, want 3 (the host is out of target)"
