// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * The heap scan: blocks sorted by address, every block's contents read
 * once (neighbours in one read) and its pointers to other blocks kept as
 * edges (compressed rows: one __u32 per edge, the top bit for an interior
 * pointer), the roots marked, then the classes, the leaked cycles and the
 * graph computed on the edges alone. Every walk is iterative over an
 * explicit stack: a hostile heap is a list a million blocks long.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "clock.h"
#include "heapscan.h"
#include "table.h"

/* Most read at once: neighbour blocks closer than SPAN_GAP share a read. */
#define SCAN_CHUNK		(256u << 10)
#define SPAN_GAP		256u
/* A block with this many start pointers to blocks of one site holds them. */
#define CONTAINER_MIN		8u
#define EDGE_INTERIOR		(1u << 31)
#define EDGE_TARGET		(EDGE_INTERIOR - 1)

enum hs_state {
	ST_UNREACHED = 0,
	ST_REACHABLE,
	ST_POSSIBLE,
	ST_INDIRECT,
	ST_DEFINITE,
};

enum hs_flag {
	F_ROOT_START = 1,	/* a root holds its start */
	F_ROOT_INTERIOR = 2,	/* a root points inside it */
	F_UNREADABLE = 4,
	F_ON_STACK = 8,		/* Tarjan's stack */
};

/* Sizes past this are cut to it: no block of a user space is as large. */
#define HS_SIZE_MAX		((1ull << 56) - 1)
/* Ages past this (49 days) count as this. */
#define HS_AGE_MAX		UINT32_MAX

/* 24 bytes: the scan's memory per block is mostly this. */
struct hs_block {
	__u64 addr;
	__u64 size : 56;
	__u64 state : 4;
	__u64 flags : 4;
	__u32 site;
	__u32 age_ms;		/* allocated this long before the scan */
};

_Static_assert(sizeof(struct hs_block) == 24,
	       "a block of the scan must stay 24 bytes: its memory budget");

struct heapscan {
	struct hs_block *blocks;
	size_t nr, cap;
	__u64 lo, hi;		/* every block lies in [lo, hi) */
	__u32 *first;		/* nr + 1: edges of block i are
				 * edges[first[i]..first[i + 1]) */
	__u32 *edges;
	size_t nr_edges, cap_edges;
	bool ran;
	struct heapscan_stats stats;
	struct heapscan_cycle *cycles;
	size_t nr_cycles;
	struct heapscan_member *members;
	size_t nr_members, cap_members;
	struct heapscan_link *links;
	size_t nr_links;
	/* while the blocks are read: each one's data hashed, 0 none */
	__u64 *hash;
	struct heapscan_clone *clones;
	size_t nr_clones;
};

/* Same data may be a copy, or two blocks that happen to hold it. */
const char heapscan_clone_rule[] = "same_site_size_and_data";
const double heapscan_clone_confidence = 0.5;

static const char *const class_names[HEAPSCAN_CLASS__COUNT] = {
	[HEAPSCAN_DEFINITELY_LOST] = "definitely_lost",
	[HEAPSCAN_INDIRECTLY_LOST] = "indirectly_lost",
	[HEAPSCAN_POSSIBLY_LOST] = "possibly_lost",
	[HEAPSCAN_STILL_REACHABLE] = "still_reachable",
};

/*
 * A word that looks like a pointer may be an integer: a block with none
 * is surely lost, one that seems reached may not be. An interior pointer
 * is as often a coincidence as a slice.
 */
static const double class_conf[HEAPSCAN_CLASS__COUNT] = {
	[HEAPSCAN_DEFINITELY_LOST] = 0.95,
	[HEAPSCAN_INDIRECTLY_LOST] = 0.9,
	[HEAPSCAN_POSSIBLY_LOST] = 0.5,
	[HEAPSCAN_STILL_REACHABLE] = 0.9,
};

static const struct {
	const char *name;
	const char *rule;
	double confidence;
} edge_info[HEAPSCAN_EDGE__COUNT] = {
	[HEAPSCAN_OWNER] = { "owner", "sole_start_pointer", 0.8 },
	[HEAPSCAN_SLICE] = { "slice", "interior_pointer", 0.6 },
	[HEAPSCAN_CONTAINER] = { "container", "many_pointers_to_one_site",
				 0.7 },
	[HEAPSCAN_SHARED] = { "shared", "two_or_more_holders", 0.7 },
};

const char *heapscan_class_name(unsigned int cls)
{
	return cls < HEAPSCAN_CLASS__COUNT ? class_names[cls] : NULL;
}

double heapscan_class_confidence(unsigned int cls)
{
	return cls < HEAPSCAN_CLASS__COUNT ? class_conf[cls] : 0;
}

const char *heapscan_edge_name(unsigned int kind)
{
	return kind < HEAPSCAN_EDGE__COUNT ? edge_info[kind].name : NULL;
}

const char *heapscan_edge_rule(unsigned int kind)
{
	return kind < HEAPSCAN_EDGE__COUNT ? edge_info[kind].rule : NULL;
}

