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
#include "scan.h"

struct heapscan;

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

/* Sites are the caller's numbers below 2^31 (the store's stack ids). */
#define HEAPSCAN_MAX_SITE	((1u << 31) - 1)

struct heapscan *heapscan__new(void);
void heapscan__free(struct heapscan *h);

/*
 * Clone candidates are blocks allocated within this long of each other
 * (to the ms): copies made together, not blocks that happen to hold the
 * same data hours apart.
 */
#define HEAPSCAN_CLONE_WINDOW_NS	1000000000ull

/* Another window than HEAPSCAN_CLONE_WINDOW_NS, before heapscan__run. */
void heapscan__clone_window(struct heapscan *h, __u64 window_ns);

/*
 * One live block, allocated age_ns before the scan, before heapscan__run.
 * -EINVAL for a site too large. Ages past 49 days count as 49 days.
 */
int heapscan__add(struct heapscan *h, __u64 addr, __u64 size, __u32 site,
		  __u64 age_ns);

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

/*
 * The results of a scan that ran, as a view into h (for a recording);
 * its verdicts are made here, one per address (the block class_of
 * answers for), in *verdicts, which the caller frees. 0 or -ENOMEM.
 */
int heapscan__result(const struct heapscan *h, struct heapscan_result *out,
		     struct heapscan_verdict **verdicts);
/*
 * A scan from its results (a recording's): class_of, the totals, the
 * cycles, links and clones answer as they did; nothing is read. The
 * result is copied. NULL with errno set: EINVAL for verdicts out of
 * order or a class, an edge kind or a site out of range.
 */
struct heapscan *heapscan__restore(const struct heapscan_result *res);

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
