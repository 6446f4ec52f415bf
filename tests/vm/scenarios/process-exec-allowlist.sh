# boots: lsm
# kernels: 6.1
# process-exec-allowlist: with a non-empty allow list in block mode, only executables
# under it run: a busybox copy in /opt/bin is refused with EPERM and logged as BLOCKED,
# while /bin/true (busybox in /bin) still runs.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

copy_busybox /opt/bin/other
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
allow = ["/bin", "/sbin", "/usr"]
deny = []
EOF

start_agent /tmp/sg.toml
expect_eperm_sh 'exec /opt/bin/other true'
wait_for_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/bin/other"' '"exe":"/opt/bin/other"' '"uid":0'
/bin/true || fail "/bin/true is under the allow list but failed"
stop_agent
assert_no_record '"action":"BLOCKED"' '"filename":"/bin/true"'
