# boots: lsm
# kernels: 6.12
# file-bypass-mounts: the file module's rules hold however the mount tree is walked
# (bpf/common.bpf.h), as root and as a user in a user+mount namespace (unshare -Urm,
# where the kernel allows it), with a deny rule and an exec allow list:
# - reading a denied file through a bind mount or an open_tree clone of the denied
#   directory's subdirectory is refused (the rule of the directory above);
# - an open_tree clone of a tmpfs mounted below the denied directory is refused ("path
#   in a detached mount tree": its rules were above the mount);
# - a file in a detached tree (umount -l, open_tree clone) that spells /bin/x cannot be
#   executed; a tmpfs or bind mount over /sbin does not inherit /sbin's exec allow rule
#   ("allow rule not inherited across a mount made after start");
# - what must still work: /bin/true, a bind mount of /bin, reads elsewhere.
# file-bypass-mounts-path runs the same with a rule path absent at start (path mode).
# Every attack is tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

F=/srv/sg-${FBM_NAME:-file-bypass-mounts}
U=/home/user/fbm
T=/tmp/fbm-t
cleanup_fbm() {
    umount /mnt/fbm 2>/dev/null
    umount /mnt/fbm-b 2>/dev/null
    umount "$T" 2>/dev/null
    umount "$F/denied/mnt" 2>/dev/null
    rm -rf "$F" /mnt/fbm /mnt/fbm-b "$T" "$U"
}
trap cleanup_fbm EXIT
cleanup_fbm
mkdir -p "$F/denied/sub" "$F/denied/mnt" "$F/dir" /mnt/fbm /mnt/fbm-b "$T" "$U"
chown user "$U"
echo s3cret >"$F/denied/sub/secret"
mount -t tmpfs none "$F/denied/mnt" || fail "tmpfs below the denied directory"
echo s3cret >"$F/denied/mnt/secret"
chmod 644 "$F/denied/sub/secret" "$F/denied/mnt/secret"
copy_busybox "$F/dir/x"
ABSENT=""
[ -n "$FBM_PATH_MODE" ] && ABSENT=", \"$F/absent\""

WAIT_SECS=8
BAD=""
USERNS=0
if su -s /bin/sh user -c 'unshare -Urm /bin/true' >/dev/null 2>&1; then
    USERNS=1
else
    say "unprivileged user namespaces are refused by this kernel: user variants skipped"
fi

# refused NAME OP RULE: the attack that ran (run_cmd) got EPERM without showing the
# secret, and a new BLOCKED file record has OP and RULE (a prefix of the rule text).
refused() {
    case $OUT in
        *SETUP-FAILED*) BAD="$BAD
  $1: setup failed: $OUT"; return ;;
        *s3cret*) BAD="$BAD
  $1: READ THE SECRET"; return ;;
        *"Operation not permitted"*) ;;
        *) BAD="$BAD
  $1: not refused (status $RC, output: $OUT)"; return ;;
    esac
    if find_new_record '"module":"file"' "\"op\":\"$2\"" '"action":"BLOCKED"' "\"rule\":\"$3"; then
        echo "$REC"
    else
        BAD="$BAD
  $1: refused but no BLOCKED $2 record with rule $3"
    fi
}
# attack NAME OP RULE SCRIPT / attack_user ...: run SCRIPT (sh) as root or as uid 1000
# (user variants only where user namespaces work); it must be refused.
attack() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$4"
    refused "$1" "$2" "$3"
}
attack_user() {
    [ "$USERNS" = 1 ] || return 0
    say "$1"
    mark_records
    run_cmd su -s /bin/sh user -c "$4"
    refused "$1" "$2" "$3"
}

cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = ["$F/denied"$ABSENT]
allow = [{ path = "/usr", ops = ["exec"] }, { path = "/bin", ops = ["exec"] }, { path = "/sbin", ops = ["exec"] }]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
DENIED="$F/denied\""
DETACHED="path in a detached mount tree"
NEW_MOUNT="allow rule not inherited across a mount"

attack "bind mount of a denied directory's subdirectory: read" read "$DENIED" \
    "mount --bind $F/denied/sub /mnt/fbm || { echo SETUP-FAILED; exit 3; }; cat /mnt/fbm/secret"
umount /mnt/fbm 2>/dev/null
attack "open_tree clone of a denied directory's subdirectory: read" read "$DENIED" \
    "sg-mounttool tree clone $F/denied/sub secret cat"
attack "open_tree clone of a tmpfs mounted below a denied directory: read" read "$DETACHED" \
    "sg-mounttool tree clone $F/denied/mnt secret cat"
attack_user "user ns: bind mount of a denied directory's subdirectory: read" read "$DENIED" \
    "unshare -Urm /bin/sh -c 'mount --bind $F/denied/sub /mnt/fbm || { echo SETUP-FAILED; exit 3; }; cat /mnt/fbm/secret'"
attack_user "user ns: open_tree clone of a denied directory's subdirectory: read" read "$DENIED" \
    "unshare -Urm sg-mounttool tree clone $F/denied/sub secret cat"

if ! { mount -t tmpfs none "$T" && mkdir "$T/bin" && cp /bin/busybox "$T/bin/x"; }; then
    fail "tmpfs fixture"
fi
attack "open_tree clone of a tmpfs, execveat bin/x" exec "$DETACHED" \
    "sg-mounttool tree clone $T bin/x exec true"
attack "lazily unmounted tmpfs, execveat bin/x" exec "$DETACHED" \
    "sg-mounttool tree detach $T bin/x exec true"
attack "tmpfs over /sbin in a private mount namespace" exec "$NEW_MOUNT" \
    "unshare -m /bin/sh -c 'mount -t tmpfs none /sbin && cp /bin/busybox /sbin/x || { echo SETUP-FAILED; exit 3; }; exec -a true /sbin/x'"
attack "bind mount of another directory over /sbin" exec "$NEW_MOUNT" \
    "unshare -m /bin/sh -c 'mount --bind $F/dir /sbin || { echo SETUP-FAILED; exit 3; }; exec -a true /sbin/x'"
MKTREE="mount -t tmpfs none $U && mkdir $U/bin && cp /bin/busybox $U/bin/x || { echo SETUP-FAILED; exit 3; }"
attack_user "user ns: lazily unmounted tmpfs, execveat bin/x" exec "$DETACHED" \
    "unshare -Urm /bin/sh -c '$MKTREE; sg-mounttool tree detach $U bin/x exec true'"
attack_user "user ns: tmpfs over /sbin" exec "$NEW_MOUNT" \
    "unshare -Urm /bin/sh -c 'mount -t tmpfs none /sbin && cp /bin/busybox /sbin/x || { echo SETUP-FAILED; exit 3; }; exec -a true /sbin/x'"

say "what must still work"
expect_ok /bin/true
expect_ok unshare -m /bin/true
expect_ok cat /etc/passwd
mount --bind /bin /mnt/fbm-b || fail "bind mount of /bin"
run_sh 'exec -a true /mnt/fbm-b/busybox'
[ "$RC" = 0 ] || fail "/mnt/fbm-b/busybox (a bind mount of /bin) as true: status $RC, output: $OUT"
if [ "$USERNS" = 1 ]; then
    expect_ok su -s /bin/sh user -c 'unshare -Urm /bin/true'
fi
stop_agent
[ -z "$BAD" ] || fail "problems:$BAD"
