// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * The live view's rows (top.h): a pass over the store's sites, the live
 * bytes each had at the previous refresh kept by stack id, so growth is
 * exact between two refreshes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "delta.h"
#include "table.h"
#include "top.h"

struct top {
	struct top_row *rows;
	size_t nr_rows, cap_rows;
	__u64 *prev;		/* live bytes by stack id at the last refresh */
	size_t cap_prev;
};

struct top *top__new(void)
{
	return calloc(1, sizeof(struct top));
}

void top__free(struct top *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t->prev);
	free(t);
}

static __u64 sort_key(const struct top_row *r, enum top_sort sort)
{
	switch (sort) {
	case TOP_SORT_GROWTH:
		/* as unsigned, shrinking sites after every growing one */
		return (__u64)r->growth_bytes + (1ull << 63);
	case TOP_SORT_ALLOCS:
		return r->allocs;
	case TOP_SORT_LIVE:
	case TOP_SORT__COUNT:
		break;
	}
	return r->live_bytes;
}

static int cmp_rows(const void *a, const void *b, void *ctx)
{
	const struct top_row *x = a, *y = b;
	enum top_sort sort = *(const enum top_sort *)ctx;
	__u64 kx = sort_key(x, sort), ky = sort_key(y, sort);

	if (kx != ky)
		return kx > ky ? -1 : 1;
	if (x->live_bytes != y->live_bytes)
		return x->live_bytes > y->live_bytes ? -1 : 1;
	return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

int top__refresh(struct top *t, const struct store *st, enum top_sort sort)
{
	__u32 nr = store__nr_stacks(st), id;
	size_t old_cap = t->cap_prev;
	struct store_site site;
	struct top_row *r;
	int err;

	err = tab_grow((void **)&t->rows, &t->cap_rows, nr, sizeof(*t->rows));
	if (!err)
		err = tab_grow((void **)&t->prev, &t->cap_prev, nr,
			       sizeof(*t->prev));
	if (err)
		return err;
	if (t->cap_prev > old_cap)
		memset(t->prev + old_cap, 0,
		       (t->cap_prev - old_cap) * sizeof(*t->prev));
	t->nr_rows = 0;
	for (id = 0; id < nr; id++) {
		if (store__site(st, id, &site) || !site.allocs)
			continue;
		r = &t->rows[t->nr_rows++];
		r->stack_id = id;
		r->family = site.family;
		r->live_bytes = site.live_bytes;
		r->live_count = site.live_count;
		r->growth_bytes = u64_delta(site.live_bytes, t->prev[id]);
		r->allocs = site.allocs;
		r->alloc_bytes = site.alloc_bytes;
		t->prev[id] = site.live_bytes;
	}
	top__sort(t, sort);
	return 0;
}

void top__sort(struct top *t, enum top_sort sort)
{
	/* no rows yet may mean no array yet: qsort_r's is nonnull */
	if (t->nr_rows > 1)
		qsort_r(t->rows, t->nr_rows, sizeof(*t->rows), cmp_rows,
			&sort);
}

long long top__growth(const struct top *t)
{
	long long sum = 0;
	size_t i;

	for (i = 0; i < t->nr_rows; i++)
		sum = s64_add_sat(sum, t->rows[i].growth_bytes);
	return sum;
}

const struct top_row *top__rows(const struct top *t, size_t *nr)
{
	*nr = t->nr_rows;
	return t->rows;
}
