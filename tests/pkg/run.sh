#!/usr/bin/env bash
# shellcheck disable=SC2016 # dpkg-query formats and unit lines are meant literally
# Package tests behind `make package-test`: the .deb is installed, upgraded, removed and
# purged with dpkg inside a clean Debian root (debootstrap, cached), the .rpm is inspected
# with rpm and installed, upgraded and erased in the same kind of root, and the systemd
# unit is checked with systemd-analyze against the installed files.
# Meanwhile systemd-vm.sh boots the installed .deb under a real systemd on a BPF LSM
# kernel (skip it with SG_PKG_VM=0); its checks are named systemd-*.
# Usage: tests/pkg/run.sh PKG_DIR BIN, where PKG_DIR holds the packages of `make package`
# and PKG_DIR/upgrade/ the same packages one revision later. Ends with
# "pkg: N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PKG=$(realpath "${1:?usage: run.sh PKG_DIR BIN}")
BIN=$(realpath "${2:?usage: run.sh PKG_DIR BIN}")
CACHE=${SG_PKG_CACHE:-/var/cache/safeguard-pkg}
SUITE=bookworm

passed=0
failed=0
started=$(date +%s)

if [ "$(id -u)" != 0 ]; then
    echo "SKIP pkg: installing into a chroot needs root"
    echo "pkg: 0 passed, 0 failed"
    exit 0
fi

# check NAME FUNCTION: one PASS or FAIL line; a failure shows what the function printed.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        echo "PASS pkg $name"
        passed=$((passed + 1))
    else
        echo "FAIL pkg $name"
        printf '%s\n' "$out" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}

