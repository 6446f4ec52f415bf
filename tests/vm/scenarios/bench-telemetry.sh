# boots: bench
# bench-telemetry: what [telemetry] costs, in one boot whose clock counts instructions
# (-icount shift=0): a pipe ping-pong between two processes (two context switches per
# round trip at least) and a loopback UDP loop (a datagram, its receipt, and a pipe
# acknowledgement each time), detached, with every measure on, and detached again;
# then with the run-queue histogram measuring every wait (`runq_sample = 1`, the
# lines ending in -every) instead of 1 in 8 (the default).
# Prints one SG-BENCH line per loop, which `make bench` collects.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

PINGS=20000
DGRAMS=5000
cat >/tmp/sg.toml <<'TOMLEOF'
[log]
format = "json"
output = "/tmp/sg.log"
[telemetry]
interval = "60s"
TOMLEOF
# (60 s: no interval ends during the loops, which measure the programs, not the reading)
{
    cat /tmp/sg.toml
    echo "runq_sample = 1"
} >/tmp/sg-every.toml

# loop NAME: best of three of each loop; sets NAME_ping and NAME_udp.
loop() {
    for what in ping udp; do
        best=""
        for _ in 1 2 3; do
            if [ "$what" = ping ]; then
                run_cmd /usr/bin/sg-teltool pingpong $PINGS
            else
                run_cmd /usr/bin/sg-teltool udp 5557 $DGRAMS 100
            fi
            t=$(echo "$OUT" | sed -n 's/^ns //p')
            if [ "$RC" != 0 ] || [ -z "$t" ]; then fail "sg-teltool $what (exit $RC): $OUT"; fi
            if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
        done
        eval "${1}_$what=$best"
    done
}

loop warm
loop detached
start_agent /tmp/sg.toml
loop telemetry
stop_agent
start_agent /tmp/sg-every.toml
loop every
stop_agent
loop detached_after

for what in ping udp; do
    n=$PINGS
    [ "$what" = ping ] || n=$DGRAMS
    for run in telemetry every; do
        name=telemetry-$what
        [ "$run" = telemetry ] || name=$name-every
        eval "echo SG-BENCH $name kernel=$(uname -r) n=$n detached=\$detached_$what" \
            "telemetry=\$${run}_$what detached_after=\$detached_after_$what"
    done
done | awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        base = (v["detached"] + v["detached_after"]) / 2
        printf "%s extra_per_round=%.0f ratio=%.3f\n", $0, (v["telemetry"] - base) / v["n"], v["telemetry"] / base
    }'
