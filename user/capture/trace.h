/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The BPF side's lifecycle seen from userspace: open, configure, load and
 * attach the allocator programs, and drain the ring buffer into a callback.
 */
#ifndef MEMSCOPE_TRACE_H
#define MEMSCOPE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include "events.h"
#include "attach.h"
#include "procmaps.h"

struct tracer;

/* Called for every well-formed record; a non-zero return is counted. */
typedef int (*tracer_event_fn)(void *ctx, const struct ms_event *e);

struct tracer_opts {
	int pid;		/* one process: the fast path (not set) */
	/*
	 * A traced set instead (set): the processes in pids, every process
	 * (all), those whose comm is one of comms, those in the cgroup
	 * (cgroup_id, at cgroup_level below the root), and with follow the
	 * children and exec'd images of any of them; at most max_procs.
	 */
	bool set;
	const int *pids;
	size_t nr_pids;
	bool all;
	char *const *comms;
	size_t nr_comms;
	__u64 cgroup_id;
	__u32 cgroup_level;
	bool follow;
	__u32 max_procs;
	bool alloc_only;
	bool launch;		/* -- CMD: the launcher is the target's tracer */
	bool stacks_fp;		/* --stacks fp: frame pointers, no tables */
	bool jit_frame_ptrs;	/* --jit-frame-pointers */
	bool hold_exec;		/* --hold-exec: a set outside -- CMD */
	__u32 max_depth;	/* frames per stack, 0: MS_DEFAULT_DEPTH */
	__u32 unwind_rows;	/* most unwind rows, 0: the default */
	/* compiled tables kept across runs (--table-cache); NULL: none */
	struct table_cache *table_cache;
	__u32 max_live;		/* kernel live-table entries */
	tracer_event_fn on_event;
	/*
	 * A process of a set ran unprobed: allocator objects of its image
	 * were probed late_ns after since_ns (CLOCK_MONOTONIC: its start or
	 * exec, or the mapping), when its drained record or mapping change
	 * was handled; gen is the kernel's generation of the image whose
	 * mappings they are (0: not known), which may be an exec whose
	 * record the drain has not reached. Called after the records of
	 * that drain. May be NULL.
	 */
	void (*on_late)(void *ctx, __u32 pid, __u32 gen, __u64 since_ns,
			__u64 late_ns);
	void *ctx;
};

/*
 * --hold-exec: how many execs were held until their file was probed, and
 * the median and longest hold (from the exec to SIGCONT), in ns.
 */
size_t tracer__holds(const struct tracer *t, __u64 *median_ns,
		     __u64 *max_ns);

/* Opens and loads the BPF object. NULL with errno set. */
struct tracer *tracer__new(const struct tracer_opts *o);
void tracer__free(struct tracer *t);

/*
 * 0 or -errno; tracer__error() says what failed. A traced set attaches
 * to each of its processes found now (tracer__set_add() first), and to
 * the processes and images that join it later as the records say.
 */
int tracer__attach_process(struct tracer *t);
/*
 * Puts a running process in the traced set (-p, and those a scan of
 * /proc selected). 0, -ENOSPC past --max-procs, or -errno.
 */
int tracer__set_add(struct tracer *t, int pid);
/*
 * Blocks (and their bytes) the processes of a set left live at their
 * exit or exec, released from the kernel's live table since.
 */
__u64 tracer__released(const struct tracer *t, __u64 *bytes);
/* Processes that could not join the set: --max-procs was reached. */
__u64 tracer__procs_full(const struct tracer *t);
/*
 * The wait(2)-style status the first traced process (-p's first pid, the
 * launched command) ended with, as its last thread exited: 0, or -ENOENT
 * when it was not seen to end.
 */
int tracer__root_exit(const struct tracer *t, int *status);
/*
 * The kernel's exact counters of image gen of pid (0: its current one):
 * in a traced set its entry's (until the drain after its exit record),
 * else the global ones of the one process. 0, or -ENOENT (an image an
 * exec ended: its counters are in the exec's record, ms_event_ended()).
 */
int tracer__proc_counters(const struct tracer *t, __u32 pid, __u32 gen,
			  struct ms_counters *out);
/*
 * The kernel's generation of the image pid runs now (1 at its start, +1
 * at each exec; the record of its start or exec carries it), 0 when the
 * trace holds no such process, or it exited.
 */
__u32 tracer__image_gen(const struct tracer *t, __u32 pid);
int tracer__attach_command(struct tracer *t, const char *path);
const char *tracer__error(const struct tracer *t);

/*
 * Starts the trace once the start's probes are all in (they record
 * nothing before: enum ms_trace_state); a process that maps a new
 * allocator later is probed while the trace runs (on_late).
 */
void tracer__start(struct tracer *t);

/*
 * Ends the trace: no probe records from here, then every probe is
 * removed and no thread is held at a new mapping; the maps and counters
 * stay readable, as they were at the end.
 */
void tracer__detach(struct tracer *t);

/* An fd that becomes readable when the kernel forces a wakeup. */
int tracer__fd(const struct tracer *t);
/* Consumes everything in the ring now. Records consumed, or -errno. */
int tracer__drain(struct tracer *t);

/*
 * Times the target's executable mappings were read again (attach, and
 * each change the kernel reported): a caller that keeps its own view of
 * them reads them too while the new ones are surely there.
 */
__u64 tracer__reloads(const struct tracer *t);

/*
 * unwinder__image_vmas() of the trace's unwinder: the file mappings kept
 * for pid's image gen, for names once the process is gone (-ENOENT
 * without an unwinder: --stacks fp).
 */
int tracer__image_vmas(struct tracer *t, __u32 pid, __u32 gen,
		       int (*fn)(void *ctx, const struct procmap *m),
		       void *ctx);

void tracer__counters(const struct tracer *t, struct ms_counters *out);
/* Records that were malformed or that the callback refused. */
__u64 tracer__drops(const struct tracer *t);
const struct attach_probe *tracer__probes(const struct tracer *t, size_t *nr);
/* Probes skipped (not fatal): count and the first, or NULL. */
const char *tracer__warning(const struct tracer *t, unsigned int *nr);
/* The traced process's object left unprobed as the tool's own allocator. */
const char *tracer__own_skipped(const struct tracer *t);
/* -v: every probe on stderr. */
void tracer__print_probes(const struct tracer *t);

/*
 * -- CMD: thread tid of the target stopped with SIGSTOP. true when the
 * kernel side stopped it for a new executable mapping (or an exec): its
 * tables are loaded now, *tgid is its process, and the stop is the
 * tracer's to swallow.
 */
bool tracer__map_stop(struct tracer *t, int tid, int *tgid);
/* -v: the unwind tables, per object, and their kernel memory. */
void tracer__print_unwind(const struct tracer *t);
/* Objects left without an unwind table (rows full); 0 with --stacks fp. */
__u32 tracer__unwind_full(const struct tracer *t, __u32 *rows_cap);

#endif /* MEMSCOPE_TRACE_H */
