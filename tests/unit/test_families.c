/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Unit tests of allocator families and captured anomalies, replaying the
 * records the kernel sends: sites keyed by stack and family, which frees
 * match which blocks (ms_free_matches), double frees aware of address
 * reuse, invalid frees only in a trace from the start, mismatches, their
 * grouping by stacks, the freed-block ring, and the report model.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "store.h"
#include "report.h"
#include "builders.h"
#include "expect.h"

/* Objects (allocators) of the test process, as attach numbers them. */
#define LIBC		1
#define LIBSTDCXX	2
#define JEMALLOC	3
#define EXE		4

static __u64 tag(unsigned int family, unsigned int obj)
{
	return family | (__u64)obj << MS_TAG_OBJ_SHIFT;
}

static const __u64 stack_a[] = { 0x401010, 0x402020 };
static const __u64 stack_b[] = { 0x401110, 0x402020 };
static const __u64 stack_f[] = { 0x405050, 0x402020 };
static const __u64 stack_g[] = { 0x406060, 0x402020 };

static struct store *st;

static void setup(void)
{
	st = store__new();
	cr_assert_not_null(st, "store__new: %s", strerror(errno));
}

static void teardown(void)
{
	store__free(st);
}

TestSuite(families, .init = setup, .fini = teardown, .timeout = 30);

static void alloc_tagged(__u64 ptr, __u64 size, __u64 t, const __u64 *stack,
			 __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_ALLOC, ts);
	static __u64 seq;

	e.ptr = ptr;
	e.size = size;
	e.seq = ++seq;
	e.aux = t;
	ev_stack(&e, stack, 2);
	ev_apply(st, &e);
}

/*
 * A free as the kernel sends it: flags MS_EVF_FREE_CHECK (and more) when
 * it found the free suspect, with the freeing stack then.
 */
static void free_tagged(__u64 ptr, __u64 t, __u16 flags, const __u64 *stack,
			__u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_FREE, ts);

	e.ptr = ptr;
	e.aux = t;
	e.flags = flags;
	if (stack)
		ev_stack(&e, stack, 2);
	ev_apply(st, &e);
}

#define CHECK		MS_EVF_FREE_CHECK
#define CHECK_START	(MS_EVF_FREE_CHECK | MS_EVF_FROM_START)

static const struct store_anomaly *only_anomaly(void)
{
	expect_eq(store__nr_anomalies(st), 1, "anomaly groups");
	return store__anomaly(st, 0);
}

static void expect_stack(__u32 id, const __u64 *want, const char *what)
{
	struct store_site s;

	cr_assert_eq(store__site(st, id, &s), 0, "%s: no site %u", what, id);
	expect_eq(s.nr_frames, 2, "%s: frames", what);
	expect_eq(s.frames[0], want[0], "%s: frames[0]", what);
}

