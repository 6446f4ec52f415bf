# boots: lsm
# kernels: 5.10
# mount-new-api-fstype: `deny = ["ramfs"]` holds for the new mount API too. fsopen("ramfs")
# + fsconfig(FSCONFIG_CMD_CREATE) is refused where the superblock is made (EPERM from
# fsconfig, a BLOCKED `fsconfig` record): the tree could otherwise be used through the
# fsmount fd without ever being attached. A ramfs made before the agent started is refused
# when move_mount attaches it (a BLOCKED move_mount record with its fstype); mount(2) of a
# ramfs is refused as before; a tmpfs through the same calls is attached (ALLOWED).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /tmp/d /tmp/d2 /tmp/d3 /tmp/d4 || fail "fixture"
rm -f /tmp/go /tmp/early.out
mnt_config /tmp/sg.toml block '["ramfs"]'

say "a ramfs made (fsmount) before the start, attached after it"
"$MOUNTTOOL" fsmount ramfs /tmp/d2 /tmp/go >/tmp/early.out 2>&1 &
early=$!
i=0
while ! grep -q ready /tmp/early.out; do
    [ "$i" -lt 100 ] || fail "the early fsmount did not get ready: $(cat /tmp/early.out)"
    sleep 0.1
    i=$((i + 1))
done

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"mount":"enforcing"'

touch /tmp/go
wait "$early"
grep -q "error: Operation not permitted (move_mount)" /tmp/early.out || fail "early ramfs: $(cat /tmp/early.out)"
wait_for_record '"module":"mount"' '"op":"move_mount"' '"action":"BLOCKED"' "\"pid\":$early" \
    '"fstype":"ramfs"' '"rule":"ramfs"' '"target":"/tmp/d2"'
grep -q " /tmp/d2 " /proc/mounts && fail "the early ramfs was attached"

say "fsopen + fsconfig(CMD_CREATE) of a ramfs"
mnt_eperm fsmount ramfs /tmp/d
case $OUT in *"(fsconfig)"*) ;; *) fail "refused at the wrong step: $OUT" ;; esac
wait_for_record '"module":"mount"' '"op":"fsconfig"' '"action":"BLOCKED"' "\"pid\":$SH_PID" \
    '"fstype":"ramfs"' '"rule":"ramfs"' '"kind":"new"' '"comm":"sg-mounttool"'
grep -q " /tmp/d " /proc/mounts && fail "a ramfs was attached at /tmp/d"

say "mount(2) of a ramfs"
mnt_eperm mount anything /tmp/d4 ramfs
wait_for_record '"module":"mount"' '"op":"mount"' '"action":"BLOCKED"' "\"pid\":$SH_PID" '"fstype":"ramfs"'

say "a tmpfs through the new API"
mnt_ok fsmount tmpfs /tmp/d3
wait_for_record '"op":"move_mount"' '"action":"ALLOWED"' "\"pid\":$SH_PID" '"fstype":"tmpfs"' '"target":"/tmp/d3"'
umount /tmp/d3 || fail "umount /tmp/d3"

stop_agent
n=$(count_records '"module":"mount"' '"action":"BLOCKED"')
[ "$n" = 3 ] || fail "$n BLOCKED records, want 3"
