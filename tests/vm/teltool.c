// sg-teltool: the telemetry scenario's workloads (tests/vm/scenarios/telemetry.sh), with
// known counts; built statically into the guest by initramfs.sh, never part of the product.
//   sg-teltool burn MS              spin on the CPU for MS milliseconds of wall time
//   sg-teltool burn-thread MS       a second thread spins MS ms and exits; the process
//                                   stays 3 s more (its CPU time is a gone thread's)
//   sg-teltool burn-zombie MS       a child spins MS ms and exits; reaped 5 s later
//                                   (prints the child's pid)
//   sg-teltool burn-exec MS         a second thread spins MS ms, then execs
//                                   `sg-teltool burn MS` (it takes the leader's pid)
//   sg-teltool pingpong N           N round trips of one byte between this process and a
//                                   child over two pipes (each side blocks N times)
//   sg-teltool udp PORT COUNT SIZE  a child receives on 127.0.0.1:PORT while this process
//                                   sends it COUNT datagrams of SIZE bytes, one at a time
//                                   (the child acknowledges each through a pipe, so none
//                                   is lost to a full socket buffer)
//   sg-teltool udp6 PORT COUNT SIZE the same over [::1]
//   sg-teltool udp-closed PORT COUNT  COUNT datagrams to 127.0.0.1:PORT, where nothing listens
//   sg-teltool tcp PORT COUNT SIZE  a child accepts one connection on 127.0.0.1:PORT,
//                                   peeks, splices half to a pipe, reads the rest with
//                                   MSG_WAITALL; this
//                                   process connects and writes COUNT blocks of SIZE
//                                   bytes (the child exits 4 unless it read COUNT x SIZE)
//   sg-teltool forward COUNT         COUNT IPv4 packets from 10.1.0.2 to 10.2.0.9 (TTL 2)
//                                   injected on lo as if received there (AF_PACKET): with
//                                   ip_forward on and 10.2.0.0/24 routed to lo, each is
//                                   forwarded out lo, comes back in and dies of its TTL
// Prints "pid P child C" (C: 0 without a child), for pingpong and udp "ns N" (the clock's
// nanoseconds the loop took: instructions under qemu -icount, for bench-telemetry.sh),
// then "ok"; or "error: ..." and exits 1.
#define _GNU_SOURCE /* splice */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int die(const char *what)
{
	printf("error: %s: %m\n", what);
	return 1;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long now_ms(void)
{
	return now_ns() / 1000000;
}

static struct sockaddr_in local(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return addr;
}

static int reap(pid_t child)
{
	int status = 0;

	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("error: child failed (status %d)\n", status);
		return 1;
	}
	return 0;
}

static int burn(long long ms)
{
	volatile unsigned long spins = 0;
	long long end = now_ms() + ms;

	printf("pid %d child 0\n", getpid());
	fflush(stdout);
	while (now_ms() < end)
		for (int i = 0; i < 100000; i++)
			spins++;
	return 0;
}

static void *spin(void *ms)
{
	volatile unsigned long spins = 0;
	long long end = now_ms() + *(long long *)ms;

	while (now_ms() < end)
		for (int i = 0; i < 100000; i++)
			spins++;
	return NULL;
}

static int burn_thread(long long ms)
{
	pthread_t thread;

	printf("pid %d child 0\n", getpid());
	fflush(stdout);
	if (pthread_create(&thread, NULL, spin, &ms) != 0 || pthread_join(thread, NULL) != 0)
		return die("thread");
	sleep(3);
	return 0;
}

static int burn_zombie(long long ms)
{
	pid_t child = fork();

	if (child < 0)
		return die("fork");
	if (child == 0) {
		spin(&ms);
		_exit(0);
	}
	printf("pid %d child %d\n", getpid(), child);
	fflush(stdout);
	sleep(5);
	return reap(child);
}

static void *spin_and_exec(void *arg)
{
	char **argv = arg;
	long long ms = atoll(argv[2]);

	spin(&ms);
	execv("/proc/self/exe", (char *[]){ "sg-teltool", "burn", argv[2], NULL });
	printf("error: execv: %m\n");
	exit(1);
}

