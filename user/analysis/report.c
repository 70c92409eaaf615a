/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Builds the report model from the store: live blocks grouped by call
 * stack (as the reader sees it: resolved frames), the sites that made the
 * peak, and resolved frames; then what the program declared, as the
 * declared-state analysis (analysis.c) sees it, and what the inference
 * rules it is given (rule.h) infer from that.
 *
 * Everything the model points to lives in one arena owned by the report:
 * the resolver's strings may die with the symbolizer (or the process), and
 * a single owner makes report__free trivial. Frames are resolved through a
 * per-address cache, because the sites of one program share most of their
 * outer frames and resolving is the expensive part. One captured address
 * can stand for several frames (calls inlined there): stacks are still the
 * store's, by address, and are expanded here.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "report.h"
#include "report_priv.h"
#include "table.h"

#define ARENA_CHUNK		(64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	max_align_t data[];
};

/* The frames of one address, in the frame cache (a keyed table). */
struct cached_addr {
	__u64 addr;
	unsigned nr;
	struct frame *frames;	/* in the arena, strings too */
};

/* One candidate site: a stack id and what it holds. */
struct cand {
	__u32 stack_id;
	__u32 flags;
	__u32 family;
	__u64 allocs;
	__u64 alloc_bytes;
	__u64 count;		/* live now */
	__u64 bytes;
	__u64 peak_count;
	__u64 peak_bytes;
	__u64 oldest_ts;	/* live blocks: earliest allocation */
	__u64 hash;		/* of the resolved frames */
	__u32 nr_frames;
	struct frame *frames;
	struct declared_site decl_live;	/* its declared blocks */
	struct declared_site decl_peak;
	struct report_count reach[HEAPSCAN_CLASS__COUNT];	/* live, scanned */
};

struct build {
	const struct store *st;
	struct report *r;
	struct report_opts opts;
	const struct report_scan *scan;	/* the store's heap scan, NULL none */
	struct tab_keyed cache;	/* struct frame by addr, strings in the arena */
};

