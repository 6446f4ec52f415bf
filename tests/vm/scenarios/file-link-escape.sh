# boots: lsm
# kernels: none
# file-link-escape: a rule that denies only reads of a directory (ops = ["read"]) must not
# be escaped by linking (or moving) a protected file out of the tree after the agent
# started and reading it by the new name: a link or rename that would shed a file's deny
# rules is refused, with the rule it would shed. Symlinks and links made before the start
# are covered by file-bypass; this is the link made afterwards.
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

say "a hard link out of the tree is refused: the new name would shed the read rule"
expect_eperm_file ln /srv/le/key /srv/le-out/k
wait_for_record '"op":"link"' '"action":"BLOCKED"' '"path":"/srv/le/key"' '"target_path":"/srv/le-out/k"'
rec_has '"rule":"{ path = \"/srv/le\", ops = [\"read\"] }"'
[ ! -e /srv/le-out/k ] || fail "the link was made"

say "so is a rename out of the tree"
expect_eperm_file mv /srv/le/key /srv/le-out/k
wait_for_record '"op":"rename"' '"action":"BLOCKED"' '"path":"/srv/le/key"'

say "a link within the tree keeps the rule and is allowed"
expect_ok ln /srv/le/key /srv/le/key2
expect_eperm_file cat /srv/le/key2

stop_agent
rm -rf /srv/le /srv/le-out