Test(families, match_rules)
{
	/* the same family and allocator */
	cr_expect(ms_free_matches(tag(MS_FAM_NEW, LIBSTDCXX),
				  tag(MS_FAM_NEW, LIBSTDCXX)));
	cr_expect(ms_free_matches(tag(MS_FAM_MALLOC, LIBC),
				  tag(MS_FAM_MALLOC, LIBC)));
	/* the C families of one allocator take each other's blocks */
	cr_expect(ms_free_matches(tag(MS_FAM_JEMALLOC, JEMALLOC),
				  tag(MS_FAM_MALLOC, JEMALLOC)));
	cr_expect(ms_free_matches(tag(MS_FAM_MALLOC, JEMALLOC),
				  tag(MS_FAM_JEMALLOC, JEMALLOC)));
	/* ... but not another allocator's */
	cr_expect(!ms_free_matches(tag(MS_FAM_JEMALLOC, JEMALLOC),
				   tag(MS_FAM_MALLOC, LIBC)));
	/* the C++ pairs */
	cr_expect(!ms_free_matches(tag(MS_FAM_NEW, LIBSTDCXX),
				   tag(MS_FAM_MALLOC, LIBC)));
	cr_expect(!ms_free_matches(tag(MS_FAM_MALLOC, LIBC),
				   tag(MS_FAM_NEW, LIBSTDCXX)));
	cr_expect(!ms_free_matches(tag(MS_FAM_NEW_ARRAY, LIBSTDCXX),
				   tag(MS_FAM_NEW, LIBSTDCXX)));
	cr_expect(!ms_free_matches(tag(MS_FAM_NEW, LIBSTDCXX),
				   tag(MS_FAM_NEW_ARRAY, LIBSTDCXX)));
	/* Rust goes with the C API, whatever the object */
	cr_expect(ms_free_matches(tag(MS_FAM_RUST, EXE),
				  tag(MS_FAM_MALLOC, LIBC)));
	cr_expect(ms_free_matches(tag(MS_FAM_MALLOC, LIBC),
				  tag(MS_FAM_RUST, EXE)));
	cr_expect(!ms_free_matches(tag(MS_FAM_RUST, EXE),
				   tag(MS_FAM_NEW, LIBSTDCXX)));
	/* one address for free, delete and delete[]: it cannot tell */
	cr_expect(ms_free_matches(tag(MS_FAM_NEW_ARRAY, JEMALLOC),
				  tag(MS_FAM_MALLOC, JEMALLOC) | MS_TAG_ANY));
	/* records from before families: all C API, all one object */
	cr_expect(ms_free_matches(0, 0));
}

/* One stack, two families: two sites, each with its own. */
Test(families, sites_keyed_by_family)
{
	struct store_site s0, s1;

	alloc_tagged(0x1000, 10, tag(MS_FAM_NEW, LIBSTDCXX), stack_a, 1);
	alloc_tagged(0x2000, 20, tag(MS_FAM_MALLOC, LIBC), stack_a, 2);
	alloc_tagged(0x3000, 30, tag(MS_FAM_NEW, LIBSTDCXX), stack_a, 3);
	expect_eq(store__nr_stacks(st), 2, "sites");
	cr_assert_eq(store__site(st, 0, &s0), 0);
	cr_assert_eq(store__site(st, 1, &s1), 0);
	expect_eq(s0.family, MS_FAM_NEW, "site 0 family");
	expect_eq(s0.allocs, 2, "site 0 allocs");
	expect_eq(s0.alloc_bytes, 40, "site 0 bytes");
	expect_eq(s1.family, MS_FAM_MALLOC, "site 1 family");
	expect_eq(s1.allocs, 1, "site 1 allocs");
}

/* Frees of other families, two blocks from one stack: one group of two. */
Test(families, mismatch_grouped_by_stacks)
{
	const struct store_anomaly *a;
	struct store_site s;

	alloc_tagged(0x1000, 24, tag(MS_FAM_NEW, LIBSTDCXX), stack_a, 1);
	alloc_tagged(0x2000, 24, tag(MS_FAM_NEW, LIBSTDCXX), stack_a, 2);
	free_tagged(0x1000, tag(MS_FAM_MALLOC, LIBC), CHECK_START, stack_f, 3);
	free_tagged(0x2000, tag(MS_FAM_MALLOC, LIBC), CHECK_START, stack_f, 4);
	a = only_anomaly();
	expect_eq(a->kind, STORE_MISMATCHED_FREE, "kind");
	expect_eq(a->count, 2, "count");
	expect_eq(ms_tag_family(a->alloc_tag), MS_FAM_NEW, "alloc family");
	expect_eq(ms_tag_family(a->free_tag), MS_FAM_MALLOC, "free family");
	expect_eq(a->first_ns, 3, "first_ns");
	expect_stack(a->alloc_stack, stack_a, "alloc stack");
	expect_stack(a->free_stack, stack_f, "free stack");
	/* the freeing stack is no allocation site */
	cr_assert_eq(store__site(st, a->free_stack, &s), 0);
	expect_eq(s.allocs, 0, "free stack's allocs");
	/* a mismatched free still frees */
	expect_eq(store__summary(st)->live_allocs, 0, "live");
	expect_eq(store__summary(st)->frees, 2, "frees");
	expect_eq(store__summary(st)->anomalies, 2, "summary.anomalies");

	/* from another freeing stack: a group of its own */
	alloc_tagged(0x3000, 24, tag(MS_FAM_NEW, LIBSTDCXX), stack_a, 5);
	free_tagged(0x3000, tag(MS_FAM_MALLOC, LIBC), CHECK_START, stack_g, 6);
	expect_eq(store__nr_anomalies(st), 2, "anomaly groups");
}

