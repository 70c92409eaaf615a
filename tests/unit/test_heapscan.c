/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The heap scan over generated heaps: blocks laid out in a fake address
 * space the read callback serves, pointers written into them. A
 * hand-made heap with one case of each class, cycle and edge kind; random
 * heaps checked against memcheck's definitions computed here another
 * way (fixpoints and a reachability matrix); unreadable memory; and the
 * memory a block costs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "heapscan.h"
#include "expect.h"

#define BASE		0x7f0000100000ull
#define SLOT		128u		/* each block's place in the fake heap */
#define BSIZE		96u		/* and its size */
#define MAX_BLOCKS	4096

struct fake {
	unsigned char *mem;	/* [BASE, BASE + len) */
	size_t len;
	__u64 hole;		/* a block whose reads fail, 0 none */
	unsigned reads;
};

static long fake_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	struct fake *f = ctx;

	f->reads++;
	if (f->hole && addr <= f->hole && f->hole < addr + len)
		return -EFAULT;
	if (addr < BASE || addr - BASE >= f->len)
		return -EFAULT;
	if (len > f->len - (addr - BASE))
		len = f->len - (addr - BASE);
	memcpy(buf, f->mem + (addr - BASE), len);
	return len;
}

static __u64 blk(unsigned i)
{
	return BASE + (__u64)i * SLOT;
}

/* Word w of block i holds v. */
static void put(struct fake *f, unsigned i, unsigned w, __u64 v)
{
	memcpy(f->mem + (__u64)i * SLOT + 8 * w, &v, 8);
}

static void fake_init(struct fake *f, unsigned nr)
{
	f->len = (size_t)nr * SLOT;
	f->mem = calloc(1, f->len);
	f->hole = 0;
	cr_assert_not_null(f->mem);
}

/* Blocks allocated ages[i] ns before the scan (NULL: all at once). */
static struct heapscan *scan_aged(struct fake *f, unsigned nr,
				  const __u32 *sites, const __u64 *ages,
				  const __u64 *roots, size_t nr_roots)
{
	struct heapscan_buf buf = {
		.addr = 0x1000, .data = roots, .len = nr_roots * 8,
	};
	struct heapscan_roots r = {
		.bufs = &buf, .nr_bufs = 1, .read = fake_read, .ctx = f,
	};
	struct heapscan *h = heapscan__new();
	unsigned i;

	cr_assert_not_null(h);
	/* Added backwards: the scan sorts them. */
	for (i = nr; i-- > 0;)
		cr_assert_eq(heapscan__add(h, blk(i), BSIZE, sites ? sites[i] : i,
					   ages ? ages[i] : 0), 0);
	cr_assert_eq(heapscan__run(h, &r), 0);
	return h;
}

static struct heapscan *scan(struct fake *f, unsigned nr, const __u32 *sites,
			     const __u64 *roots, size_t nr_roots)
{
	return scan_aged(f, nr, sites, NULL, roots, nr_roots);
}

static void expect_class(const struct heapscan *h, unsigned i, int want)
{
	int got = heapscan__class_of(h, blk(i));

	cr_assert_eq(got, want, "block %u: got %s, want %s", i,
		     got < 0 ? "none" : heapscan_class_name(got),
		     heapscan_class_name(want));
}

/*
 * 0 root -> 1 -> 2 (interior): reachable, reachable, possibly lost;
 * 3 from a root by an interior pointer -> 4: possibly, possibly;
 * 5 <-> 6 lost cycle; 7 alone; 8 -> 9 -> 10 a lost list; 11 holds itself.
 */
