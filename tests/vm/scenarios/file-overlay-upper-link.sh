# boots: lsm
# file-overlay-upper-link: a read-deny file rule on a directory used as an overlay's
# UPPER layer ($T/upper/secret) must not be shed by a hard link or a rename made
# THROUGH the overlay: `ln $O/secret/k1 $O/k1-ln`, `mv`, renameat2(RENAME_EXCHANGE),
# io_uring RENAMEAT, and a link onto a name the overlay whited out (overlayfs makes
# it in its work directory, then renames it into place). overlayfs does these in
# its upper layer with vfs_link()/vfs_rename(): only the inode hooks see them
# (bpf/file/overlay.h, ovl_sheds). Found by attack5 on 5.10, 6.1 and 6.12, as root:
# the file was read under its new name. overlayfs's own operations keep working:
# removing a file or a directory that the lower layer also has (a directory is
# exchanged with a whiteout, or an opaque directory once emptied, in its work
# directory), and a rename into the denied directory onto a whited-out name. A rule
# with a uid selector meets the process's uid, not the mounter's that overlayfs acts on.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

A=/usr/bin/sg-attacktool
T=/mnt/fou-t
O=/mnt/fou-o
overlay_scratch "$T" "$O"
mkdir -p "$T/lower/secret" "$T/upper/secret" "$T/work"
for f in k1 k2 k3 k4 k5 k6 k7; do echo s3cret >"$T/upper/secret/$f"; done
echo x >"$T/upper/other"
# read-denied for uid 1000 only; the user may write the overlay's directories
mkdir -p "$T/upper/usecret"
for f in u1 u2; do echo s3cret >"$T/upper/usecret/$f"; done
chown 1000:1000 "$T/upper/usecret/u1" "$T/upper/usecret/u2"
chmod 1777 "$T/upper" "$T/upper/usecret"
# names the lower layer has too: removing them through the overlay leaves whiteouts
for f in k6 wo2; do echo lower >"$T/lower/secret/$f"; done
# directories the lower layer has too, under an exec-deny rule (a read-deny rule
# refuses the rmdir: overlayfs reads the directory to check that it is empty)
mkdir -p "$T/lower/xsecret/d1" "$T/upper/xsecret/d1" "$T/lower/xsecret/d2" "$T/upper/xsecret/d2"
echo lower >"$T/lower/xsecret/d2/f"
echo lower >"$T/lower/wo3"
mount_overlay "$T/lower" "$T/upper" "$T/work" "$O"
cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = [
    { path = "$T/upper/secret", ops = ["read"] },
    { path = "$T/upper/xsecret", ops = ["exec"] },
    { path = "$T/upper/usecret", ops = ["read"], uid = [1000] },
]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
WAIT_SECS=6
BAD=""
refused_sh "read $O/secret/k1 (control)" "cat $O/secret/k1"
refused_sh "ln from the upper layer itself, read (control)" "ln $T/upper/secret/k1 $T/upper/k1-l && cat $T/upper/k1-l"
refused_sh "ln through the overlay out of the read-denied upper directory, read from the layer" \
    "ln $O/secret/k1 $O/k1-ln && cat $T/upper/k1-ln"
refused_sh "mv through the overlay out of the read-denied upper directory, read" \
    "mv $O/secret/k2 $O/k2-mv && cat $O/k2-mv"
refused_sh "renameat2(RENAME_EXCHANGE) through the overlay with a file outside, read" \
    "$A exchange $O/secret/k3 $O/other && cat $O/other"
refused_sh "io_uring RENAMEAT through the overlay out of the read-denied upper directory, read" \
    "$A urrename $O/secret/k4 $O/k4-ur 0 && cat $O/k4-ur"
# a whited-out name outside the denied directory: the link is made in the work
# directory, then renamed onto the whiteout
run_cmd rm "$O/wo3"
[ "$RC" = 0 ] || fail "rm $O/wo3 (a lower file, no rule): status $RC, output: $OUT"
refused_sh "ln through the overlay onto a whited-out name outside the read-denied directory, read" \
    "ln $O/secret/k5 $O/wo3 && cat $O/wo3"
# overlayfs acts on the mounter's (root's) credentials: the rule's uid selector must
# still meet the user's (6.8 and later open the real file on them too)
refused_sh "uid 1000 reads its read-denied upper file through the overlay" \
    "su -s /bin/sh user -c 'cat $O/usecret/u1'"
refused_sh "uid 1000 moves its read-denied upper file out through the overlay, reads" \
    "su -s /bin/sh user -c 'mv $O/usecret/u2 $O/u2-mv && cat $O/u2-mv'"
expect_ok cat "$O/usecret/u1"
say "overlayfs's own moves in its work directory still work"
expect_ok rm "$O/secret/k6"
if [ -e "$O/secret/k6" ] || [ ! -c "$T/upper/secret/k6" ]; then fail "$O/secret/k6 was not removed (whited out)"; fi
expect_ok rmdir "$O/xsecret/d1"
expect_ok rm -r "$O/xsecret/d2"
if [ -e "$O/xsecret/d1" ] || [ -e "$O/xsecret/d2" ]; then fail "$O/xsecret/d1 or d2 was not removed"; fi
expect_ok mv "$O/secret/k7" "$O/secret/k7-moved"
expect_ok rm "$O/secret/wo2"
expect_ok mv "$O/other" "$O/secret/wo2"
# overlayfs keeps one whiteout there to link others from (5.8+); nothing else stays
for f in "$T"/work/work/*; do
    [ ! -e "$f" ] || [ -c "$f" ] || fail "overlayfs left a file in its work directory: $(ls -l "$f")"
done
stop_agent
[ -z "$BAD" ] || fail "a file under a read-denied upper layer directory got a name outside it and was read:$BAD"
