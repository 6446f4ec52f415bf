# boots: lsm
# kernels: 6.1
# mount-deny: block mode refuses a mount(2) whose source is in mount.deny with EPERM and
# one BLOCKED record naming source, target, kind and subject: by the path as written,
# its resolved spelling, a relative path, "..", "//" and "." spellings, a bind of the
# parent directory (and of the /var/run symlink to it), a bind of "/", and a filesystem
# type named in the list. Anything else still mounts, with an ALLOWED record.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mnt_fixture
mnt_config /tmp/sg.toml block '["/var/run/docker.sock", "ramfs"]'
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"enforcement":"full"' '"mount":"enforcing"'

say "the denied path as written"
mnt_eperm mount /var/run/docker.sock /tmp/t - bind
wait_for_record '"module":"mount"' '"op":"mount"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"level":"WARNING"' "\"ppid\":$SH_PPID" '"uid":0' '"comm":"sg-mounttool"' \
    '"exe":"/usr/bin/sg-mounttool"' '"hostname":"sg-guest"' '"source":"/var/run/docker.sock"' \
    '"source_path":"/var/run/docker.sock"' '"target":"/tmp/t"' '"kind":"bind"' '"flags":["bind"]' \
    '"rule":"/var/run/docker.sock"'
[ "$(cat /tmp/t)" = "" ] || fail "/tmp/t shows the denied file"

say "its resolved spelling"
mnt_eperm mount /run/docker.sock /tmp/t - bind
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_path":"/run/docker.sock"'

say "a relative path"
run_sh "cd /run && exec $MOUNTTOOL mount docker.sock /tmp/t - bind"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "relative: $OUT" ;; esac
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source":"docker.sock"' '"source_path":"/run/docker.sock"'

say ".., // and ."
mnt_eperm mount /var/run/../run/docker.sock /tmp/t - bind
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_path":"/var/run/docker.sock"'
mnt_eperm mount //var/run//docker.sock /tmp/t - bind
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_path":"/var/run/docker.sock"'
mnt_eperm mount /run/./docker.sock/ /tmp/t - bind
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_path":"/run/docker.sock"'
run_sh "cd /tmp && exec $MOUNTTOOL mount ../../../run/docker.sock /tmp/t - bind"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "relative ..: $OUT" ;; esac
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_path":"/run/docker.sock"'

say "a bind of the parent directory, of the symlink to it, of /"
mnt_eperm mount /run /tmp/d - bind
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_path":"/run"' '"target":"/tmp/d"'
mnt_eperm mount /var/run /tmp/d - bind
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_path":"/var/run"'
mnt_eperm mount / /tmp/d - bind
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"source_path":"/"'
[ ! -e /tmp/d/docker.sock ] || fail "/tmp/d exposes docker.sock"

say "a denied filesystem type, whatever the source"
mnt_eperm mount anything /tmp/d3 ramfs
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID" '"fstype":"ramfs"' '"kind":"new"' '"rule":"ramfs"'

say "anything else mounts, with an ALLOWED record"
mnt_ok mount /run/other /tmp/t2 - bind
[ "$(cat /tmp/t2)" = other ] || fail "the allowed bind did not happen"
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID" '"source_path":"/run/other"' '"kind":"bind"'
rec_has '"level":"INFO"'
assert_no_record '"action":"ALLOWED"' '"rule":'
mnt_ok mount none /tmp/d2 tmpfs
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID" '"fstype":"tmpfs"' '"kind":"new"' '"target":"/tmp/d2"'
mnt_ok mount none /tmp/d2 - remount
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID" '"kind":"remount"' '"flags":["remount"]'
umount /tmp/t2 /tmp/d2 || fail "umount"

stop_agent
n=$(count_records '"module":"mount"' '"action":"BLOCKED"')
[ "$n" = 11 ] || fail "$n BLOCKED records, want 11 (one per attempt)"
