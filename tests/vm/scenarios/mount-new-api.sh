# boots: lsm
# kernels: 6.12
# mount-new-api: open_tree(OPEN_TREE_CLONE) + move_mount(2) attach a tree the kernel has
# already resolved, so it is judged by identity: the denied file, a hard link to it made
# before the agent started, a symlink made after, and its parent directory are refused
# with a BLOCKED move_mount record; a clone of anything else is attached.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mnt_fixture
mnt_config /tmp/sg.toml block '["/var/run/docker.sock"]'
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"mount":"enforcing"'
ln -s /run/docker.sock /tmp/symlink.sock

for source in /var/run/docker.sock /run/hardlink.sock /tmp/symlink.sock; do
    say "clone of $source"
    mnt_eperm clone "$source" /tmp/t
    wait_for_record '"module":"mount"' '"op":"move_mount"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
    rec_has '"target":"/tmp/t"' '"kind":"move"' '"rule":"/var/run/docker.sock"' '"comm":"sg-mounttool"' \
        '"source_ino":'
done
[ "$(cat /tmp/t)" = "" ] || fail "/tmp/t shows the denied file"

say "clone of the parent directory"
mnt_eperm clone /var/run /tmp/d
wait_for_record '"op":"move_mount"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
[ ! -e /tmp/d/docker.sock ] || fail "/tmp/d exposes docker.sock"

say "clone of anything else"
mnt_ok clone /run/other /tmp/t2
[ "$(cat /tmp/t2)" = other ] || fail "the allowed clone was not attached"
wait_for_record '"op":"move_mount"' '"action":"ALLOWED"' "\"pid\":$SH_PID" '"target":"/tmp/t2"'
umount /tmp/t2 || fail "umount /tmp/t2"

stop_agent
n=$(count_records '"op":"move_mount"' '"action":"BLOCKED"')
[ "$n" = 4 ] || fail "$n BLOCKED move_mount records, want 4"
