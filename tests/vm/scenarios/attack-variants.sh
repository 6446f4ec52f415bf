# boots: lsm
# kernels: 6.1
# attack-variants: variants of issue #12's bypass classes that its own scenarios do not
# try, each of which must be REFUSED in block mode (EPERM and a BLOCKED record):
# - a bind mount or an open_tree clone of a single FILE (the mount's root is the file,
#   its mountpoint a file) out of a read-denied or exec-denied directory, as root and as
#   a user in unshare -Urm; mapping it executable; a #! interpreter reached so;
# - exec (process deny, file exec deny) of /proc/PID/map_files/RANGE, a read-only
#   mapping of the denied program held by another process, and execveat of it;
# - renameat2(RENAME_WHITEOUT) of a denied program, and of a read-denied file, out of
#   its directory (the link/rename guards of both modules);
# - a process deny rule through an overlay whose lower layer is a directory ABOVE the
#   denied one (file-overlay tries the denied directory itself);
# - a delete-denied empty directory replaced by rename(2) of another empty directory
#   over it (the directory below the rule, and the rule path itself);
# - a create-denied directory given a name by O_TMPFILE + linkat(AT_EMPTY_PATH) (the
#   tmpfile made outside and inside it), and by io_uring IORING_OP_MKDIRAT/SYMLINKAT;
# - a write-denied file truncated by open(O_ACCMODE == 3 | O_TRUNC); a chmod-denied file
#   chmod'ed through a bind mount of the FILE; a create-denied directory given a name by
#   bind(2) of an AF_UNIX socket;
# - allow lists (process, and file exec): a FILE bind-mounted or open_tree-cloned over
#   an allowed file in a private mount namespace (root, and unshare -Urm).
# Every attack is tried; the bypasses are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/tmp/sg-attack-variants
U=/home/user/av
A=/usr/bin/sg-attacktool
X=/usr/bin/sg-exectool
M=/usr/bin/sg-mounttool
cleanup_av() {
    for m in /mnt/av-o /tmp/av-k /tmp/av-k2 /tmp/av-p /tmp/av-p2 /tmp/av-i /tmp/av-c; do
        umount "$m" 2>/dev/null
    done
    rm -rf "$D" "$U" /mnt/av-o /tmp/av-k /tmp/av-k2 /tmp/av-p /tmp/av-p2 /tmp/av-i /tmp/av-c /sbin/av-t
    rm -f /tmp/av-hold.out
}
trap cleanup_av EXIT
cleanup_av
mkdir -p "$D/secret" "$D/top/denied" "$D/nodel/sub" "$D/nodel2" "$D/nocreate" "$D/nowrite" \
    "$D/e1" "$D/e2" "$D/ou" "$D/ow" "$D/nochmod" /mnt/av-o "$U"
echo m >"$D/nochmod/f"
chmod 600 "$D/nochmod/f"
chmod 755 "$D" "$D/secret"
echo s3cret >"$D/secret/key"
chmod 644 "$D/secret/key"
echo keep >"$D/nowrite/f"
copy_busybox "$D/top/denied/tool"
copy_busybox "$D/evil"
touch /tmp/av-k /tmp/av-k2 /tmp/av-p /tmp/av-p2 /tmp/av-i /tmp/av-c "$U/k" "$U/k2" "$U/p"
copy_busybox "$D/noexec/tool"
copy_busybox "$D/top/denied/tool2"
echo s3cret >"$D/secret/key2"
chown -R user "$U"
printf '#!/tmp/av-i\necho RAN\n' >"$D/script"
chmod 755 "$D/script"

WAIT_SECS=8
BAD=""
USERNS=0
if su -s /bin/sh user -c 'unshare -Urm /bin/true' >/dev/null 2>&1; then
    USERNS=1
else
    say "unprivileged user namespaces are refused by this kernel: user variants skipped"
fi

# judge NAME: the attack run by run_cmd must have failed with EPERM (not have printed
# s3cret or RAN) and written a new BLOCKED record; else it is a bypass, noted in $BAD.
judge() {
    case $OUT in
        *SETUP-FAILED*)
            BAD="$BAD
  $1: setup failed: $OUT"
            return
            ;;
        *s3cret* | *RAN*)
            BAD="$BAD
  $1: BYPASS (status $RC, output: $OUT)"
            return
            ;;
        *"Operation not permitted"*) ;;
        *)
            BAD="$BAD
  $1: not refused with EPERM (status $RC, output: $OUT)"
            return
            ;;
    esac
    if find_new_record '"action":"BLOCKED"'; then
        say "refused: $1 (output: $OUT)"
        echo "$REC"
    else
        BAD="$BAD
  $1: EPERM but no BLOCKED record"
    fi
}
# attack NAME SCRIPT / attack_user NAME SCRIPT: run SCRIPT (sh) as root, or as uid 1000
# (only where user namespaces work); it must be refused.
attack() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$2"
    judge "$1"
}
attack_user() {
    [ "$USERNS" = 1 ] || return 0
    say "$1"
    mark_records
    run_cmd su -s /bin/sh user -c "$2"
    judge "$1"
}
# attack_uring NAME SCRIPT: like attack, but a kernel without the io_uring op (EINVAL)
# skips it.
attack_uring() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$2"
    case $OUT in
        *"Invalid argument"*) say "io_uring op absent on this kernel: $1 skipped" ;;
        *) judge "$1" ;;
    esac
}

cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = ["$D/secret", { path = "$D/nodel", ops = ["delete"] }, { path = "$D/nodel2", ops = ["delete"] },
        { path = "$D/nocreate", ops = ["create"] }, { path = "$D/nowrite", ops = ["write"] },
        { path = "$D/nochmod", ops = ["chmod"] }, { path = "$D/noexec", ops = ["exec"] }]
[process]
mode = "block"
deny = ["$D/top/denied"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

say "=== single-file mounts out of denied directories"
attack "read: bind mount of a denied FILE onto a file" \
    "mount --bind $D/secret/key /tmp/av-k || { echo SETUP-FAILED; exit 3; }; cat /tmp/av-k"
attack "read: open_tree clone of a denied FILE moved onto a file" \
    "$M clone $D/secret/key /tmp/av-k2 >/dev/null || { echo SETUP-FAILED; exit 3; }; cat /tmp/av-k2"
attack_user "read, user ns: bind mount of a denied FILE onto a file" \
    "unshare -Urm /bin/sh -c 'mount --bind $D/secret/key $U/k || { echo SETUP-FAILED; exit 3; }; cat $U/k'"
attack_user "read, user ns: open_tree clone of a denied FILE moved onto a file" \
    "unshare -Urm /bin/sh -c '$M clone $D/secret/key $U/k2 >/dev/null || { echo SETUP-FAILED; exit 3; }; cat $U/k2'"
attack "exec: bind mount of a denied program FILE onto a file" \
    "mount --bind $D/top/denied/tool /tmp/av-p || { echo SETUP-FAILED; exit 3; }; exec -a echo /tmp/av-p RAN"
attack "exec: open_tree clone of a denied program FILE moved onto a file" \
    "$M clone $D/top/denied/tool /tmp/av-p2 >/dev/null || { echo SETUP-FAILED; exit 3; }; exec -a echo /tmp/av-p2 RAN"
attack "exec: execveat of the file bind mount" "$X fexecve /tmp/av-p echo RAN"
attack "mmap PROT_EXEC of the file bind mount" "$X mmap /tmp/av-p"
attack "mprotect +PROT_EXEC of the file bind mount" "$X mprotect /tmp/av-p"
attack "#! interpreter that is a file bind mount of the denied program" \
    "mount --bind $D/top/denied/tool /tmp/av-i || { echo SETUP-FAILED; exit 3; }; exec $D/script"
attack_user "exec, user ns: bind mount of a denied program FILE onto a file" \
    "unshare -Urm /bin/sh -c 'mount --bind $D/top/denied/tool $U/p || { echo SETUP-FAILED; exit 3; }; exec -a echo $U/p RAN'"

say "=== /proc/PID/map_files of a read-only mapping of a denied program"
for prog in "$D/top/denied/tool" "$D/noexec/tool"; do
    rm -f /tmp/av-hold.out
    $A hold-map "$prog" 60 >/tmp/av-hold.out &
    HOLD=$!
    i=0
    while ! grep mapped /tmp/av-hold.out >/dev/null 2>&1 && [ "$i" -lt 50 ]; do
        sleep 0.2
        i=$((i + 1))
    done
    R=$(grep "$prog" "/proc/$HOLD/maps" | head -n 1 | cut -d' ' -f1)
    if [ -n "$R" ]; then
        attack "exec of /proc/PID/map_files/RANGE of $prog" "exec -a echo /proc/$HOLD/map_files/$R RAN"
        attack "execveat of an fd on /proc/PID/map_files/RANGE of $prog" "$X fexecve /proc/$HOLD/map_files/$R echo RAN"
    else
        BAD="$BAD
  map_files of $prog: setup failed: $(cat /tmp/av-hold.out)"
    fi
    kill "$HOLD" 2>/dev/null
    wait "$HOLD" 2>/dev/null
done

say "=== RENAME_WHITEOUT out of denied directories"
attack "RENAME_WHITEOUT of a denied program out of its directory" "$A whiteout $D/top/denied/tool2 $D/tool2-out"
[ -e "$D/tool2-out" ] && BAD="$BAD
  the denied program left its directory by RENAME_WHITEOUT"
attack "RENAME_WHITEOUT of a read-denied file out of its directory" "$A whiteout $D/secret/key2 $D/key2-out"
[ -e "$D/key2-out" ] && BAD="$BAD
  the read-denied file left its directory by RENAME_WHITEOUT"

say "=== overlay whose lower layer is above the denied directory"
if load_overlayfs; then
    attack "exec: overlay lowerdir=$D/top, run merged/denied/tool" \
        "mount -t overlay none -o lowerdir=$D/top,upperdir=$D/ou,workdir=$D/ow /mnt/av-o || { echo SETUP-FAILED; exit 3; }; exec -a echo /mnt/av-o/denied/tool RAN"
    attack "mmap PROT_EXEC through that overlay" "$X mmap /mnt/av-o/denied/tool"
    umount /mnt/av-o 2>/dev/null
else
    say "no overlayfs: overlay variants skipped"
fi

say "=== delete-denied directories replaced by rename"
attack "rename an empty directory over an empty directory below a delete rule" \
    "$X rename $D/e1 $D/nodel/sub"
attack "rename an empty directory over the delete rule's own (empty) directory" \
    "$X rename $D/e2 $D/nodel2"

say "=== create-denied directory"
attack "O_TMPFILE outside, linkat(AT_EMPTY_PATH) into the create-denied directory" \
    "$A tmpfile-link $D $D/nocreate/new"
attack "O_TMPFILE inside the create-denied directory, then linkat there" \
    "$A tmpfile-link $D/nocreate $D/nocreate/new2"
attack_uring "io_uring IORING_OP_MKDIRAT into the create-denied directory" "$A urmkdir $D/nocreate/d"
attack_uring "io_uring IORING_OP_SYMLINKAT into the create-denied directory" "$A ursymlink /x $D/nocreate/s"
attack "bind(2) of an AF_UNIX socket into the create-denied directory" "$A unixbind $D/nocreate/sock"
for n in new new2 d s sock; do
    [ -e "$D/nocreate/$n" ] || [ -L "$D/nocreate/$n" ] && BAD="$BAD
  create-denied directory gained $n"
done

say "=== write-denied file"
attack "open(O_ACCMODE == 3 | O_TRUNC) of a write-denied file" "$A open3trunc $D/nowrite/f"
[ "$(cat "$D/nowrite/f")" = keep ] || BAD="$BAD
  the write-denied file lost its content"

say "=== chmod through a bind mount of the FILE"
attack "chmod of a chmod-denied file through a bind mount of it" \
    "mount --bind $D/nochmod/f /tmp/av-c || { echo SETUP-FAILED; exit 3; }; chmod 644 /tmp/av-c"
[ "$(stat -c %a "$D/nochmod/f")" = 600 ] || BAD="$BAD
  the chmod-denied file's mode changed: $(stat -c %a "$D/nochmod/f")"

# open_by_handle_at of a file in a read-denied cgroup2 directory after drop_caches (a
# disconnected dentry) is a bypass on 6.12: tests/vm/known-failing/file-handle-disconnected.sh
stop_agent
for m in /tmp/av-k /tmp/av-k2 /tmp/av-p /tmp/av-p2 /tmp/av-i /tmp/av-c; do umount "$m" 2>/dev/null; done

say "=== allow lists: a FILE mounted over an allowed file"
: >/sbin/av-t
chmod 755 /sbin/av-t
cp /bin/busybox "$U/evil"
chown user "$U/evil"
NS_BIND="mount --bind $D/evil /sbin/av-t || { echo SETUP-FAILED; exit 3; }; exec -a echo /sbin/av-t RAN"
NS_CLONE="$M clone $D/evil /sbin/av-t >/dev/null || { echo SETUP-FAILED; exit 3; }; exec -a echo /sbin/av-t RAN"
U_BIND="mount --bind $U/evil /sbin/av-t || { echo SETUP-FAILED; exit 3; }; exec -a echo /sbin/av-t RAN"
for which in process file; do
    if [ "$which" = process ]; then
        rules='[file]
enable = false
[process]
mode = "block"
allow = ["/bin/", "/sbin/", "/usr/"]'
    else
        rules='[file]
mode = "block"
allow = [{ path = "/usr", ops = ["exec"] }, { path = "/bin", ops = ["exec"] }, { path = "/sbin", ops = ["exec"] }]'
    fi
    printf '[log]\nformat = "json"\noutput = "/tmp/sg-%s.log"\n[network]\nenable = false\n%s\n' \
        "$which" "$rules" >"/tmp/sg-$which.toml"
    start_agent "/tmp/sg-$which.toml"
    wait_for_record '"module":"agent"' '"op":"start"'
    attack "$which allow list: bind mount of a FILE over /sbin/av-t (unshare -m)" "unshare -m /bin/sh -c '$NS_BIND'"
    attack "$which allow list: open_tree clone of a FILE over /sbin/av-t (unshare -m)" "unshare -m /bin/sh -c '$NS_CLONE'"
    attack_user "$which allow list, user ns: bind mount of a FILE over /sbin/av-t" "unshare -Urm /bin/sh -c '$U_BIND'"
    run_sh 'exec -a true /bin/busybox'
    [ "$RC" = 0 ] || BAD="$BAD
  $which allow list: /bin/busybox as true does not run (status $RC: $OUT)"
    stop_agent
done

[ -z "$BAD" ] || fail "bypasses (or setup problems):$BAD"
