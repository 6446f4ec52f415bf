# boots: lsm
# kernels: 6.12
# file-mprotect-exec: a file outside the exec allow list (or under an exec deny rule) cannot
# be made executable in memory by another road than mmap(PROT_EXEC): mmap(PROT_READ) then
# mprotect(PROT_EXEC), or PROT_READ under the READ_IMPLIES_EXEC personality (mmap or
# mprotect), are refused with EPERM and a BLOCKED record with op exec. Files in the allow
# list still can.
# Every check is tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-file-mprotect-exec
T=/usr/bin/sg-filetool
rm -rf "$D"
mkdir -p "$D/ok" "$D/out"
copy_busybox "$D/out/code"
copy_busybox "$D/ok/code"
copy_busybox "$D/ok/denied"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
allow = [{ path = "/bin", ops = ["exec"] }, { path = "/usr", ops = ["exec"] }, { path = "$D/ok", ops = ["exec"] }]
deny = [{ path = "$D/ok/denied", ops = ["exec"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

# refused FILE RULE HOW...: `sg-filetool HOW... ` on FILE fails with EPERM, with a new
# BLOCKED exec record for FILE from that process carrying RULE.
refused() {
    file=$1 rule=$2
    shift 2
    file_refused "$T $*" '"op":"exec"' "\"path\":\"$file\""
    case $REC in "" | *"$rule"*) ;; *) problem "the record of $* lacks $rule" ;; esac
}

# allowed HOW...: `sg-filetool HOW...` succeeds.
allowed() {
    run_cmd $T "$@"
    [ "$OUT" = ok ] || problem "sg-filetool $*: want ok (status $RC): $OUT"
}

NOT='"rule":"not in file.allow"'
say "outside the exec allow list"
refused "$D/out/code" "$NOT" mmap "$D/out/code" exec
refused "$D/out/code" "$NOT" mprotect "$D/out/code"
refused "$D/out/code" "$NOT" mprotect "$D/out/code" rie
refused "$D/out/code" "$NOT" mmap "$D/out/code" rie

say "an exec deny rule inside the allow list"
refused "$D/ok/denied" "\"rule\":\"{ path = \\\"$D/ok/denied\\\", ops = [\\\"exec\\\"] }\"" mprotect "$D/ok/denied"
refused "$D/ok/denied" '"level":"WARNING"' mprotect "$D/ok/denied" rie

say "in the allow list: allowed"
allowed mprotect "$D/ok/code"
allowed mprotect "$D/ok/code" rie
allowed mmap "$D/ok/code" exec
allowed mmap "$D/ok/code" rie

stop_agent
echo "--- file records:"
records '"module":"file"'
end_problems problems
