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
#include "anon.h"
#include "attach.h"
#include "declared.h"
#include "frame.h"
#include "growth.h"
#include "heaproots.h"
#include "heapscan.h"
#include "mode.h"
#include "procs.h"
#include "rule.h"
#include "events.h"
#include "store.h"


struct report_count {
	__u64 count;
	__u64 bytes;
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
	__u32 family;		/* enum ms_family of the calls made there */
	__u32 nr_frames;
	__u32 proc;		/* the process image it is of: report.procs[] */
	struct frame *frames;	/* innermost first */
	/*
	 * Its blocks that the program declared (TRACK), as of the list:
	 * live at the end for leaks and sites, live at the peak for peak.
	 */
	struct declared_site declared;
	/*
	 * Leaks and sites (not peak), after a heap scan (report_reach): its
	 * blocks live at the end by memcheck's class (enum heapscan_class),
	 * inferred.
	 */
	struct report_count reach[HEAPSCAN_CLASS__COUNT];
};

/*
 * The heap scan (--reachability, heapscan.h): every number inferred by a
 * conservative scan of the target's memory, memcheck's definitions; the
 * pause captured.
 */
struct report_cycle_member {
	__u32 count;		/* blocks of the site in one cycle */
	__u64 bytes;		/* in every cycle of the group */
	__u32 flags;		/* MS_EVF_STACK_* of its stack */
	__u32 nr_frames;
	struct frame *frames;
};

/* Leaked cycles of the same sites in the same numbers. */
struct report_cycle {
	__u64 instances;
	__u64 blocks;
	__u64 bytes;
	struct report_cycle_member *members;
	__u32 nr_members;
};

/* Pointers of one kind from blocks of one site to blocks of another. */
struct report_link {
	enum heapscan_edge kind;
	__u64 count;
	__u32 nr_from;
	struct frame *from;
	__u32 nr_to;
	struct frame *to;
};

/* Blocks of one site and size with the same data: copies, maybe. */
struct report_clone {
	__u64 count;
	__u64 size;		/* of each */
	__u32 flags;		/* MS_EVF_STACK_* of its stack */
	__u32 nr_frames;
	struct frame *frames;
};

/* The most cycle groups, links and clone groups a report holds; the rest
 * are counted. */
#define REPORT_CYCLES_MAX	50
#define REPORT_LINKS_MAX	100
#define REPORT_CLONES_MAX	50

/* One heap scan of a store's live blocks, and how long its threads paused. */
struct report_scan {
	const struct heapscan *scan;
	struct heaproots_info pause;
};

struct report_reach {
	bool scanned;
	struct heaproots_info pause;	/* the threads stopped */
	struct heapscan_stats stats;	/* every live block scanned */
	__u64 unscanned;	/* live leak blocks the scan did not see */
	struct report_cycle *cycles;	/* by bytes desc */
	size_t nr_cycles;
	size_t cycles_total;	/* groups before REPORT_CYCLES_MAX */
	struct report_link *links;	/* by count desc */
	size_t nr_links;
	size_t links_total;
	struct report_clone *clones;	/* by bytes desc */
	size_t nr_clones;
	size_t clones_total;
};

/*
 * Captured anomalies (store.h): frees of one kind from one allocating and
 * one freeing call stack. An invalid free has no allocating stack; a free
 * the kernel could not walk has no freeing frames (free_flags say why).
 */
struct report_anomaly {
	enum store_anomaly_kind kind;
	__u32 alloc_family;	/* enum ms_family */
	__u32 free_family;
	bool other_allocator;	/* the block came from another allocator */
	__u32 proc;		/* the process image: report.procs[] */
	__u64 count;
	__u64 first_ns;		/* ns since trace start of the first */
	__u32 alloc_flags;	/* MS_EVF_STACK_*, MS_EVF_STOP_MASK */
	__u32 nr_alloc_frames;
	struct frame *alloc_frames;
	__u32 free_flags;
	__u32 nr_free_frames;
	struct frame *free_frames;
};

/*
 * Declared records, and what analysis inferred from them (docs/declared.md).
 * Every one says its source: declared as the program said it, inferred
 * with the rule and a confidence, bytes captured. Times are CLOCK_MONOTONIC
 * like the store's; exporters show them since the start.
 */

