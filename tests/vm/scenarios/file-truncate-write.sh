# boots: lsm
# kernels: none
# file-truncate-write: a truncation destroys a file's content, so it is a write as well as
# setattr. open(O_RDONLY | O_TRUNC) opens for reading (no write judged at open) and then
# truncates, truncate(2) opens nothing: on a write-denied file both are refused with EPERM
# and a BLOCKED write record, and the content stays. An open with O_ACCMODE == 3 (no read,
# no write access: ioctls only) is not judged (README, File rules).
# Every check is tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-file-truncate-write
T=/usr/bin/sg-filetool
rm -rf "$D"
mkdir -p "$D/ro" "$D/free"
echo original >"$D/ro/f"
echo free >"$D/free/f"
echo free >"$D/free/g"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "$D/ro", ops = ["write"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

# refused ARGS...: `sg-filetool ARGS` on $D/ro/f fails with EPERM and a new BLOCKED write
# record for it from its pid.
refused() { file_refused "$T $*" '"op":"write"' "\"path\":\"$D/ro/f\""; }

say "O_RDONLY | O_TRUNC and truncate(2) on a write-denied file"
refused otrunc "$D/ro/f"
refused truncate "$D/ro/f"
expect_eperm_file truncate -s 0 "$D/ro/f"
run_cmd cat "$D/ro/f"
[ "$OUT" = original ] || problem "$D/ro/f now holds '$OUT'"

say "the same without a rule"
run_cmd $T otrunc "$D/free/f"
if [ "$OUT" != ok ] || [ -s "$D/free/f" ]; then problem "otrunc $D/free/f: $OUT"; fi
run_cmd $T truncate "$D/free/g"
if [ "$OUT" != ok ] || [ -s "$D/free/g" ]; then problem "truncate $D/free/g: $OUT"; fi

say "O_ACCMODE == 3 is not judged (no read or write access)"
run_cmd $T open3 "$D/ro/f"
[ "$OUT" = ok ] || problem "open(O_ACCMODE 3) of $D/ro/f: $OUT"

stop_agent
echo "--- file records:"
records '"module":"file"'
end_problems problems
