// sg-attacktool: the attack scenarios' helper (tests/vm/scenarios/attack-*.sh): other
// system calls that reach a file, a program or an address already covered by a rule.
// Built statically into the guest by initramfs.sh; never part of the product.
//   sg-attacktool openat2 FILE             openat2(RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV),
//                                          then print the file
//   sg-attacktool opath-exec FILE ARGV0 [ARG...]
//                                          open FILE with O_PATH (no file_open hook), then
//                                          execveat(fd, "", AT_EMPTY_PATH)
//   sg-attacktool handle FILE DIR          name_to_handle_at + open_by_handle_at (mount fd:
//                                          DIR, on FILE's filesystem), then print the file
//   sg-attacktool fdmap FD                 mmap(PROT_READ, MAP_PRIVATE) an inherited fd,
//                                          print the mapping
//   sg-attacktool fdexec FD ARGV0 [ARG...] execveat(FD, "", AT_EMPTY_PATH) of an inherited fd
//   sg-attacktool fdsendfile FD            sendfile(2) from an inherited fd to stdout
//   sg-attacktool chown-opath FILE UID     fchownat(O_PATH fd, "", UID, -1, AT_EMPTY_PATH)
//   sg-attacktool chmod-opath FILE OCTAL   fchmodat2(O_PATH fd, "", mode, AT_EMPTY_PATH)
//                                          (6.6+), else chmod("/proc/self/fd/N")
//   sg-attacktool whiteout A B             renameat2(A, B, RENAME_WHITEOUT)
//   sg-attacktool exchange A B             renameat2(A, B, RENAME_EXCHANGE)
//   sg-attacktool sendmmsg IP PORT         UDP sendmmsg(2) of two datagrams to IP:PORT
//   sg-attacktool packet dgram|raw SRC DST PORT
//                                          an IPv4/UDP datagram SRC -> DST:PORT written whole
//                                          through an AF_PACKET socket on lo (raw: with its
//                                          Ethernet header)
//   sg-attacktool sniff DST MS             AF_PACKET receive on lo until an IPv4 or IPv6
//                                          packet to DST passes (prints "seen"), at most MS
//   sg-attacktool srr opt|cmsg|tcp VIA DST PORT
//                                          UDP to DST:PORT (tcp: a connect) with an IPv4 loose
//                                          source route through VIA: IP_OPTIONS on the socket,
//                                          or an IP_RETOPTS control message
//   sg-attacktool rthdr VIA6 DST6 PORT     UDP to [DST6]:PORT with an IPV6_RTHDR control
//                                          message (type 2, one segment: VIA6)
//   sg-attacktool mptcp-pm limits ADD_ADDRS SUBFLOWS
//                                          the in-kernel MPTCP path manager's limits
//                                          (generic netlink mptcp_pm, MPTCP_PM_CMD_SET_LIMITS)
//   sg-attacktool mptcp-pm signal IP ID [PORT]
//                                          an endpoint IP announced to peers (ADD_ADDR),
//                                          with PORT: announced with that port (the kernel
//                                          listens on it for joins)
//   sg-attacktool mptcp-pm flush           remove every endpoint (MPTCP_PM_CMD_FLUSH_ADDRS)
//   sg-attacktool mptcp-serve IP PORT MS   an MPTCP listener: accept one, hold it MS
//   sg-attacktool mptcp-connect IP PORT MS an MPTCP connect to IP:PORT, held MS; then
//                                          "subflow REMOTE:PORT state N" (TCP state,
//                                          1 = established) for each of its subflows
//   sg-attacktool mptcp-us IP PORT LOCAL REMOTE RPORT MS
//                                          an MPTCP connect to IP:PORT, then a subflow
//                                          LOCAL -> REMOTE:RPORT asked of the userspace path
//                                          manager (MPTCP_PM_CMD_SUBFLOW_CREATE with the
//                                          connection's MPTCP_INFO token; net.mptcp.pm_type
//                                          = 1), held MS; prints "create: ok|error: ..." and
//                                          the subflows as mptcp-connect does
//   sg-attacktool mptcp-us-serve IP PORT LOCAL REMOTE RPORT MS
//                                          the same from the server's side: an MPTCP
//                                          listener on IP:PORT accepts one connection and
//                                          asks for a subflow of it LOCAL -> REMOTE:RPORT
//   sg-attacktool tmpfile-link DIR NEW     open(DIR, O_TMPFILE), write "x", then
//                                          linkat(fd, "", NEW, AT_EMPTY_PATH)
//   sg-attacktool open3trunc FILE          open(FILE, O_ACCMODE == 3 | O_TRUNC)
//   sg-attacktool urmkdir PATH             io_uring IORING_OP_MKDIRAT (5.15's io_uring)
//   sg-attacktool ursymlink TARGET LINK    io_uring IORING_OP_SYMLINKAT
//   sg-attacktool handle-drop FILE DIR     name_to_handle_at, then drop the dentry cache
//                                          (vm.drop_caches = 2), then open_by_handle_at
//                                          (mount fd: DIR): a DISCONNECTED dentry where
//                                          the filesystem can evict it (kernfs); print
//                                          "opened as: " its /proc/self/fd link, then it
//   sg-attacktool unixbind PATH            bind(2) an AF_UNIX socket to PATH (a new name)
//   sg-attacktool hold-map FILE SECS       mmap(PROT_READ, MAP_PRIVATE) FILE, print "mapped",
//                                          hold the mapping SECS seconds
//   sg-attacktool hlink FILE DIR NEW       name_to_handle_at(FILE), drop the dentry cache,
//                                          open_by_handle_at(O_PATH) (mount fd: DIR; a
//                                          DISCONNECTED dentry where FILE's was evicted), then
//                                          linkat(fd, "", NEW, AT_EMPTY_PATH); prints
//                                          "opened as: " the fd's /proc/self/fd link first
//   sg-attacktool hexec FILE DIR ARGV0 [ARG...]
//                                          the same O_PATH fd by handle, then
//                                          execveat(fd, "", AT_EMPTY_PATH)
//   sg-attacktool hchmod FILE DIR OCTAL    the same O_PATH fd, then chmod("/proc/self/fd/N")
//   sg-attacktool hdir DIR MNTDIR CHILD    the same for a DIRECTORY (O_PATH), then
//                                          openat(fd, CHILD, O_RDONLY) and print it
//   sg-attacktool uropen2 FILE             io_uring IORING_OP_OPENAT2 (RESOLVE_NO_SYMLINKS |
//                                          RESOLVE_NO_MAGICLINKS), then print the file
//   sg-attacktool urrename A B FLAGS       io_uring IORING_OP_RENAMEAT (5.11+), renameat2
//                                          FLAGS (2: RENAME_EXCHANGE)
//   sg-attacktool urlink A B               io_uring IORING_OP_LINKAT (5.15+)
// Prints "ok" (or the data read) and exits 0, or "error: <step>: <strerror>" and exits 1.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/genetlink.h>
#include <linux/if_packet.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif

