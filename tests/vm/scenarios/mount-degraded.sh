# boots: nolsm notramp
# mount-degraded: without BPF LSM, block mode runs audit-only through the
# sys_enter_mount tracepoint: a bind of a denied source (relative, through "..")
# succeeds and gives a MONITOR record; an allowed one gives an ALLOWED record.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mnt_fixture
mnt_config /tmp/sg.toml block '["/var/run/docker.sock"]'
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"enforcement":"degraded"' '"mount":"audit-only"'

run_sh "cd /run && exec $MOUNTTOOL mount ../var/run/docker.sock /tmp/t - bind"
case $OUT in *"
ok"*) ;; *) fail "degraded mode refused the bind: $OUT" ;; esac
[ "$(cat /tmp/t)" = secret ] || fail "the bind did not happen"
wait_for_record '"module":"mount"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"source":"../var/run/docker.sock"' '"source_path":"/var/run/docker.sock"' '"target":"/tmp/t"' \
    '"kind":"bind"' '"rule":"/var/run/docker.sock"'
umount /tmp/t || fail "umount /tmp/t"

mnt_ok mount /run/other /tmp/t2 - bind
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID" '"source_path":"/run/other"'
umount /tmp/t2 || fail "umount"

stop_agent
assert_no_record '"action":"BLOCKED"'
