#!/usr/bin/env bash
# The examples of docs/outputs.md, run on this host against the real programs: the
# Prometheus config and alert rules (promtool check, promtool test rules), a journald and
# an rsyslog collector fed by a running agent (journalctl filters, RFC 5424 over UDP and
# TCP, the JSON lines written), killing rsyslog (the log loses nothing, the losses are
# counted), `promtool check metrics` on the live endpoint and textfile.
# The host cannot enforce (BPF LSM refused): the agent runs degraded, the process module
# audit-only through tracepoints, which is enough records for the outputs.
# Everything runs in a private mount namespace (journald's socket, /run/safeguard and the
# collectors' files are tmpfs there): nothing of the host's is touched.
# Usage: tests/outputs/examples.sh BIN. Needs root, promtool (Debian: prometheus),
# rsyslogd (rsyslog), systemd-journald and journalctl. Ends with "outputs: N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
docs=$here/../../docs
BIN=$(realpath "${1:?usage: examples.sh BIN}")

if [ "${SG_OUTPUTS_NS:-}" != 1 ]; then
    missing=
    for tool in promtool:prometheus rsyslogd:rsyslog journalctl:systemd; do
        command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
    done
    if [ "$(id -u)" != 0 ] || [ -n "$missing" ]; then
        echo "SKIP outputs: needs root and:${missing:- (all present)}"
        echo "outputs: 0 passed, 0 failed"
        exit 0
    fi
    mkdir -p /run/systemd/journal /run/log /run/safeguard
    SG_OUTPUTS_NS=1 exec unshare -m "$0" "$@"
fi

passed=0
failed=0
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        echo "PASS outputs $name"
        passed=$((passed + 1))
    else
        echo "FAIL outputs $name"
        printf '%s\n' "$out" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}
fail() {
    echo "$*"
    exit 1
}

mount --make-rprivate /
work=$(mktemp -d /tmp/sg-outputs.XXXXXX)
mount -t tmpfs tmpfs /run/systemd/journal
mount -t tmpfs tmpfs /run/log
mount -t tmpfs tmpfs /run/safeguard
agent_pid='' journald_pid='' rsyslog_pid=''
cleanup() {
    for pid in $agent_pid $rsyslog_pid $journald_pid; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# Every example file appears verbatim in docs/outputs.md.
in_docs() {
    local file
    for file in prometheus.yml safeguard-alerts.yml rsyslog-collector.conf rsyslog-forward.conf; do
        grep -qF -- "$(head -n 3 "$docs/examples/$file")" "$docs/outputs.md" || fail "$file is not in docs/outputs.md"
        # the whole file, as one block
        awk -v f="$docs/examples/$file" 'BEGIN { while ((getline l < f) > 0) want = want l "\n" } { doc = doc $0 "\n" } END { exit index(doc, want) ? 0 : 1 }' \
            "$docs/outputs.md" || fail "docs/outputs.md shows another $file than docs/examples/$file"
    done
}
check docs-examples in_docs

prometheus_config() {
    cp "$docs/examples/prometheus.yml" "$docs/examples/safeguard-alerts.yml" "$here/alerts-test.yml" "$work/"
    (cd "$work" && promtool check config prometheus.yml && promtool check rules safeguard-alerts.yml &&
        promtool test rules alerts-test.yml)
}
check prometheus-config-and-alerts prometheus_config

# --- collectors: journald and rsyslog (the docs' collector config, ports and paths moved)
/lib/systemd/systemd-journald >"$work/journald.out" 2>&1 &
journald_pid=$!
mkdir -p "$work/fleet"
sed -e 's/port="5514"/port="15514"/' -e "s|/var/log/safeguard-fleet|$work/fleet|" \
    "$docs/examples/rsyslog-collector.conf" >"$work/rsyslog.conf"
start_rsyslog() {
    rsyslogd -n -i "$work/rsyslog.pid" -f "$work/rsyslog.conf" >>"$work/rsyslog.out" 2>&1 &
    rsyslog_pid=$!
}
start_rsyslog
for _ in $(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done

cat >"$work/sg.toml" <<EOF
[log]
output = "$work/sg.log"
stats_interval = "1s"
[process]
ops = ["exec"]
[output]
journald = true
syslog = "tcp:127.0.0.1:15514"
metrics = "127.0.0.1:19464"
EOF
"$BIN" run -c "$work/sg.toml" >"$work/agent.out" 2>"$work/agent.err" &
agent_pid=$!
for _ in $(seq 300); do grep -q '"op":"start"' "$work/sg.log" 2>/dev/null && break; sleep 0.2; done
grep -q '"op":"start"' "$work/sg.log" 2>/dev/null || { cat "$work/agent.err"; echo "outputs: 0 passed, 1 failed"; exit 1; }

# A workload: execs with a recognisable argument.
workload() { for i in $(seq "$2"); do /bin/true "$1-$i"; done; }
workload sg-first 5

# wait_for SECONDS CMD...
wait_for() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

journal_fields() {
    local json
    wait_for 10 journalctl -t safeguard SAFEGUARD_MODULE=process SAFEGUARD_OP=exec --no-pager -q -g sg-first-5 ||
        fail "no exec record in the journal"
    # The docs' filter: exec records of one module, as JSON.
    json=$(journalctl -t safeguard SAFEGUARD_MODULE=process SAFEGUARD_OP=exec -o json --no-pager |
        grep -F 'sg-first-5' | head -n 1)
    for field in '"PRIORITY":"6"' '"SAFEGUARD_COMM":"true"' '"SAFEGUARD_HOST":' '"SAFEGUARD_MACHINE_ID":' \
        '"SAFEGUARD_ARGV":"[\"/bin/true\",\"sg-first-5\"]"' '"SAFEGUARD_LEVEL":"INFO"'; do
        case $json in *"$field"*) ;; *) fail "journal record lacks $field: $json" ;; esac
    done
    journalctl -t safeguard -p warning..emerg SAFEGUARD_MODULE=process --no-pager -q -g sg-first && fail "-p warning shows INFO records"
    journalctl -t safeguard -o json --output-fields=SAFEGUARD_PID,SAFEGUARD_EXE --no-pager -n 1 | grep SAFEGUARD_EXE >/dev/null ||
        fail "--output-fields"
    return 0
}
check journald-fields journal_fields

