/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * One resolved frame of a call stack: what the symbolizer fills, what a
 * recording keeps for each address, and what every report shows. The
 * strings belong to whoever filled the frame (the symbolizer, a replayed
 * recording, the report's arena).
 */
#ifndef MEMSCOPE_FRAME_H
#define MEMSCOPE_FRAME_H

#include <linux/types.h>

struct frame {
	__u64 addr;		/* as captured */
	const char *function;	/* NULL when unknown */
	const char *file;	/* source file, NULL without debug info */
	int line;		/* 0 without debug info */
	const char *object;	/* path of the mapped object, NULL if none */
	__u64 object_offset;	/* ELF virtual address inside object */
	const char *build_id;	/* object's GNU build-id in hex, or NULL */
};

/* Resolves one address; injected so reports build without a process. */
typedef void (*frame_resolve_fn)(void *ctx, __u64 addr, struct frame *out);

#endif /* MEMSCOPE_FRAME_H */
