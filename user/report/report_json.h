/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The JSON report written into a stream, for exporters that embed it (the
 * HTML dashboard) rather than write it to a file of its own.
 */
#ifndef MEMSCOPE_REPORT_JSON_H
#define MEMSCOPE_REPORT_JSON_H

#include <stdbool.h>
#include <stdio.h>
#include "report.h"

struct json;

/* Every JSON record says which kind of truth it is (docs/report-schema.md). */
#define SOURCE_CAPTURED		"captured"	/* observed by a probe */
#define SOURCE_DECLARED		"declared"	/* said by the program */
#define SOURCE_INFERRED		"inferred"	/* derived by a rule */

/* The whole document (docs/report-schema.md) into f. 0 or -errno. */
int report__json_stream(const struct report *r, FILE *f, bool pretty);

struct frame_table;

/*
 * One frame, and "frames": [...] (or another key) innermost first: one
 * form for all. Where the writer has a frame table (json__set_user), a
 * frame is its number in it, written at the end by report_json_frame_table;
 * else the frame whole, as in a snapshot's line.
 */
void report_json_frame(struct json *j, const struct frame *fr);
void report_json_frames(struct json *j, const struct frame *frames,
			__u32 nr);
void report_json_frame_list(struct json *j, const char *key,
			    const struct frame *frames, __u32 nr);
void report_json_frame_table(struct json *j, const struct frame_table *ft);

/* After a heap scan: a leak's or site's "reachability" member, and the
 * top-level "reachability", "cycles" and "graph" (report_json_reach.c). */
void report_json_site_reach(struct json *j, const struct report *r,
			    const struct report_site *s);
void report_json_reach(struct json *j, const struct report *r);

/* The "declared" member (docs/declared.md). */
void report_json_declared(struct json *j, const struct report *r);

#endif /* MEMSCOPE_REPORT_JSON_H */
