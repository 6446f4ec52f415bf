# boots: lsm
# network-owner-storage: the owner of a listener is kept with the socket itself, so a
# denied command's idle listener stays denied however many other sockets come and go
# (an 8,192-entry map used to forget it); a listener whose owner is unknown (older than
# the agent) is refused when comm, executable or gid deny lists exist.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
mkdir -p /opt/bin
cp "$NETTOOL" /opt/bin/nonet
"$NETTOOL" serve 0.0.0.0:8091 >/tmp/old.log 2>&1 &
sleep 0.5
net_config /tmp/sg.toml block 'ops = ["accept"]' 'command = { deny = ["/opt/bin/nonet"] }'
start_agent /tmp/sg.toml
/opt/bin/nonet serve 0.0.0.0:8090 >/tmp/nonet.log 2>&1 &
server=$!
sleep 0.5

say "an idle listener of the denied command, then 10000 other listeners: it accepts nothing"
net_ok listen-many 10000
run_sh "exec $NETTOOL connect $NET_B:8090 1500"
case $OUT in *"ok connected"*) fail "nonet's listener accepted after the others: $OUT" ;; esac
wait_for_record '"op":"accept"' '"action":"BLOCKED"' "\"pid\":$server"
rec_has '"rule":"command.deny /opt/bin/nonet"' '"comm":"nonet"'
grep -q accepted /tmp/nonet.log && fail "nonet accepted a connection: $(cat /tmp/nonet.log)"

say "a listener older than the agent: its owner is unknown, it is refused"
run_sh "exec $NETTOOL connect $NET_B:8091 1500"
case $OUT in *"ok connected"*) fail "the ownerless listener accepted: $OUT" ;; esac
wait_for_record '"op":"accept"' '"action":"BLOCKED"' '"dst_port":8091'
rec_has '"rule":"socket owner unknown (command, exe or gid deny rules apply)"' '"uid":0'

say "a listener of another command accepts"
net_serve 0.0.0.0:8092
net_ok connect "$NET_B:8092"
stop_agent
