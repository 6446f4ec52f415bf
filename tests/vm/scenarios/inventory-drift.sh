# boots: all
# kernels: 6.1
# inventory-drift: the agent's [inventory] module (no BPF, so every boot runs it): an
# `inventory` record after the start record, then, between two collections 5 s apart,
# one `drift` record per change judged by the finding it raises: a set-id file nothing
# vouches for (medium: no package database here), a listener on all addresses run from
# /tmp (medium, listener-outside-system), a root cron job whose program others may
# replace (high, cron-writable-program); their removal is INFO and says what it resolved.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[inventory]
interval = "5s"
EOF

# Collections run at low priority and take a few seconds under TCG.
WAIT_SECS=90
cleanup() { rm -f /etc/cron.d/sg-drift; }
trap cleanup EXIT

start_agent /tmp/sg.toml
wait_for_record '"module":"inventory"' '"op":"inventory"' '"baseline":true'
rec_has '"level":"INFO"' '"assets":{"users":' '"findings":{"critical":' '"duration_ms":'
first=$(grep -n '"module":"agent","op":"start"' "$SG_LOG" | head -n 1 | cut -d: -f1)
inv=$(grep -n '"op":"inventory"' "$SG_LOG" | head -n 1 | cut -d: -f1)
[ "$first" -lt "$inv" ] || fail "the inventory record (line $inv) came before the start record (line $first)"

say "plant: a setuid file, a listener run from /tmp, a root cron job running a program in /tmp"
mkdir -p /opt
cp /bin/busybox /opt/sg-suid
chmod 4755 /opt/sg-suid
cp "$NETTOOL" /tmp/sg-listen
/tmp/sg-listen serve 0.0.0.0:4444 >/tmp/listen.log 2>&1 &
listener=$!
mkdir -p /etc/cron.d
echo '* * * * * root /tmp/sg-job.sh' >/etc/cron.d/sg-drift

wait_for_record '"op":"drift"' '"asset":"setid_files"' '"change":"added"' '"item":"/opt/sg-suid"'
rec_has '"level":"WARNING"' '"after":"4755 (no package)"' '"severity":"medium"'
wait_for_record '"op":"drift"' '"asset":"listeners"' '"change":"added"' '"item":"tcp 0.0.0.0:4444 /tmp/sg-listen"'
rec_has '"level":"WARNING"' '"severity":"medium"' '"finding":"listener-outside-system"'
wait_for_record '"op":"drift"' '"asset":"cron"' '"change":"added"' '"item":"/etc/cron.d/sg-drift root /tmp/sg-job.sh"'
rec_has '"level":"WARNING"' '"severity":"high"' '"finding":"cron-writable-program"'
# Every summary after the first counts the drift records of its round.
wait_for_record '"op":"inventory"' '"drift":'

say "remove them again"
rm -f /opt/sg-suid /etc/cron.d/sg-drift
kill "$listener"
wait "$listener" 2>/dev/null
wait_for_record '"op":"drift"' '"asset":"setid_files"' '"change":"removed"' '"item":"/opt/sg-suid"'
rec_has '"level":"INFO"'
wait_for_record '"op":"drift"' '"asset":"listeners"' '"change":"removed"' '"item":"tcp 0.0.0.0:4444 /tmp/sg-listen"'
rec_has '"level":"INFO"' '"resolved":["listener-outside-system"]'
wait_for_record '"op":"drift"' '"asset":"cron"' '"change":"removed"'
rec_has '"level":"INFO"' '"resolved":["cron-writable-program"]'
assert_no_record '"op":"drift"' '"change":"removed"' '"severity":'
stop_agent
