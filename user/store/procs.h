/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The process table: one event store per process image of the traced
 * set. A record goes to the current image of its pid (e->pid, the tgid);
 * the lifecycle records (MS_EV_PROC_*) change the table:
 *
 *	PROC_START	a new process: pid's image 0 (a pid still open is
 *			closed first, as exited with no status: pid reuse;
 *			but an image its records opened, that began at or
 *			after the fork, is that child: records of several
 *			CPUs may come before the fork's own);
 *	PROC_EXEC	the current image ends (live at exec) and the next
 *			one, image + 1, begins;
 *	PROC_EXIT	the current image ends (live at exit); a later record
 *			of that pid opens a new process (pid reuse).
 *
 * A record of a pid with no open image opens one with what is known (its
 * pid; procs__set_info() tells the rest). An image that ends keeps its
 * figures and sites, its live blocks become "live at exit" (or exec) in
 * its sites, and its per-block memory is released (store__close()), so
 * the table does not grow with the blocks of processes that came and
 * went.
 */
#ifndef MEMSCOPE_PROCS_H
#define MEMSCOPE_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "events.h"
#include "procinfo.h"
#include "store.h"

struct procs;

enum proc_end {
	PROC_RUNNING = 0,	/* open when tracing ended */
	PROC_EXECED,		/* replaced by its next image */
	PROC_EXITED,		/* its last thread exited (a PROC_EXIT) */
	PROC_REUSED,		/* its pid began a new process with no exit
				 * seen: ended, status unknown */
};

/* One process image: a pid between two of fork, exec and exit. */
struct proc_image {
	struct procfacts info;	/* pid always; the rest as known */
	char *command;		/* its command line, NULL not known */
	__u32 image;		/* exec generation: 0 the forked process */
	__u32 kgen;		/* the kernel's generation of it (its start or
				 * exec record's seq), 0 when not seen */
	long parent;		/* image 0 of a fork seen: the parent's image
				 * it was forked from (whose mappings it has
				 * at its start), else -1 */
	__u32 end;		/* enum proc_end */
	__u64 first_ns;		/* ts_ns of its start record, else of its
				 * first record */
	__u64 end_ns;		/* ts_ns of its exec or exit record, 0 open */
	int exit_code;		/* wait(2) status: valid when PROC_EXITED */
	bool started;		/* opened by its PROC_START or PROC_EXEC */
	bool have_info;		/* procs__set_info() told its facts */
	bool have_kernel;	/* procs__set_kernel() gave its counters */
	struct ms_counters kernel;	/* the kernel's exact counters */
	struct store *store;	/* closed (store__closed()) once it ended */
};

/*
 * Over every image: the store summaries added up, and the peak of the
 * live bytes of all images together (exact: followed record by record).
 */
struct procs_summary {
	/*
	 * Of every image; live_*: ended images' blocks at their end too;
	 * peak_bytes, peak_ns: of the open images together
	 */
	struct store_summary sum;
	__u64 open_bytes;		/* live in the open images, now */
	__u64 open_blocks;
	__u64 images;			/* images opened */
	__u64 processes;		/* of them, image 0s: processes */
	__u64 exited;			/* images that ended by exit */
	__u64 execed;			/* ... by exec */
	__u64 lifecycle;		/* MS_EV_PROC_* records applied */
};

/*
 * The running images' live bytes together over time (timeline.h), the
 * curve whose top is procs_summary's peak; its points and their width.
 */
size_t procs__timeline(const struct procs *p,
		       const struct timeline_point **out, __u64 *width_ns);

/* Past this many images the table refuses new ones with -ENOSPC. */
#define PROCS_MAX_IMAGES	(1u << 20)

struct procs *procs__new(void);
void procs__free(struct procs *p);

/*
 * Apply one record to the image it belongs to. 0, -EINVAL for a malformed
 * record (nothing changes), -ENOSPC past PROCS_MAX_IMAGES, -ENOMEM.
 */
int procs__apply(struct procs *p, const struct ms_event *e);

/*
 * The facts of pid's current image (opened if none is); a later PROC_EXEC
 * keeps pid, ppid, ns_pid and flags for the next image. -EINVAL for pid 0.
 */
int procs__set_info(struct procs *p, const struct procinfo *info);

