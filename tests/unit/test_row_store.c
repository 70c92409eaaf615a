// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * The extents the kernel's unwind rows are handed out from (row_store.h):
 * released rows are taken again first fit, joined to their neighbours and
 * to the top, and no row is ever held twice, checked against a model of
 * every row's owner under random takes and releases.
 */
#include <errno.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include "row_store.h"

struct extent {
	__u32 first;
	__u32 nr;
};

/* Free extents sorted, apart (never touching), below top; used adds up. */
static void check_invariants(const struct row_extents *x)
{
	__u64 free_rows = 0;
	size_t i;

	for (i = 0; i < x->free.nr; i++) {
		const struct extent *e = tab_array_at(&x->free, i);

		cr_assert_gt(e->nr, 0, "extent %zu empty", i);
		cr_assert_lt((__u64)e->first + e->nr, x->top,
			     "extent %zu [%u, +%u) reaches the top %u", i,
			     e->first, e->nr, x->top);
		if (i) {
			const struct extent *p = tab_array_at(&x->free, i - 1);

			cr_assert_lt((__u64)p->first + p->nr, e->first,
				     "extents %zu and %zu touch or overlap",
				     i - 1, i);
		}
		free_rows += e->nr;
	}
	cr_assert_eq(x->used + free_rows, x->top, "used %u + free %llu != top %u",
		     x->used, (unsigned long long)free_rows, x->top);
	cr_assert_leq(x->top, x->cap);
}

Test(row_store, holes_are_filled_first_and_joined)
{
	struct row_extents x;
	__u32 a, b, c, d;

	row_extents__init(&x, 100);
	cr_assert_eq(row_extents__take(&x, 30, &a), 0);
	cr_assert_eq(row_extents__take(&x, 30, &b), 0);
	cr_assert_eq(row_extents__take(&x, 30, &c), 0);
	cr_expect_eq(a, 0);
	cr_expect_eq(b, 30);
	cr_expect_eq(c, 60);
	/* 10 left at the top: 20 fit nowhere */
	cr_expect_eq(row_extents__take(&x, 20, &d), -ENOSPC);
	cr_expect_eq(x.used, 90);
	/* a hole of 30 in the middle takes 20, first fit */
	cr_assert_eq(row_extents__give(&x, b, 30), 0);
	cr_assert_eq(row_extents__take(&x, 20, &d), 0);
	cr_expect_eq(d, 30);
	check_invariants(&x);
	/* b's remaining 10 and a join: one hole of 40 */
	cr_assert_eq(row_extents__give(&x, a, 30), 0);
	cr_assert_eq(x.free.nr, 2);
	cr_assert_eq(row_extents__give(&x, d, 20), 0);
	cr_assert_eq(x.free.nr, 1);
	check_invariants(&x);
	/* the last one goes back to the top, with the hole below it */
	cr_assert_eq(row_extents__give(&x, c, 30), 0);
	cr_expect_eq(x.top, 0);
	cr_expect_eq(x.free.nr, 0);
	cr_expect_eq(x.used, 0);
	row_extents__fini(&x);
}

Test(row_store, bad_releases_are_refused)
{
	struct row_extents x;
	__u32 a, b;

	row_extents__init(&x, 64);
	cr_assert_eq(row_extents__take(&x, 16, &a), 0);
	cr_assert_eq(row_extents__take(&x, 16, &b), 0);
	cr_assert_eq(row_extents__give(&x, a, 16), 0);
	/* twice, overlapping the hole, past the top */
	cr_expect_eq(row_extents__give(&x, a, 16), -EINVAL);
	cr_expect_eq(row_extents__give(&x, a + 8, 16), -EINVAL);
	cr_expect_eq(row_extents__give(&x, b, 17), -EINVAL);
	cr_expect_eq(row_extents__give(&x, 40, 1), -EINVAL);
	cr_expect_eq(row_extents__give(&x, 0xfffffff0u, 0x20), -EINVAL);
	check_invariants(&x);
	cr_expect_eq(x.used, 16);
	row_extents__fini(&x);
}

#define CAP	4096
#define SLOTS	64

/* Random takes and releases against a model of each row's owner. */
Test(row_store, random_churn_never_holds_a_row_twice)
{
	static int owner[CAP];
	struct { __u32 first, nr; } held[SLOTS] = {};
	struct row_extents x;
	unsigned int seed = 7;
	int step, k;
	__u32 i;

	row_extents__init(&x, CAP);
	for (step = 0; step < 20000; step++) {
		k = rand_r(&seed) % SLOTS;
		if (held[k].nr) {
			for (i = 0; i < held[k].nr; i++)
				owner[held[k].first + i] = 0;
			cr_assert_eq(row_extents__give(&x, held[k].first,
						       held[k].nr), 0);
			held[k].nr = 0;
		} else {
			__u32 nr = 1 + rand_r(&seed) % 200, first;
			int err = row_extents__take(&x, nr, &first);

			if (err) {
				cr_assert_eq(err, -ENOSPC);
				continue;
			}
			cr_assert_leq(first + nr, CAP);
			for (i = 0; i < nr; i++) {
				cr_assert_eq(owner[first + i], 0,
					     "row %u held twice", first + i);
				owner[first + i] = k + 1;
			}
			held[k].first = first;
			held[k].nr = nr;
		}
		if (step % 97 == 0)
			check_invariants(&x);
	}
	check_invariants(&x);
	row_extents__fini(&x);
}
