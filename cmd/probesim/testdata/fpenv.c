/* fpenv: print the floating-point environment a process starts with, then
 * compute with it. Linux starts every process with the x87 control word 0x37f
 * (all exceptions masked, 64-bit mantissa, round to nearest) and MXCSR 0x1f80
 * (arch/x86/kernel/fpu/core.c fpstate_init_fx). The output is the same on
 * every run, so the tests compare it byte for byte with a native run. */
#include <stdio.h>

int main(void)
{
	unsigned short cw;
	unsigned int mxcsr;
	volatile long double third = 1.0L;
	volatile double zero = 0.0, one = 1.0;

	__asm__ volatile("fnstcw %0" : "=m"(cw));
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	printf("fcw=%#x mxcsr=%#x\n", cw, mxcsr);

	/* Reloading the control word makes an emulator apply its precision field. */
	__asm__ volatile("fldcw %0" : : "m"(cw));
	third /= 3;
	printf("third=%.20Lf\n", (long double)third);
	printf("one/zero=%f\n", one / zero);
	return 0;
}