Test(heapscan, each_class)
{
	__u64 roots[] = { blk(0), blk(3) + 8, 12345, blk(0) - 1 };
	const struct heapscan_stats *st;
	const struct heapscan_cycle *c;
	struct fake f;
	struct heapscan *h;

	fake_init(&f, 12);
	put(&f, 0, 0, blk(1));
	put(&f, 1, 5, blk(2) + 16);
	put(&f, 3, 1, blk(4));
	put(&f, 5, 0, blk(6));
	put(&f, 6, 2, blk(5));
	put(&f, 8, 0, blk(9));
	put(&f, 9, 0, blk(10));
	put(&f, 11, 3, blk(11));
	h = scan(&f, 12, NULL, roots, 4);
	expect_class(h, 0, HEAPSCAN_STILL_REACHABLE);
	expect_class(h, 1, HEAPSCAN_STILL_REACHABLE);
	expect_class(h, 2, HEAPSCAN_POSSIBLY_LOST);
	expect_class(h, 3, HEAPSCAN_POSSIBLY_LOST);
	expect_class(h, 4, HEAPSCAN_POSSIBLY_LOST);
	/* The lower address of a cycle leads it. */
	expect_class(h, 5, HEAPSCAN_DEFINITELY_LOST);
	expect_class(h, 6, HEAPSCAN_INDIRECTLY_LOST);
	expect_class(h, 7, HEAPSCAN_DEFINITELY_LOST);
	expect_class(h, 8, HEAPSCAN_DEFINITELY_LOST);
	expect_class(h, 9, HEAPSCAN_INDIRECTLY_LOST);
	expect_class(h, 10, HEAPSCAN_INDIRECTLY_LOST);
	expect_class(h, 11, HEAPSCAN_DEFINITELY_LOST);
	cr_assert_eq(heapscan__class_of(h, blk(1) + 8), -ENOENT);
	st = heapscan__stats(h);
	expect_eq(st->count[HEAPSCAN_DEFINITELY_LOST], 4, "definitely lost");
	expect_eq(st->class_bytes[HEAPSCAN_INDIRECTLY_LOST], 3 * BSIZE,
		  "indirectly lost bytes");
	expect_eq(st->edges, 8, "edges");
	/* Two cycles: 5 <-> 6, and 11 holding itself. */
	expect_eq(heapscan__nr_cycles(h), 2, "cycle groups");
	c = heapscan__cycle(h, 0);
	expect_eq(c->blocks, 2, "first cycle's blocks");
	expect_eq(c->bytes, 2 * BSIZE, "first cycle's bytes");
	expect_eq(c->nr_members, 2, "first cycle's sites");
	expect_eq(heapscan__cycle(h, 1)->blocks, 1, "self-held block");
	heapscan__free(h);
	free(f.mem);
}

/*
 * Ten lost rings of the same two sites are one group; a vector (one block
 * holding 8 starts of one site) gives container edges; two holders of
 * one block, shared edges.
 */
