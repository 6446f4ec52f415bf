# mount-degraded: on a kernel that refuses BPF LSM the mount module is audit-only through
# a kprobe on path_mount() when the kernel takes kprobes (a bind of a denied source in a
# private mount namespace succeeds with one MONITOR record), and otherwise reports itself
# off, saying why on stderr, in the start record and in `probe`.
# Run by tests/host/run.sh in a fresh directory $SG_WORK.
# shellcheck shell=sh source=../../vm/lib.sh
. "$SG_LIB"
AGENT_ERR=$SG_WORK/agent.err
AGENT_OUT=$SG_WORK/agent.out

echo secret >"$SG_WORK/denied"
touch "$SG_WORK/t"
cat >"$SG_WORK/sg.toml" <<TOML
[log]
format = "json"
output = "$SG_WORK/sg.log"
[mount]
mode = "block"
deny = ["$SG_WORK/denied"]
TOML

kprobe=$("$SG" probe --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["hooks"]["path_mount"])')
start_agent "$SG_WORK/sg.toml"
wait_for_record '"module":"agent"' '"op":"start"' '"enforcement":"degraded"'
if [ "$kprobe" = True ]; then
    rec_has '"mount":"audit-only"'
    # a private mount namespace: nothing changes on the host
    run_cmd unshare -m sh -c "cd '$SG_WORK' && mount --bind ./denied '$SG_WORK/t' && cat '$SG_WORK/t'"
    [ "$OUT" = secret ] || fail "the bind failed in degraded mode: $OUT"
    wait_for_record '"module":"mount"' '"action":"MONITOR"' "\"source_path\":\"$SG_WORK/denied\""
    rec_has '"kind":"bind"' "\"rule\":\"$SG_WORK/denied\""
else
    rec_has '"mount":"off"'
    grep -q 'mount: no BPF LSM, and this kernel takes no kprobe on path_mount()' "$AGENT_ERR" ||
        fail "the agent did not say why the mount module is off"
    "$SG" probe | grep -Eq '^  mount +path_mount +missing$' || fail "probe does not show path_mount missing"
fi
stop_agent
assert_no_record '"action":"BLOCKED"'
