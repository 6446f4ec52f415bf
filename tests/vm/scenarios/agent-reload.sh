# boots: lsm
# kernels: 5.10
# agent-reload: SIGHUP reloads the config with no gap. A shell opens a denied file in a
# tight loop while the agent reloads 20 times: every reload applies new log tags, and
# every 10th also replaces the file module (a new instance loaded and attached beside
# the old one: about 1 s on hardware, up to a minute under TCG): not one open succeeds.
# A config that does not parse is refused with an ERROR record and changes nothing; a
# module switched on by a reload enforces, one switched off stops.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

RELOADS=20
mkdir -p /srv/secret
echo s3cret >/srv/secret/key
copy_busybox /opt/denied

# file_config N [EXTRA...]: the log tagged reload=N; the file policy, with an audit rule
# that changes every 10th N (so that those reloads replace the file module); extra lines.
file_config() {
    n=$1
    shift
    {
        printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\ntags = { reload = "%s" }\n' "$n"
        printf '[file]\nmode = "block"\nops = ["read"]\ndeny = ["/srv/secret"]\naudit = ["/srv/audit-%s"]\n' $((n / 10 * 10))
        for line in "$@"; do printf '%s\n' "$line"; done
    } >/tmp/sg.toml.new
    mv /tmp/sg.toml.new /tmp/sg.toml
}

file_config 0
start_agent /tmp/sg.toml
expect_eperm_file cat /srv/secret/key

say "a loop opens the denied file while the agent reloads $RELOADS times"
# The shell opens the file itself (a redirection: no fork per attempt), and pauses after
# every 20 attempts so that the agent's loading is not starved of the guest's one CPU.
/bin/sh -c '
    tries=0 leaks=0
    while [ ! -e /tmp/stop-loop ]; do
        if { read -r line </srv/secret/key; } 2>/dev/null; then leaks=$((leaks + 1)); fi
        tries=$((tries + 1))
        [ $((tries % 20)) = 0 ] && usleep 10000
    done
    echo "$tries $leaks" >/tmp/loop.result' &
loop=$!
n=1
t0=$(date +%s)
while [ "$n" -le "$RELOADS" ]; do
    file_config "$n"
    reload_and_wait "$n"
    n=$((n + 1))
done
say "$RELOADS reloads in $(($(date +%s) - t0)) s"
touch /tmp/stop-loop
wait "$loop"
read -r tries leaks </tmp/loop.result
say "$tries opens, $leaks succeeded, across $RELOADS reloads"
[ "$leaks" = 0 ] || fail "$leaks of $tries opens of the denied file succeeded during reloads"
[ "$tries" -ge 1000 ] || fail "only $tries opens during the reloads: the loop did not run"
n=$(count_records '"op":"reload"' '"level":"INFO"' '"changed":["log","file"]')
[ "$n" = $((RELOADS / 10)) ] || fail "$n reload records replaced the file module, want $((RELOADS / 10))"
n=$(count_records '"op":"reload"' '"level":"INFO"')
[ "$n" = "$RELOADS" ] || fail "$n reload records, want $RELOADS"
assert_no_record '"op":"reload"' '"level":"ERROR"'
# The last config's audit rule and tags, not an earlier one's, are in force.
touch /srv/audit-10 /srv/audit-20
cat /srv/audit-10 /srv/audit-20
wait_for_record '"action":"ALLOWED"' '"path":"/srv/audit-20"'
rec_has "\"tags\":{\"reload\":\"$RELOADS\"}"
assert_no_record '"action":"ALLOWED"' '"path":"/srv/audit-10"' 

say "a config with an error is refused; enforcement and logging stay"
printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n[file]\nmode = "blok"\ndeny = []\n' >/tmp/sg.toml
reload_and_wait $((RELOADS + 1))
wait_for_record '"op":"reload"' '"level":"ERROR"'
rec_has '/tmp/sg.toml:5:8' 'file.mode' '"note":"refused: the running policy stays"'
mark_records
expect_eperm_file cat /srv/secret/key
wait_for_new_record '"op":"read"' '"action":"BLOCKED"' '"path":"/srv/secret/key"'

say "a module switched on by a reload enforces, and off again stops"
file_config "$RELOADS" '[process]' 'mode = "block"' 'ops = ["exec"]' 'deny = ["/opt/denied"]'
reload_and_wait $((RELOADS + 2))
wait_for_record '"op":"reload"' '"changed":["process"]'
rec_has '"process":"enforcing"' '"file":"enforcing"'
expect_eperm /opt/denied
wait_for_record '"module":"process"' '"action":"BLOCKED"' '"filename":"/opt/denied"'
file_config "$RELOADS"
reload_and_wait $((RELOADS + 3))
wait_for_record '"op":"reload"' '"changed":["process"]' '"process":"off"'
run_sh 'exec -a true /opt/denied'
[ "$RC" = 0 ] || fail "/opt/denied still refused after the process module was switched off: $OUT"

stop_agent
