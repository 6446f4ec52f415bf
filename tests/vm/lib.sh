# shellcheck shell=sh
# lib.sh: helpers for the VM scenarios (sourced: `. /tests/lib.sh`). Busybox sh.
#
# A scenario is a small script that exits 0 when everything it checks holds. It runs as
# root in a fresh /tmp and /opt (init wipes them and kills every process after each one).
# Environment from init: SG_BOOT (boot name), SG_LSM (1 if BPF LSM is expected active),
# SG_SCENARIO (this scenario's name).
#
# Call the helpers directly, never inside $(...): fail must end the scenario, not a
# subshell. Results come back in variables ($REC, $OUT, $RC).
#
# Records are compact JSON lines ("key":value, no spaces), so a record is matched by fixed
# substrings in any field order: wait_for_record '"op":"exec"' '"action":"BLOCKED"'.
# A pattern that ends in a digit matches only where no further digit follows, so
# '"pid":12' does not match "pid":123.

SG=${SG:-/usr/sbin/safeguard}  # the host tests (tests/host) point it at the built binary
AGENT_ERR=/tmp/agent.err
AGENT_OUT=/tmp/agent.out
AGENT_PID=""
SG_LOG=""       # the log file of the running agent's config (set by start_agent)
WAIT_SECS=20    # wait_for_record's limit

say() { echo "-- $*"; }

# fail MESSAGE: end the scenario as failed, with what the agent said for context.
fail() {
    echo "FAIL: $*"
    if [ -s "$AGENT_ERR" ]; then
        echo "--- agent stderr (last 20 lines):"
        tail -n 20 "$AGENT_ERR"
    fi
    if [ -n "$SG_LOG" ] && [ -s "$SG_LOG" ]; then
        echo "--- $SG_LOG (last 20 lines):"
        tail -n 20 "$SG_LOG"
    fi
    [ -n "$AGENT_PID" ] && kill -KILL "$AGENT_PID" 2>/dev/null
    exit 1
}

