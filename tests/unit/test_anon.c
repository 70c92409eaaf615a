/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Anonymous memory's range accounting (user/store/anon.c), fed records
 * through the store as the ring and recordings feed them: the cases by
 * name, then long generated runs checked page by page against a model.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include "anon.h"
#include "builders.h"
#include "expect.h"
#include "store.h"

#define PG		ANON_PAGE
#define BASE		0x7f0000000000ull
#define ANON		(ANON_MAP_PRIVATE | ANON_MAP_ANONYMOUS)
#define FIXED		0x10	/* MAP_FIXED: the store needs no flag for it */
#define ARENA_PC	0x7f1000001234ull

static const __u64 site_a[] = { 0x401010, 0x401100 };
static const __u64 site_b[] = { 0x402020, 0x401100 };
static const __u64 site_c[] = { 0x403030 };

static struct store *s;

static void setup(void)
{
	s = store__new();
	cr_assert(s, "store__new");
}

static void teardown(void)
{
	store__free(s);
}

TestSuite(anon, .init = setup, .fini = teardown);

static const struct anon_summary *sum(void)
{
	return anon__summary(store__anon(s));
}

/* The site whose stack starts with frame0 (arena: the probe pc + 1). */
static bool site_of(__u64 frame0, bool arena, struct anon_site *out)
{
	const struct anon *a = store__anon(s);
	struct store_site ss;
	size_t i;

	for (i = 0; i < anon__nr_sites(a); i++) {
		anon__site(a, i, out);
		cr_assert_eq(store__site(s, out->stack_id, &ss), 0);
		if (out->arena == arena && ss.nr_frames &&
		    ss.frames[0] == frame0)
			return true;
	}
	return false;
}

static void expect_site(const __u64 *frames, __u64 live, __u64 ranges,
			__u64 calls)
{
	struct anon_site st;

	cr_assert(site_of(frames[0], false, &st), "no site %#llx",
		  (unsigned long long)frames[0]);
	expect_eq(st.live_bytes, live, "site %#llx live bytes",
		  (unsigned long long)frames[0]);
	expect_eq(st.live_ranges, ranges, "site %#llx live ranges",
		  (unsigned long long)frames[0]);
	expect_eq(st.calls, calls, "site %#llx calls",
		  (unsigned long long)frames[0]);
}

static void expect_live(__u64 bytes, __u64 ranges)
{
	expect_eq(sum()->live_bytes, bytes, "program live bytes");
	expect_eq(sum()->live_ranges, ranges, "program live ranges");
}

Test(anon, mmap_counts_only_anonymous_private)
{
	ev_mmap(s, BASE, 3 * PG, ANON, 0, site_a, 2, 10);
	/* A shared anonymous and a file mapping are not the program's. */
	ev_mmap(s, BASE + 8 * PG, 2 * PG, ANON_MAP_SHARED | ANON_MAP_ANONYMOUS,
		0, site_b, 2, 11);
	ev_mmap(s, BASE + 16 * PG, 2 * PG, ANON_MAP_PRIVATE, 0, site_b, 2, 12);
	expect_live(3 * PG, 1);
	expect_eq(sum()->calls, 1, "calls");
	expect_site(site_a, 3 * PG, 1, 1);
	/* The heap never sees it. */
	expect_eq(store__summary(s)->live_bytes, 0, "heap live bytes");
	expect_eq(store__summary(s)->allocs, 0, "heap allocs");
}

Test(anon, stacks_counted_by_why_they_ended)
{
	struct ms_event e = ev_rec(MS_EV_MMAP, 10);

	e.ptr = BASE;
	e.size = PG;
	e.aux = ANON;
	e.flags = MS_STOP_NO_INFO << MS_EVF_STOP_SHIFT;
	ev_stack(&e, site_a, 2);
	ev_apply(s, &e);
	/* An munmap has no stack to count; an arena's mapping neither. */
	ev_munmap(s, BASE, PG, 11);
	ev_mmap(s, BASE, PG, ANON, ARENA_PC, NULL, 0, 12);
	ev_mmap(s, BASE + PG, PG, ANON, 0, site_b, 2, 13);
	expect_eq(sum()->stack_stops[MS_STOP_NO_INFO], 1, "no_info stops");
	expect_eq(sum()->stack_stops[MS_STOP_END], 1, "end stops");
}

