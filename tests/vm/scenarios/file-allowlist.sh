# boots: lsm
# file-allowlist: allow rules for exec only make exec allow-listed (SPEC 3.1): a file
# outside /usr, /bin and /sbin cannot be executed (EPERM, "rule":"not in file.allow"),
# while files under them run, and other ops (read) stay free.
# /bin is in the list because the guest's busybox lives at /bin/busybox: every applet
# (/usr/bin/* included) is a symlink to it, and an exec is judged on the resolved file.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

copy_busybox /opt/bin/evil
copy_busybox /usr/local/bin/ok
printf '#!/bin/sh\necho script-ran\n' >/opt/bin/script
chmod 755 /opt/bin/script
cleanup_al() { rm -rf /usr/local/bin/ok; }
trap cleanup_al EXIT
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
allow = [{ path = "/usr", ops = ["exec"] }, { path = "/bin", ops = ["exec"] }, { path = "/sbin", ops = ["exec"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

say "a binary under /opt is refused"
expect_eperm_sh 'exec /opt/bin/evil true'
wait_for_record '"module":"file"' '"op":"exec"' '"action":"BLOCKED"' '"path":"/opt/bin/evil"'
rec_has "\"pid\":$SH_PID" '"rule":"not in file.allow"' '"comm":"sh"'

say "a script under /opt is refused too (its own file is executed)"
expect_eperm_sh 'exec /opt/bin/script'
wait_for_record '"op":"exec"' '"action":"BLOCKED"' '"path":"/opt/bin/script"'
rec_has '"rule":"not in file.allow"'

say "/bin/true, /usr/bin/env and a copy under /usr/local/bin run"
expect_ok /bin/true
expect_ok /usr/bin/env /bin/true
run_sh 'exec -a true /usr/local/bin/ok'
[ "$RC" = 0 ] || fail "/usr/local/bin/ok (as true): status $RC, output: $OUT"

say "reading a file outside the list is not affected"
expect_ok cat /opt/bin/script

stop_agent
n=$(count_records '"module":"file"' '"action":"BLOCKED"')
[ "$n" = 2 ] || fail "$n BLOCKED records, want 2"
assert_no_record '"path":"/usr/local/bin/ok"'
