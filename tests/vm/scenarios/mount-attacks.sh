# boots: lsm
# kernels: 5.10
# mount-attacks: attacks on mount.deny in block mode, every one tried, problems listed at
# the end. Each must end in EPERM, at the mount or at a step before it:
# - a rename (or RENAME_EXCHANGE either way) of the denied file, of the denied directory,
#   of a directory above it, or of a subdirectory out of it, then a bind of the new name;
# - a hard link made after the start to the denied file or to a file below a denied
#   directory, then its bind;
# - MS_BIND|MS_REC of /, open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) of a directory above;
# - the bind from an unprivileged user's user+mount namespace (unshare -Urm).
# A link or rename is refused with a BLOCKED mount record (op link/rename). What must
# still work: a rename and a link inside the denied directory, a rename elsewhere, a bind
# of anything else.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

M=/srv/sg-ma
cleanup_ma() {
    for m in /tmp/d /tmp/t /tmp/d2 /tmp/t2; do umount "$m" 2>/dev/null; done
    rm -rf "$M"
}
trap cleanup_ma EXIT
cleanup_ma
mnt_fixture
mkdir -p "$M/a/secret/sub" "$M/out"
echo s3cret >"$M/a/secret/sub/key"
echo other >"$M/out/other"
mnt_config /tmp/sg.toml block "[\"/var/run/docker.sock\", \"$M/a/secret\"]"
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"'

# attack NAME OP SETUP SOURCE TARGET [HOW]: SETUP (a shell line, may be empty) then a bind
# (or HOW) of SOURCE at TARGET. One of them must fail with EPERM: SETUP with a new BLOCKED
# mount record of op OP (link, rename) whose rule is in $RULE, or else the mount.
attack() {
    name=$1 op=$2 setup=$3 source=$4 target=$5 how=${6:-bind}
    if [ -n "$setup" ]; then
        mark_records
        run_cmd /bin/sh -c "$setup"
        case $OUT in
            *"Operation not permitted"*)
                say "refused at setup: $name"
                find_new_record '"module":"mount"' "\"op\":\"$op\"" '"action":"BLOCKED"' "\"rule\":\"$RULE\"" ||
                    problem "$name: no BLOCKED $op record with rule $RULE"
                return
                ;;
        esac
        [ "$RC" = 0 ] || { problem "$name: setup failed (status $RC): $OUT"; return; }
    fi
    run_sh "exec $MOUNTTOOL mount $source $target - $how"
    case $OUT in
        *"error: Operation not permitted"*) say "refused at the mount: $name" ;;
        *ok*) problem "$name: MOUNTED ($source at $target)"; umount "$target" 2>/dev/null ;;
        *) problem "$name: neither refused nor mounted: $OUT" ;;
    esac
}

say "renames, then a bind of the new name"
RULE=/var/run/docker.sock
attack "rename of the denied file" rename "mv /run/docker.sock /run/moved.sock" /run/moved.sock /tmp/t
rec_has '"source":"/run/docker.sock"' '"target":"/run/moved.sock"' '"source_ino":'
[ -e /run/moved.sock ] && mv /run/moved.sock /run/docker.sock
RULE=$M/a/secret
attack "rename of the denied directory" rename "mv $M/a/secret $M/a/renamed" "$M/a/renamed" /tmp/d
[ -e "$M/a/renamed" ] && mv "$M/a/renamed" "$M/a/secret"
attack "rename of a directory above" rename "mv $M/a $M/b" "$M/b/secret" /tmp/d
[ -e "$M/b" ] && mv "$M/b" "$M/a"
attack "rename of a subdirectory out" rename "mv $M/a/secret/sub $M/out/sub" "$M/out/sub" /tmp/d
[ -e "$M/out/sub" ] && mv "$M/out/sub" "$M/a/secret/sub"
attack "exchange of the denied directory" rename "$MOUNTTOOL exchange $M/a/secret $M/out" "$M/out" /tmp/d
[ -e "$M/out/sub" ] && $MOUNTTOOL exchange "$M/a/secret" "$M/out" >/dev/null
attack "exchange, the other way round" rename "$MOUNTTOOL exchange $M/out $M/a/secret" "$M/out" /tmp/d
[ -e "$M/out/sub" ] && $MOUNTTOOL exchange "$M/a/secret" "$M/out" >/dev/null

say "a hard link made after the start"
attack "hard link below the denied directory" link "ln $M/a/secret/sub/key $M/out/key" "$M/out/key" /tmp/t
rm -f "$M/out/key"
RULE=/var/run/docker.sock
attack "hard link to the denied file" link "ln /run/docker.sock /run/hl2.sock" /run/hl2.sock /tmp/t
rm -f /run/hl2.sock

say "recursive binds and clones"
attack "rbind of /" mount "" / /tmp/d rbind
run_sh "exec $MOUNTTOOL clone $M /tmp/d rec"
case $OUT in
    *"error: Operation not permitted"*) say "refused: recursive clone of $M" ;;
    *) problem "recursive clone of $M: $OUT"; umount /tmp/d 2>/dev/null ;;
esac

say "an unprivileged user in a user+mount namespace"
if su -s /bin/sh user -c 'unshare -Urm /bin/true' >/dev/null 2>&1; then
    chmod 755 "$M" "$M/a"
    run_cmd su -s /bin/sh user -c "unshare -Urm $MOUNTTOOL mount /run/docker.sock /tmp/t - bind"
    case $OUT in *"error: Operation not permitted"*) say "refused in a user namespace" ;;
        *) problem "userns bind of /run/docker.sock: $OUT" ;; esac
    run_cmd su -s /bin/sh user -c "unshare -Urm $MOUNTTOOL mount /run/other /tmp/t - bind"
    case $OUT in *ok*) ;; *) problem "userns bind of /run/other was not allowed: $OUT" ;; esac
else
    say "unprivileged user namespaces are refused by this kernel: skipped"
fi

say "what must still work"
expect_ok mv "$M/a/secret/sub/key" "$M/a/secret/key2"
expect_ok mv "$M/a/secret/key2" "$M/a/secret/sub/key"
expect_ok ln "$M/a/secret/sub/key" "$M/a/secret/keylink"
expect_ok mv "$M/out/other" "$M/out/other2"
mnt_ok mount "$M/out/other2" /tmp/t2 - bind
umount /tmp/t2
stop_agent
end_problems "mount attacks"
