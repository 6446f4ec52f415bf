# boots: lsm
# kernels: none
# detect-files: the file detections (credential_access, account_tamper, persistence,
# log_tamper) and privilege_escalation, each run for real by a busybox shell: a read of shadow (by its name, by a
# hard link, through a bind mount), authorized_keys created, passwd renamed over, a
# sudoers.d link, a cron.d file and a new /etc/ld.so.preload, a log deleted, truncated,
# renamed, wtmp written. One agent, block mode: what `block` refuses gets EPERM and leaves
# the file as it was, what `kill` answers ends before its next step; every record names
# the detection, technique, path and access; an exclusion by executable identity reads
# shadow unseen; writes that are no tampering (a log appended to) raise nothing. A task
# without root ids that holds CAP_SETUID calls setuid(0): refused; exec of a setuid-root
# file, su from root and a user's new user namespace raise nothing.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

# detected NAME ACTION PATTERN...: a new detect record NAME with ACTION from $SH_PID.
detected() {
    name=$1 action=$2
    shift 2
    if find_new_record '"module":"detect"' "\"op\":\"$name\"" "\"action\":\"$action\"" "\"pid\":$SH_PID" "$@"; then
        echo "$REC"
    else
        problem "no $action $name record from pid $SH_PID with: $*"
    fi
}

# eperm: the last run_sh failed with EPERM; killed: status 137, nothing after the pid line.
eperm() { case $OUT in *"Operation not permitted"*) ;; *) problem "want EPERM (status $RC): $OUT" ;; esac; }
killed() {
    rest=$(printf '%s\n' "$OUT" | tail -n +2)
    { [ "$RC" = 137 ] && [ -z "$rest" ]; } || problem "want SIGKILL before the next step (status $RC): $OUT"
}

# The guest's /etc, /root and /var/log outlive this scenario (init wipes only /tmp and
# /opt): what it creates goes at its end.
cleanup() {
    # after a failure the agent still runs and would refuse the clean-up
    if [ -n "$AGENT_PID" ]; then
        kill -9 "$AGENT_PID"
        wait "$AGENT_PID"
    fi
    umount /mnt/etc 2>/dev/null
    rm -rf /etc/shadow /root/shadow.bak /root/.ssh /etc/passwd.new /etc/sudoers.d /root/evil-sudo \
        /etc/cron.d /etc/ld.so.preload /var/log/auth.log /var/log/auth.old /var/log/wtmp /mnt/etc
}
cleanup
trap cleanup EXIT

# The files exist at start (watched by identity); authorized_keys, cron.d/sg-evil and
# ld.so.preload do not (watched by their names).
echo 'root:sg-secret-hash:19000:0:99999:7:::' >/etc/shadow
chmod 600 /etc/shadow
ln /etc/shadow /root/shadow.bak
mkdir -p /root/.ssh /etc/sudoers.d /etc/cron.d /var/log /mnt/etc
echo 'auth line 1' >/var/log/auth.log
echo 'login record' >/var/log/wtmp
mount --bind /etc /mnt/etc || fail "bind mount of /etc"
copy_busybox /opt/sg-reader
DT=/usr/bin/sg-detecttool
cp "$DT" /opt/sg-suid && chmod 4755 /opt/sg-suid

# The other detections are the detect scenario's (and their programs cost start time).
cat >/tmp/sg.toml <<'TOML'
[log]
format = "json"
output = "/tmp/sg.log"
[detect]
mode = "block"
response = { credential_access = "block", account_tamper = "block", persistence = "kill", log_tamper = "block", privilege_escalation = "block" }
exclude = [{ detection = "credential_access", command = ["/opt/sg-reader"] }]
disable = ["reverse_shell", "fileless_exec", "exec_from_writable", "module_load", "ptrace_inject", "bpf_load", "userns_create"]
TOML
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
rec_has '"detect":"enforcing"'
mark_records

say "credential_access: shadow read by its name, a hard link, a bind mount; an excluded reader"
run_sh "exec cat /etc/shadow"
eperm
detected credential_access BLOCKED '"technique":"T1003.008"' '"severity":"high"' '"path":"/etc/shadow"' \
    '"access":"read"' '"exe":"/bin/busybox"' '"parent_exe":"/bin/busybox"'
run_sh "exec cat /root/shadow.bak"
eperm
detected credential_access BLOCKED '"path":"/root/shadow.bak"'
run_sh "exec cat /mnt/etc/shadow"
eperm
detected credential_access BLOCKED '"path":"/mnt/etc/shadow"'
run_sh "exec -a cat /opt/sg-reader /etc/shadow"
case $OUT in *sg-secret-hash*) ;; *) problem "the excluded reader did not read shadow (status $RC): $OUT" ;; esac
READER=$SH_PID
end_problems "credential_access"

