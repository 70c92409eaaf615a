/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * --reachability: the heap scan of a traced process, from the store's
 * live blocks and the roots taken from the process (capture/heaproots),
 * classified by analysis/heapscan.
 */
#ifndef MEMSCOPE_REACH_H
#define MEMSCOPE_REACH_H

#include "heaproots.h"
#include "heapscan.h"
#include "recording.h"
#include "store.h"

struct opts;

struct reach {
	struct heapscan *scan;		/* NULL: none taken */
	struct heaproots_info pause;
};

/*
 * How a process the caller traces already (a launched command) is
 * stopped and let go around the copy: it cannot be seized.
 */
struct reach_hold {
	/* every thread of pid stopped: 0, or -ESRCH when pid is not the
	 * caller's to stop (it is seized then) */
	int (*stop)(void *ctx, int pid);
	void (*resume)(void *ctx);
	void *ctx;
};

/*
 * Stops pid (how: heaproots.h; with hold, HEAPROOTS_SEIZE stops it
 * through hold when it can, and the pause counts from there), copies its
 * roots, lets it go and scans the live blocks of st. A scan taken before
 * is replaced; its clones grouped within o's --clone-window. 0 or
 * -errno, said on stderr; o->quiet: no summary line.
 */
int reach__take(struct reach *r, const struct store *st, int pid,
		enum heaproots_how how, const struct reach_hold *hold,
		const struct opts *o);
void reach__release(struct reach *r);

/* Writes r's scan as image's into the recording (-w). 0 or -errno. */
int reach__record(const struct reach *r, struct recorder *w, __u32 image);
/*
 * A recorded scan as r's, replacing the one before: the scan the live
 * run took, its classes, cycles and graph as it had them. 0 or -errno
 * (-EINVAL: its entries out of range).
 */
int reach__restore(struct reach *r, const struct recording_scan *s);

#endif /* MEMSCOPE_REACH_H */
