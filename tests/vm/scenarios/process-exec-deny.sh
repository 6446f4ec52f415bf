# boots: lsm
# kernels: 6.1
# process-exec-deny: block mode refuses a denied executable with EPERM, by its path, a hard
# link made before the agent started, a symlink and a relative path; each attempt gives
# exactly one BLOCKED record naming the task that tried; anything else still runs.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

copy_busybox /opt/bin/denied
ln /opt/bin/denied /opt/bin/hardlink
ln -s /opt/bin/denied /opt/bin/symlink
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
enable = false
[network]
enable = false
[process]
mode = "block"
ops = ["exec"]
deny = ["/opt/bin/denied"]
allow = []
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"enforcement":"full"' '"process":"enforcing"'

say "by path"
expect_eperm_sh 'exec /opt/bin/denied true'
pid=$SH_PID
wait_for_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$pid"
rec_has "\"ppid\":$SH_PPID" '"uid":0' '"gid":0' '"comm":"sh"' '"hostname":"sg-guest"' \
    '"filename":"/opt/bin/denied"' '"exe":"/opt/bin/denied"' '"rule":"/opt/bin/denied"'

say "anything else runs"
/bin/true || fail "/bin/true failed under the agent"

say "hard link made before the agent started"
expect_eperm_sh 'exec /opt/bin/hardlink true'
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/bin/hardlink"' '"rule":"/opt/bin/denied"'

say "symlink"
expect_eperm_sh 'exec /opt/bin/symlink true'
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/bin/symlink"' '"exe":"/opt/bin/denied"' '"rule":"/opt/bin/denied"'

say "relative path"
expect_eperm_sh 'cd /opt/bin && exec ./denied true'
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"filename":"./denied"' '"exe":"/opt/bin/denied"' '"rule":"/opt/bin/denied"'

stop_agent
n=$(count_records '"action":"BLOCKED"' "\"pid\":$pid")
[ "$n" = 1 ] || fail "$n BLOCKED records for pid $pid, want exactly 1"
n=$(count_records '"module":"process"' '"action":"BLOCKED"')
[ "$n" = 4 ] || fail "$n BLOCKED records in all, want 4 (one per attempt)"
assert_no_record '"action":"BLOCKED"' '"filename":"/bin/true"'
