/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * One resolved frame of a call stack: what the symbolizer fills, what a
 * recording keeps for each address, and what every report shows. The
 * strings belong to whoever filled the frame (the symbolizer, a replayed
 * recording, the report's arena).
 *
 * One captured return address can stand for several frames: the calls the
 * compiler inlined there, innermost first, each marked inlined, then the
 * function they were inlined into (not inlined). So in a stack, a frame
 * that is not inlined ends the frames of its address.
 */
#ifndef MEMSCOPE_FRAME_H
#define MEMSCOPE_FRAME_H

#include <stdbool.h>
#include <linux/types.h>

struct frame {
	__u64 addr;		/* as captured */
	const char *function;	/* display name (demangled), NULL when unknown */
	const char *mangled;	/* linkage name, NULL when function is it */
	const char *file;	/* source file, NULL without debug info */
	int line;		/* 0 without debug info; the call's line in
				 * the frame's caller for an inlined call's
				 * caller */
	bool inlined;		/* an inlined call: its caller follows */
	const char *object;	/* path of the mapped object, NULL if none */
	__u64 object_offset;	/* ELF virtual address inside object */
	const char *build_id;	/* object's GNU build-id in hex, or NULL */
};

/*
 * Resolves one address into the frames it stands for, innermost first;
 * injected so reports build without a process. Returns how many (at
 * least 1: an address nothing is known of is one frame of its own) and
 * points *out at them, valid until the next call or until the resolver
 * is freed. Every frame has addr set to the address asked.
 */
typedef unsigned (*frame_resolve_fn)(void *ctx, __u64 addr,
				     const struct frame **out);

#endif /* MEMSCOPE_FRAME_H */
