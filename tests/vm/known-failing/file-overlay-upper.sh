# boots: lsm
# file-overlay-upper (known failing on every kernel): an overlayfs whose upper layer is a
# denied directory changes that directory's names and attributes through the overlay:
# rm, mv, mkdir, chmod. See known-failing/README.md.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

D=/srv/sg-file-overlay-upper
grep -q overlay /proc/filesystems || insmod "/lib/modules/$(uname -r)/overlay.ko" 2>&1
grep -q overlay /proc/filesystems || fail "no overlayfs in this kernel"
rm -rf "$D"
mkdir -p "$D/f" "$D/l" "$D/w" /mnt/ou
echo s3cret >"$D/f/key"
echo other >"$D/f/key2"
echo more >"$D/f/key3"
cat >/tmp/sg.toml <<EOF
[log]
format = "json"
output = "/tmp/sg.log"
[network]
enable = false
[file]
mode = "block"
deny = ["$D/f"]
EOF
start_agent /tmp/sg.toml
wait_for_record '"module":"agent"' '"op":"start"' '"file":"enforcing"'
trap 'umount /mnt/ou 2>/dev/null' EXIT
mount -t overlay ovl -o "lowerdir=$D/l,upperdir=$D/f,workdir=$D/w" /mnt/ou || fail "mount overlay"
expect_eperm_file_sh "rm /mnt/ou/key"
expect_eperm_file_sh "mv /mnt/ou/key2 /mnt/ou/moved"
expect_eperm_file_sh "chmod 600 /mnt/ou/key3"
expect_eperm_file_sh "mkdir /mnt/ou/newdir"
stop_agent
