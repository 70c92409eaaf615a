/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What a heap scan (--reachability) found, in the types the scan fills
 * (analysis/heapscan), a recording keeps (store/recording) and the
 * reports read: memcheck's classes, the ownership graph's edge kinds, the
 * totals, the leaked cycles, the links by site pair, the clone candidates
 * and each block's verdict. Every figure here is inferred.
 */
#ifndef MEMSCOPE_SCAN_H
#define MEMSCOPE_SCAN_H

#include <stddef.h>
#include <linux/types.h>

enum heapscan_class {
	HEAPSCAN_DEFINITELY_LOST = 0,
	HEAPSCAN_INDIRECTLY_LOST,
	HEAPSCAN_POSSIBLY_LOST,
	HEAPSCAN_STILL_REACHABLE,
	HEAPSCAN_CLASS__COUNT,
};

/* The inference behind each edge of the ownership graph. */
enum heapscan_edge {
	HEAPSCAN_OWNER = 0,	/* the only start pointer to the block */
	HEAPSCAN_SLICE,		/* a pointer inside the block, not at its start */
	HEAPSCAN_CONTAINER,	/* one of many start pointers from a block to
				 * blocks of one site */
	HEAPSCAN_SHARED,	/* one of two or more blocks holding its start */
	HEAPSCAN_EDGE__COUNT,
};

struct heapscan_stats {
	__u64 blocks;
	__u64 bytes;
	__u64 count[HEAPSCAN_CLASS__COUNT];
	__u64 class_bytes[HEAPSCAN_CLASS__COUNT];
	__u64 unreadable;	/* blocks whose contents could not be read:
				 * classified by what points to them, their
				 * own pointers unknown */
	__u64 root_bytes;	/* roots scanned */
	__u64 root_ranges;	/* segments scanned as roots */
	__u64 arena_ranges;	/* anonymous mappings left out: they hold
				 * live blocks */
	__u64 unreadable_ranges;
	__u64 edges;		/* pointers between blocks */
	__u64 cycles;		/* leaked cycles, before grouping */
	__u64 clones;		/* blocks in clone groups */
	__u64 scan_ns;		/* reading and classifying */
	__u64 clone_window_ns;	/* clone groups span at most this */
};

/* A group of leaked cycles made of the same sites in the same numbers. */
struct heapscan_member {
	__u32 site;
	__u32 count;		/* blocks of the site in one cycle */
	__u64 bytes;		/* in all the group's cycles */
};

struct heapscan_cycle {
	__u64 instances;	/* cycles in the group */
	__u64 blocks;		/* in all of them */
	__u64 bytes;
	const struct heapscan_member *members;	/* by site */
	__u32 nr_members;
};

/* Edges aggregated by the sites at both ends and the kind. */
struct heapscan_link {
	__u32 from;		/* site of the block holding the pointer */
	__u32 to;		/* site of the block pointed to */
	enum heapscan_edge kind;
	__u64 count;
};

/*
 * Clone candidates: two or more blocks of one site and size whose data
 * (every word that is not a pointer to a block, with where the pointers
 * are) is the same, and not all zero, allocated within the clone window
 * of each other (heapscan.h).
 */
struct heapscan_clone {
	__u32 site;
	__u64 size;		/* of each block */
	__u64 count;		/* blocks alike */
};

/* One block's class, by its address. */
struct heapscan_verdict {
	__u64 addr;
	__u32 cls;		/* enum heapscan_class */
};

/*
 * A scan's results as a view: what a recording keeps of a scan and gives
 * back. The verdicts are sorted by address, each address once.
 */
struct heapscan_result {
	struct heapscan_stats stats;
	const struct heapscan_verdict *verdicts;
	size_t nr_verdicts;
	const struct heapscan_cycle *cycles;	/* by bytes desc */
	size_t nr_cycles;
	const struct heapscan_link *links;	/* by count desc */
	size_t nr_links;
	const struct heapscan_clone *clones;	/* by bytes desc */
	size_t nr_clones;
};

#endif /* MEMSCOPE_SCAN_H */
