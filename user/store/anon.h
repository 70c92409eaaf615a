/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Anonymous memory: the mappings a traced process makes with mmap, mremap
 * and brk outside its allocators, kept as exact address ranges, apart
 * from the heap and never added into its totals. A mapping made inside a
 * probed allocator call is that allocator's arena, a figure of its own.
 *
 * Ranges are what the kernel maps: page-rounded, split by a partial
 * munmap, replaced by a MAP_FIXED mapping over them, moved or resized by
 * mremap (the result belongs to the mremap call, as a realloc's block
 * does), grown and shrunk by brk. A failed call never reaches here (the
 * kernel side drops it). The store interns each record's stack and hands
 * its id here; anon.c never includes store.h.
 *
 * Pages mapped or mprotect'ed PROT_NONE are address space set aside, not
 * memory the program can use (glibc reserves 64 MiB for each thread
 * arena and opens it by mprotect as the arena grows; thread stacks have
 * a guard page): they are counted as reserved, apart from the live
 * bytes and the peak, and move between the two with each mprotect.
 */
#ifndef MEMSCOPE_ANON_H
#define MEMSCOPE_ANON_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "events.h"

/* x86-64's page: what mmap, munmap, mremap and brk round lengths to. */
#define ANON_PAGE		4096ull
/*
 * Ranges kept at most (24 bytes each): past it a new range is not kept,
 * and its bytes are counted as untracked (anon_summary.full_*).
 */
#define ANON_MAX_RANGES		(1u << 20)
/* Distinct sites and arenas kept at most; past it a record is refused. */
#define ANON_MAX_SITES		(1u << 20)

/* Flags of mmap and mremap as the records carry them (uapi values). */
#define ANON_MAP_SHARED		0x01
#define ANON_MAP_PRIVATE	0x02
#define ANON_MAP_TYPE		0x0f
#define ANON_MAP_ANONYMOUS	0x20
#define ANON_MREMAP_DONTUNMAP	0x04
/* What PROT_NONE lacks: any of PROT_READ, PROT_WRITE, PROT_EXEC. */
#define ANON_PROT_ACCESS	0x07

struct anon;

struct anon_summary {
	__u64 events;		/* anonymous-memory records applied */
	/* the program's anonymous private memory (accessible pages) */
	__u64 live_bytes;
	__u64 live_ranges;	/* contiguous ranges of one site each */
	__u64 peak_bytes;
	__u64 peak_ns;		/* ts_ns of the peak, 0 none */
	__u64 calls;		/* calls that mapped some */
	__u64 mapped_bytes;	/* bytes those calls mapped */
	__u64 reserved_bytes;	/* its PROT_NONE pages, mapped now */
	/* the allocators' arenas, all of them */
	__u64 arena_live_bytes;
	__u64 arena_calls;
	__u64 arena_mapped_bytes;
	__u64 arena_reserved_bytes;
	/*
	 * Mappings whose record did not carry their protection (a recording
	 * of format 9 or older): counted as accessible.
	 */
	__u64 prot_unknown;
	/* ranges not kept (the table was full) and their bytes */
	__u64 full_ranges;
	__u64 full_bytes;
	/*
	 * Why the stacks of the program's mapping calls ended (enum ms_stop,
	 * from each record's flags): the kernel's stack_stops count only
	 * the allocation stacks.
	 */
	__u64 stack_stops[MS_STOP__COUNT];
};

/*
 * One site: a call stack of the program, or one allocator function's
 * arena (its stack is one frame, the probe's address one past it).
 */
struct anon_site {
	__u64 key;		/* stack_id, | 1 << 32 for an arena */
	__u32 stack_id;		/* the store's stack */
	__u16 fn;		/* arena: its allocator function (enum ms_fn) */
	bool arena;
	__u64 calls;
	__u64 mapped_bytes;
	__u64 live_bytes;
	__u64 live_ranges;
	__u64 reserved_bytes;	/* PROT_NONE, not in live_bytes */
	__u64 peak_bytes;	/* live at the program's peak (not arenas) */
	__u64 snap_epoch;	/* internal: the peak epoch peak_bytes is of */
};

/* max_ranges: the range table's limit, 0 for ANON_MAX_RANGES. */
struct anon *anon__new(size_t max_ranges);
void anon__free(struct anon *a);
/* An empty one: what a store that took no anonymous record shows. */
const struct anon *anon__none(void);

/*
 * Whether a record is an anonymous-memory one anon__apply() can take:
 * lengths that do not wrap, arena records with their one frame.
 */
bool anon__valid(const struct ms_event *e);

/*
 * Applies one anonymous-memory record, stack_id its interned stack (the
 * allocator's probe frame for an arena record). 0, or -EINVAL (not
 * anon__valid), -ENOSPC / -ENOMEM (a new site could not be kept), and
 * then nothing changed.
 */
int anon__apply(struct anon *a, const struct ms_event *e, __u32 stack_id);

const struct anon_summary *anon__summary(const struct anon *a);
/* Sites in order of first sight; peak_bytes is current when read here. */
size_t anon__nr_sites(const struct anon *a);
void anon__site(const struct anon *a, size_t i, struct anon_site *out);
size_t anon__mem_bytes(const struct anon *a);
/*
 * Its image ended: no record comes any more, and its tables shrink to
 * what they hold (a -a trace keeps every ended image's, 16 sites' room
 * where /bin/true used one).
 */
void anon__close(struct anon *a);

#endif /* MEMSCOPE_ANON_H */
