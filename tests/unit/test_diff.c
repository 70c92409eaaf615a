/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What grew between two moments (user/analysis/diff.c): sites of two
 * stores whose addresses differ (two runs, ASLR) but resolve to the same
 * frames are one row; rows rank by the bytes they grew.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include "diff.h"
#include "growth.h"
#include "builders.h"

static const char *const names[] = { "grows", "shrinks", "gone", "new" };

/* The function is in the address's low byte, whatever the run's base. */
static unsigned resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;

	(void)ctx;
	fr = (struct frame){ .addr = addr, .function = names[addr & 0xf],
			     .file = "x.c", .line = 7 };
	*out = &fr;
	return 1;
}

/* blocks[i] blocks of 100 bytes from function i, addresses from base. */
static struct store *run(__u64 base, const unsigned *blocks)
{
	struct store *st = store__new();
	__u64 ptr = 0x1000, seq = 0, frame;
	unsigned i, k;

	cr_assert_not_null(st);
	for (i = 0; i < 4; i++) {
		frame = base + i;
		for (k = 0; k < blocks[i]; k++) {
			ptr += 0x100;
			seq++;
			ev_alloc(st, ptr, 100, seq, &frame, 1, seq);
		}
	}
	return st;
}

static const struct diff_row *row_of(const struct diff *d, const char *fn)
{
	size_t i;

	for (i = 0; i < d->nr; i++)
		if (d->rows[i].nr_frames &&
		    !strcmp(d->rows[i].frames[0].function, fn))
			return &d->rows[i];
	return NULL;
}

Test(diff, two_runs_match_by_frames)
{
	static const unsigned a_blocks[4] = { 2, 5, 3, 0 };
	static const unsigned b_blocks[4] = { 9, 1, 0, 4 };
	struct store *a = run(0x555500000000, a_blocks);
	struct store *b = run(0x7f0000000000, b_blocks);
	struct growth *ga = growth__new(), *gb = growth__new();
	struct growth_mark m = { .ts_ns = 1000 };
	struct diff_side from, to;
	const struct diff_row *r;
	struct diff d;
	size_t i;

	cr_assert_eq(growth__take(ga, a, &m), 0);
	cr_assert_eq(growth__take(gb, b, &m), 0);
	from = (struct diff_side){ growth__last(ga), a, resolve, NULL };
	to = (struct diff_side){ growth__last(gb), b, resolve, NULL };
	cr_assert_eq(diff__build(&from, 1, &to, 1, &d), 0);
	cr_expect_eq(d.nr, 4, "rows: %zu, want one per function", d.nr);
	cr_expect_eq(d.from_blocks, 10);
	cr_expect_eq(d.to_blocks, 14);
	for (i = 0; i < 4; i++) {
		r = row_of(&d, names[i]);
		cr_assert_not_null(r, "%s: no row", names[i]);
		cr_expect(r->from_blocks == a_blocks[i] &&
			  r->to_blocks == b_blocks[i] &&
			  r->d_bytes == 100 * ((long long)b_blocks[i] - a_blocks[i]),
			  "%s: %llu then %llu blocks, %+lld bytes", names[i],
			  (unsigned long long)r->from_blocks,
			  (unsigned long long)r->to_blocks, r->d_bytes);
		if (i)
			cr_expect_geq(d.rows[i - 1].d_bytes, d.rows[i].d_bytes,
				      "rows by growth");
	}
	cr_expect_str_eq(d.rows[0].frames[0].function, "grows");
	diff__fini(&d);
	growth__free(ga);
	growth__free(gb);
	store__free(a);
	store__free(b);
}

/* One store at two moments: the same stack ids, the earlier snapshot. */
Test(diff, one_store_two_moments)
{
	static const unsigned blocks[4] = { 3, 0, 0, 0 };
	struct store *st = run(0x400000, blocks);
	struct growth *g0 = growth__new(), *g1 = growth__new();
	struct growth_mark m = { .ts_ns = 10 };
	struct diff_side from, to;
	__u64 frame = 0x400000;
	struct diff d;

	cr_assert_eq(growth__take(g0, st, &m), 0);
	ev_alloc(st, 0x9000, 50, 100, &frame, 1, 20);
	m.ts_ns = 30;
	cr_assert_eq(growth__take(g1, st, &m), 0);
	from = (struct diff_side){ growth__last(g0), st, resolve, NULL };
	to = (struct diff_side){ growth__last(g1), st, resolve, NULL };
	cr_assert_eq(diff__build(&from, 1, &to, 1, &d), 0);
	cr_assert_eq(d.nr, 1);
	cr_expect(d.rows[0].d_bytes == 50 && d.rows[0].d_blocks == 1 &&
		  d.rows[0].from_bytes == 300,
		  "%+lld bytes, %+lld blocks from %llu", d.rows[0].d_bytes,
		  d.rows[0].d_blocks, (unsigned long long)d.rows[0].from_bytes);
	diff__fini(&d);
	growth__free(g0);
	growth__free(g1);
	store__free(st);
}

/*
 * Snapshot files are input: a site whose bytes go from past LLONG_MAX to
 * 100 changes by -LLONG_MAX, never by an overflowed long long.
 */
Test(diff, changes_past_long_long_are_held)
{
	struct store *a = store__new(), *b = store__new();
	struct growth *ga = growth__new(), *gb = growth__new();
	struct growth_mark m = { .ts_ns = 1000 };
	__u64 fa = 0x555500000000, fb = 0x7f0000000000;
	struct diff_side from, to;
	struct diff d;

	cr_assert(a && b && ga && gb);
	ev_alloc(a, 0x1000, ~0ULL - 7, 1, &fa, 1, 1);
	ev_alloc(b, 0x1000, 100, 1, &fb, 1, 1);
	cr_assert_eq(growth__take(ga, a, &m), 0);
	cr_assert_eq(growth__take(gb, b, &m), 0);
	from = (struct diff_side){ growth__last(ga), a, resolve, NULL };
	to = (struct diff_side){ growth__last(gb), b, resolve, NULL };
	cr_assert_eq(diff__build(&from, 1, &to, 1, &d), 0);
	cr_assert_eq(d.nr, 1);
	cr_expect_eq(d.rows[0].d_bytes, -LLONG_MAX);
	cr_expect_eq(d.rows[0].d_blocks, 0);
	diff__fini(&d);
	growth__free(ga);
	growth__free(gb);
	store__free(a);
	store__free(b);
}
