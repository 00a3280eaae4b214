/* sigprobe: signals and faults around a probed function.
 *
 *   sigprobe signals N   calls probed() N times on the main thread while
 *                        a second thread spins; the test sends SIGUSR1 to
 *                        the main thread from its probe handler; prints
 *                        how many calls and how many handler runs.
 *   sigprobe fault       calls touch() with a good pointer, then a bad
 *                        one: its load faults; the SIGSEGV handler prints
 *                        whether the interrupted ip is touch_load (the
 *                        probed instruction) and the fault address.
 *   sigprobe die         the same without a handler: the process dies. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

static volatile int handled, stop;
static volatile long calls;

__attribute__((noinline)) void probed(void) { calls++; }

static void on_usr1(int sig) { (void)sig; handled++; }

static void *spin(void *arg)
{
	(void)arg;
	volatile long x = 0;
	while (!stop)
		x++;
	return NULL;
}

/* touch: the load at touch_load is the probed instruction. */
extern int touch(int *p);
extern char touch_load[];
#if defined(__x86_64__)
__asm__(".globl touch\n.globl touch_load\ntouch:\ntouch_load:\n\tmovl (%rdi), %eax\n\tret\n");
#else
__asm__(".globl touch\n.globl touch_load\ntouch:\n\tmovl 4(%esp), %ecx\ntouch_load:\n\tmovl (%ecx), %eax\n\tret\n");
#endif

static sigjmp_buf jump;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig;
#if defined(__x86_64__)
	unsigned long ip = uc->uc_mcontext.gregs[REG_RIP];
#else
	unsigned long ip = uc->uc_mcontext.gregs[REG_EIP];
#endif
	printf("fault at the probed instruction: %s\n", ip == (unsigned long)touch_load ? "yes" : "no");
	printf("fault address: %p\n", si->si_addr);
	siglongjmp(jump, 1);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "signals") == 0) {
		long n = atol(argv[2]);
		struct sigaction sa = {0};
		sa.sa_handler = on_usr1;
		sigaction(SIGUSR1, &sa, NULL);
		pthread_t t;
		pthread_create(&t, NULL, spin, NULL);
		for (long i = 0; i < n; i++)
			probed();
		stop = 1;
		pthread_join(t, NULL);
		printf("calls=%ld handled=%d\n", calls, handled);
		return 0;
	}
	int good = 5;
	if (argc >= 2 && strcmp(argv[1], "fault") == 0) {
		struct sigaction sa = {0};
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
		printf("good: %d\n", touch(&good));
		if (sigsetjmp(jump, 1) == 0)
			touch((int *)64);
		printf("survived\n");
		return 0;
	}
	printf("good: %d\n", touch(&good));
	fflush(stdout);
	touch((int *)64);
	return 0;
}
