/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The heap scan in the reports: a store fed records, its live blocks
 * scanned over a fake memory, the model built with the scan. Each leak
 * and each site (past --top too) counts its blocks by class (two stacks
 * that resolve alike merge their counts), the leak filter applies, cycles and links name resolved
 * frames, and the JSON and text carry them; without a scan, none of it.
 * With two processes, each image has its own scan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "heapscan.h"
#include "procs.h"
#include "report.h"
#include "report_json.h"
#include "store.h"
#include "builders.h"
#include "expect.h"

#define BASE	0x500000ull
#define SLOT	64u
#define NR	8

static unsigned char mem[NR * SLOT];

static long fake_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < BASE || addr - BASE >= sizeof(mem))
		return -EFAULT;
	if (len > sizeof(mem) - (addr - BASE))
		len = sizeof(mem) - (addr - BASE);
	memcpy(buf, mem + (addr - BASE), len);
	return len;
}

static __u64 blk(unsigned i)
{
	return BASE + (__u64)i * SLOT;
}

static void put(unsigned i, unsigned w, __u64 v)
{
	memcpy(mem + i * SLOT + 8 * w, &v, 8);
}

/* Every address its own function: "f<addr>". */
static char names[64][32];
static struct frame frames[64];
static unsigned nr_names;

static unsigned resolve(void *ctx, __u64 addr, const struct frame **out)
{
	struct frame *f = &frames[nr_names % 64];

	(void)ctx;
	snprintf(names[nr_names % 64], sizeof(names[0]), "f%llx",
		 (unsigned long long)addr);
	*f = (struct frame){ .addr = addr, .function = names[nr_names % 64] };
	nr_names++;
	*out = f;
	return 1;
}

/*
 * Stack A (0x100): blocks 0-1, a lost pair pointing at each other;
 * stack B (0x200): blocks 2-4, a root holds 2, 2 holds 3 inside, 4 lost;
 * stack C (0x300): blocks 5-7, 5 holds 6 and 7, 5 held by a root.
 */
static const __u64 *stack_of(unsigned i)
{
	static const __u64 sa[] = { 0x100, 0x900 }, sb[] = { 0x200, 0x900 },
		sc[] = { 0x300, 0x900 };

	return i < 2 ? sa : i < 5 ? sb : sc;
}

/* The scan of the blocks above, as a store that took them in order has
 * them (stack ids 0, 1, 2). */
static struct heapscan *scan(void)
{
	__u64 roots[] = { blk(2), blk(5) };
	struct heapscan_buf buf = { .addr = 0x10, .data = roots,
				    .len = sizeof(roots) };
	struct heapscan_roots r = {
		.bufs = &buf, .nr_bufs = 1, .read = fake_read,
	};
	struct heapscan *hs = heapscan__new();
	unsigned i;

	cr_assert_not_null(hs);
	memset(mem, 0, sizeof(mem));
	put(0, 0, blk(1));
	put(1, 0, blk(0));
	put(2, 0, blk(3) + 8);
	put(5, 0, blk(6));
	put(5, 1, blk(7));
	for (i = 0; i < NR; i++)
		cr_assert_eq(heapscan__add(hs, blk(i), 32 + i,
					   i < 2 ? 0 : i < 5 ? 1 : 2, 0), 0);
	cr_assert_eq(heapscan__run(hs, &r), 0);
	return hs;
}

static struct store *gen(struct heapscan **hs)
{
	struct store *s = store__new();
	unsigned i;

	cr_assert_not_null(s);
	for (i = 0; i < NR; i++)
		ev_alloc(s, blk(i), 32 + i, i + 1, stack_of(i), 2, 1000 + i);
	*hs = scan();
	return s;
}

static const struct report_target target = {
	.pid = 1, .start_ns = 1000, .duration_ns = 1000,
};

/* The entry of a report list (leaks, sites) whose first frame is addr. */
static const struct report_site *entry_at(const struct report_site *list,
					  size_t nr, const char *what,
					  __u64 addr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		if (list[i].nr_frames && list[i].frames[0].addr == addr)
			return &list[i];
	}
	cr_assert_fail("no %s with frame 0x%llx", what,
		       (unsigned long long)addr);
	return NULL;
}

static const struct report_site *leak_at(const struct report *r, __u64 addr)
{
	return entry_at(r->leaks, r->nr_leaks, "leak", addr);
}

