# boots: lsm
# kernels: 5.10
# file-audit-monitor: an audit rule in block mode logs the operations it covers as ALLOWED
# (level INFO) and denies nothing; monitor mode logs what a deny rule would refuse as
# MONITOR (level WARNING) and denies nothing.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

rm -rf /srv/mon
mkdir -p /srv/mon
echo watched >/srv/mon/f
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
audit = ["/etc"]
EOF

say "audit in block mode"
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
expect_read /etc/hostname sg-guest
wait_for_record '"module":"file"' '"op":"read"' '"action":"ALLOWED"' '"path":"/etc/hostname"'
rec_has '"level":"INFO"' '"level_no":20' '"rule":"/etc"' '"comm":"cat"' '"uid":0'
expect_ok sh -c 'echo x >/etc/sg-audit && rm /etc/sg-audit'
wait_for_record '"op":"create"' '"action":"ALLOWED"' '"path":"/etc/sg-audit"'
wait_for_record '"op":"delete"' '"action":"ALLOWED"' '"path":"/etc/sg-audit"'

say "each record names the executable of its moment: one thread before and after an exec"
# The kernel keeps the last executable it resolved per CPU (bpf/file/judge.h,
# fill_image): an exec in the same thread must not inherit the shell's.
expect_ok sh -c 'echo $$ >/tmp/exe-pid; read -r x </etc/hostname; read -r x </etc/hostname
                 exec /usr/local/bin/sg-loop open /etc/hostname 2 >/dev/null'
pid=$(cat /tmp/exe-pid)
wait_for_record '"op":"read"' '"path":"/etc/hostname"' "\"pid\":$pid," '"comm":"sg-loop"'
rec_has '"exe":"/usr/local/bin/sg-loop"'
[ "$(records '"path":"/etc/hostname"' "\"pid\":$pid," '"exe":"/bin/busybox"' | wc -l)" = 2 ] ||
    fail "the shell's two reads: $(records "\"pid\":$pid,")"
[ "$(records '"path":"/etc/hostname"' "\"pid\":$pid," '"exe":"/usr/local/bin/sg-loop"' | wc -l)" = 2 ] ||
    fail "sg-loop's two opens: $(records "\"pid\":$pid,")"
expect_read /srv/mon/f watched
stop_agent
assert_no_record '"action":"BLOCKED"'
assert_no_record '"action":"MONITOR"'
assert_no_record '"path":"/srv/mon/f"'

say "monitor mode with a deny rule"
cat >/tmp/sg2.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg2.log"
[file]
mode = "monitor"
deny = ["/srv/mon"]
EOF
start_agent /tmp/sg2.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"audit-only"'
expect_read /srv/mon/f watched
wait_for_record '"module":"file"' '"op":"read"' '"action":"MONITOR"' '"path":"/srv/mon/f"'
rec_has '"level":"WARNING"' '"level_no":30' '"rule":"/srv/mon"' '"comm":"cat"'
expect_ok sh -c 'echo y >>/srv/mon/f && rm /srv/mon/f'
wait_for_record '"op":"write"' '"action":"MONITOR"' '"path":"/srv/mon/f"'
wait_for_record '"op":"delete"' '"action":"MONITOR"' '"path":"/srv/mon/f"'
[ ! -e /srv/mon/f ] || fail "/srv/mon/f still exists: monitor mode refused the delete"
stop_agent
assert_no_record '"action":"BLOCKED"'
rm -rf /srv/mon