/* A task: declared ids, names and states; bytes captured. */
struct report_task {
	struct declared_task t;
	__u32 depth;		/* in the tree: 0 for a root */
	bool parent_known;	/* t.parent is a task of the list (a root may
				 * name a parent never seen) */
	__u64 lifetime_ns;	/* from creation (first sight) to completion
				 * (the end of the trace) */
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

/*
 * A site's growth over the snapshots (-i), inferred by the rule
 * GROWTH_RULE from its old blocks (growth.h); growing ones are the leak
 * suspects.
 */
struct report_growth_site {
	struct growth_verdict v;
	__u32 flags;		/* MS_EVF_STACK_* of its stack */
	__u32 proc;		/* the process image it is of: report.procs[] */
	__u32 nr_frames;
	struct frame *frames;
};

/* What one inference rule found (rule.h). */
struct report_findings {
	const struct rule *rule;
	__u64 opts[RULE_OPTS_MAX];	/* its options, as applied */
	void *items;		/* nr records of rule->size */
	size_t nr;
};

/*
 * Anonymous memory (anon.h), captured: the program's own mappings by call
 * site, and the allocators' arenas by object.
 */
struct report_anon_site {
	__u64 live_bytes;
	__u64 live_ranges;
	__u64 reserved_bytes;	/* PROT_NONE, not in live_bytes */
	__u64 peak_bytes;	/* live at the program's anonymous peak */
	__u64 calls;
	__u64 mapped_bytes;
	__u32 flags;		/* MS_EVF_STACK_* */
	__u32 nr_frames;
	struct frame *frames;	/* innermost first: frames[0] is the syscall */
};

/* One allocator object's arena: every probed function of it together. */
struct report_arena {
	const char *object;	/* path, NULL when it could not be resolved */
	__u64 live_bytes;
	__u64 reserved_bytes;	/* PROT_NONE, not in live_bytes */
	__u64 calls;
	__u64 mapped_bytes;
};

struct report_anon {
	bool traced;		/* false: --mode=alloc, or an older recording */
	struct anon_summary sum;
	/* by live bytes, then mapped bytes, desc; --top applies */
	struct report_anon_site *sites;
	size_t nr_sites;
	struct report_arena *arenas;	/* by mapped bytes desc */
	size_t nr_arenas;
};

/* What a report calls a set traced with no first process: its pid 0. */
#define REPORT_SET_NAME	"a set of processes (-a, --comm or --cgroup)"

struct report_target {
	int pid;		/* the launched or first -p process; 0: a set */
	const char *command;	/* NULL if attached with -p and unknown */
	enum trace_mode mode;
	__u64 start_ns;		/* CLOCK_MONOTONIC when tracing began */
	__u64 duration_ns;
	bool exited;		/* the target ended while traced */
	int exit_status;	/* wait status style: valid when exited */
	bool status_unknown;	/* exited, exit_status not known */
	bool anon_traced;	/* mmap/munmap/mremap/brk were traced */
	/* a launched command still running when tracing ended: */
	bool detached;		/* left running, detached */
	bool killed;		/* ended by --kill (exited too) */
};

/*
 * Which live blocks count as leaks: the leak lists, and every site's live
 * figures (JSON sites, HTML, pprof inuse, folded), count only the blocks
 * that pass; the totals still count every block. Zero fields: no bound.
 */
struct report_filter {
	__u64 older_ns;		/* allocated more than this before the end */
	__u64 min_size;		/* requested size at least this */
	__u64 max_size;		/* and at most this */
};

/*
 * Whether a live block counts as a leak when tracing (or its process)
 * ended at end_ts: the one test of the bounds, for reports and for the
 * images that end before the trace (procs__set_filter()).
 */
bool report_filter_pass(const struct report_filter *f,
			const struct store_block *blk, __u64 end_ts);

/* Whether any bound is set. */
static inline bool report_filter_on(const struct report_filter *f)
{
	return f->older_ns || f->min_size || f->max_size;
}

/* What the weight of a folded stack is (--folded-weight). */
enum report_weight {
	REPORT_WEIGHT_LEAKS,	/* live at the end (alloc mode: allocated) */
	REPORT_WEIGHT_PEAK,	/* live at the peak */
	REPORT_WEIGHT_ALLOCS,	/* allocated over the whole trace */
};

/*
 * One process image of the trace (store/procs.h) and its own model: its
 * summary, kernel counters, leaks, peak, sites, anomalies, declared and
 * anonymous memory. An image that ended (exec, exit) reports what was
 * live at its end as its leaks (the filter applied then, --older from
 * its end), and says so in r->ended.
 */
struct report_proc {
	struct procfacts info;
	const char *command;	/* its command line, NULL not known */
	__u32 image;		/* exec generation: 0 the forked process */
	__u32 end;		/* enum proc_end */
	__u64 first_ns;		/* CLOCK_MONOTONIC: its start, else its
				 * first record */
	__u64 end_ns;		/* its exec or exit; 0 running */
	int exit_code;		/* wait(2) status when end is PROC_EXITED */
	/*
	 * The target's last image, whose exit ended tracing (no exit record:
	 * its blocks stay live, as its leaks): exited as the target did,
	 * apart from the images that ended before; exit_unknown when its
	 * status was not seen.
	 */
	bool ended_trace;
	bool exit_unknown;
	bool have_info;		/* info beyond its pid is known */
	/*
	 * A fold (report_opts.fold): this many ended images of one program
	 * in one entry, 0 for an image of its own. info, command, image
	 * and first_ns are its first image's; end, end_ns and exit_code
	 * its last's; r their models merged (report_fold.c).
	 */
	__u32 folded;
	__u32 folded_failed;	/* of them, exited non-zero or by a signal */
	__u32 last_pid;		/* its last image's pid */
	struct report *r;	/* its model: the report itself when it is
				 * the only image */
};

struct report {
	struct report_target target;
	/* the leak filter applied, and the live blocks that passed it */
	struct report_filter filter;
	__u64 filter_count;
	__u64 filter_bytes;
	enum report_weight folded_weight;	/* report_opts' */
	struct store_summary summary;	/* from the event stream */
	struct ms_counters kernel;	/* exact, from the kernel */
	bool have_kernel;		/* false when replayed without them */
	__u64 consumer_drops;		/* records userspace could not apply */
	/* processes a traced set could not take (--max-procs, the bound) */
	__u64 procs_full;
	/*
	 * images that ran their allocator unprobed for a while (PROCINFO_LATE:
	 * joined a set by an exec or mapped an allocator not probed yet),
	 * and the longest such while
	 */
	__u64 procs_late;
	__u64 procs_foreign;	/* images not traced: not x86-64 programs */
	__u64 late_max_ns;
	__u64 max_procs;

