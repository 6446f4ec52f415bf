# boots: lsm
# kernels: 6.1 6.12
# process-link-rename: a hard link or a rename that would take a file out of a process deny
# rule is refused (EPERM, one BLOCKED record: op link/rename, path, target_path, the rule):
# ln, linkat(AT_EMPTY_PATH), mv, io_uring's LINKAT and RENAMEAT (also in an io-wq
# worker), RENAME_EXCHANGE either way round, and for a rule path
# made after the start (by path only). Inside the same rule both are allowed. Renaming the
# denied directory itself or a directory above it is allowed: the rule follows its
# identity, and the program stays refused at its new place. Monitor mode: MONITOR record.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-process-link
rm -rf "$D"
mkdir -p "$D/top/denied/sub" "$D/out"
copy_busybox "$D/top/denied/tool"
echo other >"$D/out/other"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[file]
enable = false
[network]
enable = false
[process]
mode = "block"
ops = ["exec"]
deny = ["$D/top/denied", "$D/later"]
EOF

start_agent /tmp/sg.toml
T=$D/top/denied/tool
say "ln out of the denied directory"
expect_eperm_file ln "$T" "$D/out/ln"
wait_for_record '"module":"process"' '"op":"link"' '"action":"BLOCKED"'
rec_has "\"path\":\"$T\"" "\"target_path\":\"$D/out/ln\"" "\"rule\":\"$D/top/denied\"" \
    '"exe":"/bin/busybox"'
[ ! -e "$D/out/ln" ] || fail "the link was made"

say "linkat(AT_EMPTY_PATH) of an fd"
run_sh "exec /usr/bin/sg-exectool flink $T $D/out/flink"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "flink: $OUT" ;; esac
wait_for_record '"op":"link"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"target_path\":\"$D/out/flink\""

say "mv out of the denied directory"
expect_eperm_file mv "$T" "$D/out/mv"
wait_for_record '"op":"rename"' '"action":"BLOCKED"' "\"target_path\":\"$D/out/mv\""
rec_has "\"path\":\"$T\"" "\"rule\":\"$D/top/denied\""
[ -e "$T" ] || fail "the file moved"

say "io_uring: IORING_OP_LINKAT and IORING_OP_RENAMEAT, inline and in an io-wq worker"
verbs="urlink uralink urrename urarename"
case $(uname -r) in 5.10.*) verbs="urrename urarename" ;; esac # no IORING_OP_LINKAT
for verb in $verbs; do
    run_sh "exec /usr/bin/sg-filetool $verb $T $D/out/$verb"
    case $OUT in *"error: "*"Operation not permitted"*) ;; *) fail "$verb: $OUT" ;; esac
    case $verb in *link) op="link" ;; *) op="rename" ;; esac
    wait_for_record "\"op\":\"$op\"" '"action":"BLOCKED"' "\"pid\":$SH_PID"
    rec_has "\"path\":\"$T\"" "\"target_path\":\"$D/out/$verb\""
    [ -e "$T" ] && [ ! -e "$D/out/$verb" ] || fail "$verb took the file out"
done

say "RENAME_EXCHANGE with a file outside, either way round"
run_sh "exec /usr/bin/sg-exectool exchange $T $D/out/other"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "exchange: $OUT" ;; esac
wait_for_record '"op":"rename"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
run_sh "exec /usr/bin/sg-exectool exchange $D/out/other $T"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "exchange reversed: $OUT" ;; esac
wait_for_record '"op":"rename"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"path\":\"$T\"" "\"target_path\":\"$D/out/other\"" "\"rule\":\"$D/top/denied\""

say "inside the same rule: allowed"
expect_ok ln "$T" "$D/top/denied/sub/ln"
expect_ok mv "$D/top/denied/sub/ln" "$D/top/denied/renamed"

say "a rule path made after the start (matched by path)"
mkdir -p "$D/later"
copy_busybox "$D/later/tool"
expect_eperm_file ln "$D/later/tool" "$D/out/later-ln"
wait_for_record '"op":"link"' '"action":"BLOCKED"' "\"target_path\":\"$D/out/later-ln\""
rec_has "\"rule\":\"$D/later\""
expect_eperm_file mv "$D/later/tool" "$D/out/later-mv"
wait_for_record '"op":"rename"' '"action":"BLOCKED"' "\"target_path\":\"$D/out/later-mv\""
expect_eperm_file mv "$D/later" "$D/out/later-dir"
wait_for_record '"op":"rename"' '"action":"BLOCKED"' "\"target_path\":\"$D/out/later-dir\""

say "the denied directory renamed, then a directory above it: the rule follows"
expect_ok mv "$D/top/denied" "$D/top/moved"
expect_ok mv "$D/top" "$D/top2"
expect_eperm_sh "exec $D/top2/moved/tool true"
wait_for_record '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"exe\":\"$D/top2/moved/tool\"" "\"rule\":\"$D/top/denied\""
stop_agent
n=$(count_records '"module":"process"' '"action":"BLOCKED"')
want=$((9 + $(echo "$verbs" | wc -w)))
[ "$n" = "$want" ] || fail "$n BLOCKED records, want $want"

say "monitor mode: the link is made, with a MONITOR record"
sed -i 's/^mode = "block"/mode = "monitor"/' /tmp/sg.toml
rm -f /tmp/sg.log
start_agent /tmp/sg.toml
expect_ok ln "$D/later/tool" "$D/out/monitored"
wait_for_record '"op":"link"' '"action":"MONITOR"' "\"target_path\":\"$D/out/monitored\""
stop_agent
assert_no_record '"action":"BLOCKED"'
