/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * From a store to the reports: the text on stdout and the files the
 * options name, for a live trace and for the replay of a recording.
 */
#ifndef MEMSCOPE_EXPORT_H
#define MEMSCOPE_EXPORT_H

#include "cli.h"
#include "frame.h"
#include "procs.h"
#include "recording.h"

/* Fails (after saying why) before tracing if a report could not be written. */
int export_check(const struct opts *o);

/*
 * The one way from a process table to the reports. info and end are what
 * a recording's header and trailer hold; end is NULL for a recording cut
 * short, refused the records the store would not take. Image i's
 * addresses resolve through resolve with image_ctx(resolve_ctx, i). 0 or
 * -errno, every failure said.
 */
int export_reports(const struct procs *pt, const struct recording_info *info,
		   const struct recording_end *end, __u64 refused,
		   frame_resolve_fn resolve,
		   void *(*image_ctx)(void *ctx, size_t i), void *resolve_ctx,
		   const struct opts *o);

/*
 * The leak filter of the options (ctx: struct opts) for the images that
 * end before the trace does (procs__set_filter()).
 */
bool export_filter_pass(const struct store_block *b, __u64 end_ns, void *ctx);

/* `report FILE.msr`: replays o->recording into reports. The exit status. */
int export_replay(struct opts *o);

#endif /* MEMSCOPE_EXPORT_H */
