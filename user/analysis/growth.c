/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Snapshots of a store over time, their lists, and the verdict on each
 * site's growth (growth.h).
 *
 * The verdict reads a site's old blocks (live, and allocated before the
 * previous snapshot) across the series, step by step:
 *   - none ever: temporary (every block went within an interval);
 *   - a step that lost more than half of the most it had held: sawtooth
 *     (its old blocks do go away, in batches);
 *   - falling more than once for four rises: steady (old blocks come
 *     and go: a working set that is replaced, however it ramped up);
 *   - still rising over the second half and over the last quarter:
 *     growing, the leak verdict;
 *   - anything else: plateau (they stay, and stopped coming).
 * A growing site's confidence is the fit of its old blocks to a line
 * (R^2), times the share of steps that did not fall, times how much of a
 * series it had (full from 10 steps): a leak of one block a second under
 * churn scores as high as a fast one, since churn never makes old blocks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "delta.h"
#include "growth.h"
#include "table.h"

/* A step that keeps less than this share of the most held: a sawtooth. */
#define SAWTOOTH_KEEP		0.5
/* Steps of a series that gives a verdict its full confidence. */
#define FULL_STEPS		10.0

struct growth {
	struct growth_snap *snaps;	/* the series, oldest first */
	size_t nr, cap;
	__u32 taken;
	/* each stack's allocation calls at the last snapshot */
	__u64 *allocs;
	size_t nr_allocs, allocs_cap;
};

struct growth *growth__new(void)
{
	return calloc(1, sizeof(struct growth));
}

void growth__free(struct growth *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->nr; i++)
		free(g->snaps[i].sites);
	free(g->snaps);
	free(g->allocs);
	free(g);
}

__u32 growth__count(const struct growth *g)
{
	return g->taken;
}

const struct growth_snap *growth__last(const struct growth *g)
{
	return g->nr ? &g->snaps[g->nr - 1] : NULL;
}

struct tally {
	struct growth_site *by_stack;	/* nr_stacks of them */
	__u32 nr_stacks;
	__u64 old_before;	/* ts_ns: older blocks are old */
	__u64 live_bytes;
	__u64 live_blocks;
};

static int tally_block(const struct store_block *b, void *ctx)
{
	struct tally *t = ctx;
	struct growth_site *s;

	t->live_bytes += b->size;
	t->live_blocks++;
	if (b->stack_id >= t->nr_stacks)
		return 0;
	s = &t->by_stack[b->stack_id];
	s->live_bytes += b->size;
	s->live_blocks++;
	if (b->ts_ns < t->old_before) {
		s->old_bytes += b->size;
		s->old_blocks++;
		s->low_blocks++;
	}
	return 0;
}

static const struct growth_site *find_site(const struct growth_snap *s,
					   __u32 stack_id);

/*
 * Keeps the first, every other one after it, and the last. The fewest old
 * blocks a dropped snapshot had live on in the next one's low_blocks: a
 * batch freed between two kept snapshots still shows as a fall, so
 * thinning never turns a sawtooth into a steady line.
 */
static void thin(struct growth *g)
{
	struct growth_snap *next;
	const struct growth_site *was;
	size_t i, j, k = 0;

	for (i = 0; i < g->nr; i++) {
		if (!(i % 2) || i + 1 == g->nr) {
			g->snaps[k++] = g->snaps[i];
			continue;
		}
		next = &g->snaps[i + 1];
		for (j = 0; j < next->nr_sites; j++) {
			was = find_site(&g->snaps[i], next->sites[j].stack_id);
			if (!was)
				next->sites[j].low_blocks = 0;
			else if (was->low_blocks < next->sites[j].low_blocks)
				next->sites[j].low_blocks = was->low_blocks;
		}
		free(g->snaps[i].sites);
	}
	g->nr = k;
}

