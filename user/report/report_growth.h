/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A snapshot (-i) as the text printed every interval and as one line of
 * the --snapshots file (docs/report-schema.md, "Snapshots"). Frames are
 * resolved as they are printed, through the resolver of the run (the
 * symbolizer live, the recorded symbols in a replay).
 */
#ifndef MEMSCOPE_REPORT_GROWTH_H
#define MEMSCOPE_REPORT_GROWTH_H

#include <stdio.h>
#include <linux/types.h>
#include "frame.h"
#include "growth.h"

/* Frames shown per row of the text lists. */
#define SNAPSHOT_TEXT_FRAMES	3

/* start_ns: when tracing began, that times are shown from. */
void report_snapshot_text(FILE *f, const struct growth_view *v,
			  __u64 start_ns, frame_resolve_fn resolve, void *ctx);
/* One JSON object and a newline. 0 or -EIO. */
int report_snapshot_json(FILE *f, const struct growth_view *v,
			 __u64 start_ns, frame_resolve_fn resolve, void *ctx);

#endif /* MEMSCOPE_REPORT_GROWTH_H */
