# boots: lsm
# kernels: 6.12
# mount-clone-subdir: a subdirectory of a denied directory stays denied whatever reaches
# it. open_tree(OPEN_TREE_CLONE) + move_mount of the subdirectory, of a deeper one, of a
# bind mount of it made before the start and of a directory below that bind are refused
# (the identity walk goes up to the filesystem's root, not the clone's). mount(2) binds of
# the subdirectory through a symlink made after the start, or through the earlier bind,
# are refused in the kernel's lookup (source_lookup). Anything else is attached.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

F=/srv/sg-mount-clone-subdir
rm -rf "$F"
mkdir -p "$F/secret/sub/deeper" "$F/other" /tmp/d /tmp/d2 /tmp/pre || fail "fixture"
if ! { echo secret >"$F/secret/sub/file" && echo other >"$F/other/file"; }; then
    fail "fixture files"
fi
mount --bind "$F/secret/sub" /tmp/pre || fail "the earlier bind"
mnt_config /tmp/sg.toml block "[\"$F/secret\"]"
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
ln -s "$F/secret" /tmp/l || fail "symlink"
ln -s "$F/secret/sub" /tmp/l2 || fail "symlink"

for source in "$F/secret/sub" "$F/secret/sub/deeper" /tmp/pre /tmp/pre/deeper; do
    say "clone of $source"
    mnt_eperm clone "$source" /tmp/d
    wait_for_record '"module":"mount"' '"op":"move_mount"' '"action":"BLOCKED"' "\"pid\":$SH_PID" \
        "\"rule\":\"$F/secret\"" '"target":"/tmp/d"'
done
[ ! -e /tmp/d/file ] || fail "/tmp/d shows the denied tree"

for source in /tmp/l/sub /tmp/l2 /tmp/l2/deeper /tmp/pre/deeper; do
    say "mount(2) bind of $source"
    mnt_eperm mount "$source" /tmp/d - bind
    wait_for_record '"module":"mount"' '"op":"mount"' '"action":"BLOCKED"' "\"pid\":$SH_PID" \
        "\"rule\":\"$F/secret\"" '"source_lookup":true' "\"source\":\"$source\""
done
[ ! -e /tmp/d/file ] || fail "/tmp/d shows the denied tree"

say "anything else"
mnt_ok clone "$F/other" /tmp/d2
[ "$(cat /tmp/d2/file)" = other ] || fail "the allowed clone was not attached"
umount /tmp/d2 || fail "umount"
mnt_ok mount "$F/other" /tmp/d2 - bind
wait_for_record '"op":"mount"' '"action":"ALLOWED"' "\"pid\":$SH_PID"
umount /tmp/d2 || fail "umount"

stop_agent
n=$(count_records '"module":"mount"' '"action":"BLOCKED"')
[ "$n" = 8 ] || fail "$n BLOCKED records, want 8"
umount /tmp/pre
rm -rf "$F" /tmp/l /tmp/l2
