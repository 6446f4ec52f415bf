# boots: lsm
# kernels: 6.1
# file-rule-path-replaced: a rule names a path (SPEC 3.1). The agent finds rule paths by
# identity (device, inode) taken at start; when the file or directory at the rule path is
# replaced by another one (sed -i, editors and package managers write a new file and rename
# it over the old one), the rule must still apply to what is now at that path: the rule
# follows the name. Every way of binding a new inode to the name is tried:
# - rename over it (`sed -i`), with rename not denied by the rule (over a write-denied
#   file that is a write, refused: README, File rules; so a chmod rule shows it);
# - unlink, then create (`rm` + `>`);
# - unlink, then a hard link of another file (`ln`): that file is then protected by
#   every name;
# - a rule directory: moving it away is refused (it would shed the rule); removed and
#   made again, the new directory carries the rule;
# - a rule path missing at start, created later: it gets the rule's identity too (a bind
#   mount of it, whose path is not the rule's, is judged by that identity).
# The first agent has only rule paths that exist, so it matches by identity alone (no
# path lookups that would hide a missing identity); the second has the missing one.
# Every check is tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

rm -rf /srv/rp /srv/rd /srv/rd.old /srv/other
mkdir -p /srv/rp /srv/rd
echo 'root:x:0:0' >/srv/rp/passwd
echo 'root:x:0:' >/srv/rp/group
echo old >/srv/rd/f0
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [
    { path = "/srv/rp/passwd", ops = ["write"] },
    { path = "/srv/rp/group", ops = ["chmod"] },
    { path = "/srv/rd", ops = ["write"] },
]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
grep -q "matched by path" "$AGENT_ERR" && fail "every rule path exists: no path matching expected"
WAIT_SECS=8
BAD=""

# refused WHAT PATH SCRIPT: SCRIPT must fail with EPERM and give a BLOCKED write record
# for PATH; otherwise the problem is noted in $BAD.
refused() {
    mark_records
    run_cmd sh -c "$3"
    case $OUT in
        *"Operation not permitted"*)
            find_new_record '"op":"write"' '"action":"BLOCKED"' "\"path\":\"$2\"" ||
                BAD="$BAD
  $1: refused but no BLOCKED record for $2"
            say "refused: $1" ;;
        *) BAD="$BAD
  $1: allowed (status $RC, output '$OUT')" ;;
    esac
}

say "before: writing is refused"
expect_eperm_file_sh 'echo x >>/srv/rp/passwd'
wait_for_record '"op":"write"' '"action":"BLOCKED"' '"path":"/srv/rp/passwd"'
expect_eperm_file_sh 'echo x >>/srv/rd/f0'
wait_for_record '"op":"write"' '"action":"BLOCKED"' '"path":"/srv/rd/f0"'

say "sed -i renames a new file over /srv/rp/passwd: that replaces a write-denied file"
mark_records
run_cmd sed -i 's/root/toor/' /srv/rp/passwd
case $OUT in
    *"Operation not permitted"*)
        find_new_record '"op":"write"' '"action":"BLOCKED"' '"target_path":"/srv/rp/passwd"' ||
            BAD="$BAD
  sed -i: refused but no BLOCKED write record with target_path /srv/rp/passwd" ;;
    *) BAD="$BAD
  sed -i over a write-denied file: allowed (status $RC, output '$OUT')" ;;
esac
grep -q toor /srv/rp/passwd && BAD="$BAD
  /srv/rp/passwd was replaced by sed -i: $(tr '\n' ' ' </srv/rp/passwd)"
say "sed -i over /srv/rp/group (a chmod rule): the new file has the rule"
expect_ok sed -i 's/root/toor/' /srv/rp/group
mark_records
run_cmd chmod 600 /srv/rp/group
case $OUT in
    *"Operation not permitted"*)
        find_new_record '"op":"chmod"' '"action":"BLOCKED"' '"path":"/srv/rp/group"' ||
            BAD="$BAD
  chmod after sed -i: refused but no BLOCKED record" ;;
    *) BAD="$BAD
  chmod after sed -i: allowed (status $RC, output '$OUT')" ;;
esac

say "unlink, then create"
expect_ok rm /srv/rp/passwd
refused "create after rm" /srv/rp/passwd 'echo evil:x:0:0 >/srv/rp/passwd'

say "unlink, then a hard link of another file"
echo other >/srv/other
expect_ok rm /srv/rp/passwd
expect_ok ln /srv/other /srv/rp/passwd
refused "append after ln" /srv/rp/passwd 'echo evil >>/srv/rp/passwd'
refused "append to the other name of the linked file" /srv/other 'echo evil >>/srv/other'

say "a rule directory: moved away (refused), then removed and made again"
expect_eperm_file mv /srv/rd /srv/rd.old
expect_ok rm -r /srv/rd
expect_ok mkdir /srv/rd
refused "write in the new /srv/rd" /srv/rd/f 'echo evil >/srv/rd/f'

stop_agent
echo "--- file records:"
records '"module":"file"'

say "a rule path that did not exist at start"
rm -f /tmp/sg.log
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "/srv/rp/late", ops = ["write"] }]
EOF
start_agent /tmp/sg.toml
refused "create /srv/rp/late" /srv/rp/late 'echo evil >/srv/rp/late'
mkdir -p /tmp/bind
: >/tmp/bind/late
expect_ok mount --bind /srv/rp/late /tmp/bind/late
refused "write through a bind mount of /srv/rp/late" /tmp/bind/late 'echo evil >>/tmp/bind/late'
umount /tmp/bind/late

stop_agent
echo "--- file records:"
records '"module":"file"'
rm -rf /srv/rp /srv/rd /srv/rd.old /srv/other
[ -z "$BAD" ] || fail "problems:$BAD"