Test(anon, lengths_round_to_pages)
{
	ev_mmap(s, BASE, PG + 1, ANON, 0, site_a, 2, 10);
	expect_live(2 * PG, 1);
	ev_munmap(s, BASE + PG, 1, 11);
	expect_live(PG, 1);
}

Test(anon, munmap_head_tail_middle)
{
	ev_mmap(s, BASE, 10 * PG, ANON, 0, site_a, 2, 10);
	ev_munmap(s, BASE, 2 * PG, 11);			/* head */
	expect_live(8 * PG, 1);
	ev_munmap(s, BASE + 8 * PG, 2 * PG, 12);	/* tail */
	expect_live(6 * PG, 1);
	ev_munmap(s, BASE + 4 * PG, PG, 13);		/* middle: a split */
	expect_live(5 * PG, 2);
	expect_site(site_a, 5 * PG, 2, 1);
	expect_eq(sum()->peak_bytes, 10 * PG, "peak");
	expect_eq(sum()->peak_ns, 10, "peak time");
}

Test(anon, munmap_spanning_several_mappings)
{
	ev_mmap(s, BASE, 2 * PG, ANON, 0, site_a, 2, 10);
	ev_mmap(s, BASE + 3 * PG, 2 * PG, ANON, 0, site_b, 2, 11);
	ev_mmap(s, BASE + 6 * PG, 2 * PG, ANON, 0, site_c, 1, 12);
	/* From inside the first to inside the last, over a gap. */
	ev_munmap(s, BASE + PG, 6 * PG, 13);
	expect_live(2 * PG, 2);
	expect_site(site_a, PG, 1, 1);
	expect_site(site_b, 0, 0, 1);
	expect_site(site_c, PG, 1, 1);
}

Test(anon, map_fixed_replaces_what_was_there)
{
	ev_mmap(s, BASE, 8 * PG, ANON, 0, site_a, 2, 10);
	ev_mmap(s, BASE + 2 * PG, 2 * PG, ANON | FIXED, 0, site_b, 2, 11);
	expect_live(8 * PG, 3);
	expect_site(site_a, 6 * PG, 2, 1);
	expect_site(site_b, 2 * PG, 1, 1);
	/* A file mapped over anonymous memory takes its pages away. */
	ev_mmap(s, BASE + 6 * PG, 2 * PG, ANON_MAP_PRIVATE | FIXED, 0,
		site_c, 1, 12);
	expect_live(6 * PG, 3);
	expect_site(site_a, 4 * PG, 2, 1);
	expect_eq(sum()->peak_bytes, 8 * PG, "peak");
}

Test(anon, adjacent_ranges_of_one_site_merge)
{
	ev_mmap(s, BASE + 2 * PG, 2 * PG, ANON, 0, site_a, 2, 10);
	ev_mmap(s, BASE, 2 * PG, ANON, 0, site_a, 2, 11);
	ev_mmap(s, BASE + 6 * PG, 2 * PG, ANON, 0, site_a, 2, 12);
	expect_live(6 * PG, 2);
	ev_mmap(s, BASE + 4 * PG, 2 * PG, ANON, 0, site_a, 2, 13);
	expect_live(8 * PG, 1);
	expect_site(site_a, 8 * PG, 1, 4);
	/* Another site's neighbour stays a range of its own. */
	ev_mmap(s, BASE + 8 * PG, PG, ANON, 0, site_b, 2, 14);
	expect_live(9 * PG, 2);
}