static int burn_exec(char **argv)
{
	pthread_t thread;

	if (pthread_create(&thread, NULL, spin_and_exec, argv) != 0)
		return die("thread");
	pthread_join(thread, NULL);
	return 1;
}

static int pingpong(long n)
{
	int there[2], back[2];
	char byte = 'x';
	pid_t child;

	if (pipe(there) || pipe(back))
		return die("pipe");
	child = fork();
	if (child < 0)
		return die("fork");
	if (child == 0) {
		for (long i = 0; i < n; i++)
			if (read(there[0], &byte, 1) != 1 || write(back[1], &byte, 1) != 1)
				_exit(1);
		_exit(0);
	}
	long long start = now_ns();

	printf("pid %d child %d\n", getpid(), child);
	fflush(stdout);
	for (long i = 0; i < n; i++)
		if (write(there[1], &byte, 1) != 1 || read(back[0], &byte, 1) != 1)
			return die("pipe round trip");
	printf("ns %lld\n", now_ns() - start);
	return reap(child);
}

static int udp(int family, int port, long count, size_t size)
{
	struct sockaddr_in addr4 = local(port);
	struct sockaddr_in6 addr6 = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr *addr = family == AF_INET6 ? (struct sockaddr *)&addr6 : (struct sockaddr *)&addr4;
	socklen_t addr_len = family == AF_INET6 ? sizeof(addr6) : sizeof(addr4);
	int ack[2], ready[2], fd;
	char *buf = calloc(1, size + 1);
	char byte = 0;
	pid_t child;

	if (!buf || pipe(ack) || pipe(ready))
		return die("setup");
	child = fork();
	if (child < 0)
		return die("fork");
	if (child == 0) {
		fd = socket(family, SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, addr, addr_len))
			_exit(2);
		if (write(ready[1], &byte, 1) != 1)
			_exit(3);
		for (long i = 0; i < count; i++) {
			if (recv(fd, buf, size + 1, 0) != (ssize_t)size)
				_exit(4);
			if (write(ack[1], &byte, 1) != 1)
				_exit(5);
		}
		_exit(0);
	}
	printf("pid %d child %d\n", getpid(), child);
	fflush(stdout);
	if (read(ready[0], &byte, 1) != 1)
		return die("receiver did not start");
	fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0)
		return die("socket");
	long long start = now_ns();

	for (long i = 0; i < count; i++) {
		if (sendto(fd, buf, size, 0, addr, addr_len) != (ssize_t)size)
			return die("sendto");
		if (read(ack[0], &byte, 1) != 1)
			return die("receiver stopped");
	}
	printf("ns %lld\n", now_ns() - start);
	return reap(child);
}

static int udp_closed(int port, long count)
{
	struct sockaddr_in addr = local(port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return die("socket");
	printf("pid %d child 0\n", getpid());
	for (long i = 0; i < count; i++)
		if (sendto(fd, "drop", 4, 0, (struct sockaddr *)&addr, sizeof(addr)) != 4)
			return die("sendto");
	return 0;
}

static int tcp(int port, long count, size_t size)
{
	struct sockaddr_in addr = local(port);
	int one = 1, listener = socket(AF_INET, SOCK_STREAM, 0), fd;
	char *buf = calloc(1, size);
	pid_t child;

	if (!buf || listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(listener, (struct sockaddr *)&addr, sizeof(addr)) || listen(listener, 1))
		return die("listen");
	child = fork();
	if (child < 0)
		return die("fork");
	if (child == 0) {
		long long want = count * (long long)size, got = 0;
		char *all = calloc(1, want + 1);
		ssize_t n = 1;

		fd = accept(listener, NULL, NULL);
		if (!all || fd < 0)
			_exit(2);
		int through[2];

		/* A peek (nothing read); the first half spliced to a pipe (tcp_splice_read,
		 * not recvmsg) and read from there; the rest by reads that wait until they
		 * have all they ask for (MSG_WAITALL: tcp_recvmsg reports its progress to
		 * tcp_cleanup_rbuf before each wait); then the end of the stream. */
		if (recv(fd, all, size, MSG_PEEK) <= 0 || pipe(through))
			_exit(3);
		while (got < want / 2) {
			ssize_t moved = splice(fd, NULL, through[1], NULL, want / 2 - got, 0);

			if (moved <= 0)
				_exit(5);
			for (; moved > 0; moved -= n, got += n)
				if ((n = read(through[0], all + got, moved)) <= 0)
					_exit(5);
		}
		while (got < want && (n = recv(fd, all + got, want - got, MSG_WAITALL)) > 0)
			got += n;
		if (n > 0)
			n = recv(fd, all, 1, 0);
		_exit(n == 0 && got == want ? 0 : 4);
	}
	close(listener);
	printf("pid %d child %d\n", getpid(), child);
	fflush(stdout);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		kill(child, SIGKILL); /* else it waits in accept for ever */
		return die("connect");
	}
	for (long i = 0; i < count; i++)
		if (write(fd, buf, size) != (ssize_t)size) {
			kill(child, SIGKILL);
			return die("write");
		}
	close(fd);
	return reap(child);
}

