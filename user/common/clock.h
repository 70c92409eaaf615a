/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* The tool's clocks: deadlines, durations and times of day. */
#ifndef MEMSCOPE_CLOCK_H
#define MEMSCOPE_CLOCK_H

#include <time.h>
#include <linux/types.h>

static inline __u64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* For deadlines and durations. */
static inline __u64 mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#endif /* MEMSCOPE_CLOCK_H */
