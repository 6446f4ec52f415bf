# boots: lsm
# kernels: none
# file-selectors: rules with uid, gid and command selectors apply only to subjects that
# match them; a command is a task name (comm) or, with a '/', an executable path. At equal
# path length a rule with selectors beats one without (SPEC 3.1), so an allow rule for one
# executable exempts it from a deny rule on the same directory.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

# A second user in group 1000 with another uid: it tells the gid selector from the uid one.
grep -q '^other:' /etc/passwd || echo 'other:x:1001:1000:other:/tmp:/bin/sh' >>/etc/passwd
restore_passwd() { sed -i '/^other:/d' /etc/passwd; }
trap restore_passwd EXIT

rm -rf /srv/u /srv/g /srv/c /srv/c2
for d in u g c c2; do
    mkdir -p "/srv/$d"
    echo "$d-data" >"/srv/$d/f"
done
copy_busybox /opt/bin/reader
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
allow = ["/", { path = "/srv/c2", command = ["/opt/bin/reader"] }]
deny = [{ path = "/srv/u", uid = [1000] }, { path = "/srv/g", gid = [1000] }, { path = "/srv/c", command = ["cat"] }, "/srv/c2"]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

say "uid selector: uid 1000 is refused, root and uid 1001 read"
expect_eperm_file su -s /bin/sh user -c 'cat /srv/u/f'
wait_for_record '"module":"file"' '"op":"read"' '"action":"BLOCKED"' '"path":"/srv/u/f"'
rec_has '"uid":1000' '"gid":1000' '"comm":"cat"' '"rule":"{ path = \"/srv/u\", uid = [1000] }"'
expect_read /srv/u/f u-data
expect_ok su -s /bin/sh other -c 'cat /srv/u/f'

say "gid selector: gid 1000 is refused (uid 1000 and uid 1001 alike), root reads"
expect_eperm_file su -s /bin/sh other -c 'cat /srv/g/f'
wait_for_record '"action":"BLOCKED"' '"path":"/srv/g/f"' '"uid":1001'
rec_has '"gid":1000' '"rule":"{ path = \"/srv/g\", gid = [1000] }"'
expect_eperm_file su -s /bin/sh user -c 'cat /srv/g/f'
wait_for_record '"action":"BLOCKED"' '"path":"/srv/g/f"' '"uid":1000'
expect_read /srv/g/f g-data

say "command selector by name: cat is refused, head reads"
expect_eperm_file cat /srv/c/f
wait_for_record '"action":"BLOCKED"' '"path":"/srv/c/f"'
rec_has '"comm":"cat"' '"rule":"{ path = \"/srv/c\", command = [\"cat\"] }"'
expect_ok head /srv/c/f
[ "$OUT" = c-data ] || fail "head /srv/c/f printed '$OUT'"

say "command selector by path: /opt/bin/reader is exempt from the deny on /srv/c2, cat is not"
run_sh 'exec -a cat /opt/bin/reader /srv/c2/f'
[ "$RC" = 0 ] && [ "$(echo "$OUT" | sed -n 2p)" = c2-data ] ||
    fail "/opt/bin/reader /srv/c2/f: status $RC, output: $OUT"
expect_eperm_file cat /srv/c2/f
wait_for_record '"action":"BLOCKED"' '"path":"/srv/c2/f"'
rec_has '"comm":"cat"' '"rule":"/srv/c2"'
expect_eperm_file head /srv/c2/f

stop_agent
assert_no_record '"path":"/srv/u/f"' '"uid":0'
assert_no_record '"path":"/srv/u/f"' '"uid":1001'
assert_no_record '"path":"/srv/g/f"' '"uid":0'
assert_no_record '"path":"/srv/c/f"' '"comm":"head"'
assert_no_record '"path":"/srv/c2/f"' '"exe":"/opt/bin/reader"'
rm -rf /srv/u /srv/g /srv/c /srv/c2
