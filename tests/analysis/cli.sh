#!/bin/bash
# The `bash -c '...' "$file"` checks expand their arguments inside, on purpose.
# shellcheck disable=SC2016
# Command-line checks of `safeguard events`, `report` and `generate` that unit tests
# cannot make: standard input, gzip files made by gzip(1), /dev/zero with bounded
# memory, exit statuses and what is (not) printed before an error.
#
# Environment: SAFEGUARD=the binary (default: cargo build --release).
# Prints one line per check and last "cli: N passed, M failed"; exits non-zero on a failure.
set -uo pipefail
# Dates in the checks are whole days of the fixture: read them as UTC days.
export TZ=UTC

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SAFEGUARD:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --quiet) || exit 1
    bin=${CARGO_TARGET_DIR:-$root/target}/release/safeguard
fi
fixtures=$root/tests/fixtures/analysis
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # check NAME COMMAND...: the command succeeds
    local name=$1
    shift
    if "$@"; then
        echo "PASS cli $name"
        passed=$((passed + 1))
    else
        echo "FAIL cli $name"
        failed=$((failed + 1))
    fi
}
sg() { "$bin" "$@"; }

json=$fixtures/scenario-json/safeguard.log
all=$(sg events "$json" --count 2>/dev/null)

# `-` is standard input; the live file alone (no rotated files) through a pipe.
live=$(sg events "$json.1" --count 2>/dev/null)
check "stdin" test "$(sg events - --count <"$json.1" 2>/dev/null)" = "$live"

# logrotate's compress and dateext: the set reads the same compressed.
mkdir "$work/gz"
cp "$json" "$work/gz/safeguard.log"
gzip -c "$json.1" >"$work/gz/safeguard.log.1.gz"
gzip -c "$json.2" >"$work/gz/safeguard.log-20261119.gz"
check "gzip and dateext" test "$(sg events "$work/gz/safeguard.log" --count 2>/dev/null)" = "$all"
check "gzip merged with plain" test "$(sg events "$work/gz/safeguard.log.1.gz" "$json.2" --count 2>/dev/null)" = \
    "$(sg events "$json.1" "$json.2" --count 2>/dev/null)"

# /dev/zero is one endless line: reported at once, skipped in bounded memory (200 MB
# of address space), stopped only by the timeout (124), never an abort.
zero() { (ulimit -v 200000 && timeout 3 "$bin" events /dev/zero) >/dev/null 2>"$work/zero.err"; echo $?; }
check "/dev/zero runs until stopped" test "$(zero)" = 124
check "/dev/zero reports the long line" grep -q '^safeguard: /dev/zero:1: skipped a line longer than 1 MiB' "$work/zero.err"

# A missing log is an error before any output.
report_missing() { sg report "$work/missing.log" >"$work/out" 2>"$work/err"; echo $?; }
check "report: missing log exits 1" test "$(report_missing)" = 1
check "report: missing log prints nothing" test ! -s "$work/out"
check "report: missing log named" grep -q "missing.log" "$work/err"
check "generate: missing log exits 1" bash -c '! "$0" generate "$1" >/dev/null 2>&1' "$bin" "$work/missing.log"

# --since after --until is bad usage (2), not an empty result.
sg events "$json" --since 2026-11-21 --until 2026-11-20 >/dev/null 2>"$work/err"
check "since after until exits 2" test $? = 2
check "since after until says so" grep -q "is after --until" "$work/err"
# A date as --until lasts through its end: every record of the fixture (2026-11-20).
check "until a date covers the day" test "$(sg events "$json" --until 2026-11-20 --count 2>/dev/null)" = "$all"
check "since after the end" test "$(sg events "$json" --since 2026-11-21 --count 2>/dev/null)" = "0 records, 0 events"
check "case-blind module" test "$(sg events "$json" --module NETWORK --count 2>/dev/null)" = \
    "$(sg events "$json" --module network --count 2>/dev/null)"

# report: --html - writes only the page; the text fits 100 columns; cut lists say so.
sg report "$json" --html - >"$work/page.html" 2>/dev/null
check "report --html -" bash -c 'head -c 15 "$0" | grep "<!DOCTYPE html>" >/dev/null && ! grep -q "^Busiest" "$0"' "$work/page.html"
sg report "$json" --top 2 >"$work/report.txt" 2>/dev/null
check "report fits 100 columns" bash -c 'export LC_ALL=C.UTF-8; while IFS= read -r l; do [ ${#l} -le 100 ] || exit 1; done <"$0"' "$work/report.txt"
check "report says and M more" grep -qE '^  and [0-9,]+ more \(--top 0 lists all\)$' "$work/report.txt"
sg report "$json" --top 0 >"$work/report-all.txt" 2>/dev/null
check "report --top 0 lists all" bash -c '! grep -q " more (--top 0" "$0" && [ "$(wc -l <"$0")" -gt "$(wc -l <"$1")" ]' \
    "$work/report-all.txt" "$work/report.txt"