# alive PID: the process exists and is not a zombie.
alive() {
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    case ${stat##*) } in Z*) return 1 ;; esac
    return 0
}

# log_of CONFIG: the [log] output path written in CONFIG.
log_of() {
    sed -n 's/^[[:space:]]*output[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$1" | head -n 1
}

# match PATTERN...: the lines of stdin that contain all the fixed substrings.
match() {
    awk '
        function has(s, p,    i, rest) {
            # p must occur in s; when p ends in a digit, not followed by another digit
            rest = s
            while ((i = index(rest, p)) > 0) {
                rest = substr(rest, i + length(p))
                if (p !~ /[0-9]$/ || rest !~ /^[0-9]/) return 1
            }
            return 0
        }
        BEGIN { n = ARGC - 1; for (i = 1; i <= n; i++) { p[i] = ARGV[i]; delete ARGV[i] } }
        { for (i = 1; i <= n; i++) if (!has($0, p[i])) next; print }
    ' "$@"
}

# records PATTERN...: every line of $SG_LOG that contains all the fixed substrings.
records() {
    [ -f "$SG_LOG" ] || return 0
    match "$@" <"$SG_LOG"
}

# count_records PATTERN...: how many lines match.
count_records() { records "$@" | wc -l; }

# wait_for_record PATTERN...: wait up to $WAIT_SECS for one line matching all; print it
# and keep it in $REC.
wait_for_record() {
    i=0
    while [ "$i" -lt $((WAIT_SECS * 5)) ]; do
        REC=$(records "$@" | head -n 1)
        if [ -n "$REC" ]; then
            # The writer may have been mid-write (the kernel copies a write page by
            # page, and a reader can run in between): take the line again, complete.
            sleep 0.1
            REC=$(records "$@" | head -n 1)
            echo "$REC"
            return 0
        fi
        sleep 0.2
        i=$((i + 1))
    done
    fail "no record with all of: $* (waited $WAIT_SECS s)"
}

# rec_has PATTERN...: the record last found by wait_for_record ($REC) has every pattern.
rec_has() {
    for p in "$@"; do
        [ -n "$(printf '%s\n' "$REC" | match "$p")" ] ||
            fail "record lacks $p: $REC"
    done
}

# assert_no_record PATTERN...: no line matches now. Make sure the records that could match
# have been written first (stop_agent, or wait for a later record).
assert_no_record() {
    line=$(records "$@" | head -n 1)
    [ -z "$line" ] || fail "unexpected record with all of: $*: $line"
}

# reload_and_wait N: SIGHUP to the agent, then wait up to 600 s for the Nth reload record
# (a reload that replaces the file module verifies its programs again).
reload_and_wait() {
    kill -HUP "$AGENT_PID"
    i=0
    while [ "$(count_records '"module":"agent"' '"op":"reload"')" -lt "$1" ]; do
        [ "$i" -lt 1200 ] || fail "no reload record number $1 within 600 s"
        alive "$AGENT_PID" || fail "agent died on reload $1"
        sleep 0.5
        i=$((i + 1))
    done
}

# start_agent CONFIG [ARGS...]: run the agent in the background and wait up to 600 s for its
# start record in the log file named by CONFIG (the file module's verification takes up
# to a minute and a half under TCG, far more with more guests than cores).
start_agent() {
    cfg=$1
    shift
    SG_LOG=$(log_of "$cfg")
    [ -n "$SG_LOG" ] || fail "start_agent: no output = \"FILE\" in $cfg"
    # a log kept from an earlier agent already holds a start record: wait for a new one
    # (else the scenario goes on while this agent is still loading its programs)
    starts=$(count_records '"module":"agent"' '"op":"start"')
    say "starting: $SG run -c $cfg $*"
    "$SG" run -c "$cfg" "$@" >"$AGENT_OUT" 2>"$AGENT_ERR" &
    AGENT_PID=$!
    i=0
    while [ "$i" -lt 1200 ]; do
        if [ "$(count_records '"module":"agent"' '"op":"start"')" -gt "$starts" ]; then
            say "agent $AGENT_PID started"
            return 0
        fi
        if ! alive "$AGENT_PID"; then
            wait "$AGENT_PID"
            rc=$?
            AGENT_PID=""
            fail "agent exited with status $rc before writing its start record"
        fi
        sleep 0.5
        i=$((i + 1))
    done
    fail "agent wrote no start record within 600 s"
}

# terminate_agent: SIGTERM; the agent must exit within 20 s. Its status is in $rc.
terminate_agent() {
    [ -n "$AGENT_PID" ] || fail "terminate_agent: no agent running"
    kill -TERM "$AGENT_PID"
    i=0
    while alive "$AGENT_PID"; do
        [ "$i" -lt 100 ] || fail "agent still running 20 s after SIGTERM"
        sleep 0.2
        i=$((i + 1))
    done
    wait "$AGENT_PID"
    rc=$?
    AGENT_PID=""
}

# stop_agent: SIGTERM; the agent must exit 0 within 20 s and write its stop record.
stop_agent() {
    terminate_agent
    [ "$rc" = 0 ] || fail "agent exited with status $rc after SIGTERM"
    [ -n "$(records '"module":"agent"' '"op":"stop"')" ] || fail "agent wrote no stop record"
    say "agent stopped"
}

# run_cmd CMD...: run CMD, keep its combined output in $OUT and status in $RC.
run_cmd() {
    OUT=$("$@" 2>&1)
    RC=$?
}

# sh_pids: the first line of $OUT is "PID PPID" (see run_sh); set $SH_PID and $SH_PPID.
sh_pids() {
    # shellcheck disable=SC2034 # for the scenarios
    read -r SH_PID SH_PPID <<EOF
$OUT
EOF
}

# run_sh SCRIPT: run `/bin/sh -c SCRIPT` after it printed its pid and parent pid, which land in
# $SH_PID and $SH_PPID. End SCRIPT with `exec CMD` so that this very shell attempts the
# exec: it is then the subject (pid, ppid, comm "sh") of the exec decision. The full path
# matters: busybox sh runs an applet named without a path as execve("/proc/self/exe"),
# whose comm is "exe" until busybox renames itself.
run_sh() {
    run_cmd /bin/sh -c "echo \$\$ \$PPID; $1"
    sh_pids
}

# expect_eperm_sh SCRIPT: run_sh SCRIPT, which must fail with EPERM (see expect_eperm).
expect_eperm_sh() {
    expect_eperm /bin/sh -c "echo \$\$ \$PPID; $1"
    sh_pids
}

# expect_eperm CMD...: CMD must fail because an exec got EPERM. Busybox (sh, env, su,
# timeout...) reports a failed execve as "<who>: <file>: Operation not permitted" (EACCES
# would be "Permission denied") and exits 126 (127 is "not found"). Sets $OUT and $RC.
expect_eperm() {
    run_cmd "$@"
    case $OUT in
        *"Operation not permitted"*) ;;
        *) fail "expected EPERM from: $* (status $RC, output: $OUT)" ;;
    esac
    [ "$RC" = 126 ] || fail "expected status 126 from: $* (status $RC, output: $OUT)"
    say "refused with EPERM: $*"
}

