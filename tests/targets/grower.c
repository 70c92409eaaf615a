/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * grower: a service for the live view (--live), until killed: every 20 ms
 * grow_fast leaks 4096 bytes, grow_slow leaks 64, and churn_only
 * allocates and frees 50 blocks, so each sort of the view puts another
 * site first (live bytes and growth: grow_fast; allocations: churn_only).
 */
#include <time.h>
#include "target.h"

__attribute__((noinline)) static void grow_fast(void)
{
	keep(malloc(4096));			/* @site grow_fast */
}

__attribute__((noinline)) static void grow_slow(void)
{
	keep(malloc(64));			/* @site grow_slow */
}

__attribute__((noinline)) static void churn_only(void)
{
	void *p;
	int i;

	for (i = 0; i < 50; i++) {
		p = malloc(32);			/* @site churn_only */
		touch(p, 32);
		keep(p);
		free(p);
	}
}

int main(void)
{
	struct timespec tick = { .tv_nsec = 20000000 };

	for (;;) {
		grow_fast();
		grow_slow();
		churn_only();
		nanosleep(&tick, NULL);
	}
}
