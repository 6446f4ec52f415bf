# boots: lsm
# kernels: none
# file-odd-names: a denied file whose name holds a newline, a double quote, a backslash and
# a byte that is not UTF-8 is refused, and its record keeps every byte, escaped as the
# README says (src/logging/json.rs): JSON escapes for the newline and the quote, a literal
# backslash doubled before JSON escaping (4 backslashes in the raw line), a non-UTF-8 byte
# as \xNN (raw: \\xff). The record stays one line.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

rm -rf /srv/odd
mkdir -p /srv/odd
name=$(printf 'a\nb"c\\d\377e')
echo odd >"/srv/odd/$name"
[ -f "/srv/odd/$name" ] || fail "test bug: could not create the file"
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = ["/srv/odd"]
EOF

start_agent /tmp/sg.toml
expect_eperm_file cat "/srv/odd/$name"
# The raw JSON text of the path (single quotes: no shell escaping).
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' \
    '"path":"/srv/odd/a\nb\"c\\\\d\\xffe"'
rec_has '"rule":"/srv/odd"'
stop_agent
n=$(grep -c '"path":"/srv/odd/' /tmp/sg.log)
[ "$n" = 1 ] || fail "$n lines carry the path, want 1 (a record split over lines?)"
assert_no_record 'b"c'
rm -rf /srv/odd
