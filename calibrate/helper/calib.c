/* calib: the native half of `probesim calibrate`.
 *
 * Usage: calib MODE [ARGS...]; every result is one line "key value" on
 * standard output, times in nanoseconds per operation (CLOCK_MONOTONIC,
 * which on x86-64 Linux reads the TSC through the vDSO), counts as
 * integers. probesim embeds this program (calibrate/helper.go) and runs it
 * once per measurement and repeat; it never writes a file.
 *
 *   clock                 tsc_hz, core_hz (a chain of dependent adds: one a cycle)
 *   syscall N             getppid round trip
 *   pipe N                write+read of one byte on a pipe in one thread
 *   pagefault PAGES       first write to an anonymous page
 *   cow PAGES             first write to a private page that maps the page cache
 *   mprotect N CPU...     mprotect of one page, run on the first CPU, while one
 *                         spinning thread per further CPU runs the same mm;
 *                         the spinners record the gaps the shootdown IPIs steal
 *   ctxsw N CPU           pipe ping-pong between two threads pinned to CPU
 *   int3 N                int3 delivered as SIGTRAP, handler, sigreturn
 *   step N                a TF single-step #DB delivered as SIGTRAP, likewise
 *   iret N                IRET to self at CPL 3 (Linux's sync_core())
 *   cpuid N               cpuid leaf 0
 *   xmc N CPU CPU         a writer on the second CPU changes an instruction's
 *                         immediate while a reader on the first CPU runs it
 *   probe N               reads one byte per round from stdin, then calls
 *                         calib_probe_nop and calib_probe_step N times each,
 *                         printing their times; stops at end of input. The
 *                         caller attaches uprobes between rounds.
 *   traps N               executes int3 N times with no handler (for a tracer),
 *                         then a loop of N single-instruction iterations
 *
 * Exit status 0, 2 on bad arguments, 1 when the host refuses something
 * (the line on stderr says what). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX_CPUS 64
#define PAGE 4096

static void die(const char *what)
{
	fprintf(stderr, "calib: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		die("sched_setaffinity");
}

static void result(const char *key, double v)
{
	printf("%s %.3f\n", key, v);
}

static long arg(char **argv, int i, int argc, long min, long max)
{
	char *end;
	long v;

	if (i >= argc) {
		fprintf(stderr, "calib: %s: missing argument %d\n", argv[1], i - 1);
		exit(2);
	}
	errno = 0;
	v = strtol(argv[i], &end, 10);
	if (errno || *end || end == argv[i] || v < min || v > max) {
		fprintf(stderr, "calib: %s: bad argument %s\n", argv[1], argv[i]);
		exit(2);
	}
	return v;
}

/* ---- clock ---------------------------------------------------------- */

static void mode_clock(void)
{
	uint64_t t0 = now_ns(), c0 = rdtsc(), t1, c1;
	uint64_t loops = 2000000, x = 0;

	while ((t1 = now_ns()) - t0 < 50000000)
		;
	c1 = rdtsc();
	result("tsc_hz", (double)(c1 - c0) * 1e9 / (double)(t1 - t0));

	/* 100 dependent adds per iteration: the loop's own dec/jnz run beside
	 * the chain, so an iteration takes 100 core cycles. */
	t0 = now_ns();
	for (uint64_t i = 0; i < loops; i++)
		__asm__ volatile(".rept 100\n\tadd $1, %0\n\t.endr" : "+r"(x));
	t1 = now_ns();
	result("core_hz", (double)loops * 100 * 1e9 / (double)(t1 - t0));
}

/* ---- syscall, pipe -------------------------------------------------- */

static void mode_syscall(long n)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++) {
		long ret;

		__asm__ volatile("syscall" : "=a"(ret) : "0"((long)SYS_getppid) : "rcx", "r11", "memory");
	}
	result("syscall_ns", (double)(now_ns() - t0) / (double)n);
}

static void mode_pipe(long n)
{
	int p[2];
	char c = 0;
	uint64_t t0;

	if (pipe(p) != 0)
		die("pipe");
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
			die("pipe write/read");
	}
	result("pipe_ns", (double)(now_ns() - t0) / (double)n);
}

