/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Growth over time: snapshots of a store taken every interval (-i), what
 * grew between two of them, and which sites keep growing.
 *
 * A snapshot is every site's live bytes and blocks at one moment, and its
 * old ones: the blocks allocated before the previous snapshot that are
 * still live. Old blocks are what tells a leak from churn: a site that
 * allocates and frees ten thousand blocks a second while it forgets one a
 * second has totals that wander by more than the leak, but its old blocks
 * rise by one every second and never fall. The series of snapshots (at
 * most GROWTH_SERIES, thinned by halves as a long trace goes on) is what
 * growth__verdicts classifies each site from.
 *
 * The module reads a store and keeps no block: one store per traced
 * process image gets one growth of its own.
 */
#ifndef MEMSCOPE_GROWTH_H
#define MEMSCOPE_GROWTH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "procs.h"
#include "store.h"

/* Snapshots kept for the verdicts; past it, every other one is dropped. */
#define GROWTH_SERIES		128
/* Snapshots (after the first, which has no old blocks) a verdict needs. */
#define GROWTH_MIN_SNAPS	5

/* What the caller knows of a moment beside the store. */
struct growth_mark {
	__u64 ts_ns;		/* CLOCK_MONOTONIC of the snapshot */
	__u64 lost_events;	/* the kernel's count so far */
	__u64 consumer_drops;	/* records userspace could not take so far */
};

/*
 * One site in one snapshot; a snapshot lists the sites with live blocks
 * and those that allocated since the previous snapshot.
 */
struct growth_site {
	__u32 stack_id;		/* the store's */
	__u32 pad;
	__u64 live_bytes;
	__u64 live_blocks;
	__u64 old_bytes;	/* allocated before the previous snapshot */
	__u64 old_blocks;
	/* the fewest old blocks since the previous snapshot kept (thinning) */
	__u64 low_blocks;
};

struct growth_snap {
	__u32 index;		/* 1 for the first snapshot of the trace */
	struct growth_mark mark;
	__u64 live_bytes;	/* every live block of the store */
	__u64 live_blocks;
	__u64 events;		/* records the store applied so far */
	struct growth_site *sites;	/* by stack_id */
	size_t nr_sites;
};

/*
 * One row of a snapshot's lists: a site, now and its change since the
 * previous snapshot (since the start, the change is all of it: nothing
 * was live when tracing began, as far as the trace can see).
 */
struct growth_row {
	__u32 stack_id;
	__u32 nr_frames;
	const __u64 *frames;	/* the store's, innermost first */
	__u64 live_bytes;
	__u64 live_blocks;
	long long d_bytes;	/* since the previous snapshot */
	long long d_blocks;
};

/* What a snapshot shows: its two lists, each at most top long. */
struct growth_view {
	__u32 index;
	/*
	 * The process image it is of (growth_table__views()) and its pid;
	 * named only when the trace has several images.
	 */
	__u32 proc;
	__u32 pid;
	bool named;
	__u64 ts_ns;
	__u64 prev_ts_ns;	/* the previous snapshot's, 0 for the first */
	__u64 live_bytes;
	__u64 live_blocks;
	long long d_bytes;	/* every site together, since the previous */
	long long d_blocks;
	__u64 lost_events;
	__u64 consumer_drops;
	struct growth_row *since_prev;	/* grew most since the previous */
	size_t nr_since_prev;
	struct growth_row *since_start;	/* most live bytes */
	size_t nr_since_start;
	__u64 *frames;		/* growth_view__keep(): the rows' frames */
};

/* How a site's old blocks behaved over the series. */
enum growth_pattern {
	GROWTH_GROWING = 0,	/* rose to the end, hardly ever fell: a leak */
	GROWTH_PLATEAU,		/* rose, then stayed flat (a cache that filled) */
	GROWTH_SAWTOOTH,	/* rose, then most went away at once, again */
	GROWTH_STEADY,		/* about as many went as came */
	GROWTH_TEMPORARY,	/* none ever lived through an interval */
	GROWTH_PATTERN__COUNT,
};