Test(anon, mremap_grow_shrink_move)
{
	ev_mmap(s, BASE, 4 * PG, ANON, 0, site_a, 2, 10);
	/* Grown in place: the result is the mremap call's, as realloc's. */
	ev_mremap(s, BASE, 4 * PG, BASE, 6 * PG, 0, 0, site_b, 2, 11);
	expect_live(6 * PG, 1);
	expect_site(site_a, 0, 0, 1);
	expect_site(site_b, 6 * PG, 1, 1);
	/* Shrunk in place. */
	ev_mremap(s, BASE, 6 * PG, BASE, 3 * PG, 0, 0, site_b, 2, 12);
	expect_live(3 * PG, 1);
	/* Moved (MREMAP_MAYMOVE or MREMAP_FIXED): the old place is free. */
	ev_mremap(s, BASE, 3 * PG, BASE + 20 * PG, 5 * PG, 3, 0, site_c, 1,
		  13);
	expect_live(5 * PG, 1);
	expect_site(site_c, 5 * PG, 1, 1);
	expect_site(site_b, 0, 0, 2);
	expect_eq(sum()->peak_bytes, 6 * PG, "peak");
	expect_eq(sum()->peak_ns, 11, "peak time");
}

Test(anon, mremap_fixed_over_a_mapping_and_dontunmap)
{
	ev_mmap(s, BASE, 2 * PG, ANON, 0, site_a, 2, 10);
	ev_mmap(s, BASE + 10 * PG, 4 * PG, ANON, 0, site_b, 2, 11);
	/* MREMAP_FIXED onto half of site_b's mapping replaces it there. */
	ev_mremap(s, BASE, 2 * PG, BASE + 10 * PG, 2 * PG, 3, 0, site_c, 1,
		  12);
	expect_live(4 * PG, 2);
	expect_site(site_b, 2 * PG, 1, 1);
	expect_site(site_c, 2 * PG, 1, 1);
	/* MREMAP_DONTUNMAP leaves the old range mapped. */
	ev_mremap(s, BASE + 10 * PG, 2 * PG, BASE + 30 * PG, 2 * PG,
		  3 | ANON_MREMAP_DONTUNMAP, 0, site_c, 1, 13);
	expect_live(6 * PG, 3);
}

Test(anon, mremap_of_memory_not_counted_stays_uncounted)
{
	ev_mmap(s, BASE, 2 * PG, ANON_MAP_PRIVATE, 0, site_a, 2, 10);
	ev_mremap(s, BASE, 2 * PG, BASE + 8 * PG, 4 * PG, 1, 0, site_b, 2,
		  11);
	expect_live(0, 0);
	expect_eq(sum()->calls, 0, "calls");
}

Test(anon, brk_grows_and_shrinks_by_pages)
{
	__u64 b0 = 0x555555559000ull;

	ev_brk(s, b0, b0 + 3 * PG + 100, 0, site_a, 2, 10);
	expect_live(4 * PG, 1);
	/* Within the last page: no new page. */
	ev_brk(s, b0 + 3 * PG + 100, b0 + 3 * PG + 200, 0, site_a, 2, 11);
	expect_live(4 * PG, 1);
	ev_brk(s, b0 + 3 * PG + 200, b0 + 6 * PG, 0, site_b, 2, 12);
	expect_live(6 * PG, 2);
	ev_brk(s, b0 + 6 * PG, b0 + PG, 0, site_b, 2, 13);
	expect_live(PG, 1);
	expect_site(site_a, PG, 1, 1);
	expect_site(site_b, 0, 0, 1);
}

Test(anon, exec_unmaps_everything)
{
	ev_mmap(s, BASE, 4 * PG, ANON, 0, site_a, 2, 10);
	ev_brk(s, 0x555555559000ull, 0x555555559000ull + 3 * PG, ARENA_PC,
	       NULL, 0, 11);
	/* What the kernel side sends when an exec replaced the mappings. */
	ev_munmap(s, 0, 1ull << 57, 12);
	expect_live(0, 0);
	expect_eq(sum()->arena_live_bytes, 0, "arena live");
	expect_eq(sum()->peak_bytes, 4 * PG, "peak");
}

