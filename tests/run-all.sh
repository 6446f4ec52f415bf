#!/usr/bin/env bash
# The whole test run behind `make test`: unit tests, host BPF tests, kernel VM tests.
# Each tier prints its own lines; this script ends with the one total line
# `N passed, M failed` and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

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

# Chromium is not installed for this: on a fresh Debian 12 machine its install alone took
# 48-79 s (docs/analysis.md, "Tests"). The unit tests check the same numbers and the
# page's markup; the browser check runs, and counts, where a Chromium is installed.
echo "== HTML report in a browser (tests/analysis/html-browser.sh)"
SAFEGUARD="$BIN" tests/analysis/html-browser.sh >"$OUT/browser.log" 2>&1
rc=$?
cat "$OUT/browser.log"
if grep -q '^SKIP' "$OUT/browser.log"; then
    echo "browser: not run (no Chromium); counted in no total"
elif [ "$rc" = 0 ]; then
    echo "browser: 1 passed, 0 failed" | tee "$OUT/browser.result"
    tally "$OUT/browser.result" browser
else
    echo "browser: 0 passed, 1 failed" | tee "$OUT/browser.result"
    tally "$OUT/browser.result" browser
fi

echo "== host BPF tests"
tests/host/run.sh "$BIN" 2>&1 | tee "$OUT/host.log"
tally "$OUT/host.log" host

echo "== kernel VM tests"
tests/vm/run.sh "$BIN" 2>&1 | tee "$OUT/vm.log"
tally "$OUT/vm.log" vm

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