/* Zeroed, aligned for any type; lives until report__free. */
static void *arena_alloc(void **arena, size_t nmemb, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	struct arena_chunk *c = *arena;
	size_t n, cap;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &n) || n > SIZE_MAX - align) {
		errno = ENOMEM;
		return NULL;
	}
	n = (n + align - 1) & ~(align - 1);
	if (!c || c->size - c->used < n) {
		cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = calloc(1, sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->size = cap;
		c->next = *arena;
		*arena = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

void *report__arena_alloc(struct report *r, size_t nmemb, size_t size)
{
	return arena_alloc(&r->arena, nmemb, size);
}

static void arena_free(void *arena)
{
	struct arena_chunk *c = arena, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
}

/* Replaces *s by a copy in the arena; NULL stays NULL. */
static int arena_strdup(void **arena, const char **s)
{
	size_t len;
	char *p;

	if (!*s)
		return 0;
	len = strlen(*s) + 1;
	p = arena_alloc(arena, len, 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, *s, len);
	*s = p;
	return 0;
}

/*
 * Each enum ms_stop: its name in every report, and for a stack that
 * stopped before the program's entry (not at the end, not cut at the
 * depth limit, which a stack's count of frames says), what it lacks and
 * the frame that roots it in folded stacks and pprof.
 */
static const struct {
	const char *name;
	const char *why;
	const char *marker;
} stops[MS_STOP__COUNT] = {
	[MS_STOP_END] = { "end", NULL, NULL },
	[MS_STOP_NO_INFO] = { "no_info",
		"no unwind information for the code there",
		"[ended-early-no_info]" },
	[MS_STOP_NO_MAPPING] = { "no_mapping",
		"a return address in no file mapping",
		"[ended-early-no_mapping]" },
	[MS_STOP_NOT_LOADED] = { "not_loaded",
		"the unwind table of the code there was not loaded yet",
		"[ended-early-not_loaded]" },
	[MS_STOP_DEPTH] = { "depth", NULL, NULL },
	[MS_STOP_READ] = { "read", "the stack could not be read there",
		"[ended-early-read]" },
	[MS_STOP_UNSUPPORTED] = { "unsupported",
		"unwind information the kernel walker does not apply",
		"[ended-early-unsupported]" },
};

const char *report_stop_name(unsigned int stop)
{
	return stop < MS_STOP__COUNT ? stops[stop].name : NULL;
}

const char *report_stop_why(unsigned int stop)
{
	return stop < MS_STOP__COUNT ? stops[stop].why : NULL;
}

const char *report_stop_marker(unsigned int stop)
{
	return stop < MS_STOP__COUNT ? stops[stop].marker : NULL;
}

__u64 report__since_start(const struct report *r, __u64 ts_ns)
{
	return ts_ns > r->target.start_ns ? ts_ns - r->target.start_ns : 0;
}

/* Replaces *s by the pool's copy; NULL stays NULL. */
static int pool_str(struct tab_pool *pool, const char **s)
{
	return *s ? tab_pool_intern(pool, *s, s, NULL) : 0;
}

/*
 * A frame's strings into the report's pool: a trace's images resolve the
 * same names again and again, and a copy in each image's arena made a
 * -a report of 2,000 /bin/true runs take ~20 KiB per image.
 */
static int frame_strings(struct report *r, struct frame *fr)
{
	int err = pool_str(r->strings, &fr->function);

	if (!err)
		err = pool_str(r->strings, &fr->mangled);
	if (!err)
		err = pool_str(r->strings, &fr->file);
	if (!err)
		err = pool_str(r->strings, &fr->object);
	if (!err)
		err = pool_str(r->strings, &fr->build_id);
	return err;
}

/* r's pool of strings: shared, a trace's, or its own. 0, -ENOMEM. */
static int report_strings(struct report *r, struct tab_pool *shared)
{
	if (shared) {
		r->strings = shared;
		r->shared_strings = true;
		return 0;
	}
	r->strings = calloc(1, sizeof(*r->strings));
	if (!r->strings || tab_pool_init(r->strings, 0)) {
		free(r->strings);
		r->strings = NULL;
		return -ENOMEM;
	}
	return 0;
}

/*
 * The frames of addr (innermost first), resolved and copied into the
 * arena at most once.
 */
static int resolve_addr(struct build *b, __u64 addr, const struct frame **out,
			unsigned *nr)
{
	struct cached_addr *c = tab_keyed_get(&b->cache, addr);
	const struct frame *got;
	struct frame one = { .addr = addr };
	struct frame *frames;
	unsigned n = 1, i;
	int err;

	if (c) {
		*out = c->frames;
		*nr = c->nr;
		return 0;
	}
	err = tab_keyed_reserve(&b->cache);
	if (err)
		return err;
	got = &one;
	if (b->opts.resolve)
		n = b->opts.resolve(b->opts.resolve_ctx, addr, &got);
	if (!n) {
		got = &one;
		n = 1;
	}
	frames = arena_alloc(&b->r->arena, n, sizeof(*frames));
	if (!frames)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		frames[i] = got[i];
		frames[i].addr = addr;
		/* the last frame of an address is its function, never inlined */
		frames[i].inlined = i + 1 < n;
		err = frame_strings(b->r, &frames[i]);
		if (err)
			return err;
	}
	c = tab_keyed_add(&b->cache, addr);
	c->nr = n;
	c->frames = frames;
	*out = frames;
	*nr = n;
	return 0;
}

/* Frame 0 of addr: the innermost call there. */
static int resolve_frame(struct build *b, __u64 addr, struct frame *out)
{
	const struct frame *frames;
	unsigned nr;
	int err;

	err = resolve_addr(b, addr, &frames, &nr);
	if (!err)
		*out = frames[0];
	return err;
}

/*
 * A stack of the store, resolved into the arena with its inlined frames
 * expanded, and its MS_EVF_STACK_*.
 */
static int resolve_stack(struct build *b, __u32 stack_id, __u32 *nr,
			 struct frame **frames, __u32 *flags)
{
	const struct frame *got;
	struct store_site s;
	__u32 i, total = 0;
	unsigned n;
	int err;

	err = store__site(b->st, stack_id, &s);
	if (err)
		return err;
	*flags = s.flags & (MS_EVF_STACK_TRUNC | MS_EVF_STACK_ERR |
			    MS_EVF_STACK_FULL | MS_EVF_STOP_MASK);
	*nr = 0;
	if (!s.nr_frames)
		return 0;
	/* Resolved once here; the second pass below only hits the cache. */
	for (i = 0; i < s.nr_frames; i++) {
		err = resolve_addr(b, s.frames[i], &got, &n);
		if (err)
			return err;
		if (__builtin_add_overflow(total, n, &total))
			return -E2BIG;
	}
	*frames = arena_alloc(&b->r->arena, total, sizeof(**frames));
	if (!*frames)
		return -ENOMEM;
	for (i = 0; i < s.nr_frames; i++) {
		err = resolve_addr(b, s.frames[i], &got, &n);
		if (err)
			return err;
		memcpy(*frames + *nr, got, n * sizeof(*got));
		*nr += n;
	}
	return 0;
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/*
 * Two frames a person cannot tell apart: the same function, file, line and
 * object. An unresolved frame matches one at the same place of the same
 * object (another run of the program maps it elsewhere), else only its
 * own address.
 */
static bool frame_same(const struct frame *a,
		       const struct frame *b)
{
	if (!a->function || !b->function) {
		if (a->function || b->function)
			return false;
		if (a->object && b->object)
			return a->object_offset == b->object_offset &&
			       str_same(a->object, b->object);
		return a->addr == b->addr && !a->object && !b->object;
	}
	return a->line == b->line && str_same(a->function, b->function) &&
	       str_same(a->file, b->file) && str_same(a->object, b->object);
}

bool report__frames_same(const struct frame *a, const struct frame *b,
			 __u32 nr)
{
	__u32 i;

	for (i = 0; i < nr; i++)
		if (!frame_same(&a[i], &b[i]))
			return false;
	return true;
}

static __u64 fnv_str(__u64 h, const char *p)
{
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

/* FNV-1a over what frame_same() compares, with the family and length. */
__u64 report__frames_hash(const struct frame *frames, __u32 nr,
			  __u32 family)
{
	__u64 h = 0xcbf29ce484222325ull;
	__u32 i;

	for (i = 0; i < nr; i++) {
		const struct frame *f = &frames[i];

		if (f->function) {
			h = fnv_str(h, f->function);
			h = (h ^ (__u64)f->line) * 0x100000001b3ull;
		} else if (f->object) {
			h = fnv_str(h, f->object);
			h = (h ^ f->object_offset) * 0x100000001b3ull;
		} else {
			h = (h ^ f->addr) * 0x100000001b3ull;
		}
	}
	return h ^ nr ^ (__u64)family << 48;
}

/* Resolves a candidate's frames, and hashes them as merge_sites sees them. */
static int resolve_cand(struct build *b, struct cand *cd)
{
	int err;

	err = resolve_stack(b, cd->stack_id, &cd->nr_frames, &cd->frames,
			    &cd->flags);
	if (err)
		return err;
	if (!cd->nr_frames)
		return 0;
	cd->hash = report__frames_hash(cd->frames, cd->nr_frames, cd->family);
	return 0;
}

static bool cand_same(const struct cand *a, const struct cand *b)
{
	return a->hash == b->hash && a->nr_frames == b->nr_frames &&
	       a->family == b->family &&
	       report__frames_same(a->frames, b->frames, a->nr_frames);
}

static int hash_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

/*
 * Stacks that differ only in return addresses on the same source lines (an
 * unrolled loop, two calls on one line) are one call stack to the reader:
 * merge them. Returns the number of candidates left.
 */
static size_t merge_sites(struct cand *cands, size_t n)
{
	size_t i, j, k, out = 0;

	qsort(cands, n, sizeof(*cands), hash_cmp);
	for (i = 0; i < n; i = j) {
		cands[out] = cands[i];
		for (j = i + 1; j < n && cands[j].hash == cands[i].hash; j++) {
			if (!cand_same(&cands[out], &cands[j])) {
				cands[++out] = cands[j];
				continue;
			}
			cands[out].allocs += cands[j].allocs;
			cands[out].alloc_bytes += cands[j].alloc_bytes;
			cands[out].count += cands[j].count;
			cands[out].bytes += cands[j].bytes;
			cands[out].peak_count += cands[j].peak_count;
			cands[out].peak_bytes += cands[j].peak_bytes;
			cands[out].flags = store_site_flags(cands[out].flags,
							    cands[j].flags);
			if (cands[j].oldest_ts < cands[out].oldest_ts)
				cands[out].oldest_ts = cands[j].oldest_ts;
			declared_site_merge(&cands[out].decl_live,
					    &cands[j].decl_live);
			declared_site_merge(&cands[out].decl_peak,
					    &cands[j].decl_peak);
			for (k = 0; k < HEAPSCAN_CLASS__COUNT; k++) {
				cands[out].reach[k].count +=
					cands[j].reach[k].count;
				cands[out].reach[k].bytes +=
					cands[j].reach[k].bytes;
			}
		}
		out++;
	}
	return out;
}

enum site_list { LIST_LEAKS, LIST_PEAK, LIST_SITES };

/* What a list ranks by, for a candidate. */
static void list_metric(const struct cand *cd, enum site_list l,
			__u64 *count, __u64 *bytes)
{
	switch (l) {
	case LIST_LEAKS:
		*count = cd->count;
		*bytes = cd->bytes;
		break;
	case LIST_PEAK:
		*count = cd->peak_count;
		*bytes = cd->peak_bytes;
		break;
	case LIST_SITES:
	default:
		*count = cd->allocs;
		*bytes = cd->alloc_bytes;
		break;
	}
}

/* The names of declared blocks, copied into the arena. */
static int copy_site_declared(void **arena, struct declared_site *ds)
{
	__u32 i;

	for (i = 0; i < ds->nr_names; i++) {
		if (arena_strdup(arena, &ds->names[i].name) ||
		    arena_strdup(arena, &ds->names[i].type))
			return -ENOMEM;
	}
	return 0;
}

static int fill_site(struct build *b, const struct cand *cd,
		     enum site_list l, struct report_site *out)
{
	list_metric(cd, l, &out->count, &out->bytes);
	out->alloc_count = cd->allocs;
	out->alloc_bytes = cd->alloc_bytes;
	out->live_count = cd->count;
	out->live_bytes = cd->bytes;
	out->peak_count = cd->peak_count;
	out->peak_bytes = cd->peak_bytes;
	out->oldest_ns = cd->count ?
		report__since_start(b->r, cd->oldest_ts) : 0;
	out->flags = cd->flags;
	out->family = cd->family;
	out->nr_frames = cd->nr_frames;
	out->frames = cd->frames;
	out->declared = l == LIST_PEAK ? cd->decl_peak : cd->decl_live;
	/*
	 * The classes are of the blocks live at the end, which leaks and
	 * sites both count: every site carries them, so a reader past the
	 * leak list's --top (the flame graph) still has each site's.
	 */
	if (l != LIST_PEAK)
		memcpy(out->reach, cd->reach, sizeof(out->reach));
	return copy_site_declared(&b->r->arena, &out->declared);
}

struct live_ctx {
	struct cand *cands;
	__u32 nr;
	struct report *r;
	__u64 end_ts;		/* when tracing ended: ages are from it */
	const struct heapscan *scan;	/* NULL: no classes */
};

bool report_filter_pass(const struct report_filter *f,
			const struct store_block *blk, __u64 end_ts)
{
	if (f->min_size && blk->size < f->min_size)
		return false;
	if (f->max_size && blk->size > f->max_size)
		return false;
	/* A block from after the end (a clock skew) has no age at all. */
	if (f->older_ns && (blk->ts_ns >= end_ts ||
			    end_ts - blk->ts_ns <= f->older_ns))
		return false;
	return true;
}

static int add_live(const struct store_block *blk, void *ctx)
{
	struct live_ctx *lc = ctx;
	struct cand *cd;

	if (blk->stack_id >= lc->nr)
		return -EINVAL;
	if (!report_filter_pass(&lc->r->filter, blk, lc->end_ts))
		return 0;
	lc->r->filter_count++;
	lc->r->filter_bytes += blk->size;
	cd = &lc->cands[blk->stack_id];
	cd->count++;
	cd->bytes += blk->size;
	if (blk->ts_ns < cd->oldest_ts)
		cd->oldest_ts = blk->ts_ns;
	if (lc->scan) {
		int c = heapscan__class_of(lc->scan, blk->ptr);

		if (c < 0) {
			lc->r->reach.unscanned++;
		} else {
			cd->reach[c].count++;
			cd->reach[c].bytes += blk->size;
		}
	}
	return 0;
}

/* cands[i] for stack i: what was allocated, is live, was live at peak. */
static int gather(struct build *b, struct cand *cands, __u32 nr)
{
	const struct store *st = b->st;
	struct live_ctx lc = {
		.cands = cands,
		.nr = nr,
		.r = b->r,
		.end_ts = b->r->target.start_ns + b->r->target.duration_ns,
		.scan = b->scan ? b->scan->scan : NULL,
	};
	struct store_site s;
	__u32 i;
	int err;

	for (i = 0; i < nr; i++) {
		err = store__site(st, i, &s);
		if (err)
			return err;
		cands[i] = (struct cand){
			.stack_id = i,
			.family = s.family,
			.allocs = s.allocs,
			.alloc_bytes = s.alloc_bytes,
			.peak_count = s.peak_count,
			.peak_bytes = s.peak_bytes,
			.oldest_ts = UINT64_MAX,
		};
		/* An ended image's blocks are gone; its sites hold them. */
		if (b->r->ended) {
			cands[i].count = s.end_count;
			cands[i].bytes = s.end_bytes;
			cands[i].oldest_ts = s.end_oldest;
			b->r->filter_count += s.end_count;
			b->r->filter_bytes += s.end_bytes;
		}
		store__site_declared(st, i, &cands[i].decl_live,
				     &cands[i].decl_peak);
	}
	return store__for_each_live(st, add_live, &lc);
}

static int cand_cmp(const void *pa, const void *pb, void *list)
{
	const struct cand *a = pa, *b = pb;
	enum site_list l = *(enum site_list *)list;
	__u64 ac, ab, bc, bb;

	list_metric(a, l, &ac, &ab);
	list_metric(b, l, &bc, &bb);
	if (ab != bb)
		return ab < bb ? 1 : -1;
	if (ac != bc)
		return ac < bc ? 1 : -1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

/* The sites of one list, ranked; top applies to leaks and peak only. */
static int build_list(struct build *b, struct cand *cands, size_t n,
		      enum site_list l, struct report_site **out,
		      size_t *nr_out)
{
	size_t i, kept = 0;
	__u64 count, bytes;

	qsort_r(cands, n, sizeof(*cands), cand_cmp, &l);
	for (i = 0; i < n; i++) {
		list_metric(&cands[i], l, &count, &bytes);
		if (!count)
			break;
		kept++;
	}
	if (l != LIST_SITES && b->opts.top && kept > b->opts.top)
		kept = b->opts.top;
	*nr_out = kept;
	if (!kept)
		return 0;
	*out = arena_alloc(&b->r->arena, kept, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < kept; i++) {
		int err = fill_site(b, &cands[i], l, &(*out)[i]);

		if (err)
			return err;
	}
	return 0;
}

/* Every stack resolved and merged once, then ranked three ways. */
static int build_sites(struct build *b)
{
	__u32 nr = store__nr_stacks(b->st);
	struct cand *cands;
	size_t i, n = 0;
	int err;

	cands = calloc(nr ? nr : 1, sizeof(*cands));
	if (!cands)
		return -ENOMEM;
	err = gather(b, cands, nr);
	if (err)
		goto out;
	for (i = 0; i < nr; i++) {
		if (!cands[i].allocs && !cands[i].count)
			continue;
		cands[n] = cands[i];
		err = resolve_cand(b, &cands[n++]);
		if (err)
			goto out;
	}
	n = merge_sites(cands, n);
	err = build_list(b, cands, n, LIST_LEAKS, &b->r->leaks,
			 &b->r->nr_leaks);
	if (!err)
		err = build_list(b, cands, n, LIST_PEAK, &b->r->peak,
				 &b->r->nr_peak);
	if (!err)
		err = build_list(b, cands, n, LIST_SITES, &b->r->sites,
				 &b->r->nr_sites);
out:
	free(cands);
	return err;
}

static const char *const family_names[MS_FAM__COUNT] = {
	[MS_FAM_MALLOC] = "malloc",
	[MS_FAM_NEW] = "new",
	[MS_FAM_NEW_ARRAY] = "new[]",
	[MS_FAM_RUST] = "rust",
	[MS_FAM_JEMALLOC] = "jemalloc",
	[MS_FAM_TCMALLOC] = "tcmalloc",
	[MS_FAM_MIMALLOC] = "mimalloc",
};

const char *report_family_name(unsigned int family)
{
	return family < MS_FAM__COUNT ? family_names[family] : NULL;
}

static const char *const anomaly_names[STORE_ANOMALY__COUNT] = {
	[STORE_DOUBLE_FREE] = "double_free",
	[STORE_INVALID_FREE] = "invalid_free",
	[STORE_MISMATCHED_FREE] = "mismatched_free",
};

const char *report_anomaly_name(unsigned int kind)
{
	return kind < STORE_ANOMALY__COUNT ? anomaly_names[kind] : NULL;
}

int report__anomaly_cmp(const void *pa, const void *pb)
{
	const struct report_anomaly *a = pa, *b = pb;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return a->first_ns < b->first_ns ? -1 : a->first_ns > b->first_ns;
}

/* Every anomaly group with both its stacks resolved, ranked. */
static int build_anomalies(struct build *b)
{
	size_t i, n = store__nr_anomalies(b->st);
	struct report_anomaly *out;
	int err;

	if (!n)
		return 0;
	out = arena_alloc(&b->r->arena, n, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct store_anomaly *a = store__anomaly(b->st, i);
		struct report_anomaly *ra = &out[i];

		ra->kind = a->kind;
		ra->alloc_family = ms_tag_family(a->alloc_tag);
		ra->free_family = ms_tag_family(a->free_tag);
		/*
		 * Families that may free each other's blocks, from two
		 * objects: the allocator is what differs (new in libstdc++
		 * and free in libc differ by family already).
		 */
		ra->other_allocator = a->alloc_stack != STORE_NO_STACK &&
			ms_tag_obj(a->alloc_tag) != ms_tag_obj(a->free_tag) &&
			(ra->alloc_family == ra->free_family ||
			 (ms_family_is_c(ra->alloc_family) &&
			  ms_family_is_c(ra->free_family)));
		ra->count = a->count;
		ra->first_ns = report__since_start(b->r, a->first_ns);
		if (a->alloc_stack != STORE_NO_STACK) {
			err = resolve_stack(b, a->alloc_stack,
					    &ra->nr_alloc_frames,
					    &ra->alloc_frames, &ra->alloc_flags);
			if (err)
				return err;
		}
		err = resolve_stack(b, a->free_stack, &ra->nr_free_frames,
				    &ra->free_frames, &ra->free_flags);
		if (err)
			return err;
	}
	qsort(out, n, sizeof(*out), report__anomaly_cmp);
	b->r->anomalies = out;
	b->r->nr_anomalies = n;
	return 0;
}

/* n records of size bytes, copied into the arena; NULL stays NULL for 0. */
static void *arena_dup(void **arena, const void *src, size_t n, size_t size)
{
	void *p;

	if (!n)
		return NULL;
	p = arena_alloc(arena, n, size);
	if (p)
		memcpy(p, src, n * size);
	return p;
}

/* Where an operation happened: frame 0 of its stack. */
static int resolve_at(struct build *b, __u32 stack_id,
		      struct frame *at)
{
	struct store_site s;
	int err;

	memset(at, 0, sizeof(*at));
	err = store__site(b->st, stack_id, &s);
	if (err || !s.nr_frames)
		return err;
	return resolve_frame(b, s.frames[0], at);
}

static int copy_tasks(struct build *b, const struct analysis *a)
{
	struct report *r = b->r;
	size_t i;

	r->tasks = arena_dup(&r->arena, a->tasks, a->nr_tasks,
			     sizeof(*a->tasks));
	if (a->nr_tasks && !r->tasks)
		return -ENOMEM;
	r->nr_tasks = a->nr_tasks;
	for (i = 0; i < r->nr_tasks; i++) {
		if (arena_strdup(&r->arena, &r->tasks[i].t.name))
			return -ENOMEM;
	}
	return 0;
}

static int copy_tracked(struct build *b, const struct analysis *a)
{
	struct report *r = b->r;
	size_t i;

	r->tracked = arena_dup(&r->arena, a->tracked, a->nr_tracked,
			       sizeof(*a->tracked));
	if (a->nr_tracked && !r->tracked)
		return -ENOMEM;
	r->nr_tracked = a->nr_tracked;
	for (i = 0; i < r->nr_tracked; i++) {
		if (arena_strdup(&r->arena, &r->tracked[i].name) ||
		    arena_strdup(&r->arena, &r->tracked[i].type))
			return -ENOMEM;
	}
	return 0;
}

static int copy_pp_event(struct build *b, const struct declared_pp_event *ev,
			 struct report_pp_event *out)
{
	out->ev = *ev;
	if (arena_strdup(&b->r->arena, &out->ev.side))
		return -ENOMEM;
	return resolve_at(b, ev->stack_id, &out->at);
}

static int copy_passports(struct build *b, const struct analysis *a)
{
	struct report *r = b->r;
	struct report_passport *p;
	size_t i;
	__u32 k;
	int err;

	r->passports = arena_dup(&r->arena, a->passports, a->nr_passports,
				 sizeof(*a->passports));
	if (a->nr_passports && !r->passports)
		return -ENOMEM;
	r->nr_passports = a->nr_passports;
	for (i = 0; i < r->nr_passports; i++) {
		p = &r->passports[i];
		if (arena_strdup(&r->arena, &p->p.name) ||
		    arena_strdup(&r->arena, &p->p.custody) ||
		    arena_strdup(&r->arena, &p->p.last_handover.side))
			return -ENOMEM;
		p->history = arena_alloc(&r->arena, p->p.nr_history,
					 sizeof(*p->history));
		if (!p->history)
			return -ENOMEM;
		for (k = 0; k < p->p.nr_history; k++) {
			err = copy_pp_event(b, &p->p.history[k],
					    &p->history[k]);
			if (err)
				return err;
		}
		/* the store's copy: not the model's to point at */
		p->p.history = NULL;
	}
	return 0;
}

static int copy_violations(struct build *b, const struct analysis *a)
{
	struct report *r = b->r;
	struct report_violation *v;
	__u32 flags;
	size_t i;
	int err;

	r->violations = arena_dup(&r->arena, a->violations, a->nr_violations,
				  sizeof(*a->violations));
	if (a->nr_violations && !r->violations)
		return -ENOMEM;
	r->nr_violations = a->nr_violations;
	for (i = 0; i < r->nr_violations; i++) {
		v = &r->violations[i];
		if (arena_strdup(&r->arena, &v->v.custody) ||
		    arena_strdup(&r->arena, &v->v.ev.side))
			return -ENOMEM;
		err = resolve_stack(b, v->v.ev.stack_id, &v->nr_frames,
				    &v->frames, &flags);
		if (err)
			return err;
	}
	return 0;
}

static int copy_shared(struct build *b, const struct analysis *a)
{
	struct report *r = b->r;
	struct report_shared *s;
	__u32 flags;
	size_t i;
	int err;

	r->shared = arena_dup(&r->arena, a->shared, a->nr_shared,
			      sizeof(*a->shared));
	if (a->nr_shared && !r->shared)
		return -ENOMEM;
	r->nr_shared = a->nr_shared;
	for (i = 0; i < r->nr_shared; i++) {
		s = &r->shared[i];
		if (arena_strdup(&r->arena, &s->s.name) ||
		    arena_strdup(&r->arena, &s->s.type))
			return -ENOMEM;
		if (!s->s.has_block)
			continue;
		err = resolve_stack(b, s->s.stack_id, &s->nr_frames,
				    &s->frames, &flags);
		if (err)
			return err;
	}
	return 0;
}

/* One rule's records, into the arena, with their stacks resolved. */
static int copy_findings(struct build *b, const struct analysis *a,
			 const struct rule *rule, const __u64 *given,
			 struct report_findings *f)
{
	struct rule_finding *head;
	void *items = NULL;
	size_t nr, i;
	__u32 flags;
	int err;

	f->rule = rule;
	err = rule__infer(rule, b->st, a, given, f->opts, &items, &nr);
	if (err)
		goto out;
	err = -ENOMEM;
	f->items = arena_dup(&b->r->arena, items, nr, rule->size);
	if (nr && !f->items)
		goto out;
	f->nr = nr;
	err = 0;
	for (i = 0; i < nr && !err; i++) {
		head = (struct rule_finding *)((char *)f->items +
					       i * rule->size);
		if (head->has_stack)
			err = resolve_stack(b, head->stack_id,
					    &head->nr_frames, &head->frames,
					    &flags);
	}
out:
	free(items);
	return err;
}

/*
 * Every rule in turn, each with its share of the options: given in the
 * rules' order, as a recording's header holds them.
 */
static int run_rules(struct build *b, const struct analysis *a)
{
	const struct report_opts *o = &b->opts;
	struct report *r = b->r;
	const __u64 *given;
	size_t i, k = 0;
	int err;

	if (!o->nr_rules)
		return 0;
	r->findings = arena_alloc(&r->arena, o->nr_rules,
				  sizeof(*r->findings));
	if (!r->findings)
		return -ENOMEM;
	for (i = 0; i < o->nr_rules; i++) {
		/* Options past those given take their defaults. */
		given = o->rule_opts && k + o->rules[i]->nr_opts <=
			o->nr_rule_opts ? o->rule_opts + k : NULL;
		k += o->rules[i]->nr_opts;
		err = copy_findings(b, a, o->rules[i], given,
				    &r->findings[i]);
		if (err)
			return err;
		r->nr_findings++;
	}
	return 0;
}

/*
 * The declared records and the inferred ones, from the analysis. Its
 * rules look from the end of the trace: the later of the last record and
 * the end of tracing (an idle program sends no records).
 */
static int build_declared(struct build *b)
{
	const struct report_target *t = &b->r->target;
	__u64 end_ns = store__summary(b->st)->last_ns;
	struct analysis *a;
	int err;

	if (t->start_ns + t->duration_ns > end_ns)
		end_ns = t->start_ns + t->duration_ns;
	b->r->declared = *declared__stats(store__declared(b->st));
	a = analysis__new(b->st, end_ns);
	if (!a)
		return -errno;
	b->r->rules_end_ns = a->end_ns;
	err = copy_tasks(b, a);
	if (!err)
		err = copy_tracked(b, a);
	if (!err)
		err = copy_passports(b, a);
	if (!err)
		err = copy_violations(b, a);
	if (!err)
		err = copy_shared(b, a);
	if (!err)
		err = run_rules(b, a);
	analysis__free(a);
	return err;
}

int report__anon_site_cmp(const void *pa, const void *pb)
{
	const struct report_anon_site *a = pa, *b = pb;

	if (a->live_bytes != b->live_bytes)
		return a->live_bytes < b->live_bytes ? 1 : -1;
	if (a->mapped_bytes != b->mapped_bytes)
		return a->mapped_bytes < b->mapped_bytes ? 1 : -1;
	return a->calls < b->calls ? 1 : a->calls > b->calls ? -1 : 0;
}

int report__arena_cmp(const void *pa, const void *pb)
{
	const struct report_arena *a = pa, *b = pb;

	if (a->mapped_bytes != b->mapped_bytes)
		return a->mapped_bytes < b->mapped_bytes ? 1 : -1;
	return a->live_bytes < b->live_bytes ? 1 :
	       a->live_bytes > b->live_bytes ? -1 : 0;
}

/* An arena site joins its object's entry (objects are few: a scan). */
static int arena_join(struct build *b, const struct anon_site *as,
		      size_t *nr)
{
	struct report_anon *ra = &b->r->anon;
	struct report_arena *ar;
	struct store_site s;
	struct frame fr;
	size_t i;
	int err;

	err = store__site(b->st, as->stack_id, &s);
	if (err)
		return err;
	if (s.nr_frames != 1)
		return -EINVAL;
	err = resolve_frame(b, s.frames[0], &fr);
	if (err)
		return err;
	for (i = 0; i < *nr; i++) {
		if (str_same(ra->arenas[i].object, fr.object))
			break;
	}
	ar = &ra->arenas[i];
	if (i == *nr) {
		ar->object = fr.object;
		(*nr)++;
	}
	ar->live_bytes += as->live_bytes;
	ar->reserved_bytes += as->reserved_bytes;
	ar->calls += as->calls;
	ar->mapped_bytes += as->mapped_bytes;
	return 0;
}

/*
 * Anonymous memory: the program's sites (those that mapped anything,
 * ranked, --top of them) and the arenas merged by object.
 */
static int build_anon(struct build *b)
{
	const struct anon *a = store__anon(b->st);
	struct report_anon *ra = &b->r->anon;
	size_t n = anon__nr_sites(a), i, nr_sites = 0, nr_arenas = 0;
	struct report_anon_site *rs;
	struct anon_site as;
	int err;

	ra->traced = b->r->target.anon_traced;
	ra->sum = *anon__summary(a);
	if (!n)
		return 0;
	ra->sites = arena_alloc(&b->r->arena, n, sizeof(*ra->sites));
	ra->arenas = arena_alloc(&b->r->arena, n, sizeof(*ra->arenas));
	if (!ra->sites || !ra->arenas)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		anon__site(a, i, &as);
		if (!as.calls && !as.live_bytes && !as.reserved_bytes)
			continue;
		if (as.arena) {
			err = arena_join(b, &as, &nr_arenas);
			if (err)
				return err;
			continue;
		}
		rs = &ra->sites[nr_sites++];
		*rs = (struct report_anon_site){
			.live_bytes = as.live_bytes,
			.live_ranges = as.live_ranges,
			.reserved_bytes = as.reserved_bytes,
			.peak_bytes = as.peak_bytes,
			.calls = as.calls,
			.mapped_bytes = as.mapped_bytes,
		};
		err = resolve_stack(b, as.stack_id, &rs->nr_frames,
				    &rs->frames, &rs->flags);
		if (err)
			return err;
	}
	qsort(ra->sites, nr_sites, sizeof(*ra->sites), report__anon_site_cmp);
	qsort(ra->arenas, nr_arenas, sizeof(*ra->arenas), report__arena_cmp);
	ra->nr_sites = b->opts.top && nr_sites > b->opts.top ? b->opts.top :
		       nr_sites;
	ra->nr_arenas = nr_arenas;
	return 0;
}

static int copy_timeline(struct report *r, const struct timeline_point *pts,
			 size_t n, __u64 width_ns)
{
	r->timeline_width_ns = width_ns;
	if (!n)
		return 0;
	r->timeline = arena_alloc(&r->arena, n, sizeof(*pts));
	if (!r->timeline)
		return -ENOMEM;
	memcpy(r->timeline, pts, n * sizeof(*pts));
	r->nr_timeline = n;
	return 0;
}

static int copy_probes(struct report *r, const struct attach_probe *probes,
		       size_t n)
{
	size_t i;

	if (!n)
		return 0;
	r->probes = arena_alloc(&r->arena, n, sizeof(*r->probes));
	if (!r->probes)
		return -ENOMEM;
	memcpy(r->probes, probes, n * sizeof(*probes));
	r->nr_probes = n;
	for (i = 0; i < n; i++) {
		if (arena_strdup(&r->arena, &r->probes[i].object) ||
		    arena_strdup(&r->arena, &r->probes[i].symbol) ||
		    arena_strdup(&r->arena, &r->probes[i].forwards_to) ||
		    arena_strdup(&r->arena, &r->probes[i].counted_at))
			return -ENOMEM;
	}
	return 0;
}

/*
 * The verdict on every site of the snapshot series (growth.h), resolved:
 * the growing ones, first, are the leak suspects.
 */
static int build_growth(struct build *b)
{
	struct growth_verdict *vs;
	struct report_growth_site *gs;
	size_t nr, i;
	__u32 flags;
	int err;

	if (!b->opts.growth)
		return 0;
	b->r->snapshots = growth__count(b->opts.growth);
	err = growth__verdicts(b->opts.growth, &vs, &nr);
	if (err || !nr)
		return err;
	b->r->growth = arena_alloc(&b->r->arena, nr, sizeof(*b->r->growth));
	if (!b->r->growth) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr; i++) {
		gs = &b->r->growth[i];
		gs->v = vs[i];
		err = resolve_stack(b, vs[i].stack_id, &gs->nr_frames,
				    &gs->frames, &flags);
		if (err)
			goto out;
		gs->flags = flags;
		if (vs[i].pattern == GROWTH_GROWING)
			b->r->nr_suspects++;
	}
	b->r->nr_growth = nr;
out:
	free(vs);
	return err;
}

/* A site of the scan, resolved: its frames and stack flags. */
static int resolve_scan_site(struct build *b, __u32 site, __u32 *nr,
			     struct frame **frames, __u32 *flags)
{
	if (site >= store__nr_stacks(b->st))
		return -EINVAL;
	return resolve_stack(b, site, nr, frames, flags);
}

/* Entry i of a scan's list into dst, its sites resolved. 0 or -errno. */
typedef int (*scan_fill_fn)(struct build *b, const struct heapscan *h,
			    size_t i, void *dst);

static int fill_cycle(struct build *b, const struct heapscan *h, size_t i,
		      void *dst)
{
	const struct heapscan_cycle *c = heapscan__cycle(h, i);
	struct report_cycle *rc = dst;
	__u32 k;
	int err;

	rc->instances = c->instances;
	rc->blocks = c->blocks;
	rc->bytes = c->bytes;
	rc->nr_members = c->nr_members;
	rc->members = arena_alloc(&b->r->arena, c->nr_members,
				  sizeof(*rc->members));
	if (!rc->members)
		return -ENOMEM;
	for (k = 0; k < c->nr_members; k++) {
		struct report_cycle_member *m = &rc->members[k];

		m->count = c->members[k].count;
		m->bytes = c->members[k].bytes;
		err = resolve_scan_site(b, c->members[k].site, &m->nr_frames,
					&m->frames, &m->flags);
		if (err)
			return err;
	}
	return 0;
}

static int fill_link(struct build *b, const struct heapscan *h, size_t i,
		     void *dst)
{
	const struct heapscan_link *l = heapscan__link(h, i);
	struct report_link *rl = dst;
	__u32 flags;
	int err;

	rl->kind = l->kind;
	rl->count = l->count;
	err = resolve_scan_site(b, l->from, &rl->nr_from, &rl->from, &flags);
	return err ? err : resolve_scan_site(b, l->to, &rl->nr_to, &rl->to,
					     &flags);
}

static int fill_clone(struct build *b, const struct heapscan *h, size_t i,
		      void *dst)
{
	const struct heapscan_clone *c = heapscan__clone(h, i);
	struct report_clone *rc = dst;

	rc->count = c->count;
	rc->size = c->size;
	return resolve_scan_site(b, c->site, &rc->nr_frames, &rc->frames,
				 &rc->flags);
}

/*
 * One list of the scan, n entries long, into the report: all counted in
 * *total, the first max of them (by the scan's order) copied into an
 * arena array at *out, *nr of them, each by fill.
 */
static int copy_scan_list(struct build *b, const struct heapscan *h,
			  size_t n, size_t max, size_t size, scan_fill_fn fill,
			  void **out, size_t *nr, size_t *total)
{
	size_t i;
	int err;

	*total = n;
	if (n > max)
		n = max;
	if (!n)
		return 0;
	*out = arena_alloc(&b->r->arena, n, size);
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		err = fill(b, h, i, (char *)*out + i * size);
		if (err)
			return err;
	}
	*nr = n;
	return 0;
}

/* The heap scan's totals, cycles and graph; the leaks' classes are gathered. */
static int build_reach(struct build *b)
{
	const struct heapscan *h = b->scan ? b->scan->scan : NULL;
	struct report_reach *rr = &b->r->reach;
	int err;

	if (!h)
		return 0;
	b->r->reach.scanned = true;
	b->r->reach.pause = b->scan->pause;
	b->r->reach.stats = *heapscan__stats(h);
	err = copy_scan_list(b, h, heapscan__nr_cycles(h), REPORT_CYCLES_MAX,
			     sizeof(*rr->cycles), fill_cycle,
			     (void **)&rr->cycles, &rr->nr_cycles,
			     &rr->cycles_total);
	if (!err)
		err = copy_scan_list(b, h, heapscan__nr_links(h),
				     REPORT_LINKS_MAX, sizeof(*rr->links),
				     fill_link, (void **)&rr->links,
				     &rr->nr_links, &rr->links_total);
	if (!err)
		err = copy_scan_list(b, h, heapscan__nr_clones(h),
				     REPORT_CLONES_MAX, sizeof(*rr->clones),
				     fill_clone, (void **)&rr->clones,
				     &rr->nr_clones, &rr->clones_total);
	return err;
}

/* report__build(), its frames' strings in shared (NULL: its own pool) */
static struct report *build_one(const struct store *st,
				const struct report_target *target,
				const struct ms_counters *kernel,
				const struct attach_probe *probes,
				size_t nr_probes, const struct report_opts *opts,
				struct tab_pool *shared)
{
	struct build b = { .st = st };
	const struct timeline_point *pts;
	struct report *r;
	__u64 width;
	size_t n;
	int err;

	if (!st || !target || (nr_probes && !probes)) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	b.r = r;
	err = tab_keyed_init(&b.cache, sizeof(struct cached_addr),
			     offsetof(struct cached_addr, addr), 0);
	if (!err)
		err = report_strings(r, shared);
	if (err)
		goto err_free;
	if (opts)
		b.opts = *opts;
	if (b.opts.nr_scans && b.opts.scans[0].scan)
		b.scan = &b.opts.scans[0];

	r->target = *target;
	r->top = b.opts.top;
	r->top_procs = b.opts.top_procs;
	r->ended = store__closed(st);
	r->filter = b.opts.filter;
	r->folded_weight = b.opts.folded_weight;
	r->summary = *store__summary(st);
	if (kernel) {
		r->kernel = *kernel;
		r->have_kernel = true;
	}
	err = arena_strdup(&r->arena, &r->target.command);
	if (err)
		goto err_free;
	err = copy_probes(r, probes, nr_probes);
	if (err)
		goto err_free;
	err = build_sites(&b);
	if (err)
		goto err_free;
	err = build_anomalies(&b);
	if (err)
		goto err_free;
	err = build_reach(&b);
	if (err)
		goto err_free;
	err = build_declared(&b);
	if (err)
		goto err_free;
	err = build_anon(&b);
	if (err)
		goto err_free;
	n = store__timeline(st, &pts, &width);
	err = copy_timeline(r, pts, n, width);
	if (err)
		goto err_free;
	err = build_growth(&b);
	if (err)
		goto err_free;
	tab_keyed_fini(&b.cache);
	return r;

err_free:
	tab_keyed_fini(&b.cache);
	report__free(r);
	errno = -err;
	return NULL;
}

struct report *report__build(const struct store *st,
			     const struct report_target *target,
			     const struct ms_counters *kernel,
			     const struct attach_probe *probes,
			     size_t nr_probes, const struct report_opts *opts)
{
	return build_one(st, target, kernel, probes, nr_probes, opts, NULL);
}

void report__free(struct report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nr_procs; i++) {
		if (r->procs[i].r != r)
			report__free(r->procs[i].r);
	}
	/* after the images' reports: theirs may be this one's */
	if (r->strings && !r->shared_strings) {
		tab_pool_fini(r->strings);
		free(r->strings);
	}
	arena_free(r->arena);
	free(r);
}

