# boots: lsm
# kernels: 5.10
# file-deny: a denied file cannot be read (EPERM) and gives one BLOCKED record with the
# subject, path, op and rule; a directory rule covers everything below it but not a
# sibling whose name merely starts the same; per-op rules: read allowed, write denied.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /srv/secret/sub /srv/secretx /srv/ro
echo s3cret >/srv/secret/key
echo deep >/srv/secret/sub/file
echo free >/srv/secretx/file
echo data >/srv/ro/file
echo other >/srv/other
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = ["/srv/secret", { path = "/srv/ro", ops = ["write"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"file":"enforcing"'

say "a denied file"
expect_eperm_file cat /srv/secret/key
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' '"path":"/srv/secret/key"'
rec_has '"rule":"/srv/secret"' '"comm":"cat"' '"uid":0' '"hostname":"sg-guest"' '"exe":"/bin/busybox"'

say "below a denied directory"
expect_eperm_file cat /srv/secret/sub/file
wait_for_record '"action":"BLOCKED"' '"path":"/srv/secret/sub/file"'

say "a sibling whose name starts the same, and other files, are free"
[ "$(cat /srv/secretx/file)" = free ] || fail "/srv/secretx/file unreadable"
[ "$(cat /srv/other)" = other ] || fail "/srv/other unreadable"

say "per-op: read allowed, write denied"
[ "$(cat /srv/ro/file)" = data ] || fail "/srv/ro/file unreadable"
expect_eperm_file sh -c 'echo x >/srv/ro/file'
wait_for_record '"op":"write"' '"action":"BLOCKED"' '"path":"/srv/ro/file"'
rec_has '"rule":"{ path = \"/srv/ro\", ops = [\"write\"] }"'

stop_agent
assert_no_record '"path":"/srv/secretx/file"'
assert_no_record '"path":"/srv/other"'
n=$(count_records '"action":"BLOCKED"' '"path":"/srv/secret/key"')
[ "$n" = 1 ] || fail "$n BLOCKED records for /srv/secret/key, want 1"
