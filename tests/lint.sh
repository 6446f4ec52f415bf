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
# BPF loops that 5.10 and 6.1 refuse at load, which only a boot of those kernels would
# show (tests/bpf/back_edges.py): every module's object, both builds (build.rs), both
# architectures.
bpf_back_edges() {
    local include src arch loop obj status tmp objs=()
    include=$(find target -path '*/include/bpf/bpf_core_read.h' -print -quit)
    [ -n "$include" ] || { echo "no libbpf headers under target/: run make build first"; return 1; }
    include=$(dirname "$(dirname "$include")")
    tmp=$(mktemp -d)
    for src in bpf/*.bpf.c; do
        for arch in x86_64:x86 aarch64:arm64; do
            for loop in "" -DSG_BPF_LOOP; do
                obj="$tmp/$(basename "$src" .bpf.c)-${arch%%:*}$loop.o"
                clang -target bpf -I"$include" -I"vmlinux/${arch%%:*}" -D__TARGET_ARCH_"${arch##*:}" -Ibpf \
                    -Wall -Werror -O2 -g ${loop:+"$loop"} -c "$src" -o "$obj" || { rm -rf "$tmp"; return 1; }
                objs+=("$obj")
            done
        done
    done
    python3 tests/bpf/back_edges.py "${objs[@]}"
    status=$?
    rm -rf "$tmp"
    return "$status"
}
gate bpf-back-edges bpf_back_edges

echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