Test(anon, arena_is_apart_from_the_program)
{
	struct anon_site st;

	ev_mmap(s, BASE, 256 * PG, ANON, ARENA_PC, NULL, 0, 10);
	ev_brk(s, 0x555555559000ull, 0x555555559000ull + 33 * PG, ARENA_PC,
	       NULL, 0, 11);
	expect_live(0, 0);
	expect_eq(sum()->peak_bytes, 0, "program peak");
	expect_eq(sum()->arena_live_bytes, 289 * PG, "arena live");
	expect_eq(sum()->arena_calls, 2, "arena calls");
	cr_assert(site_of(ARENA_PC + 1, true, &st), "arena site");
	expect_eq(st.fn, MS_FN_MALLOC, "arena function");
	expect_eq(st.live_bytes, 289 * PG, "arena site live");
	/* free()'s munmap carries no arena flag: ranges go by address. */
	ev_munmap(s, BASE, 256 * PG, 12);
	expect_eq(sum()->arena_live_bytes, 33 * PG, "arena live after");
	expect_eq(sum()->arena_mapped_bytes, 289 * PG, "arena mapped");
}

Test(anon, site_peak_is_what_was_live_at_the_peak)
{
	struct anon_site st;

	ev_mmap(s, BASE, 4 * PG, ANON, 0, site_a, 2, 10);
	ev_mmap(s, BASE + 8 * PG, 2 * PG, ANON, 0, site_b, 2, 11);
	ev_munmap(s, BASE, 4 * PG, 12);
	ev_mmap(s, BASE + 16 * PG, PG, ANON, 0, site_b, 2, 13);
	cr_assert(site_of(site_a[0], false, &st));
	expect_eq(st.peak_bytes, 4 * PG, "site a at the peak");
	cr_assert(site_of(site_b[0], false, &st));
	expect_eq(st.peak_bytes, 2 * PG, "site b at the peak");
	expect_eq(sum()->peak_bytes, 6 * PG, "peak");
}

static void expect_reserved(const __u64 *frames, __u64 bytes)
{
	struct anon_site st;

	cr_assert(site_of(frames[0], false, &st), "no site %#llx",
		  (unsigned long long)frames[0]);
	expect_eq(st.reserved_bytes, bytes, "site %#llx reserved bytes",
		  (unsigned long long)frames[0]);
}

Test(anon, prot_none_is_reserved_not_live)
{
	ev_mmap_prot(s, BASE, 8 * PG, ANON, EV_PROT_NONE, 0, site_a, 2, 10);
	expect_live(0, 0);
	expect_eq(sum()->reserved_bytes, 8 * PG, "reserved");
	expect_eq(sum()->peak_bytes, 0, "peak");
	expect_eq(sum()->mapped_bytes, 8 * PG, "mapped");
	/* Opened at its start, as glibc opens a thread arena. */
	ev_mprotect(s, BASE, 3 * PG, EV_PROT_RW, 11);
	expect_live(3 * PG, 1);
	expect_reserved(site_a, 5 * PG);
	expect_eq(sum()->peak_bytes, 3 * PG, "peak when opened");
	expect_eq(sum()->peak_ns, 11, "peak time");
	/* A guard in the middle of the open part joins the reserve after. */
	ev_mprotect(s, BASE + PG, 2 * PG, EV_PROT_NONE, 12);
	expect_live(PG, 1);
	expect_eq(sum()->reserved_bytes, 7 * PG, "reserved after the guard");
	/* Opened whole: one range again, as the kernel merges its VMAs. */
	ev_mprotect(s, BASE, 8 * PG, EV_PROT_RW | 4, 13);
	expect_live(8 * PG, 1);
	expect_site(site_a, 8 * PG, 1, 1);
	expect_reserved(site_a, 0);
	expect_eq(sum()->reserved_bytes, 0, "reserved at the end");
	/* Unmapping a reserved part takes it from the reserve only. */
	ev_mprotect(s, BASE + 6 * PG, 2 * PG, EV_PROT_NONE, 14);
	ev_munmap(s, BASE + 5 * PG, 3 * PG, 15);
	expect_live(5 * PG, 1);
	expect_eq(sum()->reserved_bytes, 0, "reserved unmapped");
	expect_eq(sum()->peak_bytes, 8 * PG, "peak");
}