static int site_bytes_cmp(const void *pa, const void *pb)
{
	const struct report_site *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return a->proc < b->proc ? -1 : a->proc > b->proc;
}

/*
 * The lists of every image merged into r's, ranked as each image ranks
 * its own; top applies again to the leaks. Entries are copied, their
 * frames stay in the images' arenas, which live as long as r.
 */
static int merge_lists(struct report *r, bool leaks)
{
	struct report_site *out;
	size_t i, n = 0, total = 0;

	for (i = 0; i < r->nr_procs; i++)
		total += leaks ? r->procs[i].r->nr_leaks :
				 r->procs[i].r->nr_sites;
	if (!total)
		return 0;
	out = arena_alloc(&r->arena, total, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < r->nr_procs; i++) {
		const struct report *pr = r->procs[i].r;
		size_t k = leaks ? pr->nr_leaks : pr->nr_sites;

		if (!k)
			continue;
		memcpy(out + n, leaks ? pr->leaks : pr->sites,
		       k * sizeof(*out));
		n += k;
	}
	qsort(out, n, sizeof(*out), site_bytes_cmp);
	if (leaks) {
		r->leaks = out;
		r->nr_leaks = r->top && n > r->top ? r->top : n;
	} else {
		r->sites = out;
		r->nr_sites = n;
	}
	return 0;
}