double heapscan_edge_confidence(unsigned int kind)
{
	return kind < HEAPSCAN_EDGE__COUNT ? edge_info[kind].confidence : 0;
}

struct heapscan *heapscan__new(void)
{
	struct heapscan *h = calloc(1, sizeof(struct heapscan));

	if (h)
		h->stats.clone_window_ns = HEAPSCAN_CLONE_WINDOW_NS;
	return h;
}

void heapscan__free(struct heapscan *h)
{
	if (!h)
		return;
	free(h->blocks);
	free(h->first);
	free(h->edges);
	free(h->cycles);
	free(h->members);
	free(h->links);
	free(h->hash);
	free(h->clones);
	free(h);
}

void heapscan__clone_window(struct heapscan *h, __u64 window_ns)
{
	h->stats.clone_window_ns = window_ns;
}

int heapscan__add(struct heapscan *h, __u64 addr, __u64 size, __u32 site,
		  __u64 age_ns)
{
	__u64 age_ms = age_ns / 1000000;
	int err;

	if (h->ran || site > HEAPSCAN_MAX_SITE || addr + size < addr)
		return -EINVAL;
	if (size > HS_SIZE_MAX)
		size = HS_SIZE_MAX;
	/* Edges name blocks in 31 bits. */
	if (h->nr >= EDGE_TARGET)
		return -E2BIG;
	err = tab_grow((void **)&h->blocks, &h->cap, h->nr + 1,
		       sizeof(*h->blocks));
	if (err)
		return err;
	h->blocks[h->nr++] = (struct hs_block){
		.addr = addr, .size = size, .site = site,
		.age_ms = age_ms < HS_AGE_MAX ? age_ms : HS_AGE_MAX,
	};
	return 0;
}

static int block_cmp(const void *pa, const void *pb)
{
	const struct hs_block *a = pa, *b = pb;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/*
 * Sorted, and overlapping blocks (a store never holds them; a hostile
 * recording might) cut so that every address is in one block at most.
 */
static void sort_blocks(struct heapscan *h)
{
	size_t i;

	if (h->nr)
		qsort(h->blocks, h->nr, sizeof(*h->blocks), block_cmp);
	h->lo = h->nr ? h->blocks[0].addr : 0;
	h->hi = h->lo;
	for (i = 0; i < h->nr; i++) {
		struct hs_block *b = &h->blocks[i];

		if (i + 1 < h->nr && b->size > h->blocks[i + 1].addr - b->addr)
			b->size = h->blocks[i + 1].addr - b->addr;
		/* A zero-sized block is pointed at by its start alone. */
		if (b->addr + (b->size ? b->size : 1) > h->hi)
			h->hi = b->addr + (b->size ? b->size : 1);
	}
}

/* The block holding word w: its index, or -1; *interior when not its start. */
static long find(const struct heapscan *h, __u64 w, bool *interior)
{
	size_t lo = 0, hi = h->nr;
	const struct hs_block *b;

	if (w < h->lo || w >= h->hi)
		return -1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->blocks[mid].addr <= w)
			lo = mid;
		else
			hi = mid;
	}
	b = &h->blocks[lo];
	if (w == b->addr) {
		*interior = false;
		return lo;
	}
	if (w - b->addr < b->size) {
		*interior = true;
		return lo;
	}
	return -1;
}

