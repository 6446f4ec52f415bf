# boots: lsm
# kernels: 6.1
# file-tree-ops: every operation of SPEC 3.1 on a denied tree is refused with EPERM and one
# BLOCKED record carrying the op, the path (and target_path for rename and link) and the
# rule; the tree is left as it was; the same operations outside the tree succeed.
# Renames and hard links need both names on one filesystem: /srv (the initramfs root) is
# used for both sides, not /tmp (a tmpfs: mv there is a copy, link gives EXDEV).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

rm -rf /srv/prot /srv/out /srv/free /srv/sa
mkdir -p /srv/prot/sub /srv/prot/empty /srv/out /srv/free/sub /srv/free/empty /srv/sa
echo alpha >/srv/prot/a
echo deep >/srv/prot/sub/f
echo bravo >/srv/out/b
echo charlie >/srv/out/c
echo free >/srv/free/a
echo sa >/srv/sa/f
chmod 644 /srv/prot/a
cat >/tmp/sg.toml <<'EOF'
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = ["/srv/prot", { path = "/srv/sa", ops = ["setattr"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

# blocked OP PATH [TARGET]: the last refusal gave a BLOCKED record with these fields.
blocked() {
    if [ -n "${3:-}" ]; then
        wait_for_record '"module":"file"' "\"op\":\"$1\"" '"action":"BLOCKED"' "\"path\":\"$2\"" \
            "\"target_path\":\"$3\""
    else
        wait_for_record '"module":"file"' "\"op\":\"$1\"" '"action":"BLOCKED"' "\"path\":\"$2\""
    fi
    rec_has '"level":"WARNING"' '"uid":0'
}

say "chmod, chown"
expect_eperm_file chmod 600 /srv/prot/a
blocked chmod /srv/prot/a
rec_has '"rule":"/srv/prot"' '"comm":"chmod"'
expect_eperm_file chown 1000 /srv/prot/a
blocked chown /srv/prot/a
rec_has '"rule":"/srv/prot"' '"comm":"chown"'

say "truncate: both forms open the file for writing first, which the rule denies"
expect_eperm_file truncate -s 0 /srv/prot/a
blocked write /srv/prot/a
rec_has '"comm":"truncate"'
mark_records
expect_eperm_file_sh ': >/srv/prot/a'
wait_for_new_record '"op":"write"' '"action":"BLOCKED"' '"path":"/srv/prot/a"'
rec_has '"comm":"sh"'

say "unlink, rmdir"
expect_eperm_file rm -f /srv/prot/a
blocked delete /srv/prot/a
expect_eperm_file rmdir /srv/prot/empty
blocked delete /srv/prot/empty

say "rename out of the tree and into it"
expect_eperm_file mv /srv/prot/a /srv/out/a
blocked rename /srv/prot/a /srv/out/a
rec_has '"rule":"/srv/prot"'
expect_eperm_file mv /srv/out/b /srv/prot/b
# The new name is judged for rename and create; a record names the first denied op in
# the order of `ops` (README, File rules): create.
blocked create /srv/out/b /srv/prot/b
rec_has '"rule":"/srv/prot"'
expect_eperm_file mv /srv/prot/sub /srv/out/sub
blocked rename /srv/prot/sub /srv/out/sub

say "mv to another filesystem copies: the read is refused"
expect_eperm_file mv /srv/prot/a /tmp/a
blocked read /srv/prot/a
rec_has '"comm":"mv"'
[ ! -e /tmp/a ] || fail "/tmp/a exists after a refused mv"

say "hard link into the tree and out of it"
expect_eperm_file ln /srv/out/c /srv/prot/c
blocked create /srv/out/c /srv/prot/c
expect_eperm_file ln /srv/prot/a /srv/out/a2
blocked link /srv/prot/a /srv/out/a2

say "creating: mkdir, mknod, touch (O_CREAT), symlink"
expect_eperm_file mkdir /srv/prot/newdir
blocked create /srv/prot/newdir
expect_eperm_file mknod /srv/prot/fifo p
blocked create /srv/prot/fifo
expect_eperm_file touch /srv/prot/new
blocked create /srv/prot/new
expect_eperm_file ln -s /srv/out/c /srv/prot/sym
blocked create /srv/prot/sym
expect_eperm_file_sh 'echo x >/srv/prot/sub/new'
blocked create /srv/prot/sub/new

say "setattr (truncate) alone: ftruncate and O_TRUNC"
expect_ok sh -c 'echo more >>/srv/sa/f'
expect_eperm_file truncate -s 0 /srv/sa/f
blocked setattr /srv/sa/f
rec_has '"rule":"{ path = \"/srv/sa\", ops = [\"setattr\"] }"' '"comm":"truncate"'
mark_records
expect_eperm_file_sh ': >/srv/sa/f'
wait_for_new_record '"op":"setattr"' '"action":"BLOCKED"' '"path":"/srv/sa/f"'
rec_has '"comm":"sh"'
expect_read /srv/sa/f "sa
more"

say "outside the tree every operation succeeds"
expect_ok chmod 600 /srv/free/a
expect_ok chown 1000 /srv/free/a
expect_ok truncate -s 0 /srv/free/a
expect_ok sh -c ': >/srv/free/a'
expect_ok mv /srv/free/a /srv/out/a
expect_ok mv /srv/out/a /srv/free/a
expect_ok ln /srv/free/a /srv/out/free-a2
expect_ok ln /srv/out/c /srv/free/c
expect_ok mkdir /srv/free/newdir
expect_ok mknod /srv/free/fifo p
expect_ok touch /srv/free/new
expect_ok ln -s /srv/out/c /srv/free/sym
expect_ok rm /srv/free/a /srv/free/c /srv/free/new /srv/free/sym /srv/free/fifo
expect_ok rmdir /srv/free/empty /srv/free/newdir
say "and the tree is still refused"
expect_eperm_file cat /srv/prot/sub/f
blocked read /srv/prot/sub/f

stop_agent
assert_no_record '"path":"/srv/free'
assert_no_record '"target_path":"/srv/free'
n=$(count_records '"module":"file"' '"action":"BLOCKED"')
[ "$n" = 20 ] || fail "$n BLOCKED records, want 20 (one per refusal)"

say "the tree is as it was (agent stopped)"
expect_read /srv/prot/a alpha
expect_read /srv/prot/sub/f deep
expect_read /srv/out/b bravo
[ -d /srv/prot/empty ] || fail "/srv/prot/empty is gone"
mode=$(stat -c %a /srv/prot/a)
[ "$mode" = 644 ] || fail "/srv/prot/a has mode $mode"
owner=$(stat -c %u /srv/prot/a)
[ "$owner" = 0 ] || fail "/srv/prot/a has owner $owner"
for p in /srv/prot/b /srv/prot/c /srv/prot/newdir /srv/prot/fifo /srv/prot/new /srv/prot/sym \
    /srv/prot/sub/new /srv/out/a /srv/out/a2 /srv/out/sub; do
    if [ -e "$p" ] || [ -L "$p" ]; then fail "$p exists after a refused operation"; fi
done

rm -rf /srv/prot /srv/out /srv/free /srv/sa
