/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_signal: a signal handler that allocates (gcc -O2 -g, no frame
 * pointers). main spins in sig_spin, three frames down, while a 1 ms
 * interval timer interrupts it; a SIGALRM that interrupts the spin
 * allocates once from sig_alloc, 20 times in all (one that comes before
 * or after it, as the timer is armed or disarmed, does nothing: it would
 * interrupt other frames). The handler's stack is sig_alloc, sig_handler, the
 * signal trampoline (__restore_rt), then the interrupted frames: sig_spin
 * at the exact instruction it was at, sig_l2, sig_l1, main.
 * stk_signal.json declares the chain.
 *
 * malloc in a handler is safe here: the only code it can interrupt is the
 * spin loop, which holds no allocator lock.
 */
#include <sys/time.h>
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")
#define HITS	20

static volatile sig_atomic_t hits, spinning;

FN void sig_alloc(void)
{
	keep(malloc(320));			/* @site sig_alloc */
}

FN void sig_handler(int sig)
{
	(void)sig;
	if (!spinning || hits >= HITS)
		return;
	sig_alloc();
	hits = hits + 1;
}

/* A leaf: while spinning is set, the timer interrupts only this loop. */
FN void sig_spin(void)
{
	spinning = 1;
	while (hits < HITS)
		__asm__ volatile ("");
	spinning = 0;
}

FN void sig_l2(void)
{
	struct itimerval on = { { 0, 1000 }, { 0, 1000 } }, off = { 0 };

	if (setitimer(ITIMER_REAL, &on, NULL)) {
		perror("setitimer");
		exit(1);
	}
	sig_spin();
	setitimer(ITIMER_REAL, &off, NULL);
	NOTAIL();
}

FN void sig_l1(void)
{
	sig_l2();
	NOTAIL();
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = sig_handler };

	target_wait(argc, argv);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL)) {
		perror("sigaction");
		return 1;
	}
	sig_l1();
	NOTAIL();
	return 0;
}
