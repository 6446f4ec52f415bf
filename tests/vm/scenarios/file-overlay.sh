# boots: lsm
# kernels: 6.12
# file-overlay: an overlayfs over a denied directory does not expose it. On 5.10 and 6.1
# the kernel opens an overlay's real file with the overlay's path; the agent then judges
# the real file's identities in its layer too (sg_ovl_* programs). Refused with EPERM and
# a BLOCKED record: reading a read-denied file through an overlay whose lower layer is the
# denied directory or a directory above it, a copy-up of it (writing it through the
# overlay), a nested overlay, a metadata-only copy-up (metacopy=on), an overlay mounted in
# a user namespace by an unprivileged user (where the kernel allows it); running a program
# under a process deny rule from an overlay, and mapping it executable (mmap, mprotect)
# under a file exec rule; writing a denied file through the upper layer, and deleting,
# renaming, creating (mkdir, link, symlink, mkfifo, copy-up, whiteout) and chmod there,
# one ALLOWED record for each change under an audit rule; any file under a rule that
# names the overlay's own mount point. Files through an overlay that no rule
# covers stay readable and runnable (container root filesystems are overlays).
# Debian's kernels build overlayfs as a module: kernels.sh extracts it into the guest.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-file-overlay
T=/usr/bin/sg-filetool
load_overlayfs || fail "no overlayfs in this kernel (module not in /lib/modules/$(uname -r))"
rm -rf "$D"
for d in f g a x e ok; do mkdir -p "$D/$d"; done
for i in 1 2 3 4 5 6 7 8 9 10 11; do mkdir -p "$D/u$i" "$D/w$i" "/mnt/o$i"; done
echo s3cret >"$D/f/key"
echo fine >"$D/ok/plain"
copy_busybox "$D/x/prog"
copy_busybox "$D/e/code"
copy_busybox "$D/ok/prog"
chmod 755 "$D" "$D/f" "$D/ok"
for k in key key2 key3 key4; do echo "$k" >"$D/g/$k"; done
for k in t r m; do echo "$k" >"$D/a/$k"; done
chmod 644 "$D/f/key"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
# the ops tried, no more: every op ruled loads more programs (a slower start)
deny = [{ path = "$D/f", ops = ["read", "write"] }, { path = "$D/e", ops = ["exec"] },
        { path = "/mnt/o9", ops = ["read"] }, { path = "$D/g", ops = ["delete", "rename", "create", "chmod"] }]
audit = [{ path = "$D/a", ops = ["delete", "chmod", "setattr"] }]
[process]
mode = "block"
deny = ["$D/x"]
EOF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
trap 'for i in 11 10 9 8 7 6 5 4 3 2 1; do umount /mnt/o$i 2>/dev/null; done' EXIT

# ovl N LOWER [UPPER [OPTIONS]]: mount an overlay on /mnt/oN (upper $D/uN unless given).
ovl() {
    n=$1 lower=$2 upper=${3:-$D/u$1} opts=${4:+,$4}
    run_cmd mount -t overlay ovl -o "lowerdir=$lower,upperdir=$upper,workdir=$D/w$n$opts" "/mnt/o$n"
    [ "$RC" = 0 ] || problem "mount overlay $n ($lower, $upper$opts): status $RC: $OUT"
}
READ='"op":"read"'

say "lower layer: the denied directory, or a directory above it"
ovl 1 "$D/f"
file_refused "cat /mnt/o1/key" "$READ" "$D/f\\\""
ovl 2 "$D"
file_refused "cat /mnt/o2/f/key" "$READ"
expect_read /mnt/o2/ok/plain fine

say "copy-up of a denied lower file (open for writing through the overlay)"
file_refused "/bin/sh -c 'echo x >>/mnt/o1/key'" '"module":"file"'
[ -e "$D/u1/key" ] && problem "the denied file was copied up into the upper layer"

say "process deny: a program in the lower layer"
ovl 3 "$D/x"
mark_records
run_sh "exec -a echo /mnt/o3/prog RAN"
case $OUT in
    *RAN*) problem "the denied program ran from the overlay" ;;
    *"Operation not permitted"*) say "refused: /mnt/o3/prog" ;;
    *) problem "/mnt/o3/prog: status $RC: $OUT" ;;
esac
find_new_record '"module":"process"' '"action":"BLOCKED"' "\"pid\":$SH_PID" ||
    problem "no BLOCKED process record for /mnt/o3/prog"

say "file exec rule: mapping the lower file executable"
ovl 4 "$D/e"
file_refused "$T mmap /mnt/o4/code exec" '"op":"exec"'
file_refused "$T mprotect /mnt/o4/code" '"op":"exec"'
file_refused "/mnt/o4/code" '"op":"exec"'

say "upper layer: the denied directory"
ovl 5 "$D/ok" "$D/f"
file_refused "/bin/sh -c 'echo changed >/mnt/o5/key'" '"op":"write"'
file_refused "cat /mnt/o5/key" "$READ"

