// sg-filetool: the file scenarios' helper (tests/vm/scenarios/file-*.sh) for system
// calls busybox has no applet for, and every io_uring form the scenarios try (network
// ones too); built statically into the guest by initramfs.sh,
// never part of the product.
//   sg-filetool mprotect FILE [rie]  mmap(PROT_READ) then mprotect(PROT_READ|PROT_EXEC);
//                                    rie: mprotect(PROT_READ) under READ_IMPLIES_EXEC
//   sg-filetool mmap FILE exec|rie   mmap(PROT_READ|PROT_EXEC), or PROT_READ under
//                                    the READ_IMPLIES_EXEC personality
//   sg-filetool setxattr PATH NAME VALUE    setxattr(2) (VALUE: text)
//   sg-filetool fsetxattr PATH NAME VALUE   fsetxattr(2) on an O_RDONLY fd
//   sg-filetool procsetxattr PATH NAME VALUE  setxattr(2) on /proc/self/fd/N of an O_PATH fd
//   sg-filetool urxattr PATH NAME VALUE     io_uring IORING_OP_SETXATTR
//   sg-filetool uropen FILE r|w             io_uring IORING_OP_OPENAT
//   sg-filetool urrename A B                io_uring IORING_OP_RENAMEAT
//   sg-filetool urlink A B                  io_uring IORING_OP_LINKAT
//   sg-filetool urunlink PATH               io_uring IORING_OP_UNLINKAT
//   sg-filetool urconnect IP PORT           io_uring IORING_OP_CONNECT (TCP, IPv4)
//   sg-filetool ursendto IP PORT            io_uring IORING_OP_SENDMSG (UDP, IPv4)
//   sg-filetool ursocket-connect IP PORT    IORING_OP_SOCKET (6.0+), then IORING_OP_CONNECT
//   sg-filetool uraVERB ...                 the same with IOSQE_ASYNC (an io-wq worker)
//   sg-filetool removexattr PATH NAME       removexattr(2)
//   sg-filetool setacl PATH OCTAL           setxattr system.posix_acl_access: u::, g::, o::
//   sg-filetool rmacl PATH                  removexattr system.posix_acl_access
//   sg-filetool setcap PATH                 setxattr security.capability: cap_net_raw+ep
//   sg-filetool otrunc FILE                 open(O_RDONLY | O_TRUNC)
//   sg-filetool truncate FILE               truncate(2) to 0 (no open)
//   sg-filetool rename A B                  rename(2) (busybox mv moves into a directory B)
//   sg-filetool open3 FILE                  open(O_ACCMODE == 3): no read, no write access
//   sg-filetool setflags FILE               FS_IOC_SETFLAGS (chattr +A) on an O_RDONLY fd
// Prints "ok" and exits 0, or "error: <strerror>" and exits 1.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <sys/ioctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
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

static int map_then_protect(const char *file, int rie)
{
	int fd = open(file, O_RDONLY);
	void *p;

	if (fd < 0)
		return result(-1, "open");
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return result(-1, "mmap");
	if (rie) {
		if (personality(READ_IMPLIES_EXEC) < 0)
			return result(-1, "personality");
		return result(mprotect(p, 4096, PROT_READ), "mprotect");
	}
	return result(mprotect(p, 4096, PROT_READ | PROT_EXEC), "mprotect");
}