/* A site's verdict: every site of the series gets one. */
struct growth_verdict {
	__u32 stack_id;
	enum growth_pattern pattern;
	double confidence;	/* 0..1, GROWTH_GROWING only */
	double bytes_per_s;	/* least-squares slope of old bytes */
	double blocks_per_s;	/* and of old blocks */
	__u64 live_bytes;	/* in the last snapshot */
	__u64 live_blocks;
	__u64 old_bytes;
	__u64 old_blocks;
	__u32 snapshots;	/* of the series the verdict is from */
	__u32 rises;		/* steps where its old blocks rose */
	__u32 falls;		/* and fell */
};

/* The rule's name, as reports give it beside every verdict. */
#define GROWTH_RULE		"old_blocks_growth"

struct growth;

struct growth *growth__new(void);
void growth__free(struct growth *g);

/* Takes a snapshot of st now. 0 or -ENOMEM (no snapshot taken). */
int growth__take(struct growth *g, const struct store *st,
		 const struct growth_mark *m);

/* Snapshots taken, and the last one (NULL before the first). */
__u32 growth__count(const struct growth *g);
const struct growth_snap *growth__last(const struct growth *g);

/*
 * The lists of the last snapshot of st, top rows each (0: every site).
 * The rows are malloc'd (growth_view__fini frees them), their frames are
 * st's. 0 or -ENOMEM.
 */
int growth__view(const struct growth *g, const struct store *st, size_t top,
		 struct growth_view *v);
void growth_view__fini(struct growth_view *v);
/*
 * Copies the rows' frames into v, for a view shown after its store may
 * have closed (an image that ended compacts its frames). 0 or -ENOMEM.
 */
int growth_view__keep(struct growth_view *v);

/*
 * A verdict for each site with live blocks in the series, growing sites
 * first, by confidence then bytes per second. *out malloc'd. 0, or
 * -ENOMEM; none (0 of them) with fewer than GROWTH_MIN_SNAPS snapshots.
 */
int growth__verdicts(const struct growth *g, struct growth_verdict **out,
		     size_t *nr);
/*
 * The order of the verdicts: growing first, by confidence, then bytes per
 * second (then stack id). <0, 0, >0 as for qsort.
 */
int growth_verdict_cmp(const struct growth_verdict *a,
		       const struct growth_verdict *b);

/*
 * The snapshots of a process table (procs.h): one growth per image, as a
 * store is per image. A snapshot of the trace is one of every image still
 * running then; an image's series ends with it (an ended image's store
 * holds no block), so its verdicts are over its own life.
 */
struct growth_table {
	struct growth **g;	/* by image; NULL: never snapshotted */
	__u32 *last;		/* by image: the trace snapshot it was last in */
	size_t nr, cap, cap_last;
	__u32 taken;		/* snapshots of the trace */
};

/* Takes a snapshot of every running image of pt. 0 or -ENOMEM. */
int growth_table__take(struct growth_table *t, const struct procs *pt,
		       const struct growth_mark *m);
/* Image i's growth, NULL when it was in no snapshot (or t is NULL). */
const struct growth *growth_table__image(const struct growth_table *t,
					 size_t i);
/*
 * The views of the last snapshot of the trace, one per image in it, each
 * numbered as the trace's snapshot (growth__view(); *views malloc'd, each
 * to growth_view__fini()). 0 or -ENOMEM.
 */
int growth_table__views(const struct growth_table *t, const struct procs *pt,
			size_t top, struct growth_view **views, size_t *nr);
void growth_table__fini(struct growth_table *t);

/*
 * Moments every every_ns from a start, for snapshots taken from records
 * (report -i on a recording made without -i): a snapshot at a moment is
 * of the records up to it, as a live -i run takes one of the records
 * drained by then.
 */
struct growth_clock {
	__u64 next;		/* the next moment, CLOCK_MONOTONIC */
	__u64 every_ns;		/* 0: no moments */
};

void growth_clock__init(struct growth_clock *c, __u64 start_ns,
			__u64 every_ns);
/*
 * Whether a moment is due before ts_ns (a record's time, or when tracing
 * ended): then *at is that moment, and the clock moves past it.
 */
bool growth_clock__due(struct growth_clock *c, __u64 ts_ns, __u64 *at);

/* enum growth_pattern as reports name it ("plateau"). */
const char *growth_pattern_name(unsigned int p);

#endif /* MEMSCOPE_GROWTH_H */
