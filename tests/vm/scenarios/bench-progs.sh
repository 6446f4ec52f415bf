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

N=3000      # connect + accept + close
N_OPEN=20000 # open + close: shorter, and the snapshots' own opens count with them
mkdir -p /srv/bench /srv/rules
echo x >/srv/bench/file
(cd /srv/rules && seq 0 9 | sed 's/^/r/' | xargs mkdir)
many_rules_config /tmp/sgfile.toml '[file]\nmode = "block"\n' 10 /srv/rules/r
{
    printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n[network]\nmode = "block"\n'
    printf 'cidr = { deny = [%s] }\n' "$(seq 0 9 | sed 's|.*|"10.0.&.0/24"|' | paste -sd,)"
} >/tmp/sgnet.toml

open_loop() { /usr/local/bin/sg-loop open /srv/bench/file $N_OPEN; }
net_loop() {
    out=$("$NETTOOL" bench 127.0.0.1:0 $N) || fail "bench failed: $out"
    echo "$out" | sed -n 's/.* ns_per_op=\([0-9]*\).*/\1/p'
}

# snapshot: "FDINFO RUN_TIME_NS RUN_CNT TAG" for each program the agent holds, in one
# process (every exec and open here is a hook's run too, counted with the loop's).
snapshot() {
    awk '/^prog_tag:/ { tag = $2 } /^run_time_ns:/ { t = $2 } /^run_cnt:/ { print FILENAME, t, $2, tag }' \
        /proc/"$AGENT_PID"/fdinfo/*
}

# stats NAME LOOP CONFIG: the loop detached, then attached with the statistics on, then
# detached again.
stats() {
    "$2" >/dev/null
    detached=$(best_of_three "$2") || fail "$1: loop failed"
    start_agent "$3"
    "$2" >/dev/null # the agent's start is over
    sysctl -qw kernel.bpf_stats_enabled=1 || fail "no kernel.bpf_stats_enabled"
    snapshot >/tmp/before
    attached=$("$2") || fail "$1: loop failed"
    snapshot >/tmp/after
    sysctl -qw kernel.bpf_stats_enabled=0
    grep -o 'bpf_prog_[0-9a-f]*_sg_[a-z_0-9]*' /proc/kallsyms | sed 's/^bpf_prog_//; s/_sg_/ sg_/' >/tmp/names
    stop_agent
    # the less of the loop detached before and after: the first loops of a boot are slower
    after=$(best_of_three "$2") || fail "$1: loop failed"
    [ "$after" -lt "$detached" ] && detached=$after
    # sg-loop prints the loop's total; the network tool ns per operation
    n=$N
    [ "$1" = file-open ] && { n=$N_OPEN detached=$((detached / N_OPEN)) attached=$((attached / N_OPEN)); }
    awk -v name="$1" -v kernel="$(uname -r)" -v n=$n -v detached="$detached" -v attached="$attached" '
        FILENAME == "/tmp/names" { prog_name[$1] = $2; next }
        FILENAME == "/tmp/before" { runs[$1] = $3; time[$1] = $2; next }
        NF >= 4 {
            r = $3 - runs[$1]; t = $2 - time[$1]
            if (r > 0) { tags[$1] = $4; rr[$1] = r; tt[$1] = t; inside += t }
        }
        END {
            line = sprintf("SG-BENCH progs-%s kernel=%s n=%d detached=%d attached=%d extra_per_op=%d inside_per_op=%d",
                name, kernel, n, detached, attached, attached - detached, inside / n)
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
