# boots: all
# kernels: 6.1
# log-unwritable: a log directory that is missing or cannot take files stops the agent at
# start with exit status 1 (a log path that is a directory: 2, a config error) and one
# error naming the path and the cause; the directory is
# not created and no log file appears. The log is opened before any module is loaded
# (agent::run), so nothing was attached: a denied file stays readable.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

mkdir -p /srv/sg-unwritable
echo s3cret >/srv/sg-unwritable/key

# config FILE OUTPUT: a config that would deny /srv/sg-unwritable, logging to OUTPUT.
config() {
    printf '[log]\nformat = "json"\noutput = "%s"\n[file]\nmode = "block"\nops = ["read"]\ndeny = ["/srv/sg-unwritable"]\n' "$2" >"$1"
}

# expect_start_failure CONFIG WANT...: `safeguard run` exits 1 (STATUS=2: a config error),
# stderr holds every WANT in at most two lines (the degraded-mode notice may precede the
# error on 6.1-nobpf).
expect_start_failure() {
    cfg=$1
    shift
    "$SG" run -c "$cfg" >"$AGENT_OUT" 2>"$AGENT_ERR"
    rc=$?
    say "exit $rc: $(cat "$AGENT_ERR")"
    [ "$rc" = "${STATUS:-1}" ] || fail "exit status $rc, want ${STATUS:-1}"
    for want in "$@"; do
        grep -qF -- "$want" "$AGENT_ERR" || fail "stderr lacks '$want'"
    done
    [ "$(wc -l <"$AGENT_ERR")" -le 2 ] || fail "more than the one error on stderr"
    [ ! -s "$AGENT_OUT" ] || fail "output on stdout: $(cat "$AGENT_OUT")"
}

say "missing directory"
config /tmp/missing.toml /tmp/nope/sg.log
expect_start_failure /tmp/missing.toml "/tmp/nope" "missing" "No such file or directory"
[ ! -e /tmp/nope ] || fail "/tmp/nope was created"

say "read-only directory"
mkdir -p /tmp/ro
mount -t tmpfs -o ro,size=64k tmpfs /tmp/ro || fail "cannot mount a read-only tmpfs"
config /tmp/ro.toml /tmp/ro/sg.log
expect_start_failure /tmp/ro.toml "/tmp/ro" "not writable" "Read-only file system"
[ -z "$(ls -A /tmp/ro)" ] || fail "files appeared in /tmp/ro: $(ls -A /tmp/ro)"
umount /tmp/ro

say "the log path is a directory: a config error (check finds it too)"
mkdir -p /tmp/dir/sg.log
config /tmp/isdir.toml /tmp/dir/sg.log
STATUS=2
expect_start_failure /tmp/isdir.toml "/tmp/isdir.toml:3:10: log.output: /tmp/dir/sg.log is a directory"
STATUS=1

say "nothing stays attached: the denied file is readable"
expect_read /srv/sg-unwritable/key s3cret