Test(heapscan, graph_and_groups)
{
	__u32 sites[40];
	__u64 roots[] = { blk(20), blk(30), blk(31) };
	const struct heapscan_cycle *c;
	const struct heapscan_link *l;
	__u64 kinds[HEAPSCAN_EDGE__COUNT] = {};
	struct heapscan *h;
	struct fake f;
	unsigned i;

	fake_init(&f, 40);
	for (i = 0; i < 20; i += 2) {
		sites[i] = 1;
		sites[i + 1] = 2;
		put(&f, i, 0, blk(i + 1));
		put(&f, i + 1, 0, blk(i));
	}
	sites[20] = 3;
	for (i = 21; i < 29; i++) {
		sites[i] = 4;
		put(&f, 20, i - 21, blk(i));
	}
	sites[29] = 5;
	sites[30] = sites[31] = 6;
	put(&f, 30, 0, blk(29));
	put(&f, 31, 0, blk(29));
	put(&f, 31, 1, blk(30) + 8);
	for (i = 32; i < 40; i++)
		sites[i] = 7;
	h = scan(&f, 40, sites, roots, 3);
	expect_eq(heapscan__nr_cycles(h), 1, "cycle groups");
	c = heapscan__cycle(h, 0);
	expect_eq(c->instances, 10, "rings in the group");
	expect_eq(c->blocks, 20, "blocks");
	expect_eq(c->nr_members, 2, "sites");
	expect_eq(c->members[0].site, 1, "first site");
	expect_eq(c->members[0].count, 1, "its blocks per ring");
	expect_eq(c->members[0].bytes, 10 * BSIZE, "its bytes in all rings");
	for (i = 0; i < heapscan__nr_links(h); i++) {
		l = heapscan__link(h, i);
		kinds[l->kind] += l->count;
		if (l->kind == HEAPSCAN_CONTAINER) {
			expect_eq(l->from, 3, "container's site");
			expect_eq(l->to, 4, "its elements' site");
		}
		if (l->kind == HEAPSCAN_SHARED)
			expect_eq(l->to, 5, "shared block's site");
	}
	expect_eq(kinds[HEAPSCAN_CONTAINER], 8, "container edges");
	expect_eq(kinds[HEAPSCAN_SHARED], 2, "shared edges");
	expect_eq(kinds[HEAPSCAN_SLICE], 1, "slice edges");
	expect_eq(kinds[HEAPSCAN_OWNER], 20, "owner edges");
	heapscan__free(h);
	free(f.mem);
}

/*
 * An unreadable block is still classified by what points to it, and
 * counted; an anonymous range holding a block (an arena) is no root, one
 * holding none is.
 */
Test(heapscan, unreadable_and_arenas)
{
	struct heapscan_range ranges[2] = {
		{ .addr = BASE, .len = 4 * SLOT, .anon = true },
		{ .addr = BASE + 8 * SLOT, .len = 2 * SLOT, .anon = true },
	};
	struct heapscan_roots r = {
		.ranges = ranges, .nr_ranges = 2, .read = fake_read,
	};
	const struct heapscan_stats *st;
	struct heapscan *h = heapscan__new();
	struct fake f;

	fake_init(&f, 10);
	r.ctx = &f;
	put(&f, 8, 0, blk(0));		/* the root range: 8-9, no block */
	put(&f, 0, 0, blk(1));		/* unreadable: this edge is unseen */
	put(&f, 2, 0, blk(3));		/* in the arena: not a root */
	f.hole = blk(0) + 8;
	cr_assert_eq(heapscan__add(h, blk(0), BSIZE, 0, 0), 0);
	cr_assert_eq(heapscan__add(h, blk(1), BSIZE, 0, 0), 0);
	cr_assert_eq(heapscan__add(h, blk(3), BSIZE, 0, 0), 0);
	cr_assert_eq(heapscan__run(h, &r), 0);
	st = heapscan__stats(h);
	expect_eq(st->unreadable, 1, "unreadable blocks");
	expect_eq(st->arena_ranges, 1, "arenas left out");
	expect_eq(st->root_ranges, 1, "root ranges");
	expect_class(h, 0, HEAPSCAN_STILL_REACHABLE);
	expect_class(h, 1, HEAPSCAN_DEFINITELY_LOST);
	expect_class(h, 3, HEAPSCAN_DEFINITELY_LOST);
	cr_assert_eq(heapscan__run(h, &r), -EINVAL, "a second run");
	heapscan__free(h);
	/* A process with no live block: nothing, and no error. */
	h = heapscan__new();
	cr_assert_eq(heapscan__run(h, &r), 0, "an empty heap");
	expect_eq(heapscan__stats(h)->blocks, 0, "blocks");
	expect_eq(heapscan__nr_links(h) + heapscan__nr_cycles(h), 0, "graph");
	heapscan__free(h);
	free(f.mem);
}

/* Random heaps: the classes checked against the definitions. */
#define RN	300

static bool adj[RN][RN], adj_start[RN][RN];
static bool reach[RN][RN];	/* over start edges between lost blocks */
static bool any[RN][RN];	/* over any edge between lost blocks */