int growth__take(struct growth *g, const struct store *st,
		 const struct growth_mark *m)
{
	const struct growth_snap *prev = growth__last(g);
	struct tally t = { .nr_stacks = store__nr_stacks(st) };
	struct growth_snap *snap;
	size_t n = 0, i;
	int err = -ENOMEM;

	/* The first snapshot has no previous one: nothing is old yet. */
	t.old_before = prev ? prev->mark.ts_ns : 0;
	t.by_stack = calloc(t.nr_stacks ? t.nr_stacks : 1,
			    sizeof(*t.by_stack));
	if (!t.by_stack)
		return -ENOMEM;
	if (tab_grow((void **)&g->allocs, &g->allocs_cap, t.nr_stacks + 1,
		     sizeof(*g->allocs)))
		goto out;
	store__for_each_live(st, tally_block, &t);
	/*
	 * A site is in a snapshot while it has live blocks, or allocated
	 * since the previous one: short-lived temporaries get a verdict too.
	 */
	for (i = 0; i < t.nr_stacks; i++) {
		struct store_site site;
		__u64 was = i < g->nr_allocs ? g->allocs[i] : 0;

		store__site(st, i, &site);
		g->allocs[i] = site.allocs;
		if (!t.by_stack[i].live_blocks && site.allocs == was)
			continue;
		t.by_stack[i].stack_id = i;
		t.by_stack[n++] = t.by_stack[i];
	}
	g->nr_allocs = t.nr_stacks;
	if (g->nr == GROWTH_SERIES)
		thin(g);
	if (tab_grow((void **)&g->snaps, &g->cap, g->nr + 1,
		     sizeof(*g->snaps)))
		goto out;
	snap = &g->snaps[g->nr];
	*snap = (struct growth_snap){
		.index = g->taken + 1,
		.mark = *m,
		.live_bytes = t.live_bytes,
		.live_blocks = t.live_blocks,
		.events = store__summary(st)->events,
		.nr_sites = n,
	};
	snap->sites = n ? realloc(t.by_stack, n * sizeof(*snap->sites)) : NULL;
	if (n && !snap->sites)
		goto out;
	if (n)
		t.by_stack = NULL;
	g->nr++;
	g->taken++;
	err = 0;
out:
	free(t.by_stack);
	return err;
}