# Each check runs in its own subshell: fail ends that check only.
fail() {
    echo "$*"
    exit 1
}

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# one GLOB-EXPANSION: the single package a glob names.
one() {
    if [ $# -ne 1 ] || [ ! -f "$1" ]; then
        echo "FAIL pkg packages: want one package, found: $*" >&2
        exit 1
    fi
    echo "$1"
}
DEB1=$(one "$PKG"/safeguard_*_amd64.deb) || exit 1
DEB2=$(one "$PKG"/upgrade/safeguard_*_amd64.deb) || exit 1
RPM1=$(one "$PKG"/safeguard-*.x86_64.rpm) || exit 1
RPM2=$(one "$PKG"/upgrade/safeguard-*.x86_64.rpm) || exit 1

for tool in debootstrap:debootstrap rpm:rpm systemd-analyze:systemd; do
    command -v "${tool%%:*}" >/dev/null || missing="${missing:-} ${tool#*:}"
done
if [ -n "${missing:-}" ]; then
    echo "installing:$missing"
    # shellcheck disable=SC2086 # one word per package
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# --- a clean Debian root ---------------------------------------------------------------
# Made once (tests/pkg/root.sh); the Vagrant box is made of the same root.
ROOT_TAR=$CACHE/$SUITE-minbase-systemd.tar.gz
"$here/root.sh" "$ROOT_TAR" || exit 1

# The systemd guest boots in the background (one TCG thread) while the chroot tests run.
VM_LOG=$PKG/systemd-vm.log
vm_job=
if [ "${SG_PKG_VM:-1}" != 0 ]; then
    "$here/systemd-vm.sh" "$ROOT_TAR" "$DEB1" "$DEB2" "$VM_LOG" >"$VM_LOG.host" 2>&1 &
    vm_job=$!
fi

ROOT=$(mktemp -d /tmp/sg-pkg-root.XXXXXX)
trap '[ -n "$vm_job" ] && kill "$vm_job" 2>/dev/null; rm -rf "$ROOT"' EXIT
tar -C "$ROOT" -xzf "$ROOT_TAR"
chmod 0755 "$ROOT"
cp "$DEB1" "$DEB2" "$RPM1" "$RPM2" "$ROOT/tmp/"
# systemd is not running in a chroot; a stub systemctl records what the maintainer
# scripts ask of it, and /run/systemd/system makes them believe it runs.
mkdir -p "$ROOT/run/systemd/system"
rm -f "$ROOT/usr/bin/systemctl"
cat >"$ROOT/usr/bin/systemctl" <<'EOF'
#!/bin/sh
echo "$*" >>/var/tmp/systemctl.log
EOF
chmod 755 "$ROOT/usr/bin/systemctl"
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
systemctl_calls() { cat "$ROOT/var/tmp/systemctl.log" 2>/dev/null; : >"$ROOT/var/tmp/systemctl.log"; }
mode_of() { stat -c '%a %U:%G' "$ROOT$1"; }

# --- the .deb --------------------------------------------------------------------------
deb_metadata() {
    local info
    info=$(dpkg-deb -f "$DEB1" Package Section Priority Depends Architecture)
    expect_eq "control fields" "$info" "$(printf 'Package: safeguard\nSection: admin\nPriority: optional\nDepends: procps\nArchitecture: amd64')"
    dpkg-deb -f "$DEB1" Maintainer | grep . >/dev/null || fail "no Maintainer"
    dpkg-deb -f "$DEB1" Description | grep 'neither enabled nor started' >/dev/null || fail "description does not say it is not started"
}
check deb-metadata deb_metadata

deb_install() {
    in_root dpkg -i "/tmp/$(basename "$DEB1")" || fail "dpkg -i failed"
    expect_eq "state" "$(in_root dpkg-query -W -f='${Status} ${Version}' safeguard)" "install ok installed $(dpkg-deb -f "$DEB1" Version)"
}
check deb-install deb_install

deb_files() {
    local path want
    while read -r path want; do
        [ -e "$ROOT$path" ] || fail "missing $path"
        expect_eq "$path" "$(mode_of "$path")" "$want"
    done <<'EOF'
/usr/sbin/safeguard 755 root:root
/etc/safeguard 755 root:root
/etc/safeguard/safeguard.toml 640 root:root
/var/log/safeguard 750 root:root
/usr/lib/systemd/system/safeguard.service 644 root:root
/usr/share/man/man8/safeguard.8.gz 644 root:root
/usr/share/man/man8/safeguard-run.8.gz 644 root:root
/usr/share/man/man8/safeguard-check.8.gz 644 root:root
/usr/share/man/man8/safeguard-probe.8.gz 644 root:root
/usr/share/bash-completion/completions/safeguard 644 root:root
/usr/share/zsh/vendor-completions/_safeguard 644 root:root
/usr/share/fish/vendor_completions.d/safeguard.fish 644 root:root
/usr/share/doc/safeguard/install.md 644 root:root
EOF
    cmp -s "$BIN" "$ROOT/usr/sbin/safeguard" || fail "/usr/sbin/safeguard is not the built binary"
    cmp -s "$here/../../packaging/safeguard.toml" "$ROOT/etc/safeguard/safeguard.toml" || fail "config differs from packaging/safeguard.toml"
}
check deb-files deb_files

deb_conffile() {
    local conffiles
    conffiles=$(in_root dpkg-query -W -f='${Conffiles}' safeguard)
    expect_eq "conffiles" "$(echo "$conffiles" | awk 'NF { print $1 }')" /etc/safeguard/safeguard.toml
}
check deb-conffile deb_conffile

# Installing must not enable or start the agent; systemd only learns about the unit.
deb_install_no_start() { expect_eq "systemctl calls" "$(systemctl_calls)" daemon-reload; }
check deb-install-does-not-start deb_install_no_start

deb_config_checks() {
    in_root /usr/sbin/safeguard check -c /etc/safeguard/safeguard.toml >/dev/null || fail "safeguard check failed"
    in_root /usr/sbin/safeguard --version | grep -x "safeguard $(dpkg-deb -f "$DEB1" Version | sed 's/-[^-]*$//')" >/dev/null || fail "version differs"
}
check deb-config-passes-check deb_config_checks

# The unit, against the installed files: ExecStart= binaries and man pages must exist.
unit_verify() {
    local out
    out=$(MANPATH="$ROOT/usr/share/man" systemd-analyze verify --root="$ROOT" /usr/lib/systemd/system/safeguard.service 2>&1)
    [ -z "$out" ] || fail "$out"
}
check unit-verify unit_verify

unit_contract() {
    local unit=$ROOT/usr/lib/systemd/system/safeguard.service line
    for line in 'Type=notify' \
        'ExecStartPre=/usr/sbin/safeguard check -c /etc/safeguard/safeguard.toml' \
        'ExecStart=/usr/sbin/safeguard run -c /etc/safeguard/safeguard.toml' \
        'ExecReload=/usr/sbin/safeguard check -c /etc/safeguard/safeguard.toml' \
        'ExecReload=+/bin/systemctl kill --kill-who=main --signal=SIGHUP %n' \
        'Restart=on-failure' 'RestartPreventExitStatus=2' \
        'After=local-fs.target' 'LimitMEMLOCK=infinity' 'WantedBy=multi-user.target'; do
        grep -qxF "$line" "$unit" || fail "no '$line'"
    done
    for line in PrivateDevices=yes PrivateTmp=yes ProtectHome=yes; do
        ! grep -qxF "$line" "$unit" || fail "'$line' hides host paths the agent must see"
    done
}
check unit-contract unit_contract

man_pages() {
    local page warnings
    for page in "$ROOT"/usr/share/man/man8/safeguard*.8.gz; do
        warnings=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
        [ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
    done
    zcat "$ROOT/usr/share/man/man8/safeguard-run.8.gz" | grep 'require\\-enforcement' >/dev/null || fail "safeguard-run(8) lacks --require-enforcement"
    bash -n "$ROOT/usr/share/bash-completion/completions/safeguard" || fail "bash completion does not parse"
}
check man-and-completions man_pages

# An upgrade keeps a locally edited policy, and restarts an agent that runs: prerm stops
# it (with [agent] protect it refuses the replacement of its binary), postinst starts it.
deb_upgrade() {
    echo '# edited by the administrator' >>"$ROOT/etc/safeguard/safeguard.toml"
    local edited
    edited=$(sha256sum <"$ROOT/etc/safeguard/safeguard.toml")
    in_root dpkg -i --force-confold "/tmp/$(basename "$DEB2")" </dev/null || fail "upgrade failed"
    expect_eq "version" "$(in_root dpkg-query -W -f='${Version}' safeguard)" "$(dpkg-deb -f "$DEB2" Version)"
    expect_eq "config after upgrade" "$(sha256sum <"$ROOT/etc/safeguard/safeguard.toml")" "$edited"
    expect_eq "systemctl calls" "$(systemctl_calls | tr '\n' ';')" "is-active --quiet safeguard.service;stop safeguard.service;daemon-reload;start safeguard.service;"
    [ ! -e "$ROOT/run/safeguard.upgrade-restart" ] || fail "postinst left its marker"
}
check deb-upgrade-keeps-config deb_upgrade

deb_remove() {
    in_root dpkg -r safeguard || fail "dpkg -r failed"
    [ ! -e "$ROOT/usr/sbin/safeguard" ] || fail "binary left after remove"
    [ ! -e "$ROOT/usr/lib/systemd/system/safeguard.service" ] || fail "unit left after remove"
    grep -q 'edited by the administrator' "$ROOT/etc/safeguard/safeguard.toml" || fail "remove lost the config"
    [ -d "$ROOT/var/log/safeguard" ] || fail "remove lost the logs"
    expect_eq "state" "$(in_root dpkg-query -W -f='${Status}' safeguard)" "deinstall ok config-files"
    expect_eq "systemctl calls" "$(systemctl_calls | tr '\n' ';')" "stop safeguard.service;disable --quiet safeguard.service;daemon-reload;"
}
check deb-remove-keeps-config deb_remove

deb_purge() {
    echo '{"level":"INFO"}' >"$ROOT/var/log/safeguard/safeguard.log"
    in_root dpkg -P safeguard || fail "dpkg -P failed"
    [ ! -e "$ROOT/etc/safeguard" ] || fail "purge left $(ls -A "$ROOT/etc/safeguard")"
    [ ! -e "$ROOT/var/log/safeguard" ] || fail "purge left /var/log/safeguard"
    in_root dpkg-query -W safeguard >/dev/null 2>&1 && fail "dpkg still knows safeguard"
    return 0
}
check deb-purge-removes-config-and-logs deb_purge

# --- the .rpm --------------------------------------------------------------------------
# The same payload as the .deb, except the zsh directory each family reads.
rpm_files() {
    local want got
    want=$(dpkg-deb -c "$DEB1" | awk '$1 !~ /^d/ { sub("^\\.", "", $6); print $1, $6 }' |
        grep -v '/usr/share/doc/safeguard/copyright' |
        sed 's|/usr/share/zsh/vendor-completions/|/usr/share/zsh/site-functions/|' | sort)
    got=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$RPM1" | sort)
    expect_eq "rpm payload (mode path) vs deb" "$got" "$want"
    expect_eq "owners" "$(rpm -qp --qf '[%{FILEUSERNAME}:%{FILEGROUPNAME}\n]' "$RPM1" | sort -u)" root:root
    expect_eq "rpm -qlp" "$(rpm -qlp "$RPM1" | sort)" "$(echo "$got" | awk '{ print $2 }' | sort)"
}
check rpm-files rpm_files

rpm_metadata() {
    local info
    info=$(rpm -qip "$RPM1")
    for field in 'Name        : safeguard' 'License     : Apache-2.0' 'Architecture: x86_64' \
        'Summary     : Linux host security agent: BPF LSM audit and enforcement'; do
        grep -qxF "$field" <<<"$info" || fail "rpm -qip lacks '$field'"
    done
    # A static binary: no shared libraries, only the shell for scriptlets and kill (Cargo.toml says why).
    expect_eq "requires" "$(rpm -qpR "$RPM1" | grep -v '^rpmlib(' | sort -u | tr '\n' ' ')" "/bin/sh /usr/bin/kill config(safeguard) = $(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$RPM1") "
}
check rpm-metadata rpm_metadata

rpm_config_flags() {
    expect_eq "rpm -qcp" "$(rpm -qcp "$RPM1")" /etc/safeguard/safeguard.toml
    expect_eq "flags" "$(rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$RPM1" | grep '^/etc/')" "/etc/safeguard/safeguard.toml cn"
}
check rpm-config-noreplace rpm_config_flags

