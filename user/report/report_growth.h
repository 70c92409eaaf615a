/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A snapshot (-i) as the text printed every interval and as one line of
 * the --snapshots file (docs/report-schema.md, "Snapshots"); what grew
 * between two moments (diff, --from/--to) as text, JSON and HTML. Frames are
 * resolved as they are printed, through the resolver of the run (the
 * symbolizer live, the recorded symbols in a replay).
 */
#ifndef MEMSCOPE_REPORT_GROWTH_H
#define MEMSCOPE_REPORT_GROWTH_H

#include <stdio.h>
#include <linux/types.h>
#include "diff.h"
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

/*
 * What grew between two moments (diff.h), named from and to ("A.msr",
 * "2.000 s"): the rows that grew, top of them (0: all), as text, and
 * every row as JSON or an HTML page, each file whole or not at all.
 */
void report_diff_text(FILE *f, const struct diff *d, const char *from,
		      const char *to, size_t top);
int report_diff_json(const char *path, const struct diff *d,
		     const char *from, const char *to);
int report_diff_html(const char *path, const struct diff *d,
		     const char *from, const char *to);

#endif /* MEMSCOPE_REPORT_GROWTH_H */
