#!/bin/bash
# Runs the VM scenarios: builds the initramfs around BIN, fetches the kernels, boots every
# configuration in parallel under qemu (TCG), and reports one line per scenario per boot.
# Usage: tests/vm/run.sh BIN [BOOT...]      BOOT: 5.10 6.1 6.12 (every scenario on that
#        kernel), 6.1-nobpf, or the half boots KERNEL-a and KERNEL-b (each half of that
#        kernel's scenarios; the default is every half boot and 6.1-nobpf),
#        or bench-5.10 bench-6.1 bench-6.12: instruction-counting boots (-icount shift=0) that run
#        only the "# boots: bench" scenarios (see `make bench`), or memory-6.12: a normal
#        6.12 boot that runs only the "# boots: memory" scenarios (bench-memory: the
#        agent's RSS needs no instruction counting, and its big configs load too slowly
#        under -icount).
#        An aarch64 BIN boots Debian's arm64 kernels under qemu-system-aarch64 instead:
#        BOOT is arm64-5.10 arm64-6.1 arm64-6.12 (default: all three).
# Environment:
#   SG_VM_OUT      logs and initramfs (default target/vm in the repository): <boot>.log is
#                  the serial console of that boot
#   SG_VM_CACHE    kernel cache (default /var/cache/safeguard-vm), see kernels.sh
#   SG_VM_ONLY     comma-separated scenario names to run on every boot given (default: all
#                  that apply, each on the kernels its "# kernels:" line names)
#   SG_VM_MATRIX   full: every scenario on every kernel (the whole matrix; make test runs
#                  the representative subset that the "# kernels:" lines pick)
#   SG_VM_TIMEOUT  hard limit per boot in seconds (default 5400)
#   SG_VM_JOBS     boots at a time (default: the number of cores)
#   SG_VM_SCENARIO_TIMEOUT  limit per scenario inside the guest (default 1200: it catches a
#                  hang; with more guests than cores the attack suites took over 600 s)
# Output: "PASS <boot> <scenario>" / "FAIL <boot> <scenario>" (each failure followed by the
# scenario's own output, indented), "FAIL <boot> boot" for a boot that gave no verdict
# (with the last 40 console lines), and last "vm: N passed, M failed". Exit 0 iff all passed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BIN [BOOT...]" >&2; exit 2; }
bin=$1
shift
[ -f "$bin" ] || { echo "vm: no such binary: $bin" >&2; exit 2; }
boots=("$@")
# The guest's architecture is the binary's (ELF e_machine: 3e x86_64, b7 aarch64).
arch=x86_64
[ "$(od -An -tx1 -j18 -N1 "$bin" | tr -d ' ')" = b7 ] && arch=aarch64
# Each kernel's scenarios are split over two boots (-a, -b), run one per core at a time
# (below), so that no one boot is the critical path and both cores stay busy to the end.
if [ ${#boots[@]} = 0 ]; then
    if [ "$arch" = aarch64 ]; then boots=(arm64-5.10 arm64-6.1 arm64-6.12)
    else boots=(6.1-a 6.1-b 5.10-a 5.10-b 6.12-a 6.12-b 6.1-nobpf)
    fi
fi
root=$(cd "$here/../.." && pwd)
out=${SG_VM_OUT:-$root/target/vm}
boot_timeout=${SG_VM_TIMEOUT:-5400}
scenario_timeout=${SG_VM_SCENARIO_TIMEOUT:-1200}
only=${SG_VM_ONLY:-}
matrix=${SG_VM_MATRIX:-}

# boot name -> kernel, extra kernel arguments, whether BPF LSM is expected active
declare -A kernel_of lsm_args_of lsm_of
kernel_of=([6.1-nobpf]=6.1 [bench-5.10]=5.10 [bench-6.1]=6.1 [bench-6.12]=6.12 [memory-6.12]=6.12 [arm64-5.10]=arm64-5.10
           [arm64-6.1]=arm64-6.1 [arm64-6.12]=arm64-6.12)
lsm_args_of=([6.1-nobpf]="lsm=lockdown,capability,yama,apparmor" [bench-6.1]="sg.bench=1"
             [bench-5.10]="lsm=lockdown,capability,yama,apparmor,bpf sg.bench=1"
             [bench-6.12]="sg.bench=1" [memory-6.12]="sg.bench=memory"
             [arm64-5.10]="lsm=lockdown,capability,yama,apparmor,bpf sg.notramp=1"
             [arm64-6.1]="sg.notramp=1" [arm64-6.12]="")
# arm64: bpf is in the active list on all three (5.10 by lsm=), but only 6.12 has the BPF
# trampolines that LSM programs need (measured; README "BPF LSM on arm64"). 5.10 and 6.1
# are degraded boots: sg.lsm=0 selects the "nolsm" scenarios, sg.notramp=1 tells them why.
lsm_of=([6.1-nobpf]=0 [bench-5.10]=1 [bench-6.1]=1 [bench-6.12]=1 [memory-6.12]=1 [arm64-5.10]=0 [arm64-6.1]=0 [arm64-6.12]=1)
# The BPF LSM kernels: KERNEL runs all of its scenarios, KERNEL-a and KERNEL-b half
# each. 5.10 has CONFIG_BPF_LSM=y but leaves bpf out of its default list.
for k in 5.10 6.1 6.12; do
    args=""
    [ "$k" = 5.10 ] && args="lsm=lockdown,capability,yama,apparmor,bpf "
    kernel_of[$k]=$k lsm_args_of[$k]=${args% } lsm_of[$k]=1
    for half in a b; do
        i=0
        [ "$half" = b ] && i=1
        kernel_of[$k-$half]=$k lsm_args_of[$k-$half]="${args}sg.shard=$i/2" lsm_of[$k-$half]=1
    done
done
# With -icount shift=0 the guest clock counts instructions: timings repeat to ~0.1%.
declare -A qemu_extra_of=([bench-5.10]="-icount shift=0" [bench-6.1]="-icount shift=0"
                         [bench-6.12]="-icount shift=0")
for b in "${boots[@]}"; do
    [ -n "${kernel_of[$b]:-}" ] || { echo "vm: unknown boot '$b' (known: ${!kernel_of[*]})" >&2; exit 2; }
    case $arch:$b in
        aarch64:arm64-* | x86_64:[0-9]* | x86_64:bench-* | x86_64:memory-*) ;;
        *) echo "vm: boot '$b' does not fit the $arch binary $bin" >&2; exit 2 ;;
    esac
