# boots: lsm
# kernels: none
# analysis-generate: the monitor -> generate -> block workflow of `safeguard generate`
# (docs/analysis.md) on real records of the agent, and `events` / `report` on the same log.
#
# 1. Monitor mode, every module, logging what it sees: process exec records, file
#    audit = ["/"] with allow = [] (the default allow = ["/"] would outrank an audit rule
#    of the same path: at equal length allow beats audit), network with a non-default allow list (monitor mode writes a network
#    record only for what block mode would deny, so the destinations must lie outside it).
#    A workload runs an executable, reads and writes files under /srv/data, connects to
#    $NET_B, and runs /opt/app/bad, which a deny rule covers (MONITOR, still runs).
# 2. `events` filters and `report` give the concrete records and counts of that workload.
# 3. `generate` proposes a config; `check` accepts it; it lists the workload and not
#    what was never seen, nor what a rule denied.
# 4. Block mode on that proposal: the same workload runs; an executable, a file tree and
#    a destination that were never seen (and /opt/app/bad) are refused with EPERM and
#    BLOCKED records; nothing else is blocked.
# Paths are outside the proposal's safety margins (/usr, /bin, /tmp, /var, ...: see
# PROCESS_MARGINS and FILE_MARGINS in src/analysis/generate.rs), which allow everything.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

net_setup
net_serve 0.0.0.0:8080
rm -rf /srv/data /srv/other
mkdir -p /srv/data /srv/other
copy_busybox /opt/app/tool    # run in the workload
copy_busybox /opt/app/bad     # run in the workload, denied by a rule of the monitor run
copy_busybox /opt/app/unseen  # never run before block mode
echo input >/srv/data/in.txt
echo old >/srv/other/old.txt

# workload: what the monitor run sees, and what block mode must let through again.
# Sets WL_PID (the shell that became /opt/app/tool) and NET_PID (the connecting tool).
workload() {
    run_sh 'exec -a cat /opt/app/tool /srv/data/in.txt'
    [ "$RC" = 0 ] && [ "$(echo "$OUT" | tail -n 1)" = input ] ||
        fail "/opt/app/tool (as cat) /srv/data/in.txt: status $RC, output: $OUT"
    WL_PID=$SH_PID
    expect_ok /bin/sh -c 'echo out >/srv/data/out.txt'
    expect_read /srv/data/out.txt out
    net_ok connect "$NET_B:8080"
    NET_PID=$SH_PID
}

cat >/tmp/mon.toml <<'EOF'
[log]
format = "json"
output = "/tmp/mon.log"
[process]
mode = "monitor"
ops = ["exec"]
deny = ["/opt/app/bad"]
[file]
mode = "monitor"
allow = []
audit = ["/"]
[network]
mode = "monitor"
ops = ["connect"]
cidr = { allow = ["127.0.0.0/8"] }
EOF

say "1. monitor mode"
start_agent /tmp/mon.toml
rec_has_start() {
    wait_for_record '"module":"agent"' '"op":"start"'
    rec_has "\"process\":\"$1\"" "\"file\":\"$1\"" "\"network\":\"$1\""
}
rec_has_start audit-only
workload
run_sh 'exec -a true /opt/app/bad'
[ "$RC" = 0 ] || fail "/opt/app/bad runs in monitor mode: status $RC, output: $OUT"
BAD_PID=$SH_PID
stop_agent
wait_for_record '"module":"process"' '"op":"exec"' '"action":"MONITOR"' "\"pid\":$BAD_PID"
rec_has '"rule":"/opt/app/bad"' '"filename":"/opt/app/bad"'
wait_for_record '"module":"file"' '"op":"read"' '"action":"ALLOWED"' "\"pid\":$WL_PID" '"path":"/srv/data/in.txt"'
wait_for_record '"module":"file"' '"action":"ALLOWED"' '"path":"/srv/data/out.txt"'
wait_for_record '"module":"network"' '"op":"connect"' '"action":"MONITOR"' "\"pid\":$NET_PID"
rec_has "\"dst_addr\":\"$NET_B\"" '"dst_port":8080' '"rule":"not in network.cidr.allow"'
assert_no_record '"action":"BLOCKED"'
assert_no_record '/opt/app/unseen'
assert_no_record '/srv/other'

