/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What a trace observes (--mode). Every stage passes this value; its name
 * appears only on the command line, in a recording's header and in the
 * reports.
 */
#ifndef MEMSCOPE_MODE_H
#define MEMSCOPE_MODE_H

enum trace_mode {
	TRACE_MODE_DEFAULT,	/* leaks and peak: entry, return, free */
	TRACE_MODE_ALLOC,	/* allocation profile only: entry probes */
	TRACE_MODE__COUNT,
};

/* "default", "alloc". */
const char *trace_mode_name(enum trace_mode mode);
/* 0, or -EINVAL when name is no mode. */
int trace_mode_parse(const char *name, enum trace_mode *mode);

#endif /* MEMSCOPE_MODE_H */
