/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The report model: what analysis concluded, ready to format. report__build
 * reads the store (and symbolizes through a callback); exporters only
 * format this model, they never look at the store.
 */
#ifndef MEMSCOPE_REPORT_H
#define MEMSCOPE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "attach.h"
#include "declared.h"
#include "frame.h"
#include "events.h"
#include "store.h"


/* A group of blocks with one call stack. */
struct report_site {
	__u64 count;		/* what the list ranks by: live now, at peak */
	__u64 bytes;
	/* every metric of the call stack, whichever list it is in */
	__u64 alloc_count;	/* allocation calls */
	__u64 alloc_bytes;
	__u64 live_count;	/* live at the end */
	__u64 live_bytes;
	__u64 peak_count;	/* live at the peak */
	__u64 peak_bytes;
	__u64 oldest_ns;	/* age origin: ns since trace start, leaks only */
	__u32 flags;		/* MS_EVF_STACK_* */
	__u32 nr_frames;
	struct frame *frames;	/* innermost first */
	/*
	 * Its blocks that the program declared (TRACK), as of the list:
	 * live at the end for leaks and sites, live at the peak for peak.
	 */
	struct declared_site declared;
};

/*
 * Declared records, and what analysis inferred from them (docs/declared.md).
 * Every one says its source: declared as the program said it, inferred
 * with the rule and a confidence, bytes captured. Times are CLOCK_MONOTONIC
 * like the store's; exporters show them since the start.
 */

/* The rules, as the inferred records name them. */
#define REPORT_RULE_COMPLETED_LIVE	"completed-with-live-blocks"
#define REPORT_RULE_NEVER_COMPLETED	"never-completed-idle"
#define REPORT_RULE_CLONE_STORM		"clone-storm"

/* Defaults of the rules' options (report_opts). */
#define REPORT_IDLE_THRESHOLD_NS	1000000000ull
#define REPORT_STORM_CLONES		16
#define REPORT_STORM_WINDOW_NS		100000000ull

/* The parameters the inferred records were made with. */
struct report_rules {
	__u64 idle_threshold_ns;
	__u64 storm_clones;
	__u64 storm_window_ns;
	__u64 end_ns;		/* the end of the trace the rules looked from */
};

/* A task: declared ids, names and states; bytes captured. */
struct report_task {
	struct declared_task t;
	__u32 depth;		/* in the tree: 0 for a root */
	bool parent_known;	/* t.parent is a task of the list (a root may
				 * name a parent never seen) */
	__u64 lifetime_ns;	/* from creation (first sight) to completion
				 * (the end of the trace) */
};

/* A task that may be a zombie: inferred, with rule and confidence. */
struct report_zombie {
	const char *rule;	/* REPORT_RULE_* */
	double confidence;	/* 0..1 */
	size_t task;		/* index in report.tasks */
	__u64 since_ns;		/* completion, or last activity */
	__u64 quiet_ns;		/* from since_ns to the end of the trace */
	/*
	 * Its blocks live at the end; for a completed task, those already
	 * live when it completed.
	 */
	__u64 count;
	__u64 bytes;
	/* the call stack most of those bytes come from */
	__u64 top_count;
	__u64 top_bytes;
	__u32 stack_id;		/* the store's; valid with top_count */
	__u32 nr_frames;
	struct frame *frames;
};

/* One passport operation, and where it happened (frame 0 of its stack). */
struct report_pp_event {
	struct declared_pp_event ev;
	struct frame at;	/* addr 0 when it had no stack */
};

struct report_passport {
	struct declared_passport p;	/* p.history: not in the model */
	struct report_pp_event *history;	/* p.nr_history of them */
};

/* A broken passport rule: declared operations, checked (not inferred). */
struct report_violation {
	struct declared_violation v;
	__u32 nr_frames;	/* the offending operation's stack */
	struct frame *frames;
};

/* A heap block reference-counted handles point at, and its clones. */
struct report_shared {
	struct declared_shared s;
	__u32 nr_frames;	/* the block's allocation stack */
	struct frame *frames;
};

