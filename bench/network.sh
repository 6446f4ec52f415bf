# boots: lsm
# bench-network: connect + accept + close to a local listener, per operation, without the
# agent, with 10 CIDR rules and with 10,000 (block mode, every op on, no rule matching
# 127.0.0.1, so nothing is logged: the cost of judging). Run under `-icount shift=0` the
# guest clock counts instructions, so ns per op here is instructions per op.
# Prints "BENCH <phase> <ns_per_op> <cpu_ns_per_op>" lines for bench/run.sh.
# shellcheck shell=sh source=../tests/vm/lib.sh
. /tests/lib.sh

N=${SG_BENCH_N:-3000}
bench() {
    "$NETTOOL" bench 127.0.0.1:0 200 >/dev/null || fail "warm-up failed"
    out=$("$NETTOOL" bench 127.0.0.1:0 "$N") || fail "bench failed: $out"
    ns=$(echo "$out" | sed -n 's/.* ns_per_op=\([0-9]*\).*/\1/p')
    cpu=$(echo "$out" | sed -n 's/.*cpu_ns_per_op=\([0-9]*\).*/\1/p')
    echo "BENCH $1 $ns $cpu"
}

config() { # config RULES
    {
        printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n[network]\nmode = "block"\n'
        printf 'cidr = { deny = [\n'
        awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "\"10.%d.%d.0/24\",\n", int(i / 256), i % 256 }'
        printf '] }\n'
    } >/tmp/sg.toml
}

"$NETTOOL" bench 127.0.0.1:0 "$N" >/dev/null # the first loop after boot is slower on 6.12
bench detached
config 10
start_agent /tmp/sg.toml
bench rules-10
stop_agent
rm -f /tmp/sg.log
config 10000
start_agent /tmp/sg.toml
bench rules-10000
stop_agent
bench detached-again
assert_no_record '"module":"network"' '"action":"BLOCKED"'