extern char **environ;

static int error(const char *step)
{
	printf("error: %s: %s\n", step, strerror(errno));
	return 1;
}

static int ok(void)
{
	printf("ok\n");
	return 0;
}

/*
 * One io_uring request through a ring set up by hand (no liburing), as in filetool.c:
 * its result, or -1 with errno set, like a system call.
 */
static int submit(struct io_uring_sqe *req)
{
	struct io_uring_params params;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqe;
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
	cqe = (struct io_uring_cqe *)((char *)cq + params.cq_off.cqes) + (*cq_head & (params.cq_entries - 1));
	close(ring);
	if (cqe->res < 0) {
		errno = -cqe->res;
		return -1;
	}
	return cqe->res;
}

/*
 * An O_PATH descriptor of `file` reopened by file handle after the dentry cache was
 * dropped (a disconnected dentry where the filesystem evicted it), or -1 with the step
 * printed. Prints "opened as: " the descriptor's /proc/self/fd link.
 */
static int by_handle(const char *file, const char *mntdir)
{
	struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
	int mount_id, dc, fd, mfd = open(mntdir, O_RDONLY | O_DIRECTORY);
	char proc[64], link[4096];
	ssize_t n;

	if (!h || mfd < 0) {
		error("open");
		return -1;
	}
	h->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, file, h, &mount_id, 0) < 0) {
		error("name_to_handle_at");
		return -1;
	}
	dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (dc < 0 || write(dc, "2\n", 2) != 2) {
		error("drop_caches");
		return -1;
	}
	close(dc);
	fd = open_by_handle_at(mfd, h, O_PATH);
	if (fd < 0) {
		error("open_by_handle_at");
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	printf("opened as: %.*s\n", n > 0 ? (int)n : 0, link);
	fflush(stdout);
	return fd;
}

static int dump(int fd, const char *step)
{
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return error(step);
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return error("read");
	fwrite(buf, 1, n, stdout);
	return 0;
}

