/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* Assertions the unit tests share: precise when red, quiet when green. */
#ifndef MEMSCOPE_TEST_EXPECT_H
#define MEMSCOPE_TEST_EXPECT_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* expect_eq(got, want, "what %d", ...): both as unsigned 64-bit numbers. */
#define expect_eq(got, want, ...)					\
	do {								\
		unsigned long long got_ = (got), want_ = (want);	\
		char what_[160];					\
									\
		snprintf(what_, sizeof(what_), __VA_ARGS__);		\
		cr_assert_eq(got_, want_, "%s: got %llu, want %llu",	\
			     what_, got_, want_);			\
	} while (0)

/* How many times needle occurs in hay, one after another. */
static inline size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

#endif /* MEMSCOPE_TEST_EXPECT_H */
