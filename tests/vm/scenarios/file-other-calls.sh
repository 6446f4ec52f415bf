# boots: lsm
# kernels: 5.10
# file-other-calls: other system calls that reach a denied file or program, each refused
# with EPERM and a BLOCKED record from the caller's pid: openat2(RESOLVE_*),
# name_to_handle_at + open_by_handle_at, fchownat(AT_EMPTY_PATH) of an O_PATH fd,
# fchmodat2(AT_EMPTY_PATH) of an O_PATH fd (6.6+; before, chmod of its /proc/self/fd
# link), renameat2(RENAME_WHITEOUT) out of and into a denied directory, execveat of an
# O_PATH fd (opening with O_PATH runs no open hook); and through descriptors opened
# before the agent started: mmap of a denied file and execveat of a denied program.
# Reading such a descriptor is not judged (a documented limit): the scenario checks that
# the limit is still what the README says.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

AT=/usr/bin/sg-attacktool
D=/srv/sg-file-other
rm -rf "$D" /tmp/oc-*
mkdir -p "$D/f" "$D/x" "$D/out"
echo s3cret >"$D/f/key"
copy_busybox "$D/x/prog"
echo other >"$D/out/o"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = ["$D/f"]
[process]
mode = "block"
deny = ["$D/x"]
EOF
# descriptors opened before the start, used once the agent runs
(
    exec 3<"$D/f/key" 4<"$D/x/prog"
    while [ ! -e /tmp/oc-go ]; do sleep 0.2; done
    sh -c "echo \$\$ >/tmp/oc-map.pid; exec $AT fdmap 3" >/tmp/oc-map 2>&1
    $AT fdsendfile 3 >/tmp/oc-sendfile 2>&1
    sh -c "echo \$\$ >/tmp/oc-exec.pid; exec $AT fdexec 4 echo RAN" >/tmp/oc-exec 2>&1
    touch /tmp/oc-done
) &
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

# refused WHAT MODULE OP CMD...: EPERM and a BLOCKED record of MODULE and OP from its pid.
refused() {
    what=$1 module=$2 op=$3
    shift 3
    mark_records
    run_sh "exec $*"
    case $OUT in
        *s3cret* | *RAN*) problem "$what: GOT THROUGH (status $RC): $OUT" ;;
        *"Operation not permitted"*) say "refused: $what" ;;
        *) problem "$what: no EPERM (status $RC): $OUT" ;;
    esac
    if find_new_record "\"module\":\"$module\"" "\"op\":\"$op\"" '"action":"BLOCKED"' \
        "\"pid\":$SH_PID"; then
        echo "$REC"
    else
        problem "$what: no BLOCKED $module $op record from pid $SH_PID"
    fi
}

refused "openat2" file read $AT openat2 "$D/f/key"
refused "open_by_handle_at" file read $AT handle "$D/f/key" /
refused "fchownat(AT_EMPTY_PATH) of an O_PATH fd" file chown $AT chown-opath "$D/f/key" 1000
refused "fchmodat2 of an O_PATH fd" file chmod $AT chmod-opath "$D/f/key" 600
refused "RENAME_WHITEOUT out of the denied directory" file rename \
    $AT whiteout "$D/f/key" "$D/out/wo"
refused "RENAME_WHITEOUT into the denied directory" file create \
    $AT whiteout "$D/out/o" "$D/f/new"
refused "execveat of an O_PATH fd" process exec $AT opath-exec "$D/x/prog" echo RAN

say "descriptors opened before the start"
mark_records
touch /tmp/oc-go
i=0
while [ ! -e /tmp/oc-done ]; do
    [ "$i" -lt 150 ] || fail "the holder of the old descriptors did not finish"
    sleep 0.2
    i=$((i + 1))
done
case $(cat /tmp/oc-map) in
    *"mmap: Operation not permitted"*) say "refused: mmap of an old descriptor" ;;
    *) problem "mmap of an old descriptor: $(cat /tmp/oc-map)" ;;
esac
find_new_record '"module":"file"' '"op":"mmap"' '"action":"BLOCKED"' \
    "\"pid\":$(cat /tmp/oc-map.pid)" "\"path\":\"$D/f/key\"" ||
    problem "no BLOCKED mmap record for the old descriptor"
case $(cat /tmp/oc-exec) in
    *"execveat: Operation not permitted"*) say "refused: execveat of an old descriptor" ;;
    *) problem "execveat of an old descriptor: $(cat /tmp/oc-exec)" ;;
esac
find_new_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' \
    "\"pid\":$(cat /tmp/oc-exec.pid)" ||
    problem "no BLOCKED exec record for the old descriptor"
# the documented limit: reads through a descriptor opened before the start
[ "$(cat /tmp/oc-sendfile)" = s3cret ] ||
    problem "sendfile of an old descriptor: $(cat /tmp/oc-sendfile) (README: not judged)"
stop_agent
end_problems "file-other-calls"