# rpm itself, in the Debian root: scriptlets run, noreplace keeps an edit, erase saves it.
rpm_lifecycle() {
    local rpm_in_root=(rpm --root "$ROOT" --nodeps --nosignature)
    rpm --root "$ROOT" --initdb || fail "rpm --initdb"
    systemctl_calls >/dev/null
    "${rpm_in_root[@]}" -i "$RPM1" || fail "rpm -i failed"
    expect_eq "/var/log/safeguard" "$(mode_of /var/log/safeguard)" "750 root:root"
    cmp -s "$BIN" "$ROOT/usr/sbin/safeguard" || fail "/usr/sbin/safeguard is not the built binary"
    expect_eq "systemctl calls on install" "$(systemctl_calls)" daemon-reload
    echo '# edited by the administrator' >>"$ROOT/etc/safeguard/safeguard.toml"
    "${rpm_in_root[@]}" -U "$RPM2" || fail "rpm -U failed"
    grep -q 'edited by the administrator' "$ROOT/etc/safeguard/safeguard.toml" || fail "upgrade lost the edit"
    expect_eq "systemctl calls on upgrade" "$(systemctl_calls | tr '\n' ';')" "is-active --quiet safeguard.service;stop safeguard.service;daemon-reload;daemon-reload;start safeguard.service;"
    "${rpm_in_root[@]}" -e safeguard || fail "rpm -e failed"
    [ ! -e "$ROOT/usr/sbin/safeguard" ] || fail "binary left after erase"
    grep -q 'edited by the administrator' "$ROOT/etc/safeguard/safeguard.toml.rpmsave" || fail "erase did not keep the edit as .rpmsave"
    expect_eq "systemctl calls on erase" "$(systemctl_calls | tr '\n' ';')" "stop safeguard.service;disable --quiet safeguard.service;daemon-reload;"
}
check rpm-install-upgrade-erase rpm_lifecycle

