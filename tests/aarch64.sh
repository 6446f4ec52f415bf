#!/usr/bin/env bash
# The aarch64 tier behind `make test-aarch64` (issue 21): the cross-built static agent and
# its packages, and a subset of the VM scenarios on Debian's arm64 kernels under
# qemu-system-aarch64 (TCG). `make test` runs it last, beside the Vagrant tier.
# Usage: tests/aarch64.sh [BOOT...]     BOOT: arm64-5.10 arm64-6.1 arm64-6.12 (default: all)
# Ends with "aarch64: N passed, M failed"; exit 0 iff all passed.
#
# The subset, and why: TCG runs arm64 code several times slower than x86_64 code, and
# every agent start verifies the BPF programs (the file module's take minutes there), so
# 6.12, the one arm64 kernel that enforces, runs one representative scenario per module
# plus the probe: probe, process-exec-deny, file-deny, network-cidr-deny, mount-deny.
# 5.10 and 6.1 cannot enforce (no BPF trampolines on arm64 before 6.4): they run the
# degraded-mode proof, degraded-notramp, and the network and mount audit-only scenarios.
# harness runs on every boot.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BIN=target/aarch64-unknown-linux-gnu/release/safeguard
OUT=${SG_TEST_OUT:-target/test}
mkdir -p "$OUT"
passed=0
failed=0
check() { # NAME COMMAND...: one counted check
    if "${@:2}" >"$OUT/aarch64-$1.log" 2>&1; then
        echo "PASS aarch64 $1"; passed=$((passed + 1))
    else
        echo "FAIL aarch64 $1"; sed 's/^/    /' "$OUT/aarch64-$1.log" | tail -n 30
        failed=$((failed + 1))
    fi
}

# The packages hold the arm64 binary and say so (the install life cycle itself is tested
# on x86_64 by tests/pkg: the package roots there run x86_64 only).
packages() {
    make -s package ARCH=aarch64 || return 1
    local deb rpm
    deb=$(ls target/package/aarch64/safeguard_*_arm64.deb) || return 1
    rpm=$(ls target/package/aarch64/safeguard-*.aarch64.rpm) || return 1
    dpkg-query -W -f='${Status}\n' rpm 2>/dev/null | grep '^install ok installed' >/dev/null ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rpm || return 1
    [ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || { echo "$deb: not Architecture arm64"; return 1; }
    [ "$(rpm -qp --qf '%{ARCH}' "$rpm" 2>/dev/null)" = aarch64 ] || { echo "$rpm: not aarch64"; return 1; }
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/sbin/safeguard >"$OUT/aarch64-deb-bin" || return 1
    # rpm2cpio (rpm 4.18) exits 1 on these packages although the archive is whole: the
    # binary is compared below instead.
    { rpm2cpio "$rpm" || true; } | cpio -i --quiet --to-stdout ./usr/sbin/safeguard >"$OUT/aarch64-rpm-bin" ||
        return 1
    for f in "$OUT/aarch64-deb-bin" "$OUT/aarch64-rpm-bin"; do
        [ "$(od -An -tx1 -j18 -N1 "$f" | tr -d ' ')" = b7 ] || { echo "$f: not an aarch64 ELF"; return 1; }
    done
    cmp "$OUT/aarch64-deb-bin" "$BIN" && cmp "$OUT/aarch64-rpm-bin" "$BIN" || return 1
    echo "$deb and $rpm hold $BIN"
}

echo "== aarch64 build (make build ARCH=aarch64)"
check build make -s build ARCH=aarch64
[ -f "$BIN" ] || { echo "aarch64: $passed passed, $((failed + 1)) failed (no binary)"; exit 1; }
echo "== aarch64 packages (make package ARCH=aarch64)"
check packages packages
echo "== aarch64 kernel VM tests"
only=harness,probe,process-exec-deny,file-deny,network-cidr-deny,mount-deny
only=$only,degraded-notramp,network-degraded,mount-degraded
SG_VM_ONLY=$only tests/vm/run.sh "$BIN" "$@" 2>&1 | tee "$OUT/aarch64-vm.log"
line=$(grep -E '^vm: [0-9]+ passed, [0-9]+ failed' "$OUT/aarch64-vm.log" | tail -n 1)
if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
    failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
else
    echo "vm: no result line"; failed=$((failed + 1))
fi
echo "aarch64: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
