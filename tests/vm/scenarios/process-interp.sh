# boots: lsm
# kernels: 6.1
# process-interp: every file the kernel opens to execute is judged against the deny rules,
# not only the program bprm_check sees. A denied file run as the ELF interpreter
# (PT_INTERP) of an allowed program is refused with EPERM and one BLOCKED record (filename:
# the PT_INTERP name; exe: the denied file); so is a denied file run through an fd
# (execveat AT_EMPTY_PATH) or /proc/self/fd/N, and uselib(2) where the kernel has it. An
# allowed interpreter still runs; a memfd COPY of a denied file is another file and runs
# (documented limit). In monitor mode the interpreter runs with exactly one MONITOR record.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-process-interp
rm -rf "$D"
mkdir -p "$D/denied" "$D/ok"
cp /usr/bin/sg-interp "$D/denied/ld.so"
cp /usr/bin/sg-interp "$D/ok/ld.so"
copy_busybox "$D/denied/tool"
ln -sf "$D/denied/ld.so" /tmp/sg-interp
expect_ok /usr/bin/sg-interp-main
[ "$OUT" = "interp ran" ] || fail "without the agent the interpreter should run: $OUT"
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
deny = ["$D/denied"]
EOF

start_agent /tmp/sg.toml
say "a denied file as the ELF interpreter of an allowed program"
expect_eperm_sh 'exec /usr/bin/sg-interp-main'
case $OUT in *"interp ran"*) fail "the denied interpreter ran: $OUT" ;; esac
wait_for_record '"module":"process"' '"op":"exec"' '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has '"filename":"/tmp/sg-interp"' "\"exe\":\"$D/denied/ld.so\"" "\"rule\":\"$D/denied\"" \
    '"comm":"sh"'
n=$(count_records '"action":"BLOCKED"' "\"pid\":$SH_PID")
[ "$n" = 1 ] || fail "$n BLOCKED records for pid $SH_PID, want 1"

say "an allowed interpreter still runs"
ln -sf "$D/ok/ld.so" /tmp/sg-interp
expect_ok /usr/bin/sg-interp-main
[ "$OUT" = "interp ran" ] || fail "the allowed interpreter did not run: $OUT"

say "the denied program through an fd (execveat AT_EMPTY_PATH)"
run_sh "exec /usr/bin/sg-exectool fexecve $D/denied/tool true"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "fexecve of a denied file: $OUT" ;; esac
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"exe\":\"$D/denied/tool\"" "\"rule\":\"$D/denied\""

say "the denied program through /proc/self/fd/N"
run_sh "exec /usr/bin/sg-exectool procfd $D/denied/tool true"
case $OUT in *"error: Operation not permitted"*) ;; *) fail "exec of /proc/self/fd/N: $OUT" ;; esac
wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID"
rec_has "\"exe\":\"$D/denied/tool\"" "\"rule\":\"$D/denied\""

say "uselib(2) of a denied file"
run_sh "exec /usr/bin/sg-exectool uselib $D/denied/ld.so"
case $OUT in
    *"Function not implemented"*) say "uselib: not in this kernel" ;;
    *"error: Operation not permitted"*)
        wait_for_record '"action":"BLOCKED"' "\"pid\":$SH_PID"
        rec_has '"op":"exec"' "\"filename\":\"$D/denied/ld.so\"" "\"rule\":\"$D/denied\"" ;;
    *) fail "uselib of a denied file: $OUT" ;;
esac

say "a memfd copy of a denied file is another file (documented limit)"
run_sh "exec /usr/bin/sg-exectool memfd $D/denied/tool true"
[ "$RC" = 0 ] || fail "the memfd copy did not run (status $RC: $OUT)"
stop_agent

say "monitor mode: the denied interpreter runs, with one MONITOR record"
sed -i 's/^mode = "block"/mode = "monitor"/' /tmp/sg.toml
rm -f /tmp/sg.log
ln -sf "$D/denied/ld.so" /tmp/sg-interp
start_agent /tmp/sg.toml
run_sh 'exec /usr/bin/sg-interp-main'
case $OUT in *"interp ran"*) ;; *) fail "monitor mode: the interpreter did not run: $OUT" ;; esac
wait_for_record '"action":"MONITOR"' "\"pid\":$SH_PID"
rec_has '"op":"exec"' '"filename":"/tmp/sg-interp"' "\"exe\":\"$D/denied/ld.so\""
stop_agent
n=$(count_records '"action":"MONITOR"' "\"pid\":$SH_PID")
[ "$n" = 1 ] || fail "$n MONITOR records for pid $SH_PID, want 1"
assert_no_record '"action":"BLOCKED"'
