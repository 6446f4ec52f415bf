# boots: lsm
# kernels: 5.10
# file-xattr: extended attributes are attributes. A POSIX ACL is the file's mode and a file
# capability (security.capability) grants privilege like a set-uid bit: setting or
# removing either is judged as chmod (and setattr); any other xattr change is setattr.
# Every road is tried: setxattr, fsetxattr on an O_RDONLY fd, setxattr on /proc/self/fd/N
# of an O_PATH fd, io_uring's IORING_OP_SETXATTR (5.19+), removexattr. Inode flags (chattr,
# FS_IOC_SETFLAGS on an O_RDONLY fd) are setattr too. Refusals are EPERM with a BLOCKED
# record; the mode stays; files no rule concerns change as asked.
# The xattr hooks see no mount: the record's path is relative to the root of the file's
# filesystem (README, File rules), so the fixture is on the root filesystem when it takes
# xattrs, on a tmpfs of its own otherwise.
# Every check is tried; the problems are listed together at the end.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-file-xattr
T=/usr/bin/sg-filetool
rm -rf "$D"
mkdir -p "$D"
P=$D # the path of $D in records
: >"$D/probe"
if [ "$($T setxattr "$D/probe" trusted.sg x)" != ok ]; then
    mount -t tmpfs tmpfs "$D" || fail "mount a tmpfs on $D"
    P=""
fi
mkdir -p "$D/nochmod" "$D/noattr" "$D/free"
for d in nochmod noattr free; do echo data >"$D/$d/f" && chmod 644 "$D/$d/f"; done
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[file]
mode = "block"
deny = [{ path = "$D/nochmod", ops = ["chmod"] }, { path = "$D/noattr", ops = ["setattr"] }]
EOF

start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'

# refused OP PATH ARGS...: `sg-filetool ARGS` fails with EPERM, with a new BLOCKED record
# with OP for PATH (as the record spells it) from its pid.
refused() {
    op=$1 path=$2
    shift 2
    file_refused "$T $*" "\"op\":\"$op\"" "\"path\":\"$path\""
}

allowed() {
    run_cmd $T "$@"
    [ "$OUT" = ok ] || problem "sg-filetool $*: want ok (status $RC): $OUT"
}

mode_is() {
    m=$(stat -c %a "$1")
    [ "$m" = "$2" ] || problem "$1 has mode $m, want $2"
}

say "chmod-denied: ACLs and file capabilities"
refused chmod "$P/nochmod/f" setacl "$D/nochmod/f" 777
mode_is "$D/nochmod/f" 644
refused chmod "$P/nochmod/f" rmacl "$D/nochmod/f"
refused chmod "$P/nochmod/f" setcap "$D/nochmod/f"
refused chmod "$P/nochmod/f" removexattr "$D/nochmod/f" security.capability
say "chmod-denied: another xattr is no chmod"
allowed setxattr "$D/nochmod/f" trusted.sg one

say "setattr-denied: every road to an xattr"
refused setattr "$P/noattr/f" setxattr "$D/noattr/f" trusted.sg one
refused setattr "$P/noattr/f" fsetxattr "$D/noattr/f" trusted.sg two
refused setattr "$P/noattr/f" procsetxattr "$D/noattr/f" trusted.sg three
case $(uname -r) in
    5.*) say "no IORING_OP_SETXATTR before 5.19" ;;
    *) refused setattr "$P/noattr/f" urxattr "$D/noattr/f" trusted.sg four ;;
esac
refused setattr "$P/noattr/f" removexattr "$D/noattr/f" trusted.sg
refused setattr "$P/noattr/f" setacl "$D/noattr/f" 777
refused setattr "$P/noattr/f" setcap "$D/noattr/f"
mode_is "$D/noattr/f" 644
say "setattr-denied: inode flags (chattr) through a descriptor opened for reading"
refused setattr "$D/noattr/f" setflags "$D/noattr/f"

say "no rule: every change goes through"
allowed setacl "$D/free/f" 750
mode_is "$D/free/f" 750
allowed rmacl "$D/free/f"
allowed setcap "$D/free/f"
allowed removexattr "$D/free/f" security.capability
allowed setxattr "$D/free/f" trusted.sg one
allowed fsetxattr "$D/free/f" trusted.sg two
case $(uname -r) in
    5.*) ;; # no IORING_OP_SETXATTR, no inode flags on tmpfs
    *) allowed urxattr "$D/free/f" trusted.sg four && allowed setflags "$D/free/f" ;;
esac
allowed removexattr "$D/free/f" trusted.sg

stop_agent
echo "--- file records:"
records '"module":"file"'
[ -z "$P" ] && umount "$D"
end_problems problems
