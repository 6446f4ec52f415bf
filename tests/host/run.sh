#!/usr/bin/env bash
# Host BPF tests: the real binary on this machine's kernel, where BPF LSM programs are
# refused but tracepoints, ring buffers and maps work (see KERNEL-TESTING.md). This is
# the degraded (audit-only) mode of SPEC section 2, and it runs the same exec judgement
# code as the LSM hook, so rule lookups, identities and path resolution are proven here.
# Usage: tests/host/run.sh BIN. Ends with "host: N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:?usage: run.sh BIN}")

passed=0
failed=0
if [ "$(id -u)" != 0 ]; then
    echo "SKIP host: the host BPF tests load BPF programs and need root"
    echo "host: 0 passed, 0 failed"
    exit 0
fi

for scenario in "$here"/scenarios/*.sh; do
    name=$(basename "$scenario" .sh)
    work=$(mktemp -d /tmp/sg-host.XXXXXX)
    if (cd "$work" && SG="$BIN" SG_WORK="$work" SG_LIB="$here/../vm/lib.sh" \
        timeout 180 bash "$scenario") >"$work.out" 2>&1; then
        echo "PASS host $name"
        passed=$((passed + 1))
    else
        echo "FAIL host $name"
        sed 's/^/    /' "$work.out"
        failed=$((failed + 1))
    fi
    rm -rf "$work" "$work.out"
done
echo "host: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
