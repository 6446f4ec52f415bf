# boots: lsm
# kernels: 6.1
# mount-proc-links: a mount(2) whose source goes through a /proc magic link reaches a tree
# the source string does not show; the kernel's own lookup is judged (source_lookup).
# Refused with EPERM and a BLOCKED record: /proc/self/root, /proc/<pid>/root,
# /proc/thread-self/root, /proc/self/cwd (from inside the denied directory, and "..") and
# /proc/self/fd/N to a denied directory or below it; procfs mounted elsewhere, a symlink to
# /proc, a bind mount of /proc, a path relative to a working directory in /proc, ".." games,
# a move (MS_MOVE) of a mount below the denied directory. Allowed: cwd and fd links to
# anything else, an ns link (`ip netns add`), plain paths.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

F=/srv/sg-mount-proc-links
rm -rf "$F"
mkdir -p "$F/secret/sub" "$F/secret/m" "$F/other" /tmp/d /tmp/d2 /tmp/d3 /tmp/p2 /tmp/pb || fail "fixture"
if ! { echo secret >"$F/secret/file" && echo other >"$F/other/file" && touch /tmp/t /tmp/t2; }; then
    fail "fixture files"
fi
mount -t tmpfs below "$F/secret/m" || fail "tmpfs below the denied directory"
mount -t proc proc /tmp/p2 || fail "a second procfs mount"
mount --bind /proc /tmp/pb || fail "a bind mount of /proc"
ln -s /proc /tmp/pl || fail "a symlink to /proc"
mnt_config /tmp/sg.toml block "[\"$F/secret\"]"
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"mount":"enforcing"'

# refused SCRIPT: the shell's last command execs sg-mounttool; EPERM and one BLOCKED record
refused() {
    run_sh "$1"
    case $OUT in *"error: Operation not permitted"*) ;; *) fail "not refused: $1: $OUT" ;; esac
    wait_for_record '"module":"mount"' '"op":"mount"' '"action":"BLOCKED"' "\"pid\":$SH_PID" \
        '"source_lookup":true' "\"rule\":\"$F/secret\""
    [ ! -e /tmp/d/file ] || fail "/tmp/d shows the denied tree after: $1"
    say "refused: $1"
}
T="$MOUNTTOOL mount"

refused "exec $T /proc/self/root$F/secret /tmp/d - bind"
rec_has "\"source\":\"/proc/self/root$F/secret\"" '"target":"/tmp/d"' '"kind":"bind"' '"source_ino":'
refused "exec $T /proc/self/root$F/secret/sub /tmp/d - bind"
refused "cd $F/secret && exec $T /proc/self/cwd /tmp/d - bind"
refused "cd $F/secret/sub && exec $T /proc/self/cwd/.. /tmp/d - bind"
refused "cd $F/secret && exec $T /proc/self/cwd/sub /tmp/d - bind"
refused "exec $T /proc/1/root$F/secret /tmp/d - bind"
refused "exec $T /proc/thread-self/root$F/secret /tmp/d - bind"
refused "exec 3<$F/secret; exec $T /proc/self/fd/3 /tmp/d - bind"
refused "exec 3<$F/secret/sub; exec $T /proc/self/fd/3 /tmp/d - bind"
refused "exec $T /tmp/p2/self/root$F/secret /tmp/d - bind"
refused "cd $F/secret && exec $T /tmp/pl/self/cwd /tmp/d - bind"
refused "exec $T /tmp/pb/thread-self/root$F/secret /tmp/d - bind"
refused "cd /proc/self && exec $T root$F/secret /tmp/d - bind"
refused "cd /tmp/p2 && exec $T ../p2/self/../self/root/../..$F/secret/. /tmp/d - bind"
refused "cd $F/secret/m && exec $T /proc/self/cwd /tmp/d - move"
grep -q " $F/secret/m " /proc/mounts || fail "the mount below the denied directory was moved"

say "allowed: links to anything else, an ns link, plain paths"
run_sh "cd $F/other && exec $T /proc/self/cwd /tmp/d2 - bind"
case $OUT in *"
ok"*) ;; *) fail "cwd link to an allowed directory: $OUT" ;; esac
[ "$(cat /tmp/d2/file)" = other ] || fail "the allowed bind did not happen"
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID" '"source":"/proc/self/cwd"'
run_sh "exec 3<$F/other/file; exec $T /proc/self/fd/3 /tmp/t - bind"
case $OUT in *"
ok"*) ;; *) fail "fd link to an allowed file: $OUT" ;; esac
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID"
mnt_ok mount /proc/self/ns/net /tmp/t2 - bind
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID" '"source":"/proc/self/ns/net"'
mnt_ok mount "$F/other" /tmp/d3 - bind
wait_for_record '"action":"ALLOWED"' "\"pid\":$SH_PID"
umount /tmp/d2 /tmp/t /tmp/t2 /tmp/d3 || fail "umount"

stop_agent
n=$(count_records '"module":"mount"' '"action":"BLOCKED"')
[ "$n" = 15 ] || fail "$n BLOCKED records, want 15 (one per attempt)"
assert_no_record '"action":"ALLOWED"' '"rule":'
umount /tmp/pb /tmp/p2 "$F/secret/m"
rm -rf "$F" /tmp/pl
