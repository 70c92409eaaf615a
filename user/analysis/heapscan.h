/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The heap scan (--reachability): memcheck's leak classes and the
 * ownership graph of the live blocks of one process image, from their
 * contents and the roots. Pure logic: addresses, sizes and sites in, the
 * roots as copied buffers (registers, stacks) and as ranges read through
 * a callback (writable segments), block contents through the same
 * callback; classes, edges and leaked cycles out. Everything here is
 * inferred: a conservative scan takes any aligned word that falls inside
 * a block for a pointer to it.
 *
 * The classes, as memcheck defines them:
 *  - still reachable: a chain of start pointers leads to it from a root,
 *    every block on the chain still reachable;
 *  - possibly lost: some chain of pointers from a root reaches it, but
 *    every one has an interior pointer or passes a possibly lost block;
 *  - indirectly lost: no chain from a root, but a lost block points to it;
 *  - definitely lost: nothing points to it but blocks it reaches itself
 *    (one block of each leaked cycle, the lowest address first seen).
 */
#ifndef MEMSCOPE_HEAPSCAN_H
#define MEMSCOPE_HEAPSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct heapscan;

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

/*
 * Reads len bytes at addr of the target into buf: the bytes read (fewer
 * when the range ends in unmapped memory), or -errno.
 */
typedef long (*heapscan_read_fn)(void *ctx, __u64 addr, void *buf,
				 size_t len);

/* A root already copied: a stack from its sp, a thread's registers. */
struct heapscan_buf {
	__u64 addr;		/* where data was in the target: 0 registers */
	const void *data;
	size_t len;
};

/* A root read through the callback: a writable segment. */
struct heapscan_range {
	__u64 addr;
	__u64 len;
	/* an anonymous mapping: the allocator's arena when it holds a live
	 * block, and then not a root */
	bool anon;
};

struct heapscan_roots {
	const struct heapscan_buf *bufs;
	size_t nr_bufs;
	const struct heapscan_range *ranges;
	size_t nr_ranges;
	heapscan_read_fn read;
	void *ctx;
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
 * are) is the same, and not all zero.
 */
struct heapscan_clone {
	__u32 site;
	__u64 size;		/* of each block */
	__u64 count;		/* blocks alike */
};

/* Sites are the caller's numbers below 2^31 (the store's stack ids). */
#define HEAPSCAN_MAX_SITE	((1u << 31) - 1)

struct heapscan *heapscan__new(void);
void heapscan__free(struct heapscan *h);

/* One live block, before heapscan__run. -EINVAL for a site too large. */
int heapscan__add(struct heapscan *h, __u64 addr, __u64 size, __u32 site);

/*
 * Reads every block, scans it and the roots, classifies and builds the
 * graph and the cycles. Once. 0 or -errno (-ENOMEM); unreadable memory is
 * counted, not an error.
 */
int heapscan__run(struct heapscan *h, const struct heapscan_roots *roots);

const struct heapscan_stats *heapscan__stats(const struct heapscan *h);
/* The class of the block at addr, or -ENOENT when none starts there. */
int heapscan__class_of(const struct heapscan *h, __u64 addr);

/* Cycle groups, by bytes desc. */
size_t heapscan__nr_cycles(const struct heapscan *h);
const struct heapscan_cycle *heapscan__cycle(const struct heapscan *h,
					     size_t i);
/* Links, by count desc. */
size_t heapscan__nr_links(const struct heapscan *h);
const struct heapscan_link *heapscan__link(const struct heapscan *h,
					   size_t i);

/* Clone groups, by bytes (count x size) desc. */
size_t heapscan__nr_clones(const struct heapscan *h);
const struct heapscan_clone *heapscan__clone(const struct heapscan *h,
					     size_t i);
/* The rule clone candidates come from, and how sure it is. */
extern const char heapscan_clone_rule[];
extern const double heapscan_clone_confidence;

/* Bytes the scan holds now, for the bytes-per-block budget. */
size_t heapscan__mem_bytes(const struct heapscan *h);

/* Names as reports show them ("definitely_lost", "owner"). */
const char *heapscan_class_name(unsigned int cls);
const char *heapscan_edge_name(unsigned int kind);
/* The rule an edge kind comes from, and how sure it is. */
const char *heapscan_edge_rule(unsigned int kind);
double heapscan_edge_confidence(unsigned int kind);
/* How sure a class is: a conservative scan may see a pointer in data. */
double heapscan_class_confidence(unsigned int cls);

#endif /* MEMSCOPE_HEAPSCAN_H */