/* More than storm_clones shares of one block within storm_window_ns. */
struct report_storm {
	const char *rule;	/* REPORT_RULE_CLONE_STORM */
	double confidence;
	size_t shared;		/* index in report.shared */
	__u64 clones;		/* shares in the densest window */
	__u64 start_ns;		/* its first and last share */
	__u64 end_ns;
	__u32 stack_id;		/* the store's: where most of its shares were
				 * made */
	__u32 nr_frames;
	struct frame *frames;
};


struct report_target {
	int pid;
	const char *command;	/* NULL if attached with -p and unknown */
	const char *mode;	/* "default" or "alloc" */
	__u64 start_ns;		/* CLOCK_MONOTONIC when tracing began */
	__u64 duration_ns;
	bool exited;		/* the target ended while traced */
	int exit_status;	/* wait status style: valid when exited */
};

struct report {
	struct report_target target;
	struct store_summary summary;	/* from the event stream */
	struct ms_counters kernel;	/* exact, from the kernel */
	bool have_kernel;		/* false when replayed without them */
	__u64 consumer_drops;		/* records userspace could not apply */

	struct report_site *leaks;	/* live at end, by bytes desc */
	size_t nr_leaks;
	struct report_site *peak;	/* live at peak, by bytes desc */
	size_t nr_peak;
	/* every call stack, by bytes allocated desc; count/bytes = allocs */
	struct report_site *sites;
	size_t nr_sites;
	size_t top;			/* report_opts.top: 0 = all */

	/* live bytes over time (store__timeline), start_ns absolute */
	struct store_point *timeline;
	size_t nr_timeline;
	__u64 timeline_width_ns;

	struct attach_probe *probes;
	size_t nr_probes;

	/* declared records (all zero without any) and what they gave */
	struct declared_stats declared;
	struct report_rules rules;
	struct report_task *tasks;	/* tree pre-order, children by age */
	size_t nr_tasks;
	struct report_zombie *zombies;	/* by confidence, then bytes */
	size_t nr_zombies;
	struct declared_track *tracked;	/* declared variables now */
	size_t nr_tracked;
	struct report_passport *passports;
	size_t nr_passports;
	struct report_violation *violations;	/* in time order */
	size_t nr_violations;
	struct report_shared *shared;
	size_t nr_shared;
	struct report_storm *storms;
	size_t nr_storms;

	/* owned storage for strings copied into the model */
	void *arena;
};


struct report_opts {
	size_t top;			/* max sites per list, 0 = all */
	frame_resolve_fn resolve;	/* may be NULL: addresses only */
	void *resolve_ctx;
	/* the rules' options; 0 takes REPORT_*'s default */
	__u64 idle_threshold_ns;	/* never-completed-idle */
	__u64 storm_clones;		/* clone-storm: more than this many */
	__u64 storm_window_ns;		/* ... shares within this window */
};

/*
 * Builds the model. target, kernel (may be NULL) and probes are copied.
 * NULL with errno set on failure.
 */
struct report *report__build(const struct store *st,
			     const struct report_target *target,
			     const struct ms_counters *kernel,
			     const struct attach_probe *probes, size_t nr_probes,
			     const struct report_opts *opts);
void report__free(struct report *r);

/* A CLOCK_MONOTONIC time as ns since tracing began, 0 if not after it. */
__u64 report__since_start(const struct report *r, __u64 ts_ns);

/* enum ms_stop as the reports name it ("no_info"); NULL past the end. */
const char *report_stop_name(unsigned int stop);

/* Human-readable report. 0 or -errno. */
int report__write_text(const struct report *r, FILE *f);
/* JSON report (docs/report-schema.md), written whole or not at all. */
int report__write_json(const struct report *r, const char *path);
/* Self-contained HTML dashboard (viz/), whole or not at all. */
int report__write_html(const struct report *r, const char *path);
/* gzip-compressed profile.proto (pprof), whole or not at all. */
int report__write_pprof(const struct report *r, const char *path);
/* Folded stacks, root first: "frame;frame;frame bytes" per line. */
int report__write_folded(const struct report *r, const char *path);

#endif /* MEMSCOPE_REPORT_H */
