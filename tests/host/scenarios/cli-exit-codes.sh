# cli-exit-codes: a bad config exits 2 naming file, line, column and key on every line, and
# attaches nothing; --require-enforcement exits 1 on this kernel (BPF LSM refused); probe
# reports the degraded state and needs root; check prints the effective policy and warns
# about configs that do nothing or select by task name; a closed pipe or a full disk on
# stdout is no panic.
# shellcheck shell=sh source=../../vm/lib.sh
. "$SG_LIB"

printf '[log]\noutput = "%s/sg.log"\n[process]\nmode = "block"\nbogus = 1\n' "$SG_WORK" >"$SG_WORK/bad.toml"
expect_status 2 "$SG" run -c "$SG_WORK/bad.toml"
case $OUT in *"$SG_WORK/bad.toml:5:1: process.bogus"*) ;; *) fail "no position and key in: $OUT" ;; esac
[ ! -e "$SG_WORK/sg.log" ] || fail "a bad config still wrote a log"
expect_status 2 "$SG" check -c "$SG_WORK/bad.toml"

printf '[log]\noutput = "%s/sg.log"\n[process]\nmode = "block"\ndeny = ["/usr/bin/nc"]\n' "$SG_WORK" >"$SG_WORK/good.toml"
expect_status 0 "$SG" check -c "$SG_WORK/good.toml"
case $OUT in *"/usr/bin/nc"*) ;; *) fail "check does not print the policy: $OUT" ;; esac

expect_status 1 "$SG" run --require-enforcement -c "$SG_WORK/good.toml"
case $OUT in *"lsm"*|*"LSM"*) ;; *) fail "no reason given: $OUT" ;; esac
[ ! -s "$SG_WORK/sg.log" ] || fail "--require-enforcement still wrote records"

expect_status 0 "$SG" probe --json
REC=$OUT
rec_has '"bpf_lsm":false' '"effective":"degraded"' '"btf":true'

# Every problem of a bad config on a line of its own, each in the FILE:LINE:COL form.
printf '[log]\nformat = "xml"\nlevel = "LOUD"\n' >"$SG_WORK/two.toml"
expect_status 2 "$SG" check -c "$SG_WORK/two.toml"
n=$(printf '%s\n' "$OUT" | grep -c "^$SG_WORK/two.toml:[0-9]*:[0-9]*: log\.")
[ "$n" = 2 ] || fail "want 2 FILE:LINE:COL lines, got: $OUT"
printf '[log]\nformat = "js\377on"\n' >"$SG_WORK/latin1.toml"
expect_status 2 "$SG" check -c "$SG_WORK/latin1.toml"
case $OUT in "$SG_WORK/latin1.toml:2:13: byte 0xff is not UTF-8"*) ;; *) fail "non-UTF-8 config: $OUT" ;; esac
printf '[log]\noutput = "%s"\n[process]\n' "$SG_WORK" >"$SG_WORK/dir.toml"
expect_status 2 "$SG" check -c "$SG_WORK/dir.toml"
case $OUT in *"dir.toml:2:10: log.output: $SG_WORK is a directory"*) ;; *) fail "output naming a directory: $OUT" ;; esac
: >"$SG_WORK/empty.toml"
expect_status 0 "$SG" check -c "$SG_WORK/empty.toml"
case $OUT in *"warning: no module is enabled"*) ;; *) fail "no warning for a config that enables nothing: $OUT" ;; esac
printf '[file]\ndeny = [{ path = "/etc/shadow", command = ["vim"] }]\n' >"$SG_WORK/comm.toml"
expect_status 0 "$SG" check -c "$SG_WORK/comm.toml"
case $OUT in *"warning: file.deny: "*"selects by task name \"vim\""*) ;; *) fail "no warning for a deny by comm: $OUT" ;; esac

# A reader that went away (a pipe whose read end is closed: EPIPE) ends quietly with 0; a
# full disk is one line and status 1; never a panic (101).
closed_pipe_status() {
    python3 -c 'import os, subprocess, sys
r, w = os.pipe(); os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
sys.stderr.buffer.write(p.stderr); sys.exit(p.returncode)' "$@"
}
for args in "check -c $SG_WORK/good.toml" "probe" "probe --json"; do
    # shellcheck disable=SC2086 # the arguments are words
    run_cmd closed_pipe_status "$SG" $args
    [ "$RC" = 0 ] && [ -z "$OUT" ] || fail "$args into a closed pipe: status $RC: $OUT"
    # shellcheck disable=SC2016,SC2086 # $0 and $@ are the inner shell's
    run_cmd sh -c '"$0" "$@" >/dev/full' "$SG" $args
    [ "$RC" = 1 ] || fail "$args >/dev/full: status $RC (want 1): $OUT"
    case $OUT in "safeguard: writing to standard output: No space left on device"*) ;; *) fail "$args >/dev/full: $OUT" ;; esac
done

# probe as an ordinary user: root is needed, status 1.
if id nobody >/dev/null 2>&1; then
    run_cmd su -s /bin/sh nobody -c "$SG probe"
    [ "$RC" = 1 ] || fail "probe as nobody: status $RC (want 1): $OUT"
    case $OUT in *"probe needs root"*) ;; *) fail "probe as nobody: $OUT" ;; esac
fi
