# boots: all
# bad-config: an unknown key is an error that names the file, the line and the key; run and
# check exit 2, and run attaches nothing (no start record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

cat >/tmp/bad.toml <<'EOF'
[log]
output = "/tmp/sg.log"
no_such_key = 1
[process]
mode = "block"
EOF
SG_LOG=/tmp/sg.log

for cmd in run check; do
    say "safeguard $cmd"
    run_cmd timeout 60 "$SG" "$cmd" -c /tmp/bad.toml
    echo "$OUT"
    [ "$RC" = 2 ] || fail "safeguard $cmd exited $RC on an unknown key, want 2"
    for want in /tmp/bad.toml :3: no_such_key; do
        case $OUT in *"$want"*) ;; *) fail "safeguard $cmd's message lacks '$want'" ;; esac
    done
done
assert_no_record '"module":"agent"' '"op":"start"'
