/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The frames of forwarders that call. A forwarder is an allocating
 * function left unprobed because it reaches other code only through one
 * allocating function of its family (attach.h, forwards_to). One that
 * jumps there (glibc's reallocarray) leaves no frame; one that calls it
 * (libstdc++'s operator new(size_t, nothrow_t) calling operator new)
 * stands first in every stack that function's probe takes. The block is
 * its caller's: the intake drops those frames from the record before
 * anything keeps it, so every report, the recording and its replays
 * agree, and a site is the user's call. A layer (attach.h, counted_at:
 * operator new probed at its entry only, its block taken at the malloc it
 * calls) leads the stacks of its blocks the same way, in its own family
 * or, jumped to by another layer (new[] to new), in that one's.
 */
#ifndef MEMSCOPE_FORWARDERS_H
#define MEMSCOPE_FORWARDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "attach.h"
#include "frame.h"

struct forwarders;

struct forwarders *forwarders__new(void);
void forwarders__free(struct forwarders *f);

/*
 * Takes the calling forwarders among the probes: the whole list as it is
 * now (attaching more processes only appends to it). 0 or -ENOMEM.
 */
int forwarders__update(struct forwarders *f, const struct attach_probe *p,
		       size_t nr);

/*
 * How many of a record's first frames are calling forwarders' of its
 * family fam (enum ms_family), each frame resolved through resolve(ctx)
 * and matched by its function's linkage name: fewer than n, so that a
 * stack that stops there keeps what it has.
 */
unsigned forwarders__leading(const struct forwarders *f, unsigned int fam,
			     const __u64 *frames, unsigned n,
			     frame_resolve_fn resolve, void *ctx);

#endif /* MEMSCOPE_FORWARDERS_H */
