// The benchmark loops, run inside the guest. Under qemu -icount shift=0 the guest's
// clock counts instructions, so the elapsed "nanoseconds" printed here repeat to ~0.1%.
//   loop open PATH N        N x open(PATH, O_RDONLY) + close
//   loop connect ADDR PORT N  N x socket + connect(ADDR:PORT) + close (IPv4, TCP)
//   loop exec PROG N        N x fork + execve(PROG, [PROG, "nop"]) + waitpid
//   loop nop                exits 0 at once (what `loop exec` runs as PROG: this program)
// Prints the elapsed clock in ns on stdout; with SG_LOOP_CLOCK=cpu the CPU time of this
// process instead (what the loop itself spent, hooks included: not the agent's threads,
// which a one-vCPU guest runs in between and which the elapsed clock would count too).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static clockid_t clock_id = CLOCK_MONOTONIC;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(clock_id, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long long start, n, i;
	const char *clock_name = getenv("SG_LOOP_CLOCK");

	if (clock_name && strcmp(clock_name, "cpu") == 0)
		clock_id = CLOCK_PROCESS_CPUTIME_ID;

	if (argc == 2 && strcmp(argv[1], "nop") == 0)
		return 0;
	if (argc == 4 && strcmp(argv[1], "exec") == 0) {
		char *child_argv[] = { argv[2], "nop", NULL };
		char *child_envp[] = { NULL };

		n = atoll(argv[3]);
		start = now_ns();
		for (i = 0; i < n; i++) {
			int status;
			pid_t pid = fork();

			if (pid < 0) {
				perror("fork");
				return 1;
			}
			if (pid == 0) {
				execve(argv[2], child_argv, child_envp);
				_exit(127);
			}
			if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "exec: %s failed\n", argv[2]);
				return 1;
			}
		}
	} else if (argc == 4 && strcmp(argv[1], "open") == 0) {
		n = atoll(argv[3]);
		start = now_ns();
		for (i = 0; i < n; i++) {
			int fd = open(argv[2], O_RDONLY);

			if (fd < 0) {
				perror("open");
				return 1;
			}
			close(fd);
		}
	} else if (argc == 5 && strcmp(argv[1], "connect") == 0) {
		struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };

		inet_pton(AF_INET, argv[2], &addr.sin_addr);
		n = atoll(argv[4]);
		start = now_ns();
		for (i = 0; i < n; i++) {
			int fd = socket(AF_INET, SOCK_STREAM, 0);

			if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
				perror("connect");
				return 1;
			}
			close(fd);
		}
	} else {
		fprintf(stderr, "usage: loop open PATH N | loop connect ADDR PORT N | loop exec PROG N | loop nop\n");
		return 2;
	}
	printf("%lld\n", now_ns() - start);
	return 0;
}
