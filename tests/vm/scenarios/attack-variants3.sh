# boots: lsm
# kernels: 5.10
# attack-variants3: variants of issue #12's two latest fixes, each of which must be
# REFUSED in block mode (EPERM and a BLOCKED record), as root:
# 1. rules naming files and directories INSIDE an overlay whose layers are on two
#    filesystems (xino off; src/rule_paths.rs overlay_identity, pin):
#    - a read-denied directory (upper, and lower: whiteout + opaque) removed and made
#      again after the start, a file written in it, then drop_caches;
#    - a read-denied file rule path created after the start in a kept-open directory,
#      read through the overlay and through a bind mount, after drop_caches;
#    - a read-denied lower file with a second (lower) hard link: the rule path copied
#      up by chmod (a broken hard link), then drop_caches; both names (chmod of the
#      OTHER name is a bypass: tests/vm/known-failing/overlay-hardlink-copyup.sh);
#    - an unprivileged user's overlay in a user namespace over a directory above a rule
#      dir (5.11+);
#    - rule paths named through a symlink inside the overlay, through a bind mount of
#      it and through a symlink to it;
#    - an overlay with xino=on; one with index=on,metacopy=on,redirect_dir=on (a
#      metadata-only copy-up by chmod; a rename of the directory above a rule dir; a
#      rule on the LOWER layer's directory, a file of it given a new name outside it
#      through the overlay after a metadata-only copy-up);
#    - a bind mount of a SUBDIRECTORY of the overlay, after drop_caches;
#    - overlays mounted after the start with the overlay (or a rule dir in it) as lower
#      layer (nested);
#    - process deny rules: a denied program inside the overlay run through a bind mount
#      of a subdirectory after drop_caches and after a copy-up by chmod; a denied
#      directory removed and made again, a program copied in, then drop_caches.
# 2. the process module's link/rename guard (guard() in bpf/process.bpf.c) with a
#    program pushed more than 64 directories below its rule (process rules only):
#    - ln, io_uring LINKAT, renameat2(RENAME_EXCHANGE) of a shallow denied program to
#      a name more than 64 directories deep outside, then a rename that brings the new
#      name within reach;
#    - a symlink to the deep program.
#    (ln, mv, renameat2(RENAME_EXCHANGE), io_uring LINKAT of the deep program to a name
#    more than 64 directories deep OUTSIDE the rule, then the same rename, are a bypass:
#    tests/vm/known-failing/process-link-deep-cut.sh. A hard link made before the start
#    outside a denied directory runs: a documented limit, README Process rules.)
#    The file module's equivalent (a read-denied deep file) is tried in part 1.
# Every attack is tried; the bypasses are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

A=/usr/bin/sg-attacktool
L=/mnt/av3-l
U=/mnt/av3-u
O=/mnt/av3-o
OX=/mnt/av3-x
OM=/mnt/av3-m
B=/mnt/av3-b
B3=/mnt/av3-b3
OL=/tmp/sg-av3-olink
N=/mnt/av3-n
N2=/mnt/av3-n2
D=/tmp/sg-av3
cleanup_av3() {
    for m in "$N2" "$N" "$B" "$B3" "$OM" "$OX" "$O" "$L" "$U"; do umount "$m" 2>/dev/null; done
    for m in "$N2" "$N" "$B" "$B3" "$OM" "$OX" "$O" "$L" "$U"; do umount -l "$m" 2>/dev/null; done
    rmdir "$N2" "$N" "$B" "$B3" "$OM" "$OX" "$O" "$L" "$U" 2>/dev/null
    rm -f "$OL"
    rm -rf "$D"
}
trap cleanup_av3 EXIT
cleanup_av3
mkdir -p "$L" "$U" "$O" "$OX" "$OM" "$B" "$B3" "$N" "$N2" "$D" || fail "mkdir"
mount -t tmpfs tmpfs "$L" || fail "mount tmpfs $L"
mount -t tmpfs tmpfs "$U" || fail "mount tmpfs $U"
# as in overlay-rule-identity: use up numbers so that no layer file's number is an
# overlay directory's (a collision would refuse by chance and hide a bypass)
i=0
while [ "$i" -lt 200 ]; do
    touch "$L/burn" && rm "$L/burn" && touch "$U/burn" && rm "$U/burn"
    i=$((i + 1))