static uint16_t ip_sum(const void *data, size_t len)
{
	const uint16_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static int packet(int raw, const char *src, const char *dst, int port)
{
	struct {
		uint8_t eth[14];
		uint8_t vihl, tos;
		uint16_t len, id, frag;
		uint8_t ttl, proto;
		uint16_t sum;
		uint32_t saddr, daddr;
		uint16_t sport, dport, ulen, usum;
		char data[8];
	} __attribute__((packed)) p = { 0 };
	struct sockaddr_ll ll = { 0 };
	int fd = socket(AF_PACKET, raw ? SOCK_RAW : SOCK_DGRAM, htons(ETH_P_IP));
	size_t off = raw ? 0 : sizeof(p.eth);

	if (fd < 0)
		return error("socket");
	p.eth[12] = 0x08; /* ETH_P_IP; lo's addresses are all zeros */
	p.vihl = 0x45;
	p.len = htons(sizeof(p) - sizeof(p.eth));
	p.ttl = 64;
	p.proto = IPPROTO_UDP;
	inet_pton(AF_INET, src, &p.saddr);
	inet_pton(AF_INET, dst, &p.daddr);
	p.sum = ip_sum(&p.vihl, 20);
	p.sport = htons(40000);
	p.dport = htons(port);
	p.ulen = htons(8 + sizeof(p.data));
	memcpy(p.data, "sgpacket", 8);
	ll.sll_family = AF_PACKET;
	ll.sll_protocol = htons(ETH_P_IP);
	ll.sll_ifindex = if_nametoindex("lo");
	ll.sll_halen = ETH_ALEN; /* lo's address is all zeros */
	if (sendto(fd, (char *)&p + off, sizeof(p) - off, 0, (struct sockaddr *)&ll, sizeof(ll)) < 0)
		return error("sendto");
	return ok();
}

static int send_many(const char *ip, int port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct iovec iov = { .iov_base = "sg", .iov_len = 2 };
	struct mmsghdr m[2];
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n;

	if (fd < 0)
		return error("socket");
	inet_pton(AF_INET, ip, &to.sin_addr);
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 2; i++) {
		m[i].msg_hdr.msg_name = &to;
		m[i].msg_hdr.msg_namelen = sizeof(to);
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	n = sendmmsg(fd, m, 2, 0);
	if (n < 0)
		return error("sendmmsg");
	if (n == 0) {
		printf("error: sendmmsg: sent nothing\n");
		return 1;
	}
	return ok();
}

static int sniff(const char *dst, int ms)
{
	uint8_t want[16], buf[2048];
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)), v6 = strchr(dst, ':') != NULL;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };

	if (fd < 0)
		return error("socket");
	inet_pton(v6 ? AF_INET6 : AF_INET, dst, want);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("listening\n");
	fflush(stdout);
	for (int waited = 0; waited < ms; waited += 100) {
		ssize_t n;

		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
			if (!v6 && n >= 20 && buf[0] >> 4 == 4 && memcmp(buf + 16, want, 4) == 0) {
				printf("seen protocol %d\n", buf[9]);
				return 0;
			}
			if (v6 && n >= 40 && buf[0] >> 4 == 6 && memcmp(buf + 24, want, 16) == 0) {
				printf("seen next header %d\n", buf[6]);
				return 0;
			}
		}
	}
	printf("error: not seen\n");
	return 1;
}

/* Generic netlink for the MPTCP path manager (include/uapi/linux/mptcp.h, whose
 * enums are stable since 5.7). */
#define SG_MPTCP_PM_CMD_ADD_ADDR 1
#define SG_MPTCP_PM_CMD_FLUSH_ADDRS 4
#define SG_MPTCP_PM_CMD_SET_LIMITS 5
#define SG_MPTCP_PM_CMD_SUBFLOW_CREATE 10
#define SG_MPTCP_PM_ATTR_ADDR 1
#define SG_MPTCP_PM_ATTR_RCV_ADD_ADDRS 2
#define SG_MPTCP_PM_ATTR_SUBFLOWS 3
#define SG_MPTCP_PM_ATTR_TOKEN 4
#define SG_MPTCP_PM_ATTR_ADDR_REMOTE 6
#define SG_MPTCP_PM_ADDR_ATTR_FAMILY 1
#define SG_MPTCP_PM_ADDR_ATTR_ID 2
#define SG_MPTCP_PM_ADDR_ATTR_ADDR4 3
#define SG_MPTCP_PM_ADDR_ATTR_PORT 5
#define SG_MPTCP_PM_ADDR_ATTR_FLAGS 6
#define SG_MPTCP_PM_ADDR_FLAG_SIGNAL 1
#define SG_IPPROTO_MPTCP 262
#define SG_SOL_MPTCP 284
#define SG_MPTCP_INFO 1
#define SG_MPTCP_TCPINFO 2
#define SG_MPTCP_SUBFLOW_ADDRS 3

