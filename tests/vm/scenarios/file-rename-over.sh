# boots: lsm
# kernels: 6.1
# file-rename-over: a rename or link onto a name changes what that name holds. A rename
# over a write-denied file replaces its content and one over a delete-denied file removes
# it: judged as write and delete on the replaced file; RENAME_EXCHANGE replaces both files
# (from either side). A rename or link into a create-denied directory adds a name: judged
# as create there. Each is refused with EPERM and a BLOCKED record (op write, delete or
# create, target_path the replaced file or new name), and the file keeps its content.
# Renames and links that no rule concerns still work.
# Every check is tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-file-rename-over
T=/usr/bin/sg-filetool
M=/usr/bin/sg-mounttool
rm -rf "$D"
mkdir -p "$D/src" "$D/ro" "$D/keep" "$D/nocreate" "$D/free" "$D/src/dir" "$D/keep/emptydir"
for f in a b c d e g h; do echo "new $f" >"$D/src/$f"; done
echo original >"$D/ro/f"
echo kept >"$D/keep/f"
echo free >"$D/free/f"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "$D/ro", ops = ["write"] }, { path = "$D/keep", ops = ["delete"] },
        { path = "$D/nocreate", ops = ["create"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

# refused OP TARGET TOOL ARGS...: the tool (sg-filetool or sg-mounttool) fails with EPERM
# and a new BLOCKED record with OP and target_path TARGET comes from its pid. An exchange
# (TARGET "either:NAME"): NAME is path or target_path, and OP may be rename: 5.10 calls
# the hook for an exchange twice, reversed first, without the flag, so its first call
# sees a plain rename of NAME out of its rule (refused by the rule it would shed).
refused() {
    op="\"op\":\"$1\"" target=$2
    shift 2
    case $target in
        either:*) want="${target#either:}\""
            case $(uname -r) in 5.*) op='"op":"' ;; esac ;;
        *) want="\"target_path\":\"$target\"" ;;
    esac
    file_refused "$*" "$op" "$want"
}

say "rename over a write-denied file"
refused write "$D/ro/f" $T rename "$D/src/a" "$D/ro/f"
refused write "$D/ro/f" /bin/mv -f "$D/src/a" "$D/ro/f"
expect_read "$D/ro/f" original

say "RENAME_EXCHANGE with a write-denied file, from either side"
refused write "either:$D/ro/f" $M exchange "$D/src/b" "$D/ro/f"
refused write "either:$D/ro/f" $M exchange "$D/ro/f" "$D/src/b"
expect_read "$D/ro/f" original
expect_read "$D/src/b" "new b"

say "rename over a delete-denied file and an empty directory"
refused delete "$D/keep/f" $T rename "$D/src/c" "$D/keep/f"
refused delete "$D/keep/emptydir" $T rename "$D/src/dir" "$D/keep/emptydir"
expect_read "$D/keep/f" kept
[ -d "$D/src/dir" ] || problem "$D/src/dir moved"

say "rename and link into a create-denied directory"
refused create "$D/nocreate/d" $T rename "$D/src/d" "$D/nocreate/d"
refused create "$D/nocreate/e" /bin/ln "$D/src/e" "$D/nocreate/e"
refused create "$D/nocreate/e2" /bin/mv "$D/src/e" "$D/nocreate/e2"
if [ -n "$(ls "$D/nocreate")" ]; then
    problem "a new name appeared in $D/nocreate: $(ls "$D/nocreate")"
fi

say "renames and links no rule concerns"
run_cmd $T rename "$D/src/g" "$D/free/f"
[ "$OUT" = ok ] || problem "rename over $D/free/f: $OUT"
expect_read "$D/free/f" "new g"
run_cmd $M exchange "$D/src/h" "$D/free/f"
[ "$OUT" = ok ] || problem "exchange with $D/free/f: $OUT"
run_cmd /bin/ln "$D/free/f" "$D/free/link"
[ "$RC" = 0 ] || problem "ln into $D/free: $OUT"
say "a new name in the write-denied directory is no write of a file"
run_cmd $T rename "$D/src/h" "$D/ro/h"
[ "$OUT" = ok ] || problem "rename to the new name $D/ro/h: $OUT"

stop_agent
echo "--- file records:"
records '"module":"file"'
end_problems problems
