/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Hand-made records for the unit tests, applied through store__apply() as
 * the ring buffer and recordings apply them. Two ways to use them:
 *
 *	e = ev_rec(MS_EV_ALLOC, ts);	build a record, set what the test
 *	e.flags = MS_EVF_STACK_ERR;	is about,
 *	ev_apply(s, &e);		and apply it;
 *
 *	ev_alloc(s, ptr, size, seq, frames, nr, ts);	or one call a record.
 *
 * A record the store refuses fails the test and names the record.
 */
#ifndef MEMSCOPE_TEST_BUILDERS_H
#define MEMSCOPE_TEST_BUILDERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "events.h"
#include "procs.h"
#include "store.h"

/* Who the next records come from, as the kernel tags them. */
static struct {
	__u32 pid;
	__u32 tid;
	__u64 task;	/* the declared task the thread runs, 0 none */
} ev_src = { .pid = 4242, .tid = 4242 };

/* A record of type at ts from ev_src, its allocator function by type. */
static inline struct ms_event ev_rec(__u16 type, __u64 ts)
{
	struct ms_event e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	if (type == MS_EV_ALLOC)
		e.fn = MS_FN_MALLOC;
	else if (type == MS_EV_FREE)
		e.fn = MS_FN_FREE;
	else if (type == MS_EV_REALLOC)
		e.fn = MS_FN_REALLOC;
	e.pid = ev_src.pid;
	e.tid = ev_src.tid;
	e.task = ev_src.task;
	e.ts_ns = ts;
	return e;
}

/* The record's stack: nr frames, innermost first. */
static inline void ev_stack(struct ms_event *e, const __u64 *frames,
			    __u32 nr)
{
	cr_assert_leq(nr, MS_MAX_STACK, "a test stack of %u frames", nr);
	e->nr_frames = nr;
	if (nr)
		memcpy(e->frames, frames, nr * sizeof(*frames));
}

/* A string field, cut to fit as the BPF side cuts it. */
#define ev_str(field, s)	snprintf(field, sizeof(field), "%s", s)

static inline void ev_apply(struct store *s, const struct ms_event *e)
{
	int err = store__apply(s, e);

	cr_assert_eq(err, 0,
		     "store__apply(type %u, ptr %#llx, at %llu) = %d, want 0",
		     e->type, (unsigned long long)e->ptr,
		     (unsigned long long)e->ts_ns, err);
}

/* Allocator records ------------------------------------------------------ */

static inline void ev_alloc(struct store *s, __u64 ptr, __u64 size,
			    __u64 seq, const __u64 *frames, __u32 nr,
			    __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_ALLOC, ts);

	e.ptr = ptr;
	e.size = size;
	e.seq = seq;
	ev_stack(&e, frames, nr);
	ev_apply(s, &e);
}

static inline void ev_free(struct store *s, __u64 ptr, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_FREE, ts);

	e.ptr = ptr;
	ev_apply(s, &e);
}

static inline void ev_realloc(struct store *s, __u64 old_ptr, __u64 old_seq,
			      __u64 ptr, __u64 size, __u64 seq,
			      const __u64 *frames, __u32 nr, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_REALLOC, ts);

	e.old_ptr = old_ptr;
	e.old_seq = old_seq;
	e.ptr = ptr;
	e.size = size;
	e.seq = seq;
	ev_stack(&e, frames, nr);
	ev_apply(s, &e);
}

/* Declared records (include/memscope.h) ---------------------------------- */

/* Enter and leave also move the thread's task, as the BPF side does. */
static inline void ev_task(struct store *s, __u16 type, __u64 id, __u64 ts)
{
	struct ms_event e = ev_rec(type, ts);

	e.task = id;
	ev_apply(s, &e);
	if (type == MS_EV_TASK_ENTER)
		ev_src.task = id;
	else if (type == MS_EV_TASK_LEAVE)
		ev_src.task = 0;
}

static inline void ev_task_create(struct store *s, __u64 id, __u64 parent,
				  const char *name, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_TASK_CREATE, ts);

	e.task = id;
	e.aux = parent;
	ev_str(e.name, name);
	ev_apply(s, &e);
}

static inline void ev_track(struct store *s, __u64 ptr, __u64 size,
			    __u64 kind, const char *name, const char *type,
			    __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_TRACK, ts);

	e.ptr = ptr;
	e.size = size;
	e.aux = kind;
	ev_str(e.name, name);
	ev_str(e.type_name, type);
	ev_apply(s, &e);
}

static inline void ev_untrack(struct store *s, __u64 ptr, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_UNTRACK, ts);

	e.ptr = ptr;
	ev_apply(s, &e);
}

/* Handle handle now shares the heap block at heap, from frames. */
static inline void ev_share(struct store *s, __u64 handle, __u64 heap,
			    const char *name, const char *type,
			    const __u64 *frames, __u32 nr, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_SHARE, ts);

	e.old_ptr = handle;
	e.ptr = heap;
	ev_str(e.name, name);
	ev_str(e.type_name, type);
	ev_stack(&e, frames, nr);
	ev_apply(s, &e);
}

