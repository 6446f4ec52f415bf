#!/bin/sh
# Builds the inventory test root in DIR: a small Debian-like tree with planted risks.
# Planted (and nothing else risky): a second uid 0 account (toor), an account with an empty
# password and a login shell (guest), PermitRootLogin yes in an included sshd file, a
# setuid file no package owns (/usr/local/bin/helper), a world-writable directory in root's
# PATH (/opt/tools/bin, named by sudoers secure_path), a root cron job run from it.
# Used by src/inventory/tests.rs (cargo test) and tests/host/scenarios/inventory.sh.
# Usage: make-fixture.sh DIR
set -eu
r=${1:?usage: make-fixture.sh DIR}
mkdir -p "$r"
cd "$r"
mkdir -p etc/ssh/sshd_config.d etc/cron.d etc/sudoers.d etc/systemd/system/multi-user.target.wants \
    etc/systemd/system/timers.target.wants usr/bin usr/sbin usr/lib usr/local/bin opt/tools/bin \
    var/lib/dpkg/info var/spool/cron/crontabs root/.ssh home/alice
ln -s usr/bin bin
ln -s usr/sbin sbin

cat >usr/lib/os-release <<'X'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
X
# An absolute symlink: it must resolve inside the root, not on the inspecting host.
ln -s /usr/lib/os-release etc/os-release
echo fixture-host >etc/hostname
echo 0123456789abcdef0123456789abcdef >etc/machine-id

cat >etc/passwd <<'X'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/bash
toor:x:0:0:planted:/root:/bin/sh
guest:x:1001:1001::/home/guest:/bin/sh
X
cat >etc/shadow <<'X'
root:$6$salt$hash:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
alice:$6$salt$hash2:19000:0:99999:7:::
toor:$6$salt$hash3:19000:0:99999:7:::
guest::19000:0:99999:7:::
X
chmod 640 etc/shadow
cat >etc/group <<'X'
root:x:0:
sudo:x:27:alice
alice:x:1000:
guest:x:1001:
X
cat >etc/sudoers <<'X'
Defaults	env_reset
Defaults	secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/tools/bin"
root	ALL=(ALL:ALL) ALL
%sudo	ALL=(ALL:ALL) ALL
@includedir /etc/sudoers.d
X
echo 'alice ALL=(root) NOPASSWD: /usr/bin/systemctl' >etc/sudoers.d/alice
echo 'ignored rule in a file with a dot' >etc/sudoers.d/README.txt

cat >etc/ssh/sshd_config <<'X'
Include /etc/ssh/sshd_config.d/*.conf
# PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
Match User backup
    PasswordAuthentication yes
X
printf 'PermitRootLogin yes\n' >etc/ssh/sshd_config.d/50-planted.conf
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixture root@admin' >root/.ssh/authorized_keys
mkdir -p home/alice/.ssh
echo 'from="10.0.0.0/8" ssh-rsa AAAAB3Nza alice@laptop' >home/alice/.ssh/authorized_keys

cat >etc/cron.d/backup <<'X'
SHELL=/bin/sh
*/5 * * * * root /opt/tools/bin/backup.sh --quiet
X
echo '@daily /home/alice/sync.sh' >var/spool/cron/crontabs/alice

ln -s /lib/systemd/system/ssh.service etc/systemd/system/multi-user.target.wants/ssh.service
ln -s /etc/systemd/system/backup.timer etc/systemd/system/timers.target.wants/backup.timer

# Set-id files: su belongs to a package (dpkg lists it as /bin/su, the unmerged spelling),
# helper to none. A world-writable directory in root's PATH.
printf '#!/bin/sh\n' >usr/bin/su
printf '#!/bin/sh\n' >usr/local/bin/helper
printf '#!/bin/sh\n' >usr/bin/bash
chmod 4755 usr/bin/su usr/local/bin/helper
chmod 755 usr/bin/bash
chmod 777 opt/tools/bin

cat >var/lib/dpkg/status <<'X'
Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2
Description: GNU Bourne Again SHell

Package: login
Status: install ok installed
Architecture: amd64
Version: 1:4.13+dfsg1-1
Description: system login tools

Package: removed-one
Status: deinstall ok config-files
Architecture: all
Version: 1.0
X
printf '/.\n/bin\n/bin/bash\n' >var/lib/dpkg/info/bash.list
printf '/.\n/bin\n/bin/su\n' >var/lib/dpkg/info/login:amd64.list
