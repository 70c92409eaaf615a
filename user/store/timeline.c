/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "timeline.h"

/* The first buckets are 1 ms wide: a short command still gets a curve. */
#define TIMELINE_FIRST_NS	1000000ULL

int timeline_init(struct timeline *t)
{
	*t = (struct timeline){ 0 };
	t->points = malloc(TIMELINE_POINTS * sizeof(*t->points));
	return t->points ? 0 : -ENOMEM;
}

void timeline_fini(struct timeline *t)
{
	free(t->points);
	t->points = NULL;
}

/* Halves the resolution: bucket pairs merge, keeping the higher maximum. */
static void coarsen(struct timeline *t)
{
	size_t i, n = (t->nr + 1) / 2;

	for (i = 0; i < n; i++) {
		struct timeline_point *a = &t->points[2 * i];
		struct timeline_point m = *a;

		if (2 * i + 1 < t->nr) {
			const struct timeline_point *b = a + 1;

			if (b->max_bytes > m.max_bytes)
				m.max_bytes = b->max_bytes;
			m.end_bytes = b->end_bytes;
			m.allocs += b->allocs;
			m.frees += b->frees;
		}
		t->points[i] = m;
	}
	t->nr = n;
	t->bucket_ns *= 2;
}

void timeline_note(struct timeline *t, __u64 origin, __u64 ts, __u64 live,
		   __u64 allocs, __u64 frees)
{
	struct timeline_point *p;
	__u64 idx;

	if (!t->bucket_ns)
		t->bucket_ns = TIMELINE_FIRST_NS;
	/* Records arrive nearly in order; a late one joins the last bucket. */
	idx = ts > origin ? (ts - origin) / t->bucket_ns : 0;
	if (t->nr && idx < t->nr - 1)
		idx = t->nr - 1;
	while (idx >= TIMELINE_POINTS) {
		coarsen(t);
		idx = (ts - origin) / t->bucket_ns;
	}
	/* Empty spans between records hold the level they were left at. */
	while (t->nr <= idx) {
		p = &t->points[t->nr];
		p->start_ns = origin + t->nr * t->bucket_ns;
		p->max_bytes = p->end_bytes = t->nr ? p[-1].end_bytes : 0;
		p->allocs = p->frees = 0;
		t->nr++;
	}
	p = &t->points[idx];
	if (live > p->max_bytes)
		p->max_bytes = live;
	p->end_bytes = live;
	p->allocs += allocs - t->prev_allocs;
	p->frees += frees - t->prev_frees;
	t->prev_allocs = allocs;
	t->prev_frees = frees;
}

size_t timeline_points(const struct timeline *t,
		       const struct timeline_point **out, __u64 *width_ns)
{
	*out = t->points;
	*width_ns = t->bucket_ns ? t->bucket_ns : TIMELINE_FIRST_NS;
	return t->nr;
}

void timeline_shrink(struct timeline *t)
{
	struct timeline_point *p;

	p = realloc(t->points, (t->nr ? t->nr : 1) * sizeof(*p));
	if (p)
		t->points = p;
}

size_t timeline_mem_bytes(const struct timeline *t, bool shrunk)
{
	return (shrunk ? t->nr : TIMELINE_POINTS) * sizeof(*t->points);
}
