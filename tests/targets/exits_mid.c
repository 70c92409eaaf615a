/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * exits_mid: keeps allocating for about a second, then exits by itself,
 * long before the tracer's -d runs out. Ten rounds of 100 ms each: balanced
 * churn, then one leaked 64-byte block from exits_mid_leak (10 blocks, 640
 * bytes at exit), so the tests can tell the last round was captured.
 */
#include <time.h>
#include "target.h"

#define ROUNDS		10
#define ROUND_NS	(100 * 1000 * 1000LL)

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) static void exits_mid_churn(long long until)
{
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 1000 * 1000 };
	void *p;
	int i;

	while (now_ns() < until) {
		for (i = 0; i < 50; i++) {
			p = malloc(32 + i * 16);	/* @site exits_mid_churn */
			touch(p, 32);
			keep(p);
			free(p);
		}
		nanosleep(&pause, NULL);
	}
}

__attribute__((noinline)) static void exits_mid_leak(void)
{
	keep(malloc(64));			/* @site exits_mid_leak */
}

int main(int argc, char **argv)
{
	long long start;
	int r;

	target_wait(argc, argv);

	start = now_ns();
	for (r = 1; r <= opaque(ROUNDS); r++) {
		exits_mid_churn(start + r * ROUND_NS);
		exits_mid_leak();
	}
	return 0;
}
