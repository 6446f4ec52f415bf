# boots: lsm
# kernels: 5.10
# log-full-disk: the log's filesystem fills up while the agent runs. Denied operations
# still get EPERM; records that cannot be written are counted (write_errors); the failure
# is reported once on stderr, not once per record; when space returns the agent writes
# again by itself, every line of the file is one whole record (a record cut by ENOSPC is
# completed, never glued to the next), and the stop record's totals add up exactly:
# produced = written + filtered + lost (write_errors among the lost), written = the
# records in the file.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /tmp/logfs
empty_files /srv/sg-full 600
# Room for the writer's 64 KiB buffer once the filler is removed.
mount -t tmpfs -o size=512k tmpfs /tmp/logfs || fail "cannot mount a small tmpfs"
deny_read_config /tmp/sg.toml /tmp/logfs/sg.log /srv/sg-full

# stderr_count TEXT: lines of the agent's stderr with TEXT.
stderr_count() { grep -cF -- "$1" "$AGENT_ERR"; }

start_agent /tmp/sg.toml
deny_range /srv/sg-full 0 10
wait_for_record '"action":"BLOCKED"' '"path":"/srv/sg-full/f9"'

say "filling the log's filesystem"
dd if=/dev/zero of=/tmp/logfs/fill bs=1k 2>/dev/null
if echo x >>/tmp/logfs/fill 2>/dev/null; then fail "the tmpfs is not full"; fi
df /tmp/logfs | tail -n 1

say "denials while the disk is full (more than the writer's 64 KiB buffer holds)"
deny_range /srv/sg-full 10 410
i=0
until [ "$(stderr_count 'log: cannot write to /tmp/logfs/sg.log')" -ge 1 ]; do
    [ "$i" -lt 50 ] || fail "no write error reported on stderr within 10 s"
    sleep 0.2
    i=$((i + 1))
done
grep -F 'log: cannot write' "$AGENT_ERR"
grep -qF 'No space left on device' "$AGENT_ERR" || fail "the error does not name the cause"
deny_range /srv/sg-full 410 510
sleep 1
n=$(stderr_count 'log: cannot write')
[ "$n" = 1 ] || fail "$n write-error messages on stderr, want 1 per streak"
alive "$AGENT_PID" || fail "the agent died on a full disk"

say "space returns"
rm /tmp/logfs/fill
deny_range /srv/sg-full 510 520
wait_for_record '"action":"BLOCKED"' '"path":"/srv/sg-full/f519"'
i=0
until [ "$(stderr_count 'log: writing to /tmp/logfs/sg.log again')" = 1 ]; do
    [ "$i" -lt 25 ] || fail "no recovery message on stderr"
    sleep 0.2
    i=$((i + 1))
done
grep -F 'again' "$AGENT_ERR"
stop_agent

say "every line is one whole record"
[ "$(tail -c 1 "$SG_LOG" | od -An -c | tr -d ' ')" = '\n' ] || fail "the file ends mid-line"
bad=$(grep -vc '^{"time":".*}$' "$SG_LOG")
[ "$bad" = 0 ] || fail "$bad lines are not whole records: $(grep -v '^{"time":".*}$' "$SG_LOG" | head -n 3)"
[ "$(tr -d '\000' <"$SG_LOG" | wc -c)" = "$(wc -c <"$SG_LOG")" ] || fail "NUL bytes in the log"
glued=$(grep -c '{"time":.*{"time":' "$SG_LOG")
[ "$glued" = 0 ] || fail "$glued lines hold two records"
dup=$(records '"module":"file"' | sed 's/.*"path":"\([^"]*\)".*/\1/' | sort | uniq -d | head -n 1)
[ -z "$dup" ] || fail "$dup logged twice"

say "the counts add up"
records '"module":"agent"' '"op":"stop"'
produced=$(stop_total produced)
written=$(stop_total written)
errors=$(stop_total write_errors)
lost=$(stop_total lost)
in_file=$(count_records '"module":"file"')
say "produced=$produced written=$written write_errors=$errors lost=$lost in the file=$in_file"
[ "$errors" -gt 0 ] || fail "no write_errors counted"
[ "$produced" = 520 ] || fail "520 denials, but the kernel produced $produced events"
[ "$produced" = $((written + $(stop_total filtered) + lost)) ] || fail "produced != written + filtered + lost"
[ "$lost" = $((errors + $(stop_total lost_queue) + $(stop_total lost_kernel) + $(stop_total malformed))) ] ||
    fail "lost is not the sum of its kinds"
[ "$written" = "$in_file" ] || fail "written=$written but $in_file records in the file"
REC=$(records '"module":"agent"' '"op":"stop"' | tail -n 1)
rec_has '"level":"ERROR"'
