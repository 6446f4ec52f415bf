# boots: lsm
# kernels: 5.10
# target-userns: `target = "host"` holds for an unprivileged user who makes a pid namespace
# of its own (`unshare -Urpf`): a container is a pid namespace that a privileged process
# made (its user namespace is owned by root), not any other pid namespace. Root's own
# `unshare -pf` (and `unshare -Upf`) is still a container. File and process modules.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

dir=/srv/sg-target-userns
rm -rf "$dir"
mkdir -p "$dir"
echo data >"$dir/f"
copy_busybox "$dir/denied"
chmod 755 "$dir" && chmod 644 "$dir/f"
cat >/tmp/sg-target.toml <<EOF
[log]
format = "json"
output = "/tmp/sg-target.log"
[file]
mode = "block"
target = "host"
deny = [{ path = "$dir/f", ops = ["read"] }]
[process]
mode = "block"
target = "host"
deny = ["$dir/denied"]
EOF

# expect_user_eperm SCRIPT: SCRIPT, run by uid 1000, must print "Operation not permitted".
expect_user_eperm() {
    run_cmd su -s /bin/sh user -c "$1"
    case $OUT in
        *"Operation not permitted"*) say "refused with EPERM: $1" ;;
        *) fail "expected EPERM from (uid 1000): $1 (status $RC, output: $OUT)" ;;
    esac
}

# Can this kernel give an unprivileged user a user namespace at all?
as_user 'unshare -Ur true' >/dev/null 2>&1 || fail "unprivileged user namespaces are off in this kernel"

start_agent /tmp/sg-target.toml
say "an unprivileged user's own pid namespace is still the host"
expect_user_eperm "unshare -Urpf --mount-proc cat $dir/f"
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' "\"path\":\"$dir/f\""
rec_has '"container":false'
expect_user_eperm "unshare -Urpf $dir/denied true"
wait_for_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"exe\":\"$dir/denied\""
rec_has '"container":false'
say "nested: a pid namespace in a pid namespace, both the user's"
expect_user_eperm "unshare -Urpf unshare -Urpf cat $dir/f"

say "root's pid namespaces are containers (target = host does not apply there)"
expect_ok unshare -pf --mount-proc cat "$dir/f"
[ "$OUT" = data ] || fail "root's container read '$OUT'"
expect_ok unshare -Upf --mount-proc cat "$dir/f"
[ "$OUT" = data ] || fail "root's user+pid namespace read '$OUT'"
expect_ok unshare -pf sh -c "exec -a true $dir/denied"
stop_agent
rm -rf "$dir"
