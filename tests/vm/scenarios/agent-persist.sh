# boots: lsm
# kernels: 6.12
# agent-persist: [agent] persist = true. The agent mounts bpffs where it is missing and pins
# its programs, links and maps under /sys/fs/bpf/safeguard; a reload replaces the pinned
# instance with no second one left behind. A shell opens a denied file in a loop while
# the agent is killed with SIGKILL, while no agent runs, and while a new agent (with an
# edited config) adopts the pins: not one open succeeds. The new start record says
# "adopted": true; the records of denials made while no agent ran are in its log
# ("adopted": true), and the older pinned policy is reported. SIGTERM leaves the policy
# enforced too. The agent's own operations are not judged (it reloads a config its
# policy denies reading), but a process that later gets the dead agent's pid is (the
# exemption is the agent's pid and its start time). `safeguard unload` is refused while
# an agent runs, and afterwards ends enforcement and removes /sys/fs/bpf/safeguard. A
# start whose config turns the file module off removes its pins (a WARNING record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

PINS=/sys/fs/bpf/safeguard
mkdir -p /srv/secret
echo s3cret >/srv/secret/key
copy_busybox /opt/whilenone

# persist_config LOG AUDIT [DENY]: the policy (an audit rule AUDIT that tells configs
# apart; DENY a second denied path).
persist_config() {
    printf '[agent]\npersist = true\n[log]\nformat = "json"\noutput = "%s"\n' "$1"
    printf '[file]\nmode = "block"\nops = ["read"]\ndeny = ["/srv/secret"%s]\naudit = ["%s"]\n' \
        "${3:+, \"$3\"}" "$2"
}

# instances: the file module's pinned instance directories, one per line.
instances() {
    for d in "$PINS"/file_*; do
        [ -d "$d" ] && basename "$d"
    done
    return 0
}

run_cmd "$SG" probe
case $OUT in *"pinning (persist): ok"*) ;; *) fail "probe does not report pinning: $OUT" ;; esac

say "bpffs is not mounted: the agent mounts it and pins"
umount /sys/fs/bpf || fail "umount /sys/fs/bpf"
# shellcheck disable=SC2094 # the third argument is a rule path written into the config
persist_config /tmp/sg1.log /srv/audit-a /tmp/sg.toml >/tmp/sg.toml
start_agent /tmp/sg.toml
wait_for_record '"op":"start"'
rec_has '"persist":true' '"adopted":false' '"bpffs_mounted":"/sys/fs/bpf"' '"file":"enforcing"'
first=$(instances)
[ "$(echo "$first" | wc -l)" = 1 ] && [ -n "$first" ] || fail "want one pinned file instance, have: $(ls $PINS)"
set -- "$PINS/$first"/link_*
[ -e "$1" ] || fail "no link pinned in $PINS/$first: $(ls "$PINS/$first")"
expect_eperm_file cat /srv/secret/key
# The agent's own operations are not judged (its pid and start time): the first policy
# denies reading the config, and the reload below reads it all the same.
expect_eperm_file cat /tmp/sg.toml

say "a reload replaces the pinned instance"
persist_config /tmp/sg1.log /srv/audit-b >/tmp/sg.toml
kill -HUP "$AGENT_PID"
WAIT_SECS=120 wait_for_record '"op":"reload"' '"changed":["file"]'
second=$(instances)
[ "$(echo "$second" | wc -l)" = 1 ] && [ "$second" != "$first" ] ||
    fail "after the reload want one new pinned instance, have: $(ls $PINS)"

say "a loop opens the denied file through kill -9, no agent, and a restart"
# 20 opens a second: while no agent runs each denial waits in the pinned ring buffer
# (4 MiB, about a thousand file records), which must keep room for the test's own.
/bin/sh -c '
    tries=0 leaks=0
    while [ ! -e /tmp/stop-loop ]; do
        if { read -r line </srv/secret/key; } 2>/dev/null; then leaks=$((leaks + 1)); fi
        tries=$((tries + 1))
        usleep 50000
        if [ $((tries % 10)) = 0 ]; then echo "$tries $leaks" >/tmp/loop.tmp && mv /tmp/loop.tmp /tmp/loop.now; fi
    done
    echo "$tries $leaks" >/tmp/loop.result' &
