#!/bin/bash
# Measures how fast `safeguard events`, `report` and `generate` read a large log.
#
# Writes a log of SAFEGUARD_BENCH_MB MB (default 200) in each format with the agent's
# own writers (the scenario of tests/fixtures/analysis repeated day after day), reads
# it once to have it in the page cache, then times each command. It prints wall-clock
# MB/s and MB/s per CPU second (user + sys: what one core does, whatever else runs on
# the machine), and `cat` for comparison. Output goes to /dev/null.
#
# Environment: SAFEGUARD=release binary (default: cargo build --release),
# SAFEGUARD_BENCH_DIR=where the logs go (default /tmp), SAFEGUARD_BENCH_MB.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
mb=${SAFEGUARD_BENCH_MB:-200}
dir=${SAFEGUARD_BENCH_DIR:-/tmp}
bin=${SAFEGUARD:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --quiet)
    bin=$target/release/safeguard
fi

for format in json text; do
    log=$dir/safeguard-bench.$format.log
    if [ ! -s "$log" ] || [ "$(stat -c %s "$log")" -lt $((mb * 1000000)) ]; then
        (cd "$root" && SAFEGUARD_BENCH_LOG=$log SAFEGUARD_BENCH_MB=$mb SAFEGUARD_BENCH_FORMAT=$format \
            cargo test --release --quiet write_bench_log -- --ignored >/dev/null 2>&1)
    fi
done

TIMEFORMAT='%R %U %S'
measure() { # measure LABEL LOG COMMAND...
    local label=$1 log=$2 seconds size
    shift 2
    size=$(stat -c %s "$log")
    seconds=$( { time "$@" >/dev/null 2>/dev/null; } 2>&1 )
    awk -v label="$label" -v size="$size" -v t="$seconds" 'BEGIN {
        split(t, s, " "); mb = size / 1e6; cpu = s[2] + s[3];
        if (cpu < 0.001) cpu = 0.001; if (s[1] < 0.001) s[1] = 0.001;
        printf "%-44s %7.0f MB/s wall %7.0f MB/s per CPU second\n", label, mb / s[1], mb / cpu }'
}

echo "$bin, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for format in json text; do
    log=$dir/safeguard-bench.$format.log
    cat "$log" >/dev/null
    echo "== $format log, $(($(stat -c %s "$log") / 1000000)) MB, $(wc -l <"$log") records"
    measure "cat" "$log" cat "$log"
    measure "events --action BLOCKED (no match)" "$log" "$bin" events "$log" --action BLOCKED
    measure "events --since (after the end)" "$log" "$bin" events "$log" --since 2100-01-01
    measure "events --module file --action denied" "$log" "$bin" events "$log" --module file --action denied
    measure "events --pid 6600 (16%)" "$log" "$bin" events "$log" --pid 6600
    measure "events --module network (34%)" "$log" "$bin" events "$log" --module network
    measure "events (every record, table)" "$log" "$bin" events "$log"
    measure "events --json (every record)" "$log" "$bin" events "$log" --json
    measure "report" "$log" "$bin" report "$log"
    measure "generate" "$log" "$bin" generate "$log"
done
