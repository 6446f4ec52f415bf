# boots: lsm
# kernels: none
# mount-edges: `target = "container"` judges only tasks in another pid namespace; a move
# (MS_MOVE) of a denied mount is refused; a source too long to normalise is refused, not
# passed (padding with "./"); in a chroot an absolute source is the jail's own path, and
# "/.." stays in the jail.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mnt_fixture

say "target = container"
cat >/tmp/sg-container.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg-container.log"
[mount]
mode = "block"
target = "container"
deny = ["/var/run/docker.sock"]
EOF
start_agent /tmp/sg-container.toml
mnt_ok mount /run/docker.sock /tmp/t - bind
umount /tmp/t || fail "umount /tmp/t"
run_cmd unshare -p -f -m "$MOUNTTOOL" mount /run/docker.sock /tmp/t - bind
case $OUT in *"error: Operation not permitted"*) ;; *) fail "the container's bind was not refused: $OUT" ;; esac
wait_for_record '"module":"mount"' '"action":"BLOCKED"' '"container":true' '"source":"/run/docker.sock"'
stop_agent
# the container's records only: its bind, and unshare's own "make / private" (ALLOWED)
assert_no_record '"module":"mount"' '"container":false'
wait_for_record '"module":"mount"' '"action":"ALLOWED"' '"comm":"unshare"' '"kind":"propagation"'
n=$(count_records '"module":"mount"' '"action":"BLOCKED"')
[ "$n" = 1 ] || fail "$n BLOCKED records, want 1 (the container's bind)"

say "target = all: a move, padding, a chroot"
rm -rf /srv/secret /srv/jail
mkdir -p /srv/secret /srv/jail/run /srv/jail/mnt
mount -t tmpfs secret /srv/secret || fail "mount tmpfs on /srv/secret"
echo jail >/srv/jail/run/docker.sock
touch /srv/jail/mnt/t
cp "$MOUNTTOOL" /srv/jail/sg-mounttool
mnt_config /tmp/sg.toml block '["/var/run/docker.sock", "/srv/secret"]'
start_agent /tmp/sg.toml

mnt_eperm mount /srv/secret /tmp/d - move
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"kind":"move"' '"flags":["move"]' '"rule":"/srv/secret"'
grep -q ' /srv/secret ' /proc/mounts || fail "/srv/secret was moved"

pad=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "./"; printf "docker.sock" }')
run_sh "cd /run && exec $MOUNTTOOL mount $pad /tmp/t - bind"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "the padded source was not refused: $OUT" ;; esac
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_unresolved":true' \
    '"rule":"path not resolved completely (deny rules apply)"'

run_cmd chroot /srv/jail /sg-mounttool mount /../run/docker.sock /mnt/t - bind
[ "$OUT" = ok ] || fail "the jail's own file was not mounted: $OUT"
[ "$(cat /srv/jail/mnt/t)" = jail ] || fail "the jail's bind shows '$(cat /srv/jail/mnt/t)'"
wait_for_record '"action":"ALLOWED"' '"source":"/../run/docker.sock"' '"source_path":"/srv/jail/run/docker.sock"'
umount /srv/jail/mnt/t || fail "umount"

stop_agent
umount /srv/secret
rm -rf /srv/secret /srv/jail