# expect_eperm_file CMD...: CMD must fail because a file operation got EPERM: busybox
# applets print "Operation not permitted" and exit 1 (not 126: that is execve's).
expect_eperm_file() {
    run_cmd "$@"
    case $OUT in
        *"Operation not permitted"*) ;;
        *) fail "expected EPERM from: $* (status $RC, output: $OUT)" ;;
    esac
    [ "$RC" != 0 ] || fail "expected failure from: $* (output: $OUT)"
    say "refused with EPERM: $*"
}

# expect_status N CMD...: CMD must exit with status N. Sets $OUT and $RC.
expect_status() {
    want=$1
    shift
    run_cmd "$@"
    [ "$RC" = "$want" ] || fail "expected status $want from: $* (status $RC, output: $OUT)"
}

# load_overlayfs: overlayfs is a module in Debian's cloud kernels (initramfs.sh puts
# each kernel's overlay.ko in the guest); load it unless the kernel has it. Its status
# says whether overlayfs is there now.
load_overlayfs() {
    grep -qw overlay /proc/filesystems && return 0
    insmod "/lib/modules/$(uname -r)/overlay.ko" 2>&1 || insmod "/lib/sg-extra/overlay-$SG_BOOT.ko" 2>&1
    grep -qw overlay /proc/filesystems
}

# mount_overlay LOWERDIR UPPERDIR WORKDIR DIR: an overlay of those layers on DIR, or fail.
mount_overlay() {
    load_overlayfs || fail "no overlayfs in this kernel"
    mount -t overlay none -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" || fail "mount overlay $4"
}

# refused_sh NAME SCRIPT: `sh -c SCRIPT` must be refused: EPERM and a new BLOCKED record,
# no secret printed (expect_refused; a failure is added to $BAD).
refused_sh() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$2"
    expect_refused "$1"
}

# overlay_scratch T O: a fresh tmpfs on T (to hold an overlay's layers) and an empty
# directory O (to mount it on); both unmounted and removed when the scenario exits.
overlay_scratch() {
    SCRATCH_T=$1 SCRATCH_O=$2
    trap overlay_scratch_cleanup EXIT
    overlay_scratch_cleanup
    mkdir -p "$1" "$2" || fail "mkdir $1 $2"
    mount -t tmpfs tmpfs "$1" || fail "mount tmpfs $1"
}

overlay_scratch_cleanup() {
    umount "$SCRATCH_O" 2>/dev/null
    umount "$SCRATCH_T" 2>/dev/null
    rmdir "$SCRATCH_O" "$SCRATCH_T" 2>/dev/null
}

# deep_chain DIR: DIR/e1/.../e70 made, deeper than the BPF walks reach (64); CUT is
# DIR/e1/.../e30 and TAIL e31/.../e70, for attacks that cut the chain (rename CUT away) so
# that a name at its end is left without a path to the root.
deep_chain() {
    CUT=$1
    i=1
    while [ "$i" -le 30 ]; do
        CUT=$CUT/e$i
        i=$((i + 1))
    done
    TAIL=e31
    i=32
    while [ "$i" -le 70 ]; do
        TAIL=$TAIL/e$i
        i=$((i + 1))
    done
    mkdir -p "$CUT/$TAIL" || fail "mkdir $CUT/$TAIL"
}

# copy_busybox DEST: a copy of busybox with its own inode, for exec rules. A busybox copy
# runs an applet only when argv[0] names one ("denied: applet not found" otherwise), so run
# it as `sh -c 'exec -a true DEST'` when it must succeed.
copy_busybox() {
    mkdir -p "$(dirname "$1")"
    cp /bin/busybox "$1" && chmod 755 "$1"
}

# as_user CMD: run the shell command line CMD as uid/gid 1000 (user "user").
as_user() { su -s /bin/sh user -c "$1"; }

# expect_ok CMD...: CMD must succeed (status 0). Sets $OUT and $RC.
expect_ok() {
    run_cmd "$@"
    [ "$RC" = 0 ] || fail "expected success from: $* (status $RC, output: $OUT)"
}

# expect_read FILE WANT: `cat FILE` must succeed and print exactly WANT.
expect_read() {
    run_cmd cat "$1"
    [ "$RC" = 0 ] && [ "$OUT" = "$2" ] || fail "cat $1: status $RC, output '$OUT' (want '$2')"
}