loop=$!
sleep 1
dead=$AGENT_PID
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=""
# The pinned file module does not judge the agent's own operations. A process that
# later gets the dead agent's pid (ns_last_pid hands it out next) is not the agent: its
# start time differs, and its read is refused like anyone's.
reused=""
for try in 1 2 3 4 5 6 7 8 9 10; do
    echo $((dead - 1)) >/proc/sys/kernel/ns_last_pid
    cat /srv/secret/key >/tmp/reuse.out 2>&1 &
    reused=$!
    wait "$reused"
    rc=$?
    [ "$reused" = "$dead" ] && break # the loop above forks too: try again
done
[ "$reused" = "$dead" ] || fail "could not get pid $dead again (last: $reused)"
[ "$rc" != 0 ] && grep -q "Operation not permitted" /tmp/reuse.out ||
    fail "pid $dead, reused after the agent, read the denied file (status $rc): $(cat /tmp/reuse.out)"
say "pid $dead reused (try $try): refused with EPERM"
# A denial while no agent runs, by a program of its own name (comm "whilenone").
expect_eperm_file_sh 'exec -a cat /opt/whilenone /srv/secret/key'
sleep 2
read -r tries_dead _ </tmp/loop.now
say "agent killed; the pins hold: $(instances)"
[ "$(instances)" = "$second" ] || fail "the pins changed when the agent died: $(ls $PINS)"
expect_eperm_file cat /srv/secret/key

say "a new agent with an edited config adopts the pins"
persist_config /tmp/sg2.log /srv/audit-c >/tmp/sg.toml
start_agent /tmp/sg.toml
wait_for_record '"op":"start"'
rec_has '"adopted":true' "\"instance\":\"$second\"" '"same_policy":false' '"file":"enforcing"'
wait_for_record '"module":"agent"' '"op":"persist"' '"level":"WARNING"'
wait_for_record '"comm":"whilenone"' '"action":"BLOCKED"' '"adopted":true'
rec_has '"path":"/srv/secret/key"' '"rule":"unknown: decided by a pinned policy of an older config"'
third=$(instances)
[ "$(echo "$third" | wc -l)" = 1 ] && [ "$third" != "$second" ] ||
    fail "after the adoption want only the new instance pinned, have: $(ls $PINS)"
read -r tries_adopted _ </tmp/loop.now
touch /tmp/stop-loop
wait "$loop"
read -r tries leaks </tmp/loop.result
say "$tries opens ($tries_dead when the agent was killed, $tries_adopted once adopted), $leaks succeeded"
[ "$leaks" = 0 ] || fail "$leaks of $tries opens of the denied file succeeded"
[ "$tries_adopted" -gt "$tries_dead" ] || fail "the loop did not run while no agent ran"

say "unload is refused while an agent runs; SIGTERM leaves the policy enforced"
expect_status 1 "$SG" unload
case $OUT in *"stop it first"*) ;; *) fail "unload while running: $OUT" ;; esac
stop_agent
wait_for_record '"op":"stop"' '"persisted":true'
expect_eperm_file cat /srv/secret/key
[ "$(instances)" = "$third" ] || fail "the pins changed at the stop: $(ls $PINS)"

say "unload ends enforcement and removes the pins"
expect_ok "$SG" unload
echo "$OUT"
# unload returns once the kernel has freed the programs (after an RCU grace period).
expect_read /srv/secret/key s3cret
[ ! -e "$PINS" ] || fail "$PINS is still there after unload: $(ls $PINS)"
expect_ok "$SG" unload
case $OUT in *"nothing pinned"*) ;; *) fail "a second unload: $OUT" ;; esac

say "a start whose config has no [file] removes the file module's pins, with a record"
persist_config /tmp/sg4.log /srv/audit-d >/tmp/sg.toml
start_agent /tmp/sg.toml
stop_agent
fourth=$(instances)
[ -n "$fourth" ] || fail "no pinned file instance after a stop: $(ls $PINS)"
expect_eperm_file cat /srv/secret/key
# No module at all: the cheapest start (this scenario runs close to its time limit).
printf '[agent]\npersist = true\n[log]\nformat = "json"\noutput = "/tmp/sg5.log"\n' >/tmp/sg.toml
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"persist"' '"level":"WARNING"' "\"instance\":\"$fourth\"" '"pinned_module":"file"'
[ -z "$(instances)" ] || fail "the file module's pins stayed: $(ls $PINS)"
expect_read /srv/secret/key s3cret
stop_agent
expect_ok "$SG" unload