/* ---- page faults ---------------------------------------------------- */

static void touch_pages(volatile char *mem, long pages, const char *key)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < pages; i++)
		mem[i * PAGE] = 1;
	result(key, (double)(now_ns() - t0) / (double)pages);
}

static void mode_pagefault(long pages)
{
	char *mem = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		die("mmap");
	/* 4 KiB faults, not a transparent huge page per 2 MiB. */
	madvise(mem, (size_t)pages * PAGE, MADV_NOHUGEPAGE);
	touch_pages(mem, pages, "pagefault_ns");
	munmap(mem, (size_t)pages * PAGE);
}

static void mode_cow(long pages)
{
	int fd = memfd_create("calib-cow", 0);
	char page[PAGE];
	volatile char *mem;
	char sum = 0;

	if (fd < 0)
		die("memfd_create");
	memset(page, 7, sizeof(page));
	for (long i = 0; i < pages; i++)
		if (write(fd, page, PAGE) != PAGE)
			die("write memfd");
	mem = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (mem == MAP_FAILED)
		die("mmap memfd");
	/* Read first: each page is then mapped read-only from the page cache,
	 * and the timed write breaks copy-on-write. */
	for (long i = 0; i < pages; i++)
		sum += mem[i * PAGE];
	touch_pages((volatile char *)mem, pages, "cow_ns");
	munmap((void *)mem, (size_t)pages * PAGE);
	close(fd);
	if (sum == 1)
		printf("\n");
}

/* ---- mprotect and the shootdown it sends ---------------------------- */

#define MAX_GAPS 65536

struct spinner {
	pthread_t tid;
	int cpu;
	uint64_t gap_start[MAX_GAPS];
	uint64_t gap_len[MAX_GAPS];
	long gaps;
	uint64_t base_sum, base_n;
};

static atomic_int spin_run, spin_ready;

