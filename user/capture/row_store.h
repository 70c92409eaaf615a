/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
#ifndef MEMSCOPE_ROW_STORE_H
#define MEMSCOPE_ROW_STORE_H

#include <stddef.h>
#include <linux/types.h>
#include "events.h"
#include "table.h"

/*
 * The kernel's unwind rows, in chunks made as objects load (events.h,
 * "The row array grows"): kernel memory follows what the traced
 * processes map, up to a cap, instead of an array sized at the start
 * for what they mapped then. Rows an object no longer needs may be
 * released and handed out again (unwind.c's reclaim).
 */
struct row_store;

/*
 * Rows go in the chunks of the ARRAY_OF_MAPS outer_fd, at most max_rows
 * of them (rounded up to whole chunks, at most the outer map's
 * MS_ROW_CHUNKS_MAX).
 */
struct row_store *row_store__new(int outer_fd, __u32 max_rows);
void row_store__free(struct row_store *s);

/*
 * Writes nr rows, indexed from *first on: in the first released extent
 * they fit in, else past the others, in chunks made first, so the rows
 * are in before the object that points at them is published. -ENOSPC
 * when they fit nowhere under the cap (nothing written), or the error
 * of making a chunk.
 */
int row_store__append(struct row_store *s, const struct ms_unwind_row *rows,
		      size_t nr, __u32 *first);

/*
 * Rows [first, first + nr) may be handed out again. Only once no walk
 * can still be reading them: the caller has unpublished their object
 * and waited out every BPF program that might have seen it. -EINVAL
 * for rows not held (released twice, or never handed out).
 */
int row_store__release(struct row_store *s, __u32 first, __u32 nr);

/* Rows objects hold. */
__u32 row_store__used(const struct row_store *s);
__u32 row_store__cap(const struct row_store *s);
/* Kernel memory of the chunks made so far. */
__u64 row_store__bytes(const struct row_store *s);

/* Pure logic, exposed for the unit tests. */

/*
 * Which rows are held: all below top but the released extents, which a
 * take fills first (first fit; a hole too small for anyone stays one).
 */
struct row_extents {
	__u32 cap;
	__u32 top;
	__u32 used;
	struct tab_array free;	/* extents below top, by first, apart */
};

void row_extents__init(struct row_extents *x, __u32 cap);
void row_extents__fini(struct row_extents *x);
/* nr rows from *first on: 0, or -ENOSPC (nothing taken). */
int row_extents__take(struct row_extents *x, __u32 nr, __u32 *first);
/* Gives back [first, first + nr): 0, -EINVAL if not held, or -ENOMEM. */
int row_extents__give(struct row_extents *x, __u32 first, __u32 nr);

#endif /* MEMSCOPE_ROW_STORE_H */
