# boots: lsm
# kernels: 5.10
# file-allowlist: allow rules for exec only make exec allow-listed (SPEC 3.1): a file
# outside /usr, /bin and /sbin cannot be executed (EPERM, "rule":"not in file.allow"),
# while files under them run, and other ops (read) stay free.
# /bin is in the list because the guest's busybox lives at /bin/busybox: every applet
# (/usr/bin/* included) is a symlink to it, and an exec is judged on the resolved file.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

copy_busybox /opt/bin/evil
copy_busybox /usr/local/bin/ok
printf '#!/bin/sh\necho script-ran\n' >/opt/bin/script
chmod 755 /opt/bin/script
cleanup_al() { rm -rf /usr/local/bin/ok; }
trap cleanup_al EXIT
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
allow = [{ path = "/usr", ops = ["exec"] }, { path = "/bin", ops = ["exec"] }, { path = "/sbin", ops = ["exec"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

say "/bin/true, /usr/bin/env and a copy under /usr/local/bin run"
expect_ok /bin/true
expect_ok /usr/bin/env /bin/true
run_sh 'exec -a true /usr/local/bin/ok'
[ "$RC" = 0 ] || fail "/usr/local/bin/ok (as true): status $RC, output: $OUT"

say "reading a file outside the list is not affected"
expect_ok cat /opt/bin/script

# The refusals are tried both, and their problems listed together at the end.
WAIT_SECS=8
BAD=""
# refused_exec PATH: `exec PATH` in a shell fails with EPERM (status 126) and gives a
# BLOCKED exec record for PATH with rule "not in file.allow" naming that shell.
refused_exec() {
    say "exec $1 is refused"
    mark_records
    run_sh "exec $1"
    case $OUT in
        *"Operation not permitted"*) [ "$RC" = 126 ] || BAD="$BAD
  exec $1: status $RC (want 126): $OUT" ;;
        *) BAD="$BAD
  exec $1: no EPERM, status $RC (139 = SIGSEGV), output: $OUT" ;;
    esac
    if find_new_record '"module":"file"' '"action":"BLOCKED"' "\"path\":\"$1\""; then
        echo "$REC"
        for p in '"op":"exec"' "\"pid\":$SH_PID" '"rule":"not in file.allow"' '"comm":"sh"'; do
            case $REC in *"$p"*) ;; *) BAD="$BAD
  exec $1: the BLOCKED record lacks $p" ;; esac
        done
    else
        BAD="$BAD
  exec $1: no BLOCKED record"
    fi
}
refused_exec /opt/bin/evil
# A script: the kernel opens the script itself for exec, then its interpreter (allowed).
refused_exec /opt/bin/script

stop_agent
[ -z "$BAD" ] || fail "problems:$BAD"
n=$(count_records '"module":"file"' '"action":"BLOCKED"')
[ "$n" = 2 ] || fail "$n BLOCKED records, want 2"
assert_no_record '"path":"/usr/local/bin/ok"'