static inline void ev_unshare(struct store *s, __u64 handle, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_UNSHARE, ts);

	e.old_ptr = handle;
	ev_apply(s, &e);
}

/* A passport operation; side: who it goes to or who frees, else NULL. */
static inline void ev_passport(struct store *s, __u16 type, __u64 ptr,
			       __u64 size, const char *side,
			       const __u64 *frames, __u32 nr, __u64 ts)
{
	struct ms_event e = ev_rec(type, ts);

	e.ptr = ptr;
	e.size = size;
	if (side)
		ev_str(e.name, side);
	ev_stack(&e, frames, nr);
	ev_apply(s, &e);
}

/* Anonymous-memory records (anon.h) ------------------------------------- */

/*
 * The frames of an anonymous-memory record: the program's stack, or with
 * alloc_pc set, an arena record of malloc's probe at alloc_pc.
 */
static inline void ev_anon_by(struct ms_event *e, __u64 alloc_pc,
			      const __u64 *frames, __u32 nr)
{
	if (alloc_pc) {
		e->flags = MS_EVF_ARENA;
		e->fn = MS_FN_MALLOC;
		ev_stack(e, &alloc_pc, 1);
	} else {
		ev_stack(e, frames, nr);
	}
}

#define EV_PROT_NONE	0
#define EV_PROT_RW	3	/* PROT_READ | PROT_WRITE */
/* A record of format 9 or older: no protection carried. */
#define EV_PROT_UNSAID	(-1)

/* mmap(.., len, prot, flags, ..) returned addr. */
static inline void ev_mmap_prot(struct store *s, __u64 addr, __u64 len,
				__u64 flags, int prot, __u64 alloc_pc,
				const __u64 *frames, __u32 nr, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_MMAP, ts);

	e.ptr = addr;
	e.size = len;
	e.aux = flags;
	if (prot != EV_PROT_UNSAID)
		e.aux |= (__u64)prot << MS_MMAP_PROT_SHIFT |
			 MS_MMAP_PROT_KNOWN;
	ev_anon_by(&e, alloc_pc, frames, nr);
	ev_apply(s, &e);
}

/* The same, readable and writable, as most mappings are. */
static inline void ev_mmap(struct store *s, __u64 addr, __u64 len,
			   __u64 flags, __u64 alloc_pc, const __u64 *frames,
			   __u32 nr, __u64 ts)
{
	ev_mmap_prot(s, addr, len, flags, EV_PROT_RW, alloc_pc, frames, nr,
		     ts);
}

static inline void ev_mprotect(struct store *s, __u64 addr, __u64 len,
			       int prot, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_MPROTECT, ts);

	e.ptr = addr;
	e.size = len;
	e.aux = prot;
	ev_apply(s, &e);
}

static inline void ev_munmap(struct store *s, __u64 addr, __u64 len,
			     __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_MUNMAP, ts);

	e.ptr = addr;
	e.size = len;
	ev_apply(s, &e);
}

static inline void ev_mremap(struct store *s, __u64 old, __u64 old_len,
			     __u64 addr, __u64 len, __u64 flags,
			     __u64 alloc_pc, const __u64 *frames, __u32 nr,
			     __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_MREMAP, ts);

	e.old_ptr = old;
	e.aux = old_len;
	e.ptr = addr;
	e.size = len;
	e.seq = flags;
	ev_anon_by(&e, alloc_pc, frames, nr);
	ev_apply(s, &e);
}

static inline void ev_brk(struct store *s, __u64 old, __u64 brk,
			  __u64 alloc_pc, const __u64 *frames, __u32 nr,
			  __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_BRK, ts);

	e.old_ptr = old;
	e.ptr = brk;
	ev_anon_by(&e, alloc_pc, frames, nr);
	ev_apply(s, &e);
}

/* Process lifecycle records --------------------------------------------- */

/*
 * A lifecycle record of pid (aux: the parent of a PROC_START, the status
 * of a PROC_EXIT; name, file: comm and the file an exec ran, or NULL).
 */
static inline struct ms_event ev_proc(__u16 type, __u32 pid, __u64 aux,
				      const char *name, const char *file,
				      __u64 ts)
{
	struct ms_event e = ev_rec(type, ts);

	e.pid = pid;
	e.tid = pid;
	e.aux = aux;
	if (name)
		ev_str(e.name, name);
	if (file)
		ev_str(e.type_name, file);
	return e;
}

/* e applied to the process table pt: one it refuses fails the test. */
static inline void ev_procs_apply(struct procs *pt, struct ms_event e)
{
	cr_assert_eq(procs__apply(pt, &e), 0, "record type %u of pid %u",
		     e.type, e.pid);
}

/* pid's malloc of size at ptr, from the one-frame stack pc, to pt. */
static inline void ev_procs_alloc(struct procs *pt, __u32 pid, __u64 ptr,
				  __u64 size, __u64 pc, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_ALLOC, ts);

	e.pid = pid;
	e.tid = pid;
	e.ptr = ptr;
	e.size = size;
	ev_stack(&e, &pc, 1);
	ev_procs_apply(pt, e);
}

#endif /* MEMSCOPE_TEST_BUILDERS_H */