/* The Internet checksum of an IPv4 header. */
static unsigned short ip_checksum(const unsigned char *header, int len)
{
	unsigned long sum = 0;

	for (int i = 0; i < len; i += 2)
		sum += (header[i] << 8) | header[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum;
}

static int forward(long count)
{
	/* 20 bytes of IPv4 header (TTL 2, UDP) and 8 of UDP header, no payload */
	unsigned char packet[28] = {
		0x45, 0, 0, 28, 0, 0, 0, 0, 2, IPPROTO_UDP, 0, 0,
		10, 1, 0, 2, 10, 2, 0, 9,
		0x30, 0x39, 0x30, 0x39, 0, 8, 0, 0,
	};
	unsigned short checksum = ip_checksum(packet, 20);
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = (int)if_nametoindex("lo"),
		.sll_halen = ETH_ALEN, /* lo's address: all zeros, so the packet is for this host */
	};
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));

	if (fd < 0)
		return die("socket(AF_PACKET)");
	if (!to.sll_ifindex)
		return die("if_nametoindex(lo)");
	packet[10] = checksum >> 8;
	packet[11] = checksum & 0xff;
	printf("pid %d child 0\n", getpid());
	for (long i = 0; i < count; i++)
		if (sendto(fd, packet, sizeof(packet), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(packet))
			return die("sendto");
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc == 3 && strcmp(argv[1], "burn") == 0)
		rc = burn(atoll(argv[2]));
	else if (argc == 3 && strcmp(argv[1], "burn-thread") == 0)
		rc = burn_thread(atoll(argv[2]));
	else if (argc == 3 && strcmp(argv[1], "burn-zombie") == 0)
		rc = burn_zombie(atoll(argv[2]));
	else if (argc == 3 && strcmp(argv[1], "burn-exec") == 0)
		rc = burn_exec(argv);
	else if (argc == 3 && strcmp(argv[1], "pingpong") == 0)
		rc = pingpong(atol(argv[2]));
	else if (argc == 5 && strcmp(argv[1], "udp") == 0)
		rc = udp(AF_INET, atoi(argv[2]), atol(argv[3]), (size_t)atol(argv[4]));
	else if (argc == 5 && strcmp(argv[1], "udp6") == 0)
		rc = udp(AF_INET6, atoi(argv[2]), atol(argv[3]), (size_t)atol(argv[4]));
	else if (argc == 4 && strcmp(argv[1], "udp-closed") == 0)
		rc = udp_closed(atoi(argv[2]), atol(argv[3]));
	else if (argc == 5 && strcmp(argv[1], "tcp") == 0)
		rc = tcp(atoi(argv[2]), atol(argv[3]), (size_t)atol(argv[4]));
	else if (argc == 3 && strcmp(argv[1], "forward") == 0)
		rc = forward(atol(argv[2]));
	else {
		fprintf(stderr, "usage: see tests/vm/teltool.c\n");
		return 2;
	}
	if (rc == 0)
		printf("ok\n");
	return rc;
}
