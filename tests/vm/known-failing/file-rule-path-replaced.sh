# boots: lsm
# file-rule-path-replaced: a rule names a path (SPEC 3.1). The agent finds rule paths by
# identity (device, inode) taken at start; when the file or directory at the rule path is
# replaced by another one (sed -i, editors and package managers write a new file and rename
# it over the old one), the rule must still apply to what is now at that path.
# - deny write of /srv/rp/passwd; `sed -i` replaces it (a rename, which the rule does not
#   list, so allowed); then appending to /srv/rp/passwd must be refused;
# - deny write below /srv/rd; the directory is renamed away and made again; then creating
#   and writing /srv/rd/f must be refused.
# Both checks are tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

rm -rf /srv/rp /srv/rd /srv/rd.old
mkdir -p /srv/rp /srv/rd
echo 'root:x:0:0' >/srv/rp/passwd
echo old >/srv/rd/f0
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "/srv/rp/passwd", ops = ["write"] }, { path = "/srv/rd", ops = ["write"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
WAIT_SECS=8
BAD=""

say "before: writing is refused"
expect_eperm_file_sh 'echo x >>/srv/rp/passwd'
wait_for_record '"op":"write"' '"action":"BLOCKED"' '"path":"/srv/rp/passwd"'
expect_eperm_file_sh 'echo x >>/srv/rd/f0'
wait_for_record '"op":"write"' '"action":"BLOCKED"' '"path":"/srv/rd/f0"'

say "sed -i replaces /srv/rp/passwd by a new file"
expect_ok sed -i 's/root/toor/' /srv/rp/passwd
mark_records
run_cmd sh -c 'echo evil:x:0:0 >>/srv/rp/passwd'
case $OUT in
    *"Operation not permitted"*)
        find_new_record '"op":"write"' '"action":"BLOCKED"' '"path":"/srv/rp/passwd"' ||
            BAD="$BAD
  /srv/rp/passwd: refused but no BLOCKED record" ;;
    *) BAD="$BAD
  appending to /srv/rp/passwd after sed -i was allowed (status $RC); it now holds: $(tr '\n' ' ' </srv/rp/passwd)" ;;
esac

say "/srv/rd is renamed away and made again"
expect_ok mv /srv/rd /srv/rd.old
expect_ok mkdir /srv/rd
mark_records
run_cmd sh -c 'echo evil >/srv/rd/f'
case $OUT in
    *"Operation not permitted"*)
        find_new_record '"op":"write"' '"action":"BLOCKED"' '"path":"/srv/rd/f"' ||
            BAD="$BAD
  /srv/rd/f: refused but no BLOCKED record" ;;
    *) BAD="$BAD
  writing /srv/rd/f in the new /srv/rd was allowed (status $RC)" ;;
esac

stop_agent
echo "--- file records:"
records '"module":"file"'
rm -rf /srv/rp /srv/rd /srv/rd.old
[ -z "$BAD" ] || fail "problems:$BAD"