say "account_tamper: authorized_keys created, passwd renamed over, a sudoers.d link"
run_sh "echo 'ssh-ed25519 AAAA attacker' >>/root/.ssh/authorized_keys"
eperm
[ ! -s /root/.ssh/authorized_keys ] || problem "authorized_keys was written"
detected account_tamper BLOCKED '"technique":"T1098"' '"path":"/root/.ssh/authorized_keys"' '"access":"write"'
cp /etc/passwd /etc/passwd.new && echo 'evil:x:0:0::/root:/bin/sh' >>/etc/passwd.new
run_sh "exec mv /etc/passwd.new /etc/passwd"
eperm
grep -q '^evil:' /etc/passwd && problem "passwd was replaced"
detected account_tamper BLOCKED '"path":"/etc/passwd"' '"access":"rename"'
echo 'evil ALL=(ALL) NOPASSWD: ALL' >/root/evil-sudo
run_sh "exec ln /root/evil-sudo /etc/sudoers.d/evil"
eperm
[ ! -e /etc/sudoers.d/evil ] || problem "the sudoers.d link was made"
detected account_tamper BLOCKED '"path":"/etc/sudoers.d/evil"' '"access":"link"'
end_problems "account_tamper"

say "persistence: a cron.d file and a new ld.so.preload, killed"
run_sh "echo '* * * * * root sh' >/etc/cron.d/sg-evil; echo after"
killed
[ ! -s /etc/cron.d/sg-evil ] || problem "the killed shell wrote cron.d/sg-evil"
detected persistence KILLED '"technique":"T1543"' '"path":"/etc/cron.d/sg-evil"' '"access":"write"'
run_sh "echo /tmp/evil.so >/etc/ld.so.preload; echo after"
killed
[ ! -s /etc/ld.so.preload ] || problem "the killed shell wrote ld.so.preload"
detected persistence KILLED '"path":"/etc/ld.so.preload"'
end_problems "persistence"

say "log_tamper: a log deleted, truncated, renamed; wtmp written; an append is no tampering"
run_sh "exec rm /var/log/auth.log"
eperm
detected log_tamper BLOCKED '"technique":"T1070.002"' '"path":"/var/log/auth.log"' '"access":"delete"'
run_sh ": >/var/log/auth.log"
eperm
detected log_tamper BLOCKED '"path":"/var/log/auth.log"' '"access":"truncate"'
run_sh "exec mv /var/log/auth.log /var/log/auth.old"
eperm
detected log_tamper BLOCKED '"path":"/var/log/auth.log"' '"access":"rename"'
[ "$(cat /var/log/auth.log)" = 'auth line 1' ] || problem "auth.log changed: $(cat /var/log/auth.log)"
run_sh "echo forged >>/var/log/wtmp"
eperm
detected log_tamper BLOCKED '"path":"/var/log/wtmp"' '"access":"write"'
run_sh "echo 'auth line 2' >>/var/log/auth.log"
[ "$RC" = 0 ] || problem "appending to auth.log: status $RC: $OUT"
APPEND=$SH_PID
end_problems "log_tamper"

say "privilege_escalation: setuid(0) with a kept CAP_SETUID; a setuid-root exec, su and a new user namespace are none"
run_sh "exec $DT capsetuid 1000"
case $OUT in *"dropped 1000"*"Operation not permitted"*) ;; *) problem "capsetuid: want EPERM after the drop (status $RC): $OUT" ;; esac
detected privilege_escalation BLOCKED '"technique":"T1068"' '"severity":"critical"' '"level":"CRITICAL"' \
    '"old_uid":1000' '"via":"setuid"'
run_cmd su -s /bin/sh user -c "echo \$\$ \$PPID; exec /opt/sg-suid ids"
sh_pids
case $OUT in *"uid 1000 euid 0"*) ;; *) problem "the setuid-root file did not run as euid 0 (status $RC): $OUT" ;; esac
SUID=$SH_PID
# A new user namespace gives every capability inside it: no escalation (whether or not
# this kernel lets an unprivileged user make one).
run_cmd su -s /bin/sh user -c "echo \$\$ \$PPID; exec $DT userns"
sh_pids
USERNS=$SH_PID
end_problems "privilege_escalation"

stop_agent
assert_no_record '"module":"detect"' '"op":"privilege_escalation"' "\"pid\":$SUID"
assert_no_record '"module":"detect"' '"op":"privilege_escalation"' "\"pid\":$USERNS"
assert_no_record '"module":"detect"' "\"pid\":$READER"
assert_no_record '"module":"detect"' "\"pid\":$APPEND"
n=$(count_records '"module":"detect"')
[ "$n" = 13 ] || fail "$n detect records, want 13: $(records '"module":"detect"')"