	struct report_site *leaks;	/* live at end, by bytes desc */
	size_t nr_leaks;
	struct report_site *peak;	/* live at peak, by bytes desc */
	size_t nr_peak;
	/* every call stack, by bytes allocated desc; count/bytes = allocs */
	struct report_site *sites;
	size_t nr_sites;
	size_t top;			/* report_opts.top: 0 = all */
	/* captured anomalies, by kind then count desc */
	struct report_anomaly *anomalies;
	size_t nr_anomalies;

	/*
	 * live bytes over time, start_ns absolute: the image's (store__timeline),
	 * or of several, the running ones' together (procs__timeline)
	 */
	struct timeline_point *timeline;
	size_t nr_timeline;
	__u64 timeline_width_ns;

	struct attach_probe *probes;
	size_t nr_probes;

	struct report_anon anon;

	/*
	 * Snapshots taken (-i), and the verdict on every site of their
	 * series: the first nr_suspects are growing, the leak suspects.
	 */
	__u32 snapshots;
	struct report_growth_site *growth;
	size_t nr_growth;
	size_t nr_suspects;

	/* declared records (all zero without any) and what they gave */
	struct declared_stats declared;
	__u64 rules_end_ns;		/* the end the rules looked from */
	struct report_task *tasks;	/* tree pre-order, children by age */
	size_t nr_tasks;
	struct declared_track *tracked;	/* declared variables now */
	size_t nr_tracked;
	struct report_passport *passports;
	size_t nr_passports;
	struct report_violation *violations;	/* in time order */
	size_t nr_violations;
	struct report_shared *shared;
	size_t nr_shared;
	/* what the inference rules found, one entry per rule, in its order */
	struct report_findings *findings;
	size_t nr_findings;

	struct report_reach reach;

	/*
	 * The process images, in order of opening (at least one). With one,
	 * procs[0].r is this report. With more, this report's summary is
	 * over all of them (its peak the peak of their sum), its leaks,
	 * sites, anomalies and growth verdicts every image's merged (each
	 * names its proc; snapshots counts the trace's), and the peak list,
	 * timeline, declared and anonymous memory and the heap scan's reach
	 * (its leaks' classes are merged with them) are
	 * per image only.
	 */
	struct report_proc *procs;
	size_t nr_procs;
	size_t top_procs;		/* report_opts.top_procs */
	struct procs_summary all;	/* over every image */
	bool ended;		/* of an image that ended: live figures are
				 * live at its end */
	/*
	 * Of a fold of this many images (report_proc.folded), 0 otherwise:
	 * its figures are their sums, but summary.peak_* is the largest
	 * one image reached and the peak list ranks each site by what it
	 * held at each image's own peak, added up; no timeline. Of the
	 * trace: the images folded, and the entries they make.
	 */
	__u32 folded;
	size_t folded_images;
	size_t folded_entries;
	/*
	 * Of the trace: images it knows nothing of, counted in all.images
	 * but not listed: one a process's exec opened and ended at once, the
	 * process joining the set there (--comm, --cgroup), no record of it
	 */
	size_t unlisted_images;