# The inventory reads rpm's own database (rpmdb.sqlite, its write-ahead log included):
# the packages rpm -qa lists, the owner of a set-id file, thousands of rows (b-tree
# interior and overflow pages), rows committed to the log only, and a damaged file.
rpm_inventory() {
    local r want got
    r=$(mktemp -d /tmp/sg-rpmroot.XXXXXX)
    local rpm_r=(rpm --root "$r" --dbpath /var/lib/rpm)
    "${rpm_r[@]}" --initdb || fail "rpm --initdb"
    "${rpm_r[@]}" -i --justdb --nodeps --nosignature --noscripts "$RPM1" 2>/dev/null || fail "rpm -i --justdb failed"
    mkdir -p "$r/usr/sbin" "$r/usr/bin"
    install -m 4755 "$BIN" "$r/usr/sbin/safeguard"
    install -m 4755 /dev/null "$r/usr/bin/planted"
    rpm_root_inventory() { "$BIN" inventory --root "$r" --json; }
    rpm_listed() { python3 -c 'import json, sys; print("\n".join(sorted(" ".join((p["name"], p["version"], p["arch"])) for p in json.load(sys.stdin)["packages"]["rpm"] or [])))'; }
    want=$("${rpm_r[@]}" -qa --qf '%{NAME} %{EVR} %{ARCH}\n' | sort)
    expect_eq "rpm packages" "$(rpm_root_inventory | rpm_listed)" "$want"
    got=$(rpm_root_inventory | python3 -c 'import json, sys; i = json.load(sys.stdin); print(i["packages"]["owner_db"], sorted((f["path"], f["package"]) for f in i["setid_files"]))')
    expect_eq "owners" "$got" "rpm [('/usr/bin/planted', None), ('/usr/sbin/safeguard', 'safeguard')]"
    # 4,096 rows, the last 2,048 committed to the write-ahead log and not checkpointed.
    python3 - "$r/var/lib/rpm/rpmdb.sqlite" <<'PY' || fail "could not grow the database"
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA wal_autocheckpoint = 0")
for _ in range(11):
    db.execute("INSERT INTO Packages (blob) SELECT blob FROM Packages")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.execute("INSERT INTO Packages (blob) SELECT blob FROM Packages")
os._exit(0)  # no close: the last commit stays in the log
PY
    [ -s "$r/var/lib/rpm/rpmdb.sqlite-wal" ] || fail "the rows did not stay in the write-ahead log"
    want=$("${rpm_r[@]}" -qa --qf '%{NAME} %{EVR} %{ARCH}\n' | sort)
    expect_eq "rows rpm sees" "$(echo "$want" | wc -l)" 4096
    expect_eq "4,096 rows" "$(rpm_root_inventory | rpm_listed)" "$want"
    # A damaged database: reported as unavailable, the rest of the inventory intact.
    rm -f "$r/var/lib/rpm/rpmdb.sqlite-wal" "$r/var/lib/rpm/rpmdb.sqlite-shm"
    truncate -s 50000 "$r/var/lib/rpm/rpmdb.sqlite"
    got=$(rpm_root_inventory | python3 -c 'import json, sys; i = json.load(sys.stdin); print(i["packages"]["rpm"], [u["section"] for u in i["unavailable"] if u["section"] == "packages.rpm"], len(i["setid_files"]))') ||
        fail "inventory of a damaged database failed"
    expect_eq "damaged database" "$got" "None ['packages.rpm'] 2"
    rm -rf "$r"
}
check rpm-inventory rpm_inventory