say "2. events filters on the monitor log"
# problem TEXT (tests/lib.sh): note a failed check; all are reported together at the
# end of each part.
# lines_of CMD...: run an `events` command; its stdout lines go to /tmp/ev.out, $N counts
# them. A command that fails is a problem.
lines_of() {
    "$@" >/tmp/ev.out 2>/tmp/ev.err || problem "$* failed: $(cat /tmp/ev.err)"
    N=$(wc -l </tmp/ev.out)
}
# every PATTERN...: every line of /tmp/ev.out has all the patterns.
every() {
    n=$(match "$@" </tmp/ev.out | wc -l)
    [ "$n" = "$N" ] || problem "$((N - n)) of $N lines lack one of: $*"
}
# some PATTERN...: one line of /tmp/ev.out has all the patterns.
some() { [ -n "$(match "$@" </tmp/ev.out)" ] || problem "no line with all of: $*"; }

lines_of "$SG" events /tmp/mon.log --module network --json
[ "$N" = 1 ] || problem "events --module network: $N records, want 1 (the connect)"
every '"module":"network"' '"op":"connect"' "\"pid\":$NET_PID" "\"dst_addr\":\"$NET_B\"" '"dst_port":8080'

lines_of "$SG" events /tmp/mon.log --action MONITOR --json
[ "$N" = 2 ] || problem "events --action MONITOR: $N records, want 2 (/opt/app/bad, the connect)"
every '"action":"MONITOR"'
some '"module":"process"' "\"pid\":$BAD_PID" '"rule":"/opt/app/bad"'
some '"module":"network"' "\"pid\":$NET_PID"

# DENIED is MONITOR and BLOCKED; with a module filter it leaves the process denial only.
lines_of "$SG" events /tmp/mon.log --action denied --module process --json
[ "$N" = 1 ] || problem "events --action denied --module process: $N records, want 1"
every '"module":"process"' '"filename":"/opt/app/bad"'

# --pid against an independent count: the lines of the log whose subject is that pid.
want=$(count_records "\"pid\":$WL_PID")
lines_of "$SG" events /tmp/mon.log --pid "$WL_PID" --json
[ "$N" = "$want" ] && [ "$N" -ge 3 ] || problem "events --pid $WL_PID: $N records, want $want (at least 3)"
every "\"pid\":$WL_PID"
some '"module":"process"' '"op":"exec"' '"filename":"/opt/app/tool"'
some '"module":"file"' '"op":"exec"' '"path":"/opt/app/tool"'
some '"module":"file"' '"op":"read"' '"path":"/srv/data/in.txt"' '"exe":"/opt/app/tool"'

lines_of "$SG" events /tmp/mon.log --pid "$WL_PID" --module file --action ALLOWED --json
want=$(records "\"pid\":$WL_PID" '"module":"file"' '"action":"ALLOWED"' | wc -l)
[ "$N" = "$want" ] && [ "$N" -ge 2 ] || problem "events --pid --module file --action ALLOWED: $N records, want $want (at least 2)"
every '"module":"file"' '"action":"ALLOWED"' "\"pid\":$WL_PID"

# The table: one header, one row for the denied exec, its object and rule in it.
lines_of "$SG" events /tmp/mon.log --module process --action MONITOR
[ "$N" = 2 ] || problem "events table --module process --action MONITOR: $N lines, want header + 1"
row=$(tail -n 1 /tmp/ev.out)
for word in WARNING process exec MONITOR "$BAD_PID" /opt/app/bad; do
    case " $row " in *" $word "*) ;; *) problem "the table row lacks '$word': $row" ;; esac
done
end_problems events

