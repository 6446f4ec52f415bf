# boots: lsm
# kernels: none
# mount-link-bypass: mount.deny must hold for every name of the denied file. mount(2)
# resolves its source after the sb_mount hook, so a hard link made BEFORE the start is
# found at load time (a walk of each mount of the file's filesystem) and denied like the
# rule's path, with its ancestors (binding a directory exposes the link in it). A link
# made after the start is refused by the name guard (mount-attacks); a symlink made after
# the start by the lookup guard (mount-symlink-later).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mnt_fixture
mkdir -p /run/links /tmp/runbind
ln -f /run/docker.sock /run/links/deep.sock || fail "link in a directory"
echo other >/run/links/neighbour
# a bind of /run made before the start: the file has more names through it
mount --bind /run /tmp/runbind || fail "bind of /run"
mnt_config /tmp/sg.toml block '["/var/run/docker.sock"]'
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'

# refused SOURCE: a bind of SOURCE is EPERM with a BLOCKED mount record naming it.
refused() {
    mnt_eperm mount "$1" /tmp/t - bind
    wait_for_record '"module":"mount"' '"action":"BLOCKED"' "\"source\":\"$1\"" \
        '"rule":"/var/run/docker.sock"' >/dev/null
}

say "a hard link made before the start"
refused /run/hardlink.sock
say "the directory holding another link"
mnt_eperm mount /run/links /tmp/d - bind
say "the names through a bind mount made before the start"
refused /tmp/runbind/hardlink.sock
refused /tmp/runbind/links/deep.sock
refused /tmp/runbind/docker.sock
say "control: an allowed file next to them"
mnt_ok mount /run/other /tmp/t2 - bind
umount /tmp/t2
stop_agent
umount /tmp/runbind