Test(anon, mprotect_of_pages_not_counted_changes_nothing)
{
	ev_mmap(s, BASE, 2 * PG, ANON, 0, site_a, 2, 10);
	/* A file's or the code's pages: not ranges of ours. */
	ev_mprotect(s, BASE + 4 * PG, 2 * PG, EV_PROT_NONE, 11);
	/* Over a range and past it: only the range's pages change. */
	ev_mprotect(s, BASE + PG, 8 * PG, EV_PROT_NONE, 12);
	expect_live(PG, 1);
	expect_eq(sum()->reserved_bytes, PG, "reserved");
	expect_eq(sum()->calls, 1, "an mprotect is no mapping call");
	expect_eq(sum()->events, 3, "records applied");
}

Test(anon, mprotect_spans_sites_and_keeps_each_its_own)
{
	ev_mmap(s, BASE, 2 * PG, ANON, 0, site_a, 2, 10);
	ev_mmap(s, BASE + 2 * PG, 2 * PG, ANON, 0, site_b, 2, 11);
	ev_mprotect(s, BASE + PG, 2 * PG, EV_PROT_NONE, 12);
	expect_live(2 * PG, 2);
	expect_site(site_a, PG, 1, 1);
	expect_site(site_b, PG, 1, 1);
	expect_reserved(site_a, PG);
	expect_reserved(site_b, PG);
	ev_mprotect(s, BASE, 4 * PG, EV_PROT_RW, 13);
	expect_live(4 * PG, 2);
	expect_reserved(site_a, 0);
	expect_reserved(site_b, 0);
}

Test(anon, mremap_keeps_the_protection)
{
	ev_mmap_prot(s, BASE, 4 * PG, ANON, EV_PROT_NONE, 0, site_a, 2, 10);
	ev_mremap(s, BASE, 4 * PG, BASE + 20 * PG, 6 * PG, 3, 0, site_b, 2,
		  11);
	expect_live(0, 0);
	expect_reserved(site_a, 0);
	expect_reserved(site_b, 6 * PG);
	expect_eq(sum()->reserved_bytes, 6 * PG, "reserved moved");
	ev_mprotect(s, BASE + 20 * PG, PG, EV_PROT_RW, 12);
	expect_site(site_b, PG, 1, 1);
}

Test(anon, arena_reservation_opened_by_mprotect)
{
	struct anon_site st;

	/* glibc's new_heap: 64 MiB PROT_NONE, 33 pages opened at once. */
	ev_mmap_prot(s, BASE, 16384 * PG, ANON, EV_PROT_NONE, ARENA_PC, NULL,
		     0, 10);
	ev_mprotect(s, BASE, 33 * PG, EV_PROT_RW, 11);
	expect_eq(sum()->arena_live_bytes, 33 * PG, "arena live");
	expect_eq(sum()->arena_reserved_bytes, 16351 * PG, "arena reserved");
	expect_eq(sum()->arena_mapped_bytes, 16384 * PG, "arena mapped");
	cr_assert(site_of(ARENA_PC + 1, true, &st), "arena site");
	expect_eq(st.reserved_bytes, 16351 * PG, "arena site reserved");
	/* grow_heap opens more: still one range of each kind. */
	ev_mprotect(s, BASE + 33 * PG, 16 * PG, EV_PROT_RW, 12);
	cr_assert(site_of(ARENA_PC + 1, true, &st), "arena site");
	expect_eq(st.live_bytes, 49 * PG, "arena site live");
	expect_eq(st.live_ranges, 1, "arena site ranges");
	expect_live(0, 0);
	expect_eq(sum()->reserved_bytes, 0, "the program reserved nothing");
}

Test(anon, records_without_protection_count_as_live)
{
	ev_mmap_prot(s, BASE, 2 * PG, ANON, EV_PROT_UNSAID, 0, site_a, 2, 10);
	ev_mmap_prot(s, BASE + 8 * PG, PG, ANON, EV_PROT_NONE, 0, site_a, 2,
		     11);
	/* Not the program's memory: no protection to miss. */
	ev_mmap_prot(s, BASE + 16 * PG, PG, ANON_MAP_PRIVATE, EV_PROT_UNSAID,
		     0, site_b, 2, 12);
	expect_live(2 * PG, 1);
	expect_eq(sum()->reserved_bytes, PG, "reserved");
	expect_eq(sum()->prot_unknown, 1, "mappings without protection");
}

