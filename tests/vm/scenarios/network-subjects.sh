# boots: lsm
# kernels: none
# network-subjects: a denied command (by executable) has no network at all; an allowed
# command (by name) is exempt from address denials; uid 1000 is denied while root connects.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
mkdir -p /opt/bin
cp "$NETTOOL" /opt/bin/nonet
cp "$NETTOOL" /opt/bin/othertool
net_config /tmp/sg.toml block "ops = [\"connect\", \"sendmsg\", \"bind\"]" \
    "cidr = { deny = [\"$NET_A/32\"] }" \
    'command = { deny = ["/opt/bin/nonet"], allow = ["sg-nettool"] }' \
    'uid = { deny = [1000] }'
start_agent /tmp/sg.toml

say "command deny: /opt/bin/nonet reaches nothing"
expect_status 1 /bin/sh -c "echo \$\$ \$PPID; exec /opt/bin/nonet connect $NET_B:8080"
sh_pids
case $OUT in *"Operation not permitted"*) ;; *) fail "nonet connected: $OUT" ;; esac
wait_for_record '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"rule":"command.deny /opt/bin/nonet"' '"comm":"nonet"' "\"dst_addr\":\"$NET_B\""
run_cmd /opt/bin/nonet bind 0.0.0.0:5000
case $OUT in *"Operation not permitted"*) ;; *) fail "nonet could bind: $OUT" ;; esac

say "command allow: sg-nettool is exempt from the address denial, othertool is not"
net_ok connect "$NET_A:8080"
run_cmd /opt/bin/othertool connect "$NET_A:8080"
case $OUT in *"Operation not permitted"*) ;; *) fail "othertool connected to the denied address: $OUT" ;; esac
wait_for_record '"action":"BLOCKED"' '"comm":"othertool"' "\"rule\":\"cidr.deny $NET_A/32\""

say "uid deny: uid 1000 has no network, root has"
# su execs the shell in place; the shell execs the tool, so $$ is the tool's pid.
run_cmd su -s /bin/sh user -c "echo \$\$ \$PPID; exec /opt/bin/othertool connect $NET_B:8080"
sh_pids
case $OUT in *"Operation not permitted"*) ;; *) fail "uid 1000 connected: $OUT" ;; esac
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"uid":1000' '"gid":1000' '"rule":"uid.deny 1000"'
run_cmd /opt/bin/othertool connect "$NET_B:8080"
case $OUT in "ok "*) ;; *) fail "root could not connect: $OUT" ;; esac
stop_agent
