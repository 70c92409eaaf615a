/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* Tracing a process or a command, from start to reports. */
#ifndef MEMSCOPE_RUN_H
#define MEMSCOPE_RUN_H

#include "cli.h"

/* Traces what o names until it ends; the exit status (0 or 1). */
int run_trace(const struct opts *o);

#endif /* MEMSCOPE_RUN_H */
