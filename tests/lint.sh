#!/usr/bin/env bash
# The code gates of `make test`: rustfmt (rustfmt.toml), clippy with warnings as errors
# (every target), and shellcheck on every shell script the repository tracks.
# Prints one line per gate and last "lint: N passed, M failed"; exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

passed=0
failed=0
gate() {
    local name=$1
    shift
    local out
    if out=$("$@" 2>&1); then
        echo "PASS lint $name"
        passed=$((passed + 1))
    else
        echo "FAIL lint $name"
        tail -n 60 <<<"$out" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}

# Shell scripts: by name, plus the extension-less ones with a shell shebang.
mapfile -t scripts < <(git ls-files | while read -r f; do
    case ${f##*/} in
        *.sh) echo "$f" ;;
        *.*) ;;
        *) [ -f "$f" ] && head -n 1 "$f" | grep -E '^#!.*(ba)?sh' >/dev/null && echo "$f" ;;
    esac
done)

gate rustfmt cargo fmt --check -- --color never
gate clippy cargo clippy --all-targets --color never -- -D warnings
# SC2015: `test && test || fail "why"` is how the test scripts state a condition; fail
# exits, so "C may run when A is true" does not apply.
gate shellcheck shellcheck -x -P SCRIPTDIR -e SC2015 "${scripts[@]}"
# Under pipefail, `cmd | grep -q` fails at random: grep exits at the first match and cmd,
# still writing, dies of SIGPIPE (CI lost a run to dpkg-deb so). Use `grep PATTERN >/dev/null`.
early_grep() {
    local f bad=0
    for f in "${scripts[@]}"; do
        grep -q pipefail "$f" || continue
        grep -nE '^[^#]*\|[[:space:]]*grep -[a-zA-Z]*q' "$f" | sed "s|^|$f:|" | grep . && bad=1
    done
    return "$bad"
}
gate pipefail-grep-q early_grep

echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
