# boots: bench
# bench-detect: what [detect] costs on the paths it watches (issue #15), in one boot whose
# clock counts instructions (-icount shift=0): exec (fork + execve of a small static
# program + wait), open+close of a file, and connect+accept+close on loopback. Each loop
# detached, with the process, file and network modules on with a few rules that never
# match (block mode: the cost of judging, nothing logged), with the same plus [detect] on
# with its defaults (every detection, default responses), and detached again. Prints one
# SG-BENCH line per loop, which `make bench` collects: the ratios over detached without
# and with detect, and the second over the first (target: at most 1.03).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

EXECS=2000
OPENS=20000
CONNECTS=3000
mkdir -p /srv/bench /srv/rules
echo x >/srv/bench/file
(cd /srv/rules && mkdir r0 r1 r2 r3 r4)

# config [DETECT]: the three modules with rules none of the loops meets; DETECT appended.
config() {
    cat <<'TOMLEOF'
[log]
format = "json"
output = "/tmp/sg.log"
[process]
mode = "block"
ops = ["exec"]
deny = ["/usr/bin/sg-mounttool", "/usr/bin/sg-attacktool"]
[file]
mode = "block"
deny = ["/srv/rules/r0", "/srv/rules/r1", "/srv/rules/r2", "/srv/rules/r3", "/srv/rules/r4"]
[network]
mode = "block"
cidr = { deny = ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "192.0.2.0/24"] }
TOMLEOF
    printf '%s\n' "${1:-}"
}
config >/tmp/sg-base.toml
config '[detect]' >/tmp/sg-detect.toml

# loop NAME: best of three of each loop (background kernel work only ever adds); sets
# NAME_exec, NAME_open and NAME_connect.
loop() {
    for what in exec open connect; do
        best=""
        for _ in 1 2 3; do
            case $what in
                exec) t=$(/usr/local/bin/sg-loop exec /usr/local/bin/sg-loop $EXECS) ||
                    fail "exec loop failed" ;;
                open) t=$(/usr/local/bin/sg-loop open /srv/bench/file $OPENS) ||
                    fail "open loop failed" ;;
                connect)
                    out=$("$NETTOOL" bench 127.0.0.1:0 $CONNECTS) || fail "connect loop failed: $out"
                    t=$(echo "$out" | sed -n 's/.* total_ns=\([0-9]*\).*/\1/p')
                    [ -n "$t" ] || fail "connect loop: no total_ns in: $out"
                    ;;
            esac
            if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
        done
        eval "${1}_$what=$best"
    done
}

loop warm # the caches (the first loops after boot are slower)
loop detached
start_agent /tmp/sg-base.toml
loop rules
stop_agent
rm -f /tmp/sg.log
start_agent /tmp/sg-detect.toml
loop detect
# the loops met no rule and no detection: nothing was refused or detected
assert_no_record '"action":"BLOCKED"'
assert_no_record '"module":"detect"' '"technique"'
stop_agent
loop detached_after

# shellcheck disable=SC2100 # "detached_after=..." is text for eval, not arithmetic
for what in exec open connect; do
    n=$EXECS
    [ "$what" = open ] && n=$OPENS
    [ "$what" = connect ] && n=$CONNECTS
    eval "echo SG-BENCH detect-$what kernel=$(uname -r) n=$n detached=\$detached_$what" \
        "rules=\$rules_$what detect=\$detect_$what detached_after=\$detached_after_$what"
done | awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        base = (v["detached"] + v["detached_after"]) / 2
        r = v["rules"] / base; d = v["detect"] / base
        printf "%s extra_per_op_detect=%.0f ratio=%.3f ratio_detect=%.3f detect_over_rules=%.4f\n",
            $0, (v["detect"] - v["rules"]) / v["n"], r, d, d / r
    }'
