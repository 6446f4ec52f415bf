# boots: nolsm
# file-degraded: without BPF LSM, the file module runs audit-only (fentry on the
# security_*() functions): in block mode, reading, deleting and renaming into a denied
# tree succeed and each gives a MONITOR record with its path, op and rule; a hard link
# made before the start still reaches the rule (identity); an `audit` path gives an
# ALLOWED record; nothing is BLOCKED.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /srv/secret /srv/audited
echo s3cret >/srv/secret/key
echo gone >/srv/secret/gone
echo linked >/srv/secret/linked
ln -f /srv/secret/linked /srv/link
echo moved >/srv/moved
echo seen >/srv/audited/file
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = ["/srv/secret"]
audit = ["/srv/audited"]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"enforcement":"degraded"' '"file":"audit-only"'

say "a read of a denied file succeeds and is logged"
run_sh 'exec cat /srv/secret/key'
case "$RC $OUT" in "0 "*s3cret) ;; *) fail "cat of the denied file: status $RC: $OUT" ;; esac
wait_for_record '"module":"file"' '"op":"read"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"path":"/srv/secret/key"' '"rule":"/srv/secret"' '"comm":"cat"'

say "through a hard link made before the start"
run_sh 'exec cat /srv/link'
[ "$RC" = 0 ] || fail "cat of the hard link: status $RC: $OUT"
wait_for_record '"module":"file"' '"op":"read"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"path":"/srv/link"' '"rule":"/srv/secret"'

say "delete and rename into the tree"
run_sh 'rm /srv/secret/gone && mv /srv/moved /srv/secret/moved'
[ "$RC" = 0 ] || fail "rm/mv in degraded mode: status $RC: $OUT"
if [ -e /srv/secret/gone ] || [ ! -e /srv/secret/moved ]; then fail "the delete or the rename did not happen"; fi
wait_for_record '"module":"file"' '"op":"delete"' '"action":"MONITOR"' '"path":"/srv/secret/gone"'
# The new name is judged for rename and create: the record names the first (create).
wait_for_record '"module":"file"' '"op":"create"' '"action":"MONITOR"' '"path":"/srv/moved"'
rec_has '"target_path":"/srv/secret/moved"' '"rule":"/srv/secret"'

say "an audit path"
run_sh 'exec cat /srv/audited/file'
wait_for_record '"module":"file"' '"op":"read"' '"action":"ALLOWED"' '"path":"/srv/audited/file"'

stop_agent
assert_no_record '"action":"BLOCKED"'
