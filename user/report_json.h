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

/* The whole document (docs/report-schema.md) into f. 0 or -errno. */
int report__json_stream(const struct report *r, FILE *f, bool pretty);

#endif /* MEMSCOPE_REPORT_JSON_H */