static int growth_site_cmp(const void *pa, const void *pb)
{
	const struct report_growth_site *a = pa, *b = pb;
	int c = growth_verdict_cmp(&a->v, &b->v);

	return c ? c : (a->proc > b->proc) - (a->proc < b->proc);
}

/*
 * Every image's growth verdicts, ranked as one image ranks its own: the
 * growing ones, the leak suspects, first. Frames stay the images'.
 */
static int merge_growth(struct report *r, const struct growth_table *t)
{
	struct report_growth_site *out;
	size_t i, n = 0, total = 0;

	r->snapshots = t ? t->taken : 0;
	for (i = 0; i < r->nr_procs; i++)
		total += r->procs[i].r->nr_growth;
	if (!total)
		return 0;
	out = arena_alloc(&r->arena, total, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < r->nr_procs; i++) {
		const struct report *pr = r->procs[i].r;

		if (!pr->nr_growth)
			continue;
		memcpy(out + n, pr->growth, pr->nr_growth * sizeof(*out));
		n += pr->nr_growth;
		r->nr_suspects += pr->nr_suspects;
	}
	qsort(out, n, sizeof(*out), growth_site_cmp);
	r->growth = out;
	r->nr_growth = n;
	return 0;
}

static int merge_anomalies(struct report *r)
{
	struct report_anomaly *out;
	size_t i, n = 0, total = 0;

	for (i = 0; i < r->nr_procs; i++)
		total += r->procs[i].r->nr_anomalies;
	if (!total)
		return 0;
	out = arena_alloc(&r->arena, total, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < r->nr_procs; i++) {
		const struct report *pr = r->procs[i].r;

		if (!pr->nr_anomalies)
			continue;
		memcpy(out + n, pr->anomalies,
		       pr->nr_anomalies * sizeof(*out));
		n += pr->nr_anomalies;
	}
	qsort(out, n, sizeof(*out), report__anomaly_cmp);
	r->anomalies = out;
	r->nr_anomalies = n;
	return 0;
}

