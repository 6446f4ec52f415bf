# boots: all
# harness: the test bed itself, with busybox only (no agent needed): the mounts the agent
# relies on, the guest's identity, the unprivileged user, and that the kernel's LSM list
# matches what this boot expects. If this fails, no other result of the boot means much.
# shellcheck shell=sh source=../lib.sh
. /tests/lib.sh

say "kernel $(uname -r), boot $SG_BOOT, bpf LSM expected: $SG_LSM"
[ "$(hostname)" = sg-guest ] || fail "hostname is '$(hostname)', want sg-guest"

for fs in proc sysfs devtmpfs securityfs tracefs bpf tmpfs cgroup2; do
    grep -q " $fs " /proc/mounts || fail "$fs is not mounted"
done
[ -r /sys/kernel/btf/vmlinux ] || fail "no BTF at /sys/kernel/btf/vmlinux"
ip link show lo | grep -q 'UP' || fail "lo is not up"

lsm=$(cat /sys/kernel/security/lsm)
say "active LSMs: $lsm"
case ",$lsm," in
    # notramp: bpf is listed, but the kernel cannot attach LSM programs (arm64 before 6.4)
    *,bpf,*) [ "$SG_LSM" = 1 ] || [ "${SG_NOTRAMP:-0}" = 1 ] ||
        fail "bpf is active but this boot expects it off" ;;
    *) [ "$SG_LSM" = 0 ] || fail "bpf is not active but this boot expects it" ;;
esac

uid=$(as_user 'id -u'):$(as_user 'id -g')
[ "$uid" = 1000:1000 ] || fail "as_user runs as $uid, want 1000:1000"

[ -x "$SG" ] || fail "$SG is missing"
/bin/true || fail "/bin/true failed"
say "bed ok"
