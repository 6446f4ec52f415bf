# boots: lsm
# kernels: none
# process-script-read: `sh /denied/script` runs a process-denied script (the shell only
# reads it; no exec happens), as the README says; the file rule it gives, a read deny on
# the directory, closes it: the shell gets EPERM and the file module a BLOCKED record.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-process-script-read
rm -rf "$D"
mkdir -p "$D/denied"
printf '#!/bin/sh\necho ran\n' >"$D/denied/script"
chmod 755 "$D/denied/script"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
ops = ["read"]
deny = [{ path = "$D/denied", ops = ["read"] }]
[network]
enable = false
[process]
mode = "block"
ops = ["exec"]
deny = ["$D/denied"]
EOF

start_agent /tmp/sg.toml
say "executing the script is refused by the process rule"
expect_eperm_sh "exec $D/denied/script"
wait_for_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$SH_PID"

say "sh SCRIPT is refused by the file rule on reads"
run_sh "exec /bin/sh $D/denied/script"
case $OUT in *"ran"*) fail "the shell ran the denied script: $OUT" ;; esac
case $OUT in *"Operation not permitted"*) ;; *) fail "sh script: no EPERM: $OUT" ;; esac
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"path\":\"$D/denied/script\""
stop_agent