static unsigned rnd(unsigned *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 16;
}

static void check_random(unsigned seed)
{
	bool rs[RN] = {}, ri[RN] = {}, R[RN] = {}, P[RN] = {}, lost[RN];
	__u64 roots[16];
	unsigned i, j, k, nr_roots = 0, edges = 0, cyc_blocks = 0, d = 0;
	bool changed;
	struct heapscan *h;
	struct fake f;

	memset(adj, 0, sizeof(adj));
	memset(adj_start, 0, sizeof(adj_start));
	fake_init(&f, RN);
	for (i = 0; i < RN; i++) {
		for (k = 0; k < 6; k++) {
			unsigned t = rnd(&seed) % RN;
			bool in = rnd(&seed) % 5 == 0;

			if (rnd(&seed) % 3)
				continue;
			put(&f, i, k, blk(t) + (in ? 8 * (1 + k) : 0));
			adj[i][t] = true;
			adj_start[i][t] |= !in;
			edges++;
		}
	}
	for (k = 0; k < 16; k++) {
		unsigned t = rnd(&seed) % RN;
		bool in = rnd(&seed) % 3 == 0;

		if (rnd(&seed) % 2)
			continue;
		roots[nr_roots++] = blk(t) + (in ? 24 : 0);
		(in ? ri : rs)[t] = true;
	}
	h = scan(&f, RN, NULL, roots, nr_roots);
	expect_eq(heapscan__stats(h)->edges, edges, "edges (seed %u)", seed);
	/* Still reachable: the least set holding rs, closed by start edges. */
	memcpy(R, rs, sizeof(R));
	do {
		changed = false;
		for (i = 0; i < RN; i++)
			for (j = 0; R[i] && j < RN; j++)
				if (adj_start[i][j] && !R[j])
					R[j] = changed = true;
	} while (changed);
	for (i = 0; i < RN; i++)
		P[i] = R[i] || rs[i] || ri[i];
	do {
		changed = false;
		for (i = 0; i < RN; i++)
			for (j = 0; P[i] && j < RN; j++)
				if (adj[i][j] && !P[j])
					P[j] = changed = true;
	} while (changed);
	for (i = 0; i < RN; i++)
		lost[i] = !P[i];
	/* Lost blocks' reachability, for the components. */
	for (i = 0; i < RN; i++)
		for (j = 0; j < RN; j++)
		for (j = 0; j < RN; j++) {
			reach[i][j] = lost[i] && lost[j] && adj_start[i][j];
			any[i][j] = lost[i] && lost[j] && adj[i][j];
		}
	for (k = 0; k < RN; k++)
		for (i = 0; i < RN; i++)
			for (j = 0; j < RN; j++) {
				reach[i][j] |= reach[i][k] && reach[k][j];
				any[i][j] |= any[i][k] && any[k][j];
			}
	for (i = 0; i < RN; i++) {
		bool source = true, first = true;

		if (R[i]) {
			expect_class(h, i, HEAPSCAN_STILL_REACHABLE);
			continue;
		}
		if (P[i]) {
			expect_class(h, i, HEAPSCAN_POSSIBLY_LOST);
			continue;
		}
		/*
		 * Definitely lost: the lowest address of a group of lost
		 * blocks that reach each other (any pointer) and that no
		 * other lost block reaches; every other lost block,
		 * indirectly.
		 */
		for (j = 0; j < RN; j++) {
			if (j == i || !any[j][i])
				continue;
			if (!any[i][j])
				source = false;
			else if (j < i)
				first = false;
		}
		expect_class(h, i, source && first ?
			     HEAPSCAN_DEFINITELY_LOST :
			     HEAPSCAN_INDIRECTLY_LOST);
		d += source && first;
		if (reach[i][i])
			cyc_blocks++;
	}
	{
		__u64 sum = 0;

		for (i = 0; i < heapscan__nr_cycles(h); i++)
			sum += heapscan__cycle(h, i)->blocks;
		expect_eq(sum, cyc_blocks, "blocks in cycles (seed %u)", seed);
	}
	expect_eq(heapscan__stats(h)->count[HEAPSCAN_DEFINITELY_LOST], d,
		  "definitely lost (seed %u)", seed);
	heapscan__free(h);
	free(f.mem);
}