static void *spin_main(void *arg)
{
	struct spinner *s = arg;
	uint64_t prev, t;

	pin(s->cpu);
	atomic_fetch_add(&spin_ready, 1);
	prev = rdtsc();
	while (atomic_load_explicit(&spin_run, memory_order_relaxed)) {
		t = rdtsc();
		/* A gap of more than ~1000 TSC ticks is the loop not running. */
		if (t - prev > 1000 && s->gaps < MAX_GAPS) {
			s->gap_start[s->gaps] = prev;
			s->gap_len[s->gaps] = t - prev;
			s->gaps++;
		} else {
			s->base_sum += t - prev;
			s->base_n++;
		}
		prev = t;
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double tsc_per_ns(void)
{
	uint64_t t0 = now_ns(), c0 = rdtsc(), t1;

	while ((t1 = now_ns()) - t0 < 20000000)
		;
	return (double)(rdtsc() - c0) / (double)(t1 - t0);
}

static void mode_mprotect(long n, int ncpus, const int *cpus)
{
	static struct spinner spinners[MAX_CPUS];
	char *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t *starts = calloc((size_t)n, sizeof(uint64_t)), *ends = calloc((size_t)n, sizeof(uint64_t));
	uint64_t *matched = calloc((size_t)n * (size_t)ncpus, sizeof(uint64_t));
	uint64_t down = 0, up = 0;
	long nmatched = 0, events = 0;
	double tpn = tsc_per_ns();

	if (page == MAP_FAILED || !starts || !ends || !matched)
		die("mmap/calloc");
	pin(cpus[0]);
	atomic_store(&spin_run, 1);
	for (int i = 1; i < ncpus; i++) {
		spinners[i].cpu = cpus[i];
		if (pthread_create(&spinners[i].tid, NULL, spin_main, &spinners[i]) != 0)
			die("pthread_create");
	}
	while (atomic_load(&spin_ready) < ncpus - 1)
		;
	for (long i = 0; i < n; i++) {
		uint64_t a, b, c;

		page[0] = (char)i; /* present and dirty: the downgrade must flush */
		a = rdtsc();
		if (mprotect(page, PAGE, PROT_READ) != 0)
			die("mprotect");
		b = rdtsc();
		if (mprotect(page, PAGE, PROT_READ | PROT_WRITE) != 0)
			die("mprotect");
		c = rdtsc();
		starts[i] = a;
		ends[i] = b;
		down += b - a;
		up += c - b;
		/* Let the spinners run undisturbed between shootdowns. */
		while (rdtsc() - c < (uint64_t)(20000 * tpn))
			;
	}
	atomic_store(&spin_run, 0);
	for (int i = 1; i < ncpus; i++)
		pthread_join(spinners[i].tid, NULL);
	/* A spinner's gap belongs to a shootdown when it starts inside the
	 * mprotect that sent it (the IPI arrives before the initiator returns). */
	for (int s = 1; s < ncpus; s++) {
		struct spinner *sp = &spinners[s];
		long g = 0;

		for (long i = 0; i < n; i++) {
			/* The gap's recorded start is the loop's last iteration
			 * before the interrupt: at most one iteration early. */
			while (g < sp->gaps && sp->gap_start[g] + 1000 < starts[i])
				g++;
			events++;
			if (g < sp->gaps && sp->gap_start[g] < ends[i])
				matched[nmatched++] = sp->gap_len[g++];
		}
	}
	result("mprotect_down_ns", (double)down / tpn / (double)n);
	result("mprotect_up_ns", (double)up / tpn / (double)n);
	if (ncpus > 1) {
		uint64_t base = 0, basen = 0;

		for (int s = 1; s < ncpus; s++) {
			base += spinners[s].base_sum;
			basen += spinners[s].base_n;
		}
		qsort(matched, (size_t)nmatched, sizeof(uint64_t), cmp_u64);
		printf("ipi_matched %ld\nipi_expected %ld\n", nmatched, events);
		if (nmatched > 0)
			result("ipi_stolen_ns", ((double)matched[nmatched / 2] - (double)base / (double)basen) / tpn);
	}
}

/* ---- context switch ------------------------------------------------- */

static int ping[2], pong[2];

struct pong_arg {
	long n;
	int cpu;
};

static void *pong_main(void *arg)
{
	const struct pong_arg *a = arg;
	char c;

	pin(a->cpu);
	for (long i = 0; i < a->n; i++) {
		if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1)
			die("pong");
	}
	return NULL;
}

static void mode_ctxsw(long n, int cpu)
{
	struct pong_arg a = {n, cpu};
	pthread_t t;
	char c = 0;
	uint64_t t0;

	if (pipe(ping) != 0 || pipe(pong) != 0)
		die("pipe");
	pin(cpu);
	if (pthread_create(&t, NULL, pong_main, &a) != 0)
		die("pthread_create");
	/* One warm-up round trip, untimed. */
	if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
		die("ping");
	t0 = now_ns();
	for (long i = 1; i < n; i++) {
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			die("ping");
	}
	result("pingpong_ns", (double)(now_ns() - t0) / (double)(n - 1));
	pthread_join(t, NULL);
}

/* ---- traps ---------------------------------------------------------- */

static volatile long traps_seen;

static void on_sigtrap(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;

	(void)sig;
	(void)si;
	traps_seen++;
	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100L; /* end a single-step */
}

static void sigtrap_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigtrap;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGTRAP, &sa, NULL) != 0)
		die("sigaction");
}

/* Every trap must have reached the handler once. */
static void check_traps(long n)
{
	if (traps_seen != n) {
		fprintf(stderr, "calib: %ld SIGTRAPs for %ld traps\n", traps_seen, n);
		exit(1);
	}
}

static void mode_int3(long n)
{
	uint64_t t0;

	sigtrap_handler();
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		__asm__ volatile("int3" ::: "memory");
	result("int3_signal_ns", (double)(now_ns() - t0) / (double)n);
	check_traps(n);
}

static void mode_step(long n)
{
	uint64_t t0;

	sigtrap_handler();
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		/* TF set by popf traps after the instruction that follows. */
		__asm__ volatile("pushf\n\torq $0x100, (%%rsp)\n\tpopf\n\tnop" ::: "memory", "cc");
	result("step_signal_ns", (double)(now_ns() - t0) / (double)n);
	check_traps(n);
}

