# boots: bench
# bench-file: open+close of one file with the file module detached, with 10 rules and
# with 10,000 rules (none matching the file), and with the 10 rules plus an allow list
# whose rule decides (and counts) every open, in one boot whose clock counts
# instructions (-icount shift=0). Two files: /srv/bench/file, on the guest's root (the
# initramfs, which is also the root of the mount namespace), and /srv/mounted/file, on
# a filesystem mounted below it, so that the walk crosses a mount point as it does for
# every file of a real host (whose / is mounted over the kernel's rootfs). Prints one
# SG-BENCH line per file, which `make bench` collects.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

N=20000
mkdir -p /srv/bench /srv/rules /srv/mounted
echo x >/srv/bench/file
mount -t tmpfs tmpfs /srv/mounted
echo x >/srv/mounted/file
(cd /srv/rules && seq 0 9999 | sed 's/^/r/' | xargs mkdir)

# deny rules on existing directories, none above the opened file
many_rules_config /tmp/sg10.toml '[file]\nmode = "block"\n' 10 /srv/rules/r
many_rules_config /tmp/sg10000.toml '[file]\nmode = "block"\n' 10000 /srv/rules/r
# the 10 deny rules and an allow list: "/" and a rule on the opened file's directory
{ cat /tmp/sg10.toml && echo 'allow = ["/", "/srv/bench"]'; } >/tmp/sgallow.toml

# loop NAME: sets NAME_root and NAME_mounted to the best time for each file
loop() {
    for file in root mounted; do
        path=/srv/bench/file
        [ "$file" = root ] || path=/srv/mounted/file
        t=$(best_of_three /usr/local/bin/sg-loop open $path $N) || fail "open loop failed"
        eval "${1}_$file=$t"
    done
}

loop warm # the caches
loop detached
start_agent /tmp/sg10.toml
loop rules10
stop_agent
rm -f /tmp/sg.log
start_agent /tmp/sg10000.toml
loop rules10000
stop_agent
rm -f /tmp/sg.log
start_agent /tmp/sgallow.toml
loop allow10
stop_agent
loop detached_after

# shellcheck disable=SC2100 # "detached_after=..." is text for eval, not arithmetic
for file in root mounted; do
    name=file-open
    [ "$file" = root ] || name=file-open-mounted
    eval "echo SG-BENCH $name kernel=$(uname -r) n=$N detached=\$detached_$file" \
        "rules10=\$rules10_$file rules10000=\$rules10000_$file allow10=\$allow10_$file" \
        "detached_after=\$detached_after_$file"
done | awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        base = (v["detached"] + v["detached_after"]) / 2
        printf "%s extra_per_op_10=%.0f extra_per_op_10000=%.0f extra_per_op_allow=%.0f ratio10=%.3f ratio10000=%.3f ratio_allow=%.3f rules_delta=%.2f%%\n",
            $0, (v["rules10"] - base) / v["n"], (v["rules10000"] - base) / v["n"], (v["allow10"] - base) / v["n"],
            v["rules10"] / base, v["rules10000"] / base, v["allow10"] / base, (v["rules10000"] / v["rules10"] - 1) * 100
    }'