/* The entry of stack_id in a snapshot, NULL when it had nothing live. */
static const struct growth_site *find_site(const struct growth_snap *s,
					   __u32 stack_id)
{
	size_t lo = 0, hi = s->nr_sites, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->sites[mid].stack_id == stack_id)
			return &s->sites[mid];
		if (s->sites[mid].stack_id < stack_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int by_growth(const void *pa, const void *pb)
{
	const struct growth_row *a = pa, *b = pb;

	if (a->d_bytes != b->d_bytes)
		return a->d_bytes > b->d_bytes ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

static int by_live(const void *pa, const void *pb)
{
	const struct growth_row *a = pa, *b = pb;

	if (a->live_bytes != b->live_bytes)
		return a->live_bytes > b->live_bytes ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

/* A site in last, or one that had blocks in prev and has none now. */
static struct growth_row row_of(const struct growth_site *now,
				const struct growth_site *before)
{
	struct growth_row r = {};

	if (now) {
		r.stack_id = now->stack_id;
		r.live_bytes = now->live_bytes;
		r.live_blocks = now->live_blocks;
	} else {
		r.stack_id = before->stack_id;
	}
	r.d_bytes = u64_delta(r.live_bytes, before ? before->live_bytes : 0);
	r.d_blocks = u64_delta(r.live_blocks, before ? before->live_blocks : 0);
	return r;
}

static void row_frames(const struct store *st, struct growth_row *rows,
		       size_t n)
{
	struct store_site site;
	size_t i;

	for (i = 0; i < n; i++) {
		if (store__site(st, rows[i].stack_id, &site))
			continue;
		rows[i].frames = site.frames;
		rows[i].nr_frames = site.nr_frames;
	}
}

int growth__view(const struct growth *g, const struct store *st, size_t top,
		 struct growth_view *v)
{
	const struct growth_snap *last = growth__last(g);
	const struct growth_snap *prev = g->nr > 1 ? &g->snaps[g->nr - 2] :
					 NULL;
	struct growth_row *rows;
	size_t n = 0, grew = 0, i;

	*v = (struct growth_view){};
	if (!last)
		return 0;
	/* A thinned series still ends with the snapshot just before last. */
	v->index = last->index;
	v->ts_ns = last->mark.ts_ns;
	v->prev_ts_ns = prev ? prev->mark.ts_ns : 0;
	v->live_bytes = last->live_bytes;
	v->live_blocks = last->live_blocks;
	v->d_bytes = u64_delta(last->live_bytes, prev ? prev->live_bytes : 0);
	v->d_blocks = u64_delta(last->live_blocks,
				prev ? prev->live_blocks : 0);
	v->lost_events = last->mark.lost_events;
	v->consumer_drops = last->mark.consumer_drops;
	rows = calloc(last->nr_sites + (prev ? prev->nr_sites : 0) + 1,
		      sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < last->nr_sites; i++)
		rows[n++] = row_of(&last->sites[i],
				   prev ? find_site(prev, last->sites[i].stack_id) :
					  NULL);
	for (i = 0; prev && i < prev->nr_sites; i++) {
		if (!find_site(last, prev->sites[i].stack_id))
			rows[n++] = row_of(NULL, &prev->sites[i]);
	}
	qsort(rows, n, sizeof(*rows), by_growth);
	while (grew < n && rows[grew].d_bytes > 0)
		grew++;
	v->nr_since_prev = top && top < grew ? top : grew;
	v->since_prev = calloc(v->nr_since_prev + 1, sizeof(*rows));
	if (!v->since_prev)
		goto err_free;
	memcpy(v->since_prev, rows, v->nr_since_prev * sizeof(*rows));
	/* Since the start: the sites live now, by their bytes. */
	n = last->nr_sites;
	for (i = 0; i < n; i++)
		rows[i] = row_of(&last->sites[i],
				 prev ? find_site(prev, last->sites[i].stack_id) :
					NULL);
	qsort(rows, n, sizeof(*rows), by_live);
	v->nr_since_start = top && top < n ? top : n;
	v->since_start = rows;
	row_frames(st, v->since_prev, v->nr_since_prev);
	row_frames(st, v->since_start, v->nr_since_start);
	return 0;

err_free:
	free(rows);
	growth_view__fini(v);
	return -ENOMEM;
}

void growth_view__fini(struct growth_view *v)
{
	free(v->since_prev);
	free(v->since_start);
	free(v->frames);
	v->since_prev = v->since_start = NULL;
	v->frames = NULL;
}

static void keep_rows(struct growth_row *rows, size_t nr, __u64 **at)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		memcpy(*at, rows[i].frames, rows[i].nr_frames * sizeof(**at));
		rows[i].frames = *at;
		*at += rows[i].nr_frames;
	}
}

int growth_view__keep(struct growth_view *v)
{
	size_t i, n = 0;
	__u64 *at;

	for (i = 0; i < v->nr_since_prev; i++)
		n += v->since_prev[i].nr_frames;
	for (i = 0; i < v->nr_since_start; i++)
		n += v->since_start[i].nr_frames;
	v->frames = malloc((n + 1) * sizeof(*v->frames));
	if (!v->frames)
		return -ENOMEM;
	at = v->frames;
	keep_rows(v->since_prev, v->nr_since_prev, &at);
	keep_rows(v->since_start, v->nr_since_start, &at);
	return 0;
}

int growth_table__take(struct growth_table *t, const struct procs *pt,
		       const struct growth_mark *m)
{
	size_t n = procs__nr_images(pt), i;
	const struct proc_image *im;
	int err;

	if (n > t->nr) {
		if (tab_grow((void **)&t->g, &t->cap, n, sizeof(*t->g)) ||
		    tab_grow((void **)&t->last, &t->cap_last, n, sizeof(*t->last)))
			return -ENOMEM;
		memset(t->g + t->nr, 0, (n - t->nr) * sizeof(*t->g));
		memset(t->last + t->nr, 0, (n - t->nr) * sizeof(*t->last));
		t->nr = n;
	}
	t->taken++;
	for (i = 0; i < n; i++) {
		im = procs__image(pt, i);
		if (im->end)
			continue;
		if (!t->g[i])
			t->g[i] = growth__new();
		if (!t->g[i])
			return -ENOMEM;
		err = growth__take(t->g[i], im->store, m);
		if (err)
			return err;
		t->last[i] = t->taken;
	}
	return 0;
}

const struct growth *growth_table__image(const struct growth_table *t,
					 size_t i)
{
	return t && i < t->nr ? t->g[i] : NULL;
}

int growth_table__views(const struct growth_table *t, const struct procs *pt,
			size_t top, struct growth_view **views, size_t *nr)
{
	size_t i, n = 0;
	int err;

	*nr = 0;
	*views = calloc(t->nr + 1, sizeof(**views));
	if (!*views)
		return -ENOMEM;
	for (i = 0; i < t->nr; i++) {
		if (!t->taken || t->last[i] != t->taken)
			continue;
		err = growth__view(t->g[i], procs__image(pt, i)->store, top,
				   &(*views)[n]);
		if (err) {
			while (n)
				growth_view__fini(&(*views)[--n]);
			free(*views);
			*views = NULL;
			return err;
		}
		(*views)[n].index = t->taken;
		(*views)[n].proc = i;
		(*views)[n].pid = procs__image(pt, i)->info.pid;
		(*views)[n].named = procs__nr_images(pt) > 1;
		n++;
	}
	*nr = n;
	return 0;
}

void growth_table__fini(struct growth_table *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		growth__free(t->g[i]);
	free(t->g);
	free(t->last);
	*t = (struct growth_table){};
}

void growth_clock__init(struct growth_clock *c, __u64 start_ns,
			__u64 every_ns)
{
	*c = (struct growth_clock){ .next = start_ns + every_ns,
				    .every_ns = every_ns };
}

bool growth_clock__due(struct growth_clock *c, __u64 ts_ns, __u64 *at)
{
	if (!c->every_ns || c->next >= ts_ns)
		return false;
	*at = c->next;
	c->next += c->every_ns;
	return true;
}

static const char *const pattern_names[GROWTH_PATTERN__COUNT] = {
	[GROWTH_GROWING] = "growing",
	[GROWTH_PLATEAU] = "plateau",
	[GROWTH_SAWTOOTH] = "sawtooth",
	[GROWTH_STEADY] = "steady",
	[GROWTH_TEMPORARY] = "temporary",
};

const char *growth_pattern_name(unsigned int p)
{
	return p < GROWTH_PATTERN__COUNT ? pattern_names[p] : NULL;
}

/* Least-squares slope of y over x, and the fit's R^2 (1 when y is flat). */
static double slope(const double *x, const double *y, size_t n, double *r2)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	for (i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
		syy += (y[i] - my) * (y[i] - my);
	}
	if (r2)
		*r2 = syy > 0 && sxx > 0 ? sxy * sxy / (sxx * syy) : 1;
	return sxx > 0 ? sxy / sxx : 0;
}

