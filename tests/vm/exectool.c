// sg-exectool: the process scenarios' helper (tests/vm/scenarios/process-*.sh), built
// statically into the guest by initramfs.sh; never part of the product. Each command
// prints "ok" and exits 0, or "error: <strerror>" and exits 1 (an exec that succeeds
// prints what the program prints).
//   sg-exectool fexecve FILE ARGV0 [ARG...]   open FILE, then execveat(fd, "", AT_EMPTY_PATH)
//   sg-exectool procfd FILE ARGV0 [ARG...]    open FILE, then execve("/proc/self/fd/N")
//   sg-exectool memfd FILE ARGV0 [ARG...]     copy FILE into a memfd, then fexecve it
//   sg-exectool mmap FILE                      mmap FILE PROT_READ|PROT_EXEC
//   sg-exectool mprotect FILE                  mmap FILE PROT_READ, then mprotect +PROT_EXEC
//   sg-exectool uselib FILE                    uselib(2)
//   sg-exectool link OLD NEW                   linkat(2)
//   sg-exectool flink FILE NEW                 open FILE, then linkat(fd, "", AT_EMPTY_PATH)
//   sg-exectool rename OLD NEW                 renameat2(2)
//   sg-exectool exchange A B                   renameat2(A, B, RENAME_EXCHANGE)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SG_RENAME_EXCHANGE (1 << 1)

extern char **environ;

static int result(int rc)
{
	if (rc < 0) {
		printf("error: %s\n", strerror(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}

static int open_or_fail(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		printf("error: open %s: %s\n", path, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 4 && strcmp(cmd, "fexecve") == 0) {
		int fd = open_or_fail(argv[2]);

		if (fd < 0)
			return 1;
		syscall(SYS_execveat, fd, "", &argv[3], environ, AT_EMPTY_PATH);
		return result(-1);
	}
	if (argc >= 4 && strcmp(cmd, "procfd") == 0) {
		char name[64];
		int fd = open(argv[2], O_RDONLY); /* not O_CLOEXEC: the name must outlive the exec */

		if (fd < 0)
			return result(-1);
		snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
		execve(name, &argv[3], environ);
		return result(-1);
	}
	if (argc >= 4 && strcmp(cmd, "memfd") == 0) {
		int fd = open_or_fail(argv[2]), mfd = memfd_create("sg", MFD_CLOEXEC);
		struct stat st;

		if (fd < 0 || mfd < 0 || fstat(fd, &st) < 0 || sendfile(mfd, fd, NULL, st.st_size) != st.st_size)
			return result(-1);
		syscall(SYS_execveat, mfd, "", &argv[3], environ, AT_EMPTY_PATH);
		return result(-1);
	}
	if (argc == 3 && (strcmp(cmd, "mmap") == 0 || strcmp(cmd, "mprotect") == 0)) {
		int fd = open_or_fail(argv[2]);
		int exec_now = strcmp(cmd, "mmap") == 0;
		void *p;

		if (fd < 0)
			return 1;
		p = mmap(NULL, 4096, PROT_READ | (exec_now ? PROT_EXEC : 0), MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			return result(-1);
		if (exec_now)
			return result(0);
		return result(mprotect(p, 4096, PROT_READ | PROT_EXEC));
	}
	if (argc == 3 && strcmp(cmd, "uselib") == 0) {
#ifdef __x86_64__
		return result(syscall(134 /* SYS_uselib */, argv[2]));
#else
		/* arm64 has no uselib(2); 134 there is rt_sigaction. */
		errno = ENOSYS;
		return result(-1);
#endif
	}
	if (argc == 4 && strcmp(cmd, "link") == 0)
		return result(linkat(AT_FDCWD, argv[2], AT_FDCWD, argv[3], 0));
	if (argc == 4 && strcmp(cmd, "flink") == 0) {
		int fd = open_or_fail(argv[2]);

		if (fd < 0)
			return 1;
		return result(linkat(fd, "", AT_FDCWD, argv[3], AT_EMPTY_PATH));
	}
	if (argc == 4 && strcmp(cmd, "rename") == 0)
		return result(syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], 0));
	if (argc == 4 && strcmp(cmd, "exchange") == 0)
		return result(syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], SG_RENAME_EXCHANGE));
	fprintf(stderr, "usage: sg-exectool fexecve|procfd|memfd|mmap|mprotect|uselib|link|flink|rename|exchange ...\n");
	return 2;
}