/* The first block at or above addr. */
static size_t lower_bound(const struct heapscan *h, __u64 addr)
{
	size_t lo = 0, hi = h->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->blocks[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline __u64 word_at(const unsigned char *p)
{
	__u64 w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* The aligned words of [addr, addr + len), held at data. */
static void scan_root(struct heapscan *h, __u64 addr, const void *data,
		      size_t len)
{
	const unsigned char *p = data;
	size_t off = (8 - (addr & 7)) & 7;
	bool interior;
	long t;

	for (; off + 8 <= len; off += 8) {
		t = find(h, word_at(p + off), &interior);
		if (t >= 0)
			h->blocks[t].flags |= interior ? F_ROOT_INTERIOR :
							 F_ROOT_START;
	}
	h->stats.root_bytes += len;
}

static int add_edge(struct heapscan *h, __u32 e)
{
	int err;

	if (h->nr_edges >= h->cap_edges) {
		/* first[] holds edge positions in 32 bits. */
		if (h->nr_edges >= UINT32_MAX - 1)
			return -E2BIG;
		err = tab_grow((void **)&h->edges, &h->cap_edges,
			       h->nr_edges + 1, sizeof(*h->edges));
		if (err)
			return err;
	}
	h->edges[h->nr_edges++] = e;
	return 0;
}

/*
 * Block i's words, len of them read (of its size) at data: its edges,
 * and its data into its hash (a pointer counts as where it is, not what
 * it holds: copies point to copies).
 */
static int scan_block(struct heapscan *h, size_t i, const void *data,
		      size_t len)
{
	const unsigned char *p = data;
	__u64 addr = h->blocks[i].addr, w;
	size_t off = (8 - (addr & 7)) & 7;
	bool interior;
	long t;
	int err;

	for (; off + 8 <= len; off += 8) {
		w = word_at(p + off);
		t = find(h, w, &interior);
		/*
		 * Bit 0: some data word is not zero. A block of pointers
		 * and zeros (a list node) is no clone of its neighbours.
		 */
		if (t < 0) {
			if (w)
				h->hash[i] = (tab_mix64(h->hash[i] ^ w ^ off) &
					      ~1ull) | 1;
			continue;
		}
		h->hash[i] = (tab_mix64(h->hash[i] + off) & ~1ull) |
			     (h->hash[i] & 1);
		err = add_edge(h, (__u32)t | (interior ? EDGE_INTERIOR : 0));
		if (err)
			return err;
	}
	return 0;
}

/* One block alone, in chunks: a short read leaves the rest unknown. */
static int read_block(struct heapscan *h, size_t i, unsigned char *buf,
		      const struct heapscan_roots *roots)
{
	struct hs_block *b = &h->blocks[i];
	__u64 off = 0, want;
	long got;
	int err;

	while (off < b->size) {
		want = b->size - off < SCAN_CHUNK ? b->size - off : SCAN_CHUNK;
		got = roots->read(roots->ctx, b->addr + off, buf, want);
		/* off keeps the alignment: chunks are whole words. */
		if (got > 0) {
			err = scan_block(h, i, buf, (size_t)got);
			if (err)
				return err;
		}
		if (got < 0 || (__u64)got < want) {
			b->flags |= F_UNREADABLE;
			h->stats.unreadable++;
			h->hash[i] = 0;
			return 0;
		}
		off += want;
	}
	return 0;
}

/*
 * Every block's pointers, in address order so that the edges come out
 * grouped by block. Blocks close together are read in one call (the
 * allocator's headers between them come along and are skipped).
 */
static int scan_blocks(struct heapscan *h, const struct heapscan_roots *roots)
{
	unsigned char *buf = malloc(SCAN_CHUNK);
	size_t i = 0, j, k;
	__u64 span;
	long got;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	while (!err && i < h->nr) {
		/* The blocks i..j-1 whose span fits one chunk. */
		for (j = i + 1; j < h->nr; j++) {
			const struct hs_block *p = &h->blocks[j - 1];

			if (h->blocks[j].addr - (p->addr + p->size) > SPAN_GAP ||
			    h->blocks[j].addr + h->blocks[j].size -
			    h->blocks[i].addr > SCAN_CHUNK)
				break;
		}
		span = h->blocks[j - 1].addr + h->blocks[j - 1].size -
		       h->blocks[i].addr;
		got = j - i > 1 ? roots->read(roots->ctx, h->blocks[i].addr,
					      buf, span) : -1;
		if (got != (long)span) {
			/* Alone, or some part unreadable: one at a time. */
			for (k = i; !err && k < j; k++) {
				h->first[k] = h->nr_edges;
				err = read_block(h, k, buf, roots);
			}
		} else {
			for (k = i; !err && k < j; k++) {
				h->first[k] = h->nr_edges;
				err = scan_block(h, k, buf + (h->blocks[k].addr -
							      h->blocks[i].addr),
						 h->blocks[k].size);
			}
		}
		i = j;
	}
	h->first[h->nr] = h->nr_edges;
	h->stats.edges = h->nr_edges;
	free(buf);
	return err;
}

/* Whether a block starts inside [addr, addr + len). */
static bool holds_block(const struct heapscan *h, __u64 addr, __u64 len)
{
	size_t i = lower_bound(h, addr);

	return i < h->nr && h->blocks[i].addr - addr < len;
}

static void scan_ranges(struct heapscan *h, const struct heapscan_roots *r,
			unsigned char *buf)
{
	const struct heapscan_range *rg;
	__u64 off, want;
	bool bad;
	long got;
	size_t i;

	for (i = 0; i < r->nr_ranges; i++) {
		rg = &r->ranges[i];
		if (rg->anon && holds_block(h, rg->addr, rg->len)) {
			h->stats.arena_ranges++;
			continue;
		}
		h->stats.root_ranges++;
		bad = false;
		/* A hole (a guard page) skips one chunk, not the segment. */
		for (off = 0; off < rg->len; off += want) {
			want = rg->len - off < SCAN_CHUNK ? rg->len - off :
							    SCAN_CHUNK;
			got = r->read(r->ctx, rg->addr + off, buf, want);
			if (got > 0)
				scan_root(h, rg->addr + off, buf, got);
			if (got < 0 || (__u64)got < want)
				bad = true;
		}
		h->stats.unreadable_ranges += bad;
	}
}

#define EDGES_OF(h, v, e) \
	for (size_t e = (h)->first[v]; e < (h)->first[(v) + 1]; e++)

/* Every block a chain from the roots reaches: start pointers, then any. */
static void mark_reached(struct heapscan *h, __u32 *work)
{
	size_t n = 0, i;
	__u32 v, t;

	for (i = 0; i < h->nr; i++) {
		if (h->blocks[i].flags & F_ROOT_START) {
			h->blocks[i].state = ST_REACHABLE;
			work[n++] = i;
		}
	}
	while (n) {
		v = work[--n];
		EDGES_OF(h, v, e) {
			if (h->edges[e] & EDGE_INTERIOR)
				continue;
			t = h->edges[e];
			if (h->blocks[t].state != ST_REACHABLE) {
				h->blocks[t].state = ST_REACHABLE;
				work[n++] = t;
			}
		}
	}
	for (i = 0; i < h->nr; i++) {
		struct hs_block *b = &h->blocks[i];

		if (b->state == ST_REACHABLE ||
		    (b->flags & F_ROOT_INTERIOR)) {
			if (b->state == ST_UNREACHED)
				b->state = ST_POSSIBLE;
			work[n++] = i;
		}
	}
	while (n) {
		v = work[--n];
		EDGES_OF(h, v, e) {
			t = h->edges[e] & EDGE_TARGET;
			if (h->blocks[t].state == ST_UNREACHED) {
				h->blocks[t].state = ST_POSSIBLE;
				work[n++] = t;
			}
		}
	}
}

/*
 * memcheck's cliques: in address order, each block nothing reached yet
 * leads; every unreached block it reaches, an earlier leader too, is
 * indirectly lost; the leader is definitely lost unless a later one
 * reaches it.
 */
static void mark_lost(struct heapscan *h, __u32 *work)
{
	size_t i, n;
	__u32 v, t;

	for (i = 0; i < h->nr; i++) {
		if (h->blocks[i].state != ST_UNREACHED)
			continue;
		n = 0;
		work[n++] = i;
		while (n) {
			v = work[--n];
			EDGES_OF(h, v, e) {
				t = h->edges[e] & EDGE_TARGET;
				if (t == i)
					continue;
				if (h->blocks[t].state == ST_UNREACHED ||
				    h->blocks[t].state == ST_DEFINITE) {
					h->blocks[t].state = ST_INDIRECT;
					work[n++] = t;
				}
			}
		}
		h->blocks[i].state = ST_DEFINITE;
	}
}

static enum heapscan_class state_class(__u8 st)
{
	switch (st) {
	case ST_REACHABLE:
		return HEAPSCAN_STILL_REACHABLE;
	case ST_POSSIBLE:
		return HEAPSCAN_POSSIBLY_LOST;
	case ST_INDIRECT:
		return HEAPSCAN_INDIRECTLY_LOST;
	default:
		return HEAPSCAN_DEFINITELY_LOST;
	}
}

static bool lost(const struct hs_block *b)
{
	return b->state == ST_INDIRECT || b->state == ST_DEFINITE;
}

/* An owner edge between two lost blocks: what a leaked cycle is made of. */
static bool cycle_edge(const struct heapscan *h, __u32 e)
{
	return !(e & EDGE_INTERIOR) && lost(&h->blocks[e]);
}

static int member_cmp(const void *pa, const void *pb)
{
	const struct heapscan_member *a = pa, *b = pb;

	return a->site < b->site ? -1 : a->site > b->site;
}

/* One strongly connected component, scc[0..n): a cycle group's members. */
static int add_cycle(struct heapscan *h, const __u32 *scc, size_t n,
		     size_t *cap_cycles)
{
	struct heapscan_cycle *c;
	struct heapscan_member *m;
	size_t i, out, at = h->nr_members;
	int err;

	err = tab_grow((void **)&h->members, &h->cap_members,
		       h->nr_members + n, sizeof(*h->members));
	if (!err)
		err = tab_grow((void **)&h->cycles, cap_cycles,
			       h->nr_cycles + 1, sizeof(*h->cycles));
	if (err)
		return err;
	m = h->members + at;
	for (i = 0; i < n; i++)
		m[i] = (struct heapscan_member){
			.site = h->blocks[scc[i]].site,
			.count = 1,
			.bytes = h->blocks[scc[i]].size,
		};
	qsort(m, n, sizeof(*m), member_cmp);
	for (i = 1, out = 0; i < n; i++) {
		if (m[i].site == m[out].site) {
			m[out].count++;
			m[out].bytes += m[i].bytes;
		} else {
			m[++out] = m[i];
		}
	}
	h->nr_members += out + 1;
	c = &h->cycles[h->nr_cycles++];
	*c = (struct heapscan_cycle){
		.instances = 1,
		.blocks = n,
		/* an offset until the pool stops moving */
		.members = (void *)(uintptr_t)at,
		.nr_members = out + 1,
	};
	for (i = 0; i <= out; i++)
		c->bytes += m[i].bytes;
	h->stats.cycles++;
	return 0;
}

struct tarjan_frame {
	__u32 v;
	__u32 e;		/* the next edge of v to follow */
};

static bool self_loop(const struct heapscan *h, __u32 v)
{
	EDGES_OF(h, v, e) {
		if (h->edges[e] == v)
			return true;
	}
	return false;
}

/*
 * Tarjan's strongly connected components over owner edges between lost
 * blocks, with the recursion in an array. A component of two blocks or
 * more, or one block holding its own start, is a leaked cycle.
 */
static int find_cycles(struct heapscan *h)
{
	/* + 1: an empty heap is no allocation failure */
	__u32 *idx = calloc(h->nr + 1, sizeof(*idx));
	__u32 *low = malloc((h->nr + 1) * sizeof(*low));
	__u32 *scc = malloc((h->nr + 1) * sizeof(*scc));
	struct tarjan_frame *call = malloc((h->nr + 1) * sizeof(*call));
	size_t nc, ns = 0, cap_cycles = 0, i, base;
	__u32 counter = 0, v, w;
	int err = 0;

	if (!idx || !low || !scc || !call) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; !err && i < h->nr; i++) {
		if (idx[i] || !lost(&h->blocks[i]))
			continue;
		nc = 0;
		call[nc++] = (struct tarjan_frame){ i, h->first[i] };
		idx[i] = low[i] = ++counter;
		scc[ns++] = i;
		h->blocks[i].flags |= F_ON_STACK;
		while (!err && nc) {
			struct tarjan_frame *f = &call[nc - 1];

			v = f->v;
			if (f->e < h->first[v + 1]) {
				w = h->edges[f->e++];
				if (!cycle_edge(h, w))
					continue;
				if (!idx[w]) {
					idx[w] = low[w] = ++counter;
					scc[ns++] = w;
					h->blocks[w].flags |= F_ON_STACK;
					call[nc++] = (struct tarjan_frame){
						w, h->first[w] };
				} else if ((h->blocks[w].flags & F_ON_STACK) &&
					   idx[w] < low[v]) {
					low[v] = idx[w];
				}
				continue;
			}
			nc--;
			if (nc && low[v] < low[call[nc - 1].v])
				low[call[nc - 1].v] = low[v];
			if (low[v] != idx[v])
				continue;
			base = ns;
			do {
				w = scc[--base];
				h->blocks[w].flags &= ~F_ON_STACK;
			} while (w != v);
			if (ns - base > 1 || self_loop(h, v))
				err = add_cycle(h, scc + base, ns - base,
						&cap_cycles);
			ns = base;
		}
	}
out:
	free(idx);
	free(low);
	free(scc);
	free(call);
	return err;
}

static const struct heapscan_member *cycle_members(const struct heapscan *h,
						   const struct heapscan_cycle *c)
{
	return h->members + (uintptr_t)c->members;
}

/* Groups: the same member sites in the same numbers. */
static int cycle_group_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct heapscan_cycle *a = pa, *b = pb;
	const struct heapscan_member *ma, *mb;
	const struct heapscan *h = ctx;
	__u32 i;

	if (a->nr_members != b->nr_members)
		return a->nr_members < b->nr_members ? -1 : 1;
	ma = cycle_members(h, a);
	mb = cycle_members(h, b);
	for (i = 0; i < a->nr_members; i++) {
		if (ma[i].site != mb[i].site)
			return ma[i].site < mb[i].site ? -1 : 1;
		if (ma[i].count != mb[i].count)
			return ma[i].count < mb[i].count ? -1 : 1;
	}
	return 0;
}

static int cycle_bytes_cmp(const void *pa, const void *pb)
{
	const struct heapscan_cycle *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	return a->blocks < b->blocks ? 1 : a->blocks > b->blocks ? -1 : 0;
}

static void group_cycles(struct heapscan *h)
{
	struct heapscan_member *mo, *mi;
	size_t i, out = 0;
	__u32 k;

	if (!h->nr_cycles)
		return;
	qsort_r(h->cycles, h->nr_cycles, sizeof(*h->cycles), cycle_group_cmp,
		h);
	for (i = 1; i < h->nr_cycles; i++) {
		struct heapscan_cycle *o = &h->cycles[out], *c = &h->cycles[i];

		if (cycle_group_cmp(o, c, h)) {
			h->cycles[++out] = *c;
			continue;
		}
		mo = (struct heapscan_member *)cycle_members(h, o);
		mi = (struct heapscan_member *)cycle_members(h, c);
		for (k = 0; k < o->nr_members; k++)
			mo[k].bytes += mi[k].bytes;
		o->instances++;
		o->blocks += c->blocks;
		o->bytes += c->bytes;
	}
	h->nr_cycles = out + 1;
	qsort(h->cycles, h->nr_cycles, sizeof(*h->cycles), cycle_bytes_cmp);
	for (i = 0; i < h->nr_cycles; i++)
		h->cycles[i].members = cycle_members(h, &h->cycles[i]);
}

static int u32_cmp(const void *pa, const void *pb)
{
	__u32 a = *(const __u32 *)pa, b = *(const __u32 *)pb;

	return a < b ? -1 : a > b;
}

static int u64_cmp(const void *pa, const void *pb)
{
	__u64 a = *(const __u64 *)pa, b = *(const __u64 *)pb;

	return a < b ? -1 : a > b;
}

static int link_cmp(const void *pa, const void *pb)
{
	const struct heapscan_link *a = pa, *b = pb;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	if (a->to != b->to)
		return a->to < b->to ? -1 : 1;
	return a->kind < b->kind ? -1 : a->kind > b->kind;
}

/*
 * The sites that block v holds CONTAINER_MIN start pointers or more to,
 * into sites[] (sorted); how many.
 */
static size_t container_sites(const struct heapscan *h, __u32 v,
			      __u32 *sites)
{
	size_t n = 0, i, j, out = 0;

	EDGES_OF(h, v, e) {
		if (!(h->edges[e] & EDGE_INTERIOR))
			sites[n++] = h->blocks[h->edges[e]].site;
	}
	if (n < CONTAINER_MIN)
		return 0;
	qsort(sites, n, sizeof(*sites), u32_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && sites[j] == sites[i]; j++)
			;
		if (j - i >= CONTAINER_MIN)
			sites[out++] = sites[i];
	}
	return out;
}

