/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Unit tests of the event store: what each record does to live state and
 * counters, the realloc race rule, the exact peak and what made it, and
 * the memory budget per live block.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "anon.h"
#include "store.h"
#include "builders.h"
#include "expect.h"

#define MEM_BUDGET_PER_BLOCK	96

static struct store *st;

static void setup(void)
{
	ev_src.tid = 4243;
	st = store__new();
	cr_assert_not_null(st, "store__new: %s", strerror(errno));
}

static void teardown(void)
{
	store__free(st);
}

/* A broken index loops forever rather than failing: make that a failure. */
TestSuite(store, .init = setup, .fini = teardown, .timeout = 30);

/* For return values, where a negative errno must read as one. */
#define expect_ret(got, want, ...)					\
	do {								\
		int got_ = (got), want_ = (want);			\
		char what_[128];					\
									\
		snprintf(what_, sizeof(what_), __VA_ARGS__);		\
		cr_assert_eq(got_, want_, "%s: got %d, want %d",	\
			     what_, got_, want_);			\
	} while (0)

#define expect_sum(field, want)						\
	expect_eq(store__summary(st)->field, want, "summary." #field)

/* Test stack k: 2 to 5 frames, frames[0] different for every k. */
static void set_stack(struct ms_event *e, int k)
{
	int i;

	e->nr_frames = 2 + k % 4;
	for (i = 0; i < e->nr_frames; i++)
		e->frames[i] = 0x401000 + (__u64)k * 0x40 + (__u64)i * 0x10000;
}

/* The tests here are about the allocator function too. */
static struct ms_event rec(__u16 type, __u16 fn, __u64 ptr, __u64 size,
			   __u64 seq, __u64 ts)
{
	struct ms_event e = ev_rec(type, ts);

	e.fn = fn;
	e.seq = seq;
	e.ptr = ptr;
	e.size = size;
	return e;
}

static void apply(const struct ms_event *e)
{
	ev_apply(st, e);
}

static void alloc(__u64 ptr, __u64 size, __u64 seq, int stack, __u64 ts)
{
	struct ms_event e = rec(MS_EV_ALLOC, MS_FN_MALLOC, ptr, size, seq, ts);

	set_stack(&e, stack);
	apply(&e);
}

static void dealloc(__u64 ptr, __u64 ts)
{
	ev_free(st, ptr, ts);
}

static void re(__u64 old_ptr, __u64 old_seq, __u64 ptr, __u64 size,
	       __u64 seq, int stack, __u64 ts)
{
	struct ms_event e = rec(MS_EV_REALLOC, MS_FN_REALLOC, ptr, size, seq,
				ts);

	e.old_ptr = old_ptr;
	e.old_seq = old_seq;
	set_stack(&e, stack);
	apply(&e);
}

static __u32 stack_id_of(int k)
{
	struct ms_event e;
	struct store_site s;
	__u32 id, n = store__nr_stacks(st);

	set_stack(&e, k);
	for (id = 0; id < n; id++) {
		cr_assert_eq(store__site(st, id, &s), 0, "store__site(%u)", id);
		if (s.nr_frames == e.nr_frames &&
		    !memcmp(s.frames, e.frames, s.nr_frames * sizeof(__u64)))
			break;
	}
	cr_assert_lt(id, n, "no site for test stack %d", k);
	return id;
}

static struct store_site site_of(int k)
{
	struct store_site s;

	cr_assert_eq(store__site(st, stack_id_of(k), &s), 0, "store__site");
	return s;
}

static void expect_site(int k, __u64 allocs, __u64 alloc_bytes,
			__u64 live_count, __u64 live_bytes)
{
	struct store_site s = site_of(k);

	expect_eq(s.allocs, allocs, "stack %d allocs", k);
	expect_eq(s.alloc_bytes, alloc_bytes, "stack %d alloc_bytes", k);
	expect_eq(s.live_count, live_count, "stack %d live_count", k);
	expect_eq(s.live_bytes, live_bytes, "stack %d live_bytes", k);
}

static void expect_at_peak(int k, __u64 count, __u64 bytes)
{
	struct store_site s = site_of(k);

	expect_eq(s.peak_count, count, "stack %d peak_count", k);
	expect_eq(s.peak_bytes, bytes, "stack %d peak_bytes", k);
}

struct find_ctx {
	__u64 ptr;
	struct store_block b;
	int found;
};

static int find_cb(const struct store_block *b, void *ctx)
{
	struct find_ctx *f = ctx;

	if (b->ptr == f->ptr) {
		f->b = *b;
		f->found++;
	}
	return 0;
}

static int live_times(__u64 ptr, struct store_block *out)
{
	struct find_ctx f = { .ptr = ptr };

	cr_assert_eq(store__for_each_live(st, find_cb, &f), 0,
		     "for_each_live");
	if (out)
		*out = f.b;
	return f.found;
}

static void expect_block(__u64 ptr, __u64 size, __u64 seq, __u64 ts, int k)
{
	struct store_block b;
	int n = live_times(ptr, &b);

	cr_assert_eq(n, 1, "block %#llx live %d times, want once",
		     (unsigned long long)ptr, n);
	expect_eq(b.size, size, "block %#llx size", (unsigned long long)ptr);
	expect_eq(b.seq, seq, "block %#llx seq", (unsigned long long)ptr);
	expect_eq(b.ts_ns, ts, "block %#llx ts_ns", (unsigned long long)ptr);
	expect_eq(b.stack_id, stack_id_of(k), "block %#llx stack_id",
		  (unsigned long long)ptr);
	expect_eq(b.tid, 4243, "block %#llx tid", (unsigned long long)ptr);
}

static void expect_dead(__u64 ptr)
{
	int n = live_times(ptr, NULL);

	cr_assert_eq(n, 0, "block %#llx live %d times, want not live",
		     (unsigned long long)ptr, n);
}

#define P	0x10000ull
#define Q	0x20000ull
#define R	0x30000ull
#define U	0x99990ull

Test(store, empty)
{
	struct store_summary zero;
	struct store_site s;

	memset(&zero, 0, sizeof(zero));
	cr_assert_eq(memcmp(store__summary(st), &zero, sizeof(zero)), 0,
		     "a new store has a non-zero summary");
	expect_eq(store__nr_stacks(st), 0, "nr_stacks");
	expect_eq(live_times(P, NULL), 0, "blocks in a new store");
	expect_ret(store__site(st, 0, &s), -ENOENT, "store__site(0) on empty");
}

Test(store, summary_fields)
{
	alloc(P, 100, 1, 0, 500);
	alloc(Q, 50, 2, 1, 300);	/* records need not come in ts order */
	dealloc(P, 900);
	alloc(R, 10, 3, 0, 700);

	expect_sum(events, 4);
	expect_sum(allocs, 3);
	expect_sum(frees, 1);
	expect_sum(alloc_bytes, 160);
	expect_sum(free_bytes, 100);
	expect_sum(live_allocs, 2);
	expect_sum(live_bytes, 60);
	expect_sum(peak_bytes, 150);
	expect_sum(peak_ns, 300);
	expect_sum(failed_allocs, 0);
	expect_sum(unknown_frees, 0);
	expect_sum(replaced, 0);
	expect_sum(first_ns, 300);
	expect_sum(last_ns, 900);
	expect_site(0, 2, 110, 1, 10);
	expect_site(1, 1, 50, 1, 50);
}

Test(store, failed_alloc)
{
	struct ms_event e = rec(MS_EV_ALLOC, MS_FN_MALLOC, 0, 1ull << 40, 0, 7);

	set_stack(&e, 0);
	apply(&e);
	expect_sum(events, 1);
	expect_sum(failed_allocs, 1);
	expect_sum(allocs, 0);
	expect_sum(alloc_bytes, 0);
	expect_sum(live_allocs, 0);
	expect_sum(peak_bytes, 0);
	expect_eq(store__nr_stacks(st), 0, "stacks interned by a failure");
}

Test(store, unknown_free)
{
	alloc(P, 100, 1, 0, 10);
	dealloc(U, 20);
	expect_sum(unknown_frees, 1);
	expect_sum(frees, 0);
	expect_sum(free_bytes, 0);
	expect_sum(live_allocs, 1);
	expect_sum(live_bytes, 100);
	expect_block(P, 100, 1, 10, 0);

	/* free(NULL) is legal and frees nothing */
	dealloc(0, 30);
	expect_sum(unknown_frees, 1);
	expect_sum(events, 3);
}

Test(store, double_free)
{
	alloc(P, 100, 1, 0, 10);
	dealloc(P, 20);
	dealloc(P, 30);
	expect_sum(frees, 1);
	expect_sum(free_bytes, 100);
	expect_sum(unknown_frees, 1);
	expect_sum(live_allocs, 0);
	expect_site(0, 1, 100, 0, 0);
}

Test(store, alloc_at_live_address_replaces)
{
	alloc(P, 100, 1, 0, 10);
	alloc(P, 30, 2, 1, 20);		/* its free was never seen */
	expect_sum(replaced, 1);
	expect_sum(allocs, 2);
	expect_sum(alloc_bytes, 130);
	expect_sum(frees, 0);
	expect_sum(free_bytes, 0);
	expect_sum(live_allocs, 1);
	expect_sum(live_bytes, 30);
	expect_site(0, 1, 100, 0, 0);
	expect_site(1, 1, 30, 1, 30);
	expect_block(P, 30, 2, 20, 1);

	dealloc(P, 30);
	expect_sum(frees, 1);
	expect_sum(free_bytes, 30);
	expect_sum(live_allocs, 0);
	expect_sum(live_bytes, 0);
	expect_site(1, 1, 30, 0, 0);
}

Test(store, address_reuse_is_a_new_block)
{
	alloc(P, 100, 1, 0, 10);
	dealloc(P, 20);
	alloc(P, 64, 2, 1, 30);
	expect_sum(replaced, 0);
	expect_sum(allocs, 2);
	expect_sum(frees, 1);
	expect_sum(live_allocs, 1);
	expect_sum(live_bytes, 64);
	expect_block(P, 64, 2, 30, 1);
	expect_site(0, 1, 100, 0, 0);
	expect_site(1, 1, 64, 1, 64);
}

Test(store, realloc_chain)
{
	re(0, 0, P, 10, 1, 0, 10);	/* realloc(NULL, 10) is malloc */
	re(P, 1, Q, 20, 2, 1, 20);
	re(Q, 2, R, 40, 3, 2, 30);
	expect_sum(events, 3);
	expect_sum(allocs, 3);
	expect_sum(frees, 2);
	expect_sum(alloc_bytes, 70);
	expect_sum(free_bytes, 30);
	expect_sum(live_allocs, 1);
	expect_sum(live_bytes, 40);
	expect_sum(peak_bytes, 40);
	expect_sum(peak_ns, 30);
	expect_sum(unknown_frees, 0);
	expect_sum(replaced, 0);
	expect_dead(P);
	expect_dead(Q);
	expect_block(R, 40, 3, 30, 2);
	expect_site(0, 1, 10, 0, 0);
	expect_site(1, 1, 20, 0, 0);
	expect_site(2, 1, 40, 1, 40);
}

Test(store, realloc_in_place)
{
	alloc(P, 100, 1, 0, 10);
	re(P, 1, P, 200, 2, 1, 20);
	expect_sum(allocs, 2);
	expect_sum(frees, 1);
	expect_sum(free_bytes, 100);
	expect_sum(live_allocs, 1);
	expect_sum(live_bytes, 200);
	expect_sum(replaced, 0);
	expect_sum(unknown_frees, 0);
	expect_block(P, 200, 2, 20, 1);
	expect_site(0, 1, 100, 0, 0);
	expect_site(1, 1, 200, 1, 200);
}

Test(store, realloc_to_zero_frees)
{
	alloc(P, 100, 1, 0, 10);
	re(P, 1, 0, 0, 0, 1, 20);
	expect_sum(frees, 1);
	expect_sum(free_bytes, 100);
	expect_sum(allocs, 1);
	expect_sum(failed_allocs, 0);
	expect_sum(live_allocs, 0);
	expect_sum(live_bytes, 0);
	expect_dead(P);
	expect_eq(store__nr_stacks(st), 1, "stacks interned by a pure free");
}

Test(store, failed_realloc_keeps_old_block)
{
	alloc(P, 100, 1, 0, 10);
	re(P, 1, 0, 4096, 0, 1, 20);
	expect_sum(failed_allocs, 1);
	expect_sum(frees, 0);
	expect_sum(allocs, 1);
	expect_sum(live_allocs, 1);
	expect_sum(live_bytes, 100);
	expect_block(P, 100, 1, 10, 0);
	expect_eq(store__nr_stacks(st), 1, "stacks interned by a failure");

	re(0, 0, 0, 64, 0, 1, 30);	/* realloc(NULL, 64) failing */
	expect_sum(failed_allocs, 2);
	expect_sum(live_allocs, 1);
}

Test(store, realloc_of_unknown_pointer)
{
	re(U, 0, Q, 64, 5, 0, 10);
	expect_sum(unknown_frees, 1);
	expect_sum(frees, 0);
	expect_sum(allocs, 1);
	expect_sum(live_allocs, 1);
	expect_sum(live_bytes, 64);
	expect_block(Q, 64, 5, 10, 0);

	re(U + 16, 0, 0, 0, 0, 0, 20);	/* realloc(unknown, 0) */
	expect_sum(unknown_frees, 2);
	expect_sum(frees, 0);
	expect_sum(live_allocs, 1);
}

/*
 * Thread A reallocs P to Q; the allocator hands P to thread B at once and
 * B's alloc record reaches us before A's realloc record.
 */
Test(store, realloc_race_keeps_the_new_owner)
{
	alloc(P, 100, 1, 0, 10);	/* A's block */
	alloc(P, 30, 5, 1, 25);		/* B's, overtaking A's realloc */
	re(P, 1, Q, 200, 6, 2, 20);	/* A: realloc(P) -> Q, old_seq 1 */

	expect_sum(replaced, 1);
	expect_sum(frees, 0);
	expect_sum(unknown_frees, 0);
	expect_sum(allocs, 3);
	expect_sum(live_allocs, 2);
	expect_sum(live_bytes, 230);
	expect_block(P, 30, 5, 25, 1);
	expect_block(Q, 200, 6, 20, 2);
	expect_site(0, 1, 100, 0, 0);
	expect_site(1, 1, 30, 1, 30);
	expect_site(2, 1, 200, 1, 200);

	/* the same race for realloc(P, 0) */
	alloc(R, 8, 7, 0, 30);
	alloc(R, 16, 8, 1, 31);
	re(R, 7, 0, 0, 0, 0, 32);
	expect_block(R, 16, 8, 31, 1);
	expect_sum(frees, 0);
	expect_sum(unknown_frees, 0);
}

Test(store, realloc_releases_on_matching_or_unknown_seq)
{
	alloc(P, 100, 7, 0, 10);
	re(P, 7, Q, 50, 8, 1, 20);
	expect_dead(P);
	expect_sum(frees, 1);

	/* old_seq 0: the kernel did not know, take whatever is live */
	re(Q, 0, R, 70, 9, 2, 30);
	expect_dead(Q);
	expect_sum(frees, 2);
	expect_sum(free_bytes, 150);
	expect_sum(live_allocs, 1);
	expect_block(R, 70, 9, 30, 2);
}

/*
 * The allocator may call malloc and free inside realloc; the kernel reports
 * only the outermost call, so one record must count exactly once.
 */
Test(store, realloc_record_counts_once)
{
	struct ms_event e = rec(MS_EV_REALLOC, MS_FN_REALLOCARRAY, Q, 300, 2,
				20);

	alloc(P, 100, 1, 0, 10);
	e.old_ptr = P;
	e.old_seq = 1;
	set_stack(&e, 1);
	apply(&e);
	expect_sum(events, 2);
	expect_sum(allocs, 2);
	expect_sum(frees, 1);
	expect_sum(alloc_bytes, 400);
	expect_sum(free_bytes, 100);
	expect_sum(live_allocs, 1);
	expect_sum(live_bytes, 300);
	expect_site(1, 1, 300, 1, 300);
}

/* --mode=alloc: a record counts a call from its stack, nothing is live. */
Test(store, profile_records_count_calls_only)
{
	struct ms_event e = rec(MS_EV_ALLOC, MS_FN_CALLOC, 0, 100, 0, 10);
	int err;

	e.flags = MS_EVF_PROFILE | MS_EVF_STACK_TRUNC;
	set_stack(&e, 1);
	apply(&e);
	e.ts_ns = 20;
	apply(&e);
	e.size = 50;
	e.flags = MS_EVF_PROFILE;
	apply(&e);
	expect_sum(events, 3);
	expect_sum(allocs, 3);
	expect_sum(alloc_bytes, 250);
	expect_sum(failed_allocs, 0);
	expect_sum(live_allocs, 0);
	expect_sum(live_bytes, 0);
	expect_sum(peak_bytes, 0);
	expect_eq(store__nr_stacks(st), 1, "nr_stacks");
	expect_site(1, 3, 250, 0, 0);
	expect_eq(site_of(1).flags, MS_EVF_STACK_TRUNC, "stack 1 flags");
	expect_eq(live_times(0, NULL), 0, "live blocks at NULL");

	/* only an allocation call is profiled */
	e.type = MS_EV_FREE;
	err = store__apply(st, &e);
	expect_ret(err, -EINVAL, "profiled free");
	e.type = MS_EV_REALLOC;
	err = store__apply(st, &e);
	expect_ret(err, -EINVAL, "profiled realloc");
	expect_sum(events, 3);
}

Test(store, peak_composition_is_exact)
{
	alloc(P, 100, 1, 1, 10);
	alloc(Q, 50, 2, 2, 20);
	expect_sum(peak_bytes, 150);
	expect_sum(peak_ns, 20);
	expect_at_peak(1, 1, 100);
	expect_at_peak(2, 1, 50);

	dealloc(P, 30);
	expect_sum(peak_bytes, 150);
	expect_at_peak(1, 1, 100);
	expect_at_peak(2, 1, 50);

	alloc(R, 120, 3, 1, 40);
	expect_sum(peak_bytes, 170);
	expect_sum(peak_ns, 40);
	expect_at_peak(1, 1, 120);
	expect_at_peak(2, 1, 50);

	dealloc(Q, 50);
	dealloc(R, 60);
	expect_sum(live_bytes, 0);
	expect_sum(peak_bytes, 170);
	expect_sum(peak_ns, 40);
	expect_at_peak(1, 1, 120);
	expect_at_peak(2, 1, 50);
	expect_site(1, 2, 220, 0, 0);

	/* a stack first seen after the peak had nothing live at it */
	alloc(U, 100, 4, 3, 70);
	expect_at_peak(3, 0, 0);
	expect_at_peak(1, 1, 120);
	expect_sum(peak_bytes, 170);
}

Test(store, peak_is_first_reached)
{
	alloc(P, 100, 1, 1, 10);
	dealloc(P, 20);
	alloc(Q, 100, 2, 2, 30);	/* equals the peak, does not beat it */
	expect_sum(peak_bytes, 100);
	expect_sum(peak_ns, 10);
	expect_at_peak(1, 1, 100);
	expect_at_peak(2, 0, 0);
}

Test(store, peak_reached_by_realloc)
{
	alloc(P, 100, 1, 1, 10);
	alloc(Q, 100, 2, 2, 20);
	re(P, 1, R, 300, 3, 3, 30);		/* grows by moving: 400 */
	expect_sum(peak_bytes, 400);
	expect_sum(peak_ns, 30);
	expect_at_peak(1, 0, 0);
	expect_at_peak(2, 1, 100);
	expect_at_peak(3, 1, 300);

	re(R, 3, R, 50, 4, 3, 40);		/* shrinks in place: 150 */
	alloc(U, 200, 5, 1, 50);		/* 350, under the peak */
	expect_sum(peak_bytes, 400);
	expect_sum(peak_ns, 30);
	expect_at_peak(1, 0, 0);
	expect_at_peak(2, 1, 100);
	expect_at_peak(3, 1, 300);
	expect_site(3, 2, 350, 1, 50);

	re(R, 4, R, 1000, 6, 3, 60);		/* grows in place: 1300 */
	expect_sum(peak_bytes, 1300);
	expect_sum(peak_ns, 60);
	expect_at_peak(1, 1, 200);
	expect_at_peak(2, 1, 100);
	expect_at_peak(3, 1, 1000);

	dealloc(P, 70);				/* already gone: unknown */
	dealloc(Q, 71);
	dealloc(R, 72);
	dealloc(U, 73);
	expect_sum(unknown_frees, 1);
	expect_sum(live_bytes, 0);
	expect_sum(peak_bytes, 1300);
	expect_at_peak(1, 1, 200);
	expect_at_peak(2, 1, 100);
	expect_at_peak(3, 1, 1000);
}

Test(store, stacks_interned_in_order_of_first_sight)
{
	struct ms_event e;
	struct store_site s;

	alloc(P, 1, 1, 5, 10);
	alloc(Q, 2, 2, 3, 20);
	alloc(R, 3, 3, 5, 30);
	expect_eq(store__nr_stacks(st), 2, "nr_stacks");
	expect_eq(stack_id_of(5), 0, "id of the first stack seen");
	expect_eq(stack_id_of(3), 1, "id of the second stack seen");
	expect_site(5, 2, 4, 2, 4);

	/* a prefix of a known stack is a stack of its own */
	e = rec(MS_EV_ALLOC, MS_FN_CALLOC, U, 4, 4, 40);
	set_stack(&e, 5);
	e.nr_frames--;
	apply(&e);
	expect_eq(store__nr_stacks(st), 3, "nr_stacks after a prefix");

	/* all records without frames share one empty stack */
	e = rec(MS_EV_ALLOC, MS_FN_MALLOC, U + 16, 5, 5, 50);
	e.flags = MS_EVF_STACK_ERR;
	apply(&e);
	e = rec(MS_EV_ALLOC, MS_FN_MALLOC, U + 32, 6, 6, 60);
	apply(&e);
	expect_eq(store__nr_stacks(st), 4, "nr_stacks after empty stacks");
	cr_assert_eq(store__site(st, 3, &s), 0, "store__site(3)");
	expect_eq(s.nr_frames, 0, "empty stack nr_frames");
	expect_eq(s.allocs, 2, "empty stack allocs");
	expect_eq(s.flags, MS_EVF_STACK_ERR, "empty stack flags");

	/* stack flags accumulate; other flags are not the site's */
	e = rec(MS_EV_ALLOC, MS_FN_MALLOC, U + 48, 7, 7, 70);
	set_stack(&e, 3);
	e.flags = MS_EVF_STACK_TRUNC | MS_EVF_LIVE_FULL;
	apply(&e);
	expect_eq(site_of(3).flags, MS_EVF_STACK_TRUNC, "stack 3 flags");
	expect_eq(site_of(5).flags, 0, "stack 5 flags");

	/* frees carry no stack, even when frames are filled in */
	e = rec(MS_EV_FREE, MS_FN_FREE, P, 0, 0, 80);
	set_stack(&e, 9);
	apply(&e);
	expect_eq(store__nr_stacks(st), 4, "nr_stacks after a free");
	expect_ret(store__site(st, 4, &s), -ENOENT, "store__site(nr_stacks)");
	expect_ret(store__site(st, ~0u, &s), -ENOENT, "store__site(~0)");
}

/* The frames of a site outlive the growth that more stacks cause. */
Test(store, site_frames_stay_valid)
{
	struct ms_event e;
	struct store_site first, again;
	int k;

	alloc(P, 8, 1, 0, 10);
	first = site_of(0);
	for (k = 1; k <= 3000; k++)
		alloc(P + 16 * k, 8, 1 + k, k, 10 + k);
	expect_eq(store__nr_stacks(st), 3001, "nr_stacks");
	again = site_of(0);
	cr_assert_eq(again.frames, first.frames,
		     "frames of stack 0 moved from %p to %p",
		     (const void *)first.frames, (const void *)again.frames);
	set_stack(&e, 0);
	cr_assert_eq(memcmp(first.frames, e.frames,
			    e.nr_frames * sizeof(__u64)), 0,
		     "frames of stack 0 changed");
}

struct walk_ctx {
	int calls;
	int stop_at;
	__u64 ptr_sum;
	__u64 size_sum;
};

static int walk_cb(const struct store_block *b, void *ctx)
{
	struct walk_ctx *w = ctx;

	w->ptr_sum += b->ptr;
	w->size_sum += b->size;
	return ++w->calls == w->stop_at ? 42 : 0;
}

Test(store, for_each_live_stops_early)
{
	struct walk_ctx w = { .stop_at = 3 };
	int i, ret;

	for (i = 1; i <= 5; i++)
		alloc(P * i, i, i, 0, i);
	ret = store__for_each_live(st, walk_cb, &w);
	expect_ret(ret, 42, "for_each_live return");
	expect_eq(w.calls, 3, "callbacks before the stop");

	memset(&w, 0, sizeof(w));
	ret = store__for_each_live(st, walk_cb, &w);
	expect_ret(ret, 0, "for_each_live return");
	expect_eq(w.calls, 5, "callbacks");
	expect_eq(w.ptr_sum, 15 * P, "sum of live ptrs");
	expect_eq(w.size_sum, 15, "sum of live sizes");
}

Test(store, frees_in_any_order_keep_blocks_intact)
{
	__u64 i;

	for (i = 1; i <= 300; i++)
		alloc(i * 48, i, i, i % 7, i);
	for (i = 2; i <= 300; i += 2)
		dealloc(i * 48, 1000 + i);
	expect_sum(unknown_frees, 0);
	expect_sum(live_allocs, 150);
	for (i = 1; i <= 300; i++) {
		if (i % 2)
			expect_block(i * 48, i, i, i, i % 7);
		else
			expect_dead(i * 48);
	}
}

/*
 * A reference model over a small address space: alloc, free and realloc at
 * random, at a load that makes long probe runs, checked against the store.
 */
#define MODEL_ADDRS	1400
#define MODEL_OPS	40000

struct model {
	__u64 seq[MODEL_ADDRS];		/* 0: not live */
	__u64 size[MODEL_ADDRS];
	struct store_summary sum;
};

static __u64 rng_state = 0x2545f4914f6cdd1dull;

static __u64 rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void model_add(struct model *m, unsigned int a, __u64 size, __u64 seq)
{
	if (m->seq[a]) {
		m->sum.replaced++;
		m->sum.live_allocs--;
		m->sum.live_bytes -= m->size[a];
	}
	m->seq[a] = seq;
	m->size[a] = size;
	m->sum.allocs++;
	m->sum.alloc_bytes += size;
	m->sum.live_allocs++;
	m->sum.live_bytes += size;
	if (m->sum.live_bytes > m->sum.peak_bytes)
		m->sum.peak_bytes = m->sum.live_bytes;
}

static void model_release(struct model *m, unsigned int a)
{
	if (!m->seq[a]) {
		m->sum.unknown_frees++;
		return;
	}
	m->sum.frees++;
	m->sum.free_bytes += m->size[a];
	m->sum.live_allocs--;
	m->sum.live_bytes -= m->size[a];
	m->seq[a] = 0;
}

static __u64 model_ptr(unsigned int a)
{
	/* spread over a wide range, allocator-like alignment */
	return 0x7f0000000000ull + (__u64)a * 4096 + (a % 5) * 16;
}

Test(store, matches_reference_model)
{
	static struct model m;
	struct ms_event e;
	unsigned int a, b, i;
	__u64 seq = 0, size;

	for (i = 0; i < MODEL_OPS; i++) {
		a = rng() % MODEL_ADDRS;
		size = rng() % 512;
		switch (rng() % 4) {
		case 0:
		case 1:
			alloc(model_ptr(a), size, ++seq, a % 13, i);
			model_add(&m, a, size, seq);
			break;
		case 2:
			dealloc(model_ptr(a), i);
			model_release(&m, a);
			break;
		case 3:
			b = rng() % MODEL_ADDRS;
			e = rec(MS_EV_REALLOC, MS_FN_REALLOC, model_ptr(b),
				size + 1, ++seq, i);
			e.old_ptr = model_ptr(a);
			e.old_seq = m.seq[a];
			set_stack(&e, b % 13);
			apply(&e);
			model_release(&m, a);
			model_add(&m, b, size + 1, seq);
			break;
		}
	}
	expect_sum(allocs, m.sum.allocs);
	expect_sum(frees, m.sum.frees);
	expect_sum(alloc_bytes, m.sum.alloc_bytes);
	expect_sum(free_bytes, m.sum.free_bytes);
	expect_sum(live_allocs, m.sum.live_allocs);
	expect_sum(live_bytes, m.sum.live_bytes);
	expect_sum(peak_bytes, m.sum.peak_bytes);
	expect_sum(unknown_frees, m.sum.unknown_frees);
	expect_sum(replaced, m.sum.replaced);
	expect_sum(events, MODEL_OPS);
	for (a = 0; a < MODEL_ADDRS; a++) {
		struct store_block blk;
		int n = live_times(model_ptr(a), &blk);

		expect_eq(n, !!m.seq[a], "address %u live", a);
		if (n) {
			expect_eq(blk.seq, m.seq[a], "address %u seq", a);
			expect_eq(blk.size, m.size[a], "address %u size", a);
		}
	}
}

Test(store, malformed_records_change_nothing)
{
	struct store_summary before;
	struct ms_event e;
	size_t mem;
	int err;

	alloc(P, 100, 1, 0, 10);
	before = *store__summary(st);
	mem = store__mem_bytes(st);

	e = rec(0, MS_FN_MALLOC, Q, 8, 2, 20);
	err = store__apply(st, &e);
	expect_ret(err, -EINVAL, "type 0");
	e = rec(MS_EV_REALLOC + 1, MS_FN_MALLOC, Q, 8, 2, 20);
	err = store__apply(st, &e);
	expect_ret(err, -EINVAL, "unknown type");
	e = rec(MS_EV_ALLOC, MS_FN__COUNT, Q, 8, 2, 20);
	set_stack(&e, 1);
	err = store__apply(st, &e);
	expect_ret(err, -EINVAL, "fn MS_FN__COUNT");
	e = rec(MS_EV_ALLOC, MS_FN_MALLOC, Q, 8, 2, 20);
	e.nr_frames = MS_MAX_STACK + 1;
	err = store__apply(st, &e);
	expect_ret(err, -EINVAL, "nr_frames MS_MAX_STACK + 1");
	e = rec(MS_EV_FREE, MS_FN_FREE, P, 0, 0, 20);
	e.nr_frames = 0xffff;
	err = store__apply(st, &e);
	expect_ret(err, -EINVAL, "free with nr_frames 0xffff");

	cr_assert_eq(memcmp(store__summary(st), &before, sizeof(before)), 0,
		     "a malformed record changed the summary");
	expect_eq(store__nr_stacks(st), 1, "nr_stacks");
	expect_eq(store__mem_bytes(st), mem, "mem_bytes");
	expect_block(P, 100, 1, 10, 0);
	expect_dead(Q);

	/* the limits themselves are fine */
	e = rec(MS_EV_ALLOC, MS_FN_PVALLOC, Q, 8, 2, 20);
	e.nr_frames = MS_MAX_STACK;
	apply(&e);
	expect_sum(live_allocs, 2);
}

/* Producers may send only the used part of frames[]: nothing more is read. */
Test(store, records_cut_to_their_frames)
{
	struct ms_event tmpl = rec(MS_EV_ALLOC, MS_FN_MALLOC, P, 10, 1, 10);
	struct ms_event *e;
	int err;

	/* store__apply itself: the builders read a whole struct ms_event. */
	set_stack(&tmpl, 2);
	e = malloc(ms_event_size(tmpl.nr_frames));
	cr_assert_not_null(e, "malloc");
	memcpy(e, &tmpl, ms_event_size(tmpl.nr_frames));
	err = store__apply(st, e);
	free(e);
	expect_ret(err, 0, "the alloc cut to its 2 frames");

	tmpl = rec(MS_EV_FREE, MS_FN_FREE, P, 0, 0, 20);
	e = malloc(ms_event_size(0));
	cr_assert_not_null(e, "malloc");
	memcpy(e, &tmpl, ms_event_size(0));
	err = store__apply(st, e);
	free(e);
	expect_ret(err, 0, "the free cut to no frames");
	expect_sum(frees, 1);
	expect_eq(site_of(2).allocs, 1, "stack 2 allocs");
}

/*
 * The budget must hold at every size, including right after the live
 * index doubles, not only where a single measurement happens to land.
 */
Test(store, mem_per_live_block_within_budget)
{
	const __u64 n = 1000000, check_from = 1 << 16;
	size_t base = store__mem_bytes(st), mem;
	struct ms_event e = rec(MS_EV_ALLOC, MS_FN_MALLOC, 0, 64, 0, 0);
	__u64 i, worst = 0;
	int err;

	for (i = 1; i <= n; i++) {
		e.ptr = 0x7f0000000000ull + i * 64;
		e.seq = i;
		e.ts_ns = i;
		set_stack(&e, i % 1000);
		err = store__apply(st, &e);
		if (err)
			cr_assert_fail("block %llu: store__apply = %d",
				       (unsigned long long)i, err);
		if (i < check_from)
			continue;
		mem = store__mem_bytes(st);
		if ((mem - base) / i > worst)
			worst = (mem - base) / i;
		if ((mem - base) > MEM_BUDGET_PER_BLOCK * i)
			cr_assert_fail("%zu bytes for %llu live blocks: %.1f per block, budget %d",
				       mem - base, (unsigned long long)i,
				       (double)(mem - base) / i,
				       MEM_BUDGET_PER_BLOCK);
	}
	expect_sum(live_allocs, n);
	expect_eq(store__nr_stacks(st), 1000, "nr_stacks");
	cr_assert_leq(worst, MEM_BUDGET_PER_BLOCK, "worst bytes per block");
	/* a budget met by not counting the blocks themselves proves nothing */
	mem = store__mem_bytes(st);
	cr_assert_geq(mem - base, n * sizeof(struct store_block),
		      "%zu bytes counted for %llu live blocks of %zu bytes",
		      mem - base, (unsigned long long)n,
		      sizeof(struct store_block));
}

/*
 * Churn through ever new addresses with a sliding window: tombstones would
 * fill the index and force growth or rehashes; memory must stay flat.
 */
Test(store, churn_keeps_memory_flat)
{
	const __u64 window = 1000, steps = 300000;
	struct ms_event a = rec(MS_EV_ALLOC, MS_FN_MALLOC, 0, 32, 0, 0);
	struct ms_event f = rec(MS_EV_FREE, MS_FN_FREE, 0, 0, 0, 0);
	size_t warm = 0;
	__u64 i;
	int err;

	set_stack(&a, 1);
	for (i = 1; i <= steps; i++) {
		a.ptr = 0x10000 + i * 32;
		a.seq = i;
		err = store__apply(st, &a);
		if (!err && i > window) {
			f.ptr = 0x10000 + (i - window) * 32;
			err = store__apply(st, &f);
		}
		if (err)
			cr_assert_fail("step %llu: store__apply = %d",
				       (unsigned long long)i, err);
		if (i == 2 * window)
			warm = store__mem_bytes(st);
	}
	expect_sum(live_allocs, window);
	expect_sum(unknown_frees, 0);
	expect_sum(replaced, 0);
	expect_sum(frees, steps - window);
	expect_eq(store__mem_bytes(st), warm, "mem_bytes after churn");

	/* and the same address over and over */
	for (i = 0; i < steps; i++) {
		a.ptr = 0x10;
		err = store__apply(st, &a);
		if (!err) {
			f.ptr = 0x10;
			err = store__apply(st, &f);
		}
		if (err)
			cr_assert_fail("same-address step %llu: store__apply = %d",
				       (unsigned long long)i, err);
	}
	expect_sum(live_allocs, window);
	expect_eq(store__mem_bytes(st), warm, "mem_bytes after churn");
}

/* A 10 s trace in 1 ms buckets outgrows the timeline: it coarsens. */
Test(store, timeline_coarsens_and_keeps_the_peak)
{
	const struct timeline_point *pts;
	__u64 width, t, peak = 0, allocs = 0, frees = 0;
	size_t n, i;
	int k;

	/* a sawtooth: 1..9 blocks of 1000 bytes, one step every 10 ms */
	for (k = 0, t = 1000; k < 1000; k++, t += 10000000) {
		alloc(0x1000 + (__u64)k * 0x100, 1000, k + 1, 0, t);
		if (k % 9 == 8) {
			int j;

			for (j = 0; j < 9; j++)
				dealloc(0x1000 + (__u64)(k - j) * 0x100, t + 1);
		}
	}
	n = store__timeline(st, &pts, &width);
	cr_assert(n > 0 && n <= TIMELINE_POINTS, "%zu points", n);
	cr_expect_geq(width * TIMELINE_POINTS, 10000000000ull - 1000,
		      "width %llu ns cannot span 10 s", (unsigned long long)width);
	for (i = 0; i < n; i++) {
		if (pts[i].max_bytes > peak)
			peak = pts[i].max_bytes;
		allocs += pts[i].allocs;
		frees += pts[i].frees;
		if (i)
			expect_eq(pts[i].start_ns - pts[i - 1].start_ns, width,
				  "bucket %zu start", i);
	}
	expect_eq(peak, store__summary(st)->peak_bytes, "timeline maximum");
	expect_eq(allocs, 1000, "allocation calls over the timeline");
	expect_eq(frees, store__summary(st)->frees, "frees over the timeline");
	expect_eq(pts[n - 1].end_bytes, store__summary(st)->live_bytes,
		  "last bucket's end level");
}

/* A free timed by the drain tick is no earlier than the record before it. */
Test(store, tick_timed_free_follows_the_record_before_it)
{
	struct ms_event e = rec(MS_EV_FREE, MS_FN_FREE, P, 0, 0, 400);
	const struct timeline_point *pts;
	__u64 width;
	size_t n;

	alloc(P, 100, 1, 0, 1000);
	alloc(Q, 50, 2, 0, 5000000);
	e.flags = MS_EVF_TICK_TS;	/* the tick before both allocations */
	apply(&e);
	expect_sum(last_ns, 5000000);
	expect_sum(first_ns, 1000);
	expect_sum(live_bytes, 50);
	n = store__timeline(st, &pts, &width);
	cr_assert_gt(n, 0);
	expect_eq(pts[n - 1].frees, 1, "the free lands in the last bucket");
	expect_eq(pts[n - 1].end_bytes, 50, "level after the free");

	/* A tick later than every record keeps its own time. */
	e = rec(MS_EV_FREE, MS_FN_FREE, Q, 0, 0, 9000000);
	e.flags = MS_EVF_TICK_TS;
	apply(&e);
	expect_sum(last_ns, 9000000);
}

/*
 * Hours of a service in one go: 4 million records from threads that come
 * and go (every tid new), through ever new addresses, with reallocs that
 * move, anonymous mappings made and unmapped, and a double free now and
 * then, over a fixed set of call stacks and a bounded live set. The
 * store's memory follows the live blocks, sites and anomaly groups, not
 * the records: it must not move after the first pass.
 */
Test(store, hours_of_records_keep_memory_flat)
{
	const __u64 steps = 1750000, window = 2000, warmup = 50000;
	const __u64 heap = 0x7f0000000000ull, maps = 0x7e0000000000ull;
	__u64 i, ts = 0, seq = 0, records = 0, p, old;
	size_t warm = 0;

	for (i = 1; i <= steps; i++) {
		struct ms_event e;

		ev_src.tid = 5000 + (__u32)(i / 64);	/* a new thread every 64 */
		p = heap + i * 48;
		e = rec(MS_EV_ALLOC, MS_FN_MALLOC, p, 48 + i % 200, ++seq, ++ts);
		set_stack(&e, i % 64);
		apply(&e);
		records++;
		if (i > window) {
			old = heap + (i - window) * 48;
			if (i % 3 == 0) {
				/* a realloc that moves it, then its free */
				e = rec(MS_EV_REALLOC, MS_FN_REALLOC,
					old + 0x100000000ull, 96, ++seq, ++ts);
				e.old_ptr = old;
				set_stack(&e, 64 + i % 8);
				apply(&e);
				old += 0x100000000ull;
				records++;
			}
			e = rec(MS_EV_FREE, MS_FN_FREE, old, 0, 0, ++ts);
			apply(&e);
			records++;
		}
		if (i % 100 == 0) {
			/* a mapping of its own, gone 50 mappings later */
			ev_mmap(st, maps + (i % 1000000) * 8192, 8192,
				ANON_MAP_PRIVATE | ANON_MAP_ANONYMOUS, 0,
				(const __u64[]){ 0x500000 + i % 7 }, 1, ++ts);
			if (i > 5000)
				ev_munmap(st, maps + ((i - 5000) % 1000000) * 8192,
					  8192, ++ts);
			records += 2;
		}
		if (i % 1000 == 0 && i > window) {
			/* a double free: an anomaly of a known group */
			e = rec(MS_EV_FREE, MS_FN_FREE, heap + (i - window) * 48,
				0, 0, ++ts);
			e.flags = MS_EVF_FREE_CHECK;
			set_stack(&e, 100);
			apply(&e);
			records++;
		}
		if (i == warmup)
			warm = store__mem_bytes(st);
	}
	cr_assert_gt(records, 4000000, "%llu records",
		     (unsigned long long)records);
	expect_sum(live_allocs, window);
	/* each double free is also a free of an address not live */
	expect_sum(unknown_frees, steps / 1000 - 2);
	expect_sum(replaced, 0);
	expect_sum(anomalies, steps / 1000 - 2);
	cr_expect_eq(store__mem_bytes(st), warm,
		     "%zu bytes of store after %llu records, %zu after %llu steps",
		     store__mem_bytes(st), (unsigned long long)records, warm,
		     (unsigned long long)warmup);
	ev_src.tid = ev_src.pid;
}

/*
 * Past --max-stacks distinct stacks a new one counts at its innermost
 * frame alone, flagged full, apart from a whole one-frame stack there; a
 * stack seen before keeps its own site, and every figure stays exact.
 */
Test(store, max_stacks_cuts_new_stacks)
{
	struct ms_event e = rec(MS_EV_ALLOC, MS_FN_MALLOC, 0x9000, 64, 90, 9);
	struct store_site s;

	store__set_max_stacks(st, 3);
	alloc(0x1000, 10, 1, 1, 1);
	alloc(0x2000, 20, 2, 2, 2);
	/* stack 3's innermost frame alone, whole, while there is room */
	set_stack(&e, 3);
	e.nr_frames = 1;
	apply(&e);
	alloc(0x3000, 30, 3, 1, 3);		/* seen: its own site */
	alloc(0x4000, 40, 4, 3, 4);		/* new: cut */
	alloc(0x5000, 50, 5, 3, 5);		/* the same cut site */
	alloc(0x6000, 60, 6, 7, 6);		/* another frame: its own */
	expect_sum(stacks_cut, 3);
	expect_sum(allocs, 7);
	expect_sum(live_bytes, 10 + 20 + 64 + 30 + 40 + 50 + 60);
	expect_site(1, 2, 40, 2, 40);
	expect_site(2, 1, 20, 1, 20);
	cr_assert_eq(store__nr_stacks(st), 5, "3 kept, 2 cut sites");
	cr_assert_eq(store__site(st, 2, &s), 0);
	cr_expect_eq(s.nr_frames, 1, "the whole one-frame stack");
	cr_expect_eq(s.allocs, 1, "kept apart from the cut ones");
	cr_expect(!(s.flags & MS_EVF_STACK_FULL), "a whole stack: not full");
	cr_assert_eq(store__site(st, 3, &s), 0);
	cr_expect_eq(s.nr_frames, 1, "cut to the innermost frame");
	cr_expect_eq(s.frames[0], e.frames[0], "stack 3's innermost frame");
	cr_expect(s.flags & MS_EVF_STACK_FULL, "flagged full");
	cr_expect(s.flags & MS_EVF_STACK_TRUNC, "and truncated");
	cr_expect_eq(s.allocs, 2, "both stack-3 blocks");
	cr_expect_eq(s.alloc_bytes, 40 + 50);
	cr_assert_eq(store__site(st, 4, &s), 0);
	cr_expect_eq(s.nr_frames, 1);
	cr_expect(s.flags & MS_EVF_STACK_FULL);
	cr_expect_eq(s.alloc_bytes, 60);
}

/*
 * A closed store spilled to a file of its own reads its sites back; one
 * not closed is refused; a file cut or damaged under it is an error of
 * store__site(), never a site made of what it holds.
 */
Test(store, spill_reads_back_and_refuses_damage)
{
	struct store_site site;
	char path[] = "/tmp/memscope-spill-XXXXXX";
	int fd = mkstemp(path), k;
	off_t off = 0, len;
	__u64 junk = ~0ULL;

	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	unlink(path);
	for (k = 0; k < 20; k++)
		alloc(0x1000 + k * 64, 16 + k, k + 1, k, 100 + k);
	expect_ret(store__spill(st, fd, &off), -EINVAL, "spill of an open store");
	store__close(st, NULL, NULL);
	expect_ret(store__spill(st, fd, &off), 0, "spill");
	cr_assert_gt(off, 0, "nothing written");
	len = off;
	expect_ret(store__site(st, 7, &site), 0, "site 7 read back");
	expect_eq(site.nr_frames, 2 + 7 % 4, "its frames");
	expect_eq(site.frames[0], 0x401000 + 7 * 0x40, "its first frame");
	expect_eq(site.end_bytes, 16 + 7, "its bytes live at the end");
	/* written once: a second spill only lets go of the memory */
	expect_ret(store__spill(st, fd, &off), 0, "spill again");
	expect_eq(off, len, "written again");
	cr_assert_eq(pwrite(fd, &junk, sizeof(junk), len / 2), sizeof(junk));
	expect_ret(store__site(st, 3, &site), -EIO, "a damaged spill");
	cr_assert_eq(ftruncate(fd, len / 2), 0);
	expect_ret(store__site(st, 3, &site), -EIO, "a spill cut short");
	close(fd);
}
