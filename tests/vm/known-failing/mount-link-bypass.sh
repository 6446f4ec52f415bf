# boots: lsm
# mount-link-bypass: mount.deny must hold for every name of the denied file. Through
# mount(2), a hard link to it must be refused like the path itself (it is through
# open_tree + move_mount). A symlink made after the start is refused since
# mount-symlink-later.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mnt_fixture
mnt_config /tmp/sg.toml block '["/var/run/docker.sock"]'
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'

say "a hard link made before the start"
mnt_eperm mount /run/hardlink.sock /tmp/t - bind
stop_agent
