# boots: bench
# bench-file: open+close of one file with the file module detached, with 10 rules and
# with 10,000 rules (none matching the file), in one boot whose clock counts
# instructions (-icount shift=0). Prints an SG-BENCH line that `make bench` collects.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

N=20000
mkdir -p /srv/bench /srv/rules
echo x >/srv/bench/file
(cd /srv/rules && seq 0 9999 | sed 's/^/r/' | xargs mkdir)

# config COUNT: deny rules on COUNT existing directories, none above the opened file.
config() {
    {
        printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n[file]\nmode = "block"\ndeny = ['
        seq 0 $(($1 - 1)) | sed 's|.*|"/srv/rules/r&",|' | tr -d '\n'
        printf ']\n'
    } >"/tmp/sg$1.toml"
}
config 10
config 10000

# best of three: background kernel work (early in a boot above all) only ever adds
loop() {
    best=""
    for _ in 1 2 3; do
        t=$(/usr/local/bin/sg-loop open /srv/bench/file $N) || fail "open loop failed"
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
    done
    echo "$best"
}

loop >/dev/null # warm the caches
detached=$(loop)
start_agent /tmp/sg10.toml
rules10=$(loop)
stop_agent
rm -f /tmp/sg.log
start_agent /tmp/sg10000.toml
rules10000=$(loop)
stop_agent
detached_after=$(loop)

echo "SG-BENCH file-open kernel=$(uname -r) n=$N detached=$detached rules10=$rules10" \
    "rules10000=$rules10000 detached_after=$detached_after" | awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        base = (v["detached"] + v["detached_after"]) / 2
        printf "%s extra_per_op_10=%.0f extra_per_op_10000=%.0f ratio10=%.3f ratio10000=%.3f rules_delta=%.2f%%\n",
            $0, (v["rules10"] - base) / v["n"], (v["rules10000"] - base) / v["n"],
            v["rules10"] / base, v["rules10000"] / base, (v["rules10000"] / v["rules10"] - 1) * 100
    }'
