/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
#ifndef MEMSCOPE_ROW_STORE_H
#define MEMSCOPE_ROW_STORE_H

#include <stddef.h>
#include <linux/types.h>
#include "events.h"

/*
 * The kernel's unwind rows, in chunks made as objects load (events.h,
 * "The row array grows"): kernel memory follows what the traced
 * processes map, up to a cap, instead of an array sized at the start
 * for what they mapped then.
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
 * Appends nr rows, indexed from *first on: their chunks are made first,
 * so the rows are in before the object that points at them is
 * published. -ENOSPC past the cap (nothing appended), or the error of
 * making a chunk.
 */
int row_store__append(struct row_store *s, const struct ms_unwind_row *rows,
		      size_t nr, __u32 *first);

__u32 row_store__used(const struct row_store *s);
__u32 row_store__cap(const struct row_store *s);
/* Kernel memory of the chunks made so far. */
__u64 row_store__bytes(const struct row_store *s);

#endif /* MEMSCOPE_ROW_STORE_H */
