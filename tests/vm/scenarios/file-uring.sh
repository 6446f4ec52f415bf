# boots: lsm
# kernels: 6.12
# file-uring: io_uring reaches files without the system calls: IORING_OP_OPENAT,
# RENAMEAT, UNLINKAT and LINKAT (not on 5.10), each inline in the submitting task and, with
# IOSQE_ASYNC, in an io-wq worker (a thread of the submitter named iou-wrk-PID; upstream
# 5.10 used kernel threads, Debian's 5.10 has 5.15's io_uring). Every form is refused with EPERM and a BLOCKED record naming the submitter's
# process. With target = "container", a task in a new pid namespace is refused through
# the worker too: the worker is judged as the task it works for.
# Every check is tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-file-uring
T=/usr/bin/sg-filetool
rm -rf "$D"
mkdir -p "$D/deny" "$D/free"
echo data >"$D/deny/f"
for target in all container; do
    cat >"/tmp/sg-$target.toml" <<EOF2
[log]
format = "json"
output = "/tmp/sg-$target.log"
[file]
mode = "block"
target = "$target"
deny = ["$D/deny"]
EOF2
done

# refused OP PATH ARGS...: `sg-filetool ARGS` (run by a shell that execs it, so the pid
# is known) fails with EPERM and writes a BLOCKED record with OP for PATH from that pid.
refused() {
    op=$1 path=$2
    shift 2
    file_refused "$T $*" "\"op\":\"$op\"" "\"path\":\"$path\""
}

# Debian's 5.10 carries 5.15's io_uring (imported into 5.10-stable in 5.10.162) but
# without IORING_OP_LINKAT (EINVAL there); 6.1 and 6.12 have every operation used here.
case $(uname -r) in
    5.10.*) VERBS="open rename unlink" ;;
    *) VERBS="open rename link unlink" ;;
esac

say "target = all: every operation, inline and in a worker"
start_agent /tmp/sg-all.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
for mode in ur ura; do
    for verb in $VERBS; do
        case $verb in
            open) refused read "$D/deny/f" "${mode}open" "$D/deny/f" r
                refused write "$D/deny/f" "${mode}open" "$D/deny/f" w ;;
            rename) refused rename "$D/deny/f" "${mode}rename" "$D/deny/f" "$D/free/g" ;;
            link) refused link "$D/deny/f" "${mode}link" "$D/deny/f" "$D/free/g" ;;
            unlink) refused delete "$D/deny/f" "${mode}unlink" "$D/deny/f" ;;
        esac
        [ -f "$D/deny/f" ] && [ ! -e "$D/free/g" ] || problem "${mode}$verb changed the files"
        rm -f "$D/free/g"
    done
done
say "no rule: the same operations go through"
echo data >"$D/free/a"
run_cmd $T uraopen "$D/free/a" r
[ "$OUT" = ok ] || problem "uraopen of a free file: $OUT"
stop_agent

say "target = container: a task in a new pid namespace, through a worker"
start_agent /tmp/sg-container.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
run_cmd $T uraopen "$D/deny/f" r
[ "$OUT" = ok ] || problem "the host's uraopen: $OUT"
for mode in ur ura; do
    mark_records
    run_cmd unshare -p -f --mount-proc $T "${mode}open" "$D/deny/f" r
    case $OUT in
        *"error: "*"Operation not permitted"*) say "refused in a container: ${mode}open" ;;
        *) problem "${mode}open in a container: no EPERM (status $RC): $OUT" ;;
    esac
    find_new_record '"module":"file"' '"action":"BLOCKED"' '"op":"read"' "\"path\":\"$D/deny/f\"" \
        '"container":true' || problem "no BLOCKED container record for ${mode}open"
done
stop_agent
echo "--- file records:"
records '"module":"file"'
rm -rf "$D"
end_problems problems