# expect_eperm_file_sh SCRIPT: `/bin/sh -c SCRIPT` must fail with EPERM from a file
# operation (see expect_eperm_file); for redirections and pipelines.
expect_eperm_file_sh() { expect_eperm_file /bin/sh -c "$1"; }

# mark_records: remember how many lines the log has, for wait_for_new_record.
mark_records() {
    MARK=0
    [ -f "$SG_LOG" ] && MARK=$(wc -l <"$SG_LOG")
}

# find_new_record PATTERN...: like wait_for_new_record, but returns 1 instead of failing.
find_new_record() {
    i=0
    while [ "$i" -lt $((WAIT_SECS * 5)) ]; do
        REC=$(tail -n +"$((${MARK:-0} + 1))" "$SG_LOG" 2>/dev/null | match "$@" | head -n 1)
        [ -n "$REC" ] && return 0
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

# expect_refused NAME: the attack just run by run_cmd (after mark_records) must have
# failed with EPERM (status not 0, no s3cret or RAN printed, no SETUP-FAILED) and written
# a new BLOCKED record; else NAME and what happened are added to $BAD.
expect_refused() {
    case $OUT in
        *SETUP-FAILED*)
            BAD="$BAD
  $1: setup failed: $OUT"
            return
            ;;
        *s3cret* | *RAN*)
            BAD="$BAD
  $1: BYPASS (status $RC, output: $OUT)"
            return
            ;;
        *"Operation not permitted"*) ;;
        *)
            BAD="$BAD
  $1: not refused with EPERM (status $RC, output: $OUT)"
            return
            ;;
    esac
    if [ "$RC" = 0 ]; then
        BAD="$BAD
  $1: BYPASS (status 0, output: $OUT)"
    elif find_new_record '"action":"BLOCKED"'; then
        say "refused: $1 (output: $OUT)"
        echo "$REC"
    else
        BAD="$BAD
  $1: EPERM but no BLOCKED record"
    fi
}
# wait_for_new_record PATTERN...: wait_for_record, among the lines written after the last
# mark_records (the same path may already have older records).
wait_for_new_record() {
    find_new_record "$@" || fail "no new record with all of: $* (waited $WAIT_SECS s)"
    echo "$REC"
}
# ---- log fault helpers (scenarios log-*.sh)
# deny_read_config FILE LOG DIR: block mode, reads under DIR denied, JSON records to LOG.
# Only file_open is loaded ([file] ops = ["read"]): a faster start under TCG.
deny_read_config() {
    printf '[log]\nformat = "json"\noutput = "%s"\n[file]\nmode = "block"\ndeny = ["%s"]\nops = ["read"]\n' \
        "$2" "$3" >"$1"
}

# empty_files DIR COUNT: DIR/f0 .. DIR/f(COUNT-1), empty (distinct paths fold into no
# other record).
empty_files() {
    mkdir -p "$1"
    i=0
    while [ "$i" -lt "$2" ]; do
        : >"$1/f$i"
        i=$((i + 1))
    done
}

# deny_range DIR FROM TO: one shell opens DIR/fFROM .. DIR/f(TO-1) for reading; every
# open must fail with EPERM.
deny_range() {
    /bin/sh -c "i=$2; while [ \$i -lt $3 ]; do true <$1/f\$i; i=\$((i + 1)); done" 2>/tmp/deny.err
    n=$(grep -c 'Operation not permitted' /tmp/deny.err)
    [ "$n" = $(($3 - $2)) ] || fail "$n of $(($3 - $2)) opens got EPERM: $(head -n 3 /tmp/deny.err)"
}

# stop_total NAME: totals.NAME of the last stop record.
stop_total() {
    records '"module":"agent"' '"op":"stop"' | sed -n "s/.*\"totals\":{[^}]*\"$1\":\([0-9]*\).*/\1/p" | tail -n 1
}

# best_of_three CMD...: runs CMD, which prints a number (a loop's time), three times and
# prints the least: background kernel work (early in a boot above all) only ever adds.
best_of_three() {
    least=""
    for _ in 1 2 3; do
        t=$("$@") || return 1
        if [ -z "$least" ] || [ "$t" -lt "$least" ]; then least=$t; fi
    done
    echo "$least"
}