say "2b. report on the monitor log"
"$SG" report /tmp/mon.log >/tmp/report.txt 2>/tmp/report.err || fail "report failed: $(cat /tmp/report.err)"
cat /tmp/report.txt
# row SECTION NAME VALUES...: the line of SECTION (from its heading to the next blank
# line) whose first column is NAME has exactly VALUES in the next columns.
row() {
    heading=$1 name=$2
    shift 2
    got=$(awk -v h="$heading" -v n="$name" '
        $0 == h { on = 1; next }
        on && /^$/ { exit }
        on && $1 == n { $1 = ""; sub(/^ /, ""); print; exit }' /tmp/report.txt)
    [ "$got" = "$*" ] || problem "report, $heading: $name: '$got', want '$*'"
}
row "Denials by rule" /opt/app/bad 1
row "Denials by rule" "not" in network.cidr.allow 1
# The report prints counts with thousands separators (12,345).
th() { echo "$1" | awk '{ s = $0; r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'; }
row "Denials by process" /opt/app/bad 1 "$(th "$(count_records '"exe":"/opt/app/bad"')")"
row "Busiest processes" /opt/app/tool "$(th "$(count_records '"exe":"/opt/app/tool"')")" 0
row "Busiest files" /srv/data/in.txt "$(th "$(count_records '"module":"file"' '"path":"/srv/data/in.txt"')")" 0
row "Busiest destinations" "$NET_B:8080" 1 1
events_total=$(th "$(grep -vc '"module":"agent"' /tmp/mon.log)")
grep -Eq "^  events +$events_total( |\$)" /tmp/report.txt || problem "report: events total is not $events_total"
grep -Eq '^  denials +2 ' /tmp/report.txt || problem "report: denials total is not 2"
end_problems report

say "2c. report --html on the monitor log"
"$SG" report /tmp/mon.log --html /tmp/report.html >/dev/null 2>/tmp/report.err || fail "report --html failed: $(cat /tmp/report.err)"
grep -qF '<title>/opt/app/bad: ' /tmp/report.html || problem "html: no chart bar for /opt/app/bad"
grep -qF "<div class=\"value\">$events_total</div><div class=\"label\">events</div>" /tmp/report.html ||
    problem "html: the events card is not $events_total"
! grep -qiE '<script|<link|@import|src="http|href="http' /tmp/report.html || problem "html: not self-contained"
end_problems "report --html"

say "3. generate and check"
"$SG" generate /tmp/mon.log -o /tmp/gen.toml 2>/tmp/gen.err || fail "generate failed: $(cat /tmp/gen.err)"
cat /tmp/gen.toml
# entry LIST VALUE: VALUE is a proposed entry of the list starting at the line LIST.
entry() {
    awk -v l="$1" -v v="\"$2\"," '
        $0 == l { on = 1; next }
        on && /^\]/ { exit }
        on && $1 == v { found = 1 }
        END { exit !found }' /tmp/gen.toml
}
entry "[process]" /opt/app/tool || problem "process.allow lacks /opt/app/tool"
entry "[file]" /srv/data/ || problem "file.allow lacks /srv/data/"
entry "[file]" /opt/app/ || problem "file.allow lacks /opt/app/ (the executable's directory)"
entry "[network.cidr]" "$NET_B/32" || problem "network.cidr.allow lacks $NET_B/32"
for never in /opt/app/bad /opt/app/unseen /srv/other/ /srv/ /opt/ /; do
    ! entry "[process]" "$never" && ! entry "[file]" "$never" || problem "$never is proposed"
done
! entry "[network.cidr]" "$NET_A/32" || problem "$NET_A/32 is proposed"
# busybox sh runs applets as /proc/self/exe: a magic link, never a rule.
! grep -q '/proc/self/exe' /tmp/gen.toml || problem "/proc/self/exe is proposed"
grep -q '^#   /opt/app/bad  (.*; denied by /opt/app/bad)$' /tmp/gen.toml ||
    problem "the denied executable is not listed as not proposed"
end_problems generate
expect_ok "$SG" check -c /tmp/gen.toml
say "check accepts the proposal"

say "4. block mode on the proposal"
{
    printf '[log]\nformat = "json"\noutput = "/tmp/blk.log"\n'
    sed 's/^mode = "monitor"/mode = "block"/' /tmp/gen.toml
} >/tmp/blk.toml
[ "$(grep -c '^mode = "block"' /tmp/blk.toml)" = 3 ] || fail "the proposal has not three module modes to switch"
expect_ok "$SG" check -c /tmp/blk.toml
start_agent /tmp/blk.toml
rec_has_start enforcing
say "the observed workload still runs"
workload
WAIT_SECS=10
say "what was never observed is refused"
expect_eperm_sh 'exec /opt/app/unseen true'
wait_for_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/app/unseen"' '"rule":"not in process.allow"'
expect_eperm_sh 'exec /opt/app/bad true'
wait_for_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"filename":"/opt/app/bad"' '"rule":"not in process.allow"'
expect_eperm_file_sh 'echo x >/srv/other/new.txt'
wait_for_record '"module":"file"' '"action":"BLOCKED"' '"path":"/srv/other/new.txt"'
rec_has '"rule":"not in file.allow"'
[ ! -e /srv/other/new.txt ] || fail "/srv/other/new.txt was created"
expect_eperm_file cat /srv/other/old.txt
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' '"path":"/srv/other/old.txt"'
rec_has '"rule":"not in file.allow"'
net_eperm connect "$NET_A:8080"
wait_for_record '"module":"network"' '"op":"connect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"dst_addr\":\"$NET_A\"" '"rule":"not in network.cidr.allow"'
stop_agent
others=$(records '"action":"BLOCKED"' | grep -v -e '/opt/app/unseen' -e '/opt/app/bad' -e '"path":"/srv/other/' -e "\"dst_addr\":\"$NET_A\"")
[ -z "$others" ] || fail "BLOCKED records for what the workload does:
$others"
say "only the unobserved operations were blocked"
rm -rf /srv/data /srv/other
