/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What the timed workloads (churn, syscalls) share with the runner's
 * protocol: their clock, the --wait handshake, and option parsing.
 */
#ifndef MEMSCOPE_BENCH_WORKLOAD_H
#define MEMSCOPE_BENCH_WORKLOAD_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Blocks SIGUSR1 first so that it cannot be missed between print and wait. */
static inline int wait_for_go(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (sigwait(&set, &sig))
		return -EINTR;
	return 0;
}

static inline int parse_ulong(const char *s, unsigned long min,
			      unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out < min ||
	    *out > max)
		return -EINVAL;
	return 0;
}

#endif /* MEMSCOPE_BENCH_WORKLOAD_H */
