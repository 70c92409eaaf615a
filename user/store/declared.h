/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Declared state: what a program said about its memory through the
 * memscope USDT probes (include/memscope.h), joined to the blocks the
 * store captured. It is part of the store, the one owner of live state:
 * store.c feeds it every declared record and every block that begins or
 * ends, and the analyses read it through the views below without keeping
 * copies. The dependency runs one way, store -> declared: this header
 * knows nothing of the store, and declared.c never calls into it.
 *
 * Records are kept as declared, never trusted: a malformed one (a kind out
 * of range, a string without its NUL, a missing name, side or id) is
 * counted and changes nothing else. Every table has a limit; what does not
 * fit is counted, never silently lost.
 */
#ifndef MEMSCOPE_DECLARED_H
#define MEMSCOPE_DECLARED_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "events.h"

/* Records per table (tasks, tracked, handles, passports...). */
#define DECLARED_TABLE_MAX	(1u << 22)
/* Operations kept per passport, in order; later ones are only counted. */
#define DECLARED_HISTORY	16
/* Share times kept for clone-storm detection, over all blocks. */
#define DECLARED_SHARE_LOG_MAX	(1u << 20)
/* Distinct declared (name, type, kind) kept per call site. */
#define DECLARED_SITE_NAMES	3
/* The program's own side in passport operations (MEMSCOPE_HOST). */
#define DECLARED_HOST		"host"
/* An index that refers to nothing. */
#define DECLARED_NONE		((size_t)-1)

struct declared;

enum declared_task_state {
	DECLARED_TASK_IDLE,		/* no thread runs it */
	DECLARED_TASK_RUNNING,		/* entered and not left */
	DECLARED_TASK_COMPLETED,
};

/*
 * One task. Tasks are ids: a task that moves between threads stays one
 * record. An id created again after it completed starts a new record.
 */
struct declared_task {
	__u64 id;
	__u64 parent;		/* declared parent id, 0: a root */
	const char *name;	/* NULL: no TASK_CREATE named it */
	__u64 first_ns;		/* first record that named the id */
	__u64 created_ns;	/* valid when created */
	__u64 completed_ns;	/* valid when completed */
	__u64 last_active_ns;	/* last enter/leave/complete or allocation */
	__u64 allocs;		/* blocks allocated while it ran */
	__u64 alloc_bytes;
	__u64 live_count;	/* of those, live now */
	__u64 live_bytes;
	__u64 peak_bytes;	/* highest live_bytes over time */
	__u64 done_count;	/* live_count/bytes when it completed */
	__u64 done_bytes;
	__u32 active;		/* threads inside it: enters not left */
	bool created;
	bool completed;
};

static inline enum declared_task_state
declared_task_state(const struct declared_task *t)
{
	if (t->completed)
		return DECLARED_TASK_COMPLETED;
	return t->active ? DECLARED_TASK_RUNNING : DECLARED_TASK_IDLE;
}

/*
 * A declared variable (TRACK), live until UNTRACK or the free of its
 * block. It names the block that was live at ptr when it was declared,
 * identified by seq, so an address reused later never inherits the name.
 */
struct declared_track {
	__u64 ptr;
	__u64 size;		/* as declared */
	__u64 ts_ns;
	const char *name;
	const char *type;	/* "" when not given */
	__u8 kind;		/* enum ms_kind */
	bool has_block;		/* false: ptr was no live block (kept all the
				 * same, e.g. a stack owner) */
	__u32 stack_id;		/* the block's: valid with has_block */
	__u64 seq;
	__u64 block_size;	/* captured */
};

/* One heap block that reference-counted handles point at (SHARE). */
struct declared_shared {
	__u64 ptr;
	bool has_block;		/* ptr was a live block at the first share */
	bool ended;		/* that block was freed since */
	__u32 stack_id;		/* the block's: valid with has_block */
	__u64 seq;
	__u64 size;
	const char *name;	/* of its first share that gave one */
	const char *type;
	__u64 first_ns;
	__u64 shares;		/* SHARE records on it */
	__u64 handles;		/* handles live on it now */
	__u64 max_handles;
};

/* When and where one SHARE happened, for the clone-storm rule. */
struct declared_share_ev {
	__u64 ts_ns;
	size_t shared;		/* index of the declared_shared */
	__u32 stack_id;		/* the store's stack table */
};

enum declared_pp_op {
	DECLARED_PP_CREATE,
	DECLARED_PP_HANDOVER,
	DECLARED_PP_RECLAIM,
	DECLARED_PP_FREE,
};

struct declared_pp_event {
	__u64 ts_ns;
	__u64 task;		/* declared task running, 0 none */
	const char *side;	/* handover: to; free: by; else NULL */
	__u32 tid;
	__u32 stack_id;		/* the store's stack table */
	__u8 op;		/* enum declared_pp_op */
};

/*
 * A passport: a block on its way across a foreign boundary, an ordered
 * state machine created (custody "host") -> handover(to) -> custody `to`
 * -> reclaim -> "host" -> free(by). Keyed by ptr; a passport created at a
 * ptr whose passport was freed is a new generation.
 */
struct declared_passport {
	__u64 ptr;
	__u64 size;
	__u32 generation;	/* 0 for the first passport at ptr */
	const char *name;
	const char *custody;	/* who holds it: DECLARED_HOST or a foreign
				 * side; after the free, who freed it */
	bool freed;
	__u64 nr_handovers;
	struct declared_pp_event last_handover;	/* valid with nr_handovers */
	__u64 nr_events;	/* operations, of which the first
				 * DECLARED_HISTORY are kept */
	__u32 nr_history;
	struct declared_pp_event *history;
	__u64 nr_violations;
};