/*
 * Each edge inferred as one kind, then counted by the sites at both ends:
 * a key of from, to and kind in 64 bits, sorted and counted.
 */
static int build_links(struct heapscan *h)
{
	__u32 *holders = calloc(h->nr + 1, sizeof(*holders));
	__u32 *last = malloc((h->nr + 1) * sizeof(*last));
	__u32 *sites = malloc((h->nr_edges + 1) * sizeof(*sites));
	__u64 *keys = malloc((h->nr_edges + 1) * sizeof(*keys));
	size_t i, j, n = 0, nr_cont;
	__u32 v, t, kind;
	int err = 0;

	if (!holders || !last || !sites || !keys) {
		err = -ENOMEM;
		goto out;
	}
	memset(last, 0xff, h->nr * sizeof(*last));
	/* Distinct blocks holding each block's start. */
	for (v = 0; v < h->nr; v++) {
		EDGES_OF(h, v, e) {
			t = h->edges[e];
			if (!(t & EDGE_INTERIOR) && last[t] != v) {
				last[t] = v;
				holders[t]++;
			}
		}
	}
	for (v = 0; v < h->nr; v++) {
		nr_cont = container_sites(h, v, sites);
		EDGES_OF(h, v, e) {
			t = h->edges[e] & EDGE_TARGET;
			if (h->edges[e] & EDGE_INTERIOR)
				kind = HEAPSCAN_SLICE;
			else if (nr_cont && bsearch(&h->blocks[t].site, sites,
						    nr_cont, sizeof(*sites),
						    u32_cmp))
				kind = HEAPSCAN_CONTAINER;
			else if (holders[t] > 1)
				kind = HEAPSCAN_SHARED;
			else
				kind = HEAPSCAN_OWNER;
			keys[n++] = (__u64)h->blocks[v].site << 33 |
				    (__u64)h->blocks[t].site << 2 | kind;
		}
	}
	qsort(keys, n, sizeof(*keys), u64_cmp);
	for (i = 0, j = 0; i < n; i = j) {
		for (j = i + 1; j < n && keys[j] == keys[i]; j++)
			;
		keys[h->nr_links++] = keys[i];
		/* The count rides in sites[], free now. */
		sites[h->nr_links - 1] = j - i > UINT32_MAX ? UINT32_MAX :
							       j - i;
	}
	h->links = calloc(h->nr_links ? h->nr_links : 1, sizeof(*h->links));
	if (!h->links) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < h->nr_links; i++)
		h->links[i] = (struct heapscan_link){
			.from = keys[i] >> 33,
			.to = (keys[i] >> 2) & HEAPSCAN_MAX_SITE,
			.kind = keys[i] & 3,
			.count = sites[i],
		};
	qsort(h->links, h->nr_links, sizeof(*h->links), link_cmp);
