# boots: lsm
# kernels: 6.12
# protect: with [agent] protect = true, a root shell cannot stop, freeze, trace or
# write into the agent, take its maps for writing, detach its links, remove its pins,
# or alter its config, binary or log; each attempt is EPERM plus a CRITICAL
# agent/tamper record, and the agent still enforces afterwards. (With protect off the
# same kill -9 ends it: scenario agent-crash. The scenario's own shell cannot stop a
# protected agent: init, pid 1, kills it after the scenario, as a service manager would.)
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

# The log and config live in directories of their own: the log's directory is
# protected entry by entry, and /tmp must stay free for the scenario.
mkdir -p /tmp/sgconf /tmp/sglog /sys/fs/bpf/safeguard/pin-like
cat >/tmp/sgconf/sg.toml <<'END'
[log]
format = "json"
output = "/tmp/sglog/sg.log"
[network]
mode = "block"
ops = ["connect"]
cidr = { deny = ["NET_A/32"] }
[agent]
protect = true
END
# The policy that must still hold at the end: the network module (the quickest to load).
net_setup
sed -i "s#NET_A#$NET_A#" /tmp/sgconf/sg.toml

start_agent /tmp/sgconf/sg.toml
rec_has_start() { wait_for_record '"op":"start"'; rec_has "$@"; }
rec_has_start '"protect":"enforcing"' '"network":"enforcing"'
PID=$AGENT_PID

# tamper WHAT PATTERN...: the CRITICAL record of an attempt, with the shell's view.
tamper() {
    wait_for_record '"level":"CRITICAL"' '"module":"agent"' '"op":"tamper"' "$@" >/dev/null
    say "recorded: $*"
}

say "signals"
expect_eperm_file kill -9 "$PID"
tamper '"tried":"kill -SIGKILL"' "\"target_pid\":$PID"
expect_eperm_file kill -STOP "$PID"
tamper '"tried":"kill -SIGSTOP"'
expect_eperm_file kill -TERM "$PID"
tamper '"tried":"kill -SIGTERM"'
alive "$PID" || fail "the agent died"
grep -q '^State:[[:space:]]*T' "/proc/$PID/status" && fail "the agent is stopped"

say "tracing and memory"
expect_eperm_file sg-protecttool ptrace "$PID"
tamper '"tried":"ptrace"'
# /proc/PID/mem: the kernel turns the refusal into EACCES (mm_access).
run_cmd sh -c "echo x >/proc/$PID/mem"
[ "$RC" != 0 ] || fail "wrote /proc/$PID/mem"
expect_eperm_file sg-protecttool vmwrite "$PID"
expect_eperm_file sg-protecttool getfd "$PID"
i=0
until [ "$(count_records '"op":"tamper"' '"tried":"ptrace"')" -ge 4 ]; do
    [ "$i" -lt 50 ] || fail "not every memory attempt was recorded"
    sleep 0.2
    i=$((i + 1))
done
run_cmd renice -n 19 -p "$PID"
[ "$RC" != 0 ] || fail "reniced the agent: $OUT"
tamper '"tried":"setpriority"'

say "BPF objects"
expect_status 0 sg-protecttool map-write
echo "$OUT" | tail -n 1
tamper '"tried":"open map for writing"'
expect_status 0 sg-protecttool link-detach
echo "$OUT" | tail -n 1
tamper '"tried":"link detach"'

say "pins"
expect_eperm_file rmdir /sys/fs/bpf/safeguard/pin-like
tamper '"tried":"delete"' '"path":"/sys/fs/bpf/safeguard/pin-like"'
expect_eperm_file mv /sys/fs/bpf/safeguard /sys/fs/bpf/moved
tamper '"tried":"rename"' '"path":"/sys/fs/bpf/safeguard"'

say "config, binary, log"
expect_eperm_file_sh 'echo "[process]" >/tmp/sgconf/sg.toml'
tamper '"tried":"write"' '"path":"/tmp/sgconf/sg.toml"'
grep -q 'protect = true' /tmp/sgconf/sg.toml || fail "the config was changed"
expect_eperm_file rm /tmp/sgconf/sg.toml
tamper '"tried":"delete"' '"path":"/tmp/sgconf/sg.toml"'
expect_eperm_file mv /tmp/sgconf /tmp/elsewhere
cp /bin/busybox "$SG.new"
expect_eperm_file mv "$SG.new" "$SG"
tamper '"tried":"rename"' "\"path\":\"$SG\""
# (Writing the running binary is ETXTBSY from the kernel itself.)
expect_eperm_file chmod 600 "$SG"
tamper '"tried":"chmod"' "\"path\":\"$SG\""
expect_eperm_file sg-filetool truncate /tmp/sglog/sg.log
tamper '"tried":"truncate"' '"path":"/tmp/sglog/sg.log"'
expect_eperm_file_sh ': >/tmp/sglog/sg.log'
expect_eperm_file rm /tmp/sglog/sg.log
expect_eperm_file_sh 'echo forged >/tmp/sglog/forged'
tamper '"tried":"create"'
# Not protected: a file of the same directory name elsewhere.
expect_ok sh -c 'echo ok >/tmp/other && rm /tmp/other'

say "mounts"
# expect_mount_eperm CMD...: busybox mount reports EPERM as "permission denied (are
# you root?)".
expect_mount_eperm() {
    run_cmd "$@"
    [ "$RC" != 0 ] || fail "expected failure from: $* (output: $OUT)"
    case $OUT in
        *"permission denied"* | *"not permitted"*) say "refused with EPERM: $*" ;;
        *) fail "expected EPERM from: $* (status $RC, output: $OUT)" ;;
    esac
}
# In the agent's mount namespace: a bind mount over its config is refused.
mkdir -p /tmp/sgother
expect_mount_eperm mount --bind /tmp/sgother /tmp/sgconf
tamper '"tried":"mount over"' '"path":"/tmp/sgconf"'
# In a mount namespace of its own whose mounts propagate nowhere (private): the agent
# sees none of it, so it passes (systemd sets up each sandboxed command of a unit so,
# bind-mounting the unit's writable paths, the agent's log directory among them, over
# themselves).
over=$(count_records '"tried":"mount over"')
expect_ok unshare -m --propagation private /bin/sh -c \
    'mount --bind /tmp/sglog /tmp/sglog && mount --bind /tmp/sgother /tmp/sgconf && [ ! -e /tmp/sgconf/sg.toml ]'
grep -q 'protect = true' /tmp/sgconf/sg.toml || fail "the agent's view of its config changed"
sleep 1
[ "$(count_records '"tried":"mount over"')" = "$over" ] || fail "a mount the agent cannot see was judged"
say "a private mount namespace's bind mounts over the config and log directory passed"
# On a shared mount, a new namespace's mounts propagate back to the agent's: refused.
mount --make-shared /sys/fs/bpf || fail "mount --make-shared /sys/fs/bpf"
expect_mount_eperm unshare -m --propagation shared mount --bind /tmp/sgother /sys/fs/bpf/safeguard/pin-like
tamper '"tried":"mount over"' '"path":"/sys/fs/bpf/safeguard/pin-like"'
mount --make-private /sys/fs/bpf

say "the agent still enforces"
alive "$PID" || fail "the agent died"
net_eperm connect "$NET_A:8080"
wait_for_record '"op":"connect"' '"action":"BLOCKED"' >/dev/null

alive "$PID" || fail "the agent died"
say "done: the protected agent (pid $PID) is left for init (pid 1) to stop"
