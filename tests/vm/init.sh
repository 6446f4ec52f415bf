#!/bin/sh
# /init of the VM test guest (busybox only): sets the machine up, runs every scenario that
# applies to this boot, prints the protocol lines run.sh parses, and hands the verdict to
# qemu through isa-debug-exit. Kernel command line it reads:
#   sg.boot=NAME     the boot's name, for the log
#   sg.lsm=1|0       whether BPF LSM is expected active (selects "# boots:" lsm / nolsm)
#   sg.notramp=1     bpf is an active LSM but the kernel has no BPF trampolines (arm64
#                    before 6.4): "# boots: notramp" scenarios run instead of nolsm ones
#   sg.only=A,B      run only these scenarios (names without .sh)
#   sg.timeout=SECS  per-scenario limit (default 120)
#   sg.bench=1|memory  a benchmark boot: only the "# boots: bench" (or "memory") scenarios
#   sg.matrix=full   run every scenario on every kernel, whatever its "# kernels:" line says
# Protocol (one line each, on the console):
#   SG-BEGIN <scenario>
#   ...the scenario's own output...
#   SG-RESULT <scenario> PASS|FAIL
#   SG-DONE passed=<n> failed=<m>
# then a byte to port 0xf4: 1 = all passed (qemu exits 3), 2 = some failed (qemu exits 5);
# on aarch64 sg-exit 3 or 5 (semihosting) makes qemu exit with that status directly.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
export PATH HOME

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel opened /dev/console from the cpio before devtmpfs existed; reopen it anyway so
# init has a console even if that node was missing.
exec </dev/console >/dev/console 2>&1
echo 1 >/proc/sys/kernel/printk # only emergencies: kernel lines must not split ours
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t securityfs securityfs /sys/kernel/security
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null # older libbpf looks here for tracing
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
ip link set lo up
hostname sg-guest

SG_BOOT=unknown SG_LSM=0 only="" limit=120
read -r cmdline </proc/cmdline
for arg in $cmdline; do
    case $arg in
        sg.boot=*) SG_BOOT=${arg#sg.boot=} ;;
        sg.lsm=*) SG_LSM=${arg#sg.lsm=} ;;
        sg.notramp=*) SG_NOTRAMP=${arg#sg.notramp=} ;;
        sg.only=*) only=",${arg#sg.only=}," ;;
        sg.timeout=*) limit=${arg#sg.timeout=} ;;
        sg.bench=*) SG_BENCH=${arg#sg.bench=} ;;
        sg.shard=*) shard=${arg#sg.shard=} ;; # "K/N": every Nth applicable scenario from the Kth
        sg.matrix=*) matrix=${arg#sg.matrix=} ;;
    esac
done
SG_NOTRAMP=${SG_NOTRAMP:-0}
export SG_BOOT SG_LSM SG_NOTRAMP
# "5.10", "6.1", "6.12": what a scenario's "# kernels:" line names
release=$(uname -r)
kernel=$(echo "${release%%-*}" | cut -d. -f1,2)

echo "SG-BOOT boot=$SG_BOOT lsm_expected=$SG_LSM kernel=$(uname -r) lsm=$(cat /sys/kernel/security/lsm)"

# Does scenario file $1 apply to this boot? Its header line
# "# boots: all|lsm|nolsm|notramp|bench|memory" says; a benchmark boot (sg.bench=1) runs the
# bench scenarios only, a memory boot (sg.bench=memory: a normal clock, no instruction
# counting) the memory ones only. The nolsm scenarios expect bpf missing from lsm= (and trampolines that
# work): a boot without trampolines runs the notramp ones instead.
applies() {
    boots=$(sed -n 's/^# boots:[[:space:]]*\([a-z][a-z ]*\).*/\1/p' "$1" | head -n 1)
    case ${SG_BENCH:-0} in
        1) [ "$boots" = bench ]; return ;;
        memory) [ "$boots" = memory ]; return ;;
    esac
    [ -n "$boots" ] || { echo "init: $1 has no '# boots: all|lsm|nolsm' line; running it"; return 0; }
    # "# kernels: 6.1 6.12": make test's representative subset runs the scenario on these
    # kernels only, "# kernels: none" on none (tests/vm/README.md, "Which scenarios run
    # where"); a scenario named in sg.only, or sg.matrix=full, runs on every kernel booted.
    kernels=$(sed -n 's/^# kernels:[[:space:]]*//p' "$1" | head -n 1)
    if [ -n "$kernels" ] && [ -z "$only" ] && [ "${matrix:-}" != full ]; then
        case " $kernels " in *" $kernel "*) ;; *) return 1 ;; esac
    fi
    # One or more classes: "# boots: nolsm notramp" runs on either kind of boot.
    for class in $boots; do
        case $class in
            all) return 0 ;;
            lsm) [ "$SG_LSM" = 1 ] && return 0 ;;
            nolsm) [ "$SG_LSM" = 0 ] && [ "$SG_NOTRAMP" != 1 ] && return 0 ;;
            notramp) [ "$SG_NOTRAMP" = 1 ] && return 0 ;;
        esac
    done
    return 1
}