Test(reach_report, classes_per_leak)
{
	struct report_opts o = { .resolve = resolve };
	const struct report_site *l;
	struct heapscan *hs;
	struct store *s = gen(&hs);
	struct report *r;

	struct report_scan sc = {
		.scan = hs, .pause = { .pause_ns = 1234, .threads = 2 },
	};

	o.scans = &sc;
	o.nr_scans = 1;
	r = report__build(s, &target, NULL, NULL, 0, &o);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	cr_assert(r->reach.scanned);
	expect_eq(r->reach.pause.pause_ns, 1234, "pause");
	l = leak_at(r, 0x100);
	expect_eq(l->reach[HEAPSCAN_DEFINITELY_LOST].count, 1, "A definitely");
	expect_eq(l->reach[HEAPSCAN_INDIRECTLY_LOST].count, 1, "A indirectly");
	expect_eq(l->reach[HEAPSCAN_INDIRECTLY_LOST].bytes, 33, "A bytes");
	l = leak_at(r, 0x200);
	expect_eq(l->reach[HEAPSCAN_STILL_REACHABLE].count, 1, "B reachable");
	expect_eq(l->reach[HEAPSCAN_POSSIBLY_LOST].count, 1, "B possibly");
	expect_eq(l->reach[HEAPSCAN_DEFINITELY_LOST].bytes, 36, "B lost bytes");
	l = leak_at(r, 0x300);
	expect_eq(l->reach[HEAPSCAN_STILL_REACHABLE].count, 3, "C reachable");
	expect_eq(r->reach.nr_cycles, 1, "cycle groups");
	expect_eq(r->reach.cycles[0].nr_members, 1, "cycle sites");
	expect_eq(r->reach.cycles[0].members[0].frames[0].addr, 0x100,
		  "cycle site's frame");
	expect_eq(r->reach.links_total, heapscan__nr_links(hs), "links");
	/* A's pair and C's two: a tie, in site order. */
	expect_eq(r->reach.links[0].count, 2, "strongest link");
	cr_assert_str_eq(r->reach.links[0].from[0].function, "f100");
	cr_assert_str_eq(r->reach.links[1].to[0].function, "f300");
	expect_eq(r->reach.links[2].kind, HEAPSCAN_SLICE, "B's interior one");
	report__free(r);
	heapscan__free(hs);
	store__free(s);
}

static const struct report_site *site_at(const struct report *r, __u64 addr)
{
	return entry_at(r->sites, r->nr_sites, "site", addr);
}

/*
 * Every site carries its classes, not only the --top leaks: with -t 1 the
 * leak list holds C alone, yet A's and B's sites have theirs, the same as
 * leaks with no --top; the peak list, of other blocks, has none.
 */
Test(reach_report, classes_per_site)
{
	struct report_opts o = { .resolve = resolve, .top = 1 };
	const struct report_site *st;
	struct heapscan *hs;
	struct store *s = gen(&hs);
	struct report *r;
	struct report_scan sc = { .scan = hs };
	size_t i, c;

	o.scans = &sc;
	o.nr_scans = 1;
	r = report__build(s, &target, NULL, NULL, 0, &o);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	expect_eq(r->nr_leaks, 1, "leaks past --top");
	expect_eq(r->nr_sites, 3, "sites: uncut");
	st = site_at(r, 0x100);
	expect_eq(st->reach[HEAPSCAN_DEFINITELY_LOST].count, 1, "A definitely");
	expect_eq(st->reach[HEAPSCAN_INDIRECTLY_LOST].bytes, 33, "A bytes");
	st = site_at(r, 0x200);
	expect_eq(st->reach[HEAPSCAN_STILL_REACHABLE].count, 1, "B reachable");
	expect_eq(st->reach[HEAPSCAN_POSSIBLY_LOST].count, 1, "B possibly");
	expect_eq(st->reach[HEAPSCAN_DEFINITELY_LOST].bytes, 36, "B lost bytes");
	st = site_at(r, 0x300);
	expect_eq(st->reach[HEAPSCAN_STILL_REACHABLE].count, 3, "C reachable");
	for (i = 0; i < r->nr_peak; i++)
		for (c = 0; c < HEAPSCAN_CLASS__COUNT; c++)
			expect_eq(r->peak[i].reach[c].count, 0, "peak: none");
	report__free(r);
	heapscan__free(hs);
	store__free(s);
}

/* The filter drops B's small blocks from the leaks, classes included. */
Test(reach_report, filter_applies)
{
	struct report_opts o = { .resolve = resolve,
				 .filter = { .min_size = 36 } };
	const struct report_site *l;
	struct heapscan *hs;
	struct store *s = gen(&hs);
	struct report *r;

	struct report_scan sc = { .scan = hs };

	o.scans = &sc;
	o.nr_scans = 1;
	r = report__build(s, &target, NULL, NULL, 0, &o);
	cr_assert_not_null(r);
	l = leak_at(r, 0x200);
	expect_eq(l->count, 1, "B blocks of 36 bytes or more");
	expect_eq(l->reach[HEAPSCAN_DEFINITELY_LOST].count, 1, "B's block 4");
	expect_eq(l->reach[HEAPSCAN_STILL_REACHABLE].count, 0,
		  "B's block 2, filtered");
	report__free(r);
	heapscan__free(hs);
	store__free(s);
}

static char *json_of(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(report__json_stream(r, f, false), 0);
	fclose(f);
	return buf;
}

static char *text_of(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(report__write_text(r, f), 0);
	fclose(f);
	return buf;
}

#define CLASSES_AT \
	"\"reachability\":{\"source\":\"inferred\",\"rule\":\"conservative_scan\",\"definitely_lost\""

