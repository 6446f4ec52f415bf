// sg-interp and sg-interp-main: the process-interp scenario's programs, without libc.
// Built by initramfs.sh: sg-interp as a static PIE (it can run as an ELF interpreter),
// sg-interp-main as a PIE whose PT_INTERP is /tmp/sg-interp (a name the scenario points
// at a denied or an allowed file). Each prints its MESSAGE and exits 0.
static long sys3(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

void _start(void)
{
	static const char msg[] = MESSAGE "\n";

	sys3(1 /* write */, 1, (long)msg, sizeof(msg) - 1);
	sys3(60 /* exit */, 0, 0, 0);
	for (;;)
		;
}
