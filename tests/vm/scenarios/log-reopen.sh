# boots: lsm
# kernels: 5.10
# log-reopen: the log file is moved away (logrotate without copytruncate, with and
# without `create`), removed, or truncated in place (copytruncate) while the agent runs.
# The agent reopens the path: new records land in the new file at once and the moved file
# gets no more records; truncation leaves no hole of NUL bytes (O_APPEND); every line of
# every file is a whole record.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /srv/sg-reopen
for name in a b c d e f; do echo "$name" >"/srv/sg-reopen/$name"; done
deny_read_config /tmp/sg.toml /tmp/sg.log /srv/sg-reopen

# deny NAME: reading /srv/sg-reopen/NAME gets EPERM, and its record appears in /tmp/sg.log.
deny() {
    expect_eperm_file cat "/srv/sg-reopen/$1"
    wait_for_record '"action":"BLOCKED"' "\"path\":\"/srv/sg-reopen/$1\""
}

# whole FILE: every line of FILE is one JSON record and the file ends with a newline.
whole() {
    bad=$(grep -vc '^{"time":".*}$' "$1")
    [ "$bad" = 0 ] || fail "$1: $bad lines are not whole records"
    [ "$(grep -c '{"time":.*{"time":' "$1")" = 0 ] || fail "$1: lines that hold two records"
    [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] || fail "$1 ends mid-line"
    [ "$(tr -d '\000' <"$1" | wc -c)" = "$(wc -c <"$1")" ] || fail "$1 holds NUL bytes"
}

start_agent /tmp/sg.toml
deny a

say "moved away, no new file created (logrotate nocreate)"
mv /tmp/sg.log /tmp/sg.log.1
deny b
[ "$(match '"path":"/srv/sg-reopen/b"' </tmp/sg.log.1)" = "" ] || fail "b went to the moved file"

say "moved away, new file created by logrotate (create 0640)"
mv /tmp/sg.log /tmp/sg.log.2
: >/tmp/sg.log
chmod 0640 /tmp/sg.log
ino=$(stat -c %i /tmp/sg.log)
deny c
[ "$(stat -c %i /tmp/sg.log)" = "$ino" ] || fail "the agent replaced the file logrotate created"
[ "$(match '"path":"/srv/sg-reopen/c"' </tmp/sg.log.2)" = "" ] || fail "c went to the moved file"

say "removed"
rm /tmp/sg.log
deny d
[ "$(stat -c %a /tmp/sg.log)" = 640 ] || fail "recreated with mode $(stat -c %a /tmp/sg.log), want 640"

say "truncated in place (copytruncate)"
cp /tmp/sg.log /tmp/sg.log.3
: >/tmp/sg.log
deny e
head -c 8 /tmp/sg.log | grep -q '^{"time"' || fail "the truncated file does not start with a record"

say "the moved files got nothing more"
lines1=$(wc -l </tmp/sg.log.1)
lines2=$(wc -l </tmp/sg.log.2)
deny f
stop_agent
[ "$(wc -l </tmp/sg.log.1)" = "$lines1" ] || fail "sg.log.1 grew after the reopen"
[ "$(wc -l </tmp/sg.log.2)" = "$lines2" ] || fail "sg.log.2 grew after the reopen"
[ "$(match '"path":"/srv/sg-reopen/a"' </tmp/sg.log.1 | wc -l)" = 1 ] || fail "a is not in sg.log.1"
for file in /tmp/sg.log /tmp/sg.log.1 /tmp/sg.log.2 /tmp/sg.log.3; do whole "$file"; done
for name in e f; do
    [ "$(count_records "\"path\":\"/srv/sg-reopen/$name\"")" = 1 ] || fail "$name is not once in sg.log"
done
