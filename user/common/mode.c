/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
#include <errno.h>
#include <string.h>
#include "mode.h"

static const char *const mode_names[TRACE_MODE__COUNT] = {
	[TRACE_MODE_DEFAULT] = "default",
	[TRACE_MODE_ALLOC] = "alloc",
};

const char *trace_mode_name(enum trace_mode mode)
{
	/* A value from a damaged or hostile model still names something. */
	if ((unsigned int)mode >= TRACE_MODE__COUNT)
		return "unknown";
	return mode_names[mode];
}

int trace_mode_parse(const char *name, enum trace_mode *mode)
{
	int m;

	for (m = 0; m < TRACE_MODE__COUNT; m++) {
		if (!strcmp(name, mode_names[m])) {
			*mode = m;
			return 0;
		}
	}
	return -EINVAL;
}
