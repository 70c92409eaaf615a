/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * --live: the top-like terminal view of a trace (live.c). The trace loop
 * (run.c) polls live__fd() for keys and calls live__draw() every second.
 * It reads the process table: the running process images, and the call
 * sites of the one selected.
 */
#ifndef MEMSCOPE_LIVE_H
#define MEMSCOPE_LIVE_H

#include <stdbool.h>
#include <linux/types.h>
#include "frame.h"
#include "procs.h"

/* The header line's facts that are not in the store. */
struct live_status {
	int pid;
	__u64 elapsed_ns;
	__u64 lost;		/* the kernel's lost events */
};

/*
 * Opens the controlling terminal (/dev/tty) and notes its settings; NULL
 * with errno set when there is none.
 */
struct live_view *live__new(void);
/*
 * Takes the terminal over (raw keys, the alternate screen); the frames of
 * image i are named through resolve with image_ctx(ctx, i). 0 or -errno.
 */
int live__start(struct live_view *v, frame_resolve_fn resolve,
		void *(*image_ctx)(void *ctx, size_t i), void *ctx);
/* Gives the terminal back as it was. */
void live__free(struct live_view *v);
/* Readable when keys are waiting. */
int live__fd(const struct live_view *v);
/*
 * Reads the rows of every running image anew (growth since the last
 * call) and redraws. 0 or -ENOMEM.
 */
int live__draw(struct live_view *v, const struct procs *p,
	       const struct live_status *status);
/* Applies the keys waiting, redrawing if they changed the view; true: quit. */
bool live__keys(struct live_view *v, const struct procs *p,
		const struct live_status *status);

#endif /* MEMSCOPE_LIVE_H */
