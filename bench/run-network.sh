#!/bin/bash
# The network benchmark (`make bench`, results in bench/results-network.md): boots each kernel once under qemu with
# `-icount shift=0` (the guest clock counts instructions, so results repeat whatever the
# host does) and runs bench/network.sh there: connect + accept + close to a local
# listener, without the agent, with 10 CIDR rules and with 10,000. Prints a markdown
# table of instructions per operation and the ratios; bench/results.md keeps one.
# Usage: bench/run.sh BIN [KERNEL...]   (default: 5.10 6.1 6.12)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BIN [KERNEL...]" >&2; exit 2; }
bin=$1
shift
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(5.10 6.1 6.12)
out=$root/target/bench
mkdir -p "$out"
cache=${SG_VM_CACHE:-/var/cache/safeguard-vm}

# The test bed's initramfs, plus the benchmark as its only scenario (a second cpio
# archive appended: the kernel unpacks both).
"$root/tests/vm/initramfs.sh" "$bin" "$out/base.cpio.gz" || exit 1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/tests/scenarios"
cp "$here/network.sh" "$stage/tests/scenarios/bench-network.sh"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet | gzip -1) >"$out/bench.cpio.gz"
cat "$out/base.cpio.gz" "$out/bench.cpio.gz" >"$out/initramfs.cpio.gz"
"$root/tests/vm/kernels.sh" "${kernels[@]}" || exit 1

declare -A lsm_args=([5.10]="lsm=lockdown,capability,yama,apparmor,bpf" [6.1]="" [6.12]="")
pids=()
for k in "${kernels[@]}"; do
    timeout 1800 qemu-system-x86_64 -accel tcg -cpu max -icount shift=0 -m 512 -smp 1 \
        -nographic -no-reboot -net none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$cache/kernels/$k/vmlinuz" -initrd "$out/initramfs.cpio.gz" \
        -append "console=ttyS0 panic=-1 quiet rdinit=/init ${lsm_args[$k]} sg.boot=$k sg.lsm=1 sg.only=bench-network sg.timeout=1500" \
        </dev/null >"$out/$k.log" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}"

status=0
cpu_rows=()
echo "| kernel | no agent | 10 rules | 10,000 rules | no agent again | 10 rules / no agent | 10,000 / 10 |"
echo "|---|---|---|---|---|---|---|"
for k in "${kernels[@]}"; do
    log=$(tr -d '\r' <"$out/$k.log")
    v() { sed -n "s/.*BENCH $1 \([0-9]*\) [0-9]*.*/\1/p" <<<"$log" | tail -n 1; }
    c() { sed -n "s/.*BENCH $1 [0-9]* \([0-9]*\).*/\1/p" <<<"$log" | tail -n 1; }
    d=$(v detached) r10=$(v rules-10) r10k=$(v rules-10000) d2=$(v detached-again)
    if [ -z "$d" ] || [ -z "$r10" ] || [ -z "$r10k" ] || [ -z "$d2" ]; then
        echo "| $k | (no result: see $out/$k.log) |"
        status=1
        continue
    fi
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
    base=$d
    [ "$d2" -lt "$base" ] && base=$d2 # the smaller baseline: the ratio is not flattered
    echo "| $k | $d | $r10 | $r10k | $d2 | $(ratio "$r10" "$base") | $(ratio "$r10k" "$r10") |"
    cpu_rows+=("| $k | $(c detached) | $(c rules-10) | $(c rules-10000) | $(c detached-again) | $(ratio "$(c rules-10)" "$(c detached-again)") | $(ratio "$(c rules-10000)" "$(c rules-10)") |")
done
echo
echo "The loop's own CPU time (/proc/self/schedstat, other tasks excluded), same runs:"
echo
echo "| kernel | no agent | 10 rules | 10,000 rules | no agent again | 10 rules / no agent again | 10,000 / 10 |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${cpu_rows[@]}"
echo
echo "(instructions per connect + accept + close, guest clock under -icount shift=0; the first"
echo "ratio divides by the smaller of the two runs without the agent; logs in $out/)"
exit $status