fleet_json() {
    wait_for 10 grep -q 'sg-first-5' "$work"/fleet/*.log || fail "rsyslog wrote no record: $(cat "$work/rsyslog.out")"
    local line
    line=$(grep -h 'sg-first-5' "$work"/fleet/*.log | head -n 1)
    printf '%s\n' "$line" | python3 -c 'import json, sys; r = json.loads(sys.stdin.read()); assert r["module"] == "process" and r["host"], r' ||
        fail "not a JSON record: $line"
}
check rsyslog-tcp-json fleet_json

metrics_live() {
    local text
    text=$(curl -sf http://127.0.0.1:19464/metrics) || fail "GET /metrics"
    printf '%s\n' "$text" | promtool check metrics || fail "promtool check metrics"
    printf '%s\n' "$text" | grep '^safeguard_events_total{module="process",op="exec",action=""} [1-9]' >/dev/null ||
        fail "no exec count: $(printf '%s\n' "$text" | grep events_total)"
    printf '%s\n' "$text" | grep '^safeguard_output_records_total{output="syslog"} [1-9]' >/dev/null || fail "syslog records not counted"
}
check metrics-promtool metrics_live

# UDP after a reload.
sed -i 's|^syslog = .*|syslog = "udp:127.0.0.1:15514"|' "$work/sg.toml"
sleep 1
kill -HUP "$agent_pid"
udp_after_reload() {
    wait_for 10 grep -q '"op":"reload".*"changed":\["output"\]' "$work/sg.log" || fail "no reload record"
    workload sg-udp 3
    wait_for 10 grep -q 'sg-udp-3' "$work"/fleet/*.log || fail "no record over UDP"
}
check rsyslog-udp-after-reload udp_after_reload

# Kill the collector: records go on to the log; the syslog losses are counted (UDP:
# refused datagrams; over TCP records would wait in the output's queue for the
# collector to come back, and count as lost only past 4,096 or at exit).
# (What changes the processes runs here, in this shell; the checks in subshells.)
kill -9 "$rsyslog_pid"
wait "$rsyslog_pid" 2>/dev/null
rsyslog_pid=''
workload sg-during 30
kill_rsyslog() {
    wait_for 10 grep -q 'sg-during-30' "$work/sg.log" || fail "the log missed records while rsyslog was down"
    [ "$(grep -c '"sg-during-' "$work/sg.log")" -ge 30 ] || fail "records lost from the log"
    wait_for 15 sh -c "'$BIN' status --json | python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if s[\"outputs\"][\"syslog\"][\"lost\"] > 0 else 1)'" ||
        fail "syslog losses not counted: $("$BIN" status)"
    wait_for 5 grep -q '"totals":{[^}]*"lost_outputs":{"journald":0,"syslog":[1-9]' "$work/sg.log" ||
        fail "no stats record with the syslog losses (and none of journald's): $(grep '"op":"stats"' "$work/sg.log" | tail -n 1)"
}
check rsyslog-killed-counted kill_rsyslog

prom=$work/textfile/safeguard.prom
mkdir -p "$work/textfile"
sed -i "s|^metrics = .*|metrics = \"$prom\"|" "$work/sg.toml"
sleep 1
kill -HUP "$agent_pid"
textfile() {
    wait_for 10 test -s "$prom" || fail "no textfile"
    promtool check metrics <"$prom" || fail "promtool check metrics (textfile)"
    ! curl -sf http://127.0.0.1:19464/metrics >/dev/null || fail "the old endpoint still answers"
}
check metrics-textfile textfile

kill -TERM "$agent_pid"
wait "$agent_pid"
agent_rc=$?
agent_pid=''
stop_agent() {
    [ "$agent_rc" = 0 ] || fail "agent exit status $agent_rc: $(tail -n 5 "$work/agent.err")"
    journalctl -t safeguard SAFEGUARD_MODULE=agent SAFEGUARD_OP=stop -o json --no-pager | grep '"SAFEGUARD_TOTALS":' >/dev/null ||
        fail "no stop record in the journal"
    [ ! -e /run/safeguard/status.sock ] || fail "status socket left behind"
}
check agent-stop stop_agent

echo "outputs: $passed passed, $failed failed"
[ "$failed" = 0 ]
