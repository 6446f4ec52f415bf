# boots: lsm
# kernels: 6.12
# mount-symlink-later: a symlink made after the agent started does not carry a mount(2)
# bind past mount.deny. The kernel's lookup follows it after sb_mount; its body is judged
# there like a source string (absolute, or relative to the link's directory; source_lookup,
# source_path = where it leads): a link to the denied file, a relative one, a link to its
# parent directory, a chain of links, a link in the middle of the source. A link to
# anything else is followed. (A hard link is still not recognised: known-failing.)
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

L=/srv/sg-mount-symlink-later
mnt_fixture
mkdir -p "$L" || fail "fixture"
mount -t tmpfs links "$L" || fail "tmpfs for the links"
mnt_config /tmp/sg.toml block '["/var/run/docker.sock"]'
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'

if ! { ln -s /run/docker.sock "$L/abs.sock" && ln -s ../../run/docker.sock "$L/rel.sock" &&
    ln -s /run "$L/run" && ln -s "$L/abs.sock" "$L/chain.sock" && ln -s /run/other "$L/ok"; }; then
    fail "symlinks"
fi

for source in "$L/abs.sock" "$L/rel.sock" "$L/chain.sock" "$L/run/docker.sock"; do
    say "bind of $source"
    mnt_eperm mount "$source" /tmp/t - bind
    wait_for_record '"module":"mount"' '"op":"mount"' '"action":"BLOCKED"' "\"pid\":$SH_PID" \
        '"source_lookup":true' '"source_path":"/run' '"rule":"/var/run/docker.sock"' "\"source\":\"$source\""
done
mnt_eperm mount "$L/run" /tmp/d - bind
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_lookup":true' '"source_path":"/run"'
[ "$(cat /tmp/t)" = "" ] || fail "/tmp/t shows the denied file"
[ ! -e /tmp/d/docker.sock ] || fail "/tmp/d exposes docker.sock"

say "a link to anything else"
mnt_ok mount "$L/ok" /tmp/t2 - bind
[ "$(cat /tmp/t2)" = other ] || fail "the allowed bind did not happen"
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID" "\"source\":\"$L/ok\""
umount /tmp/t2 || fail "umount"

stop_agent
n=$(count_records '"module":"mount"' '"action":"BLOCKED"')
[ "$n" = 5 ] || fail "$n BLOCKED records, want 5"
umount "$L"