/* The options of image i's own model: its resolver, snapshots and scan. */
static struct report_opts image_opts(const struct report_opts *opts, size_t i)
{
	struct report_opts o = *opts;

	if (opts->image_ctx)
		o.resolve_ctx = opts->image_ctx(opts->resolve_ctx, i);
	o.growth = growth_table__image(opts->growth_table, i);
	/* its own scan, if it has one: report__build() takes scans[0] */
	o.scans = i < opts->nr_scans ? &opts->scans[i] : NULL;
	o.nr_scans = i < opts->nr_scans;
	return o;
}

/*
 * Image i's own model, with a target made of its facts; its frames'
 * strings in the trace's pool.
 */
static struct report *build_image(const struct proc_image *im, size_t i,
				  size_t pos,
				  const struct report_target *target,
				  const struct report_opts *opts,
				  struct tab_pool *strings)
{
	struct report_opts o = image_opts(opts, i);
	struct report_target t = *target;
	struct report *pr;
	size_t k;

	t.pid = im->info.pid;
	t.command = im->command;
	t.exited = im->end == PROC_EXITED;
	t.exit_status = t.exited ? im->exit_code : 0;
	t.detached = false;
	t.killed = false;
	pr = build_one(im->store, &t, im->have_kernel ? &im->kernel : NULL,
		       NULL, 0, &o, strings);
	if (!pr)
		return NULL;
	for (k = 0; k < pr->nr_leaks; k++)
		pr->leaks[k].proc = pos;
	for (k = 0; k < pr->nr_peak; k++)
		pr->peak[k].proc = pos;
	for (k = 0; k < pr->nr_sites; k++)
		pr->sites[k].proc = pos;
	for (k = 0; k < pr->nr_anomalies; k++)
		pr->anomalies[k].proc = pos;
	for (k = 0; k < pr->nr_growth; k++)
		pr->growth[k].proc = pos;
	return pr;
}