Test(anon, malformed_records_refused_unchanged)
{
	struct ms_event e = ev_rec(MS_EV_MMAP, 1);

	e.ptr = ~0ull & ~(PG - 1);
	e.size = 2 * PG;		/* wraps */
	e.aux = ANON;
	cr_expect_eq(store__apply(s, &e), -EINVAL, "wrapping range");
	e.ptr = BASE + 1;		/* not page aligned */
	cr_expect_eq(store__apply(s, &e), -EINVAL, "unaligned address");
	e.ptr = BASE;
	e.size = 0;
	cr_expect_eq(store__apply(s, &e), -EINVAL, "empty range");
	e.size = PG;
	e.flags = MS_EVF_ARENA;		/* an arena record without its frame */
	e.fn = MS_FN_MALLOC;
	cr_expect_eq(store__apply(s, &e), -EINVAL, "arena without frame");
	e.flags = 0;			/* the program's, yet a function */
	cr_expect_eq(store__apply(s, &e), -EINVAL, "program with function");
	e.fn = MS_FN_NONE;		/* a stop reason past the last */
	e.flags = MS_EVF_STOP_MASK;
	cr_expect_eq(store__apply(s, &e), -EINVAL, "stop reason");
	e = ev_rec(MS_EV_MPROTECT, 2);	/* an mprotect that wraps */
	e.ptr = ~0ull & ~(PG - 1);
	e.size = 2 * PG;
	cr_expect_eq(store__apply(s, &e), -EINVAL, "wrapping mprotect");
	e.ptr = BASE;
	e.size = 0;
	cr_expect_eq(store__apply(s, &e), -EINVAL, "empty mprotect");
	expect_eq(sum()->events, 0, "records applied");
	expect_live(0, 0);
}

Test(anon, full_range_table_counted)
{
	struct anon *a = anon__new(2);
	struct ms_event e = ev_rec(MS_EV_MMAP, 1);
	const struct anon_summary *as = anon__summary(a);

	cr_assert(a);
	e.aux = ANON;
	e.size = PG;
	e.ptr = BASE;
	cr_assert_eq(anon__apply(a, &e, 0), 0);
	e.ptr = BASE + 4 * PG;
	cr_assert_eq(anon__apply(a, &e, 1), 0);
	e.ptr = BASE + 8 * PG;
	cr_assert_eq(anon__apply(a, &e, 2), 0);
	expect_eq(as->full_ranges, 1, "ranges not kept");
	expect_eq(as->full_bytes, PG, "bytes not kept");
	expect_eq(as->live_bytes, 2 * PG, "live bytes kept");
	/* A split that finds no room loses its tail, counted. */
	e.type = MS_EV_MMAP;
	e.ptr = BASE + 4 * PG;
	e.size = 3 * PG;
	e.aux = ANON | FIXED;
	cr_assert_eq(anon__apply(a, &e, 1), 0);
	e.type = MS_EV_MUNMAP;
	e.ptr = BASE + 5 * PG;
	e.size = PG;
	cr_assert_eq(anon__apply(a, &e, 0), 0);
	expect_eq(as->full_ranges, 2, "ranges not kept after the split");
	expect_eq(as->live_bytes, 2 * PG, "live bytes after the split");
	/*
	 * A guard page in the middle of a range, with no room to split it
	 * off: the tail and the guard are counted as not kept.
	 */
	e.type = MS_EV_MMAP;
	e.ptr = BASE + 4 * PG;
	e.size = 3 * PG;
	e.aux = ANON | FIXED;
	cr_assert_eq(anon__apply(a, &e, 1), 0);
	e.type = MS_EV_MPROTECT;
	e.ptr = BASE + 5 * PG;
	e.size = PG;
	e.aux = 0;
	cr_assert_eq(anon__apply(a, &e, 0), 0);
	expect_eq(as->full_ranges, 4, "ranges not kept after the guard");
	expect_eq(as->full_bytes, 4 * PG, "bytes not kept after the guard");
	expect_eq(as->reserved_bytes, 0, "the guard not kept");
	expect_eq(as->live_bytes, 2 * PG, "live bytes after the guard");
	anon__free(a);
}

