# boots: bench
# bench-verifier: what starting costs the kernel: the verifier's processed instructions
# for a full config (every module, every op), summed over the programs the agent loads
# (libbpf's log of each load, RUST_LOG=...libbpf=trace; the agent asks for the
# verifier's statistics at debug level). Prints one SG-BENCH line with the total, the
# number of programs and the five costliest, which `make bench` collects, and each
# program's figure on a line of its own in the boot's log ("-- verifier: PROG N").
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /srv/v
cat >/tmp/sg.toml <<'EOF_CONFIG'
[log]
format = "json"
output = "/tmp/sg.log"
[agent]
protect = true
[file]
mode = "block"
ops = ["read", "write", "exec", "create", "delete", "rename", "link", "chmod", "chown", "setattr", "mmap"]
deny = ["/srv/v/denied", { path = "/srv/v/sel", command = ["/bin/true"] }]
audit = ["/srv/v/audited"]
[network]
mode = "block"
ops = ["connect", "sendmsg", "accept", "recvmsg", "getpeername", "bind"]
cidr = { deny = ["10.254.0.0/16"] }
[mount]
mode = "block"
deny = ["/srv/v/mnt"]
[process]
mode = "block"
ops = ["fork", "exec", "exit"]
deny = ["/srv/v/bin"]
[detect]
mode = "block"
EOF_CONFIG

# protect: the agent cannot be stopped by this shell; init kills it after the scenario.
export RUST_LOG=info,safeguard=debug,libbpf=trace
start_agent /tmp/sg.toml
tr -d '\r' <"$AGENT_ERR" | awk -v kernel="$(uname -r)" '
    match($0, /prog .[a-z_0-9]+.: -- BEGIN PROG LOAD LOG/) { prog = substr($0, RSTART + 6); sub(/.: --.*/, "", prog) }
    match($0, /processed [0-9]+ insns/) {
        n = substr($0, RSTART + 10, RLENGTH - 16) + 0
        total += n; programs++; cost[prog] += n
    }
    END {
        if (programs == 0) { print "FAIL: no verifier statistics in the agent'"'"'s log"; exit 1 }
        # every program, for the log (the SG-BENCH line keeps the five costliest)
        for (p in cost) printf "-- verifier: %s %d\n", p, cost[p]
        top = ""
        for (k = 0; k < 5; k++) {
            best = ""; for (p in cost) if (best == "" || cost[p] > cost[best]) best = p
            if (best == "") break
            top = top " " best "=" cost[best]; delete cost[best]
        }
        printf "SG-BENCH verifier kernel=%s programs=%d processed_insns=%d top:%s\n", kernel, programs, total, top
    }' || fail "no verifier statistics (agent stderr: $AGENT_ERR)"