# inventory and risk on a real Debian root (issue 17): the debootstrapped root has no
# finding; with risks planted the way an intruder or a careless admin leaves them, risk
# --root reports exactly those, and the owner of every stock set-id file is known.
risk_debian_root() {
    local r got
    r=$(mktemp -d /tmp/sg-riskroot.XXXXXX)
    tar -xzf "$ROOT_TAR" -C "$r" || fail "could not unpack $ROOT_TAR"
    risk_ids() { "$BIN" risk --root "$r" --json | python3 -c 'import json, sys; print(" ".join(sorted(f["id"] + ":" + f["severity"] for f in json.load(sys.stdin)["findings"])))'; }
    expect_eq "findings of the clean root" "$(risk_ids)" ""
    got=$("$BIN" inventory --root "$r" --json | python3 -c 'import json, sys; i = json.load(sys.stdin); print(i["packages"]["owner_db"], len(i["setid_files"]) > 0, [f["path"] for f in i["setid_files"] if not f["package"]])')
    expect_eq "stock set-id files are owned" "$got" "dpkg True []"
    echo 'toor:x:0:0:planted:/root:/bin/bash' >>"$r/etc/passwd"
    echo 'toor:$6$salt$hash:19000:0:99999:7:::' >>"$r/etc/shadow"
    echo 'guest:x:1001:1001::/home/guest:/bin/bash' >>"$r/etc/passwd"
    echo 'guest::19000:0:99999:7:::' >>"$r/etc/shadow"
    mkdir -p "$r/etc/ssh"
    printf 'PermitRootLogin yes\nPasswordAuthentication no\n' >"$r/etc/ssh/sshd_config"
    install -m 4755 "$r/usr/bin/true" "$r/usr/local/bin/helper"
    chmod 0777 "$r/usr/local/sbin"
    printf '*/5 * * * * root /usr/local/sbin/job\n' >"$r/etc/cron.d/planted"
    expect_eq "findings of the planted root" "$(risk_ids)" \
        "cron-writable-program:high empty-password:high path-world-writable:high setid-unowned:high ssh-root-login:high uid0-account:critical"
    "$BIN" risk --root "$r" --fail-on critical >/dev/null
    expect_eq "risk --fail-on critical exit" "$?" 3
    rm -rf "$r"
}
check risk-debian-root risk_debian_root