/*
 * A suspect free of a block that matches (the kernel found it in no live
 * slot, its table full, or raced) is no anomaly.
 */
Test(families, matching_suspect_is_no_anomaly)
{
	alloc_tagged(0x1000, 24, tag(MS_FAM_NEW, LIBSTDCXX), stack_a, 1);
	free_tagged(0x1000, tag(MS_FAM_NEW, LIBSTDCXX), CHECK_START, stack_f,
		    2);
	expect_eq(store__nr_anomalies(st), 0, "anomaly groups");
	expect_eq(store__summary(st)->frees, 1, "frees");
}

Test(families, double_free_aware_of_reuse)
{
	const __u64 c = tag(MS_FAM_MALLOC, LIBC);
	const struct store_anomaly *a;

	/* free, malloc at the same address, free: nothing wrong */
	alloc_tagged(0x1000, 40, c, stack_a, 1);
	free_tagged(0x1000, c, 0, NULL, 2);
	alloc_tagged(0x1000, 40, c, stack_b, 3);
	free_tagged(0x1000, c, 0, NULL, 4);
	expect_eq(store__nr_anomalies(st), 0, "after reuse");
	expect_eq(store__summary(st)->unknown_frees, 0, "unknown frees");

	/* freed again: double, and of the block allocated last there */
	free_tagged(0x1000, c, CHECK_START, stack_f, 5);
	a = only_anomaly();
	expect_eq(a->kind, STORE_DOUBLE_FREE, "kind");
	expect_stack(a->alloc_stack, stack_b, "alloc stack");
	expect_stack(a->free_stack, stack_f, "free stack");
	expect_eq(store__summary(st)->unknown_frees, 1, "unknown frees");

	/* a realloc's old block is freed too */
	alloc_tagged(0x2000, 8, c, stack_a, 6);
	ev_realloc(st, 0x2000, 0, 0x3000, 16, 0, stack_b, 2, 7);
	free_tagged(0x2000, c, CHECK_START, stack_g, 8);
	expect_eq(store__nr_anomalies(st), 2, "anomaly groups");
	expect_eq(store__anomaly(st, 1)->kind, STORE_DOUBLE_FREE, "kind");
	expect_stack(store__anomaly(st, 1)->alloc_stack, stack_a,
		     "realloc'd block's stack");
}

/* Never allocated: invalid only when the trace began with the process. */
Test(families, invalid_only_from_start)
{
	const __u64 c = tag(MS_FAM_MALLOC, LIBC);
	const struct store_anomaly *a;

	free_tagged(0x9000, c, CHECK, stack_f, 1);
	expect_eq(store__nr_anomalies(st), 0, "attached (-p): no anomaly");
	expect_eq(store__summary(st)->unknown_frees, 1, "unknown frees");

	free_tagged(0x9000, c, CHECK_START, stack_f, 2);
	a = only_anomaly();
	expect_eq(a->kind, STORE_INVALID_FREE, "kind");
	expect_eq(a->alloc_stack, STORE_NO_STACK, "alloc stack");
	expect_eq(a->alloc_tag, 0, "alloc tag");
	expect_stack(a->free_stack, stack_f, "free stack");
}

