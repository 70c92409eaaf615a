/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The event store: the only owner of live state. It applies ms_event
 * records (from the ring buffer or a recording) and keeps the live blocks,
 * one interned record per distinct call stack with its aggregates, the
 * exact peak with what was live at it, grouped by stack, and what the
 * program declared about its memory (declared.h), joined to the blocks.
 */
#ifndef MEMSCOPE_STORE_H
#define MEMSCOPE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>
#include <linux/types.h>
#include "events.h"
#include "timeline.h"

struct store;
struct declared;
struct declared_site;
struct anon;

struct store_summary {
	__u64 events;		/* records applied */
	__u64 allocs;		/* blocks that became live (realloc moves count);
				 * --mode=alloc: allocation calls */
	__u64 frees;		/* known blocks released */
	__u64 alloc_bytes;
	__u64 free_bytes;
	__u64 live_allocs;
	__u64 live_bytes;
	__u64 peak_bytes;
	__u64 peak_ns;		/* ts_ns (CLOCK_MONOTONIC) of the peak, 0 none */
	__u64 failed_allocs;	/* allocator returned NULL */
	__u64 unknown_frees;	/* free/realloc of an address not live here */
	__u64 replaced;		/* alloc at a live address: old one dropped */
	__u64 first_ns;		/* ts_ns of the first/last record applied */
	__u64 last_ns;
	__u64 anomalies;	/* frees found double, invalid or mismatched */
	__u64 unwalked;		/* suspect frees the kernel sent without their
				 * stack (its walk budget spent) */
	__u64 allocator_frees;	/* suspect frees the allocator made from its
				 * own object (MS_EVF_FREE_INTERNAL): not
				 * judged */
	__u64 forked_frees;	/* unknown frees of a forked image, not the
				 * allocator's own: of blocks its parent made
				 * before the fork (its heap is a copy) */
	__u64 late_frees;	/* frees of another family's block, the block
				 * or the free made while the image's
				 * allocator probes were not all in
				 * (store__set_late()): not judged */
	__u64 graves_evicted;	/* freed blocks forgotten (STORE_GRAVES): from
				 * the first, a free of an address not live
				 * may be double, so none is called invalid */
	__u64 stacks_cut;	/* records whose new stack found the table of
				 * stacks full: cut to its innermost frame
				 * (store__set_max_stacks) */
};

/* One distinct call stack and what was allocated from it. */
struct store_site {
	const __u64 *frames;	/* innermost first */
	__u32 nr_frames;
	__u32 flags;		/* MS_EVF_STACK_* seen on this stack */
	__u32 family;		/* enum ms_family: a site is a stack and the
				 * family of the call made there */
	__u64 allocs;		/* all allocations from here */
	__u64 alloc_bytes;
	__u64 live_count;	/* live now */
	__u64 live_bytes;
	__u64 peak_count;	/* live at the peak */
	__u64 peak_bytes;
	/* a closed store: its live blocks the close's filter passed */
	__u64 end_count;
	__u64 end_bytes;
	__u64 end_oldest;	/* ts_ns of the oldest of them */
};

struct store_block {
	__u64 ptr;
	__u64 size;
	__u64 seq;
	__u64 ts_ns;		/* when it was allocated */
	__u32 stack_id;
	__u32 tid;
	__u32 task;		/* declared task that allocated it: record
				 * declared__task(task - 1); 0 none */
	__u32 tag;		/* MS_TAG_* of the call that made it */
};

/*
 * Frees the kernel sent as suspect (MS_EVF_FREE_CHECK), classified here:
 * a free of an address whose last block was freed already and not
 * allocated again (double), of an address never allocated in a trace
 * that began with the process (invalid: attached with -p it is only an
 * unknown free), or of a block of another family or allocator
 * (mismatched, ms_free_matches()). Grouped by kind, allocating stack and
 * freeing stack.
 */
enum store_anomaly_kind {
	STORE_DOUBLE_FREE = 0,
	STORE_INVALID_FREE,
	STORE_MISMATCHED_FREE,
	STORE_ANOMALY__COUNT,
};

/* An anomaly's alloc_stack when nothing was allocated there. */
#define STORE_NO_STACK		UINT32_MAX
/*
 * Freed blocks remembered, the last ones, to tell a double free from an
 * invalid one: a fixed ring, so a long trace of ever new addresses keeps
 * the store's memory flat (~1.5 MiB); evictions are counted.
 */
#define STORE_GRAVES		(1ul << 16)

struct store_anomaly {
	__u64 key;		/* kind, stacks: the group */
	__u32 kind;		/* enum store_anomaly_kind */
	__u32 alloc_stack;	/* store__site() id, or STORE_NO_STACK */
	__u32 free_stack;	/* store__site() id; no frames when the kernel
				 * could not walk it (flags say why) */
	__u32 alloc_tag;	/* MS_TAG_* of the allocating call, 0 none */
	__u32 free_tag;		/* MS_TAG_* of the freeing call */
	__u32 pad;
	__u64 count;
	__u64 first_ns;		/* ts_ns of the first free of the group */
};