# Is any process but init and the kernel's threads (children of kthreadd, pid 2) still
# running? Every thread counts: a killed agent's main thread may be a zombie while its
# other threads still hold its files (and its lock). A zombie thread counts as gone.
user_processes_alive() {
    for stat in /proc/[0-9]*/task/[0-9]*/stat; do
        read -r line <"$stat" 2>/dev/null || continue
        pid=${line%% *}
        rest=${line##*) }
        # shellcheck disable=SC2086 # split into state, ppid, ... on purpose
        set -- $rest
        [ "$pid" = 1 ] || [ "$pid" = 2 ] || [ "$2" = 2 ] || [ "$1" = Z ] || [ "$pid" = $$ ] && continue
        return 0
    done
    return 1
}

# What one scenario left behind must not reach the next: every process but init, the
# scratch directories, pinned BPF objects.
cleanup() {
    kill -KILL -1 2>/dev/null
    # A killed agent may need seconds to die: closing its BPF links waits for RCU, and
    # its lock on the pin directory (and a protected agent's guard of its pins) lasts
    # until it has. The next scenario's agent must not meet it (CI saw "another
    # safeguard agent is running" on 6.12).
    waited=0
    while [ "$waited" -lt 300 ] && user_processes_alive; do
        sleep 0.1
        waited=$((waited + 1))
    done
    [ "$waited" -lt 300 ] || echo "init: processes still alive 30 s after SIGKILL"
    rm -rf /tmp/* /tmp/.[!.]* /opt /run/* /sys/fs/bpf/* 2>/dev/null
    cd /
}

passed=0 failed=0
index=0
for f in /tests/scenarios/*.sh; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .sh)
    case $only in "" | *",$name,"*) ;; *) continue ;; esac
    applies "$f" || continue
    index=$((index + 1))
    if [ -n "${shard:-}" ] && [ $(((index - 1) % ${shard#*/})) != "${shard%/*}" ]; then
        continue
    fi
    echo "SG-BEGIN $name"
    start=$(date +%s)
    # -k: a scenario that ignores SIGTERM gets SIGKILL 5 s later.
    SG_SCENARIO=$name timeout -k 5 "$limit" sh "$f" </dev/null
    rc=$?
    secs=$(($(date +%s) - start))
    [ "$rc" = 143 ] || [ "$rc" = 137 ] && echo "init: $name timed out after $limit s"
    echo "init: $name exited $rc after $secs s"
    if [ "$rc" = 0 ]; then
        echo "SG-RESULT $name PASS"
        passed=$((passed + 1))
    else
        echo "SG-RESULT $name FAIL"
        failed=$((failed + 1))
    fi
    cleanup
done
echo "SG-DONE passed=$passed failed=$failed"
sync

# isa-debug-exit: writing V to port 0xf4 makes qemu exit with (V << 1) | 1. Debian's cloud
# kernels have no /dev/port (CONFIG_DEVPORT is off; mknod c 1 4 gives ENXIO), so init
# writes a 158-byte static x86-64 program that does ioperm(0xf4, 4, 1) and `outb V, 0xf4`
# (and exits 1 if it is still alive). debug_exit HEXBYTE.
debug_exit() {
    # ELF header, one PT_LOAD program header (R+X, vaddr 0x400000, 0x9e bytes), code at 0x78.
    printf '%b' \
'\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00'\
'\x02\x00\x3e\x00\x01\x00\x00\x00\x78\x00\x40\x00\x00\x00\x00\x00'\
'\x40\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'\
'\x00\x00\x00\x00\x40\x00\x38\x00\x01\x00\x00\x00\x00\x00\x00\x00'\
'\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'\
'\x00\x00\x40\x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00\x00\x00'\
'\x9e\x00\x00\x00\x00\x00\x00\x00\x9e\x00\x00\x00\x00\x00\x00\x00'\
'\x00\x10\x00\x00\x00\x00\x00\x00'\
'\xbf\xf4\x00\x00\x00\xbe\x04\x00\x00\x00\xba\x01\x00\x00\x00'\
'\xb8\xad\x00\x00\x00\x0f\x05'\
"\\xb0\\x$1\\xe6\\xf4"\
'\xbf\x01\x00\x00\x00\xb8\x3c\x00\x00\x00\x0f\x05' >/run/debug-exit
    # mov edi,0xf4; mov esi,4; mov edx,1; mov eax,173 (ioperm); syscall;
    # mov al,V; out 0xf4,al; mov edi,1; mov eax,60 (exit); syscall
    chmod 755 /run/debug-exit
    /run/debug-exit
}
if [ "$(uname -m)" = aarch64 ]; then
    # qemu's arm virt machine has no isa-debug-exit: semihosting gives the same statuses.
    if [ "$failed" = 0 ]; then sg-exit 3; else sg-exit 5; fi
    echo "init: sg-exit returned $? (qemu without -semihosting-config userspace=on?)"
elif [ "$failed" = 0 ]; then debug_exit 01; else debug_exit 02; fi
# Only reached without isa-debug-exit: power off (qemu exits 0, which run.sh treats as a
# boot that gave no verdict). Init must never return: that would panic.
echo "init: isa-debug-exit did not stop the machine"
poweroff -f
sleep 10
