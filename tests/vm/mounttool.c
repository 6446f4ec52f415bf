// sg-mounttool: the mount scenarios' helper (tests/vm/scenarios/mount-*.sh), built
// statically into the guest by initramfs.sh; never part of the product. It passes
// its strings to the kernel exactly as given (busybox mount may rewrite a source).
//   sg-mounttool mount SOURCE TARGET [FSTYPE|-] [bind|move|remount]   mount(2)
//   sg-mounttool clone SOURCE TARGET   open_tree(OPEN_TREE_CLONE) + move_mount(2)
//   sg-mounttool fsmount FSTYPE TARGET [WAITFILE]
//                                      fsopen + fsconfig(FSCONFIG_CMD_CREATE) + fsmount, then
//                                      (once WAITFILE exists, after printing "ready") move_mount(2)
//   sg-mounttool exchange A B          renameat2(A, B, RENAME_EXCHANGE) (busybox has none)
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
		else if (argc > 5 && strcmp(argv[5], "move") == 0)
			flags = MS_MOVE;
		else if (argc > 5 && strcmp(argv[5], "remount") == 0)
			flags = MS_REMOUNT;
		return result(mount(argv[2], argv[3], fstype, flags, NULL));
	}
	if (argc == 4 && strcmp(argv[1], "clone") == 0) {
		int fd = syscall(SYS_open_tree, AT_FDCWD, argv[2], SG_OPEN_TREE_CLONE | O_CLOEXEC);

		if (fd < 0) {
			printf("error: open_tree: %s\n", strerror(errno));
			return 1;
		}
		return result(syscall(SYS_move_mount, fd, "", AT_FDCWD, argv[3], SG_MOVE_MOUNT_F_EMPTY_PATH));
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "fsmount") == 0)
		return new_fs(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc == 4 && strcmp(argv[1], "exchange") == 0)
		return result(syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], SG_RENAME_EXCHANGE));
	fprintf(stderr, "usage: sg-mounttool mount SOURCE TARGET [FSTYPE] [bind|move|remount]\n"
			"       sg-mounttool clone SOURCE TARGET\n"
			"       sg-mounttool fsmount FSTYPE TARGET [WAITFILE]\n"
			"       sg-mounttool exchange A B\n");
	return 2;
}
