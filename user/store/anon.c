/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Anonymous memory (anon.h).
 *
 * The ranges are a sorted array of disjoint [start, end), found by binary
 * search: the live mappings of one process number in the thousands (the
 * kernel's own limit is 65530), a change touches the few that overlap it,
 * and the memmove that keeps the array sorted is cheaper than a tree's
 * pointers at that size. Adjacent ranges of one site and one kind
 * (accessible or reserved) are merged, as the kernel merges their VMAs,
 * so brk growth in small steps, or an arena opened page by page by
 * mprotect, stays one range.
 *
 * Sites live in a keyed table (table.h) and ranges point at them by
 * position; the peak per site uses the store's epoch scheme: each new
 * program peak starts an epoch, and a site copies its live bytes the
 * first time it changes within one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "anon.h"
#include "table.h"

struct range {
	__u64 start;
	__u64 end;
	__u32 site;		/* position in the sites table */
	__u32 reserved;		/* PROT_NONE: 1 */
};

struct anon {
	struct anon_summary sum;
	__u64 epoch;
	struct tab_array ranges;	/* struct range, sorted by start */
	struct tab_keyed sites;		/* struct anon_site by key */
};

static inline struct range *range_at(const struct anon *a, size_t i)
{
	return tab_array_at(&a->ranges, i);
}

static inline struct anon_site *site_at(const struct anon *a, __u32 i)
{
	return tab_keyed_at(&a->sites, i);
}

/* The first range that ends after addr (ends are sorted like starts). */
static size_t range_first(const struct anon *a, __u64 addr)
{
	size_t lo = 0, hi = a->ranges.nr, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (range_at(a, mid)->end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void site_snap(struct anon *a, struct anon_site *st)
{
	if (st->snap_epoch == a->epoch)
		return;
	st->snap_epoch = a->epoch;
	st->peak_bytes = st->live_bytes;
}

/* Site st's PROT_NONE bytes change by delta (of them, or the arenas'). */
static void reserved_add(struct anon *a, struct anon_site *st, __s64 delta)
{
	st->reserved_bytes += delta;
	if (st->arena)
		a->sum.arena_reserved_bytes += delta;
	else
		a->sum.reserved_bytes += delta;
}

/* bytes of site st leave the live figures (reserved: their PROT_NONE). */
static void live_sub(struct anon *a, struct anon_site *st, __u64 bytes,
		     bool reserved)
{
	if (reserved) {
		reserved_add(a, st, -(__s64)bytes);
		return;
	}
	if (!st->arena)
		site_snap(a, st);
	st->live_bytes -= bytes;
	if (st->arena)
		a->sum.arena_live_bytes -= bytes;
	else
		a->sum.live_bytes -= bytes;
}

static void live_add(struct anon *a, struct anon_site *st, __u64 bytes,
		     bool reserved, __u64 ts)
{
	if (reserved) {
		reserved_add(a, st, bytes);
		return;
	}
	if (st->arena) {
		st->live_bytes += bytes;
		a->sum.arena_live_bytes += bytes;
		return;
	}
	site_snap(a, st);
	st->live_bytes += bytes;
	a->sum.live_bytes += bytes;
	if (a->sum.live_bytes > a->sum.peak_bytes) {
		a->sum.peak_bytes = a->sum.live_bytes;
		a->sum.peak_ns = ts;
		a->epoch++;
	}
}

/* The live ranges are the accessible ones: a reserved range is not. */
static void ranges_count(struct anon *a, struct anon_site *st,
			 const struct range *r, int delta)
{
	if (r->reserved)
		return;
	st->live_ranges += delta;
	if (!st->arena)
		a->sum.live_ranges += delta;
}

/* Removes ranges [i, j) from the array. */
static void ranges_drop(struct anon *a, size_t i, size_t j)
{
	size_t nr = a->ranges.nr;

	memmove(range_at(a, i), range_at(a, j),
		(nr - j) * sizeof(struct range));
	a->ranges.nr = nr - (j - i);
}

/* Makes room for one range at position i; false when the table is full. */
static bool ranges_open(struct anon *a, size_t i)
{
	size_t nr = a->ranges.nr;

	if (tab_array_reserve(&a->ranges, 1))
		return false;
	tab_array_push(&a->ranges);
	memmove(range_at(a, i + 1), range_at(a, i),
		(nr - i) * sizeof(struct range));
	return true;
}

static void full_count(struct anon *a, __u64 bytes)
{
	a->sum.full_ranges++;
	a->sum.full_bytes += bytes;
}

/* Nothing is mapped in [start, end) any more: munmap, or a new mapping. */
static void range_cut(struct anon *a, __u64 start, __u64 end)
{
	size_t i = range_first(a, start), j = i, k;
	struct anon_site *st;
	struct range *r;

	while (j < a->ranges.nr && range_at(a, j)->start < end)
		j++;
	if (i == j)
		return;
	r = range_at(a, i);
	if (j - i == 1 && r->start < start && r->end > end) {
		/* A hole in the middle: the range splits in two. */
		struct range tail = { .start = end, .end = r->end,
				      .site = r->site,
				      .reserved = r->reserved };

		st = site_at(a, r->site);
		r->end = start;
		live_sub(a, st, end - start, tail.reserved);
		if (ranges_open(a, i + 1)) {
			*range_at(a, i + 1) = tail;
			ranges_count(a, st, &tail, 1);
		} else {
			live_sub(a, st, tail.end - tail.start, tail.reserved);
			full_count(a, tail.end - tail.start);
		}
		return;
	}
	if (r->start < start) {
		/* The head stays. */
		live_sub(a, site_at(a, r->site), r->end - start, r->reserved);
		r->end = start;
		i++;
	}
	if (j > i) {
		r = range_at(a, j - 1);
		if (r->end > end) {
			/* The tail stays. */
			live_sub(a, site_at(a, r->site), end - r->start,
				 r->reserved);
			r->start = end;
			j--;
		}
	}
	for (k = i; k < j; k++) {
		r = range_at(a, k);
		st = site_at(a, r->site);
		live_sub(a, st, r->end - r->start, r->reserved);
		ranges_count(a, st, r, -1);
	}
	ranges_drop(a, i, j);
}

/* Whether r can take in the pages of site and kind next to it. */
static bool range_joins(const struct range *r, __u32 site, bool reserved)
{
	return r->site == site && r->reserved == reserved;
}

/*
 * [start, end), free of ranges now, becomes the site's, accessible or
 * reserved; merged with the site's neighbours of the same kind.
 */
static void range_put(struct anon *a, __u32 site, __u64 start, __u64 end,
		      bool reserved, __u64 ts)
{
	size_t i = range_first(a, start);
	struct anon_site *st = site_at(a, site);
	struct range *prev = i ? range_at(a, i - 1) : NULL;
	struct range *next = i < a->ranges.nr ? range_at(a, i) : NULL;

	if (prev && prev->end == start && range_joins(prev, site, reserved)) {
		prev->end = end;
		if (next && next->start == end &&
		    range_joins(next, site, reserved)) {
			/* It fills the gap between two of the site's ranges. */
			prev->end = next->end;
			ranges_count(a, st, next, -1);
			ranges_drop(a, i, i + 1);
		}
	} else if (next && next->start == end &&
		   range_joins(next, site, reserved)) {
		next->start = start;
	} else if (ranges_open(a, i)) {
		struct range *r = range_at(a, i);

		*r = (struct range){ .start = start, .end = end, .site = site,
				     .reserved = reserved };
		ranges_count(a, st, r, 1);
	} else {
		full_count(a, end - start);
		return;
	}
	live_add(a, st, end - start, reserved, ts);
}

/* A call mapped [start, end), free of ranges now, for the site. */
static void range_map(struct anon *a, __u32 site, __u64 start, __u64 end,
		      bool reserved, __u64 ts)
{
	struct anon_site *st = site_at(a, site);

	st->calls++;
	st->mapped_bytes += end - start;
	if (st->arena) {
		a->sum.arena_calls++;
		a->sum.arena_mapped_bytes += end - start;
	} else {
		a->sum.calls++;
		a->sum.mapped_bytes += end - start;
	}
	range_put(a, site, start, end, reserved, ts);
}

/*
 * mprotect: the pages of [start, end) that ranges hold become reserved
 * (PROT_NONE) or accessible, each piece staying with its site; pages no
 * range holds (a file's, code) are not ours. A piece that cannot be
 * split off (the table full) is counted as not kept.
 */
static void range_protect(struct anon *a, __u64 start, __u64 end,
			  bool reserved, __u64 ts)
{
	size_t i = range_first(a, start);
	const struct range *r;
	__u64 s, t;
	__u32 site;

	while (i < a->ranges.nr && (r = range_at(a, i))->start < end) {
		if (r->reserved == reserved) {
			i++;
			continue;
		}
		s = r->start > start ? r->start : start;
		t = r->end < end ? r->end : end;
		site = r->site;
		range_cut(a, s, t);
		range_put(a, site, s, t, reserved, ts);
		/* Past the piece, or at its merged range, of its kind. */
		i = range_first(a, t);
	}
}

/* The first range holding any byte of [start, end), NULL none. */
static const struct range *range_any(const struct anon *a, __u64 start,
				     __u64 end)
{
	size_t i = range_first(a, start);

	return i < a->ranges.nr && range_at(a, i)->start < end ?
	       range_at(a, i) : NULL;
}

static inline __u64 page_up(__u64 v)
{
	return (v + ANON_PAGE - 1) & ~(ANON_PAGE - 1);
}

/* [addr, addr + len rounded to pages), false when it wraps or is empty. */
static bool page_range(__u64 addr, __u64 len, __u64 *start, __u64 *end)
{
	if (!len || len > ~0ull - ANON_PAGE || addr & (ANON_PAGE - 1))
		return false;
	len = page_up(len);
	if (addr > ~0ull - len)
		return false;
	*start = addr;
	*end = addr + len;
	return true;
}

bool anon__valid(const struct ms_event *e)
{
	__u64 s, t;

	if (!ms_event_anon(e->type) ||
	    ms_event_stop(e->flags) >= MS_STOP__COUNT)
		return false;
	if (e->flags & MS_EVF_ARENA) {
		if (e->nr_frames != 1 || e->fn == MS_FN_NONE)
			return false;
	} else if (e->fn != MS_FN_NONE) {
		return false;
	}
	switch (e->type) {
	case MS_EV_MMAP:
	case MS_EV_MUNMAP:
	case MS_EV_MPROTECT:
		return page_range(e->ptr, e->size, &s, &t);
	case MS_EV_MREMAP:
		/* An old length of 0 duplicates a shared mapping. */
		return page_range(e->ptr, e->size, &s, &t) &&
		       (!e->aux || page_range(e->old_ptr, e->aux, &s, &t));
	default:
		return e->old_ptr <= ~0ull - ANON_PAGE &&
		       e->ptr <= ~0ull - ANON_PAGE;
	}
}

/* Does the record make memory, and so need its site? */
static bool maps_memory(const struct ms_event *e)
{
	switch (e->type) {
	case MS_EV_MMAP:
		return (e->aux & ANON_MAP_TYPE) == ANON_MAP_PRIVATE &&
		       (e->aux & ANON_MAP_ANONYMOUS);
	case MS_EV_MREMAP:
		return true;
	case MS_EV_BRK:
		return page_up(e->ptr) > page_up(e->old_ptr);
	default:
		return false;
	}
}

static int site_get(struct anon *a, const struct ms_event *e, __u32 stack_id,
		    __u32 *pos)
{
	bool arena = e->flags & MS_EVF_ARENA;
	__u64 key = stack_id | (arena ? 1ull << 32 : 0);
	struct anon_site *st = tab_keyed_get(&a->sites, key);
	int err;

	if (!st) {
		err = tab_keyed_reserve(&a->sites);
		if (err)
			return err;
		st = tab_keyed_add(&a->sites, key);
		st->stack_id = stack_id;
		st->arena = arena;
		st->fn = e->fn;
		st->snap_epoch = a->epoch;
	}
	*pos = tab_keyed_pos(&a->sites, st);
	return 0;
}

/* A mapping's pages are reserved: mapped PROT_NONE, where that is told. */
static bool mmap_reserved(struct anon *a, const struct ms_event *e)
{
	if (!(e->aux & MS_MMAP_PROT_KNOWN)) {
		a->sum.prot_unknown++;
		return false;
	}
	return !((e->aux >> MS_MMAP_PROT_SHIFT) & ANON_PROT_ACCESS);
}

int anon__apply(struct anon *a, const struct ms_event *e, __u32 stack_id)
{
	__u64 start = 0, end = 0, old_start = 0, old_end = 0;
	const struct range *old;
	bool reserved = false;
	__u32 site = 0;
	int err;

	if (!anon__valid(e))
		return -EINVAL;
	if (maps_memory(e)) {
		err = site_get(a, e, stack_id, &site);
		if (err)
			return err;
	}
	a->sum.events++;
	if (maps_memory(e) && !(e->flags & MS_EVF_ARENA))
		a->sum.stack_stops[ms_event_stop(e->flags)]++;
	switch (e->type) {
	case MS_EV_MMAP:
		page_range(e->ptr, e->size, &start, &end);
		/* MAP_FIXED replaces what was there, counted or not. */
		range_cut(a, start, end);
		if (maps_memory(e))
			range_map(a, site, start, end, mmap_reserved(a, e),
				  e->ts_ns);
		break;
	case MS_EV_MUNMAP:
		page_range(e->ptr, e->size, &start, &end);
		range_cut(a, start, end);
		break;
	case MS_EV_MREMAP:
		page_range(e->ptr, e->size, &start, &end);
		/*
		 * Only memory we counted stays counted where it goes, with
		 * its protection: mremap moves one mapping, of one.
		 */
		old = e->aux && page_range(e->old_ptr, e->aux, &old_start,
					   &old_end) ?
		      range_any(a, old_start, old_end) : NULL;
		if (old)
			reserved = old->reserved;
		if (old && !(e->seq & ANON_MREMAP_DONTUNMAP))
			range_cut(a, old_start, old_end);
		range_cut(a, start, end);
		if (old)
			range_map(a, site, start, end, reserved, e->ts_ns);
		break;
	case MS_EV_MPROTECT:
		page_range(e->ptr, e->size, &start, &end);
		range_protect(a, start, end, !(e->aux & ANON_PROT_ACCESS),
			      e->ts_ns);
		break;
	case MS_EV_BRK:
		/* The kernel maps the break's pages: [old, new) rounded up. */
		start = page_up(e->old_ptr);
		end = page_up(e->ptr);
		if (end > start) {
			range_cut(a, start, end);
			range_map(a, site, start, end, false, e->ts_ns);
		} else if (end < start) {
			range_cut(a, end, start);
		}
		break;
	}
	return 0;
}

const struct anon_summary *anon__summary(const struct anon *a)
{
	return &a->sum;
}

size_t anon__nr_sites(const struct anon *a)
{
	return tab_keyed_nr(&a->sites);
}

void anon__site(const struct anon *a, size_t i, struct anon_site *out)
{
	*out = *site_at(a, i);
	/* Untouched since the last peak: its live bytes are its peak ones. */
	if (!out->arena && out->snap_epoch != a->epoch)
		out->peak_bytes = out->live_bytes;
}

void anon__close(struct anon *a)
{
	tab_array_shrink(&a->ranges);
	tab_keyed_shrink(&a->sites);
}

size_t anon__mem_bytes(const struct anon *a)
{
	return sizeof(*a) + tab_array_bytes(&a->ranges) +
	       tab_keyed_bytes(&a->sites);
}

static int anon_init(struct anon *a, size_t max_ranges)
{
	tab_array_init(&a->ranges, sizeof(struct range),
		       max_ranges ? max_ranges : ANON_MAX_RANGES);
	return tab_keyed_init(&a->sites, sizeof(struct anon_site),
			      offsetof(struct anon_site, key), ANON_MAX_SITES);
}

struct anon *anon__new(size_t max_ranges)
{
	struct anon *a = calloc(1, sizeof(*a));

	if (!a)
		goto err_out;
	if (anon_init(a, max_ranges))
		goto err_free;
	return a;

err_free:
	tab_array_fini(&a->ranges);
	free(a);
err_out:
	errno = ENOMEM;
	return NULL;
}

static struct anon none;
static pthread_once_t none_once = PTHREAD_ONCE_INIT;

static void none_init(void)
{
	/* empty tables allocate nothing: this cannot fail */
	anon_init(&none, 0);
}

const struct anon *anon__none(void)
{
	pthread_once(&none_once, none_init);
	return &none;
}

void anon__free(struct anon *a)
{
	if (!a)
		return;
	tab_array_fini(&a->ranges);
	tab_keyed_fini(&a->sites);
	free(a);
}
