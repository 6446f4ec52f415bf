#!/bin/sh
# Renders `safeguard report --html` of the scenario fixtures in headless Chromium and
# checks that the page a browser builds shows the expected numbers and that the browser
# logged no console message (the page has no script: any message is an error, e.g. a
# blocked resource). A page with a deliberate error is rendered first to prove that the
# console check can fail.
#
# Skipped, with the reason, when no Chromium is installed
# (Debian: apt-get install -y --no-install-recommends chromium).
#
# Environment: SAFEGUARD=path of the binary (default: cargo build, debug profile),
# CHROMIUM=browser command, SCREENSHOT=path to also save a 1280x2800 PNG of the page.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$browser" ] || ! command -v "$browser" >/dev/null 2>&1; then
    echo "SKIP: no Chromium found (apt-get install -y --no-install-recommends chromium)"
    exit 0
fi

bin=${SAFEGUARD:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --quiet)
    bin=${CARGO_TARGET_DIR:-$root/target}/debug/safeguard
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

run_browser() { # run_browser OUT ERR URL [extra flags]
    out=$1 err=$2 url=$3
    shift 3
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$work/profile" \
        --enable-logging=stderr --v=0 "$@" "$url" >"$out" 2>"$err"
}

console_problems() { # the browser's console messages, uncaught errors, failed loads
    grep -E ':CONSOLE[:(]|Uncaught|net::ERR_' "$1" || true
}

# The console check must see a broken page.
printf '%s\n' '<!DOCTYPE html><html><body><script>throw new Error("deliberate");</script></body></html>' >"$work/bad.html"
run_browser "$work/bad.dom" "$work/bad.err" "file://$work/bad.html" --dump-dom
if [ -z "$(console_problems "$work/bad.err")" ]; then
    echo "FAIL: the console check did not notice a page that throws; the browser's log format changed?"
    exit 1
fi

fixture="$root/tests/fixtures/analysis/scenario-json/safeguard.log"
"$bin" report "$fixture" --html "$work/report.html" >"$work/report.txt" 2>"$work/report.err"
run_browser "$work/dom.html" "$work/console.log" "file://$work/report.html" --dump-dom

fail=0
problems=$(console_problems "$work/console.log")
if [ -n "$problems" ]; then
    echo "FAIL: console messages while rendering the report:"
    echo "$problems"
    fail=1
fi

expect() { # expect TEXT WHAT: TEXT must appear in the DOM the browser built
    if ! grep -qF -- "$1" "$work/dom.html"; then
        echo "FAIL: $2: '$1' not in the rendered page"
        fail=1
    fi
}
# Numbers of the scenario (src/analysis/fixtures.rs), one fragment of the page per line;
# the unit test html::tests::shows_what_the_browser_test_expects reads the same list.
expected="$root/tests/fixtures/analysis/html-expected.txt"
[ "$(grep -c . "$expected")" -ge 10 ] || { echo "FAIL: $expected has fewer than 10 lines"; exit 1; }
while IFS= read -r fragment; do
    [ -n "$fragment" ] && expect "$fragment" "expected fragment"
done <"$expected"
svgs=$(grep -o '<svg ' "$work/dom.html" | wc -l)
if [ "$svgs" -ne 5 ]; then
    echo "FAIL: expected 5 SVG charts in the page, found $svgs"
    fail=1
fi

if [ -n "${SCREENSHOT:-}" ]; then
    run_browser "$work/shot.out" "$work/shot.err" "file://$work/report.html" \
        --screenshot="$SCREENSHOT" --window-size=1280,2800 --hide-scrollbars
    echo "screenshot: $SCREENSHOT"
fi

if [ "$fail" -ne 0 ]; then
    echo "the report page is in $work/report.html (kept)"
    trap - EXIT INT TERM
    exit 1
fi
echo "PASS: the report renders in $("$browser" --version 2>/dev/null | head -n 1) with the expected numbers and no console message"
