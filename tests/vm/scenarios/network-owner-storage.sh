# boots: lsm
# kernels: 6.1
# network-owner-storage: the owner of a listener is kept with the socket itself, so a
# denied command's idle listener stays denied however many other sockets come and go
# (an 8,192-entry map used to forget it). Listeners older than the agent get their
# owner at load time (the holder of their descriptor), so with a command deny list an
# older listener of another command still accepts and one of the denied command is
# refused by its rule (both used to be refused as "socket owner unknown"), and so
# again after a reload that replaces the module (new, empty socket storage).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
mkdir -p /opt/bin
cp "$NETTOOL" /opt/bin/nonet
"$NETTOOL" serve 0.0.0.0:8091 >/tmp/old.log 2>&1 &
/opt/bin/nonet serve 0.0.0.0:8093 >/tmp/oldnonet.log 2>&1 &
oldnonet=$!
cp "$NETTOOL" /opt/bin/nc
/opt/bin/nc serve 0.0.0.0:8094 >/tmp/oldnc.log 2>&1 &
oldnc=$!
sleep 0.5
net_config /tmp/sg.toml block 'ops = ["accept"]' 'command = { deny = ["/opt/bin/nonet", "nc"] }'
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

# older_listeners ROUND: the older listener of another command accepts; the older one of
# the denied command is refused by its rule, its holder named.
older_listeners() {
    net_ok connect "$NET_B:8091"
    mark_records
    run_sh "exec $NETTOOL connect $NET_B:8093 1500"
    case $OUT in *"ok connected"*) fail "$1: the older listener of nonet accepted: $OUT" ;; esac
    wait_for_new_record '"op":"accept"' '"action":"BLOCKED"' '"dst_port":8093'
    rec_has '"rule":"command.deny /opt/bin/nonet"' "\"pid\":$oldnonet" '"comm":"nonet"' '"exe":"/opt/bin/nonet"'
    grep -q accepted /tmp/oldnonet.log && fail "$1: the older nonet accepted: $(cat /tmp/oldnonet.log)"
    # by task name: the owner's name is the map key, exactly
    mark_records
    run_sh "exec $NETTOOL connect $NET_B:8094 1500"
    case $OUT in *"ok connected"*) fail "$1: the older listener of nc accepted: $OUT" ;; esac
    wait_for_new_record '"op":"accept"' '"action":"BLOCKED"' '"dst_port":8094'
    rec_has '"rule":"command.deny nc"' "\"pid\":$oldnc" '"comm":"nc"'
}
say "listeners older than the agent"
older_listeners start

say "a reload that replaces the network module: every owner is known again"
net_config /tmp/sg.toml block 'ops = ["accept"]' 'command = { deny = ["/opt/bin/nonet", "nc"] }' 'uid = { deny = [4242] }'
kill -HUP "$AGENT_PID"
wait_for_record '"module":"agent"' '"op":"reload"' '"changed":["network"]'
older_listeners reload
mark_records
run_sh "exec $NETTOOL connect $NET_B:8090 1500"
case $OUT in *"ok connected"*) fail "nonet's listener accepted after the reload: $OUT" ;; esac
wait_for_new_record '"op":"accept"' '"action":"BLOCKED"' "\"pid\":$server"
assert_no_record '"rule":"socket owner unknown (command, exe or gid deny rules apply)"'

say "a listener of another command accepts"
net_serve 0.0.0.0:8092
net_ok connect "$NET_B:8092"
stop_agent
