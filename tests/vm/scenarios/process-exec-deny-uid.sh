# boots: lsm
# kernels: none
# process-exec-deny-uid: an unprivileged task (uid/gid 1000, through busybox su) is refused
# too, and the BLOCKED record names it.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

copy_busybox /opt/bin/denied
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
EOF

start_agent /tmp/sg.toml
# su execs the shell in place, so the shell printing $$ is the task that tries the exec.
# shellcheck disable=SC2016 # $$ and $PPID are the inner shell's
expect_eperm su -s /bin/sh user -c 'echo $$ $PPID; exec /opt/bin/denied true'
sh_pids
wait_for_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"uid":1000' '"gid":1000' '"comm":"sh"' '"filename":"/opt/bin/denied"' \
    '"rule":"/opt/bin/denied"'
stop_agent
