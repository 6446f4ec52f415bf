# boots: nolsm
# file-degraded-hooks: without BPF LSM the audit-only twins of the newer judgements log
# what block mode would deny, and refuse nothing: mprotect adding PROT_EXEC (and mmap of
# PROT_READ under READ_IMPLIES_EXEC, which security_mmap_file() gets without PROT_EXEC),
# an xattr change, a rename over a write-denied file, O_RDONLY | O_TRUNC. Each succeeds
# with a MONITOR record.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-file-degraded-hooks
T=/usr/bin/sg-filetool
rm -rf "$D"
mkdir -p "$D/noexec" "$D/ro" "$D/src"
copy_busybox "$D/noexec/code"
echo original >"$D/ro/f"
echo original >"$D/ro/g"
echo new >"$D/src/a"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "$D/noexec", ops = ["exec"] }, { path = "$D/ro", ops = ["write", "setattr"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"audit-only"'

# monitored OP PATH ARGS...: `sg-filetool ARGS` succeeds, with a MONITOR record (OP, PATH).
monitored() {
    op=$1 path=$2
    shift 2
    mark_records
    run_cmd $T "$@"
    [ "$OUT" = ok ] || fail "sg-filetool $*: want ok in audit-only mode: $OUT"
    wait_for_new_record '"module":"file"' '"action":"MONITOR"' "\"op\":\"$op\"" "\"path\":\"$path\""
}

monitored exec "$D/noexec/code" mprotect "$D/noexec/code"
monitored exec "$D/noexec/code" mmap "$D/noexec/code" rie
monitored setattr "$D/ro/g" setxattr "$D/ro/g" trusted.sg one
monitored write "$D/ro/g" otrunc "$D/ro/g"
mark_records
run_cmd $T rename "$D/src/a" "$D/ro/f"
[ "$OUT" = ok ] || fail "rename over $D/ro/f: want ok in audit-only mode: $OUT"
wait_for_new_record '"module":"file"' '"action":"MONITOR"' '"op":"write"' "\"target_path\":\"$D/ro/f\""

stop_agent
assert_no_record '"action":"BLOCKED"'