/* struct mptcp_subflow_data and mptcp_subflow_addrs (5.16+) */
struct sg_subflow_data {
	uint32_t size_subflow_data, num_subflows, size_kernel, size_user;
};

struct sg_subflow_addrs {
	struct sockaddr_storage local, remote;
};

struct nlbuf {
	char b[512];
	int len;
};

static struct nlattr *put(struct nlbuf *m, int type, const void *data, int len)
{
	struct nlattr *a = (struct nlattr *)(m->b + m->len);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	m->len += NLA_ALIGN(a->nla_len);
	return a;
}

/* Send the genl message in m (family, command), return the reply's first attrs. */
static int genl(int fd, struct nlbuf *m, int family, int cmd, struct nlbuf *reply)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->b;
	struct genlmsghdr *g = (struct genlmsghdr *)(m->b + NLMSG_HDRLEN);
	struct nlmsgerr *e;
	int n;

	h->nlmsg_len = m->len;
	h->nlmsg_type = family;
	/* a GETFAMILY answers with data (an ACK would wait for the next recv) */
	h->nlmsg_flags = NLM_F_REQUEST | (family == GENL_ID_CTRL ? 0 : NLM_F_ACK);
	g->cmd = cmd;
	g->version = 1;
	if (send(fd, m->b, m->len, 0) < 0)
		return -1;
	n = recv(fd, reply->b, sizeof(reply->b), 0);
	if (n < 0)
		return -1;
	reply->len = n;
	h = (struct nlmsghdr *)reply->b;
	if (h->nlmsg_type == NLMSG_ERROR) {
		e = NLMSG_DATA(h);
		if (e->error) {
			errno = -e->error;
			return -1;
		}
	}
	return 0;
}

/* The mptcp_pm generic netlink family's id on the socket fd, or 0 (printed). */
static int mptcp_family(int fd)
{
	struct nlbuf m = { .len = NLMSG_HDRLEN + GENL_HDRLEN }, r;
	struct nlmsghdr *h;
	struct nlattr *a;
	int family = 0;

	put(&m, CTRL_ATTR_FAMILY_NAME, "mptcp_pm", 9);
	if (genl(fd, &m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, &r) < 0) {
		error("CTRL_CMD_GETFAMILY mptcp_pm");
		return 0;
	}
	h = (struct nlmsghdr *)r.b;
	for (int off = NLMSG_HDRLEN + GENL_HDRLEN; off + NLA_HDRLEN <= (int)h->nlmsg_len;) {
		a = (struct nlattr *)(r.b + off);
		if (a->nla_len < NLA_HDRLEN)
			break;
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(&family, (char *)a + NLA_HDRLEN, 2);
		off += NLA_ALIGN(a->nla_len);
	}
	if (!family)
		printf("error: no mptcp_pm family\n");
	return family;
}

/* A nested IPv4 address attribute (id, port, flags: left out when 0). */
static void put_addr4(struct nlbuf *m, int type, const char *ip, uint8_t id, uint16_t port,
		      uint32_t flags)
{
	uint16_t fam = AF_INET;
	struct in_addr in;
	int start = m->len;
	struct nlattr *a;

	inet_pton(AF_INET, ip, &in);
	a = put(m, type | NLA_F_NESTED, NULL, 0);
	put(m, SG_MPTCP_PM_ADDR_ATTR_FAMILY, &fam, 2);
	if (id)
		put(m, SG_MPTCP_PM_ADDR_ATTR_ID, &id, 1);
	put(m, SG_MPTCP_PM_ADDR_ATTR_ADDR4, &in, 4);
	if (port)
		put(m, SG_MPTCP_PM_ADDR_ATTR_PORT, &port, 2);
	if (flags)
		put(m, SG_MPTCP_PM_ADDR_ATTR_FLAGS, &flags, 4);
	a->nla_len = m->len - start;
}

