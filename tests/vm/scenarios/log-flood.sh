# boots: lsm
# kernels: none
# log-flood: one process hammers a denied file. Every attempt gets EPERM (folding is in
# the writer, never in the kernel), the log gets a handful of records instead of one per
# attempt, and their counts add up: the sum of `count` (1 where absent) over the records
# is the number of attempts, less what the stop record reports as lost.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

N=5000
mkdir -p /srv/sg-flood
echo s3cret >/srv/sg-flood/key
deny_read_config /tmp/sg.toml /tmp/sg.log /srv/sg-flood

start_agent /tmp/sg.toml

say "$N denied opens from one shell"
/bin/sh -c "i=0; while [ \$i -lt $N ]; do true </srv/sg-flood/key; i=\$((i + 1)); done" 2>/tmp/flood.err
n=$(grep -c 'Operation not permitted' /tmp/flood.err)
[ "$n" = "$N" ] || fail "$n of $N opens got EPERM: $(head -n 3 /tmp/flood.err)"
say "EPERM $N times"

say "the first is written at once, the repeats come as one record with a count"
wait_for_record '"action":"BLOCKED"' '"path":"/srv/sg-flood/key"' '"count":'
stop_agent

records '"path":"/srv/sg-flood/key"' | sed 's/.*"path"/"path"/'
lines=$(count_records '"path":"/srv/sg-flood/key"')
sum=$(records '"path":"/srv/sg-flood/key"' | awk '
    { n = 1; if (match($0, /"count":[0-9]+/)) n = substr($0, RSTART + 8, RLENGTH - 8); s += n }
    END { print s + 0 }')
lost=$(($(stop_total lost_kernel) + $(stop_total lost_queue) + $(stop_total write_errors)))
say "$lines records stand for $sum attempts; lost $lost"
[ "$lines" -lt 100 ] || fail "$lines records for $N attempts: not folded"
[ "$((sum + lost))" = "$N" ] || fail "the counts add up to $sum (+ $lost lost), want $N"
[ "$(stop_total written)" = "$sum" ] || fail "the stop record says written=$(stop_total written), the file holds $sum"
first=$(records '"path":"/srv/sg-flood/key"' | head -n 1)
case $first in *'"count":'*) fail "the first denial was folded: $first" ;; esac