Test(heapscan, random_heaps)
{
	unsigned seed;

	for (seed = 1; seed <= 20; seed++)
		check_random(seed);
}

/*
 * Clone candidates: four blocks of one site with the same data and
 * pointers to different blocks are one group; one with other data, and
 * blocks of pointers and zeros only, are none.
 */
Test(heapscan, clones)
{
	__u32 sites[16];
	const struct heapscan_clone *c;
	struct heapscan *h;
	struct fake f;
	unsigned i;

	fake_init(&f, 16);
	for (i = 0; i < 16; i++)
		sites[i] = 4;
	for (i = 0; i < 5; i++) {
		sites[i] = 1;
		put(&f, i, 0, blk(10 + i));
		put(&f, i, 1, i < 4 ? 0x1234 : 0x9999);
	}
	sites[5] = sites[6] = 2;
	put(&f, 5, 0, blk(12));
	put(&f, 6, 0, blk(13));
	h = scan(&f, 16, sites, NULL, 0);
	expect_eq(heapscan__nr_clones(h), 1, "clone groups");
	c = heapscan__clone(h, 0);
	expect_eq(c->site, 1, "its site");
	expect_eq(c->count, 4, "its blocks");
	expect_eq(c->size, BSIZE, "their size");
	expect_eq(heapscan__stats(h)->clones, 4, "blocks in groups");
	heapscan__free(h);
	free(f.mem);
}

/*
 * A scan's results, restored (what a recording gives back), answer as the
 * scan did: each block's class, the totals, the cycles, links and clones.
 * Results out of range are refused.
 */
Test(heapscan, restore_answers_as_the_scan)
{
	__u64 roots[] = { blk(0), blk(3) + 8 };
	struct heapscan_verdict *v, bad[2];
	struct heapscan_result res, wrong;
	struct heapscan *h, *back;
	__u32 sites[30];
	struct fake f;
	size_t i;

	fake_init(&f, 30);
	for (i = 0; i < 30; i++)
		sites[i] = i % 2 + 1;
	for (i = 0; i < 28; i += 2) {
		put(&f, i, 0, blk(i + 1));
		put(&f, i + 1, 0, blk(i));
		put(&f, i + 1, 1, 0x5555);
	}
	put(&f, 3, 2, blk(29) + 8);
	h = scan(&f, 30, sites, roots, 2);
	cr_assert_eq(heapscan__result(h, &res, &v), 0);
	cr_assert_eq(res.nr_verdicts, 30, "verdicts: got %zu", res.nr_verdicts);
	back = heapscan__restore(&res);
	cr_assert_not_null(back, "restore: %s", strerror(errno));
	for (i = 0; i < 30; i++)
		expect_eq(heapscan__class_of(back, blk(i)),
			  heapscan__class_of(h, blk(i)), "block %zu's class", i);
	expect_eq(heapscan__class_of(back, blk(1) + 8), -ENOENT,
		  "an address inside a block");
	cr_assert(!memcmp(heapscan__stats(back), heapscan__stats(h),
			  sizeof(struct heapscan_stats)), "totals differ");
	expect_eq(heapscan__nr_cycles(back), heapscan__nr_cycles(h), "cycles");
	cr_assert_gt(heapscan__nr_cycles(h), 0, "the heap has no cycle");
	for (i = 0; i < heapscan__nr_cycles(h); i++) {
		const struct heapscan_cycle *a = heapscan__cycle(h, i);
		const struct heapscan_cycle *b = heapscan__cycle(back, i);

		expect_eq(b->bytes, a->bytes, "cycle %zu's bytes", i);
		expect_eq(b->nr_members, a->nr_members, "cycle %zu's sites", i);
		cr_assert(!memcmp(b->members, a->members,
				  a->nr_members * sizeof(*a->members)),
			  "cycle %zu's members differ", i);
	}
	expect_eq(heapscan__nr_links(back), heapscan__nr_links(h), "links");
	for (i = 0; i < heapscan__nr_links(h); i++)
		cr_assert(!memcmp(heapscan__link(back, i), heapscan__link(h, i),
				  sizeof(struct heapscan_link)),
			  "link %zu differs", i);
	expect_eq(heapscan__nr_clones(back), heapscan__nr_clones(h), "clones");
	cr_assert_gt(heapscan__nr_clones(h), 0, "the heap has no clone");
	for (i = 0; i < heapscan__nr_clones(h); i++)
		cr_assert(!memcmp(heapscan__clone(back, i), heapscan__clone(h, i),
				  sizeof(struct heapscan_clone)),
			  "clone group %zu differs", i);

	bad[0] = (struct heapscan_verdict){ .addr = blk(1), .cls = 0 };
	bad[1] = (struct heapscan_verdict){ .addr = blk(0), .cls = 0 };
	wrong = (struct heapscan_result){ .verdicts = bad, .nr_verdicts = 2 };
	cr_assert_null(heapscan__restore(&wrong), "verdicts out of order");
	bad[1] = (struct heapscan_verdict){ .addr = blk(2),
					    .cls = HEAPSCAN_CLASS__COUNT };
	cr_assert_null(heapscan__restore(&wrong), "a class out of range");
	heapscan__free(back);
	heapscan__free(h);
	free(v);
	free(f.mem);
}