static int mptcp_pm(char **argv, int argc)
{
	struct nlbuf m = { .len = NLMSG_HDRLEN + GENL_HDRLEN }, r;
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC), family;

	if (fd < 0)
		return error("socket");
	family = mptcp_family(fd);
	if (!family)
		return 1;
	if (argc == 5 && strcmp(argv[2], "limits") == 0) {
		uint32_t adds = atoi(argv[3]), subflows = atoi(argv[4]);

		put(&m, SG_MPTCP_PM_ATTR_RCV_ADD_ADDRS, &adds, 4);
		put(&m, SG_MPTCP_PM_ATTR_SUBFLOWS, &subflows, 4);
		if (genl(fd, &m, family, SG_MPTCP_PM_CMD_SET_LIMITS, &r) < 0)
			return error("MPTCP_PM_CMD_SET_LIMITS");
	} else if ((argc == 5 || argc == 6) && strcmp(argv[2], "signal") == 0) {
		put_addr4(&m, SG_MPTCP_PM_ATTR_ADDR, argv[3], atoi(argv[4]),
			  argc == 6 ? atoi(argv[5]) : 0, SG_MPTCP_PM_ADDR_FLAG_SIGNAL);
		if (genl(fd, &m, family, SG_MPTCP_PM_CMD_ADD_ADDR, &r) < 0)
			return error("MPTCP_PM_CMD_ADD_ADDR");
	} else if (argc == 3 && strcmp(argv[2], "flush") == 0) {
		if (genl(fd, &m, family, SG_MPTCP_PM_CMD_FLUSH_ADDRS, &r) < 0)
			return error("MPTCP_PM_CMD_FLUSH_ADDRS");
	} else {
		printf("error: mptcp-pm limits|signal|flush\n");
		return 1;
	}
	printf("ok\n");
	return 0;
}

/* Print each subflow of the MPTCP socket fd: its peer and TCP state. */
static int mptcp_subflows(int fd)
{
	struct {
		struct sg_subflow_data d;
		struct sg_subflow_addrs a[4];
	} addrs;
	struct {
		struct sg_subflow_data d;
		struct tcp_info t[4];
	} infos;
	socklen_t len = sizeof(addrs);
	char ip[INET6_ADDRSTRLEN];

	memset(&addrs, 0, sizeof(addrs));
	memset(&infos, 0, sizeof(infos));
	addrs.d.size_subflow_data = sizeof(addrs.d);
	addrs.d.size_user = sizeof(addrs.a[0]);
	if (getsockopt(fd, SG_SOL_MPTCP, SG_MPTCP_SUBFLOW_ADDRS, &addrs, &len) < 0)
		return error("MPTCP_SUBFLOW_ADDRS");
	len = sizeof(infos);
	infos.d.size_subflow_data = sizeof(infos.d);
	infos.d.size_user = sizeof(infos.t[0]);
	if (getsockopt(fd, SG_SOL_MPTCP, SG_MPTCP_TCPINFO, &infos, &len) < 0)
		return error("MPTCP_TCPINFO");
	for (uint32_t i = 0; i < addrs.d.num_subflows && i < 4; i++) {
		struct sockaddr_in *r = (struct sockaddr_in *)&addrs.a[i].remote;

		inet_ntop(AF_INET, &r->sin_addr, ip, sizeof(ip));
		printf("subflow %s:%d state %d\n", ip, ntohs(r->sin_port),
		       i < infos.d.num_subflows ? infos.t[i].tcpi_state : -1);
	}
	return 0;
}

/* Ask the userspace path manager for a subflow LOCAL -> REMOTE:PORT of the MPTCP
 * connection fd (its token from MPTCP_INFO); prints "create: ok" or the error. */
static int mptcp_us_create(int fd, const char *local, const char *remote, int port)
{
	struct nlbuf m = { .len = NLMSG_HDRLEN + GENL_HDRLEN }, r;
	int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC), family;
	struct mptcp_info_head {
		uint8_t counts[6];
		uint32_t flags, token;
		uint64_t more[8];
	} info;
	socklen_t len = sizeof(info);

	if (nl < 0)
		return error("socket");
	family = mptcp_family(nl);
	if (!family)
		return 1;
	/* the kernel connects a subflow only once the connection is fully established:
	 * the peer's acknowledgement of data (with MPTCP's data ack) makes it so */
	if (write(fd, "sg", 2) != 2)
		return error("write");
	usleep(500 * 1000);
	memset(&info, 0, sizeof(info));
	if (getsockopt(fd, SG_SOL_MPTCP, SG_MPTCP_INFO, &info, &len) < 0)
		return error("MPTCP_INFO");
	put(&m, SG_MPTCP_PM_ATTR_TOKEN, &info.token, 4);
	put_addr4(&m, SG_MPTCP_PM_ATTR_ADDR, local, 23, 0, 0);
	put_addr4(&m, SG_MPTCP_PM_ATTR_ADDR_REMOTE, remote, 0, port, 0);
	if (genl(nl, &m, family, SG_MPTCP_PM_CMD_SUBFLOW_CREATE, &r) < 0)
		printf("create: error: %s\n", strerror(errno));
	else
		printf("create: ok\n");
	fflush(stdout);
	return 0;
}

