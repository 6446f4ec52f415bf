// sg-interp and sg-interp-main: the process-interp scenario's programs, without libc.
// Built by initramfs.sh: sg-interp as a static PIE (it can run as an ELF interpreter),
// sg-interp-main as a PIE whose PT_INTERP is /tmp/sg-interp (a name the scenario points
// at a denied or an allowed file). Each prints its MESSAGE and exits 0.
#ifdef __aarch64__
#define SG_NR_WRITE 64
#define SG_NR_EXIT 93
static long sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;

	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}
#else
#define SG_NR_WRITE 1
#define SG_NR_EXIT 60
static long sys3(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}
#endif

void _start(void)
{
	static const char msg[] = MESSAGE "\n";

	sys3(SG_NR_WRITE, 1, (long)msg, sizeof(msg) - 1);
	sys3(SG_NR_EXIT, 0, 0, 0);
	for (;;)
		;
}