# many_rules_config FILE SECTION COUNT PREFIX: JSON records to /tmp/sg.log; SECTION (a
# module's table and settings, with \n escapes) then its deny list: COUNT rule paths
# PREFIX0 .. PREFIX(COUNT-1). The benchmarks' configs of 10 and 10,000 rules.
many_rules_config() {
    {
        printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n%bdeny = [' "$2"
        seq 0 $(($3 - 1)) | sed "s|.*|\"$4&\",|" | tr -d '\n'
        printf ']\n'
    } >"$1"
}

# cpu PID...: nanoseconds (under -icount: instructions) every thread of these processes
# has run so far. The benchmarks' measure of the agent's own work.
cpu() {
    for p in "$@"; do cat /proc/"$p"/task/*/schedstat; done | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# settle COUNT PATTERN: waits until the log holds COUNT lines that contain PATTERN (a
# fixed string), or their number stayed the same for 3 s (events were lost), at most
# 300 s. The benchmarks' wait for a burst of audit records.
settle() {
    i=0
    last=-1
    same=0
    while :; do
        n=$(grep -cF "$2" "$SG_LOG")
        if [ "$n" -ge "$1" ] || [ "$i" -ge 600 ] || [ "$same" -ge 6 ]; then break; fi
        if [ "$n" = "$last" ]; then same=$((same + 1)); else same=0; fi
        last=$n
        sleep 0.5
        i=$((i + 1))
    done
}
# ---- end log fault helpers
# ---- network module helpers (scenarios network-*.sh)
# The guest has only lo: net_setup gives it the test addresses. sg-nettool (tests/vm/nettool)
# does the socket operations and prints "ok ..." or "error: <os error>".
NET_A=10.254.249.3  # usually denied
NET_B=10.254.249.4  # usually allowed
NET_A6=fd00::3
NET_B6=fd00::4
NETTOOL=/usr/bin/sg-nettool

net_setup() {
    for a in "$NET_A/32" "$NET_B/32" "$NET_A6/128" "$NET_B6/128"; do
        # the addresses outlive a scenario (init does not reset lo)
        ip addr show dev lo | grep -q " $a " || ip addr add "$a" dev lo ||
            fail "net_setup: could not add $a to lo"
    done
}

# net_serve ADDR:PORT: a TCP listener in the background (accepts and closes); waits for it.
net_serve() {
    log=/tmp/serve.$$.$(echo "$1" | tr -c 'a-zA-Z0-9\n' _).log
    "$NETTOOL" serve "$1" >"$log" 2>&1 &
    i=0
    while ! grep -q listening "$log" 2>/dev/null; do
        [ "$i" -lt 50 ] || fail "net_serve $1: no listener ($(cat "$log"))"
        sleep 0.1
        i=$((i + 1))
    done
}

# net_ok ARGS...: `sg-nettool ARGS` must succeed (run through run_sh: $SH_PID is its pid).
net_ok() {
    run_sh "exec $NETTOOL $*"
    case $OUT in *"
ok "*) ;; *) fail "expected success from sg-nettool $* (status $RC): $OUT" ;; esac
    say "ok: $*"
}

# net_eperm ARGS...: `sg-nettool ARGS` must fail with EPERM ($SH_PID is its pid).
net_eperm() {
    run_sh "exec $NETTOOL $*"
    case $OUT in *"Operation not permitted"*) ;; *) fail "expected EPERM from sg-nettool $* (status $RC): $OUT" ;; esac
    say "refused with EPERM: $*"
}

# denied_after_ttl NEW OLD: the DNS zone /tmp/zone (served by sg-nettool dnsd) answers
# blocked.test with NEW; within 15 s a connect to NEW:8080 is refused (the agent asked
# again when the 5 s TTL expired) with a BLOCKED record naming the domain, and OLD:8080
# is free again.
denied_after_ttl() {
    echo "blocked.test 5 $1" >/tmp/zone
    i=0
    while :; do
        run_cmd "$NETTOOL" connect "$1:8080"
        case $OUT in *"Operation not permitted"*) break ;; esac
        [ "$i" -lt 60 ] || fail "$1 still reachable 15 s after the answer changed"
        sleep 0.25
        i=$((i + 1))
    done
    say "denied after $((i / 4)) s"
    wait_for_record '"action":"BLOCKED"' "\"dst_addr\":\"$1\"" '"domain":"blocked.test"'
    net_ok connect "$2:8080"
}

# net_config FILE MODE TOML...: a config with [network] in MODE and the given lines.
net_config() {
    f=$1 mode=$2
    shift 2
    {
        printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n[network]\nmode = "%s"\n' "$mode"
        for line in "$@"; do printf '%s\n' "$line"; done
    } >"$f"
}
# mptcp_exchange SNIFFDST SERVER CLIENT...: a sniffer for packets to SNIFFDST on lo and
# the shell line SERVER (an MPTCP listener of sg-attacktool, which prints "listening") in
# the background, then CLIENT once both listen. Sets $client (CLIENT's output), $served
# and $sniffed (the sniffer's "seen ..." or "error: not seen").
mptcp_exchange() {
    /usr/bin/sg-attacktool sniff "$1" 8000 >/tmp/mptcp-sniff.log 2>&1 &
    sniffer=$!
    sh -c "$2" >/tmp/mptcp-serve.log 2>&1 &
    server=$!
    shift 2
    i=0
    while ! grep -q listening /tmp/mptcp-serve.log 2>/dev/null || ! grep -q listening /tmp/mptcp-sniff.log 2>/dev/null; do
        [ "$i" -lt 50 ] || fail "no listener"
        sleep 0.1
        i=$((i + 1))
    done
    sleep 0.5
    run_cmd "$@"
    client=$OUT
    wait "$sniffer" "$server"
    served=$(cat /tmp/mptcp-serve.log)
    sniffed=$(cat /tmp/mptcp-sniff.log)
    say "client: $client"
    say "server: $served"
    say "sniffer: $sniffed"
}
# ---- end network module helpers
# ---- mount module helpers (scenarios mount-*.sh)
# sg-mounttool (tests/vm/mounttool.c) passes its strings to mount(2) as given, or clones a
# tree with open_tree + move_mount; it prints "ok" or "error: <strerror>".
MOUNTTOOL=/usr/bin/sg-mounttool

# mnt_ok ARGS...: `sg-mounttool ARGS` must succeed ($SH_PID is its pid).
mnt_ok() {
    run_sh "exec $MOUNTTOOL $*"
    case $OUT in *"
ok"*) ;; *) fail "expected success from sg-mounttool $* (status $RC): $OUT" ;; esac
    say "ok: $*"
}

# mnt_eperm ARGS...: `sg-mounttool ARGS` must fail with EPERM ($SH_PID is its pid).
mnt_eperm() {
    run_sh "exec $MOUNTTOOL $*"
    case $OUT in *"error: Operation not permitted"*) ;; *) fail "expected EPERM from sg-mounttool $* (status $RC): $OUT" ;; esac
    say "refused with EPERM: $*"
}

# mnt_config FILE MODE DENY: a config with [mount] in MODE and `deny = DENY`.
mnt_config() {
    printf '[log]\nformat = "json"\noutput = "/tmp/sg.log"\n[mount]\nmode = "%s"\ndeny = %s\n' "$2" "$3" >"$1"
}

# mnt_fixture: /var/run -> /run, the denied /run/docker.sock (a stand-in file), a hard
# link to it, an allowed neighbour, and mount points under /tmp.
mnt_fixture() {
    mkdir -p /var /tmp/d /tmp/d2 /tmp/d3
    [ -L /var/run ] || { rm -rf /var/run && ln -s /run /var/run; } || fail "mnt_fixture: /var/run"
    if ! { echo secret >/run/docker.sock && ln -f /run/docker.sock /run/hardlink.sock &&
        echo other >/run/other && touch /tmp/t /tmp/t2; }; then
        fail "mnt_fixture: files"
    fi
}
# ---- end mount module helpers
# ---- checks that go on after a failure: every check is tried, the problems listed at the end
BAD=""
# problem TEXT: note a failed check and go on.
problem() {
    BAD="$BAD
  $*"
    echo "PROBLEM: $*"
}

# end_problems WHAT: fail with every problem noted under WHAT, if any.
end_problems() { [ -z "$BAD" ] || fail "$1:$BAD"; }

# file_refused CMD PATTERN...: `exec CMD` (one string, split into words) fails with EPERM,
# and a new BLOCKED file record with every PATTERN comes from its pid (echoed, in $REC);
# each miss is a problem. $SH_PID is its pid.
file_refused() {
    cmd=$1
    shift
    mark_records
    run_sh "exec $cmd"
    case $OUT in
        *"Operation not permitted"*) say "refused: $cmd" ;;
        *) problem "$cmd: no EPERM (status $RC): $OUT" ;;
    esac
    if find_new_record '"module":"file"' '"action":"BLOCKED"' "\"pid\":$SH_PID" "$@"; then
        echo "$REC"
    else
        REC=""
        problem "no BLOCKED record with $* from: $cmd"
    fi
}
