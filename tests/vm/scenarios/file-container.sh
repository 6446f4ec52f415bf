# boots: lsm
# kernels: 6.1
# file-container: `target` limits the module to tasks in another pid namespace than the
# agent's ("container") or in the agent's own ("host"). With target = "container" the host
# reads a denied file and a task in a new pid namespace is refused (record with
# "container":true); target = "host" is the other way round.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

rm -rf /srv/x
mkdir -p /srv/x
echo data >/srv/x/f
for target in container host; do
    cat >"/tmp/sg-$target.toml" <<EOF
[log]
format = "json"
output = "/tmp/sg-$target.log"
[file]
mode = "block"
target = "$target"
deny = ["/srv/x"]
EOF
done

say "target = container"
start_agent /tmp/sg-container.toml
expect_read /srv/x/f data
expect_eperm_file unshare -p -f --mount-proc sh -c 'cat /srv/x/f'
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' '"path":"/srv/x/f"'
rec_has '"container":true' '"comm":"cat"' '"rule":"/srv/x"'
stop_agent
n=$(count_records '"module":"file"')
[ "$n" = 1 ] || fail "$n file records, want 1 (the container's)"

say "target = host"
start_agent /tmp/sg-host.toml
expect_eperm_file cat /srv/x/f
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' '"path":"/srv/x/f"'
rec_has '"container":false' '"comm":"cat"'
expect_ok unshare -p -f --mount-proc sh -c 'cat /srv/x/f'
[ "$OUT" = data ] || fail "the container read '$OUT'"
stop_agent
n=$(count_records '"module":"file"')
[ "$n" = 1 ] || fail "$n file records, want 1 (the host's)"
rm -rf /srv/x
