// sg-exit CODE: ends the aarch64 test guest and makes qemu exit with status CODE, through
// Arm semihosting (SYS_EXIT with ADP_Stopped_ApplicationExit and a subcode). qemu must run
// with -semihosting-config enable=on,target=native,userspace=on; without it the HLT traps
// and the program dies with SIGILL, and init falls back to powering off.
// aarch64 only: x86_64 guests use isa-debug-exit (init.sh).
#include <stdio.h>
#include <stdlib.h>

static unsigned long block[2] = { 0x20026 /* ADP_Stopped_ApplicationExit */, 0 };

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	block[1] = strtoul(argv[1], NULL, 0);

	// Set right before the HLT: a function call in between would clobber x0.
	register unsigned long x0 __asm__("x0") = 0x18; /* SYS_EXIT */
	register unsigned long x1 __asm__("x1") = (unsigned long)block;
	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	fprintf(stderr, "sg-exit: semihosting SYS_EXIT returned %#lx\n", x0);
	return 1;
}