/* Generated runs against a model that keeps an owner per page. --------- */

#define MODEL_PAGES	96
#define BRK_BASE	0x555555000000ull
#define NR_OWNERS	5	/* 0 none, 1..3 program sites, 4 the arena */

static const __u64 *const owner_frames[] = { NULL, site_a, site_b, site_c };
static const __u32 owner_nr[] = { 0, 2, 2, 1 };

struct model {
	__u8 page[MODEL_PAGES];		/* mmap area */
	__u8 none[MODEL_PAGES];		/* its page is PROT_NONE */
	__u8 brk_page[MODEL_PAGES];	/* the break's pages */
	__u64 brk;			/* bytes past BRK_BASE */
	__u64 calls[NR_OWNERS];
	__u64 peak;
	__u64 at_peak[NR_OWNERS];
};

static __u64 rnd_state = 0x2545f4914f6cdd1dull;

static __u32 rnd(__u32 n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (__u32)(rnd_state % n);
}

/* An owner's accessible pages (the break's always are). */
static bool model_open(const struct model *m, size_t i, __u8 owner)
{
	return m->page[i] == owner && !m->none[i];
}

static __u64 model_live(const struct model *m, __u8 owner)
{
	__u64 n = 0;
	size_t i;

	for (i = 0; i < MODEL_PAGES; i++)
		n += model_open(m, i, owner) + (m->brk_page[i] == owner);
	return n * PG;
}

static __u64 model_reserved(const struct model *m, __u8 owner)
{
	__u64 n = 0;
	size_t i;

	for (i = 0; i < MODEL_PAGES; i++)
		n += m->page[i] == owner && m->none[i];
	return n * PG;
}

/* Maximal runs of one owner's accessible pages, as the store merges them. */
static __u64 model_runs(const struct model *m, __u8 owner)
{
	__u64 n = 0;
	size_t i;

	for (i = 0; i < MODEL_PAGES; i++) {
		n += model_open(m, i, owner) &&
		     (!i || !model_open(m, i - 1, owner));
		n += m->brk_page[i] == owner &&
		     (!i || m->brk_page[i - 1] != owner);
	}
	return n;
}

static __u64 model_program(const struct model *m)
{
	return model_live(m, 1) + model_live(m, 2) + model_live(m, 3);
}

static void model_note_peak(struct model *m)
{
	__u64 live = model_program(m);
	__u8 o;

	if (live <= m->peak)
		return;
	m->peak = live;
	for (o = 0; o < NR_OWNERS; o++)
		m->at_peak[o] = model_live(m, o);
}

static void model_set(__u8 *pages, size_t first, size_t n, __u8 owner)
{
	memset(pages + first, owner, n);
}