static int map(const char *file, int rie)
{
	int fd = open(file, O_RDONLY);
	void *p;

	if (fd < 0)
		return result(-1, "open");
	if (rie && personality(READ_IMPLIES_EXEC) < 0)
		return result(-1, "personality");
	p = mmap(NULL, 4096, rie ? PROT_READ : PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	return result(p == MAP_FAILED ? -1 : 0, "mmap");
}

/*
 * One io_uring request through a ring set up by hand (no liburing): its result, or -1
 * with errno set, like a system call. With IOSQE_ASYNC the kernel runs it in an io-wq worker
 * rather than in the submitting task: on 5.10 a kernel thread that borrows the
 * submitter's credentials, files and namespaces; on 5.12+ a thread of the submitter
 * named iou-wrk-PID.
 */
static int submit(struct io_uring_sqe *req)
{
	struct io_uring_params params;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes, *cqe;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail, tail;
	void *sq, *cq;
	int ring;

	memset(&params, 0, sizeof(params));
	ring = syscall(__NR_io_uring_setup, 1, &params);
	if (ring < 0)
		return -1;
	sq = mmap(NULL, params.sq_off.array + params.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, params.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return -1;
	sq_tail = (unsigned *)((char *)sq + params.sq_off.tail);
	sq_array = (unsigned *)((char *)sq + params.sq_off.array);
	cq_head = (unsigned *)((char *)cq + params.cq_off.head);
	cq_tail = (unsigned *)((char *)cq + params.cq_off.tail);
	cqes = (struct io_uring_cqe *)((char *)cq + params.cq_off.cqes);

	sqes[0] = *req;
	tail = *sq_tail;
	sq_array[tail & (params.sq_entries - 1)] = 0;
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -1;
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head) {
		errno = EAGAIN;
		return -1;
	}
	cqe = &cqes[*cq_head & (params.cq_entries - 1)];
	close(ring);
	if (cqe->res < 0) {
		errno = -cqe->res;
		return -1;
	}
	return cqe->res;
}

/* One request, its answer printed like a system call's. */
static int uring(struct io_uring_sqe *req, const char *what)
{
	return result(submit(req), what);
}

/*
 * connect: a TCP socket made by socket(2), connected by IORING_OP_CONNECT. sendto: one
 * UDP datagram by IORING_OP_SENDMSG with a destination. socket-connect: the socket
 * itself made by IORING_OP_SOCKET (6.0+), then IORING_OP_CONNECT.
 */
static int uring_net(struct io_uring_sqe *req, const char *verb, const char *ip, int port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct io_uring_sqe sock;
	char data[] = "sg";
	struct iovec iov = { data, sizeof(data) };
	struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1 };
	int fd;

	if (inet_pton(AF_INET, ip, &to.sin_addr) != 1) {
		errno = EINVAL;
		return result(-1, "address");
	}
	if (strcmp(verb, "sendto") == 0) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			return result(-1, "socket");
		req->opcode = IORING_OP_SENDMSG;
		req->fd = fd;
		req->addr = (uintptr_t)&msg;
		req->len = 1;
		return uring(req, "IORING_OP_SENDMSG");
	}
	if (strcmp(verb, "socket-connect") == 0) {
		sock = *req;
		sock.opcode = IORING_OP_SOCKET;
		sock.fd = AF_INET;
		sock.off = SOCK_STREAM;
		fd = submit(&sock);
		if (fd < 0)
			return result(-1, "IORING_OP_SOCKET");
	} else {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return result(-1, "socket");
	}
	req->opcode = IORING_OP_CONNECT;
	req->fd = fd;
	req->addr = (uintptr_t)&to;
	req->off = sizeof(to); /* addr2: the address length */
	return uring(req, "IORING_OP_CONNECT");
}