/* An image as a fold knows its program: by its comm, then its place. */
struct fold_key {
	const char *comm;
	size_t image;
};

static int fold_key_cmp(const void *pa, const void *pb)
{
	const struct fold_key *a = pa, *b = pb;
	int c = strcmp(a->comm, b->comm);

	return c ? c : a->image < b->image ? -1 : a->image > b->image;
}

/*
 * An image the trace knows nothing of: the record of its exec opened it
 * and ended it at once (the process joined the set there: --comm,
 * --cgroup), no record was of it and nothing told its facts. A row of
 * "?" would say nothing; it is counted, not listed (unlisted_images).
 */
static bool image_empty(const struct proc_image *im)
{
	return im->end == PROC_EXECED && !im->have_info &&
	       !store__summary(im->store)->events &&
	       (!im->have_kernel || !im->kernel.allocs);
}

/*
 * Which images fold (report_opts.fold): lead[i] is the first image of
 * image i's fold, SIZE_MAX for one that stays apart. An image folds when
 * it ended, ran its allocator probed from its start (not late, not
 * foreign), has no heap scan, and its program (its comm: the command
 * line of a short run is often never read) has more than fold such
 * images; a fold that would leave the trace one entry is not made (a
 * trace of one entry reads as one process). *lead NULL: none folds.
 */