static void mode_iret(long n)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++)
		__asm__ volatile("mov %%ss, %%eax\n\t"
				 "pushq %%rax\n\t"
				 "pushq %%rsp\n\t"
				 "addq $8, (%%rsp)\n\t"
				 "pushfq\n\t"
				 "mov %%cs, %%eax\n\t"
				 "pushq %%rax\n\t"
				 "lea 1f(%%rip), %%rax\n\t"
				 "pushq %%rax\n\t"
				 "iretq\n"
				 "1:" ::: "rax", "memory", "cc");
	result("iret_ns", (double)(now_ns() - t0) / (double)n);
}

static void mode_cpuid(long n)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++) {
		uint32_t a = 0, b, c = 0, d;

		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	}
	result("cpuid_ns", (double)(now_ns() - t0) / (double)n);
}

/* ---- cross-modifying code ------------------------------------------- */

/* nop; nop; nop; mov $imm32, %eax; ret: the immediate is 4-byte aligned,
 * so the writer's store is atomic. */
static const unsigned char xmc_code[] = {0x90, 0x90, 0x90, 0xb8, 0, 0, 0, 0, 0xc3};

static volatile uint32_t *xmc_imm;
static atomic_uint xmc_written;
static atomic_int xmc_stop;
static uint64_t *xmc_write_tsc;

struct xmc_writer {
	long n;
	int cpu;
	double tpn;
};

static void *xmc_writer_main(void *arg)
{
	struct xmc_writer *w = arg;

	pin(w->cpu);
	for (long i = 1; i <= w->n; i++) {
		uint64_t t = rdtsc();

		while (rdtsc() - t < (uint64_t)(20000 * w->tpn))
			;
		xmc_write_tsc[i] = rdtsc();
		*xmc_imm = (uint32_t)i;
		/* Wait until the reader saw it before the next change. */
		while (atomic_load(&xmc_written) != (unsigned)i && !atomic_load(&xmc_stop))
			;
	}
	return NULL;
}

static void mode_xmc(long n, int rcpu, int wcpu)
{
	unsigned char *code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t (*fn)(void) = (uint32_t (*)(void))(void *)code;
	uint64_t *latency = calloc((size_t)n + 1, sizeof(uint64_t)), *stolen = calloc((size_t)n + 1, sizeof(uint64_t));
	uint64_t base_sum = 0, base_n = 0, prev;
	struct xmc_writer w = {n, wcpu, tsc_per_ns()};
	uint32_t seen = 0;
	long k = 0;
	pthread_t t;

	xmc_write_tsc = calloc((size_t)n + 1, sizeof(uint64_t));
	if (code == MAP_FAILED || !latency || !stolen || !xmc_write_tsc)
		die("mmap rwx/calloc");
	memcpy(code, xmc_code, sizeof(xmc_code));
	xmc_imm = (volatile uint32_t *)(code + 4);
	pin(rcpu);
	if (pthread_create(&t, NULL, xmc_writer_main, &w) != 0)
		die("pthread_create");
	prev = rdtsc();
	while (k < n) {
		uint32_t v = fn();
		uint64_t now = rdtsc();

		if (v != seen) {
			seen = v;
			latency[k] = now - xmc_write_tsc[v];
			stolen[k] = now - prev;
			k++;
			atomic_store(&xmc_written, v);
		} else {
			base_sum += now - prev;
			base_n++;
		}
		prev = now;
	}
	atomic_store(&xmc_stop, 1);
	pthread_join(t, NULL);
	qsort(latency, (size_t)n, sizeof(uint64_t), cmp_u64);
	qsort(stolen, (size_t)n, sizeof(uint64_t), cmp_u64);
	result("xmc_visible_ns", (double)latency[n / 2] / w.tpn);
	result("xmc_stolen_ns", ((double)stolen[n / 2] - (double)base_sum / (double)base_n) / w.tpn);
}

/* ---- uprobe targets --------------------------------------------------- */

