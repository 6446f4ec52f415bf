#!/usr/bin/env bash
# The whole test run behind `make test`: unit tests, code gates, host BPF tests, kernel VM
# tests, the HTML report in a browser, and the packages.
# Each tier prints its own lines; this script ends with the one total line
# `N passed, M failed` and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BIN=${BIN:-target/x86_64-unknown-linux-gnu/release/safeguard}
OUT=${SG_TEST_OUT:-target/test}
mkdir -p "$OUT"
passed=0
failed=0

# tally FILE PREFIX: add the counts of the line "PREFIX: N passed, M failed" in FILE.
tally() {
    local line
    line=$(grep -E "^$2: [0-9]+ passed, [0-9]+ failed" "$1" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$2: no result line (the tier did not run to its end)"
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
    failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
}

# The HTML report is checked in a real browser (issue 6), and the output examples against
# the real Prometheus, rsyslog and journald (issue 19). Installing what is missing of them
# takes a minute or two on a fresh machine, so it happens in the background, beside the
# unit and VM tests, and those checks run last.
background_install() {
    local missing=""
    command -v chromium >/dev/null || command -v chromium-headless-shell >/dev/null ||
        missing="$missing chromium-headless-shell"
    command -v promtool >/dev/null || missing="$missing prometheus"
    command -v rsyslogd >/dev/null || missing="$missing rsyslog"
    command -v journalctl >/dev/null || missing="$missing systemd"
    [ -n "$missing" ] || return 0
    # shellcheck disable=SC2086 # one word per package
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $missing; } >"$OUT/browser-install.log" 2>&1
}
background_install &
browser_installer=$!
# The packaging tools (cargo-deb, cargo-generate-rpm: issue 7) build in the background as
# well; the package test (tests/pkg) runs after the VM tests.
make -s package-tools >"$OUT/package-tools.log" 2>&1 &
package_tools=$!

echo "== unit tests (cargo test)"
cargo test --color never 2>&1 | tee "$OUT/unit.log" | grep -E '^test result|FAILED|panicked' || true
sum_of() { grep -E '^test result' "$OUT/unit.log" | sed -E "s/.* ([0-9]+) $1.*/\\1/" | awk '{ s += $1 } END { print s + 0 }'; }
unit_passed=$(sum_of passed)
unit_failed=$(sum_of failed)
if ! grep -q '^test result' "$OUT/unit.log"; then
    echo "unit tests did not build or run:"; tail -n 30 "$OUT/unit.log"
    unit_passed=0; unit_failed=1
fi
echo "unit: ${unit_passed:-0} passed, ${unit_failed:-0} failed" | tee "$OUT/unit.result"
tally "$OUT/unit.result" unit

echo "== code gates (tests/lint.sh: rustfmt, clippy -D warnings, shellcheck)"
tests/lint.sh 2>&1 | tee "$OUT/lint.log"
tally "$OUT/lint.log" lint

echo "== log tools on the command line (tests/analysis/cli.sh)"
SAFEGUARD="$BIN" tests/analysis/cli.sh 2>&1 | tee "$OUT/cli.log"
tally "$OUT/cli.log" cli

echo "== host BPF tests"
tests/host/run.sh "$BIN" 2>&1 | tee "$OUT/host.log"
tally "$OUT/host.log" host

echo "== kernel VM tests"
tests/vm/run.sh "$BIN" 2>&1 | tee "$OUT/vm.log"
tally "$OUT/vm.log" vm

echo "== HTML report in a browser (tests/analysis/html-browser.sh)"
if wait "$browser_installer"; then
    chromium=$(command -v chromium || command -v chromium-headless-shell)
    CHROMIUM="$chromium" SAFEGUARD="$BIN" tests/analysis/html-browser.sh >"$OUT/browser.log" 2>&1
    rc=$?
else
    echo "installing chromium-headless-shell (and the output tools) failed:" >"$OUT/browser.log"
    tail -n 20 "$OUT/browser-install.log" >>"$OUT/browser.log"
    rc=1
fi
cat "$OUT/browser.log"
if [ "$rc" = 0 ] && ! grep -q '^SKIP' "$OUT/browser.log"; then
    echo "browser: 1 passed, 0 failed" | tee "$OUT/browser.result"
else
    echo "browser: 0 passed, 1 failed" | tee "$OUT/browser.result"
fi
tally "$OUT/browser.result" browser

echo "== output examples against Prometheus, rsyslog and journald (tests/outputs/examples.sh)"
tests/outputs/examples.sh "$BIN" >"$OUT/outputs.log" 2>&1
cat "$OUT/outputs.log"
if grep -q '^SKIP' "$OUT/outputs.log"; then
    echo "outputs: 0 passed, 1 failed (the tools are missing: see $OUT/browser-install.log)" >>"$OUT/outputs.log"
fi
tally "$OUT/outputs.log" outputs

echo "== packages (make package-test)"
if wait "$package_tools"; then
    make -s package-test 2>&1 | tee "$OUT/pkg.log"
else
    tail -n 20 "$OUT/package-tools.log"
    echo "pkg: 0 passed, 1 failed (the packaging tools did not install)" | tee "$OUT/pkg.log"
fi
tally "$OUT/pkg.log" pkg

# Issue 21's platforms, last and side by side: the aarch64 tier (tests/aarch64.sh: the
# cross-built agent, its arm64 packages, a subset of the VM scenarios on Debian's arm64
# kernels) and the .deb on a Vagrant box under its systemd (tests/vagrant/run.sh). After
# the package tier, because `make package` empties target/package, where the one reads
# the .deb and the other writes its packages; together, because each is mostly one
# single-threaded qemu at a time, so two of them keep both cores busy (README "Tests").
echo "== aarch64 and Vagrant (tests/aarch64.sh, tests/vagrant/run.sh, side by side)"
# Vagrant's host tools first, alone: both tiers install Debian packages, and two apt-get
# runs at once would meet dpkg's lock. (A failure shows again in the Vagrant run.)
tests/vagrant/run.sh --install >"$OUT/vagrant-install.log" 2>&1
SG_TEST_OUT="$OUT" tests/aarch64.sh >"$OUT/aarch64.log" 2>&1 &
aarch64=$!
deb=$(find target/package -maxdepth 1 -name 'safeguard_*_amd64.deb' | head -n 1)
if [ -n "$deb" ]; then
    tests/vagrant/run.sh "$deb" >"$OUT/vagrant.log" 2>&1
else
    echo "vagrant: 0 passed, 1 failed (no .deb in target/package: the package tier did not build one)" \
        >"$OUT/vagrant.log"
fi
wait "$aarch64"
cat "$OUT/aarch64.log" "$OUT/vagrant.log"
tally "$OUT/aarch64.log" aarch64
tally "$OUT/vagrant.log" vagrant

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