Test(reach_report, exports)
{
	struct report_opts o = { .resolve = resolve };
	struct heapscan *hs;
	struct store *s = gen(&hs);
	struct report_scan sc = { .scan = hs };
	struct report *r;
	char *j, *t;
	const char *p;
	unsigned n;

	r = report__build(s, &target, NULL, NULL, 0, &o);
	j = json_of(r);
	t = text_of(r);
	cr_assert_null(strstr(j, "reachability"), "no scan: no reachability");
	cr_assert_null(strstr(t, "Reachability"), "no scan: no section");
	free(j);
	free(t);
	report__free(r);
	o.scans = &sc;
	o.nr_scans = 1;
	r = report__build(s, &target, NULL, NULL, 0, &o);
	j = json_of(r);
	t = text_of(r);
	cr_assert_not_null(strstr(j, "\"reachability\":{\"source\":\"inferred\",\"rule\":\"conservative_scan\",\"definitely_lost\":{\"count\":1,\"bytes\":32}"),
			   "leak A's classes in: %s", j);
	/* Each of the three leaks and the same three sites, with -t 0. */
	for (p = j, n = 0; (p = strstr(p, CLASSES_AT)); p++)
		n++;
	expect_eq(n, 6, "classes of leaks and sites in: %s", j);
	cr_assert_not_null(strstr(j, "\"cycles\":{\"source\":\"inferred\""));
	cr_assert_not_null(strstr(j, "\"kind\":\"container\"") ||
			   strstr(j, "\"kind\":\"owner\""));
	cr_assert_not_null(strstr(t, "  Definitely lost: 68 bytes in 2 blocks"),
			   "text: %s", t);
	cr_assert_not_null(strstr(t, "  Leaked cycles (owner pointers among lost blocks, inferred): 1 cycle in 1 group"));
	free(j);
	free(t);
	report__free(r);
	heapscan__free(hs);
	store__free(s);
}

/*
 * Two processes: pid 10 has the blocks above and was scanned, pid 20 has
 * one block and no scan (it was not running at the end). Each image's
 * report has its own scan; the trace's merged leaks carry the classes of
 * the image each is of, and nothing of the scan is over both.
 */
Test(reach_report, per_process_image)
{
	static const __u64 sd[] = { 0x400, 0x900 };
	struct report_target tgt = target;
	struct procs *pt = procs__new();
	struct heapscan *hs = scan();
	struct report_scan sc = { .scan = hs };
	struct report_opts o = { .resolve = resolve, .scans = &sc,
				 .nr_scans = 1 };
	const struct report_site *l;
	struct ms_event e;
	struct report *r;
	char *j, *t;
	unsigned i;

	cr_assert_not_null(pt);
	for (i = 0; i <= NR; i++) {
		e = ev_rec(MS_EV_ALLOC, 1000 + i);
		e.pid = e.tid = i < NR ? 10 : 20;
		e.ptr = i < NR ? blk(i) : 0x900000;
		e.size = 32 + i;
		e.seq = i + 1;
		ev_stack(&e, i < NR ? stack_of(i) : sd, 2);
		cr_assert_eq(procs__apply(pt, &e), 0);
	}
	tgt.pid = 10;
	r = report__build_procs(pt, &tgt, NULL, NULL, 0, &o);
	cr_assert_not_null(r, "report__build_procs: %s", strerror(errno));
	cr_assert_eq(r->nr_procs, 2);
	cr_assert(r->procs[0].r->reach.scanned, "pid 10 scanned");
	cr_assert_not(r->procs[1].r->reach.scanned, "pid 20 not");
	cr_assert_not(r->reach.scanned, "no scan over both");
	expect_eq(r->procs[0].r->reach.nr_cycles, 1, "pid 10's cycle");
	l = leak_at(r, 0x100);
	expect_eq(l->proc, 0, "A is pid 10's");
	expect_eq(l->reach[HEAPSCAN_DEFINITELY_LOST].count, 1,
		  "A's classes merged with it");
	l = leak_at(r, 0x200);
	expect_eq(l->reach[HEAPSCAN_POSSIBLY_LOST].count, 1, "B possibly");
	l = leak_at(r, 0x400);
	expect_eq(l->proc, 1, "D is pid 20's");
	j = json_of(r);
	t = text_of(r);
	/*
	 * A, B and C, each as a leak and a site at the top, and as a leak in
	 * processes[0] (whose sites are the top-level ones of proc 0); D, of
	 * the image not scanned, in none.
	 */
	expect_eq(count_of(j, "\"rule\":\"conservative_scan\",\"definitely_lost\""),
		  9, "leaks and sites with classes in %s", j);
	expect_eq(count_of(j, "\"pause\":{"), 1,
		  "one scan's totals, processes[0]'s: %s", j);
	cr_assert_not_null(strstr(j, "\"cycles\":{\"source\":\"inferred\""));
	expect_eq(count_of(t, "\nReachability (heap scan of 8 live blocks"), 1,
		  "pid 10's section only: %s", t);
	free(j);
	free(t);
	report__free(r);
	heapscan__free(hs);
	procs__free(pt);
}
