/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What grew between two moments: two snapshots (growth.h), of one trace
 * (report FILE.msr --from T1 --to T2) or of two (diff A.msr B.msr). A
 * moment is a snapshot of each process image then running. Sites are
 * matched by their resolved frames, so the same call stack of two runs of
 * a program is one row whatever the addresses were, and of several
 * processes one row too (their pids and numbering differ from run to run;
 * the code that grew does not), ranked by how many bytes they grew.
 */
#ifndef MEMSCOPE_DIFF_H
#define MEMSCOPE_DIFF_H

#include <stddef.h>
#include <linux/types.h>
#include "frame.h"
#include "growth.h"
#include "store.h"

/* One image at one of the two moments: a snapshot, its store, its resolver. */
struct diff_side {
	const struct growth_snap *snap;
	const struct store *st;
	frame_resolve_fn resolve;
	void *ctx;
};

struct diff_row {
	__u64 from_bytes;	/* live at the first moment */
	__u64 from_blocks;
	__u64 to_bytes;		/* and at the second */
	__u64 to_blocks;
	long long d_bytes;	/* to - from */
	long long d_blocks;
	__u32 nr_frames;
	struct frame *frames;	/* copies; strings are the resolvers' */
};

struct diff {
	__u64 from_bytes, from_blocks;	/* every live block, each moment */
	__u64 to_bytes, to_blocks;
	struct diff_row *rows;	/* by d_bytes desc */
	size_t nr;
};

/*
 * Builds the rows of every site live at either moment, each moment the
 * nr_from (nr_to) images' sides. The frames' strings stay the resolvers':
 * keep them (a recording) alive. 0 or -errno.
 */
int diff__build(const struct diff_side *from, size_t nr_from,
		const struct diff_side *to, size_t nr_to, struct diff *d);
void diff__fini(struct diff *d);

#endif /* MEMSCOPE_DIFF_H */