done

# (initramfs.sh and kernels.sh install what they need themselves)
qemu_package=qemu-system-x86
[ "$arch" = aarch64 ] && qemu_package=qemu-system-arm
if ! dpkg-query -W -f='${Status}\n' "$qemu_package" 2>/dev/null | grep -q '^install ok installed'; then
    echo "vm: installing: $qemu_package" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$qemu_package" >&2 ||
        exit 1
fi

mkdir -p "$out"
t0=$(date +%s)
initramfs=$out/initramfs.cpio.gz
[ "$arch" = aarch64 ] && initramfs=$out/initramfs-aarch64.cpio.gz
kernels=$(for b in "${boots[@]}"; do echo "${kernel_of[$b]}"; done | sort -u)
# shellcheck disable=SC2086 # one argument per kernel
"$here/kernels.sh" $kernels || { echo "vm: fetching kernels failed" >&2; exit 1; }
cache=${SG_VM_CACHE:-/var/cache/safeguard-vm}
# the kernels' modules (overlayfs) go into the guest's /lib/modules
SG_VM_MODULES=$(for k in $kernels; do echo "$cache/kernels/$k/modules"; done) \
    "$here/initramfs.sh" "$bin" "$initramfs" || { echo "vm: initramfs failed" >&2; exit 1; }

