// sg-protecttool: the self-protection scenario's helper (tests/vm/scenarios/protect.sh)
// for what a root attacker would do to the agent that busybox has no applet for; built
// statically into the guest by initramfs.sh, never part of the product.
//   sg-protecttool ptrace PID      ptrace(PTRACE_ATTACH)
//   sg-protecttool vmwrite PID     process_vm_writev of one byte (EFAULT means allowed:
//                                  the address is not mapped)
//   sg-protecttool getfd PID       pidfd_open + pidfd_getfd of the target's fd 3
//   sg-protecttool map-write       every BPF map by id: BPF_MAP_GET_FD_BY_ID for
//                                  writing, then BPF_MAP_DELETE_ELEM of key 0
//   sg-protecttool link-detach     every BPF link by id: BPF_LINK_GET_FD_BY_ID, then
//                                  BPF_LINK_DETACH
// The single verbs print "ok" and exit 0, or "error: <strerror>" and exit 1. The BPF
// verbs print one line per object and "refused=N done=M other=K"; they exit 0 only
// when at least one object was there and every one was refused with EPERM.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int result(int rc, const char *what)
{
	if (rc < 0) {
		printf("error: %s: %s\n", what, strerror(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The next id after `id` of objects of kind `next_cmd`; 0 at the end. */
static __u32 next_id(int next_cmd, __u32 id)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.start_id = id;
	if (sys_bpf(next_cmd, &attr) < 0)
		return 0;
	return attr.next_id;
}

static int tally(int refused, int done, int other)
{
	printf("refused=%d done=%d other=%d\n", refused, done, other);
	return refused > 0 && done == 0 && other == 0 ? 0 : 1;
}

static int map_write(void)
{
	int refused = 0, done = 0, other = 0;

	for (__u32 id = next_id(BPF_MAP_GET_NEXT_ID, 0); id; id = next_id(BPF_MAP_GET_NEXT_ID, id)) {
		union bpf_attr attr;
		char key[512] = {};
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.map_id = id;
		fd = sys_bpf(BPF_MAP_GET_FD_BY_ID, &attr);
		if (fd < 0) {
			printf("map %u: get fd for writing: %s\n", id, strerror(errno));
			errno == EPERM ? refused++ : other++;
			continue;
		}
		memset(&attr, 0, sizeof(attr));
		attr.map_fd = fd;
		attr.key = (__u64)(unsigned long)key;
		if (sys_bpf(BPF_MAP_DELETE_ELEM, &attr) < 0 && errno == EPERM) {
			printf("map %u: opened for writing, delete refused\n", id);
			refused++;
		} else {
			printf("map %u: opened for writing, delete: %s\n", id, strerror(errno));
			done++;
		}
		close(fd);
	}
	return tally(refused, done, other);
}

static int link_detach(void)
{
	int refused = 0, done = 0, other = 0;

	for (__u32 id = next_id(BPF_LINK_GET_NEXT_ID, 0); id; id = next_id(BPF_LINK_GET_NEXT_ID, id)) {
		union bpf_attr attr;
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.link_id = id;
		fd = sys_bpf(BPF_LINK_GET_FD_BY_ID, &attr);
		if (fd < 0) {
			printf("link %u: get fd: %s\n", id, strerror(errno));
			other++;
			continue;
		}
		memset(&attr, 0, sizeof(attr));
		attr.link_detach.link_fd = fd;
		if (sys_bpf(BPF_LINK_DETACH, &attr) == 0) {
			printf("link %u: detached\n", id);
			done++;
		} else {
			printf("link %u: detach: %s\n", id, strerror(errno));
			errno == EPERM ? refused++ : other++;
		}
		close(fd);
	}
	return tally(refused, done, other);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (argc == 3 && strcmp(cmd, "ptrace") == 0)
		return result(ptrace(PTRACE_ATTACH, atoi(argv[2]), 0, 0), "ptrace attach");
	if (argc == 3 && strcmp(cmd, "vmwrite") == 0) {
		char byte = 0;
		struct iovec local = { &byte, 1 }, remote = { (void *)0x1000, 1 };

		return result(process_vm_writev(atoi(argv[2]), &local, 1, &remote, 1, 0), "process_vm_writev");
	}
	if (argc == 3 && strcmp(cmd, "getfd") == 0) {
		int pidfd = syscall(SYS_pidfd_open, atoi(argv[2]), 0);

		if (pidfd < 0)
			return result(-1, "pidfd_open");
		return result(syscall(SYS_pidfd_getfd, pidfd, 3, 0), "pidfd_getfd");
	}
	if (argc == 2 && strcmp(cmd, "map-write") == 0)
		return map_write();
	if (argc == 2 && strcmp(cmd, "link-detach") == 0)
		return link_detach();
	fprintf(stderr, "usage: sg-protecttool ptrace|vmwrite|getfd PID | map-write | link-detach\n");
	return 2;
}