done
mkdir -p "$L/lower/ldir" "$L/lower/sub/sdir" "$U/upper/rdir" "$U/upper/pdir" "$U/upper/pd" "$U/work" \
    "$L/xl/xdir" "$U/xu" "$U/xw" "$L/ml/rp/sec" "$U/mu" "$U/mw" "$L/ml/lsec" \
    "$L/lower/ldir3" "$L/lower/bdir" "$L/lower/sdir4"
echo s3cret >"$L/lower/ldir3/k"
echo s3cret >"$L/lower/bdir/k"
echo s3cret >"$L/lower/sdir4/k"
ln -s ldir3 "$L/lower/lnk"
echo s3cret >"$L/ml/lsec/k"
echo s3cret >"$L/ml/lsec/k2"
echo s3cret >"$L/lower/hl"
ln "$L/lower/hl" "$L/lower/hl2"
echo s3cret >"$L/lower/sub/sdir/k"
echo s3cret >"$L/xl/xdir/k"
echo s3cret >"$L/ml/mkey"
echo s3cret >"$L/ml/rp/sec/k"
copy_busybox "$L/lower/sub/ltool"
copy_busybox "$U/upper/pd/tool"
mount_overlay "$L/lower" "$U/upper" "$U/work" "$O"
OXOK=0
if mount -t overlay none -o "lowerdir=$L/xl,upperdir=$U/xu,workdir=$U/xw,xino=on" "$OX"; then
    OXOK=1
else
    say "no overlay with xino=on: skipped"
fi
OMOK=0
if mount -t overlay none -o "lowerdir=$L/ml,upperdir=$U/mu,workdir=$U/mw,index=on,metacopy=on,redirect_dir=on" "$OM"; then
    OMOK=1
else
    say "no overlay with index=on,metacopy=on,redirect_dir=on: skipped"
fi
grep overlay /proc/mounts
mount --bind "$O" "$B3" || fail "mount --bind $O $B3"
ln -s "$O" "$OL"

# F: a read-denied directory holding a chain of 60 directories and a/b1/../b6/key;
# E: a chain of 70 directories outside any rule
F=$D/fdeny
DEEP=$F
i=1
while [ "$i" -le 60 ]; do
    DEEP=$DEEP/c$i
    i=$((i + 1))
done
mkdir -p "$DEEP" "$F/a/b1/b2/b3/b4/b5/b6" || fail "mkdir $DEEP"
echo s3cret >"$F/a/b1/b2/b3/b4/b5/b6/key"
KEY=$DEEP/a/b1/b2/b3/b4/b5/b6/key

WAIT_SECS=8
BAD=""
attack() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$2"
    expect_refused "$1"
}
# attack_uring NAME SCRIPT: like attack, but a kernel without the io_uring op (EINVAL)
# skips it.
attack_uring() {
    say "$1"
    mark_records
    run_cmd /bin/sh -c "$2"
    case $OUT in
        *"Invalid argument"*) say "io_uring op absent on this kernel: $1 skipped" ;;
        *) expect_refused "$1" ;;
    esac
}
# setup CMD...: a step the attacker is allowed to do; its failure is noted.
setup() {
    run_cmd "$@"
    [ "$RC" = 0 ] || BAD="$BAD
  setup step refused: $* (status $RC, output: $OUT)"
}
drop() { echo 2 >/proc/sys/vm/drop_caches; }

