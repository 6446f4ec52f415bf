# boots: lsm
# kernels: 5.10
# agent-crash: the agent pins nothing, so when it dies (SIGKILL stands in for a crash) the
# kernel detaches every program with its last file descriptor: enforcement ends with the
# agent (systemd restarts it: Restart=on-failure), nothing stays half-attached, and a new
# agent attaches and enforces again.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /srv/secret
echo s3cret >/srv/secret/key
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = ["/srv/secret"]
ops = ["read"]
[process]
mode = "block"
ops = ["exec"]
deny = ["/opt/denied"]
EOF
copy_busybox /opt/denied

start_agent /tmp/sg.toml
expect_eperm_file cat /srv/secret/key
expect_eperm /opt/denied

say "SIGKILL: enforcement ends with the agent"
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=""
# The programs go when their links' last reference does (after an RCU grace period).
i=0
until [ "$(cat /srv/secret/key 2>/dev/null)" = s3cret ]; do
    [ "$i" -lt 50 ] || fail "the file is still denied 10 s after the agent died"
    sleep 0.2
    i=$((i + 1))
done
run_sh 'exec -a true /opt/denied'
[ "$RC" = 0 ] || fail "/opt/denied still refused after the agent died: $OUT"
[ -z "$(ls /sys/fs/bpf 2>/dev/null)" ] || fail "something is pinned in /sys/fs/bpf: $(ls /sys/fs/bpf)"

say "a new agent attaches and enforces again"
rm -f /tmp/sg.log
start_agent /tmp/sg.toml
wait_for_record '"op":"start"'
rec_has '"file":"enforcing"' '"process":"enforcing"'
expect_eperm_file cat /srv/secret/key
expect_eperm /opt/denied
stop_agent
