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
#include "events.h"
#include "store.h"

struct report_frame {
	__u64 addr;
	const char *function;	/* NULL: unknown */
	const char *file;	/* NULL: no debug info */
	int line;
	const char *object;	/* NULL: address in no known mapping */
	__u64 object_offset;	/* ELF address inside object, when object */
};

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
	struct report_frame *frames;	/* innermost first */
};

/* One attached probe, for -v and the JSON report. */
struct report_probe {
	const char *object;
	const char *symbol;
	__u64 offset;		/* file offset of the probe */
	__u64 func_offset;	/* bytes into the function */
	bool is_return;
	bool emulated;		/* the kernel emulates the probed instruction */
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

	struct report_probe *probes;
	size_t nr_probes;

	/* owned storage for strings copied into the model */
	void *arena;
};

/* Symbolization, injected so the model can be built without a process. */
typedef void (*report_resolve_fn)(void *ctx, __u64 addr,
				  struct report_frame *out);

struct report_opts {
	size_t top;			/* max sites per list, 0 = all */
	report_resolve_fn resolve;	/* may be NULL: addresses only */
	void *resolve_ctx;
};

/*
 * Builds the model. target, kernel (may be NULL) and probes are copied.
 * NULL with errno set on failure.
 */
struct report *report__build(const struct store *st,
			     const struct report_target *target,
			     const struct ms_counters *kernel,
			     const struct report_probe *probes, size_t nr_probes,
			     const struct report_opts *opts);
void report__free(struct report *r);

/* A CLOCK_MONOTONIC time as ns since tracing began, 0 if not after it. */
__u64 report__since_start(const struct report *r, __u64 ts_ns);

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