/*
 * The allocator freeing what it took internally (glibc's tcache at thread
 * exit), at an address never allocated, or last a user block freed
 * already: not judged, counted.
 */
Test(families, allocator_internal_not_judged)
{
	const __u64 c = tag(MS_FAM_MALLOC, LIBC);

	free_tagged(0x9000, c, CHECK_START | MS_EVF_FREE_INTERNAL, stack_f, 1);
	alloc_tagged(0x1000, 8, c, stack_a, 2);
	free_tagged(0x1000, c, 0, NULL, 3);
	free_tagged(0x1000, c, CHECK_START | MS_EVF_FREE_INTERNAL, stack_f, 4);
	expect_eq(store__nr_anomalies(st), 0, "anomaly groups");
	expect_eq(store__summary(st)->allocator_frees, 2, "allocator frees");
	expect_eq(store__summary(st)->anomalies, 0, "summary.anomalies");
}

/*
 * An image that joined late, its probes going in from 100 to 200: new's
 * block made then may be tagged as the malloc under it, a free made then
 * as the free under delete. A mismatch with either end in [100, 200) is
 * counted, not judged; one with both ends outside is an anomaly.
 */
Test(families, late_span_not_judged)
{
	const __u64 m = tag(MS_FAM_MALLOC, LIBC);
	const __u64 n = tag(MS_FAM_NEW, LIBSTDCXX);

	store__set_late(st, 100, 200);
	/* new's block, seen as malloc's; one before the span; one after */
	alloc_tagged(0x1000, 24, m, stack_a, 150);
	alloc_tagged(0x2000, 24, n, stack_a, 90);
	alloc_tagged(0x3000, 24, m, stack_b, 210);
	/* the block in the span; the free in it; neither */
	free_tagged(0x1000, n, CHECK, stack_f, 300);
	free_tagged(0x2000, m, CHECK, stack_f, 199);
	free_tagged(0x3000, n, CHECK, stack_g, 300);
	expect_eq(store__summary(st)->late_frees, 2, "late frees");
	expect_eq(store__summary(st)->anomalies, 1, "summary.anomalies");
	expect_stack(only_anomaly()->alloc_stack, stack_b, "judged stack");
	expect_eq(store__summary(st)->frees, 3, "frees");
	expect_eq(store__summary(st)->live_allocs, 0, "live");
}

/* A suspect free the kernel did not walk (its budget spent) is counted. */
Test(families, unwalked_counted)
{
	const __u64 c = tag(MS_FAM_MALLOC, LIBC);
	const struct store_anomaly *a;

	alloc_tagged(0x1000, 8, c, stack_a, 1);
	free_tagged(0x1000, c, 0, NULL, 2);
	free_tagged(0x1000, c, CHECK | MS_EVF_FREE_NOWALK, NULL, 3);
	free_tagged(0x5000, c, CHECK | MS_EVF_FREE_NOWALK, NULL, 4);
	expect_eq(store__summary(st)->unwalked, 2, "unwalked");
	a = only_anomaly();
	expect_eq(a->kind, STORE_DOUBLE_FREE, "kind");
	expect_stack(a->alloc_stack, stack_a, "alloc stack");
}

/*
 * The ring of freed blocks is bounded: the oldest is forgotten, and from
 * then on no free is called invalid, since it may be a double one.
 */
Test(families, graves_ring_evicts_oldest)
{
	const __u64 c = tag(MS_FAM_MALLOC, LIBC);
	size_t mem = 0;
	__u64 i;

	for (i = 0; i <= STORE_GRAVES; i++) {
		alloc_tagged(0x100000 + i * 16, 8, c, stack_a, i);
		free_tagged(0x100000 + i * 16, c, 0, NULL, i);
		if (i == STORE_GRAVES / 2)
			mem = store__mem_bytes(st);
	}
	expect_eq(store__summary(st)->graves_evicted, 1, "evicted");
	expect_eq(store__mem_bytes(st), mem, "memory stays flat");
	/* the first is forgotten: neither double nor invalid */
	free_tagged(0x100000, c, CHECK_START, stack_f, i);
	expect_eq(store__nr_anomalies(st), 0, "forgotten block");
	/* the second is remembered */
	free_tagged(0x100010, c, CHECK_START, stack_f, i + 1);
	expect_eq(only_anomaly()->kind, STORE_DOUBLE_FREE, "kind");
}