OXRULE=""
[ "$OXOK" = 1 ] && OXRULE="{ path = \"$OX/xdir\", ops = [\"read\"] },"
OMRULE=""
[ "$OMOK" = 1 ] && OMRULE="{ path = \"$OM/mkey\", ops = [\"read\"] }, { path = \"$OM/rp/sec\", ops = [\"read\"] },
        { path = \"$L/ml/lsec\", ops = [\"read\"] },"
cat >/tmp/sg.toml <<CONF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = [{ path = "$O/rdir", ops = ["read"] }, { path = "$O/ldir", ops = ["read"] },
        { path = "$O/pdir/later", ops = ["read"] }, { path = "$O/hl", ops = ["read"] },
        { path = "$O/sub/sdir", ops = ["read"] }, $OXRULE $OMRULE
        { path = "$O/lnk", ops = ["read"] }, { path = "$B3/bdir", ops = ["read"] },
        { path = "$OL/sdir4", ops = ["read"] },
        { path = "$F", ops = ["read"] }]
[process]
mode = "block"
deny = ["$O/sub/ltool", "$O/pd"]
CONF
cat /tmp/sg.toml
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

say "=== overlay: rule paths named through a symlink in the overlay, a bind mount of it, a symlink to it"
for when in before "after drop_caches"; do
    [ "$when" = before ] || drop
    attack "$when: rule path $O/lnk a symlink to ldir3: read $O/ldir3/k" "cat $O/ldir3/k"
    attack "$when: rule path $O/lnk a symlink to ldir3: read $O/lnk/k" "cat $O/lnk/k"
    attack "$when: rule path $B3/bdir (a bind mount of the overlay): read $O/bdir/k" "cat $O/bdir/k"
    attack "$when: rule path $OL/sdir4 ($OL a symlink to the overlay): read $O/sdir4/k" "cat $O/sdir4/k"
done

say "=== overlay: read-denied directories removed and made again after the start"
attack "control: a file written in the read-denied upper dir $O/rdir, read" \
    "echo s3cret >$O/rdir/k0 || echo SETUP-FAILED; cat $O/rdir/k0"
setup /bin/sh -c "rm $O/rdir/k0 && rmdir $O/rdir && mkdir $O/rdir && echo s3cret >$O/rdir/k"
attack "upper rule dir made again: read $O/rdir/k" "cat $O/rdir/k"
# overlayfs reads a lower directory to tell it is empty: refused where the rule (which
# holds on the lower layer's name too) denies reading it, so it is not made again
attack "lower rule dir removed through the overlay: rmdir $O/ldir" "rmdir $O/ldir"
drop
attack "upper rule dir made again, after drop_caches: read $O/rdir/k" "cat $O/rdir/k"
mount --bind "$O" "$B" || fail "mount --bind $O $B"
attack "upper rule dir made again, after drop_caches, through a bind mount: read $B/rdir/k" "cat $B/rdir/k"
umount "$B"

say "=== overlay: a file rule path created after the start in a kept-open directory"
setup /bin/sh -c "echo s3cret >$O/pdir/later"
attack "read $O/pdir/later" "cat $O/pdir/later"
drop
attack "after drop_caches: read $O/pdir/later" "cat $O/pdir/later"
mount --bind "$O" "$B" || fail "mount --bind $O $B"
attack "after drop_caches, through a bind mount: read $B/pdir/later" "cat $B/pdir/later"
umount "$B"

say "=== overlay: a lower file with a second hard link copied up (broken hard link)"
echo "before: $(stat -c '%d:%i:%h' "$O/hl") $(stat -c '%d:%i:%h' "$O/hl2")"
attack "control: read $O/hl" "cat $O/hl"
attack "the other name (hard link before the start): read $O/hl2" "cat $O/hl2"
# a copy-up reads the lower file into the upper layer: refused where the rule, which
# holds on the lower layer's name too, denies reading it
attack "copy-up of the read-denied file by chmod: chmod $O/hl" "chmod 640 $O/hl"
drop
echo "after copy-up: $(stat -c '%d:%i:%h' "$O/hl") $(stat -c '%d:%i:%h' "$O/hl2")"
attack "copied up by chmod, after drop_caches: read $O/hl" "cat $O/hl"
attack "the other name after the copy-up, after drop_caches: read $O/hl2" "cat $O/hl2"
# chmod of hl2 itself: scenarios/overlay-hardlink-copyup.sh

say "=== overlay: a bind mount of a subdirectory; nested overlays"
mount --bind "$O/sub" "$B" || fail "mount --bind $O/sub $B"
drop
attack "after drop_caches, through a bind mount of $O/sub: read $B/sdir/k" "cat $B/sdir/k"
umount "$B"
mkdir -p "$D/empty"
if mount -t overlay none -o "lowerdir=$O:$D/empty" "$N"; then
    attack "an overlay with $O as its lower layer: read $N/sub/sdir/k" "cat $N/sub/sdir/k"
    drop
    attack "an overlay with $O as its lower layer, after drop_caches: read $N/sub/sdir/k" "cat $N/sub/sdir/k"
    attack "exec: the denied program through an overlay with $O as its lower layer" \
        "exec -a echo $N/sub/ltool RAN"
    umount "$N"
else
    say "no nested overlay over $O: skipped"
fi
if mount -t overlay none -o "lowerdir=$O/sub/sdir:$D" "$N2"; then
    attack "an overlay with the rule dir $O/sub/sdir as a lower layer: read $N2/k" "cat $N2/k"
    umount "$N2"
else
    say "no nested overlay over $O/sub/sdir: skipped"
fi

# an unprivileged user's overlay in a user namespace (5.11+), mounted over $O/sub in its
# mount namespace with $O/sub as its lower layer
mkdir -p "$D/un/u" "$D/un/w"
chown -R 1000:1000 "$D/un"
chmod 755 "$D"
say "user namespace overlay over $O/sub"
mark_records
run_cmd su -s /bin/sh user -c "unshare -Urm /bin/sh -c 'mount -t overlay ovl -o lowerdir=$O/sub,upperdir=$D/un/u,workdir=$D/un/w $O/sub || { echo NOMOUNT; exit 9; }; cat $O/sub/sdir/k'"
case $OUT in
    *NOMOUNT*) say "no overlay in a user namespace here: skipped ($OUT)" ;;
    *) expect_refused "an unprivileged user's overlay over $O/sub (user namespace): read $O/sub/sdir/k" ;;
