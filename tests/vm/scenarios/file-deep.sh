# boots: lsm
# kernels: none
# file-deep: depth and length do not get a file past a denied directory.
# - 40 directories and 360+ bytes below /srv/deep: refused, the record has the full path;
# - 70 components below /srv/deep2 (more than the 64 the kernel walk takes): refused,
#   with "truncated":true in the record;
# - longer than PATH_MAX (20 names of 250 bytes below /srv/long, reached by cd one level at a
#   time): refused, with "truncated":true;
# - README: a path too deep to resolve that no rule covers is still refused when any deny
#   rule exists ("path not resolved completely (deny rules apply)").
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

rm -rf /srv/deep /srv/deep2 /srv/long 2>/dev/null
d=/srv/deep
i=0
while [ "$i" -lt 40 ]; do
    d=$d/level$(printf %02d "$i")x
    i=$((i + 1))
done
mkdir -p "$d"
echo deep >"$d/f"
deep=$d/f
[ ${#deep} -gt 300 ] || fail "test bug: $deep is only ${#deep} bytes"

d=/srv/deep2
i=0
while [ "$i" -lt 70 ]; do
    d=$d/dd
    i=$((i + 1))
done
mkdir -p "$d"
echo deeper >"$d/f"
deep2=$d/f

t=/tmp/free
i=0
while [ "$i" -lt 70 ]; do
    t=$t/tt
    i=$((i + 1))
done
mkdir -p "$t"
echo free >"$t/f"

name=$(printf '%0250d' 0 | tr 0 n)
# cd_long: go down the 20 long names below /srv/long (a path longer than PATH_MAX).
cd_long() {
    cd /srv/long || fail "cd /srv/long"
    j=0
    while [ "$j" -lt 20 ]; do
        cd -P "$name" || fail "cd level $j"
        j=$((j + 1))
    done
}
mkdir -p /srv/long
cd /srv/long || fail "cd /srv/long"
j=0
while [ "$j" -lt 20 ]; do
    mkdir "$name" && cd -P "$name" || fail "mkdir level $j"
    j=$((j + 1))
done
echo long >f
cd /

cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = ["/srv/deep", "/srv/deep2", "/srv/long"]
EOF
start_agent /tmp/sg.toml

say "40 levels, ${#deep} bytes"
expect_eperm_file cat "$deep"
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' "\"path\":\"$deep\""
rec_has '"rule":"/srv/deep"'
case $REC in *'"truncated":true'*) fail "record of a 42-component path says truncated: $REC" ;; esac

say "70 levels"
expect_eperm_file cat "$deep2"
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' '"truncated":true' '/dd/dd/f"'
case $REC in
    *'"rule":"/srv/deep2"'* | *'"rule":"path not resolved completely (deny rules apply)"'*) ;;
    *) fail "unexpected rule: $REC" ;;
esac

say "longer than PATH_MAX"
cd_long
expect_eperm_file cat f
cd /
mark_records
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' '"truncated":true' "$name/f\""
rec_has '"rule":"/srv/long"'

say "too deep, under no rule: refused as documented in the README"
expect_eperm_file cat "$t/f"
wait_for_record '"action":"BLOCKED"' '"truncated":true' '/tt/tt/f"'
rec_has '"rule":"path not resolved completely (deny rules apply)"'

stop_agent
cd /
rm -rf /srv/deep /srv/deep2 /srv/long 2>/dev/null || true # rm cannot remove a path beyond PATH_MAX
