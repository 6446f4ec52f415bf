# boots: lsm
# kernels: none
# mount-monitor: monitor mode lets a mount of a denied source through, with one MONITOR
# record (WARNING) naming the rule, source, target and subject, also when the kernel's
# lookup of the source decides (/proc/self/root), and a rename of the denied file (the
# name guard) with a MONITOR rename record; an allowed mount gets an ALLOWED record and
# no rule.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mnt_fixture
mnt_config /tmp/sg.toml monitor '["/var/run/docker.sock"]'
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"enforcement":"full"' '"mount":"audit-only"'

mnt_ok mount /var/run/docker.sock /tmp/t - bind
[ "$(cat /tmp/t)" = secret ] || fail "monitor mode did not let the bind through"
wait_for_record '"module":"mount"' '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"level":"WARNING"' '"source":"/var/run/docker.sock"' '"target":"/tmp/t"' '"kind":"bind"' \
    '"rule":"/var/run/docker.sock"' '"comm":"sg-mounttool"'
umount /tmp/t || fail "umount /tmp/t"

say "a source through /proc/self/root: judged in the kernel's lookup, let through"
mnt_ok mount /proc/self/root/run/docker.sock /tmp/t - bind
[ "$(cat /tmp/t)" = secret ] || fail "monitor mode did not let the /proc/self/root bind through"
wait_for_record '"module":"mount"' '"action":"MONITOR"' "\"pid\":$SH_PID" '"source_lookup":true' \
    '"rule":"/var/run/docker.sock"'
umount /tmp/t || fail "umount /tmp/t"

say "a rename of the denied file: let through, recorded"
expect_ok mv /run/docker.sock /run/renamed.sock
wait_for_record '"module":"mount"' '"op":"rename"' '"action":"MONITOR"' '"source":"/run/docker.sock"' \
    '"target":"/run/renamed.sock"' '"rule":"/var/run/docker.sock"'
mv /run/renamed.sock /run/docker.sock || fail "mv back"

mnt_ok mount /run/other /tmp/t2 - bind
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID" '"source":"/run/other"'
umount /tmp/t2 || fail "umount /tmp/t2"

stop_agent
assert_no_record '"action":"BLOCKED"'
n=$(count_records '"module":"mount"' '"action":"MONITOR"')
[ "$n" = 4 ] || fail "$n MONITOR records, want 4 (two mounts, two renames)"
