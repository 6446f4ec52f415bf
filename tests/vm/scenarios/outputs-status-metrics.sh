# boots: lsm
# kernels: 6.1
# outputs-status-metrics: per-rule hit counters kept in the kernel equal the denials a
# workload caused (3 reads of a denied tree, 2 writes under a write-only rule, 0 for a
# rule nothing touched), and `safeguard status` (root only) and the Prometheus endpoint
# show them; records carry host and machine_id and also reach syslog on /dev/log
# (busybox syslogd), then, after a reload, a TCP collector with octet-counting framing;
# journald is configured but absent here: its losses are counted and nothing else stops.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

[ -s /etc/machine-id ] || echo 5a1e6a2d0f0b4c4e9c1d2e3f40516273 >/etc/machine-id
machine_id=$(cat /etc/machine-id)
mkdir -p /srv/secret /srv/ro /srv/never
echo s3cret >/srv/secret/key
echo data >/srv/ro/file
rm -f /dev/log
syslogd -n -O /tmp/syslog.out &
syslogd_pid=$!
cat >/tmp/sg.toml <<'TOMLEOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
ops = ["read", "write"]
deny = ["/srv/secret", { path = "/srv/ro", ops = ["write"] }, "/srv/never"]
[output]
journald = true
syslog = "unix:/dev/log"
metrics = "127.0.0.1:9464"
TOMLEOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"file":"enforcing"' '"host":"sg-guest"' "\"machine_id\":\"$machine_id\""

say "3 denied reads, 2 denied writes"
for i in 1 2 3; do expect_eperm_file cat /srv/secret/key; done
for i in 1 2; do expect_eperm_file sh -c 'echo x >/srv/ro/file'; done
wait_for_record '"op":"write"' '"action":"BLOCKED"' '"path":"/srv/ro/file"'
rec_has '"host":"sg-guest"' "\"machine_id\":\"$machine_id\""

# hits RULE: the hits `safeguard status` shows for the file rule RULE (text output).
hits() {
    "$SG" status | awk -v rule="$1" '$1 == "file" { r = $0; sub(/^file +[0-9]+  /, "", r); if (r == rule) print $2 }'
}
say "status shows every rule with its hits"
i=0
while [ "$(hits /srv/secret)" != 3 ] || [ "$(hits '{ path = "/srv/ro", ops = ["write"] }')" != 2 ]; do
    [ "$i" -lt 50 ] || fail "status: /srv/secret $(hits /srv/secret), /srv/ro $(hits '{ path = "/srv/ro", ops = ["write"] }') hits, want 3 and 2: $("$SG" status 2>&1)"
    sleep 0.2
    i=$((i + 1))
done
[ "$(hits /srv/never)" = 0 ] || fail "status: /srv/never has $(hits /srv/never) hits, want 0"
run_cmd "$SG" status --json
case $OUT in *'"file": "enforcing"'*) ;; *) fail "status --json lacks the module state: $OUT" ;; esac
[ "$(stat -c %a /run/safeguard/status.sock)" = 600 ] || fail "status socket mode $(stat -c %a /run/safeguard/status.sock)"
run_cmd su -s /bin/sh user -c "$SG status"
[ "$RC" = 1 ] || fail "a non-root user read the status (status $RC): $OUT"
case $OUT in *"Permission denied"*) ;; *) fail "non-root status: $OUT" ;; esac

say "metrics endpoint"
wget -q -O /tmp/metrics http://127.0.0.1:9464/metrics || fail "GET /metrics failed"
for line in \
    'rule="/srv/secret"} 3' \
    'rule="{ path = \"/srv/ro\", ops = [\"write\"] }"} 2' \
    'rule="/srv/never"} 0' \
    'safeguard_module_state{module="file",state="enforcing"} 1' \
    'safeguard_events_total{module="file",op="read",action="BLOCKED"} 3'; do
    grep -qF "$line" /tmp/metrics || fail "metrics lack: $line
$(grep -v '^#' /tmp/metrics)"
done
grep -q '^safeguard_output_lost_total{output="journald"} [1-9]' /tmp/metrics ||
    fail "journald's losses not counted: $(grep output /tmp/metrics)"

say "syslog on /dev/log"
i=0
until grep -q 'action="BLOCKED"' /tmp/syslog.out 2>/dev/null; do
    [ "$i" -lt 50 ] || fail "syslogd got no BLOCKED record: $(head -c 2000 /tmp/syslog.out)"
    sleep 0.2
    i=$((i + 1))
done
grep 'action="BLOCKED"' /tmp/syslog.out | head -n 1 | grep -q 'authpriv.warn.*safeguard.*file.read \[safeguard@32473 level="WARNING" module="file" op="read"' ||
    fail "not an RFC 5424 record with structured data: $(grep 'action=' /tmp/syslog.out | head -n 1)"

say "reload: syslog over TCP, octet-counting"
nc -l -p 6514 >/tmp/tcp.out &
nc_pid=$!
sleep 0.5
sed -i 's|^syslog = .*|syslog = "tcp:127.0.0.1:6514"|' /tmp/sg.toml
kill -HUP "$AGENT_PID"
wait_for_record '"module":"agent"' '"op":"reload"' '"changed":["output"]'
expect_eperm_file cat /srv/secret/key
i=0
until grep -q 'path="/srv/secret/key"' /tmp/tcp.out 2>/dev/null; do
    [ "$i" -lt 50 ] || fail "the TCP collector got no record: $(head -c 2000 /tmp/tcp.out)"
    sleep 0.2
    i=$((i + 1))
done
head -c 12 /tmp/tcp.out | grep -q '^[1-9][0-9]* <8[0-9]>1 ' || fail "no octet-counting frame: $(head -c 100 /tmp/tcp.out)"
i=0
while [ "$(hits /srv/secret)" != 4 ]; do
    [ "$i" -lt 50 ] || fail "after the reload /srv/secret has $(hits /srv/secret) hits, want 4"
    sleep 0.2
    i=$((i + 1))
done
"$SG" status | grep -q '^reloads:  1 ok, 0 failed' || fail "status: $("$SG" status)"

stop_agent
kill "$nc_pid" "$syslogd_pid" 2>/dev/null
wait_for_record '"module":"agent"' '"op":"stop"' '"lost_outputs":{"journald":'
[ ! -e /run/safeguard/status.sock ] || fail "the status socket outlived the agent"
