# boots: bench
# bench-memory: the agent's memory with many rules. RSS (VmRSS) and its peak (VmHWM) once
# started, with 10,000 rules in each module (file, network, process, mount), then with
# 100,000 and 400,000 file rules (on paths absent at start: the costlier kind). Prints
# one SG-BENCH line per config as it goes (the guest has 512 MB), which `make bench`
# collects.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

# rules N FORMAT: N quoted list entries, FORMAT with %d for the rule's number.
rules() {
    seq 0 $(($1 - 1)) | awk -v f="$2" '{ printf "\"" f "\",", $1 }'
}

# memory NAME CONFIG: starts the agent, prints its VmRSS and VmHWM (kB), stops it.
memory() {
    rm -f /tmp/sg.log
    start_agent "$2"
    sleep 2
    rss=$(awk '/^VmRSS/ { print $2 }' /proc/"$AGENT_PID"/status)
    hwm=$(awk '/^VmHWM/ { print $2 }' /proc/"$AGENT_PID"/status)
    stop_agent
    echo "SG-BENCH memory-$1 kernel=$(uname -r) rss_kb=$rss peak_kb=$hwm"
}

head() { printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n'; }
{
    head
    printf '[file]\nmode = "block"\ndeny = [%s]\n' "$(rules 10000 /srv/absent/f%d)"
    printf '[network]\nmode = "block"\ncidr = { deny = [%s] }\n' "$(seq 0 9999 | awk '{ printf "\"10.%d.%d.0/24\",", $1 / 256, $1 % 256 }')"
    printf '[process]\nmode = "block"\ndeny = [%s]\n' "$(rules 10000 /srv/absent/p%d)"
    printf '[mount]\nmode = "block"\ndeny = [%s]\n' "$(rules 10000 /srv/absent/m%d)"
} >/tmp/each10k.toml
for n in 100000 400000; do
    { head; printf '[file]\nmode = "block"\ndeny = [%s]\n' "$(rules $n /srv/absent/f%d)"; } >/tmp/file$n.toml
done

memory each10k /tmp/each10k.toml
memory file100k /tmp/file100000.toml
memory file400k /tmp/file400000.toml
