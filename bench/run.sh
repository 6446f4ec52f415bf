#!/usr/bin/env bash
# The VM benchmarks (`make bench`): boots 5.10, 6.1 and 6.12 with an instruction-counting
# clock (-icount shift=0), runs every "# boots: bench" scenario of tests/vm/scenarios, and
# writes their SG-BENCH lines into bench/results-file.md (file open+close, exec with process
# rules, the audited-event pipeline, memory, the verifier's work at start), bench/results-telemetry.md
# (bench-telemetry), bench/results-detect.md (bench-detect) and bench/results-outputs.md
# (bench-outputs: journald, syslog and metrics on vs the log file only) with the date and
# commit. Ratios are measured within one boot (agent attached vs detached), so they repeat
# to about 0.1%.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: bench/run.sh BIN}
out=${SG_VM_OUT:-$here/../target/vm}

# memory-6.12: bench-memory in a normal 6.12 boot (RSS needs no instruction counting; its
# configs of 10,000 rules in every module and of 400,000 file rules load too slowly under
# -icount), with room for those loads on a shared host.
boots=(bench-5.10 bench-6.1 bench-6.12 memory-6.12)
SG_VM_SCENARIO_TIMEOUT=${SG_VM_SCENARIO_TIMEOUT:-3000} "$here/../tests/vm/run.sh" "$BIN" "${boots[@]}"
# results FILE PATTERN HEADER...: the SG-BENCH lines whose name matches PATTERN (grep -E).
results() {
    local file=$1 pattern=$2
    shift 2
    {
        echo "# Benchmark results"
        echo
        echo "Written by \`make bench\` ($(date -u +%Y-%m-%d), commit $(git -C "$here" rev-parse --short HEAD))."
        printf '%s\n' "$@"
        echo
        for boot in "${boots[@]}"; do
            tr -d '\r' <"$out/$boot.log" | grep -aE "^SG-BENCH ($pattern)" | sed 's/^SG-BENCH /- /'
        done
    } >"$file"
    cat "$file"
}
results "$here/results-file.md" 'file-|process-|audit-|memory-|verifier|progs-' \
    "Each line: one loop of N operations, best of three, in guest instructions" \
    "(qemu -icount shift=0): detached, with 10 rules, with 10,000 rules (none" \
    "matching), with the 10 rules and an allow rule that decides (and counts) the open" \
    "(allow10), the extra instructions per operation and the ratios over detached." \
    "process-exec: fork + execve of a small static program + wait, with 10 and 10,000" \
    "exec deny rules of the process module (block mode, none matching)." \
    "audit-event: N audited opens, the loop's own CPU time detached and attached (the" \
    "hook) plus the agent's CPU time until every record was written, per event;" \
    "audit-burst: what a burst of audited opens left written and lost; memory (a normal" \
    "6.12 boot, not instruction-counted): the agent's VmRSS, peak, RssAnon, RssFile and the RSS of its" \
    "mapped BPF maps (the ring buffers, each mapped once), kB;" \
    "verifier: the instructions the verifier processed for a full config;" \
    "progs-file-open, progs-connect (bench-progs): per operation, the loop's extra" \
    "instructions with kernel.bpf_stats_enabled on, those spent inside the programs" \
    "(the rest: the hooks' entry and exit), and each program that ran: runs per" \
    "operation and instructions per run (about 90 of them the statistics' own clock reads)."
results "$here/results-telemetry.md" 'telemetry-' \
    "Each line: one loop of N round trips (telemetry-ping: one byte there and back over two" \
    "pipes between two processes; telemetry-udp: a loopback UDP datagram of 100 bytes and a" \
    "pipe acknowledgement), best of three, in guest instructions (qemu -icount shift=0):" \
    "detached, with [telemetry] on (every measure), detached again; the extra instructions" \
    "per round trip and the ratio over detached (target: at most 1.03). Lines ending in" \
    "-every: the same with runq_sample = 1 (the run-queue histogram measures every wait," \
    "not 1 in 8)."
results "$here/results-detect.md" 'detect-' \
    "Each line: one loop of N operations (detect-exec: fork + execve of a small static" \
    "program + wait; detect-open: open+close of a file; detect-connect: connect + accept +" \
    "close on loopback), best of three, in guest instructions (qemu -icount shift=0):" \
    "detached, with the process, file and network modules on (block mode, a few rules that" \
    "never match), the same plus [detect] with its defaults (every detection, default" \
    "responses), detached again; the extra instructions per operation that detect adds, the" \
    "ratios over detached without detect (ratio) and with it (ratio_detect), and the" \
    "second over the first (detect_over_rules; target: at most 1.03)."
results "$here/results-outputs.md" 'outputs-' \
    "outputs-event: N audited opens (as audit-event), the extra instructions per event" \
    "(the loop attached minus detached, plus the agent's CPU time until every record was" \
    "sent and the agent idle again, over N) with the log file only (file_only) and with" \
    "[output] journald, syslog on /dev/log and metrics on too (all_outputs, receivers:" \
    "busybox syslogds), their ratio (counting the agent's time inside the loops twice, as" \
    "audit-event does), agent_*: the same counted once, recv_all_outputs: the receivers'" \
    "instructions per event, and what each output sent and lost."
