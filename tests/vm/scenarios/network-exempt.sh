# boots: lsm
# kernels: 5.10
# network-exempt: an allow-listed subject (command, uid, gid) is exempt from address
# denials for its whole exchange: a TCP connection to a local listener is not dropped at
# the listener (a local client was judged at its connect), a UDP request and its answer
# both pass. Others are still refused.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
net_serve "[::]:8086"
mkdir -p /opt/bin
cp "$NETTOOL" /opt/bin/other
net_config /tmp/sg.toml block \
    'ops = ["connect", "sendmsg", "accept", "recvmsg", "getpeername", "bind"]' \
    'cidr = { deny = ["10.254.249.0/24", "fd00::/64"] }' \
    'command = { allow = ["other"] }' 'uid = { allow = [1000] }' 'gid = { allow = [1001] }'
start_agent /tmp/sg.toml
grep -q '^grp:' /etc/group || echo 'grp:x:1001:' >>/etc/group
grep -q '^u2:' /etc/passwd || echo 'u2:x:1002:1001:u2:/tmp:/bin/sh' >>/etc/passwd

say "command.allow: TCP to a denied address, both ways"
run_cmd /opt/bin/other connect "$NET_A:8080" 3000
case $OUT in "ok "*) ;; *) fail "other could not connect: $OUT" ;; esac
run_cmd /opt/bin/other connect "[$NET_A6]:8086" 3000
case $OUT in "ok "*) ;; *) fail "other could not connect over IPv6: $OUT" ;; esac
net_eperm connect "$NET_A:8080"

say "uid.allow and gid.allow: the same"
run_cmd su -s /bin/sh user -c "exec $NETTOOL connect $NET_A:8080 3000"
case $OUT in *"ok connected"*) ;; *) fail "uid 1000 could not connect: $OUT" ;; esac
run_cmd su -s /bin/sh u2 -c "exec $NETTOOL connect $NET_A:8080 3000"
case $OUT in *"ok connected"*) ;; *) fail "gid 1001 could not connect: $OUT" ;; esac

say "command.allow: a UDP request and its answer"
/opt/bin/other echo "$NET_A:9999" 5000 >/tmp/echo.log 2>&1 &
sleep 0.5
run_cmd /opt/bin/other ask "$NET_A:9999" 3000
case $OUT in "ok answer"*) ;; *) fail "other got no answer: $OUT ($(cat /tmp/echo.log))" ;; esac
net_eperm ask "$NET_A:9999" 1000
stop_agent
assert_no_record '"action":"BLOCKED"' '"comm":"other"'