say "upper layer: names and modes of a directory under delete, rename, create, chmod rules"
ovl 10 "$D/ok" "$D/g"
file_refused "rm /mnt/o10/key" '"op":"delete"'
file_refused "mv /mnt/o10/key2 /mnt/o10/moved" '"op":"rename"'
file_refused "mkdir /mnt/o10/newdir" '"op":"create"'
file_refused "chmod 600 /mnt/o10/key3" '"op":"chmod"'
file_refused "ln /mnt/o10/key4 /mnt/o10/hard" '"op":"create"'
file_refused "ln -s key4 /mnt/o10/sym" '"op":"create"'
file_refused "mkfifo /mnt/o10/fifo" '"op":"create"'
file_refused "mv /mnt/o10/key4 /mnt/o10/key" '"module":"file"'
# a copy-up makes a new name in the upper layer; deleting a lower file, a whiteout
file_refused "/bin/sh -c 'echo x >>/mnt/o10/plain'" '"op":"create"'
file_refused "rm /mnt/o10/plain" '"op":"create"'
for f in key key2 key3 key4; do [ -e "$D/g/$f" ] || problem "$D/g/$f is gone"; done
set -- "$D/g"/*
[ $# = 4 ] || problem "the upper layer's names changed: $*"
[ "$(stat -c %a "$D/g/key3")" = 644 ] || problem "the mode of $D/g/key3 changed"

say "upper layer under an audit rule: one ALLOWED record per change"
ovl 11 "$D/ok" "$D/a"
# audited CMD OP: CMD succeeds and exactly one file record with OP comes from its pid.
audited() {
    mark_records
    run_sh "exec $1"
    [ "$RC" = 0 ] || problem "$1: status $RC: $OUT"
    find_new_record '"module":"file"' '"action":"ALLOWED"' "\"op\":\"$2\"" "\"pid\":$SH_PID" ||
        problem "$1: no ALLOWED $2 record"
    sleep 1
    n=$(tail -n +"$((MARK + 1))" "$SG_LOG" | match '"module":"file"' "\"pid\":$SH_PID" | wc -l)
    [ "$n" = 1 ] || problem "$1: $n file records, not one"
}
audited "touch /mnt/o11/t" setattr
audited "chmod 600 /mnt/o11/m" chmod
audited "rm /mnt/o11/r" delete

say "nested: an overlay whose lower layer is an overlay over the denied directory"
ovl 6 /mnt/o1
file_refused "cat /mnt/o6/key" "$READ"

say "metacopy: a metadata-only copy-up keeps reading the lower file"
if mount -t overlay ovl -o "lowerdir=$D/f,upperdir=$D/u7,workdir=$D/w7,metacopy=on" /mnt/o7 2>/dev/null; then
    chown 1000 /mnt/o7/key 2>/dev/null
    file_refused "cat /mnt/o7/key" "$READ"
else
    say "metacopy=on not supported here"
fi

say "a rule naming the overlay's mount point"
ovl 9 "$D/ok"
file_refused "cat /mnt/o9/plain" "$READ" '"path":"/mnt/o9/plain"'

say "a user namespace's overlay, mounted by an unprivileged user"
mkdir -p /tmp/un && chmod 777 /tmp/un
as_user "mkdir -p /tmp/un/u /tmp/un/w /tmp/un/m"
run_cmd su -s /bin/sh user -c "unshare -Urm /bin/sh -c 'echo IN; mount -t overlay ovl -o lowerdir=$D/f,upperdir=/tmp/un/u,workdir=/tmp/un/w /tmp/un/m || exit 9; cat /tmp/un/m/key'"
case $RC:$OUT in
    *s3cret*) problem "the denied file was read through a user namespace's overlay" ;;
    9:*IN*) say "this kernel refuses an overlay in a user namespace: $OUT" ;;
    *IN*"Operation not permitted"*) say "refused in the user namespace's overlay" ;;
    *IN*) problem "user namespace overlay: status $RC: $OUT" ;;
    *) say "no user namespace for an unprivileged user here: $OUT" ;;
esac

say "files no rule covers stay usable through an overlay"
ovl 8 "$D/ok"
expect_read /mnt/o8/plain fine
run_cmd sh -c "exec -a echo /mnt/o8/prog RAN"
[ "$OUT" = RAN ] || problem "an allowed program did not run from an overlay: status $RC: $OUT"
run_cmd $T mmap /mnt/o8/prog exec
[ "$OUT" = ok ] || problem "sg-filetool mmap of an allowed overlay file: status $RC: $OUT"
run_cmd sh -c "echo new >/mnt/o8/plain && cat /mnt/o8/plain"
[ "$OUT" = new ] || problem "writing an allowed file through an overlay: status $RC: $OUT"

stop_agent
[ "$(cat "$D/f/key")" = s3cret ] || problem "the denied file was written through the overlay"
end_problems "file-overlay"