/* The two probe points: a one-byte nop, which Linux emulates (one trap),
 * and lea, which it single-steps out of line (two traps). Both return
 * their argument plus one, so the loop cannot be optimised away. */
__asm__(".text\n"
	".globl calib_probe_nop\n.type calib_probe_nop, @function\n"
	"calib_probe_nop:\n\tnop\n\tlea 1(%rdi), %rax\n\tret\n"
	".size calib_probe_nop, .-calib_probe_nop\n"
	".globl calib_probe_step\n.type calib_probe_step, @function\n"
	"calib_probe_step:\n\tlea 1(%rdi), %rax\n\tret\n"
	".size calib_probe_step, .-calib_probe_step\n");
long calib_probe_nop(long);
long calib_probe_step(long);

static void mode_probe(long n)
{
	char c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (read(0, &c, 1) == 1) {
		long x = 0;
		uint64_t t0 = now_ns();

		for (long i = 0; i < n; i++)
			x = calib_probe_nop(x);
		result("probe_nop_ns", (double)(now_ns() - t0) / (double)n);
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			x = calib_probe_step(x);
		result("probe_step_ns", (double)(now_ns() - t0) / (double)n);
		if (x != 2 * n)
			printf("FAIL %ld\n", x);
	}
}

/* traps: for a tracer; int3 N times (each stops the traced process), then
 * N iterations of a one-instruction loop for PTRACE_SINGLESTEP. */
static void mode_traps(long n)
{
	for (long i = 0; i < n; i++)
		__asm__ volatile("int3" ::: "memory");
	__asm__ volatile(".globl calib_step_loop\ncalib_step_loop:\n\t"
			 "1: dec %0\n\tjnz 1b" : "+r"(n) :: "cc");
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (!strcmp(m, "clock"))
		mode_clock();
	else if (!strcmp(m, "syscall"))
		mode_syscall(arg(argv, 2, argc, 1, 1L << 32));
	else if (!strcmp(m, "pipe"))
		mode_pipe(arg(argv, 2, argc, 1, 1L << 32));
	else if (!strcmp(m, "pagefault"))
		mode_pagefault(arg(argv, 2, argc, 1, 1L << 20));
	else if (!strcmp(m, "cow"))
		mode_cow(arg(argv, 2, argc, 1, 1L << 20));
	else if (!strcmp(m, "mprotect")) {
		int cpus[MAX_CPUS], n = 0;
		long iters = arg(argv, 2, argc, 1, 1L << 20);

		for (int i = 3; i < argc && n < MAX_CPUS; i++)
			cpus[n++] = (int)arg(argv, i, argc, 0, 4095);
		if (n == 0)
			cpus[n++] = (int)arg(argv, 3, argc, 0, 4095);
		mode_mprotect(iters, n, cpus);
	} else if (!strcmp(m, "ctxsw"))
		mode_ctxsw(arg(argv, 2, argc, 2, 1L << 32), (int)arg(argv, 3, argc, 0, 4095));
	else if (!strcmp(m, "int3"))
		mode_int3(arg(argv, 2, argc, 1, 1L << 32));
	else if (!strcmp(m, "step"))
		mode_step(arg(argv, 2, argc, 1, 1L << 32));
	else if (!strcmp(m, "iret"))
		mode_iret(arg(argv, 2, argc, 1, 1L << 32));
	else if (!strcmp(m, "cpuid"))
		mode_cpuid(arg(argv, 2, argc, 1, 1L << 32));
	else if (!strcmp(m, "xmc"))
		mode_xmc(arg(argv, 2, argc, 1, 1L << 20), (int)arg(argv, 3, argc, 0, 4095),
			 (int)arg(argv, 4, argc, 0, 4095));
	else if (!strcmp(m, "probe"))
		mode_probe(arg(argv, 2, argc, 1, 1L << 32));
	else if (!strcmp(m, "traps"))
		mode_traps(arg(argv, 2, argc, 1, 1L << 32));
	else {
		fprintf(stderr, "calib: unknown mode %s\n", m);
		return 2;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