static int fold_plan(const struct procs *pt, const struct report_opts *opts,
		     size_t **lead)
{
	size_t i, j, k, n = procs__nr_images(pt), nr = 0, entries = n;
	struct fold_key *keys;
	size_t *out;

	*lead = NULL;
	if (!opts->fold || n < 2)
		return 0;
	keys = calloc(n, sizeof(*keys));
	out = malloc(n * sizeof(*out));
	if (!keys || !out) {
		free(keys);
		free(out);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct proc_image *im = procs__image(pt, i);

		out[i] = SIZE_MAX;
		if (image_empty(im)) {
			entries--;
			continue;
		}
		if (im->end == PROC_RUNNING ||
		    (im->info.flags & (PROCINFO_LATE | PROCINFO_FOREIGN)) ||
		    (i < opts->nr_scans && opts->scans[i].scan))
			continue;
		keys[nr].comm = im->info.comm;
		keys[nr++].image = i;
	}
	qsort(keys, nr, sizeof(*keys), fold_key_cmp);
	for (i = 0; i < nr; i = j) {
		for (j = i + 1; j < nr && !strcmp(keys[i].comm, keys[j].comm);
		     j++)
			;
		if (j - i <= opts->fold)
			continue;
		for (k = i; k < j; k++)
			out[keys[k].image] = keys[i].image;
		entries -= j - i - 1;
	}
	free(keys);
	if (entries < 2) {
		free(out);
		return 0;
	}
	*lead = out;
	return 0;
}

