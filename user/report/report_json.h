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

/* The whole document (docs/report-schema.md) into f. 0 or -errno. */
int report__json_stream(const struct report *r, FILE *f, bool pretty);

/* One frame object, and "frames": [...] innermost first: one form for all. */
void report_json_frame(struct json *j, const struct frame *fr);
void report_json_frames(struct json *j, const struct frame *frames,
			__u32 nr);

/* The "declared" member (docs/declared.md). */
void report_json_declared(struct json *j, const struct report *r);

#endif /* MEMSCOPE_REPORT_JSON_H */
