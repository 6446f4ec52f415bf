# boots: lsm
# kernels: 6.1
# process-script: a denied script is refused, and so is a script whose interpreter is
# denied. The kernel opens both to execute them; the interpreter is refused at its open,
# whose filename is the name on the #! line; exe names the file that was refused.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /opt/bin
printf '#!/bin/sh\necho ran\n' >/opt/bin/denied-script
copy_busybox /opt/bin/sh-copy
printf '#!/opt/bin/sh-copy\necho ran\n' >/opt/bin/interp-script
chmod 755 /opt/bin/denied-script /opt/bin/interp-script
[ "$(/opt/bin/denied-script)" = ran ] || fail "the script does not run without the agent"
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
deny = ["/opt/bin/denied-script", "/opt/bin/sh-copy"]
EOF

start_agent /tmp/sg.toml
say "denied script"
expect_eperm_sh 'exec /opt/bin/denied-script'
wait_for_record '"module":"process"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/bin/denied-script"' '"exe":"/opt/bin/denied-script"' \
    '"rule":"/opt/bin/denied-script"'

say "script with a denied interpreter"
expect_eperm_sh 'exec /opt/bin/interp-script'
wait_for_record '"module":"process"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/bin/sh-copy"' '"exe":"/opt/bin/sh-copy"' \
    '"rule":"/opt/bin/sh-copy"'
stop_agent
