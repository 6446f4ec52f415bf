#!/usr/bin/env bash
# The file benchmark (`make bench`): boots 6.1 and 6.12 with an instruction-counting clock (-icount shift=0),
# runs every "# boots: bench" scenario of tests/vm/scenarios, and writes their SG-BENCH
# lines into bench/results-file.md with the date and commit. Ratios are measured within one
# boot (agent attached vs detached), so they repeat to about 0.1%.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: bench/run.sh BIN}
out=${SG_VM_OUT:-$here/../target/vm}

"$here/../tests/vm/run.sh" "$BIN" bench-6.1 bench-6.12
results=$here/results-file.md
{
    echo "# Benchmark results"
    echo
    echo "Written by \`make bench\` ($(date -u +%Y-%m-%d), commit $(git -C "$here" rev-parse --short HEAD))."
    echo "Each line: one loop of N operations, best of three, in guest instructions"
    echo "(qemu -icount shift=0): detached, with 10 rules, with 10,000 rules (none"
    echo "matching), the extra instructions per operation and the ratios over detached."
    echo
    for boot in bench-6.1 bench-6.12; do
        tr -d '\r' <"$out/$boot.log" | grep -a '^SG-BENCH' | sed 's/^SG-BENCH /- /'
    done
} >"$results"
cat "$results"
