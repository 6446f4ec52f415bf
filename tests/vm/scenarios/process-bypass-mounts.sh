# boots: lsm
# kernels: 6.12
# process-bypass-mounts: the process module's rules hold however the mount tree is
# walked (bpf/common.bpf.h, sg_find_by_identity and sg_resolve), as root and as a user
# in a user+mount namespace (unshare -Urm, where the kernel allows it):
# - deny: a bind mount or an open_tree clone of a SUBDIRECTORY of a denied directory
#   does not escape it (the identity walk goes to each filesystem's root);
# - allow list: a file in a detached tree (umount -l, open_tree clone) that spells
#   /bin/x is refused ("path in a detached mount tree"); a tmpfs or bind mount placed
#   over /sbin, or a tmpfs moved over / and chrooted into, does not inherit the allow
#   rule ("allow rule not inherited across a mount made after start");
# - what must still run: /bin/true in new namespaces and through a bind mount of /bin.
# Every attack is tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

F=/srv/sg-process-bypass-mounts
U=/home/user/pbm
cleanup_pbm() {
    umount /mnt/pbm 2>/dev/null
    umount /mnt/pbm-b 2>/dev/null
    umount /tmp/pbm-t 2>/dev/null
    rm -rf "$F" /mnt/pbm /mnt/pbm-b /tmp/pbm-t "$U"
}
trap cleanup_pbm EXIT
cleanup_pbm
mkdir -p "$F/denied/sub" "$F/dir" /mnt/pbm /mnt/pbm-b /tmp/pbm-t "$U"
chown user "$U"
copy_busybox "$F/denied/sub/tool"
copy_busybox "$F/dir/x"

WAIT_SECS=8
BAD=""
USERNS=0
if su -s /bin/sh user -c 'unshare -Urm /bin/true' >/dev/null 2>&1; then
    USERNS=1
else
    say "unprivileged user namespaces are refused by this kernel: user variants skipped"
fi

# refused NAME RULE: the attack that ran (run_cmd) got EPERM, and a new BLOCKED exec
# record carries RULE (a prefix of the rule text). A setup step that failed (the script
# printed SETUP-FAILED) is a problem too.
refused() {
    case $OUT in
        *SETUP-FAILED*) BAD="$BAD
  $1: setup failed: $OUT"; return ;;
        *"Operation not permitted"*) ;;
        *) BAD="$BAD
  $1: not refused (status $RC, output: $OUT)"; return ;;
    esac
    if find_new_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"rule\":\"$2"; then
        echo "$REC"
    else
        BAD="$BAD
  $1: refused but no BLOCKED exec record with rule $2"
    fi
}
# attack NAME RULE SCRIPT / attack_user NAME RULE SCRIPT: run SCRIPT (sh) as root or
# as uid 1000 (user variants only where user namespaces work); it must be refused.
attack() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$3"
    refused "$1" "$2"
}
attack_user() {
    [ "$USERNS" = 1 ] || return 0
    say "$1"
    mark_records
    run_cmd su -s /bin/sh user -c "$3"
    refused "$1" "$2"
}

cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[file]
enable = false
[network]
enable = false
[process]
mode = "block"
ops = ["exec"]
deny = ["$F/denied"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"process":"enforcing"'

attack "bind mount of a denied directory's subdirectory" "$F/denied\"" \
    "mount --bind $F/denied/sub /mnt/pbm || { echo SETUP-FAILED; exit 3; }; exec -a true /mnt/pbm/tool"
umount /mnt/pbm 2>/dev/null
attack "open_tree clone of a denied directory's subdirectory, execveat" "$F/denied\"" \
    "sg-mounttool tree clone $F/denied/sub tool exec true"
attack_user "user ns: bind mount of a denied directory's subdirectory" "$F/denied\"" \
    "unshare -Urm /bin/sh -c 'mount --bind $F/denied/sub /mnt/pbm || { echo SETUP-FAILED; exit 3; }; exec -a true /mnt/pbm/tool'"
attack_user "user ns: open_tree clone of a denied directory's subdirectory" "$F/denied\"" \
    "unshare -Urm sg-mounttool tree clone $F/denied/sub tool exec true"
stop_agent

cat >/tmp/sg2.toml <<'CONF'
[log]
format = "json"
output = "/tmp/sg2.log"
[file]
enable = false
[network]
enable = false
[process]
mode = "block"
ops = ["exec"]
allow = ["/bin/", "/sbin/", "/usr/"]
CONF
start_agent /tmp/sg2.toml
wait_for_record '"module":"agent"' '"op":"start"' '"process":"enforcing"'
DETACHED="path in a detached mount tree"
NEW_MOUNT="allow rule not inherited across a mount"

if ! { mount -t tmpfs none /tmp/pbm-t && mkdir /tmp/pbm-t/bin && cp /bin/busybox /tmp/pbm-t/bin/x; }; then
    fail "tmpfs fixture"
fi
attack "open_tree clone of a tmpfs, execveat bin/x" "$DETACHED" \
    "sg-mounttool tree clone /tmp/pbm-t bin/x exec true"
attack "lazily unmounted tmpfs, execveat bin/x" "$DETACHED" \
    "sg-mounttool tree detach /tmp/pbm-t bin/x exec true"
attack "tmpfs over /sbin in a private mount namespace" "$NEW_MOUNT" \
    "unshare -m /bin/sh -c 'mount -t tmpfs none /sbin && cp /bin/busybox /sbin/x || { echo SETUP-FAILED; exit 3; }; exec -a true /sbin/x'"
attack "bind mount of another directory over /sbin" "$NEW_MOUNT" \
    "unshare -m /bin/sh -c 'mount --bind $F/dir /sbin || { echo SETUP-FAILED; exit 3; }; exec -a true /sbin/x'"
MKTREE="mount -t tmpfs none $U && mkdir $U/bin && cp /bin/busybox $U/bin/x && cp /bin/busybox $U/bin/true || { echo SETUP-FAILED; exit 3; }"
attack_user "user ns: lazily unmounted tmpfs, execveat bin/x" "$DETACHED" \
    "unshare -Urm /bin/sh -c '$MKTREE; sg-mounttool tree detach $U bin/x exec true'"
attack_user "user ns: open_tree clone of a tmpfs, execveat bin/x" "$DETACHED" \
    "unshare -Urm /bin/sh -c '$MKTREE; sg-mounttool tree clone $U bin/x exec true'"
attack_user "user ns: tmpfs over /sbin" "$NEW_MOUNT" \
    "unshare -Urm /bin/sh -c 'mount -t tmpfs none /sbin && cp /bin/busybox /sbin/x || { echo SETUP-FAILED; exit 3; }; exec -a true /sbin/x'"
attack_user "user ns: tmpfs moved over /, chroot, exec /bin/true" "$NEW_MOUNT" \
    "unshare -Urm /bin/sh -c '$MKTREE; cd $U && sg-mounttool mount . / - move >/dev/null || { echo SETUP-FAILED; exit 3; }; exec chroot . /bin/true'"

say "what must still run"
expect_ok /bin/true
expect_ok su -s /bin/sh user -c /bin/true
expect_ok unshare -m /bin/true
mount --bind /bin /mnt/pbm-b || fail "bind mount of /bin"
run_sh 'exec -a true /mnt/pbm-b/busybox'
[ "$RC" = 0 ] || fail "/mnt/pbm-b/busybox (a bind mount of /bin) as true: status $RC, output: $OUT"
if [ "$USERNS" = 1 ]; then
    expect_ok su -s /bin/sh user -c 'unshare -Urm /bin/true'
fi
stop_agent
[ -z "$BAD" ] || fail "problems:$BAD"
