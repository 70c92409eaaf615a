/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_vdso: a signal handler that allocates when the signal interrupted
 * the vDSO (gcc -O2 -g, no frame pointers). main spins in vd_spin, two
 * frames down, calling clock_gettime, which runs in the vDSO, while a
 * 1 ms interval timer interrupts it; a SIGALRM whose interrupted pc is in
 * the vDSO allocates once from vd_alloc, 20 times in all. Its stack is
 * vd_alloc, vd_handler, the signal trampoline (__restore_rt), the vDSO's
 * frames, glibc's clock_gettime, then vd_spin, vd_l1, main: the walk
 * goes on through the vDSO with the CFI the kernel put in its image.
 * stk_vdso.json declares the chain.
 *
 * malloc in a handler is safe here: the only code it can interrupt is the
 * spin loop and clock_gettime, which hold no allocator lock.
 */
#define _GNU_SOURCE	/* REG_RIP */
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")
#define HITS	20

static volatile sig_atomic_t hits, spinning;
static unsigned long vdso_lo, vdso_hi;

FN void vd_alloc(void)
{
	keep(malloc(336));			/* @site vd_alloc */
}

FN void vd_handler(int sig, siginfo_t *si, void *uc)
{
	unsigned long pc = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];

	(void)sig;
	(void)si;
	if (!spinning || hits >= HITS || pc < vdso_lo || pc >= vdso_hi)
		return;
	vd_alloc();
	hits = hits + 1;
}

FN void vd_spin(void)
{
	struct timespec ts;

	spinning = 1;
	while (hits < HITS)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	spinning = 0;
}

FN void vd_l1(void)
{
	struct itimerval on = { { 0, 1000 }, { 0, 1000 } }, off = { 0 };

	if (setitimer(ITIMER_REAL, &on, NULL)) {
		perror("setitimer");
		exit(1);
	}
	vd_spin();
	setitimer(ITIMER_REAL, &off, NULL);
	NOTAIL();
}

/* The [vdso] mapping's range, from /proc/self/maps. */
static void vdso_range(void)
{
	unsigned long lo, hi, base = getauxval(AT_SYSINFO_EHDR);
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f || !base) {
		fprintf(stderr, "stk_vdso: no vDSO to interrupt\n");
		exit(1);
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo == base) {
			vdso_lo = lo;
			vdso_hi = hi;
		}
	fclose(f);
	if (!vdso_hi) {
		fprintf(stderr, "stk_vdso: [vdso] not in /proc/self/maps\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = vd_handler,
				.sa_flags = SA_SIGINFO };

	target_wait(argc, argv);
	vdso_range();
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL)) {
		perror("sigaction");
		return 1;
	}
	vd_l1();
	NOTAIL();
	return 0;
}
