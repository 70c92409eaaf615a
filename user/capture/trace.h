/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The BPF side's lifecycle seen from userspace: open, configure, load and
 * attach the allocator programs, and drain the ring buffer into a callback.
 */
#ifndef MEMSCOPE_TRACE_H
#define MEMSCOPE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include "events.h"
#include "attach.h"

struct tracer;

/* Called for every well-formed record; a non-zero return is counted. */
typedef int (*tracer_event_fn)(void *ctx, const struct ms_event *e);

struct tracer_opts {
	int pid;
	bool alloc_only;
	__u32 max_live;		/* kernel live-table entries */
	tracer_event_fn on_event;
	void *ctx;
};

/* Opens and loads the BPF object. NULL with errno set. */
struct tracer *tracer__new(const struct tracer_opts *o);
void tracer__free(struct tracer *t);

/* 0 or -errno; tracer__error() says what failed. */
int tracer__attach_process(struct tracer *t);
int tracer__attach_command(struct tracer *t, const char *path);
const char *tracer__error(const struct tracer *t);

/* Removes every probe; the maps and counters stay readable. */
void tracer__detach(struct tracer *t);

/* An fd that becomes readable when the kernel forces a wakeup. */
int tracer__fd(const struct tracer *t);
/* Consumes everything in the ring now. Records consumed, or -errno. */
int tracer__drain(struct tracer *t);

void tracer__counters(const struct tracer *t, struct ms_counters *out);
/* Records that were malformed or that the callback refused. */
__u64 tracer__drops(const struct tracer *t);
const struct attach_probe *tracer__probes(const struct tracer *t, size_t *nr);
/* Probes skipped (not fatal): count and the first, or NULL. */
const char *tracer__warning(const struct tracer *t, unsigned int *nr);
/* -v: every probe on stderr. */
void tracer__print_probes(const struct tracer *t);

#endif /* MEMSCOPE_TRACE_H */
