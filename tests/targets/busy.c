/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * busy: allocates and frees as fast as it can from the start, so a tracer
 * attaches (-p) in the middle of calls, then, on SIGUSR1, leaks exactly
 * five 777-byte blocks from busy_leak and exits. Calls cut in half by the
 * attach must not make anything after them look nested or lost.
 *
 * Prints "ready <pid>" at once: it does not wait to start allocating.
 */
#include <signal.h>
#include "target.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

__attribute__((noinline)) static void busy_churn(void)
{
	void *p;
	int i;

	for (i = 0; i < 64; i++) {
		p = malloc(16 + i * 8);		/* @site busy_churn */
		touch(p, 16);
		keep(p);
		free(p);
	}
}

__attribute__((noinline)) static void busy_leak(void)
{
	int i;

	for (i = 0; i < opaque(5); i++)
		keep(malloc(777));		/* @site busy_leak */
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (!go)
		busy_churn();
	/* One more round once traced for sure: the churn site is live. */
	busy_churn();
	busy_leak();
	return 0;
}