out:
	free(holders);
	free(last);
	free(sites);
	free(keys);
	return err;
}

static int clone_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct heapscan *h = ctx;
	__u32 a = *(const __u32 *)pa, b = *(const __u32 *)pb;
	const struct hs_block *x = &h->blocks[a], *y = &h->blocks[b];

	if (x->site != y->site)
		return x->site < y->site ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (h->hash[a] != h->hash[b])
		return h->hash[a] < h->hash[b] ? -1 : 1;
	if (x->age_ms != y->age_ms)
		return x->age_ms < y->age_ms ? -1 : 1;
	return a < b ? -1 : a > b;
}

static int clone_bytes_cmp(const void *pa, const void *pb)
{
	const struct heapscan_clone *a = pa, *b = pb;
	__u64 x = a->count * a->size, y = b->count * b->size;

	if (x != y)
		return x < y ? 1 : -1;
	return a->site < b->site ? -1 : a->site > b->site;
}

/*
 * Blocks of one site, size and data hash allocated within the window of
 * each other: sorted together by age, each group from its newest block
 * to the last within the window of it, counted.
 */
static int find_clones(struct heapscan *h)
{
	__u64 window_ms = h->stats.clone_window_ns / 1000000;
	__u32 *ix = malloc((h->nr + 1) * sizeof(*ix));
	size_t n = 0, i, j, cap = 0;
	int err = 0;

	if (!ix)
		return -ENOMEM;
	for (i = 0; i < h->nr; i++) {
		if (h->hash[i] & 1)
			ix[n++] = i;
	}
	qsort_r(ix, n, sizeof(*ix), clone_cmp, h);
	for (i = 0; !err && i < n; i = j) {
		const struct hs_block *b = &h->blocks[ix[i]];

		for (j = i + 1; j < n && h->hash[ix[j]] == h->hash[ix[i]] &&
		     h->blocks[ix[j]].site == b->site &&
		     h->blocks[ix[j]].size == b->size &&
		     h->blocks[ix[j]].age_ms - b->age_ms <= window_ms;
		     j++)
			;
		if (j - i < 2)
			continue;
		err = tab_grow((void **)&h->clones, &cap, h->nr_clones + 1,
			       sizeof(*h->clones));
		if (err)
			break;
		h->clones[h->nr_clones++] = (struct heapscan_clone){
			.site = b->site, .size = b->size, .count = j - i,
		};
		h->stats.clones += j - i;
	}
	free(ix);
	if (!err && h->nr_clones)
		qsort(h->clones, h->nr_clones, sizeof(*h->clones),
		      clone_bytes_cmp);
	return err;
}

