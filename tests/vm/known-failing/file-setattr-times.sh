# boots: lsm
# file-setattr-times: SPEC 3.1 maps setattr to "mode, owner and other attribute changes
# (truncate, times)". Changing the times of a file under a setattr rule (touch on an
# existing file: utimensat, no open) must be refused like a truncate, so that timestamps
# of a protected file cannot be forged.
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

stop_agent
rm -rf /srv/times
