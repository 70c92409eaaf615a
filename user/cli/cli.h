/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What the command line asked for, shared by its three parts: the
 * options and dispatch (main.c), the trace run (run.c) and the reports
 * written from a store, live or replayed (export.c).
 */
#ifndef MEMSCOPE_CLI_H
#define MEMSCOPE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "events.h"
#include "mode.h"
#include "recording.h"

#ifndef MEMSCOPE_VERSION
#define MEMSCOPE_VERSION "0.0.0"
#endif

/* What a report can also be written as, beside the text on stdout. */
enum export {
	EXPORT_JSON,
	EXPORT_HTML,
	EXPORT_PPROF,
	EXPORT_FOLDED,
	EXPORT__COUNT,
};

/* -p PIDs one run takes, over all its -p options. */
#define MAX_PIDS	256
/* Processes a traced set holds by default (--max-procs). */
#define DEFAULT_MAX_PROCS	1024

struct opts {
	int pid;		/* the first -p */
	/* what is traced: -p lists, -a, --comm, --cgroup, -f (a set) */
	int pids[MAX_PIDS];
	size_t nr_pids;
	bool all;
	char *comms[MS_MAX_COMMS];
	size_t nr_comms;
	const char *cgroup;
	bool follow;		/* -f */
	bool no_follow;		/* --no-follow: -- CMD keeps one process */
	bool hold_exec;		/* --hold-exec: stop an exec of a new file
				 * until it is probed (a set, not -- CMD) */
	__u32 max_procs;
	char **cmd;
	double duration;
	const char *record;	/* -w */
	const char *recording;	/* report FILE.msr */
	const char *exports[EXPORT__COUNT];
	size_t top;
	bool top_given;
	size_t top_procs;	/* text: processes shown in full, 0 = all */
	size_t fold;		/* report_opts.fold: --fold */
	bool fold_given;	/* report: else the recording's */
	/* the inference rules' options in the table's order, 0: default */
	__u64 rule_opts[RECORDING_RULE_OPTS];
	enum trace_mode mode;
	bool quiet;
	bool verbose;
	__u32 max_live;
	bool stacks_fp;		/* --stacks fp */
	bool jit_frame_ptrs;	/* --jit-frame-pointers */
	__u32 max_depth;	/* 0: the tracer's default */
	__u32 max_stacks;	/* distinct stacks per image; 0: the store's
				 * default */
	__u32 unwind_rows;	/* 0: the tracer's default */
	const char *table_cache;	/* --table-cache: a directory or "off";
					 * NULL: $MEMSCOPE_TABLE_CACHE, else
					 * TABLE_CACHE_DIR */
	int ready_fd;		/* --ready-fd: -1 none */
	bool kill;		/* --kill: end a launched target still running */
	bool live;		/* --live: the terminal view while tracing */
	bool reachability;	/* --reachability: a heap scan at the end */
	__u64 clone_window_ns;	/* --clone-window: 0 the scan's default */
	/* which live blocks the leak lists show (report.h's report_filter) */
	__u64 older_ns;		/* 0: any age */
	__u64 min_size;		/* 0: any size */
	__u64 max_size;		/* 0: any size */
	/* snapshots (user/analysis/growth.h) */
	__u64 interval_ns;	/* -i: 0 none */
	const char *snapshots;	/* --snapshots FILE: one JSON line each */
	/*
	 * An output given as "-" writes to stdout (/dev/stdout): the text
	 * report and snapshots then go to stderr, so the stream stays clean.
	 */
	bool stdout_taken;
	__u32 snapshot;		/* report --snapshot N: 0 none */
	/* report --from T1 --to T2: what grew between, ns since the start */
	bool from_given, to_given;
	__u64 from_ns, to_ns;
	const char *diff[2];	/* diff A.msr B.msr */
	unsigned int folded_weight;	/* enum report_weight (report.h) */
};

/*
 * Every user-facing error is one line on stderr, "memscope-bpf: " and
 * this; the caller decides the exit status.
 */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* MEMSCOPE_CLI_H */