/* The series of one site: its old blocks and bytes at every step. */
struct series {
	double *t;		/* seconds since the first step */
	double *blocks;
	double *bytes;
	double *low;		/* fewest old blocks since the step before */
	size_t n;
};

static void classify(const struct series *s, struct growth_verdict *v)
{
	double most = 0, r2, keep;
	size_t i, h = s->n / 2, q = s->n / 4;

	if (q < 2)
		q = 2;
	for (i = 0; i < s->n; i++) {
		if (s->blocks[i] > most)
			most = s->blocks[i];
		if (i && s->blocks[i] > s->blocks[i - 1])
			v->rises++;
		if (i && s->blocks[i] < s->blocks[i - 1])
			v->falls++;
	}
	v->bytes_per_s = slope(s->t, s->bytes, s->n, NULL);
	v->blocks_per_s = slope(s->t, s->blocks, s->n, &r2);
	if (!most) {
		v->pattern = GROWTH_TEMPORARY;
		return;
	}
	most = 0;
	for (i = 0; i < s->n; i++) {
		if (s->low[i] < SAWTOOTH_KEEP * most) {
			v->pattern = GROWTH_SAWTOOTH;
			return;
		}
		if (s->blocks[i] > most)
			most = s->blocks[i];
	}
	/* Old blocks that hardly ever go away: growing, or a full cache. */
	if (4 * v->falls > v->rises) {
		v->pattern = GROWTH_STEADY;
		return;
	}
	if (s->blocks[s->n - 1] - s->blocks[h] >= 2 &&
	    s->blocks[s->n - 1] > s->blocks[s->n - 1 - q]) {
		v->pattern = GROWTH_GROWING;
		keep = 1 - (double)v->falls / (s->n - 1);
		v->confidence = r2 * keep *
				(s->n - 1 < FULL_STEPS ? (s->n - 1) / FULL_STEPS :
							 1);
		return;
	}
	v->pattern = GROWTH_PLATEAU;
}