# Every boot in its own background job, at most SG_VM_JOBS (default: the number of cores)
# at a time, in the order given; each records "<qemu exit status> <seconds>". A boot is
# one TCG vCPU: more boots than cores do not finish sooner, each guest crawls (ten boots
# on two cores made agent starts pass 300 s) and TCG loses about a third to switching.
jobs_max=${SG_VM_JOBS:-$(nproc)}
running=0
pids=()
stop_all() {
    for f in "$out"/*.qemu-pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    exit 130
}
trap stop_all INT TERM
t1=$(date +%s)
for b in "${boots[@]}"; do
    if [ "$running" -ge "$jobs_max" ]; then
        wait -n
        running=$((running - 1))
    fi
    rm -f "$out/$b.log" "$out/$b.status"
    # no_timer_check: on a loaded host the kernel's IO-APIC timer check can fail under TCG
    # ("IO-APIC + timer doesn't work") and panic the boot.
    # mitigations=off: the guest's Spectre and other mitigations cost about 11% of a
    # scenario's time under TCG (file-deny 97 -> 86 s, measured) and protect nothing here.
    append="console=ttyS0 panic=-1 quiet no_timer_check mitigations=off rdinit=/init ${lsm_args_of[$b]} sg.boot=$b"
    # arm64: the virt machine's PL011 is ttyAMA0; the verdict goes out by semihosting
    # (init.sh, sg-exit.c). cortex-a72 rather than max: TCG emulates no pointer
    # authentication then, which makes the guest much faster.
    # memory-6.12 starts the agent with 400,000 file rules: the agent's peak and the
    # kernel's maps (about 300 bytes a rule each) do not fit in 512 MB together.
    memory=512
    [ "$b" = memory-6.12 ] && memory=2048
    machine=(qemu-system-x86_64 -accel tcg -cpu max -m "$memory" -smp 1
             -device "isa-debug-exit,iobase=0xf4,iosize=0x04")
    if [ "$arch" = aarch64 ]; then
        append="console=ttyAMA0 panic=-1 quiet rdinit=/init ${lsm_args_of[$b]} sg.boot=$b"
        machine=(qemu-system-aarch64 -accel tcg -machine virt -cpu cortex-a72 -m 1024 -smp 1
                 -semihosting-config "enable=on,target=native,userspace=on")
    fi
    append="$append sg.lsm=${lsm_of[$b]} sg.timeout=$scenario_timeout${only:+ sg.only=$only}${matrix:+ sg.matrix=$matrix}"
    (
        start=$(date +%s)
        # shellcheck disable=SC2086 # the extra arguments are words
        timeout "$boot_timeout" "${machine[@]}" \
            ${qemu_extra_of[$b]:-} \
            -nographic -no-reboot -net none \
            -kernel "$cache/kernels/${kernel_of[$b]}/vmlinuz" -initrd "$initramfs" \
            -append "$append" </dev/null >"$out/$b.log" 2>&1 &
        echo $! >"$out/$b.qemu-pid"
        wait $!
        echo "$? $(($(date +%s) - start))" >"$out/$b.status"
        rm -f "$out/$b.qemu-pid"
    ) &
    pids+=($!)
    running=$((running + 1))
done
wait "${pids[@]}"
trap - INT TERM
t2=$(date +%s)

# The console has CR LF line ends; results are whole "SG-..." lines (init silences the
# kernel console, and a marker is matched at the end of a line even if something was
# printed before it on the same line).
passed=0 failed=0
for b in "${boots[@]}"; do
    log=$out/$b.log
    read -r status secs <"$out/$b.status"
    clean=$(tr -d '\r' <"$log")
    echo "vm: boot $b: qemu exit $status after $secs s ($(grep -o 'kernel=[^ ]*' <<<"$clean" | head -n 1))"
    n_pass=0 n_fail=0
    while read -r result name; do
        [ -n "$name" ] || continue
        echo "$result $b $name"
        if [ "$result" = PASS ]; then
            n_pass=$((n_pass + 1))
        else
            n_fail=$((n_fail + 1))
            awk -v n="$name" '
                $0 ~ ("SG-RESULT " n " (PASS|FAIL)[ \t]*$") { p = 0 }
                p { print "    " $0 }
                $0 == "SG-BEGIN " n { p = 1 }' <<<"$clean"
        fi
    done < <(sed -n 's/.*SG-RESULT \([^ ]*\) \(PASS\|FAIL\)[[:space:]]*$/\2 \1/p' <<<"$clean")
    passed=$((passed + n_pass))
    failed=$((failed + n_fail))

    # The boot itself: it must have said SG-DONE with the same counts and exited through
    # isa-debug-exit with the matching code (3 = all passed, 5 = some failed).
    done_line=$(grep -o 'SG-DONE passed=[0-9]* failed=[0-9]*' <<<"$clean" | tail -n 1)
    want=3
    [ "$n_fail" = 0 ] || want=5
    reason=""
    case $status in
        3 | 5) ;;
        0) reason="the guest panicked or powered off without a verdict (qemu exit 0)" ;;
        124) reason="timed out after $boot_timeout s" ;;
        *) reason="qemu exit status $status" ;;
    esac
    if [ -z "$reason" ]; then
        if [ -z "$done_line" ]; then
            reason="no SG-DONE line"
        elif [ "$done_line" != "SG-DONE passed=$n_pass failed=$n_fail" ] || [ "$status" != "$want" ]; then
            reason="inconsistent verdict: '$done_line', qemu exit $status, parsed $n_pass passed, $n_fail failed"
        fi
    fi
    if [ -n "$reason" ]; then
        running=$(sed -n 's/^.*SG-BEGIN \([^ ]*\)$/\1/p' <<<"$clean" | tail -n 1)
        if [ -n "$running" ] && ! grep -q "SG-RESULT $running " <<<"$clean"; then
            reason="$reason, during scenario $running"
        fi
        echo "FAIL $b boot"
        echo "    $reason; last 40 lines of $log:"
        tail -n 40 <<<"$clean" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done
echo "vm: build and kernels $((t1 - t0)) s, boots $((t2 - t1)) s (in parallel); logs in $out/"
echo "vm: $passed passed, $failed failed"
[ "$failed" = 0 ]