enum declared_violation_kind {
	/* at the end: handed over, neither reclaimed nor freed */
	DECLARED_PV_NEVER_FREED,
	DECLARED_PV_WRONG_SIDE,		/* freed by a side without custody */
	DECLARED_PV_HANDOVER_AFTER_FREE,
	DECLARED_PV_DOUBLE_HANDOVER,	/* while already in foreign custody */
	DECLARED_PV_UNKNOWN,		/* handover/reclaim/free, no passport */
	DECLARED_PV__COUNT,
};

/* A violation found as it happened (all but DECLARED_PV_NEVER_FREED). */
struct declared_violation {
	__u8 kind;		/* enum declared_violation_kind */
	__u64 ptr;
	size_t passport;	/* its index, DECLARED_NONE when unknown */
	const char *custody;	/* holder at that moment; NULL if unknown */
	struct declared_pp_event ev;	/* the offending operation */
};

/* How many blocks of a call site are declared, and as what. */
struct declared_name {
	const char *name;
	const char *type;
	__u8 kind;
	__u64 count;
};

struct declared_site {
	__u64 count;		/* declared blocks from the site */
	__u32 nr_names;
	struct declared_name names[DECLARED_SITE_NAMES];
};

struct declared_stats {
	__u64 records;		/* declared records applied */
	__u64 malformed;	/* counted, not used */
	__u64 tracks;		/* TRACK records used */
	__u64 tracks_no_block;	/* ... naming an address with no live block */
	__u64 tracks_freed;	/* variables ended by their block's end */
	__u64 untracks;
	__u64 untracks_unknown;	/* UNTRACK of an address with no record */
	__u64 shares;
	__u64 unshares;
	__u64 unshares_unknown;	/* UNSHARE of a handle not live */
	__u64 tasks_repeated;	/* TASK_CREATE of a task created and not
				 * completed, TASK_COMPLETE of a completed
				 * one: ignored */
	__u64 dropped;		/* a table was full: record not kept */
	__u64 share_log_dropped;	/* shares left out of storm detection */
};

/*
 * The names of the values above, as the reports spell them ("heap_owner",
 * "freed_by_wrong_side"); NULL for a value out of range.
 */
const char *declared_kind_name(unsigned int kind);
const char *declared_task_state_name(unsigned int state);
const char *declared_pp_op_name(unsigned int op);
const char *declared_violation_name(unsigned int kind);

/* For the store. */
struct declared *declared__new(void);
void declared__free(struct declared *d);
/* An empty one, shared, to read where nothing was declared. */
const struct declared *declared__none(void);

/*
 * What a declared record needs of the block live at its address: the
 * store's live block (store_block in store.h), handed down by the store.
 */
struct declared_block {
	__u64 seq;
	__u64 size;
	__u32 stack_id;		/* the store's stack table */
};

/* What the store knows that a declared record refers to. */
struct declared_ctx {
	const struct declared_block *block;	/* live at e->ptr, or NULL */
	__u32 stack_id;		/* e->frames in the store's stack table, for
				 * records that keep it (passports, shares) */
	__u64 epoch;		/* the store's peak epoch */
};

/*
 * Applies one declared record (type MS_EV_TRACK..MS_EV_PASSPORT_FREE).
 * 0 also for a malformed record (counted); -ENOMEM with nothing changed.
 */
int declared__apply(struct declared *d, const struct ms_event *e,
		    const struct declared_ctx *ctx);
/*
 * The task a block allocated while task id ran belongs to, as the value
 * of the block's task below (0: none), adding the task if it is new.
 * -ENOMEM.
 */
int declared__task_ref(struct declared *d, __u64 id, __u64 ts_ns,
		       __u32 *ref);
/*
 * A block became live / ended: task from declared__task_ref(), ts_ns when
 * it was allocated, seq its record's. Scalars, not a block: the store
 * calls these on every allocation and free.
 */
void declared__block_new(struct declared *d, __u32 task, __u64 size,
			 __u64 ts_ns);
void declared__block_end(struct declared *d, __u64 ptr, __u64 seq,
			 __u32 task, __u64 size, __u64 epoch);
size_t declared__mem_bytes(const struct declared *d);

/* Views, for the analyses. Pointers stay valid until the next change. */
const struct declared_stats *declared__stats(const struct declared *d);

size_t declared__nr_tasks(const struct declared *d);
/* In order of first sight; a block's task n is declared__task(d, n - 1). */
const struct declared_task *declared__task(const struct declared *d,
					   size_t i);
size_t declared__nr_tracked(const struct declared *d);
const struct declared_track *declared__tracked(const struct declared *d,
					       size_t i);
size_t declared__nr_shared(const struct declared *d);
const struct declared_shared *declared__shared(const struct declared *d,
					       size_t i);
/* Every SHARE kept for storm detection, in arrival order. */
size_t declared__share_log(const struct declared *d,
			   const struct declared_share_ev **out);
size_t declared__nr_passports(const struct declared *d);
const struct declared_passport *declared__passport(const struct declared *d,
						   size_t i);
size_t declared__nr_violations(const struct declared *d);
const struct declared_violation *
declared__violation(const struct declared *d, size_t i);

/*
 * The declared blocks of a call site now (live) and at the peak of the
 * given epoch (peak), as store__site() reports its counts.
 */
void declared__site(const struct declared *d, __u32 stack_id, __u64 epoch,
		    struct declared_site *live, struct declared_site *peak);
/* Adds from into into: counts add up, names join while there is room. */
void declared_site_merge(struct declared_site *into,
			 const struct declared_site *from);

#endif /* MEMSCOPE_DECLARED_H */
