# boots: lsm
# kernels: none
# file-setattr-times: SPEC 3.1 maps setattr to "mode, owner and other attribute changes
# (truncate, times)". Changing the times of a file under a setattr rule (touch on an
# existing file: utimensat, no open) must be refused like a truncate, so that timestamps
# of a protected file cannot be forged. Truncation sets the mtime too: it must give one
# record (from the truncate hooks), not two; chown and chmod are not `setattr`.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

rm -rf /srv/times
mkdir -p /srv/times
echo t >/srv/times/f
touch -d '2020-01-01 00:00:00' /srv/times/f
before=$(stat -c %Y /srv/times/f)
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "/srv/times", ops = ["setattr"] }]
EOF

start_agent /tmp/sg.toml

say "truncate is refused (the hook that exists)"
expect_eperm_file truncate -s 0 /srv/times/f
wait_for_record '"module":"file"' '"op":"setattr"' '"action":"BLOCKED"' '"path":"/srv/times/f"'

say "changing the times"
mark_records
run_cmd touch -d '2030-01-01 00:00:00' /srv/times/f
after=$(stat -c %Y /srv/times/f)
case $OUT in
    *"Operation not permitted"*) ;;
    *) fail "touch -d on /srv/times/f: status $RC, output '$OUT', mtime $before -> $after (want EPERM, unchanged)" ;;
esac
[ "$after" = "$before" ] || fail "mtime changed: $before -> $after"
wait_for_new_record '"op":"setattr"' '"action":"BLOCKED"' '"path":"/srv/times/f"'
rec_has '"comm":"touch"'

say "touch without a time (utimensat with NULL: now)"
expect_eperm_file touch /srv/times/f
[ "$(stat -c %Y /srv/times/f)" = "$before" ] || fail "touch changed the mtime"

say "chown and chmod are other ops: allowed"
expect_ok chown 1000 /srv/times/f
expect_ok chmod 600 /srv/times/f

stop_agent
n=$(count_records '"op":"setattr"' '"path":"/srv/times/f"')
[ "$n" = 3 ] || fail "want 3 setattr records (truncate, touch -d, touch), got $n"
assert_no_record '"op":"chown"'
assert_no_record '"op":"chmod"'
rm -rf /srv/times
