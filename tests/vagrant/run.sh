#!/usr/bin/env bash
# `make vagrant-test`: the .deb on a Vagrant box under its real systemd, through Vagrant's
# libvirt provider. Builds the box locally once (box.sh), adds it to a Vagrant home in the
# cache, starts libvirtd when it does not run, `vagrant up` (libvirt domain type kvm where
# /dev/kvm runs a guest, qemu (TCG) where it does not), installs the .deb with the file
# and shell provisioners, runs tests/pkg/guest.sh's checks against the systemd service
# over `vagrant ssh`, then `vagrant destroy`. Whatever it started or made in libvirt (the
# daemons, the management network, the storage pool and its volumes, the domain) is gone
# when it ends, failed or not.
# Usage: tests/vagrant/run.sh DEB. Ends with "vagrant: N passed, M failed".
#        tests/vagrant/run.sh --install: only install the host's tools (below) and exit;
#        `make test` does that first, so that no other tier's apt-get meets dpkg's lock.
# Environment: SG_VAGRANT_CACHE (default /var/cache/safeguard-vagrant); SG_VAGRANT_DRIVER
# kvm|qemu (default: probed); SG_VAGRANT_CHECKS (guest.sh check names, comma-separated,
# or "all"; default the subset below).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
install_only=0
[ "${1:-}" = --install ] && install_only=1
[ "$install_only" = 1 ] || DEB=$(realpath "${1:?usage: run.sh DEB|--install}")
CACHE=${SG_VAGRANT_CACHE:-/var/cache/safeguard-vagrant}
BOX=$CACHE/safeguard-debian12.box
BOX_NAME=safeguard/debian12
POOL=safeguard-vagrant
NET=vagrant-libvirt # vagrant-libvirt's management network
DOMAIN=safeguard-default
VIRSH=(virsh -q -c qemu:///system)
# The default subset: every check of guest.sh but the six that restart or reload the
# agent once more or more (file-rules-see-host-paths, older-listeners-have-owners,
# reload-applies-new-policy, inventory-drift, outputs-under-unit,
# detect-quiet-on-a-normal-host). Under TCG each agent start takes minutes;
# `make package-test` runs all of them on the same Debian 12 userland and 6.1 kernel.
# reload-refuses-bad-config needs reload-applies-new-policy after it (it leaves the
# policy broken), so it goes with them.
CHECKS=${SG_VAGRANT_CHECKS:-unit-starts-with-full-bpf-lsm,exe-of-older-process,unit-blocks-denied-exec,restarts-after-crash,stop-detaches,no-restart-on-exit-2,bad-policy-retries-are-bounded}

passed=0
failed=0
started=$(date +%s)

if [ "$(id -u)" != 0 ]; then
    echo "SKIP vagrant: libvirt's system instance needs root"
    echo "vagrant: 0 passed, 0 failed"
    exit 0
fi

pass() {
    echo "PASS vagrant $1"
    passed=$((passed + 1))
}
# fail NAME [EVIDENCE-FILE]
fail() {
    echo "FAIL vagrant $1"
    # vagrant's progress bars are lines ended by carriage returns
    [ -n "${2:-}" ] && tr '\r' '\n' <"$2" | grep -v '^.\[KProgress' | tail -n 30 | sed 's/^/    /'
    failed=$((failed + 1))
}
finish() {
    echo "vagrant: took $(($(date +%s) - started)) s (domain type ${driver:-none})"
    echo "vagrant: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

# --- the host's tools ------------------------------------------------------------------
missing=
for p in vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients dnsmasq-base \
    qemu-system-x86 qemu-utils iptables; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep '^install ok installed' >/dev/null || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    # shellcheck disable=SC2086 # one word per package
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; }; then
        fail host-packages
        finish
    fi
fi
[ "$install_only" = 0 ] || exit 0

work=$(mktemp -d /tmp/sg-vagrant.XXXXXX)
chmod 0755 "$work" # the console file is written by libvirt's qemu user
export VAGRANT_HOME=$CACHE/home       # the added box, kept between runs
export VAGRANT_DOTFILE_PATH=$work/.vagrant # the machine's state, never in the repository
export VAGRANT_CWD=$repo
export VAGRANT_DEFAULT_PROVIDER=libvirt
export VAGRANT_CHECKPOINT_DISABLE=1 # no version check over the network
export SG_VAGRANT_DEB=$DEB SG_VAGRANT_POOL=$POOL SG_VAGRANT_CONSOLE=$work/console.log

# --- clean-up, on every way out ---------------------------------------------------------
started_daemons=
net_before=
# The domain, the management network (unless it was there before), the storage pool and
# its volumes (the box's image, which vagrant-libvirt keeps after a destroy, included).
remove_libvirt_objects() {
    local v
    if "${VIRSH[@]}" dominfo "$DOMAIN" >/dev/null 2>&1; then
        "${VIRSH[@]}" destroy "$DOMAIN" >/dev/null 2>&1
        "${VIRSH[@]}" undefine "$DOMAIN" --remove-all-storage >/dev/null 2>&1
    fi
    if [ -z "$net_before" ] && "${VIRSH[@]}" net-info "$NET" >/dev/null 2>&1; then
        "${VIRSH[@]}" net-destroy "$NET" >/dev/null 2>&1
        "${VIRSH[@]}" net-undefine "$NET" >/dev/null 2>&1
    fi
    if "${VIRSH[@]}" pool-info "$POOL" >/dev/null 2>&1; then
        for v in $("${VIRSH[@]}" vol-list "$POOL" 2>/dev/null | awk '{ print $1 }'); do
            "${VIRSH[@]}" vol-delete --pool "$POOL" "$v" >/dev/null 2>&1
        done
        "${VIRSH[@]}" pool-destroy "$POOL" >/dev/null 2>&1
        "${VIRSH[@]}" pool-undefine "$POOL" >/dev/null 2>&1
    fi
}
# The daemons this run started (libvirtd, and virtlogd, which writes the console file).
stop_daemons() {
    local p
    for p in $started_daemons; do
        kill "$p" 2>/dev/null
        for _ in $(seq 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.2
        done
    done
    started_daemons=
}
# shellcheck disable=SC2317 # reached through the trap
cleanup() {
    if [ -d "$VAGRANT_DOTFILE_PATH" ]; then
        timeout 300 vagrant destroy -f >>"$work/destroy.log" 2>&1
    fi
    remove_libvirt_objects
    stop_daemons
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- libvirt ----------------------------------------------------------------------------
# Without systemd's socket units nothing starts them on demand: each is started here
# when its socket does not answer, and stopped at the end.
if ! pgrep -x virtlogd >/dev/null; then
    virtlogd -d || { fail virtlogd; finish; }
    started_daemons="$started_daemons $(cat /run/virtlogd.pid 2>/dev/null)"
fi
if ! "${VIRSH[@]}" version >/dev/null 2>&1; then
    libvirtd -d || { fail libvirtd; finish; }
    for _ in $(seq 50); do
        "${VIRSH[@]}" version >/dev/null 2>&1 && break
        sleep 0.2
    done
    started_daemons="$(cat /run/libvirtd.pid 2>/dev/null) $started_daemons"
fi
# Leftovers of a run that was killed outright (SIGKILL skips the trap): its domain or
# pool, and then the network is its leftover too.
if "${VIRSH[@]}" dominfo "$DOMAIN" >/dev/null 2>&1 || "${VIRSH[@]}" pool-info "$POOL" >/dev/null 2>&1; then
    echo "vagrant: removing the leftovers of an earlier run"
    remove_libvirt_objects
fi
net_before=$("${VIRSH[@]}" net-info "$NET" 2>/dev/null | head -n 1)

# --- the box ----------------------------------------------------------------------------
if ! "$here/box.sh" "$BOX" >"$work/box.log" 2>&1; then
    fail box "$work/box.log"
    finish
fi
cat "$work/box.log"
# A box rebuilt since it was added replaces the added one.
if [ ! -f "$VAGRANT_HOME/added.stamp" ] || [ "$BOX" -nt "$VAGRANT_HOME/added.stamp" ]; then
    mkdir -p "$VAGRANT_HOME"
    if ! vagrant box add --force --name "$BOX_NAME" "$BOX" >"$work/box-add.log" 2>&1; then
        fail box-add "$work/box-add.log"
        finish
    fi
    touch "$VAGRANT_HOME/added.stamp"
fi
mkdir -p "$CACHE/pool"
{
    "${VIRSH[@]}" pool-define-as "$POOL" dir --target "$CACHE/pool" &&
        "${VIRSH[@]}" pool-start "$POOL"
} >"$work/pool.log" 2>&1 || {
    fail storage-pool "$work/pool.log"
    finish
}

# --- KVM or TCG -------------------------------------------------------------------------
# /dev/kvm may exist and still not run a guest (here it aborts on an MSR, elsewhere it
# hangs): it counts only if the box's kernel reaches its panic (no root) under KVM with
# the host's CPU, which takes a second or two.
driver=${SG_VAGRANT_DRIVER:-}
if [ -z "$driver" ]; then
    driver=qemu
    if [ -w /dev/kvm ]; then
        tar -xOf "$BOX" vmlinuz >"$work/vmlinuz"
        # in a subshell (not a lone command, which it would exec): its shell reports qemu's abort
        (timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nographic -no-reboot -net none \
            -kernel "$work/vmlinuz" -append "console=ttyS0 panic=-1" </dev/null >"$work/kvm-probe.log" 2>&1; true) 2>/dev/null
        grep -q 'Kernel panic' "$work/kvm-probe.log" && driver=kvm
    fi
fi
export SG_VAGRANT_DRIVER=$driver
echo "vagrant: libvirt domain type $driver"

# --- up, provision, check ---------------------------------------------------------------
t0=$(date +%s)
if timeout 1800 vagrant up --provider=libvirt >"$work/up.log" 2>&1; then
    pass "up-and-install-deb ($(($(date +%s) - t0)) s)"
else
    fail up-and-install-deb "$work/up.log"
    echo "    -- the guest's console:"
    tail -n 20 "$work/console.log" 2>/dev/null | sed 's/^/    /'
    finish
fi

# guest.sh prints "SG-PKG PASS|FAIL name", a failure's evidence indented, and
# "SG-PKG DONE"; anything short of DONE is a failed run.
# Under TCG the restart after a crash waits as long as the unit's start may take there
# (the Vagrantfile's TimeoutStartSec=300): on a loaded machine it took over 90 s.
start_wait=90
[ "$driver" = qemu ] && start_wait=300
t0=$(date +%s)
timeout 2400 vagrant ssh -c "sudo SG_PKG_CHECKS=$CHECKS SG_PKG_START_WAIT=$start_wait /usr/local/sbin/sg-pkg-guest" \
    </dev/null >"$work/guest.log" 2>&1
done=0
showing=0
while IFS= read -r line; do
    case $line in
    *"SG-PKG DONE"*) done=1 showing=0 ;;
    *"SG-PKG PASS "*)
        echo "PASS vagrant systemd-${line#*SG-PKG PASS }"
        passed=$((passed + 1)) showing=0
        ;;
    *"SG-PKG FAIL "*)
        echo "FAIL vagrant systemd-${line#*SG-PKG FAIL }"
        failed=$((failed + 1)) showing=1
        ;;
    "    "*) [ $showing = 1 ] && echo "$line" ;;
    *) showing=0 ;;
    esac
