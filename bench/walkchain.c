// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * malloc/free pairs from 30 frames deep, for bench/walk-cost.py: the cost
 * per frame of the kernel's CFI walk. Built without frame pointers:
 *
 *   walkchain [-n PAIRS] [--wait]
 *
 * --wait prints "ready PID" and waits for SIGUSR1; the last line is
 * "bench: ops=N ns_per_op=X".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Levels of rec(): with leaf, main and libc's three, 33 frames. */
#define DEPTH	27

void *volatile sink;
static unsigned long pairs = 1000000;

static __attribute__((noinline)) void leaf(void)
{
	unsigned long i;
	void *p;

	for (i = 0; i < pairs; i++) {
		p = malloc(16 + (i & 1023));
		sink = p;
		free(p);
	}
}

/* A frame of its own each (a local, no tail call). */
static __attribute__((noinline)) void rec(int depth)
{
	volatile char pad[16];

	pad[0] = depth;
	if (depth)
		rec(depth - 1);
	else
		leaf();
	/* Used after the call: the call is not a tail call. */
	sink = (void *)(unsigned long)pad[0];
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	int i, sig, wait = 0;
	sigset_t set;
	double ns;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			pairs = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--wait"))
			wait = 1;
	}
	if (wait) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		sigwait(&set, &sig);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	rec(DEPTH);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
	printf("bench: ops=%lu ns_per_op=%.1f\n", pairs, ns / pairs);
	return 0;
}
