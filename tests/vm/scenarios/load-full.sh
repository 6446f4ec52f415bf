# boots: lsm
# kernels: 5.10 6.1 6.12
# load-full: the heaviest config loads on every kernel. The verifier refuses a program past
# 1,000,000 processed instructions, and what it processes grows with the load-time
# switches a config sets: allow lists AND deny rules (the allow list's mount checks),
# selectors, audit lists, every op, every module. A program near the limit on one kernel
# makes the agent exit at start there (6.1 refused the process module's rename guard with
# an allow list and deny rules: README, development notes). Every module must start
# enforcing, and one decision of each path-judging module must hold.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-load-full
rm -rf "$D"
mkdir -p "$D/denied" "$D/audited" "$D/out" "$D/mnt"
copy_busybox "$D/bin/denied/tool"
echo secret >"$D/denied/file"
echo other >"$D/out/other"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[agent]
protect = true
[file]
mode = "block"
ops = ["read", "write", "exec", "create", "delete", "rename", "link", "chmod", "chown", "setattr", "mmap"]
allow = ["/", { path = "$D/out", command = ["/bin/busybox"] }]
deny = ["$D/denied", { path = "$D/sel", command = ["/bin/true"] }, { path = "$D/u", uid = [1000] }]
audit = ["$D/audited"]
[network]
mode = "block"
ops = ["connect", "sendmsg", "accept", "recvmsg", "getpeername", "bind"]
cidr = { allow = ["0.0.0.0/0", "::/0"], deny = ["10.254.0.0/16", "fd00::/64"] }
domain = { deny = ["blocked.test"] }
command = { deny = ["/opt/bin/nonet"], allow = ["sg-nettool"] }
uid = { allow = [1000] }
gid = { deny = [1001] }
port = { allow = ["tcp/8080", "udp/5000-5100"], deny = ["udp/5050", "1-1023"] }
[mount]
mode = "block"
deny = ["$D/mnt"]
[process]
mode = "block"
ops = ["fork", "exec", "exit"]
allow = ["/bin", "/sbin", "/usr", "/tests", "/tmp", "$D/bin"]
deny = ["$D/bin/denied"]
[detect]
mode = "block"
[telemetry]
enable = true
[inventory]
enable = true
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"file":"enforcing"' '"network":"enforcing"' '"mount":"enforcing"' '"process":"enforcing"' \
    '"detect":"enforcing"'

say "process: a denied program, and a rename or exchange that would take it out of its rule"
expect_eperm_sh "exec $D/bin/denied/tool true"
wait_for_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"exe\":\"$D/bin/denied/tool\"" "\"rule\":\"$D/bin/denied\""
expect_eperm_file mv "$D/bin/denied/tool" "$D/out/tool"
wait_for_record '"module":"process"' '"op":"rename"' '"action":"BLOCKED"' "\"path\":\"$D/bin/denied/tool\""
rec_has "\"target_path\":\"$D/out/tool\"" "\"rule\":\"$D/bin/denied\""
run_sh "exec /usr/bin/sg-exectool exchange $D/out/other $D/bin/denied/tool"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "exchange: $OUT" ;; esac
wait_for_record '"module":"process"' '"op":"rename"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"path\":\"$D/bin/denied/tool\"" "\"target_path\":\"$D/out/other\"" "\"rule\":\"$D/bin/denied\""

say "file: a denied read"
expect_eperm_file cat "$D/denied/file"
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' "\"path\":\"$D/denied/file\""
