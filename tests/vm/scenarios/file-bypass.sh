# boots: lsm
# kernels: 5.10
# file-bypass: the ways an attacker reaches a denied file by another name are all refused
# with EPERM and a BLOCKED read record naming the rule: a hard link made before the agent
# started, a symlink, a bind mount, a relative path, `..`, a chroot, a new mount namespace,
# /proc/self/fd (also reopening for read an fd opened for writing), /proc/PID/root and
# /proc/PID/cwd of another process. Every attempt is tried and the failures are listed
# together at the end.
# The hard link lives under /srv/bp-out, not /tmp: a hard link cannot cross filesystems and
# /tmp is a tmpfs of its own.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

umount_all() {
    for m in /mnt/bp-b /mnt/bp-sub /jail/srv /jail/data; do
        umount "$m" 2>/dev/null
    done
}
cleanup_bp() {
    # shellcheck disable=SC2086 # a list of pids
    [ -n "${SLEEPERS:-}" ] && kill $SLEEPERS 2>/dev/null
    umount_all
    rm -rf /jail /mnt/bp-b /mnt/bp-sub /srv/xch
}
trap cleanup_bp EXIT

cleanup_bp
rm -rf /srv/bp /srv/bp-out /srv/bpr
mkdir -p /srv/bp/sub /srv/bp-out /srv/bpr /mnt/bp-b /mnt/bp-sub /jail/bin /jail/srv /jail/data
echo s3cret >/srv/bp/key
echo s3cret >/srv/bp/sub/key
echo w >/srv/bpr/key
ln /srv/bp/key /srv/bp-out/hl # before the agent starts
ln -s /srv/bp/key /tmp/sym
cp /bin/busybox /jail/bin/busybox
for a in sh cat sleep; do ln -s busybox "/jail/bin/$a"; done
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = ["/srv/bp", { path = "/srv/bpr", ops = ["read"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

BAD=""
# attempt WHAT RECORD_PATH RULE CMD...: CMD must fail with EPERM without printing the
# secret, and a new BLOCKED read record must name RECORD_PATH and RULE.
attempt() {
    what=$1 path=$2 rule=$3
    shift 3
    say "$what: $*"
    mark_records
    run_cmd "$@"
    case $OUT in
        *s3cret*)
            BAD="$BAD
  $what: READ THE SECRET (status $RC): $*"
            return
            ;;
        *"Operation not permitted"*) ;;
        *)
            BAD="$BAD
  $what: no EPERM (status $RC, output: $OUT): $*"
            return
            ;;
    esac
    if find_new_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' "\"path\":\"$path\""; then
        echo "$REC"
        case $REC in
            *"\"rule\":\"$rule\""*) ;;
            *) BAD="$BAD
  $what: record has not rule $rule: $REC" ;;
        esac
    else
        BAD="$BAD
  $what: refused but no BLOCKED read record with path $path"
    fi
}

attempt "the path itself" /srv/bp/key /srv/bp cat /srv/bp/key
attempt "hard link made before the start" /srv/bp-out/hl /srv/bp cat /srv/bp-out/hl
attempt "symlink" /srv/bp/key /srv/bp cat /tmp/sym
attempt "relative path" /srv/bp/key /srv/bp sh -c 'cd /srv/bp && cat ./key'
attempt "dot-dot" /srv/bp/key /srv/bp cat /srv/bp/../bp/key
attempt "dot-dot from below" /srv/bp/key /srv/bp cat /srv/bp/sub/../key
attempt "the directory (listing)" /srv/bp /srv/bp ls /srv/bp

mount --bind /srv/bp /mnt/bp-b || fail "mount --bind /srv/bp /mnt/bp-b"
attempt "bind mount" /mnt/bp-b/key /srv/bp cat /mnt/bp-b/key
# The bind's root is /srv/bp/sub: the rule's directory is above the mount's root.
mount --bind /srv/bp/sub /mnt/bp-sub || fail "mount --bind /srv/bp/sub /mnt/bp-sub"
attempt "bind mount of a subdirectory" /mnt/bp-sub/key /srv/bp cat /mnt/bp-sub/key

mount --bind /srv /jail/srv || fail "mount --bind /srv /jail/srv"
mount --bind /srv/bp /jail/data || fail "mount --bind /srv/bp /jail/data"
attempt "chroot (bind of /srv)" /jail/srv/bp/key /srv/bp chroot /jail /bin/cat /srv/bp/key
attempt "chroot (bind of the directory)" /jail/data/key /srv/bp chroot /jail /bin/cat /data/key

attempt "new mount namespace" /srv/bp/key /srv/bp unshare -m cat /srv/bp/key
attempt "new mount namespace, private bind" /tmp/x/key /srv/bp \
    unshare -m sh -c 'mkdir -p /tmp/x && mount --bind /srv/bp /tmp/x && cat /tmp/x/key'
attempt "new mount namespace, private bind of a subdirectory" /tmp/y/key /srv/bp \
    unshare -m sh -c 'mkdir -p /tmp/y && mount --bind /srv/bp/sub /tmp/y && cat /tmp/y/key'

attempt "/proc/self/fd redirection" /srv/bp/key /srv/bp sh -c 'cat /proc/self/fd/3 3</srv/bp/key'
# The rule on /srv/bpr denies only reads: the fd opened for appending is allowed, and
# reopening it for reading through /proc/self/fd must be judged again.
attempt "/proc/self/fd reopened for read" /srv/bpr/key '{ path = \"/srv/bpr\", ops = [\"read\"] }' \
    sh -c 'exec 3>>/srv/bpr/key && cat /proc/self/fd/3'

say "RENAME_EXCHANGE of a read-protected file with one outside (the protected one would leave)"
echo outside >/srv/xch
mnt_eperm exchange /srv/xch /srv/bpr/key
wait_for_record '"module":"file"' '"op":"rename"' '"action":"BLOCKED"' '"rule":"{ path = \"/srv/bpr\", ops = [\"read\"] }"'
[ "$(cat /srv/xch)" = outside ] || fail "the exchange happened"

chroot /jail /bin/sleep 60 &
root_pid=$!
(cd /srv/bp && exec /bin/sleep 60) &
cwd_pid=$!
SLEEPERS="$root_pid $cwd_pid"
sleep 0.5
attempt "/proc/PID/root of a chrooted process" "/jail/srv/bp/key" /srv/bp cat "/proc/$root_pid/root/srv/bp/key"
attempt "/proc/PID/cwd of a process in the directory" /srv/bp/key /srv/bp cat "/proc/$cwd_pid/cwd/key"

stop_agent
[ -z "$BAD" ] || fail "bypasses that were not refused as they should be:$BAD"
