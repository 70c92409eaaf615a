/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The live view's rows (user/analysis/top.c) from records: what each site
 * holds, its exact growth between two refreshes, and the three orders.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include "store.h"
#include "top.h"
#include "builders.h"

static const __u64 st_grow[] = { 0x1000, 0x9000 };
static const __u64 st_shrink[] = { 0x2000, 0x9000 };
static const __u64 st_churn[] = { 0x3000, 0x9000 };

#define NR(a)		(sizeof(a) / sizeof(*(a)))

static struct store *st;
static struct top *t;
static __u64 ts, seq;

static void setup(void)
{
	st = store__new();
	t = top__new();
	cr_assert(st && t);
}

static void teardown(void)
{
	top__free(t);
	store__free(st);
}

TestSuite(top, .init = setup, .fini = teardown);

static void alloc_at(__u64 ptr, __u64 size, const __u64 *frames, __u32 nr)
{
	ev_alloc(st, ptr, size, ++seq, frames, nr, ++ts);
}

/* The row of the site whose stack starts at frame 0 pc, and its rank. */
static const struct top_row *row_of(__u64 pc, size_t *rank)
{
	struct store_site site;
	const struct top_row *rows;
	size_t nr, i;

	rows = top__rows(t, &nr);
	for (i = 0; i < nr; i++) {
		cr_assert_eq(store__site(st, rows[i].stack_id, &site), 0);
		if (site.nr_frames && site.frames[0] == pc) {
			*rank = i;
			return &rows[i];
		}
	}
	cr_assert_fail("no row for the site at %#llx", (unsigned long long)pc);
	return NULL;
}

Test(top, growth_between_refreshes_and_the_three_orders)
{
	const struct top_row *r;
	size_t rank, nr, i;

	/* first second: grow 2 x 100, shrink 3 x 500, churn 10 x 8 freed */
	alloc_at(0x100, 100, st_grow, NR(st_grow));
	alloc_at(0x110, 100, st_grow, NR(st_grow));
	for (i = 0; i < 3; i++)
		alloc_at(0x200 + i * 0x10, 500, st_shrink, NR(st_shrink));
	for (i = 0; i < 10; i++) {
		alloc_at(0x300, 8, st_churn, NR(st_churn));
		ev_free(st, 0x300, ++ts);
	}
	cr_assert_eq(top__refresh(t, st, TOP_SORT_LIVE), 0);
	top__rows(t, &nr);
	cr_assert_eq(nr, 3);
	r = row_of(0x2000, &rank);
	cr_expect_eq(rank, 0, "shrink holds the most: first by live bytes");
	cr_expect_eq(r->live_bytes, 1500);
	cr_expect_eq(r->live_count, 3);
	cr_expect_eq(r->growth_bytes, 1500, "first seen: grown from 0");
	cr_expect_eq(top__growth(t), 1700, "the rows' growth together");
	r = row_of(0x3000, &rank);
	cr_expect_eq(rank, 2);
	cr_expect_eq(r->live_bytes, 0);
	cr_expect_eq(r->allocs, 10);
	cr_expect_eq(r->alloc_bytes, 80);

	/* next second: grow gains 300, shrink loses 1000 */
	alloc_at(0x120, 300, st_grow, NR(st_grow));
	ev_free(st, 0x200, ++ts);
	ev_free(st, 0x210, ++ts);
	cr_assert_eq(top__refresh(t, st, TOP_SORT_GROWTH), 0);
	r = row_of(0x1000, &rank);
	cr_expect_eq(rank, 0, "grow first by growth");
	cr_expect_eq(r->growth_bytes, 300);
	cr_expect_eq(r->live_bytes, 500);
	r = row_of(0x3000, &rank);
	cr_expect_eq(rank, 1, "churn: no growth, before a shrinking site");
	cr_expect_eq(r->growth_bytes, 0);
	r = row_of(0x2000, &rank);
	cr_expect_eq(rank, 2, "shrink last by growth");
	cr_expect_eq(r->growth_bytes, -1000);
	cr_expect_eq(top__growth(t), -700);

	/* re-sorting keeps the figures: growth is still the last second's */
	top__sort(t, TOP_SORT_ALLOCS);
	r = row_of(0x3000, &rank);
	cr_expect_eq(rank, 0, "churn first by allocations");
	r = row_of(0x1000, &rank);
	cr_expect_eq(r->growth_bytes, 300);
	top__sort(t, TOP_SORT_LIVE);
	r = row_of(0x1000, &rank);
	cr_expect_eq(rank, 0, "grow (500) above shrink (500 too): by stack id");
	cr_expect_eq(row_of(0x2000, &rank)->live_bytes, 500);

	/* nothing happened since: no growth anywhere */
	cr_assert_eq(top__refresh(t, st, TOP_SORT_GROWTH), 0);
	for (i = 0; i < 3; i++)
		cr_expect_eq(top__rows(t, &nr)[i].growth_bytes, 0);
	cr_expect_eq(top__growth(t), 0);
}

/*
 * Sizes are the traced process's to choose (a declared block's, USDT):
 * sites whose growth passes LLONG_MAX together, and then shrink as much,
 * give a total held within +-LLONG_MAX, not an overflow.
 */
Test(top, growth_total_is_held_within_llong_max)
{
	const __u64 big = 1ull << 62;
	int i;

	for (i = 0; i < 3; i++) {
		alloc_at(0x100 + i * 0x10, big, st_grow, NR(st_grow));
		alloc_at(0x200 + i * 0x10, big, st_shrink, NR(st_shrink));
	}
	cr_assert_eq(top__refresh(t, st, TOP_SORT_GROWTH), 0);
	cr_expect_eq(top__growth(t), LLONG_MAX);
	for (i = 0; i < 3; i++) {
		ev_free(st, 0x100 + i * 0x10, ++ts);
		ev_free(st, 0x200 + i * 0x10, ++ts);
	}
	cr_assert_eq(top__refresh(t, st, TOP_SORT_GROWTH), 0);
	cr_expect_eq(top__growth(t), -LLONG_MAX);
}

/*
 * A store with no site yet (an image that has not allocated: the one an
 * exec just began): no rows, and no sort of an array that is not there.
 * UBSan watches the qsort_r.
 */
Test(top, empty_store_has_no_rows)
{
	size_t nr = 1;

	cr_assert_eq(top__refresh(t, st, TOP_SORT_LIVE), 0);
	top__rows(t, &nr);
	cr_expect_eq(nr, 0, "%zu rows from an empty store", nr);
	cr_expect_eq(top__growth(t), 0);
	top__sort(t, TOP_SORT_GROWTH);
}