/* An MPTCP connection (serve: accepted on IP:PORT) held open MS milliseconds, so that
 * the path manager can add subflows. */
static int mptcp_hold(int serve, const char *ip, int port, int ms, const char *us_local,
		      const char *us_remote, int us_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, SG_IPPROTO_MPTCP), one = 1, c = -1;

	if (fd < 0)
		return error("socket");
	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (serve) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
			return error("listen");
		printf("listening\n");
		fflush(stdout);
		c = accept(fd, NULL, NULL);
		if (c < 0)
			return error("accept");
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		return error("connect");
	}
	if (us_local && mptcp_us_create(serve ? c : fd, us_local, us_remote, us_port))
		return 1;
	usleep(ms * 1000);
	if ((!serve || us_local) && mptcp_subflows(serve ? c : fd))
		return 1;
	printf("ok\n");
	return 0;
}

static int srr(const char *how, const char *via, const char *dst, int port)
{
	/* NOP, LSRR (length 7, pointer 4), the first hop */
	uint8_t opt[8] = { 1, 0x83, 7, 4 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int tcp = strcmp(how, "tcp") == 0;
	int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);

	if (fd < 0)
		return error("socket");
	inet_pton(AF_INET, via, opt + 4);
	inet_pton(AF_INET, dst, &to.sin_addr);
	if (strcmp(how, "cmsg") == 0) {
		char control[CMSG_SPACE(sizeof(opt))] = { 0 };
		struct iovec iov = { .iov_base = "sg", .iov_len = 2 };
		struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov,
				    .msg_iovlen = 1, .msg_control = control,
				    .msg_controllen = sizeof(control) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_RETOPTS;
		c->cmsg_len = CMSG_LEN(sizeof(opt));
		memcpy(CMSG_DATA(c), opt, sizeof(opt));
		if (sendmsg(fd, &m, 0) < 0)
			return error("sendmsg");
		return ok();
	}
	if (setsockopt(fd, IPPROTO_IP, IP_OPTIONS, opt, sizeof(opt)) < 0)
		return error("setsockopt");
	if (tcp) {
		struct timeval tv = { .tv_sec = 1 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno == EPERM)
			return error("connect");
		return ok(); /* the SYN left (the connect itself may time out) */
	}
	if (sendto(fd, "sg", 2, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return error("sendto");
	return ok();
}

static int rthdr(const char *via, const char *dst, int port)
{
	/* next header (filled by the kernel), length 2 (x8 bytes beyond the first 8),
	 * type 2, segments left 1, reserved, the address */
	uint8_t rh[24] = { 0, 2, 2, 1 };
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	char control[CMSG_SPACE(sizeof(rh))] = { 0 };
	struct iovec iov = { .iov_base = "sg", .iov_len = 2 };
	struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0)
		return error("socket");
	inet_pton(AF_INET6, via, rh + 8);
	inet_pton(AF_INET6, dst, &to.sin6_addr);
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_RTHDR;
	c->cmsg_len = CMSG_LEN(sizeof(rh));
	memcpy(CMSG_DATA(c), rh, sizeof(rh));
	if (sendmsg(fd, &m, 0) < 0)
		return error("sendmsg");
	return ok();
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (argc >= 3 && strcmp(cmd, "mptcp-pm") == 0)
		return mptcp_pm(argv, argc);
	if (argc == 5 && (strcmp(cmd, "mptcp-serve") == 0 || strcmp(cmd, "mptcp-connect") == 0))
		return mptcp_hold(strcmp(cmd, "mptcp-serve") == 0, argv[2], atoi(argv[3]), atoi(argv[4]),
				  NULL, NULL, 0);
	if (argc == 8 && (strcmp(cmd, "mptcp-us") == 0 || strcmp(cmd, "mptcp-us-serve") == 0))
		return mptcp_hold(strcmp(cmd, "mptcp-us-serve") == 0, argv[2], atoi(argv[3]), atoi(argv[7]),
				  argv[4], argv[5], atoi(argv[6]));
	if (argc == 3 && strcmp(cmd, "openat2") == 0) {
		struct open_how how = { .flags = O_RDONLY,
					.resolve = RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };

		return dump(syscall(SYS_openat2, AT_FDCWD, argv[2], &how, sizeof(how)), "openat2");
	}
	if (argc >= 4 && strcmp(cmd, "opath-exec") == 0) {
		int fd = open(argv[2], O_PATH);

		if (fd < 0)
			return error("open");
		syscall(SYS_execveat, fd, "", &argv[3], environ, AT_EMPTY_PATH);
		return error("execveat");
	}
	if (argc == 4 && strcmp(cmd, "handle") == 0) {
		struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
		int mount_id, mfd = open(argv[3], O_RDONLY | O_DIRECTORY);

		if (!h || mfd < 0)
			return error("open");
		h->handle_bytes = MAX_HANDLE_SZ;
		if (name_to_handle_at(AT_FDCWD, argv[2], h, &mount_id, 0) < 0)
			return error("name_to_handle_at");
		return dump(open_by_handle_at(mfd, h, O_RDONLY), "open_by_handle_at");
	}
	if (argc == 3 && strcmp(cmd, "fdmap") == 0) {
		int fd = atoi(argv[2]);
		struct stat st;
		char *p;

		if (fstat(fd, &st) < 0)
			return error("fstat");
		p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			return error("mmap");
		fwrite(p, 1, st.st_size, stdout);
		return 0;
	}
	if (argc >= 4 && strcmp(cmd, "fdexec") == 0) {
		syscall(SYS_execveat, atoi(argv[2]), "", &argv[3], environ, AT_EMPTY_PATH);
		return error("execveat");
	}
	if (argc == 3 && strcmp(cmd, "fdsendfile") == 0) {
		fflush(stdout);
		if (sendfile(1, atoi(argv[2]), NULL, 4096) < 0)
			return error("sendfile");
		return 0;
	}
	if (argc == 4 && strcmp(cmd, "chown-opath") == 0) {
		int fd = open(argv[2], O_PATH);

		if (fd < 0)
			return error("open");
		if (fchownat(fd, "", atoi(argv[3]), -1, AT_EMPTY_PATH) < 0)
			return error("fchownat");
		return ok();
	}
	if (argc == 4 && strcmp(cmd, "chmod-opath") == 0) {
		int fd = open(argv[2], O_PATH);
		mode_t mode = strtoul(argv[3], NULL, 8);
		char proc[64];

		if (fd < 0)
			return error("open");
		if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
			return ok();
		if (errno != ENOSYS)
			return error("fchmodat2");
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (chmod(proc, mode) < 0)
			return error("chmod");
		return ok();
	}
	if (argc == 4 && strcmp(cmd, "whiteout") == 0) {
		if (syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], RENAME_WHITEOUT) < 0)
			return error("renameat2");
		return ok();
	}
	if (argc == 4 && strcmp(cmd, "exchange") == 0) {
		if (syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], RENAME_EXCHANGE) < 0)
			return error("renameat2");
		return ok();
	}
	if (argc == 4 && strcmp(cmd, "tmpfile-link") == 0) {
		int fd = open(argv[2], O_TMPFILE | O_WRONLY, 0644);

		if (fd < 0)
			return error("open O_TMPFILE");
		if (write(fd, "x\n", 2) != 2)
			return error("write");
		if (linkat(fd, "", AT_FDCWD, argv[3], AT_EMPTY_PATH) < 0)
			return error("linkat");
		return ok();
	}
	if (argc == 3 && strcmp(cmd, "open3trunc") == 0) {
		if (open(argv[2], 3 | O_TRUNC) < 0)
			return error("open");
		return ok();
	}
	if (argc == 3 && strcmp(cmd, "urmkdir") == 0) {
		struct io_uring_sqe req = { .opcode = IORING_OP_MKDIRAT, .fd = AT_FDCWD, .len = 0755 };

		req.addr = (unsigned long)argv[2];
		if (submit(&req) < 0)
			return error("IORING_OP_MKDIRAT");
		return ok();
	}
	if (argc == 4 && strcmp(cmd, "ursymlink") == 0) {
		struct io_uring_sqe req = { .opcode = IORING_OP_SYMLINKAT, .fd = AT_FDCWD };

		req.addr = (unsigned long)argv[2];
		req.addr2 = (unsigned long)argv[3];
		if (submit(&req) < 0)
			return error("IORING_OP_SYMLINKAT");
		return ok();
	}
	if (argc == 4 && strcmp(cmd, "handle-drop") == 0) {
		struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
		int mount_id, dc, fd, mfd = open(argv[3], O_RDONLY | O_DIRECTORY);

		if (!h || mfd < 0)
			return error("open");
		h->handle_bytes = MAX_HANDLE_SZ;
		if (name_to_handle_at(AT_FDCWD, argv[2], h, &mount_id, 0) < 0)
			return error("name_to_handle_at");
		dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
		if (dc < 0 || write(dc, "2\n", 2) != 2)
			return error("drop_caches");
		close(dc);
		fd = open_by_handle_at(mfd, h, O_RDONLY);
		if (fd >= 0) {
			char proc[64], link[4096];
			ssize_t n;

			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			n = readlink(proc, link, sizeof(link) - 1);
			printf("opened as: %.*s\n", n > 0 ? (int)n : 0, link);
		}
		return dump(fd, "open_by_handle_at");
	}
	if (argc == 3 && strcmp(cmd, "unixbind") == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		strncpy(sa.sun_path, argv[2], sizeof(sa.sun_path) - 1);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return error("bind");
		return ok();
	}
	if (argc == 4 && strcmp(cmd, "hold-map") == 0) {
		int fd = open(argv[2], O_RDONLY);

		if (fd < 0 || mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
			return error("mmap");
		close(fd);
		printf("mapped\n");
		fflush(stdout);
		sleep(atoi(argv[3]));
		return ok();
	}
	if (argc == 5 && strcmp(cmd, "hlink") == 0) {
		int fd = by_handle(argv[2], argv[3]);

		if (fd < 0)
			return 1;
		if (linkat(fd, "", AT_FDCWD, argv[4], AT_EMPTY_PATH) < 0)
			return error("linkat");
		return ok();
	}
	if (argc >= 5 && strcmp(cmd, "hexec") == 0) {
		int fd = by_handle(argv[2], argv[3]);

		if (fd < 0)
			return 1;
		syscall(SYS_execveat, fd, "", &argv[4], environ, AT_EMPTY_PATH);
		return error("execveat");
	}
	if (argc == 5 && strcmp(cmd, "hchmod") == 0) {
		int fd = by_handle(argv[2], argv[3]);
		char proc[64];

		if (fd < 0)
			return 1;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (chmod(proc, strtoul(argv[4], NULL, 8)) < 0)
			return error("chmod");
		return ok();
	}
	if (argc == 5 && strcmp(cmd, "hdir") == 0) {
		int fd = by_handle(argv[2], argv[3]);

		if (fd < 0)
			return 1;
		return dump(openat(fd, argv[4], O_RDONLY), "openat");
	}
	if (argc == 3 && strcmp(cmd, "uropen2") == 0) {
		struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
		struct io_uring_sqe req = { .opcode = IORING_OP_OPENAT2, .fd = AT_FDCWD, .len = sizeof(how) };

		req.addr = (unsigned long)argv[2];
		req.addr2 = (unsigned long)&how;
		return dump(submit(&req), "IORING_OP_OPENAT2");
	}
	if (argc == 5 && strcmp(cmd, "urrename") == 0) {
		struct io_uring_sqe req = { .opcode = IORING_OP_RENAMEAT, .fd = AT_FDCWD, .len = AT_FDCWD };

		req.addr = (unsigned long)argv[2];
		req.addr2 = (unsigned long)argv[3];
		req.rename_flags = strtoul(argv[4], NULL, 0);
		if (submit(&req) < 0)
			return error("IORING_OP_RENAMEAT");
		return ok();
	}
	if (argc == 4 && strcmp(cmd, "urlink") == 0) {
		struct io_uring_sqe req = { .opcode = IORING_OP_LINKAT, .fd = AT_FDCWD, .len = AT_FDCWD };

		req.addr = (unsigned long)argv[2];
		req.addr2 = (unsigned long)argv[3];
		if (submit(&req) < 0)
			return error("IORING_OP_LINKAT");
		return ok();
	}
	if (argc == 4 && strcmp(cmd, "sendmmsg") == 0)
		return send_many(argv[2], atoi(argv[3]));
	if (argc == 6 && strcmp(cmd, "packet") == 0)
		return packet(strcmp(argv[2], "raw") == 0, argv[3], argv[4], atoi(argv[5]));
	if (argc == 4 && strcmp(cmd, "sniff") == 0)
		return sniff(argv[2], atoi(argv[3]));
	if (argc == 6 && strcmp(cmd, "srr") == 0)
		return srr(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (argc == 5 && strcmp(cmd, "rthdr") == 0)
		return rthdr(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: see tests/vm/attacktool.c\n");
	return 2;
}