int heapscan__run(struct heapscan *h, const struct heapscan_roots *roots)
{
	__u64 t0 = mono_ns();
	unsigned char *buf = NULL;
	__u32 *work = NULL;
	size_t i;
	int err;

	if (h->ran || !roots || !roots->read)
		return -EINVAL;
	h->ran = true;
	sort_blocks(h);
	h->first = malloc((h->nr + 1) * sizeof(*h->first));
	h->hash = calloc(h->nr + 1, sizeof(*h->hash));
	work = malloc((h->nr + 1) * sizeof(*work));
	buf = malloc(SCAN_CHUNK);
	if (!h->first || !h->hash || !work || !buf) {
		err = -ENOMEM;
		goto out;
	}
	err = scan_blocks(h, roots);
	if (err)
		goto out;
	for (i = 0; i < roots->nr_bufs; i++)
		scan_root(h, roots->bufs[i].addr, roots->bufs[i].data,
			  roots->bufs[i].len);
	scan_ranges(h, roots, buf);
	mark_reached(h, work);
	mark_lost(h, work);
	free(work);
	work = NULL;
	free(buf);
	buf = NULL;
	for (i = 0; i < h->nr; i++) {
		enum heapscan_class c = state_class(h->blocks[i].state);

		h->stats.count[c]++;
		h->stats.class_bytes[c] += h->blocks[i].size;
		h->stats.bytes += h->blocks[i].size;
	}
	h->stats.blocks = h->nr;
	/* The hashes go before the cycles' arrays come: one peak, not two. */
	err = find_clones(h);
	free(h->hash);
	h->hash = NULL;
	if (err)
		goto out;
	err = find_cycles(h);
	if (err)
		goto out;
	group_cycles(h);
	err = build_links(h);
out:
	free(work);
	free(buf);
	h->stats.scan_ns = mono_ns() - t0;
	return err;
}