/* One random call, applied to the store and to the model. */
static void step(struct model *m, __u64 ts)
{
	__u8 owner = 1 + rnd(NR_OWNERS - 1);
	__u64 pc = owner == NR_OWNERS - 1 ? ARENA_PC : 0;
	const __u64 *fr = pc ? NULL : owner_frames[owner];
	__u32 nr = pc ? 0 : owner_nr[owner];
	size_t first = rnd(MODEL_PAGES - 8), n = 1 + rnd(8), to, i;
	/* lengths are often not whole pages: the kernel rounds them up */
	__u64 len = n * PG - (rnd(2) ? rnd(PG) : 0), flags;
	bool counted, none = !rnd(3);

	switch (rnd(6)) {
	case 0:
	case 1:
		flags = rnd(4) ? ANON : rnd(2) ? ANON_MAP_PRIVATE :
			ANON_MAP_SHARED | ANON_MAP_ANONYMOUS;
		ev_mmap_prot(s, BASE + first * PG, len, flags | FIXED,
			     none ? EV_PROT_NONE : EV_PROT_RW, pc, fr, nr, ts);
		model_set(m->page, first, n, flags == ANON ? owner : 0);
		model_set(m->none, first, n, none);
		if (flags == ANON)
			m->calls[owner]++;
		break;
	case 2:
		ev_munmap(s, BASE + first * PG, len, ts);
		model_set(m->page, first, n, 0);
		break;
	case 3: {
		size_t n2 = 1 + rnd(8);
		bool dont = !rnd(4);

		to = rnd(MODEL_PAGES - 8);
		counted = false;
		/* The protection of the one mapping mremap moves. */
		for (i = first + n; i-- > first;) {
			if (m->page[i]) {
				counted = true;
				none = m->none[i];
			}
		}
		ev_mremap(s, BASE + first * PG, len, BASE + to * PG,
			  n2 * PG, dont ? 3 | ANON_MREMAP_DONTUNMAP : 3, pc,
			  fr, nr, ts);
		if (counted && !dont)
			model_set(m->page, first, n, 0);
		model_set(m->page, to, n2, 0);
		if (counted) {
			model_set(m->page, to, n2, owner);
			model_set(m->none, to, n2, none);
			m->calls[owner]++;
		}
		break;
	}
	case 4:
		ev_mprotect(s, BASE + first * PG, len,
			    none ? EV_PROT_NONE : EV_PROT_RW, ts);
		for (i = first; i < first + n; i++)
			m->none[i] = m->page[i] && none;
		break;
	default: {
		__u64 nb = rnd((MODEL_PAGES - 1) * PG);
		size_t op = (m->brk + PG - 1) / PG, np = (nb + PG - 1) / PG;

		if (nb == m->brk)
			return;
		ev_brk(s, BRK_BASE + m->brk, BRK_BASE + nb, pc, fr, nr, ts);
		if (np > op) {
			model_set(m->brk_page, op, np - op, owner);
			m->calls[owner]++;
		} else if (np < op) {
			model_set(m->brk_page, np, op - np, 0);
		}
		m->brk = nb;
		break;
	}
	}
	model_note_peak(m);
}

static void check_model(const struct model *m, unsigned run, unsigned k)
{
	struct anon_site st;
	__u8 o;

	expect_eq(sum()->live_bytes, model_program(m), "run %u step %u: live",
		  run, k);
	expect_eq(sum()->peak_bytes, m->peak, "run %u step %u: peak", run, k);
	expect_eq(sum()->arena_live_bytes, model_live(m, NR_OWNERS - 1),
		  "run %u step %u: arena live", run, k);
	expect_eq(sum()->reserved_bytes, model_reserved(m, 1) +
		  model_reserved(m, 2) + model_reserved(m, 3),
		  "run %u step %u: reserved", run, k);
	expect_eq(sum()->arena_reserved_bytes,
		  model_reserved(m, NR_OWNERS - 1),
		  "run %u step %u: arena reserved", run, k);
	for (o = 1; o < NR_OWNERS; o++) {
		bool arena = o == NR_OWNERS - 1;

		if (!site_of(arena ? ARENA_PC + 1 : owner_frames[o][0], arena,
			     &st)) {
			expect_eq(m->calls[o], 0, "run %u step %u: owner %u",
				  run, k, o);
			continue;
		}
		expect_eq(st.live_bytes, model_live(m, o),
			  "run %u step %u: owner %u live", run, k, o);
		expect_eq(st.live_ranges, model_runs(m, o),
			  "run %u step %u: owner %u ranges", run, k, o);
		expect_eq(st.reserved_bytes, model_reserved(m, o),
			  "run %u step %u: owner %u reserved", run, k, o);
		expect_eq(st.calls, m->calls[o],
			  "run %u step %u: owner %u calls", run, k, o);
		if (!arena)
			expect_eq(st.peak_bytes, m->at_peak[o],
				  "run %u step %u: owner %u at the peak",
				  run, k, o);
	}
}

Test(anon, generated_runs_match_a_page_model)
{
	struct model *m = malloc(sizeof(*m));
	unsigned run, k;

	cr_assert(m);
	for (run = 0; run < 20; run++) {
		store__free(s);
		s = store__new();
		cr_assert(s);
		memset(m, 0, sizeof(*m));
		for (k = 0; k < 400; k++) {
			step(m, 100 + k);
			check_model(m, run, k);
		}
	}
	free(m);
}