/* The model: groups ranked by kind then count, families and allocator. */
Test(families, report_anomalies)
{
	static const struct report_target target = {
		.pid = 4242, .mode = TRACE_MODE_DEFAULT, .start_ns = 0,
		.duration_ns = 1000,
	};
	const struct report_anomaly *ra;
	struct report *r;

	/* a jemalloc block freed by libc's free: another allocator */
	alloc_tagged(0x1000, 8, tag(MS_FAM_JEMALLOC, JEMALLOC), stack_a, 1);
	free_tagged(0x1000, tag(MS_FAM_MALLOC, LIBC), CHECK_START, stack_f, 2);
	/* new freed by free, twice: a family mismatch */
	alloc_tagged(0x2000, 8, tag(MS_FAM_NEW, LIBSTDCXX), stack_b, 3);
	alloc_tagged(0x3000, 8, tag(MS_FAM_NEW, LIBSTDCXX), stack_b, 4);
	free_tagged(0x2000, tag(MS_FAM_MALLOC, LIBC), CHECK_START, stack_g, 5);
	free_tagged(0x3000, tag(MS_FAM_MALLOC, LIBC), CHECK_START, stack_g, 6);
	/* and one invalid free */
	free_tagged(0x9000, tag(MS_FAM_MALLOC, LIBC), CHECK_START, stack_f, 7);

	r = report__build(st, &target, NULL, NULL, 0, NULL);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	cr_assert_eq(r->nr_anomalies, 3, "groups: %zu", r->nr_anomalies);

	ra = &r->anomalies[0];
	expect_eq(ra->kind, STORE_INVALID_FREE, "[0] kind");
	expect_eq(ra->nr_alloc_frames, 0, "[0] alloc frames");
	expect_eq(ra->nr_free_frames, 2, "[0] free frames");

	ra = &r->anomalies[1];
	expect_eq(ra->kind, STORE_MISMATCHED_FREE, "[1] kind");
	expect_eq(ra->count, 2, "[1] count: the larger group first");
	expect_eq(ra->alloc_family, MS_FAM_NEW, "[1] alloc family");
	expect_eq(ra->free_family, MS_FAM_MALLOC, "[1] free family");
	cr_expect(!ra->other_allocator,
		  "new freed by free differ by family, not allocator");
	expect_eq(ra->alloc_frames[0].addr, stack_b[0], "[1] alloc frame");
	expect_eq(ra->free_frames[0].addr, stack_g[0], "[1] free frame");

	ra = &r->anomalies[2];
	expect_eq(ra->count, 1, "[2] count");
	expect_eq(ra->alloc_family, MS_FAM_JEMALLOC, "[2] alloc family");
	cr_expect(ra->other_allocator, "jemalloc's block freed by libc");
	cr_expect_str_eq(report_family_name(ra->alloc_family), "jemalloc");
	cr_expect_str_eq(report_anomaly_name(ra->kind), "mismatched_free");
	cr_expect_str_eq(report_family_name(MS_FAM_NEW_ARRAY), "new[]");
	cr_expect_null(report_family_name(MS_FAM__COUNT));
	report__free(r);
}

/* A record with a family past the known ones is refused whole. */
Test(families, bad_family_refused)
{
	struct ms_event e = ev_rec(MS_EV_ALLOC, 1);

	e.ptr = 0x1000;
	e.size = 8;
	e.aux = MS_FAM__COUNT;
	expect_eq(store__apply(st, &e), (unsigned long long)-EINVAL,
		  "store__apply");
	expect_eq(store__summary(st)->events, 0, "events");
}
