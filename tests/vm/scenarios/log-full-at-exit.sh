# boots: lsm
# kernels: none
# log-full-at-exit: the agent is stopped while the log's filesystem is full. It exits 0 and
# says how many buffered events it could not write (those written plus those reported
# are all the denials); when it starts again with space, a record cut at the end of the
# file is ended there, and every new record starts a line of its own.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /tmp/logfs
empty_files /srv/sg-exit 120
mount -t tmpfs -o size=512k tmpfs /tmp/logfs || fail "cannot mount a small tmpfs"
deny_read_config /tmp/sg.toml /tmp/logfs/sg.log /srv/sg-exit

start_agent /tmp/sg.toml
deny_range /srv/sg-exit 0 10
wait_for_record '"path":"/srv/sg-exit/f9"'

say "fill the disk, 100 denials (less than the writer's buffer holds), stop"
dd if=/dev/zero of=/tmp/logfs/fill bs=1k 2>/dev/null
deny_range /srv/sg-exit 10 110
sleep 1
terminate_agent   # not stop_agent: the stop record cannot be written
[ "$rc" = 0 ] || fail "exit status $rc on a full disk, want 0"
cat "$AGENT_ERR"
grep -q 'buffered events .* could not be written before exit' "$AGENT_ERR" ||
    fail "the agent did not say what it could not write"
# The stop record, written after the events were given up, is lost too (0 events).
unwritten=$(sed -n 's/.*log: \([0-9]*\) buffered events.*/\1/p' "$AGENT_ERR" | awk '{ s += $1 } END { print s + 0 }')
whole=$(records '"module":"file"' | grep -c '}$')
say "$whole of the 100 written whole, $unwritten reported unwritten"
[ $((whole - 10 + unwritten)) = 100 ] || fail "written ($((whole - 10))) + unwritten ($unwritten) != 100"
cut=$(grep -vc '^{"time":".*}$' "$SG_LOG")
say "cut lines: $cut"

say "space returns; the agent starts again"
rm /tmp/logfs/fill
mark_records
start_agent /tmp/sg.toml  # returns at once: the first run's start record is there
WAIT_SECS=120 # as long as start_agent would wait for a loaded 6.12 verifier, and more
wait_for_new_record '"module":"agent"' '"op":"start"'
WAIT_SECS=20
deny_range /srv/sg-exit 110 111
wait_for_record '"path":"/srv/sg-exit/f110"'
stop_agent
bad=$(grep -vc '^{"time":".*}$' "$SG_LOG")
[ "$bad" = "$cut" ] || fail "$bad lines are not whole records, $cut were cut before the restart"
[ "$bad" -le 1 ] || fail "$bad cut lines"
glued=$(grep -c '{"time":.*{"time":' "$SG_LOG")
[ "$glued" = 0 ] || fail "$glued lines hold two records"
starts=$(grep -c '^{"time":"[^"]*","level":"INFO","level_no":20,"module":"agent","op":"start"' "$SG_LOG")
[ "$starts" = 2 ] || fail "$starts start records at the start of a line, want 2"
[ "$(tail -c 1 "$SG_LOG" | od -An -c | tr -d ' ')" = '\n' ] || fail "the file ends mid-line"