/*
 * Copies are clone candidates only when allocated within the window of
 * each other: four alike at 0, 0.4, 0.9 and 5 s old are one group of
 * three and a block alone; with a window of 10 s, one group of four; the
 * same data an hour apart is no clone.
 */
Test(heapscan, clones_within_a_window)
{
	const __u64 s = 1000000000ull;
	__u64 ages[8] = { 0, 4 * s / 10, 9 * s / 10, 5 * s,
			  0, 3600 * s, 7 * s, 7 * s + 1 };
	__u32 sites[8] = { 1, 1, 1, 1, 2, 2, 3, 3 };
	const struct heapscan_clone *c;
	struct heapscan *h;
	struct fake f;
	unsigned i;

	fake_init(&f, 8);
	for (i = 0; i < 8; i++)
		put(&f, i, 1, 0x1234);
	h = scan_aged(&f, 8, sites, ages, NULL, 0);
	expect_eq(heapscan__nr_clones(h), 2, "clone groups in 1 s");
	for (i = 0; i < heapscan__nr_clones(h); i++) {
		c = heapscan__clone(h, i);
		expect_eq(c->count, c->site == 1 ? 3 : 2,
			  "blocks of site %u's group", c->site);
		cr_expect_neq(c->site, 2, "blocks an hour apart are clones");
	}
	expect_eq(heapscan__stats(h)->clones, 5, "blocks in groups");
	heapscan__free(h);

	h = heapscan__new();
	cr_assert_not_null(h);
	heapscan__clone_window(h, 10 * s);
	for (i = 0; i < 4; i++)
		cr_assert_eq(heapscan__add(h, blk(i), BSIZE, 1, ages[i]), 0);
	cr_assert_eq(heapscan__run(h, &(struct heapscan_roots){
			.read = fake_read, .ctx = &f }), 0);
	expect_eq(heapscan__nr_clones(h), 1, "clone groups in 10 s");
	expect_eq(heapscan__clone(h, 0)->count, 4, "blocks of the group");
	heapscan__free(h);
	free(f.mem);
}