# The detect module's records: `events --module detect` and the report's Intrusions
# section (text and JSON lines mixed, as after a format switch).
cat >"$work/detect.log" <<'LOG'
{"time":"2027-01-15T08:00:00.000000Z","level":"INFO","level_no":20,"module":"agent","op":"start","modules":{"file":"enforcing","detect":"enforcing"}}
{"time":"2027-01-15T08:00:10.000000Z","level":"CRITICAL","level_no":50,"module":"detect","op":"reverse_shell","action":"KILLED","hostname":"web1","pid":200,"ppid":150,"uid":33,"comm":"bash","exe":"/usr/bin/bash","container":false,"technique":"T1059.004","severity":"critical","parent_exe":"/usr/bin/python3.11","grandparent_exe":"/usr/sbin/nginx","path":"/usr/bin/bash","fd":0,"peer_addr":"10.0.0.9","peer_port":4444}
{"time":"2027-01-15T08:00:11.000000Z","level":"WARNING","level_no":30,"module":"file","op":"read","action":"BLOCKED","rule":"/srv","hostname":"web1","pid":201,"uid":33,"comm":"cat","exe":"/usr/bin/cat","path":"/srv/x"}
time=2027-01-15T08:00:12.000000Z level=WARNING level_no=30 module=detect op=credential_access action=ALERT hostname=web1 pid=201 ppid=150 uid=33 comm=cat exe=/usr/bin/cat container=false technique=T1003.008 severity=high parent_exe=/usr/bin/python3.11 grandparent_exe=/usr/sbin/nginx path="/etc/sha\xffdow\n" access=read
{"time":"2027-01-15T08:00:13.000000Z","level":"WARNING","level_no":30,"module":"detect","op":"module_load","action":"BLOCKED","hostname":"db1","pid":300,"ppid":299,"uid":0,"comm":"insmod","exe":"/usr/bin/kmod","container":false,"technique":"T1547.006","severity":"high","parent_exe":"/usr/bin/bash","grandparent_exe":"/usr/sbin/sshd","path":"/tmp/m.ko"}
{"time":"2027-01-15T08:00:20.000000Z","level":"INFO","level_no":20,"module":"agent","op":"stats","detections":{"low":0,"medium":0,"high":2,"critical":1}}
LOG
check "events --module detect" test "$(sg events "$work/detect.log" --module detect --count 2>/dev/null)" = "3 records, 3 events"
check "events --module detect --action killed" \
    test "$(sg events "$work/detect.log" --module detect --action killed --count 2>/dev/null)" = "1 records, 1 events"
sg events "$work/detect.log" --module detect >"$work/detect.txt" 2>/dev/null
check "events: a detection's evidence and technique" grep -qE 'credential_access +ALERT .*path=/etc/sha\\xffdow\\x0a access=read +T1003.008 high$' "$work/detect.txt"
sg report "$work/detect.log" >"$work/detect-report.txt" 2>/dev/null
check "report opens with the intrusions" bash -c 'sed -n 4p "$0" | grep "^Intrusions (3 detections: 1 critical, 2 high" >/dev/null' "$work/detect-report.txt"
check "report: web1 compromised" grep -qE '^  COMPROMISED +web1: 2 detections$' "$work/detect-report.txt"
check "report: db1 suspicious" grep -qE '^  SUSPICIOUS +db1: 1 detection$' "$work/detect-report.txt"
sg report "$work/detect.log" --html - >"$work/detect.html" 2>/dev/null
check "report --html: intrusions, escaped" bash -c 'grep "<h2>Intrusions</h2>" "$0" >/dev/null && grep -F "path=/etc/sha\\xffdow\\x0a access=read" "$0" >/dev/null' "$work/detect.html"
check "report without detections: one line" bash -c 'grep -c "^Intrusions" "$0" | grep "^1$" >/dev/null && grep "^Intrusions: no detection record: the detect module was off" "$0" >/dev/null' "$work/report.txt"

# generate: an empty log proposes nothing, and says so.
: >"$work/empty.log"
sg generate "$work/empty.log" >"$work/out" 2>"$work/err"
check "generate: empty log exits 1" test $? = 1
check "generate: empty log says so" grep -q "nothing to propose" "$work/err"
check "generate: empty log prints no proposal" test ! -s "$work/out"

echo "cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