const struct heapscan_stats *heapscan__stats(const struct heapscan *h)
{
	return &h->stats;
}

int heapscan__class_of(const struct heapscan *h, __u64 addr)
{
	bool interior;
	long i;

	if (!h->ran)
		return -ENOENT;
	i = find(h, addr, &interior);
	if (i < 0 || interior)
		return -ENOENT;
	return state_class(h->blocks[i].state);
}

size_t heapscan__nr_cycles(const struct heapscan *h)
{
	return h->nr_cycles;
}

const struct heapscan_cycle *heapscan__cycle(const struct heapscan *h,
					     size_t i)
{
	return i < h->nr_cycles ? &h->cycles[i] : NULL;
}

size_t heapscan__nr_links(const struct heapscan *h)
{
	return h->nr_links;
}

const struct heapscan_link *heapscan__link(const struct heapscan *h,
					   size_t i)
{
	return i < h->nr_links ? &h->links[i] : NULL;
}

size_t heapscan__nr_clones(const struct heapscan *h)
{
	return h->nr_clones;
}

const struct heapscan_clone *heapscan__clone(const struct heapscan *h,
					     size_t i)
{
	return i < h->nr_clones ? &h->clones[i] : NULL;
}

int heapscan__result(const struct heapscan *h, struct heapscan_result *out,
		     struct heapscan_verdict **verdicts)
{
	struct heapscan_verdict *v;
	size_t i, n = 0;