/* An image's model holds nothing a fold would lose: it may fold. */
static bool foldable(const struct report *pr)
{
	size_t i;

	if (pr->declared.records || pr->declared.malformed ||
	    pr->nr_growth || pr->reach.scanned)
		return false;
	for (i = 0; i < pr->nr_findings; i++)
		if (pr->findings[i].nr)
			return false;
	return true;
}

/* A model built with top 0 for a fold, kept as an image of its own. */
static void apply_top(struct report *pr, size_t top)
{
	pr->top = top;
	if (!top)
		return;
	if (pr->nr_leaks > top)
		pr->nr_leaks = top;
	if (pr->nr_peak > top)
		pr->nr_peak = top;
	if (pr->anon.nr_sites > top)
		pr->anon.nr_sites = top;
}

/*
 * An image that ran its allocator unprobed counts toward the warning.
 * 0, -ENOMEM.
 */
static int proc_facts(struct report *r, struct report_proc *rp,
		      const struct proc_image *im)
{
	if (im->info.flags & PROCINFO_FOREIGN)
		r->procs_foreign++;
	if (im->info.flags & PROCINFO_LATE) {
		r->procs_late++;
		if (im->info.late_ns > r->late_max_ns)
			r->late_max_ns = im->info.late_ns;
	}
	rp->info = im->info;
	rp->command = im->command;
	rp->image = im->image;
	rp->end = im->end;
	rp->first_ns = im->first_ns;
	rp->end_ns = im->end_ns;
	rp->exit_code = im->exit_code;
	if (im->end == PROC_RUNNING && r->target.exited &&
	    im->info.pid == (__u32)r->target.pid) {
		rp->ended_trace = true;
		rp->end = PROC_EXITED;
		rp->end_ns = r->target.start_ns + r->target.duration_ns;
		rp->exit_code = r->target.exit_status;
		rp->exit_unknown = r->target.status_unknown;
	}
	rp->have_info = im->have_info;
	return arena_strdup(&r->arena, &rp->command);
}

/* Over several images: the trace's own facts and the merged lists. */
static struct report *build_all(struct procs *pt,
				const struct report_target *target,
				const struct ms_counters *kernel,
				const struct attach_probe *probes,
				size_t nr_probes, const struct report_opts *opts)
{
	size_t i, n = procs__nr_images(pt), *lead = NULL, *entry = NULL;
	const struct timeline_point *pts;
	struct report_fold *folds = NULL;
	struct report_opts fold_opts;
	struct report *r;
	size_t nr_pts;
	__u64 width;
	int err = -ENOMEM;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->target = *target;
	r->top = opts->top;
	r->top_procs = opts->top_procs;
	r->filter = opts->filter;
	r->folded_weight = opts->folded_weight;
	r->all = *procs__summary(pt);
	r->summary = r->all.sum;
	if (kernel) {
		r->kernel = *kernel;
		r->have_kernel = true;
	}
	if (arena_strdup(&r->arena, &r->target.command) ||
	    report_strings(r, NULL))
		goto err_free;
	/* the running images together: the curve of the trace's peak */
	nr_pts = procs__timeline(pt, &pts, &width);
	err = copy_timeline(r, pts, nr_pts, width);
	if (err)
		goto err_free;
	err = copy_probes(r, probes, nr_probes);
	if (err)
		goto err_free;
	err = -ENOMEM;
	r->procs = arena_alloc(&r->arena, n, sizeof(*r->procs));
	if (!r->procs)
		goto err_free;
	err = fold_plan(pt, opts, &lead);
	if (err)
		goto err_free;
	if (lead) {
		err = -ENOMEM;
		folds = report_fold__new();
		entry = malloc(n * sizeof(*entry));
		if (!folds || !entry)
			goto err_free;
		for (i = 0; i < n; i++)
			entry[i] = SIZE_MAX;
		/* a fold's images whole: it ranks and cuts their merge */
		fold_opts = *opts;
		fold_opts.top = 0;
	}
	for (i = 0; i < n; i++) {
		const struct proc_image *im = procs__image(pt, i);
		size_t pos = r->nr_procs, *at;
		struct report *pr;

		if (image_empty(im)) {
			r->unlisted_images++;
			continue;
		}
		at = lead && lead[i] != SIZE_MAX ? &entry[lead[i]] : NULL;
		pr = build_image(im, i, pos, target, at ? &fold_opts : opts,
				 r->strings);
		if (!pr) {
			err = -errno;
			goto err_free;
		}
		/* the model holds copies: an ended image's sites may go */
		procs__release(pt, i);
		r->filter_count += pr->filter_count;
		r->filter_bytes += pr->filter_bytes;
		if (at && foldable(pr)) {
			if (*at == SIZE_MAX) {
				*at = pos;
				r->nr_procs++;
				err = proc_facts(r, &r->procs[pos], im);
				if (err) {
					report__free(pr);
					goto err_free;
				}
			}
			err = report_fold__add(folds, r, *at, pr, im);
			if (err)
				goto err_free;
			continue;
		}
		if (at)
			apply_top(pr, opts->top);
		r->procs[pos].r = pr;
		r->nr_procs++;
		err = proc_facts(r, &r->procs[pos], im);
		if (err)
			goto err_free;
	}
	if (folds) {
		err = report_fold__finish(folds, r);
		if (err)
			goto err_free;
	}
	report_fold__free(folds);
	folds = NULL;
	free(lead);
	lead = NULL;
	free(entry);
	entry = NULL;
	err = merge_lists(r, true);
	if (!err)
		err = merge_lists(r, false);
	if (!err)
		err = merge_anomalies(r);
	if (!err)
		err = merge_growth(r, opts->growth_table);
	if (err)
		goto err_free;
	return r;

err_free:
	report_fold__free(folds);
	free(lead);
	free(entry);
	report__free(r);
	errno = -err;
	return NULL;
}

struct report *report__build_procs(struct procs *pt,
				   const struct report_target *target,
				   const struct ms_counters *kernel,
				   const struct attach_probe *probes,
				   size_t nr_probes,
				   const struct report_opts *opts)
{
	static const struct report_opts none;
	const struct proc_image *im;
	struct report_opts o;
	struct store *empty;
	struct report *r;

	if (!pt || !target) {
		errno = EINVAL;
		return NULL;
	}
	if (!opts)
		opts = &none;
	if (procs__nr_images(pt) > 1)
		return build_all(pt, target, kernel, probes, nr_probes, opts);
	/* One image, or none: the trace is that process, as it always was. */
	im = procs__image(pt, 0);
	if (!im) {
		empty = store__new();
		if (!empty)
			return NULL;
		r = report__build(empty, target, kernel, probes, nr_probes,
				  opts);
		store__free(empty);
		return r;
	}
	o = image_opts(opts, 0);
	r = report__build(im->store, target, kernel, probes, nr_probes, &o);
	if (!r)
		return NULL;
	r->all = *procs__summary(pt);
	r->procs = arena_alloc(&r->arena, 1, sizeof(*r->procs));
	if (!r->procs || proc_facts(r, &r->procs[0], im)) {
		report__free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->procs[0].r = r;
	r->nr_procs = 1;
	return r;
}