int growth_verdict_cmp(const struct growth_verdict *a,
		       const struct growth_verdict *b)
{
	if (a->pattern != b->pattern)
		return a->pattern < b->pattern ? -1 : 1;
	if (a->confidence != b->confidence)
		return a->confidence > b->confidence ? -1 : 1;
	if (a->bytes_per_s != b->bytes_per_s)
		return a->bytes_per_s > b->bytes_per_s ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

static int by_verdict(const void *pa, const void *pb)
{
	return growth_verdict_cmp(pa, pb);
}

int growth__verdicts(const struct growth *g, struct growth_verdict **out,
		     size_t *nr)
{
	const struct growth_snap *steps;
	size_t nr_steps = g->nr ? g->nr - 1 : 0, n = 0, cap = 0, k;
	struct growth_verdict *vs = NULL, *v;
	const struct growth_site *gs;
	__u32 id;
	size_t *cur = NULL;
	struct series s = {};
	int err = -ENOMEM;

	*out = NULL;
	*nr = 0;
	if (nr_steps < GROWTH_MIN_SNAPS)
		return 0;
	/* The first snapshot has no old blocks: the series starts after it. */
	steps = g->snaps + 1;
	cur = calloc(nr_steps, sizeof(*cur));
	s.t = calloc(4 * nr_steps, sizeof(double));
	if (!cur || !s.t)
		goto out;
	s.blocks = s.t + nr_steps;
	s.bytes = s.blocks + nr_steps;
	s.low = s.bytes + nr_steps;
	s.n = nr_steps;
	for (k = 0; k < nr_steps; k++)
		s.t[k] = (steps[k].mark.ts_ns - steps[0].mark.ts_ns) / 1e9;
	/* Every snapshot's sites are by stack id: walk them side by side. */
	for (;;) {
		id = UINT32_MAX;
		for (k = 0; k < nr_steps; k++) {
			if (cur[k] < steps[k].nr_sites &&
			    steps[k].sites[cur[k]].stack_id < id)
				id = steps[k].sites[cur[k]].stack_id;
		}
		if (id == UINT32_MAX)
			break;
		if (tab_grow((void **)&vs, &cap, n + 1, sizeof(*vs)))
			goto out;
		v = &vs[n++];
		*v = (struct growth_verdict){ .stack_id = id,
					      .snapshots = nr_steps };
		for (k = 0; k < nr_steps; k++) {
			gs = NULL;
			if (cur[k] < steps[k].nr_sites &&
			    steps[k].sites[cur[k]].stack_id == id)
				gs = &steps[k].sites[cur[k]++];
			s.blocks[k] = gs ? gs->old_blocks : 0;
			s.bytes[k] = gs ? gs->old_bytes : 0;
			s.low[k] = gs ? gs->low_blocks : 0;
			if (k + 1 == nr_steps && gs) {
				v->live_bytes = gs->live_bytes;
				v->live_blocks = gs->live_blocks;
				v->old_bytes = gs->old_bytes;
				v->old_blocks = gs->old_blocks;
			}
		}
		classify(&s, v);
	}
	/* no site at all: vs may be NULL, which qsort may not be given */
	if (n)
		qsort(vs, n, sizeof(*vs), by_verdict);
	*out = vs;
	*nr = n;
	vs = NULL;
	err = 0;
out:
	free(vs);
	free(cur);
	free(s.t);
	return err;
}