/*
 * Pid ran allocator code unprobed for late_ns from since_ns (the tracer
 * placed probes for what it had mapped by then, in the image of kernel
 * generation kgen, 0 not known: tracer_opts.on_late). Its current image
 * takes the window (PROCINFO_LATE in its facts, and its store judges no
 * mismatch made then; counted from the image's own start if it began
 * later), and so does each image of pid that records open later while
 * the window was open: the probes went in for the mappings the process
 * has now, while its start or exec record may still wait in the ring
 * (then a block new made unprobed in the exec'd program, freed by a
 * probed delete, was called mismatched). An image older than kgen takes
 * none: the probes were not for its mappings (a shell's fork, whose
 * exec was not drained yet, ran the shell's probed code and is not
 * late). A note goes when pid exits or an image of it begins after the
 * window. 1 when the current image's facts changed, 0, -ENOMEM.
 */
int procs__late(struct procs *p, __u32 pid, __u32 kgen, __u64 since_ns,
		__u64 late_ns);
/*
 * The same of pid's image of kernel generation kgen once it has ended:
 * the tracer examined its program only after the process was gone (a
 * short static command), and its records are all applied. 1 when its
 * facts changed (a recording's end has them), 0 when they had it,
 * -ENOENT when no ended image of pid has kgen among the last
 * PROCS_LATE_SEARCH: then procs__late() is the one to call.
 */
int procs__late_ended(struct procs *p, __u32 pid, __u32 kgen,
		      __u64 since_ns, __u64 late_ns);
#define PROCS_LATE_SEARCH	4096

/* Whether the last procs__apply() opened an image that took such a window. */
bool procs__took_late(const struct procs *p);

/*
 * A replay: image i's facts and kernel counters (either may be NULL) as
 * the recording holds them. -ENOENT for an image the records never made,
 * -EINVAL for facts of another pid, -ENOMEM.
 */
int procs__restore(struct procs *p, size_t i, const struct procinfo *info,
		   const struct ms_counters *kernel);

/* The kernel's exact counters of pid's current image; -ENOENT if none. */
int procs__set_kernel(struct procs *p, __u32 pid,
		      const struct ms_counters *c);

/*
 * Calls cb for each live block of pid's current image until it returns
 * non-zero (returned); 0 when pid has no open image.
 */
int procs__for_each_live(const struct procs *p, __u32 pid,
			 int (*cb)(const struct store_block *b, void *ctx),
			 void *ctx);

/*
 * Which blocks of an image that ends count as its leaks: pass(b, end_ns,
 * ctx) with the image's end (the leak filter, user/analysis); without one
 * every block does. Set it before the first record.
 */
typedef bool (*procs_pass_fn)(const struct store_block *b, __u64 end_ns,
			      void *ctx);
void procs__set_filter(struct procs *p, procs_pass_fn pass, void *ctx);

/* Each image's distinct stacks (store__set_max_stacks); 0: the default. */
void procs__set_max_stacks(struct procs *p, __u32 n);

/*
 * An ended image keeps its figures and sites (store__close()), ~20 KiB
 * an image of a busy host's short commands: a traced set that runs for
 * hours would grow without end. With a spill file (an unlinked one made
 * in dir, O_TMPFILE), all but the last keep ended images have their
 * sites and frames in it instead (store__spill()), read back when a
 * reader asks for them (the end's recording and report, one image at a
 * time: procs__release() after each). 0, -EBUSY when one is set,
 * -ENOMEM, -errno of the open (then everything stays in memory).
 */
int procs__set_spill(struct procs *p, const char *dir, size_t keep);
/* Image i read and done with: an ended one's sites leave memory again. */
void procs__release(struct procs *p, size_t i);

/* Image i's facts and command line as one procinfo; -ENOENT past them. */
int procs__info(const struct procs *p, size_t i, struct procinfo *out);

/* Images in order of opening: 0..procs__nr_images()-1, stable numbers. */
size_t procs__nr_images(const struct procs *p);
const struct proc_image *procs__image(const struct procs *p, size_t i);
/* The number of pid's open image, or -ENOENT. */
long procs__current(const struct procs *p, __u32 pid);
/* The image the last procs__apply() routed its record to, -1 none. */
long procs__last(const struct procs *p);

const struct procs_summary *procs__summary(const struct procs *p);

/* Bytes of heap the table and every image's store hold. */
size_t procs__mem_bytes(const struct procs *p);

#endif /* MEMSCOPE_PROCS_H */
