/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * From a store to the reports: the text on stdout and the files the
 * options name, for a live trace and for the replay of a recording.
 */
#ifndef MEMSCOPE_EXPORT_H
#define MEMSCOPE_EXPORT_H

#include "cli.h"
#include "frame.h"
#include "growth.h"
#include "procs.h"
#include "reach.h"
#include "recording.h"

/* Fails (after saying why) before tracing if a report could not be written. */
int export_check(const struct opts *o);

/*
 * The one way from a process table to the reports. info and end are what
 * a recording's header and trailer hold; end is NULL for a recording cut
 * short, refused the records the store would not take; g the snapshots
 * taken (-i), by image. Image i's addresses resolve through resolve with
 * image_ctx(resolve_ctx, i). reach[i] is image i's heap scan
 * (--reachability), nr_reach of them: an image past them, or whose scan
 * is NULL, has none. 0 or -errno, every failure said.
 */
int export_reports(struct procs *pt, const struct growth_table *g,
		   const struct recording_info *info,
		   const struct recording_end *end, __u64 refused,
		   frame_resolve_fn resolve,
		   void *(*image_ctx)(void *ctx, size_t i), void *resolve_ctx,
		   const struct opts *o, const struct reach *reach,
		   size_t nr_reach);

/*
 * Where the text goes: stdout, or stderr when an output took stdout
 * (opts.stdout_taken).
 */
FILE *export_text(const struct opts *o);

/*
 * A snapshot (-i) shown: its text on text, and its JSON line into
 * jsonl unless NULL (--snapshots). 0 or -errno of the JSON line.
 */
int export_snapshot(const struct growth_view *v, __u64 start_ns,
		    FILE *text, FILE *jsonl, frame_resolve_fn resolve,
		    void *resolve_ctx);

/*
 * The procs table's spill file (procs__set_spill()) in $TMPDIR, /var/tmp
 * or /tmp, the last 64 ended images kept in memory (MEMSCOPE_SPILL_KEEP:
 * another number); none where no file can be made.
 */
void export_spill(struct procs *pt);
/*
 * The leak filter of the options (ctx: struct opts) for the images that
 * end before the trace does (procs__set_filter()).
 */
bool export_filter_pass(const struct store_block *b, __u64 end_ns, void *ctx);

/*
 * `report FILE.msr`: replays o->recording into reports, or into what grew
 * between --from and --to. The exit status.
 */
int export_replay(struct opts *o);

/* `diff A.msr B.msr`: what grew from the end of one to the other's. */
int export_diff(struct opts *o);

#endif /* MEMSCOPE_EXPORT_H */
