# boots: lsm
# process-overlay-upper-link: a process deny rule on a directory used as an overlay's
# UPPER layer ($T/upper/denied) must not be shed by `ln` or `mv` THROUGH the overlay
# (`ln $O/denied/tool $O/tool-ln`), nor by a link onto a name the overlay whited out
# (made in overlayfs's work directory, then renamed into place): overlayfs links and
# renames in its upper layer with vfs_link()/vfs_rename() (inode hooks only), where
# the path hooks' guard judged only the overlay's path, which no rule names (found by
# attack5 on 5.10, 6.1 and 6.12: the new name ran). Removing a denied program or a
# directory that the lower layer also has (a directory is exchanged with a whiteout,
# or an opaque directory once emptied, in overlayfs's work directory) and renaming
# into the denied directory onto a whited-out name still work.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

T=/mnt/pou-t
O=/mnt/pou-o
overlay_scratch "$T" "$O"
mkdir -p "$T/lower/denied" "$T/upper/denied" "$T/work"
for f in tool tool2 tool3 tool4; do copy_busybox "$T/upper/denied/$f"; done
# names the lower layer has too: removing them through the overlay leaves whiteouts
for f in tool4 wo1; do echo lower >"$T/lower/denied/$f"; done
mkdir -p "$T/lower/denied/d1" "$T/upper/denied/d1" "$T/lower/denied/d2" "$T/upper/denied/d2"
echo lower >"$T/lower/denied/d2/f"
echo lower >"$T/lower/wo2"
echo x >"$T/upper/other"
mount_overlay "$T/lower" "$T/upper" "$T/work" "$O"
cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
enable = false
[process]
mode = "block"
deny = ["$T/upper/denied"]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'
WAIT_SECS=8
BAD=""
refused_sh "the denied program through the overlay (control)" "exec -a echo $O/denied/tool RAN"
refused_sh "the denied program in the upper layer (control)" "exec -a echo $T/upper/denied/tool RAN"
refused_sh "ln from the layer itself, run (control)" "ln $T/upper/denied/tool $T/upper/tool-l && exec -a echo $T/upper/tool-l RAN"
refused_sh "ln through the overlay out of the denied upper directory, run from the upper layer" \
    "ln $O/denied/tool $O/tool-ln && exec -a echo $T/upper/tool-ln RAN"
refused_sh "mv through the overlay out of the denied upper directory, run through the overlay" \
    "mv $O/denied/tool2 $O/tool-mv && exec -a echo $O/tool-mv RAN"
expect_ok rm "$O/wo2"
refused_sh "ln through the overlay onto a whited-out name outside the denied directory, run" \
    "ln $O/denied/tool3 $O/wo2 && exec -a echo $O/wo2 RAN"
say "overlayfs's own moves in its work directory still work"
expect_ok rm "$O/denied/tool4"
if [ -e "$O/denied/tool4" ] || [ ! -c "$T/upper/denied/tool4" ]; then fail "$O/denied/tool4 was not removed (whited out)"; fi
expect_ok rmdir "$O/denied/d1"
expect_ok rm -r "$O/denied/d2"
if [ -e "$O/denied/d1" ] || [ -e "$O/denied/d2" ]; then fail "$O/denied/d1 or d2 was not removed"; fi
expect_ok rm "$O/denied/wo1"
expect_ok mv "$O/other" "$O/denied/wo1"
# overlayfs keeps one whiteout there to link others from (5.8+); nothing else stays
for f in "$T"/work/work/*; do
    [ ! -e "$f" ] || [ -c "$f" ] || fail "overlayfs left a file in its work directory: $(ls -l "$f")"
done
stop_agent
[ -z "$BAD" ] || fail "a program under a denied upper layer directory got a name outside it and ran:$BAD"