/* sg-filetool ur[a]VERB ARGS: the io_uring form of VERB; "ura" forces IOSQE_ASYNC. */
static int uring_verb(const char *verb, int argc, char **argv)
{
	struct io_uring_sqe req;

	memset(&req, 0, sizeof(req));
	if (verb[0] == 'a') {
		req.flags = IOSQE_ASYNC;
		verb++;
	}
	req.fd = AT_FDCWD;
	if (argc == 5 && strcmp(verb, "xattr") == 0) { /* 5.19+ */
		req.opcode = IORING_OP_SETXATTR;
		req.addr = (uintptr_t)argv[3];
		req.addr2 = (uintptr_t)argv[4]; /* off */
		req.addr3 = (uintptr_t)argv[2];
		req.len = strlen(argv[4]);
		return uring(&req, "IORING_OP_SETXATTR");
	}
	if (argc == 4 && strcmp(verb, "open") == 0) { /* 5.6+; r or w */
		req.opcode = IORING_OP_OPENAT;
		req.addr = (uintptr_t)argv[2];
		req.open_flags = argv[3][0] == 'w' ? O_WRONLY : O_RDONLY;
		return uring(&req, "IORING_OP_OPENAT");
	}
	if (argc == 4 && strcmp(verb, "rename") == 0) { /* 5.11+ */
		req.opcode = IORING_OP_RENAMEAT;
		req.addr = (uintptr_t)argv[2];
		req.len = AT_FDCWD; /* new directory fd */
		req.addr2 = (uintptr_t)argv[3];
		return uring(&req, "IORING_OP_RENAMEAT");
	}
	if (argc == 4 && strcmp(verb, "link") == 0) { /* 5.15+ */
		req.opcode = IORING_OP_LINKAT;
		req.addr = (uintptr_t)argv[2];
		req.len = AT_FDCWD;
		req.addr2 = (uintptr_t)argv[3];
		return uring(&req, "IORING_OP_LINKAT");
	}
	if (argc == 3 && strcmp(verb, "unlink") == 0) { /* 5.11+ */
		req.opcode = IORING_OP_UNLINKAT;
		req.addr = (uintptr_t)argv[2];
		return uring(&req, "IORING_OP_UNLINKAT");
	}
	if (argc == 4 && (strcmp(verb, "connect") == 0 || strcmp(verb, "sendto") == 0 ||
			  strcmp(verb, "socket-connect") == 0))
		return uring_net(&req, verb, argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: see tests/vm/filetool.c\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (argc >= 3 && strcmp(cmd, "mprotect") == 0)
		return map_then_protect(argv[2], argc > 3 && strcmp(argv[3], "rie") == 0);
	if (argc == 4 && strcmp(cmd, "mmap") == 0)
		return map(argv[2], strcmp(argv[3], "rie") == 0);
	if (argc == 5 && strcmp(cmd, "setxattr") == 0)
		return result(setxattr(argv[2], argv[3], argv[4], strlen(argv[4]), 0), "setxattr");
	if (argc == 5 && strcmp(cmd, "fsetxattr") == 0) {
		int fd = open(argv[2], O_RDONLY);

		if (fd < 0)
			return result(-1, "open");
		return result(fsetxattr(fd, argv[3], argv[4], strlen(argv[4]), 0), "fsetxattr");
	}
	if (argc == 5 && strcmp(cmd, "procsetxattr") == 0) {
		char proc[64];
		int fd = open(argv[2], O_PATH);

		if (fd < 0)
			return result(-1, "open");
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		return result(setxattr(proc, argv[3], argv[4], strlen(argv[4]), 0), "setxattr");
	}
	if (strncmp(cmd, "ur", 2) == 0)
		return uring_verb(cmd + 2, argc, argv);
	if (argc == 4 && strcmp(cmd, "removexattr") == 0)
		return result(removexattr(argv[2], argv[3]), "removexattr");
	if (argc == 4 && strcmp(cmd, "setacl") == 0) {
		/* struct posix_acl_xattr_header + 3 entries (tag, perm, id), little endian */
		unsigned mode = strtoul(argv[3], NULL, 8);
		uint8_t acl[4 + 3 * 8];
		uint16_t tags[3] = { 0x01, 0x04, 0x20 }; /* ACL_USER_OBJ, ACL_GROUP_OBJ, ACL_OTHER */

		memset(acl, 0, sizeof(acl));
		acl[0] = 2; /* POSIX_ACL_XATTR_VERSION */
		for (int i = 0; i < 3; i++) {
			uint8_t *e = acl + 4 + 8 * i;

			e[0] = tags[i];
			e[2] = (mode >> (6 - 3 * i)) & 7;
			memset(e + 4, 0xff, 4); /* ACL_UNDEFINED_ID */
		}
		return result(setxattr(argv[2], "system.posix_acl_access", acl, sizeof(acl), 0), "setxattr");
	}
	if (argc == 3 && strcmp(cmd, "rmacl") == 0)
		return result(removexattr(argv[2], "system.posix_acl_access"), "removexattr");
	if (argc == 3 && strcmp(cmd, "setcap") == 0) {
		/* struct vfs_cap_data, revision 2, effective: cap_net_raw (13) permitted */
		uint32_t cap[5] = { 0x02000000 | 1, 1U << 13, 0, 0, 0 };

		return result(setxattr(argv[2], "security.capability", cap, sizeof(cap), 0), "setxattr");
	}
	if (argc == 3 && strcmp(cmd, "otrunc") == 0)
		return result(open(argv[2], O_RDONLY | O_TRUNC), "open");
	if (argc == 3 && strcmp(cmd, "truncate") == 0)
		return result(truncate(argv[2], 0), "truncate");
	if (argc == 4 && strcmp(cmd, "rename") == 0)
		return result(rename(argv[2], argv[3]), "rename");
	if (argc == 3 && strcmp(cmd, "setflags") == 0) {
		int fd = open(argv[2], O_RDONLY), flags = 0;

		if (fd < 0)
			return result(-1, "open");
		ioctl(fd, FS_IOC_GETFLAGS, &flags);
		flags |= FS_NOATIME_FL;
		return result(ioctl(fd, FS_IOC_SETFLAGS, &flags), "FS_IOC_SETFLAGS");
	}
	if (argc == 3 && strcmp(cmd, "open3") == 0)
		return result(open(argv[2], 3), "open");
	fprintf(stderr, "usage: see tests/vm/filetool.c\n");
	return 2;
}