esac

if [ "$OXOK" = 1 ]; then
    say "=== overlay with xino=on"
    echo "xdir: $(stat -c '%d:%i' "$OX/xdir")"
    attack "xino=on: read $OX/xdir/k" "cat $OX/xdir/k"
    drop
    echo "xdir after drop_caches: $(stat -c '%d:%i' "$OX/xdir")"
    attack "xino=on, after drop_caches: read $OX/xdir/k" "cat $OX/xdir/k"
fi
if [ "$OMOK" = 1 ]; then
    say "=== overlay with index=on,metacopy=on,redirect_dir=on"
    setup chmod 640 "$OM/mkey"
    drop
    attack "metacopy copy-up by chmod, after drop_caches: read $OM/mkey" "cat $OM/mkey"
    setup mv "$OM/rp" "$OM/rp2"
    drop
    attack "the lower dir above a rule dir renamed (redirect), after drop_caches: read $OM/rp2/sec/k" \
        "cat $OM/rp2/sec/k"
    # a rule on the LOWER layer's directory: metadata-only copy-up, then a new name
    # outside it through the overlay (the upper layer's equivalent is a bypass:
    # tests/vm/known-failing/file-overlay-upper-link.sh)
    attack "lower layer rule $L/ml/lsec: chmod (metacopy), ln out through the overlay, drop_caches, read" \
        "chmod 600 $OM/lsec/k; ln $OM/lsec/k $OM/lk-ln; echo 2 >/proc/sys/vm/drop_caches; cat $OM/lk-ln"
    attack "lower layer rule $L/ml/lsec: mv out through the overlay (metacopy, redirect), drop_caches, read" \
        "mv $OM/lsec/k2 $OM/lk-mv; echo 2 >/proc/sys/vm/drop_caches; cat $OM/lk-mv"
fi

say "=== overlay: process deny rules"
mount --bind "$O/sub" "$B" || fail "mount --bind $O/sub $B"
drop
attack "exec: the denied lower program through a bind mount of $O/sub, after drop_caches" \
    "exec -a echo $B/ltool RAN"