	/* owned storage for strings copied into the model */
	void *arena;
	/*
	 * The frames' strings, interned: each once for a trace, whose
	 * images' reports share the trace's (-a's thousand /bin/true name
	 * the same functions, files and objects)
	 */
	struct tab_pool *strings;
	bool shared_strings;	/* strings is the trace's, not this one's */
};


struct report_opts {
	size_t top;			/* max sites per list, 0 = all */
	frame_resolve_fn resolve;	/* may be NULL: addresses only */
	void *resolve_ctx;
	/* the inference rules to run (NULL: none) and their options */
	const struct rule *const *rules;
	size_t nr_rules;
	/* every rule's options in turn, 0 for its default (NULL: all) */
	const __u64 *rule_opts;
	size_t nr_rule_opts;
	struct report_filter filter;	/* all zero: every live block */
	/* report__build(): the store's snapshots (-i), NULL: none */
	const struct growth *growth;
	/* report__build_procs(): the snapshots by image, NULL: none */
	const struct growth_table *growth_table;
	enum report_weight folded_weight;
	/*
	 * Heap scans (--reachability), nr_scans of them: report__build()
	 * takes scans[0] as the store's, report__build_procs() scans[i] as
	 * image i's. An image past nr_scans, or whose scan is NULL, has
	 * none.
	 */
	const struct report_scan *scans;
	size_t nr_scans;
	/*
	 * report__build_procs(): the resolver context of image i, from
	 * resolve_ctx (NULL: resolve_ctx for every image).
	 */
	void *(*image_ctx)(void *resolve_ctx, size_t i);
	size_t top_procs;		/* text: processes whose sites are
					 * shown, 0 = all */
	/*
	 * report__build_procs(): a program (its comm) with more
	 * than this many ended images has them in one entry (report_proc's
	 * folded), when they hold nothing of their own to show (declared
	 * records, a heap scan, growth verdicts, joined late or foreign);
	 * 0: never
	 */
	size_t fold;
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
/*
 * The model of a process table: one report per image, and over them the
 * report of the whole trace (struct report's procs). target, kernel and
 * probes are the trace's; each image's own target is made from its facts.
 */
struct report *report__build_procs(struct procs *pt,
				   const struct report_target *target,
				   const struct ms_counters *kernel,
				   const struct attach_probe *probes,
				   size_t nr_probes,
				   const struct report_opts *opts);
void report__free(struct report *r);

/* A CLOCK_MONOTONIC time as ns since tracing began, 0 if not after it. */
__u64 report__since_start(const struct report *r, __u64 ts_ns);

/* enum ms_family as every report names it ("new[]"); NULL past the end. */
const char *report_family_name(unsigned int family);
/* enum store_anomaly_kind as reports name it ("double_free"). */
const char *report_anomaly_name(unsigned int kind);

/* enum ms_stop as the reports name it ("no_info"); NULL past the end. */
const char *report_stop_name(unsigned int stop);

/*
 * What a stack that stopped early for stop (enum ms_stop) lacks, in words
 * ("the unwind table of the code there was not loaded yet"); NULL for
 * end, for depth (a cut stack says so by its frames' count) and beyond.
 */
const char *report_stop_why(unsigned int stop);
/*
 * The frame that roots such a stack in folded stacks and pprof
 * ("[ended-early-not_loaded]"), so that stacks stopped early share a root
 * instead of passing for roots of their own; NULL where report_stop_why()
 * is.
 */
const char *report_stop_marker(unsigned int stop);

/* Human-readable report. 0 or -errno. */
int report__write_text(const struct report *r, FILE *f);
/* JSON report (docs/report-schema.md), written whole or not at all. */
int report__write_json(const struct report *r, const char *path);
/* Self-contained HTML dashboard (viz/), whole or not at all. */
int report__write_html(const struct report *r, const char *path);
/* gzip-compressed profile.proto (pprof), whole or not at all. */
int report__write_pprof(const struct report *r, const char *path);
/*
 * Folded stacks, root first: "frame;frame;frame bytes" per line, weighed
 * by r->folded_weight.
 */
int report__write_folded(const struct report *r, const char *path);

#endif /* MEMSCOPE_REPORT_H */
