# boots: lsm
# kernels: 6.1 6.12
# process-ldso: a denied file mapped executable without any exec is refused against the
# deny rules: `ld.so /denied/prog` (the dynamic loader maps the program itself), an
# mmap(PROT_EXEC) and an mprotect adding PROT_EXEC; each with EPERM and one BLOCKED
# record (op mmap or mprotect, path: the file). The allow list does not apply to mappings:
# libraries live outside it (documented), so a file outside the allow list still maps.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-process-ldso
LDSO=/usr/lib/sg/ld.so
rm -rf "$D"
mkdir -p "$D/denied" "$D/other"
cp /usr/bin/sg-interp-main "$D/denied/prog"
cp /usr/bin/sg-interp-main "$D/other/prog"
expect_ok "$LDSO" "$D/denied/prog"
[ "$OUT" = "main ran" ] || fail "without the agent ld.so should run the program: $OUT"
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
allow = ["/bin", "/sbin", "/usr"]
deny = ["$D/denied"]
EOF

start_agent /tmp/sg.toml
say "ld.so runs a denied program"
run_sh "exec $LDSO $D/denied/prog"
case $OUT in *"main ran"*) fail "ld.so ran the denied program: $OUT" ;; esac
[ "$RC" != 0 ] || fail "ld.so of a denied program succeeded: $OUT"
wait_for_record '"module":"process"' '"op":"mmap"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"path\":\"$D/denied/prog\"" "\"exe\":\"$LDSO\"" "\"rule\":\"$D/denied\""

say "mmap PROT_EXEC of a denied file"
run_sh "exec /usr/bin/sg-exectool mmap $D/denied/prog"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "mmap of a denied file: $OUT" ;; esac
wait_for_record '"op":"mmap"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"path\":\"$D/denied/prog\"" '"exe":"/usr/bin/sg-exectool"' "\"rule\":\"$D/denied\""

say "mprotect adding PROT_EXEC to a mapping of a denied file"
run_sh "exec /usr/bin/sg-exectool mprotect $D/denied/prog"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "mprotect of a denied file: $OUT" ;; esac
wait_for_record '"op":"mprotect"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"path\":\"$D/denied/prog\"" "\"rule\":\"$D/denied\""

say "outside the allow list a mapping is not refused (the allow list is for programs)"
run_sh "exec /usr/bin/sg-exectool mmap $D/other/prog"
case $OUT in *"
ok"*) ;; *) fail "mmap of a file outside the allow list: $OUT" ;; esac
run_sh "exec $LDSO $D/other/prog"
case $OUT in *"main ran"*) ;; *) fail "ld.so of a program outside the allow list: $OUT" ;; esac
say "but running it is"
expect_eperm_sh "exec $D/other/prog"
wait_for_record '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$SH_PID" '"rule":"not in process.allow"'
stop_agent
n=$(count_records '"module":"process"' '"action":"BLOCKED"')
[ "$n" = 4 ] || fail "$n BLOCKED records, want 4"
