# boots: lsm
# kernels: none
# outputs-allow-hits: allow rules are counted where they let an operation through, like
# the rules that refuse: `safeguard status` shows, per rule, exactly the operations of a
# known workload — a process allow rule per exec it decided, a file allow rule per open,
# a network CIDR allow entry and a port allow entry per connect, and a uid allow rule per
# connect it exempted from an address denial — next to the deny rules' refusals.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
copy_busybox /opt/ok/true
mkdir -p /srv/pub
echo public >/srv/pub/f
echo secret >/srv/pub/secret
# "/" keeps every other program and file allowed: the longer rules decide for the
# workload's own, so their counts are exact.
cat >/tmp/sg.toml <<TOMLEOF
[log]
format = "json"
output = "/tmp/sg.log"
[process]
mode = "block"
ops = ["exec"]
allow = ["/", "/opt/ok"]
deny = ["/opt/ok/denied"]
[file]
mode = "block"
ops = ["read"]
allow = ["/", { path = "/srv/pub", ops = ["read"] }]
deny = ["/srv/pub/secret"]
[network]
mode = "block"
ops = ["connect"]
cidr = { allow = ["$NET_B/32"], deny = ["$NET_A/32"] }
uid = { allow = [1000] }
port = { allow = ["tcp/8080"] }
TOMLEOF
copy_busybox /opt/ok/denied

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'

say "3 execs under /opt/ok, 1 denied"
for _ in 1 2 3; do /opt/ok/true || fail "/opt/ok/true is allowed but failed"; done
expect_eperm_sh 'exec /opt/ok/denied true'
say "4 reads under /srv/pub, 1 denied"
for _ in 1 2 3 4; do cat /srv/pub/f >/dev/null || fail "/srv/pub/f is allowed but unreadable"; done
expect_eperm_file cat /srv/pub/secret
say "2 connects to an allowed address, 1 exempted by uid, 1 denied"
net_ok connect "$NET_B:8080"
net_ok connect "$NET_B:8080"
run_cmd su -s /bin/sh user -c "$NETTOOL connect $NET_A:8080"
case $OUT in "ok connected"*) ;; *) fail "uid 1000 is exempt from the address denial but failed (status $RC): $OUT" ;; esac
net_eperm connect "$NET_A:8080"
wait_for_record '"module":"network"' '"action":"BLOCKED"' "\"pid\":$SH_PID"

# hits MODULE RULE: the hits `safeguard status` shows for RULE of MODULE (text output).
hits() {
    "$SG" status | awk -v module="$1" -v rule="$2" '$1 == module {
        r = $0; sub(/^[a-z]+ +[0-9]+  /, "", r); if (r == rule) print $2 }'
}
# want: "MODULE|RULE|HITS" lines, every one of which must hold at once.
want="process|/opt/ok|3
process|/opt/ok/denied|1
file|{ path = \"/srv/pub\", ops = [\"read\"] }|4
file|/srv/pub/secret|1
network|cidr.allow $NET_B/32|2
network|uid.allow 1000|1
network|port.allow tcp/8080|3
network|cidr.deny $NET_A/32|1"
# check_all: 0 when every rule of $want shows its hits; else the first that does not.
check_all() {
    echo "$want" | while IFS='|' read -r module rule n; do
        got=$(hits "$module" "$rule")
        [ "$got" = "$n" ] || {
            echo "$module rule '$rule': $got hits, want $n"
            return 1
        }
    done
}
say "status shows the allow rules' hits"
i=0
while ! miss=$(check_all); do
    [ "$i" -lt 50 ] || fail "$miss
$("$SG" status 2>&1)"
    sleep 0.2
    i=$((i + 1))
done
# and they stay so: nothing else was counted for them a second later
sleep 1
miss=$(check_all) || fail "later: $miss
$("$SG" status 2>&1)"
stop_agent
