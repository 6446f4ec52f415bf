# boots: bench
# bench-progs: where a judged operation's extra instructions go. With kernel.bpf_stats_enabled
# the kernel counts each program's runs and the time spent inside it (under -icount
# shift=0 the guest clock counts instructions, so that time is instructions); what the
# loop pays beyond the sum is the hooks' entry and exit (BPF trampoline, LSM call). Two
# loops: open+close of a file (file module, 10 deny rules) and connect+accept+close on
# 127.0.0.1 (network module, 10 CIDR deny rules, every op on: bench/network.sh's case).
# Prints one SG-BENCH line per loop with the loop's extra instructions per operation and
# each program that ran: runs per operation and instructions per run.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

N=3000
mkdir -p /srv/bench /srv/rules
echo x >/srv/bench/file
(cd /srv/rules && seq 0 9 | sed 's/^/r/' | xargs mkdir)
many_rules_config /tmp/sgfile.toml '[file]\nmode = "block"\n' 10 /srv/rules/r
{
    printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n[network]\nmode = "block"\n'
    printf 'cidr = { deny = [%s] }\n' "$(seq 0 9 | sed 's|.*|"10.0.&.0/24"|' | paste -sd,)"
} >/tmp/sgnet.toml

open_loop() { /usr/local/bin/sg-loop open /srv/bench/file $N; }
net_loop() {
    out=$("$NETTOOL" bench 127.0.0.1:0 $N) || fail "bench failed: $out"
    echo "$out" | sed -n 's/.* ns_per_op=\([0-9]*\).*/\1/p'
}

# stats NAME LOOP CONFIG: the loop detached, then attached with the statistics on.
stats() {
    "$2" >/dev/null
    detached=$(best_of_three "$2") || fail "$1: loop failed"
    start_agent "$3"
    "$2" >/dev/null # the agent's start is over
    sysctl -qw kernel.bpf_stats_enabled=1 || fail "no kernel.bpf_stats_enabled"
    for fd in /proc/"$AGENT_PID"/fdinfo/*; do
        grep -qs '^prog_tag' "$fd" && echo "$fd $(sed -n 's/^run_cnt:[[:space:]]*//p; s/^run_time_ns:[[:space:]]*//p' "$fd" | paste -sd' ')"
    done >/tmp/before
    attached=$("$2") || fail "$1: loop failed"
    for fd in /proc/"$AGENT_PID"/fdinfo/*; do
        grep -qs '^prog_tag' "$fd" && echo "$fd $(sed -n 's/^run_cnt:[[:space:]]*//p; s/^run_time_ns:[[:space:]]*//p' "$fd" | paste -sd' ') $(sed -n 's/^prog_tag:[[:space:]]*//p' "$fd")"
    done >/tmp/after
    sysctl -qw kernel.bpf_stats_enabled=0
    grep -o 'bpf_prog_[0-9a-f]*_sg_[a-z_0-9]*' /proc/kallsyms | sed 's/^bpf_prog_//; s/_sg_/ sg_/' >/tmp/names
    stop_agent
    # sg-loop prints the loop's total; the network tool ns per operation
    [ "$1" = file-open ] && { detached=$((detached / N)); attached=$((attached / N)); }
    awk -v name="$1" -v n=$N -v detached="$detached" -v attached="$attached" '
        FILENAME == "/tmp/names" { prog_name[$1] = $2; next }
        FILENAME == "/tmp/before" { if (NF >= 3) { runs[$1] = $3; time[$1] = $2 } next }
        NF >= 4 {
            r = $3 - runs[$1]; t = $2 - time[$1]
            if (r > 0) { tags[$1] = $4; rr[$1] = r; tt[$1] = t; inside += t }
        }
        END {
            line = sprintf("SG-BENCH progs-%s n=%d detached=%d attached=%d extra_per_op=%d inside_per_op=%d", name, n,
                detached, attached, attached - detached, inside / n)
            for (fd in tags) {
                prog = (tags[fd] in prog_name) ? prog_name[tags[fd]] : tags[fd]
                line = line sprintf(" %s:runs_per_op=%.2f,insns_per_run=%d", prog, rr[fd] / n, tt[fd] / rr[fd])
            }
            print line
        }' /tmp/names /tmp/before /tmp/after
}

# kallsyms names each JITed program bpf_prog_<tag>_<name> (with this on)
sysctl -qw net.core.bpf_jit_kallsyms=1 || fail "no net.core.bpf_jit_kallsyms"
stats file-open open_loop /tmp/sgfile.toml
stats connect net_loop /tmp/sgnet.toml