struct store *store__new(void);
void store__free(struct store *s);

/*
 * Apply one record; -EINVAL for a malformed one (nothing changes). A
 * declared record whose contents are unusable (a kind out of range, an
 * empty name) is well-formed: it is counted in the declared stats.
 */
int store__apply(struct store *s, const struct ms_event *e);

/*
 * The image ran from from_ns to end_ns (CLOCK_MONOTONIC) with some of its
 * allocator probes not in yet (it joined late): a block made then may
 * carry the family of the layer under its own (new's malloc, with new
 * unprobed), a free made then the family of the layer under the one that
 * was called. A mismatch with either end in that span is not judged but
 * counted (late_frees). The last span set holds.
 */
void store__set_late(struct store *s, __u64 from_ns, __u64 end_ns);

/*
 * The image began at a fork, its heap a copy of its parent's: a free of
 * an address it never allocated may be of a block the parent made before
 * the fork (a shell's subshell, a server's worker), so it is an unknown
 * free, never an invalid one, even in a trace from the start.
 */
void store__set_forked(struct store *s);

/*
 * At most n distinct stacks (STORE_DEFAULT_STACKS unless set), so a
 * program that makes new ones without end (a random recursion) keeps the
 * tool's memory bounded: past n, a record with a stack not seen before
 * counts at that stack cut to its innermost frame, a site flagged
 * MS_EVF_STACK_FULL (there are only as many as call sites of the code),
 * and in stacks_cut.
 */
#define STORE_DEFAULT_STACKS	131072
void store__set_max_stacks(struct store *s, __u32 n);

/* Whether store__apply() would take the record's form (not -EINVAL). */
bool store__valid(const struct ms_event *e);

const struct store_summary *store__summary(const struct store *s);

/* Stacks are numbered 0..store__nr_stacks()-1 in order of first sight. */
__u32 store__nr_stacks(const struct store *s);
int store__site(const struct store *s, __u32 stack_id, struct store_site *out);

/* The anomaly groups, in order of first sight. */
size_t store__nr_anomalies(const struct store *s);
const struct store_anomaly *store__anomaly(const struct store *s, size_t i);

/* Calls cb for each live block until it returns non-zero (returned). */
int store__for_each_live(const struct store *s,
			 int (*cb)(const struct store_block *b, void *ctx),
			 void *ctx);

/* The used buckets, in time order, and the width of each. */
size_t store__timeline(const struct store *s,
		       const struct timeline_point **out,
		       __u64 *width_ns);

/* The declared state, joined to the blocks (declared.h). */
const struct declared *store__declared(const struct store *s);
/* Anonymous memory and the allocators' arenas (anon.h). */
const struct anon *store__anon(const struct store *s);
/* The declared blocks of a stack now and at the peak (store__site()). */
void store__site_declared(const struct store *s, __u32 stack_id,
			  struct declared_site *live,
			  struct declared_site *peak);

/*
 * The image the store follows ended (its exit or exec): its live blocks'
 * memory is released and it takes no more records (-EINVAL). Summary and
 * sites keep their live figures as the image's live at its end, and each
 * site counts the blocks pass (NULL: every one) lets through, the leak
 * filter's view of them (store_site.end_*). store__for_each_live() then
 * calls nothing: a report takes a closed store's leaks from its sites.
 */
void store__close(struct store *s,
		  bool (*pass)(const struct store_block *b, void *ctx),
		  void *ctx);
bool store__closed(const struct store *s);

/*
 * A closed store's sites and their frames leave memory for fd, a file of
 * the caller's that stays open while the store lives: written at *off
 * (which moves past them; zlib-compressed) the first time, only dropped from memory after
 * that, as they never change. store__site() reads them back when asked,
 * and they stay in memory until the next store__spill(); its frames are
 * valid until then. A traced set's ended images are many, and a report
 * reads each once (procs.h). 0, -EINVAL for a store not closed (or whose
 * close was short of memory), -errno of the write (they stay in memory).
 */
int store__spill(struct store *s, int fd, off_t *off);

/* Bytes of heap the store itself holds, for the bytes-per-block budget. */
size_t store__mem_bytes(const struct store *s);

/*
 * A site's flags after one more record of its stack: the stack flags
 * accumulate, and the stop reason is the first other than END seen for
 * it (reasons are values, not bits; a stack ends one way or another).
 */
static inline __u32 store_site_flags(__u32 site, __u32 ev)
{
	site |= ev & (MS_EVF_STACK_TRUNC | MS_EVF_STACK_ERR |
		      MS_EVF_STACK_FULL);
	if (!(site & MS_EVF_STOP_MASK))
		site |= ev & MS_EVF_STOP_MASK;
	return site;
}

#endif /* MEMSCOPE_STORE_H */