	*verdicts = NULL;
	if (!h->ran)
		return -EINVAL;
	v = malloc((h->nr + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* Of blocks at one address (a hostile recording's) find() takes
	 * the last: so does the verdict. */
	for (i = 0; i < h->nr; i++) {
		if (i + 1 < h->nr && h->blocks[i + 1].addr == h->blocks[i].addr)
			continue;
		v[n++] = (struct heapscan_verdict){
			.addr = h->blocks[i].addr,
			.cls = state_class(h->blocks[i].state),
		};
	}
	*out = (struct heapscan_result){
		.stats = h->stats,
		.verdicts = v, .nr_verdicts = n,
		.cycles = h->cycles, .nr_cycles = h->nr_cycles,
		.links = h->links, .nr_links = h->nr_links,
		.clones = h->clones, .nr_clones = h->nr_clones,
	};
	*verdicts = v;
	return 0;
}

static const __u8 class_state[HEAPSCAN_CLASS__COUNT] = {
	[HEAPSCAN_DEFINITELY_LOST] = ST_DEFINITE,
	[HEAPSCAN_INDIRECTLY_LOST] = ST_INDIRECT,
	[HEAPSCAN_POSSIBLY_LOST] = ST_POSSIBLE,
	[HEAPSCAN_STILL_REACHABLE] = ST_REACHABLE,
};

/* Whether a result's every field is in range: what restore may copy. */
static bool result_valid(const struct heapscan_result *res, size_t *nr_members)
{
	size_t i, k, nm = 0;

	for (i = 0; i < res->nr_verdicts; i++) {
		/* An address past the last byte ends no block. */
		if (res->verdicts[i].cls >= HEAPSCAN_CLASS__COUNT ||
		    res->verdicts[i].addr == UINT64_MAX ||
		    (i && res->verdicts[i].addr <= res->verdicts[i - 1].addr))
			return false;
	}
	for (i = 0; i < res->nr_cycles; i++) {
		const struct heapscan_cycle *c = &res->cycles[i];

		if (!c->nr_members || c->nr_members > SIZE_MAX / 2 - nm)
			return false;
		for (k = 0; k < c->nr_members; k++) {
			if (c->members[k].site > HEAPSCAN_MAX_SITE)
				return false;
		}
		nm += c->nr_members;
	}
	for (i = 0; i < res->nr_links; i++) {
		if (res->links[i].kind >= HEAPSCAN_EDGE__COUNT ||
		    res->links[i].from > HEAPSCAN_MAX_SITE ||
		    res->links[i].to > HEAPSCAN_MAX_SITE)
			return false;
	}
	for (i = 0; i < res->nr_clones; i++) {
		if (res->clones[i].site > HEAPSCAN_MAX_SITE)
			return false;
	}
	*nr_members = nm;
	return true;
}

/* n elements of size each from src into a new array at *dst. */
static int copy_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = malloc((n ? n : 1) * size);
	if (!*dst)
		return -ENOMEM;
	if (n)
		memcpy(*dst, src, n * size);
	return 0;
}

struct heapscan *heapscan__restore(const struct heapscan_result *res)
{
	struct heapscan *h;
	size_t i, nm, at = 0;
	int err;

	if (!result_valid(res, &nm) || res->nr_verdicts >= EDGE_TARGET) {
		errno = EINVAL;
		return NULL;
	}
	h = heapscan__new();
	if (!h)
		return NULL;
	h->ran = true;
	h->stats = res->stats;
	h->nr = h->cap = res->nr_verdicts;
	h->blocks = calloc(h->nr + 1, sizeof(*h->blocks));
	h->members = malloc((nm ? nm : 1) * sizeof(*h->members));
	err = !h->blocks || !h->members ? -ENOMEM : 0;
	if (!err)
		err = copy_array((void **)&h->cycles, res->cycles,
				 res->nr_cycles, sizeof(*h->cycles));
	if (!err)
		err = copy_array((void **)&h->links, res->links, res->nr_links,
				 sizeof(*h->links));
	if (!err)
		err = copy_array((void **)&h->clones, res->clones,
				 res->nr_clones, sizeof(*h->clones));
	if (err) {
		heapscan__free(h);
		errno = -err;
		return NULL;
	}
	/* Blocks of no size: class_of finds each by its start alone. */
	for (i = 0; i < h->nr; i++)
		h->blocks[i] = (struct hs_block){
			.addr = res->verdicts[i].addr,
			.state = class_state[res->verdicts[i].cls],
		};
	h->lo = h->nr ? h->blocks[0].addr : 0;
	h->hi = h->nr ? h->blocks[h->nr - 1].addr + 1 : 0;
	h->nr_cycles = res->nr_cycles;
	for (i = 0; i < h->nr_cycles; i++) {
		memcpy(h->members + at, res->cycles[i].members,
		       res->cycles[i].nr_members * sizeof(*h->members));
		h->cycles[i].members = h->members + at;
		at += res->cycles[i].nr_members;
	}
	h->nr_members = h->cap_members = nm;
	h->nr_links = res->nr_links;
	h->nr_clones = res->nr_clones;
	return h;
}

size_t heapscan__mem_bytes(const struct heapscan *h)
{
	return h->cap * sizeof(*h->blocks) +
	       (h->first ? (h->nr + 1) * sizeof(*h->first) : 0) +
	       h->cap_edges * sizeof(*h->edges) +
	       h->cap_members * sizeof(*h->members) +
	       h->nr_cycles * sizeof(*h->cycles) +
	       h->nr_links * sizeof(*h->links) +
	       h->nr_clones * sizeof(*h->clones);
}