# --- under systemd ----------------------------------------------------------------------
# guest.sh prints "SG-PKG PASS|FAIL name", a failure's evidence indented, then
# "SG-PKG DONE"; anything short of DONE is a failed boot.
systemd_results() {
    local line verdict name done=0 showing=0
    while IFS= read -r line; do
        case $line in
        *"SG-PKG DONE"*) done=1 showing=0 ;;
        *"SG-PKG PASS "* | *"SG-PKG FAIL "*)
            line=${line#*SG-PKG }
            verdict=${line%% *} name=${line#* }
            echo "$verdict pkg systemd-$name"
            if [ "$verdict" = PASS ]; then
                passed=$((passed + 1)) showing=0
            else
                failed=$((failed + 1)) showing=1
            fi
            ;;
        "    "*) [ $showing = 1 ] && echo "$line" ;;
        *) showing=0 ;;
        esac
    done < <(tr -d '\r' <"$VM_LOG" 2>/dev/null)
    if [ $done = 0 ]; then
        echo "FAIL pkg systemd-boot"
        { cat "$VM_LOG.host"; tail -n 30 "$VM_LOG" 2>/dev/null; } | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}
if [ -n "$vm_job" ]; then
    wait "$vm_job"
    vm_job=
    systemd_results
fi

echo "pkg: took $(($(date +%s) - started)) s"
echo "pkg: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
