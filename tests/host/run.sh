#!/usr/bin/env bash
# Host BPF tests: the real binary on this machine's kernel, where BPF LSM programs are
# refused but tracepoints, ring buffers and maps work (see KERNEL-TESTING.md). This is
# the degraded (audit-only) mode of SPEC section 2, and it runs the same exec judgement
# code as the LSM hook, so rule lookups, identities and path resolution are proven here;
# and the modules' C decision functions are run with BPF_PROG_TEST_RUN against Rust
# models of their rules (the host_tier tests, last).
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
# The C decision code against Rust models (src/host_tier/, bpf/test/): test functions of
# the unit-test build, #[ignore]d there because they load BPF programs; one result per
# module; and the agent's ring-buffer reader against the kernel's producer (ring-reader).
# SG_HOST_SEED=N repeats a run's random cases.
decide=$(mktemp /tmp/sg-host.XXXXXX)
(cd "$here/../.." && cargo test --color never host_tier -- --ignored --show-output) >"$decide" 2>&1
for module in file network mount ring; do
    name="decide-$module"
    [ "$module" = ring ] && name=ring-reader
    if grep -qE "^test host_tier::$module::[a-z_]+ \.\.\. ok$" "$decide"; then
        echo "PASS host $name ($(grep -E "^$module: [0-9]+ (cases|records)" "$decide" | sed -E 's/^[a-z]+: //'))"
        passed=$((passed + 1))
    else
        echo "FAIL host $name"
        grep -E "^(MISMATCH $module|$module:|  |thread .*host_tier::$module)" "$decide" | sed 's/^/    /' | head -n 60
        grep -qE '^test host_tier::' "$decide" || tail -n 20 "$decide" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done
rm -f "$decide"

echo "host: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
