/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The rows of the live view (--live): every call site of a store with
 * what it holds now, how that changed since the previous refresh, and how
 * often it allocated, sorted by one of them. It reads the store only;
 * the terminal view (user/cli/live.c) formats the rows. A view of many
 * processes takes a process's rows from its own store the same way.
 */
#ifndef MEMSCOPE_TOP_H
#define MEMSCOPE_TOP_H

#include <stddef.h>
#include <linux/types.h>
#include "store.h"

enum top_sort {
	TOP_SORT_LIVE,		/* live bytes now */
	TOP_SORT_GROWTH,	/* live bytes gained since the last refresh */
	TOP_SORT_ALLOCS,	/* allocation calls since the start */
	TOP_SORT__COUNT,
};

struct top_row {
	__u32 stack_id;		/* store__site()'s */
	__u32 family;		/* enum ms_family */
	__u64 live_bytes;
	__u64 live_count;
	__s64 growth_bytes;	/* live_bytes minus the previous refresh's */
	__u64 allocs;
	__u64 alloc_bytes;
};

struct top;

struct top *top__new(void);
void top__free(struct top *t);

/*
 * Reads every site of st: its row, and its growth since the previous
 * call (a site first seen grows from 0). Sorted by sort, ties by stack
 * id; sites that never allocated are left out. 0 or -ENOMEM.
 */
int top__refresh(struct top *t, const struct store *st, enum top_sort sort);
/* The rows of the last refresh sorted anew, their figures unchanged. */
void top__sort(struct top *t, enum top_sort sort);
/*
 * The last refresh's growth of all rows together (the process's, in the
 * view of many): held within +-LLONG_MAX, since sizes a process declares
 * (USDT) are its own to choose.
 */
long long top__growth(const struct top *t);
/* The rows of the last refresh; valid until the next one. */
const struct top_row *top__rows(const struct top *t, size_t *nr);

#endif /* MEMSCOPE_TOP_H */
