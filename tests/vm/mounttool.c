// sg-mounttool: the mount scenarios' helper (tests/vm/scenarios/mount-*.sh), built
// statically into the guest by initramfs.sh; never part of the product. It passes
// its strings to the kernel exactly as given (busybox mount may rewrite a source).
//   sg-mounttool mount SOURCE TARGET [FSTYPE|-] [bind|rbind|move|remount]   mount(2)
//                                      (rbind: MS_BIND|MS_REC)
//   sg-mounttool clone SOURCE TARGET [rec]
//                                      open_tree(OPEN_TREE_CLONE[|AT_RECURSIVE]) + move_mount(2)
//   sg-mounttool fsmount FSTYPE TARGET [WAITFILE]
//                                      fsopen + fsconfig(FSCONFIG_CMD_CREATE) + fsmount, then
//                                      (once WAITFILE exists, after printing "ready") move_mount(2)
//   sg-mounttool exchange A B          renameat2(A, B, RENAME_EXCHANGE) (busybox has none)
//   sg-mounttool tree clone|detach DIR REL exec|cat [ARGV...]
//       a detached tree at DIR: an open_tree(OPEN_TREE_CLONE) of it, or DIR itself
//       lazily unmounted (umount2 MNT_DETACH) with a descriptor kept; then execveat
//       REL in it with ARGV (argv[0] first), or read REL to stdout. Exit 126 with
//       "error: ...: <strerror>" where the exec or open fails.
// Prints "ok" and exits 0, or "error: <strerror> (<step>)" and exits 1.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_execveat
#define SYS_execveat 322
#endif
#ifndef SYS_renameat2
#define SYS_renameat2 316
#endif
#define SG_RENAME_EXCHANGE (1 << 1)
#define SG_OPEN_TREE_CLONE 1
#define SG_AT_RECURSIVE 0x8000
#define SG_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define SG_FSCONFIG_CMD_CREATE 6

static int step_failed(const char *step)
{
	printf("error: %s (%s)\n", strerror(errno), step);
	return 1;
}

/* A new filesystem of FSTYPE attached at TARGET through the new mount API. */
static int new_fs(const char *fstype, const char *target, const char *waitfile)
{
	int fs = syscall(SYS_fsopen, fstype, 0);
	int mnt;

	if (fs < 0)
		return step_failed("fsopen");
	if (syscall(SYS_fsconfig, fs, SG_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return step_failed("fsconfig");
	mnt = syscall(SYS_fsmount, fs, 0, 0);
	if (mnt < 0)
		return step_failed("fsmount");
	if (waitfile) {
		printf("ready\n");
		fflush(stdout);
		while (access(waitfile, F_OK) != 0)
			usleep(20000);
	}
	if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, target, SG_MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return step_failed("move_mount");
	printf("ok\n");
	return 0;
}

extern char **environ;

/* A detached tree (see the usage line), then exec or read REL in it. */
static int tree(char **argv, int argc)
{
	const char *how = argv[2], *dir = argv[3], *rel = argv[4], *what = argv[5];
	char buf[4096];
	ssize_t n;
	int fd, file;

	if (strcmp(how, "clone") == 0) {
		fd = syscall(SYS_open_tree, AT_FDCWD, dir, SG_OPEN_TREE_CLONE | O_CLOEXEC);
	} else {
		fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && umount2(dir, MNT_DETACH) < 0) {
			printf("error: umount2: %s\n", strerror(errno));
			return 1;
		}
	}
	if (fd < 0) {
		printf("error: %s %s: %s\n", how, dir, strerror(errno));
		return 1;
	}
	if (strcmp(what, "exec") == 0 && argc > 6) {
		syscall(SYS_execveat, fd, rel, argv + 6, environ, 0);
		printf("error: execveat %s: %s\n", rel, strerror(errno));
		fflush(stdout);
		return 126;
	}
	file = openat(fd, rel, O_RDONLY | O_CLOEXEC);
	if (file < 0) {
		printf("error: open %s: %s\n", rel, strerror(errno));
		return 126;
	}
	while ((n = read(file, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	return 0;
}

static int result(int rc)
{
	if (rc < 0) {
		printf("error: %s\n", strerror(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "mount") == 0) {
		const char *fstype = argc > 4 && strcmp(argv[4], "-") != 0 ? argv[4] : NULL;
		unsigned long flags = 0;

		if (argc > 5 && strcmp(argv[5], "bind") == 0)
			flags = MS_BIND;
		else if (argc > 5 && strcmp(argv[5], "rbind") == 0)
			flags = MS_BIND | MS_REC;
		else if (argc > 5 && strcmp(argv[5], "move") == 0)
			flags = MS_MOVE;
		else if (argc > 5 && strcmp(argv[5], "remount") == 0)
			flags = MS_REMOUNT;
		return result(mount(argv[2], argv[3], fstype, flags, NULL));
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "clone") == 0) {
		int rec = argc == 5 && strcmp(argv[4], "rec") == 0 ? SG_AT_RECURSIVE : 0;
		int fd = syscall(SYS_open_tree, AT_FDCWD, argv[2], SG_OPEN_TREE_CLONE | rec | O_CLOEXEC);

		if (fd < 0) {
			printf("error: open_tree: %s\n", strerror(errno));
			return 1;
		}
		return result(syscall(SYS_move_mount, fd, "", AT_FDCWD, argv[3], SG_MOVE_MOUNT_F_EMPTY_PATH));
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "fsmount") == 0)
		return new_fs(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc >= 6 && strcmp(argv[1], "tree") == 0)
		return tree(argv, argc);
	if (argc == 4 && strcmp(argv[1], "exchange") == 0)
		return result(syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], SG_RENAME_EXCHANGE));
	fprintf(stderr, "usage: sg-mounttool mount SOURCE TARGET [FSTYPE] [bind|move|remount]\n"
			"       sg-mounttool clone SOURCE TARGET [rec]\n"
			"       sg-mounttool fsmount FSTYPE TARGET [WAITFILE]\n"
			"       sg-mounttool exchange A B\n"
			"       sg-mounttool tree clone|detach DIR REL exec|cat [ARGV...]\n");
	return 2;
}
