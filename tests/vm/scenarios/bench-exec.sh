# boots: bench
# bench-exec: fork + execve of a small static program + wait (issue #20's exec case) with
# the process module detached, with 10 exec deny rules and with 10,000 (none matching
# the program), in block mode, in one boot whose clock counts instructions (-icount
# shift=0). `ops = []`: the cost of judging each exec, not of logging it (with "exec" in
# ops every exec also writes its life-cycle record). Prints one SG-BENCH line, which `make bench` collects: the extra instructions
# per exec and the ratios over detached (target: at most 1.03, 10,000 rules within 1% of
# 10).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

N=2000
mkdir -p /srv/prules
(cd /srv/prules && seq 0 9999 | sed 's/^/p/' | xargs touch)

# exec deny rules on existing files, none of them the program run
many_rules_config /tmp/sg10.toml '[process]\nmode = "block"\nops = []\n' 10 /srv/prules/p
many_rules_config /tmp/sg10000.toml '[process]\nmode = "block"\nops = []\n' 10000 /srv/prules/p

# loop NAME: sets NAME to the loop's best time
loop() {
    t=$(best_of_three /usr/local/bin/sg-loop exec /usr/local/bin/sg-loop $N) || fail "exec loop failed"
    eval "$1=$t"
}

# with_agent CONFIG NAME: the loop with the agent started on CONFIG, measured once the
# agent has settled: a first loop lets its start end (with more than 1,024 rules its
# first counter round, a second in, reads every rule's hit counter: that loop measured
# 1.018 on 6.12 where the later ones measured 1.010-1.012).
with_agent() {
    start_agent "$1"
    loop settle
    loop "$2"
}

loop warm # the caches
loop detached
with_agent /tmp/sg10.toml rules10
stop_agent
rm -f /tmp/sg.log
with_agent /tmp/sg10000.toml rules10000
# no rule met, no life-cycle op on: no process record at all
assert_no_record '"module":"process"'
stop_agent
loop detached_after

# shellcheck disable=SC2154 # the loop's results are set by eval
echo "SG-BENCH process-exec kernel=$(uname -r) n=$N detached=$detached rules10=$rules10" \
    "rules10000=$rules10000 detached_after=$detached_after" | awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        base = (v["detached"] + v["detached_after"]) / 2
        printf "%s extra_per_op_10=%.0f extra_per_op_10000=%.0f ratio10=%.3f ratio10000=%.3f rules_delta=%.2f%%\n",
            $0, (v["rules10"] - base) / v["n"], (v["rules10000"] - base) / v["n"],
            v["rules10"] / base, v["rules10000"] / base, (v["rules10000"] / v["rules10"] - 1) * 100
    }'
