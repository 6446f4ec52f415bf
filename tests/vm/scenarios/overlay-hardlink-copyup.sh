# boots: lsm
# kernels: 6.12
# overlay-hardlink-copyup: a read-deny rule naming a file INSIDE an overlay whose layers
# are on two filesystems (xino off), where the file has a second name in the lower
# layer (a hard link made before the start), and read-deny rules on directories there
# whose files have other names outside them (lower: $O/kout, upper: $O/uout). Found by
# attack5 on 5.10, 6.1 and 6.12: chmod of the OTHER name copied the file up (overlayfs
# breaks the lower hard link; the copy is numbered by its new upper inode once the
# overlay's inode is evicted) and `cat $O/hl2` read the secret after drop_caches; and
# the other names of files under a denied directory were not found at start inside
# such an overlay, so `cat $O/kout` read at once. Now the rule also holds on the same
# path in each layer (rule_paths.rs, overlay_layer_paths): the other names are found
# there and their real files refused, and the copy-up, which reads the lower file, is
# refused as a read.
# This scenario passes when every read of the other names and every copy-up of them is
# refused (EPERM and a BLOCKED record).
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

L=/mnt/ohc-l
U=/mnt/ohc-u
O=/mnt/ohc-o
cleanup_ohc() {
    for m in "$O" "$L" "$U"; do umount "$m" 2>/dev/null; done
    for m in "$O" "$L" "$U"; do umount -l "$m" 2>/dev/null; done
    rmdir "$O" "$L" "$U" 2>/dev/null
}
trap cleanup_ohc EXIT
cleanup_ohc
mkdir -p "$L" "$U" "$O" || fail "mkdir"
mount -t tmpfs tmpfs "$L" || fail "mount tmpfs $L"
mount -t tmpfs tmpfs "$U" || fail "mount tmpfs $U"
i=0
while [ "$i" -lt 200 ]; do
    touch "$L/burn" && rm "$L/burn" && touch "$U/burn" && rm "$U/burn"
    i=$((i + 1))
done
mkdir -p "$L/lower/sdir" "$U/upper/udir" "$U/work"
echo s3cret >"$L/lower/hl"
ln "$L/lower/hl" "$L/lower/hl2"
echo s3cret >"$L/lower/sdir/k"
ln "$L/lower/sdir/k" "$L/lower/kout"
echo s3cret >"$U/upper/udir/k"
ln "$U/upper/udir/k" "$U/upper/uout"
mount_overlay "$L/lower" "$U/upper" "$U/work" "$O"
cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = [{ path = "$O/hl", ops = ["read"] }, { path = "$O/sdir", ops = ["read"] },
        { path = "$O/udir", ops = ["read"] }]
CONF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
WAIT_SECS=6
BAD=""
for f in hl hl2 kout uout; do
    echo "before: $O/$f $(stat -c '%d:%i:%h' "$O/$f")"
done
refused_sh "read $O/hl2, the other name of the read-denied $O/hl (control)" "cat $O/hl2"
refused_sh "read $O/kout, the other name of $O/sdir/k (lower layer)" "cat $O/kout"
refused_sh "read $O/uout, the other name of $O/udir/k (upper layer)" "cat $O/uout"
# A copy-up reads the lower file into the upper layer: refused where the rule, which
# holds on the lower layer's name too (overlay_layer_paths), denies reading it.
refused_sh "copy-up of the other name by chmod: chmod $O/hl2" "chmod 640 $O/hl2"
refused_sh "copy-up of the other name by chmod: chmod $O/kout" "chmod 640 $O/kout"
echo 2 >/proc/sys/vm/drop_caches
for f in hl hl2 kout; do
    echo "after the copy-up and drop_caches: $O/$f $(stat -c '%d:%i:%h' "$O/$f")"
done
refused_sh "copied up by chmod, after drop_caches: read $O/hl2" "cat $O/hl2"
refused_sh "copied up by chmod, after drop_caches: read $O/kout" "cat $O/kout"
stop_agent
[ -z "$BAD" ] || fail "a read-denied file inside an overlay was read through its other name:$BAD"
