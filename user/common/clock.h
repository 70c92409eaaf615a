/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* The tool's own clock for deadlines and durations. */
#ifndef MEMSCOPE_CLOCK_H
#define MEMSCOPE_CLOCK_H

#include <time.h>
#include <linux/types.h>

/* CLOCK_MONOTONIC in ns. */
static inline __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif /* MEMSCOPE_CLOCK_H */
