/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A timeline: live bytes and allocation calls over time, in at most
 * TIMELINE_POINTS buckets of equal width. When the trace outgrows them,
 * the width doubles and neighbours merge, so memory stays fixed and the
 * highest live value of every span (the peak among them) survives. Each
 * image's store keeps one of its own heap; the process table one of the
 * running images together, whose highest value is the trace's peak.
 */
#ifndef MEMSCOPE_TIMELINE_H
#define MEMSCOPE_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define TIMELINE_POINTS		1024

struct timeline_point {
	__u64 start_ns;		/* ts_ns where the bucket begins */
	__u64 max_bytes;	/* highest live bytes inside it */
	__u64 end_bytes;	/* live bytes after its last record */
	__u64 allocs;		/* allocation calls inside it */
	__u64 frees;		/* blocks released inside it */
};

struct timeline {
	struct timeline_point *points;	/* TIMELINE_POINTS; shrunk: nr */
	size_t nr;
	__u64 bucket_ns;	/* width of a bucket; 0 before the first */
	__u64 prev_allocs;	/* the counts at the last note */
	__u64 prev_frees;
};

/* 0, or -ENOMEM. */
int timeline_init(struct timeline *t);
void timeline_fini(struct timeline *t);

/*
 * What a record at ts did: live bytes now, the allocation and free counts
 * so far (the bucket counts what they rose by since the last note).
 * Buckets begin at origin, the first record's ts; a record older than the
 * last bucket joins it.
 */
void timeline_note(struct timeline *t, __u64 origin, __u64 ts, __u64 live,
		   __u64 allocs, __u64 frees);

/* Its points (start_ns absolute) and their width; how many. */
size_t timeline_points(const struct timeline *t,
		       const struct timeline_point **out, __u64 *width_ns);

/* No more notes: the room is cut to the points used. */
void timeline_shrink(struct timeline *t);

/* Bytes it holds: before timeline_shrink, its full room. */
size_t timeline_mem_bytes(const struct timeline *t, bool shrunk);

#endif /* MEMSCOPE_TIMELINE_H */