setup chmod 750 "$O/sub/ltool"
drop
attack "exec: the denied lower program copied up by chmod, after drop_caches" "exec -a echo $O/sub/ltool RAN"
attack "exec: the same through the bind mount" "exec -a echo $B/ltool RAN"
umount "$B"
setup /bin/sh -c "rm $O/pd/tool && rmdir $O/pd && mkdir $O/pd && cp /bin/busybox $O/pd/tool2 && chmod 755 $O/pd/tool2"
attack "exec: a program in the denied dir $O/pd made again" "exec -a echo $O/pd/tool2 RAN"
drop
attack "exec: a program in the denied dir $O/pd made again, after drop_caches" "exec -a echo $O/pd/tool2 RAN"

say "=== file module: a read-denied file more than 64 directories below its rule"
setup mv "$F/a" "$DEEP/a"
deep_chain "$D/fo"
attack "read: the deep file itself (control)" "cat $KEY"
attack "link: the deep file to a name 70 directories deep outside, the chain cut, read" \
    "ln $KEY $CUT/$TAIL/k && mv $CUT $D/cut-fo && cat $D/cut-fo/$TAIL/k"
deep_chain "$D/fo2"
attack "rename: the deep file to a name 70 directories deep outside, the chain cut, read" \
    "mv $KEY $CUT/$TAIL/k && mv $CUT $D/cut-fo2 && cat $D/cut-fo2/$TAIL/k"
stop_agent

say "=== process module (process rules only): a program more than 64 directories below its rule"
P=$D/denied
PDEEP=$P
i=1
while [ "$i" -le 60 ]; do
    PDEEP=$PDEEP/c$i
    i=$((i + 1))
done
mkdir -p "$PDEEP" "$P/a/b1/b2/b3/b4/b5/b6" || fail "mkdir $PDEEP"
copy_busybox "$P/a/b1/b2/b3/b4/b5/b6/tool1"
copy_busybox "$P/shallow"
cat >/tmp/sg-p.toml <<CONF
[log]
format = "json"
output = "/tmp/sg-p.log"
[network]
enable = false
[file]
enable = false
[process]
mode = "block"
deny = ["$P"]
CONF
start_agent /tmp/sg-p.toml
wait_for_record '"module":"agent"' '"op":"start"'
setup mv "$P/a" "$PDEEP/a"
T=$PDEEP/a/b1/b2/b3/b4/b5/b6
attack "exec: the deep program in place (control)" "exec -a echo $T/tool1 RAN"
# ln, mv, RENAME_EXCHANGE or io_uring LINKAT of the deep program to a name more than 64
# directories deep outside its rule, then a rename that brings it within reach, is a
# bypass: tests/vm/known-failing/process-link-deep-cut.sh
deep_chain "$D/ps"
attack "ln of a shallow denied program into a directory 70 deep outside, the chain cut, run" \
    "ln $P/shallow $CUT/$TAIL/t && mv $CUT $D/cut-ps && exec -a echo $D/cut-ps/$TAIL/t RAN"
deep_chain "$D/px"
copy_busybox "$CUT/$TAIL/t"
attack "renameat2(RENAME_EXCHANGE) of a shallow denied program with a file 70 directories deep outside, the chain cut, run" \
    "$A exchange $P/shallow $CUT/$TAIL/t && mv $CUT $D/cut-px && exec -a echo $D/cut-px/$TAIL/t RAN"
deep_chain "$D/pu"
attack_uring "io_uring LINKAT of a shallow denied program into a directory 70 deep outside, the chain cut, run" \
    "$A urlink $P/shallow $CUT/$TAIL/t && mv $CUT $D/cut-pu && exec -a echo $D/cut-pu/$TAIL/t RAN"
attack "a symlink to the deep program, run" "ln -s $T/tool1 $D/sym && exec -a echo $D/sym RAN"
stop_agent
[ -z "$BAD" ] || fail "bypasses (or setup problems):$BAD"
