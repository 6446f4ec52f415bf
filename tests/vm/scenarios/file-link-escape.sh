# boots: lsm
# file-link-escape: a rule that denies only reads of a directory (ops = ["read"]) does not
# deny hard links, so an attacker links a protected file out of the tree after the agent
# started and reads it by the new name. It is the same file (the identity the agent matches
# for links made before the start), so the read must still be refused. Symlinks and links
# made before the start are covered by file-bypass; this is the link made afterwards.
# Same filesystem (/srv) for the link: hard links cannot cross into /tmp.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

rm -rf /srv/le /srv/le-out
mkdir -p /srv/le /srv/le-out
echo s3cret >/srv/le/key
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "/srv/le", ops = ["read"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

say "the file itself is refused"
expect_eperm_file cat /srv/le/key
wait_for_record '"op":"read"' '"action":"BLOCKED"' '"path":"/srv/le/key"'

say "a hard link made now (link is not in the rule's ops, so it is allowed)"
expect_ok ln /srv/le/key /srv/le-out/k
say "reading the same file through the new link"
run_cmd cat /srv/le-out/k
case $OUT in
    *s3cret*) fail "read the protected file through a hard link made after the start: $OUT" ;;
    *"Operation not permitted"*) ;;
    *) fail "cat /srv/le-out/k: status $RC, output: $OUT" ;;
esac
wait_for_record '"op":"read"' '"action":"BLOCKED"' '"path":"/srv/le-out/k"'
rec_has '"rule":"{ path = \"/srv/le\", ops = [\"read\"] }"'

stop_agent
rm -rf /srv/le /srv/le-out
