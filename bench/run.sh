#!/usr/bin/env bash
# The VM benchmarks (`make bench`): boots 5.10, 6.1 and 6.12 with an instruction-counting
# clock (-icount shift=0), runs every "# boots: bench" scenario of tests/vm/scenarios (file
# open+close, the audited-event pipeline, memory, the verifier's work at start), and writes
# their SG-BENCH lines into bench/results-file.md with the date and commit. Ratios are
# measured within one boot (agent attached vs detached), so they repeat to about 0.1%.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: bench/run.sh BIN}
out=${SG_VM_OUT:-$here/../target/vm}

"$here/../tests/vm/run.sh" "$BIN" bench-5.10 bench-6.1 bench-6.12
results=$here/results-file.md
{
    echo "# Benchmark results"
    echo
    echo "Written by \`make bench\` ($(date -u +%Y-%m-%d), commit $(git -C "$here" rev-parse --short HEAD))."
    echo "Each line: one loop of N operations, best of three, in guest instructions"
    echo "(qemu -icount shift=0): detached, with 10 rules, with 10,000 rules (none"
    echo "matching), the extra instructions per operation and the ratios over detached."
    echo "audit-event: N audited opens, the loop's time detached and attached plus the"
    echo "agent's CPU time until every record was written, per event; audit-burst: what a"
    echo "burst of audited opens left written and lost; memory: the agent's VmRSS and peak"
    echo "(kB); verifier: the instructions the verifier processed for a full config."
    echo
    for boot in bench-5.10 bench-6.1 bench-6.12; do
        tr -d '\r' <"$out/$boot.log" | grep -a '^SG-BENCH' | sed 's/^SG-BENCH /- /'
    done
} >"$results"
cat "$results"