done < <(tr -d '\r' <"$work/guest.log")
echo "vagrant: the checks took $(($(date +%s) - t0)) s"
[ $done = 1 ] || fail "guest-checks-complete" "$work/guest.log"

# destroy, and nothing of the run is left: no domain, network, pool, volume or daemon.
if timeout 300 vagrant destroy -f >"$work/destroy.log" 2>&1; then
    rm -rf "$VAGRANT_DOTFILE_PATH"
    remove_libvirt_objects
    {
        "${VIRSH[@]}" list --all --name | grep -x "$DOMAIN"
        [ -n "$net_before" ] || "${VIRSH[@]}" net-list --all --name | grep -x "$NET"
        "${VIRSH[@]}" pool-list --all --name | grep -x "$POOL"
        find "$CACHE/pool" -mindepth 1
        daemons=$started_daemons
        stop_daemons
        for p in $daemons; do
            ! kill -0 "$p" 2>/dev/null || echo "daemon $p still runs: $(cat "/proc/$p/comm")"
        done
    } >"$work/left.log" 2>&1
    if [ -s "$work/left.log" ]; then
        fail destroy-leaves-nothing "$work/left.log"
    else
        pass destroy-leaves-nothing
    fi
else
    fail destroy-leaves-nothing "$work/destroy.log"
fi
finish
