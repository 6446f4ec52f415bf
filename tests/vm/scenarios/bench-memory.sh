# boots: memory
# bench-memory: the agent's memory with many rules (issue 20). In a normal 6.12 boot
# (memory-6.12, `make bench`): RSS needs no instruction counting, and these configs load
# too slowly under -icount. Once started: VmRSS and its peak VmHWM, RssAnon (the agent's
# own heap and stacks), RssFile (the mapped BPF maps; the binary is on the initramfs, shared memory), the RSS of
# the BPF maps mapped into the agent (its ring buffers, each mapped once: kernel memory the
# agent did not allocate), and threads.
# Configs: 10 process rules, 10,000 rules in each module alone, in all four at once, then
# 100,000 and 400,000 file rules (on paths absent at start: the costlier kind). One
# SG-BENCH line per config as it goes (this boot's guest has 2 GB); a config that does not
# start (killed for memory, say) prints its line with rss_kb=none and the scenario goes on.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

# rules N FORMAT: N quoted list entries, FORMAT with %d for the rule's number.
rules() {
    seq 0 $(($1 - 1)) | awk -v f="$2" '{ printf "\"" f "\",", $1 }'
}

# status FIELD: a field of the agent's /proc status, in kB.
status() { awk -v f="$1:" '$1 == f { print $2 }' /proc/"$AGENT_PID"/status; }

# memory NAME CONFIG: starts the agent, prints its memory, stops it. Up to 20 minutes for
# the start record (seven boots on two cores load the file module slowly).
memory() {
    rm -f /tmp/sg.log
    SG_LOG=/tmp/sg.log
    "$SG" run -c "$2" >"$AGENT_OUT" 2>"$AGENT_ERR" &
    AGENT_PID=$!
    i=0
    while ! grep '"op":"start"' "$SG_LOG" >/dev/null 2>&1; do
        if ! alive "$AGENT_PID" || [ "$i" -ge 2400 ]; then
            kill -KILL "$AGENT_PID" 2>/dev/null
            wait "$AGENT_PID"
            echo "SG-BENCH memory-$1 kernel=$(uname -r) rss_kb=none (did not start: status $?)"
            tail -n 5 "$AGENT_ERR"
            AGENT_PID=""
            return 0
        fi
        sleep 0.5
        i=$((i + 1))
    done
    sleep 2
    maps=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { bpf = ($6 == "anon_inode:bpf-map") }
                /^Rss:/ && bpf { kb += $2 } END { print kb + 0 }' /proc/"$AGENT_PID"/smaps)
    echo "SG-BENCH memory-$1 kernel=$(uname -r) rss_kb=$(status VmRSS) peak_kb=$(status VmHWM)" \
        "anon_kb=$(status RssAnon) file_kb=$(status RssFile) bpf_maps_kb=$maps threads=$(status Threads)"
    stop_agent
}

head() { printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n'; }
file() { printf '[file]\nmode = "block"\ndeny = [%s]\n' "$(rules "$1" /srv/absent/f%d)"; }
network() {
    printf '[network]\nmode = "block"\ncidr = { deny = [%s] }\n' \
        "$(seq 0 $(($1 - 1)) | awk '{ printf "\"10.%d.%d.0/24\",", $1 / 256, $1 % 256 }')"
}
process() { printf '[process]\nmode = "block"\ndeny = [%s]\n' "$(rules "$1" /srv/absent/p%d)"; }
mount() { printf '[mount]\nmode = "block"\ndeny = [%s]\n' "$(rules "$1" /srv/absent/m%d)"; }

{ head; process 10; } >/tmp/process10.toml
for m in process file network mount; do
    { head; "$m" 10000; } >/tmp/"$m"10k.toml
done
{ head; file 10000; network 10000; process 10000; mount 10000; } >/tmp/each10k.toml
{ head; file 100000; } >/tmp/file100k.toml
{ head; file 400000; } >/tmp/file400k.toml

for config in process10 process10k file10k network10k mount10k each10k file100k file400k; do
    memory "$config" /tmp/"$config".toml
done
