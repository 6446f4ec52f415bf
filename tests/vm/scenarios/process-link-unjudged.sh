# boots: lsm
# kernels: 6.12
# process-link-unjudged: a program under a process deny rule cannot be given a name
# outside the rule by a hard link or a rename from a place the walk cannot resolve. Found
# by attack4 (issue #12's class 3; a bypass on 5.10, 6.1 and 6.12, as root, with only
# process deny rules): the link/rename guard (guard() in bpf/process.bpf.c) let a source
# through when it was judged SG_RULE_UNRESOLVED or SG_RULE_DETACHED, the very verdicts on
# which judge_exec refuses to RUN it (its rule may be above the part the walk could not
# see). Now such a source gets no new name (scenarios/process-link-deep-cut.sh).
# 1. deep: the program pushed more than 64 directories below the rule by renaming a
#    directory above it into a chain of 60 directories inside the rule (each rename's
#    destination is still within reach of the walk, so it stays inside the rule and is
#    allowed); the program itself does not run (path not resolved completely), and `ln`
#    or `mv` of it to a name outside the rule is refused.
# 2. disconnected: the program reopened by file handle (name_to_handle_at, drop the
#    dentry cache, open_by_handle_at(O_PATH)) on a filesystem that evicts its dentries,
#    decodes handles and has hard links (overlayfs with index=on,nfs_export=on, layers on
#    one tmpfs): a DISCONNECTED dentry (d_path "/"); execveat of it is refused (detached),
#    and so is linkat(fd, "", NEW, AT_EMPTY_PATH) to a name outside the rule. Needs
#    CAP_DAC_READ_SEARCH (root).
# Each attempt must fail with EPERM and a BLOCKED record, and nothing may print RAN.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

A=/usr/bin/sg-attacktool
D=/tmp/sg-plu
T=/mnt/plu-t
O=/mnt/plu-o
cleanup_plu() {
    umount "$O" 2>/dev/null
    umount "$T" 2>/dev/null
    rmdir "$O" "$T" 2>/dev/null
    rm -rf "$D"
}
trap cleanup_plu EXIT
cleanup_plu
DEEP=$D/denied
i=1
while [ "$i" -le 60 ]; do
    DEEP=$DEEP/c$i
    i=$((i + 1))
done
mkdir -p "$DEEP" "$D/denied/a/b1/b2/b3/b4/b5/b6" "$T" "$O" || fail "mkdir"
copy_busybox "$D/denied/a/b1/b2/b3/b4/b5/b6/tool"
TOOL=$DEEP/a/b1/b2/b3/b4/b5/b6/tool
mount -t tmpfs tmpfs "$T" || fail "mount tmpfs $T"
mkdir -p "$T/lower" "$T/upper/denied" "$T/work"
copy_busybox "$T/upper/denied/tool"
load_overlayfs
OVL=0
if mount -t overlay none -o "lowerdir=$T/lower,upperdir=$T/upper,workdir=$T/work,index=on,nfs_export=on" "$O"; then
    OVL=1
else
    say "no overlayfs with nfs_export: the disconnected variant is skipped"
fi

cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
enable = false
[process]
mode = "block"
deny = ["$D/denied", "$O/denied"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
WAIT_SECS=8
BAD=""

say "=== deep: the program pushed more than 64 directories below its rule"
mv "$D/denied/a" "$DEEP/a" || fail "mv $D/denied/a into the chain was refused"
mark_records
run_cmd /bin/sh -c "exec -a echo $TOOL RAN"
expect_refused "the deep program run in place (control)"
mark_records
run_cmd /bin/sh -c "ln $TOOL $D/tool-ln && exec -a echo $D/tool-ln RAN"
expect_refused "ln of the deep program out of its rule, then run"
mark_records
run_cmd /bin/sh -c "mv $TOOL $D/tool-mv && exec -a echo $D/tool-mv RAN"
expect_refused "mv of the deep program out of its rule, then run"

if [ "$OVL" = 1 ]; then
    say "=== disconnected: the program reopened by file handle, linkat(AT_EMPTY_PATH) out"
    mark_records
    run_cmd /bin/sh -c "exec -a echo $O/denied/tool RAN"
    expect_refused "the overlay program run in place (control)"
    for n in 1 2 3; do
        mark_records
        run_cmd /bin/sh -c "$A hlink $O/denied/tool $O $O/tool-out$n; exec -a echo $O/tool-out$n RAN"
        expect_refused "attempt $n: open_by_handle_at(O_PATH) + linkat(AT_EMPTY_PATH) to $O/tool-out$n, then run"
    done
fi
stop_agent
[ -z "$BAD" ] || fail "a denied program got a name outside its rule and ran:$BAD"
