/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The signed change between two counts. Counts come from recordings and
 * snapshot files, which are input: anything a __u64 holds, so the plain
 * (long long)a - (long long)b overflows on them.
 */
#ifndef MEMSCOPE_DELTA_H
#define MEMSCOPE_DELTA_H

#include <limits.h>
#include <linux/types.h>

/* b to a, held within +-LLONG_MAX (so that its negation is one too). */
static inline long long u64_delta(__u64 a, __u64 b)
{
	if (a >= b)
		return a - b > LLONG_MAX ? LLONG_MAX : (long long)(a - b);
	return b - a > LLONG_MAX ? -LLONG_MAX : -(long long)(b - a);
}

/* a + b for two such changes, held within +-LLONG_MAX the same way. */
static inline long long s64_add_sat(long long a, long long b)
{
	long long r;

	if (__builtin_add_overflow(a, b, &r))
		return a > 0 ? LLONG_MAX : -LLONG_MAX;
	return r < -LLONG_MAX ? -LLONG_MAX : r;
}

#endif
