/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Folds: the ended images of one program as one entry of a trace's report
 * (report_opts.fold). -a on a busy host sees thousands of runs of sh, sed
 * and the like in a minute; a model and an entry per image took the tool
 * to 1.7 GB for the report of bench/busy-host.sh's 20 s, its JSON 315 MB
 * (bench/RESULTS.md). A fold merges each image's
 * model into its entry's as soon as it is built and frees it: sites by
 * their resolved frames (an unresolved one by object and offset: each run
 * maps the program elsewhere), anonymous memory's sites the same way, its
 * arenas by object, anomalies as they are. Counts and bytes are the
 * images' sums, exact; the peak is the largest one image reached, and a
 * site's peak figures are what it held at each image's own peak, added.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report_priv.h"
#include "table.h"

/* A merged site, and where it first came, for a stable order. */
struct fold_site {
	struct report_site s;
	__u64 hash;
	size_t seq;
};

struct fold_anon {
	struct report_anon_site s;
	__u64 hash;
	size_t seq;
};

struct fold_group {
	__u64 pos;			/* its entry: top->procs[pos] */
	struct tab_array sites;		/* struct fold_site */
	struct tab_index ix;
	struct tab_array anon;		/* struct fold_anon */
	struct tab_index anon_ix;
	struct tab_array arenas;	/* struct report_arena */
	struct tab_array anomalies;	/* struct report_anomaly */
	bool kernel_all;		/* every image had its counters */
};

struct report_fold {
	struct tab_keyed groups;	/* struct fold_group by pos */
};

struct report_fold *report_fold__new(void)
{
	struct report_fold *f = calloc(1, sizeof(*f));

	if (f && tab_keyed_init(&f->groups, sizeof(struct fold_group),
				offsetof(struct fold_group, pos), 0)) {
		free(f);
		f = NULL;
	}
	return f;
}

static void group_fini(struct fold_group *g)
{
	tab_array_fini(&g->sites);
	tab_index_fini(&g->ix);
	tab_array_fini(&g->anon);
	tab_index_fini(&g->anon_ix);
	tab_array_fini(&g->arenas);
	tab_array_fini(&g->anomalies);
}

void report_fold__free(struct report_fold *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < tab_keyed_nr(&f->groups); i++)
		group_fini(tab_keyed_at(&f->groups, i));
	tab_keyed_fini(&f->groups);
	free(f);
}

static __u32 hash32(__u64 h)
{
	return (__u32)(h ^ h >> 32);
}

/* frames copied into g's arena; NULL stays NULL. */
static struct frame *copy_frames(struct report *g, const struct frame *fr,
				 __u32 nr)
{
	struct frame *out;

	if (!nr)
		return NULL;
	out = report__arena_alloc(g, nr, sizeof(*out));
	if (out)
		memcpy(out, fr, nr * sizeof(*out));
	return out;
}

static void add_summary(struct store_summary *a, const struct store_summary *b)
{
	a->events += b->events;
	a->allocs += b->allocs;
	a->frees += b->frees;
	a->alloc_bytes += b->alloc_bytes;
	a->free_bytes += b->free_bytes;
	a->live_allocs += b->live_allocs;
	a->live_bytes += b->live_bytes;
	if (b->peak_bytes > a->peak_bytes) {
		a->peak_bytes = b->peak_bytes;
		a->peak_ns = b->peak_ns;
	}
	a->failed_allocs += b->failed_allocs;
	a->unknown_frees += b->unknown_frees;
	a->replaced += b->replaced;
	if (b->first_ns && (!a->first_ns || b->first_ns < a->first_ns))
		a->first_ns = b->first_ns;
	if (b->last_ns > a->last_ns)
		a->last_ns = b->last_ns;
	a->anomalies += b->anomalies;
	a->unwalked += b->unwalked;
	a->allocator_frees += b->allocator_frees;
	a->forked_frees += b->forked_frees;
	a->late_frees += b->late_frees;
	a->graves_evicted += b->graves_evicted;
	a->stacks_cut += b->stacks_cut;
}

static void add_kernel(struct ms_counters *a, const struct ms_counters *b)
{
	size_t i;

	a->allocs += b->allocs;
	a->frees += b->frees;
	a->alloc_bytes += b->alloc_bytes;
	a->free_bytes += b->free_bytes;
	a->live_bytes += b->live_bytes;
	a->live_blocks += b->live_blocks;
	if (b->peak_bytes > a->peak_bytes) {
		a->peak_bytes = b->peak_bytes;
		a->peak_ns = b->peak_ns;
	}
	a->failed_allocs += b->failed_allocs;
	a->unknown_frees += b->unknown_frees;
	a->nested_calls += b->nested_calls;
	a->lost_events += b->lost_events;
	a->stack_errors += b->stack_errors;
	a->live_full += b->live_full;
	if (b->seq > a->seq)
		a->seq = b->seq;
	a->task_depth_full += b->task_depth_full;
	a->strings_cut += b->strings_cut;
	for (i = 0; i < MS_STOP__COUNT; i++)
		a->stack_stops[i] += b->stack_stops[i];
}

static void add_anon(struct anon_summary *a, const struct anon_summary *b)
{
	size_t i;

	a->events += b->events;
	a->live_bytes += b->live_bytes;
	a->live_ranges += b->live_ranges;
	if (b->peak_bytes > a->peak_bytes) {
		a->peak_bytes = b->peak_bytes;
		a->peak_ns = b->peak_ns;
	}
	a->calls += b->calls;
	a->mapped_bytes += b->mapped_bytes;
	a->reserved_bytes += b->reserved_bytes;
	a->arena_live_bytes += b->arena_live_bytes;
	a->arena_calls += b->arena_calls;
	a->arena_mapped_bytes += b->arena_mapped_bytes;
	a->arena_reserved_bytes += b->arena_reserved_bytes;
	a->prot_unknown += b->prot_unknown;
	a->full_ranges += b->full_ranges;
	a->full_bytes += b->full_bytes;
	for (i = 0; i < MS_STOP__COUNT; i++)
		a->stack_stops[i] += b->stack_stops[i];
}

static int merge_site(struct report *g, struct fold_group *fg,
		      const struct report_site *s)
{
	__u64 h = report__frames_hash(s->frames, s->nr_frames, s->family);
	struct fold_site *m;
	size_t i;
	int err;

	tab_index_for_run(&fg->ix, hash32(h), i) {
		m = tab_array_at(&fg->sites, tab_index_pos(&fg->ix, i));
		if (m->hash != h || m->s.nr_frames != s->nr_frames ||
		    m->s.family != s->family ||
		    !report__frames_same(m->s.frames, s->frames,
					 s->nr_frames))
			continue;
		m->s.alloc_count += s->alloc_count;
		m->s.alloc_bytes += s->alloc_bytes;
		if (s->live_count && (!m->s.live_count ||
				      s->oldest_ns < m->s.oldest_ns))
			m->s.oldest_ns = s->oldest_ns;
		m->s.live_count += s->live_count;
		m->s.live_bytes += s->live_bytes;
		m->s.peak_count += s->peak_count;
		m->s.peak_bytes += s->peak_bytes;
		m->s.flags = store_site_flags(m->s.flags, s->flags);
		return 0;
	}
	err = tab_array_reserve(&fg->sites, 1);
	if (!err)
		err = tab_index_reserve(&fg->ix);
	if (err)
		return err;
	m = tab_array_push(&fg->sites);
	m->s = *s;
	m->s.declared = (struct declared_site){ 0 };
	memset(m->s.reach, 0, sizeof(m->s.reach));
	m->hash = h;
	m->seq = fg->sites.nr - 1;
	m->s.frames = copy_frames(g, s->frames, s->nr_frames);
	if (s->nr_frames && !m->s.frames)
		return -ENOMEM;
	tab_index_insert(&fg->ix, hash32(h), m->seq);
	return 0;
}

static int merge_anon_site(struct report *g, struct fold_group *fg,
			   const struct report_anon_site *s)
{
	__u64 h = report__frames_hash(s->frames, s->nr_frames, 0);
	struct fold_anon *m;
	size_t i;
	int err;

	tab_index_for_run(&fg->anon_ix, hash32(h), i) {
		m = tab_array_at(&fg->anon, tab_index_pos(&fg->anon_ix, i));
		if (m->hash != h || m->s.nr_frames != s->nr_frames ||
		    !report__frames_same(m->s.frames, s->frames,
					 s->nr_frames))
			continue;
		m->s.live_bytes += s->live_bytes;
		m->s.live_ranges += s->live_ranges;
		m->s.reserved_bytes += s->reserved_bytes;
		m->s.peak_bytes += s->peak_bytes;
		m->s.calls += s->calls;
		m->s.mapped_bytes += s->mapped_bytes;
		m->s.flags = store_site_flags(m->s.flags, s->flags);
		return 0;
	}
	err = tab_array_reserve(&fg->anon, 1);
	if (!err)
		err = tab_index_reserve(&fg->anon_ix);
	if (err)
		return err;
	m = tab_array_push(&fg->anon);
	m->s = *s;
	m->hash = h;
	m->seq = fg->anon.nr - 1;
	m->s.frames = copy_frames(g, s->frames, s->nr_frames);
	if (s->nr_frames && !m->s.frames)
		return -ENOMEM;
	tab_index_insert(&fg->anon_ix, hash32(h), m->seq);
	return 0;
}

/* Arenas are a few objects: a scan. Their names are the trace's pool's. */
static int merge_arena(struct fold_group *fg, const struct report_arena *a)
{
	struct report_arena *m;
	size_t i;
	int err;

	for (i = 0; i < fg->arenas.nr; i++) {
		m = tab_array_at(&fg->arenas, i);
		if (m->object == a->object ||
		    (m->object && a->object && !strcmp(m->object, a->object)))
			goto add;
	}
	err = tab_array_reserve(&fg->arenas, 1);
	if (err)
		return err;
	m = tab_array_push(&fg->arenas);
	m->object = a->object;
add:
	m->live_bytes += a->live_bytes;
	m->reserved_bytes += a->reserved_bytes;
	m->calls += a->calls;
	m->mapped_bytes += a->mapped_bytes;
	return 0;
}

static int merge_anomaly(struct report *g, struct fold_group *fg,
			 const struct report_anomaly *a)
{
	struct report_anomaly *m;
	int err = tab_array_reserve(&fg->anomalies, 1);

	if (err)
		return err;
	m = tab_array_push(&fg->anomalies);
	*m = *a;
	m->proc = fg->pos;
	m->alloc_frames = copy_frames(g, a->alloc_frames, a->nr_alloc_frames);
	m->free_frames = copy_frames(g, a->free_frames, a->nr_free_frames);
	if ((a->nr_alloc_frames && !m->alloc_frames) ||
	    (a->nr_free_frames && !m->free_frames))
		return -ENOMEM;
	return 0;
}

/* The entry's model, made of its first image's. */
static struct report *group_model(const struct report *top,
				  const struct report_proc *rp,
				  const struct report *pr)
{
	struct report *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->target = pr->target;
	g->target.command = rp->command;
	g->filter = pr->filter;
	g->folded_weight = pr->folded_weight;
	g->have_kernel = true;
	g->top = top->top;
	g->top_procs = top->top_procs;
	g->ended = true;
	g->anon.traced = pr->anon.traced;
	g->strings = top->strings;
	g->shared_strings = true;
	return g;
}

static int merge(struct report *g, struct fold_group *fg,
		 const struct report *pr)
{
	size_t i;
	int err = 0;

	g->folded++;
	add_summary(&g->summary, &pr->summary);
	if (pr->have_kernel)
		add_kernel(&g->kernel, &pr->kernel);
	else
		fg->kernel_all = false;
	g->filter_count += pr->filter_count;
	g->filter_bytes += pr->filter_bytes;
	for (i = 0; !err && i < pr->nr_sites; i++)
		err = merge_site(g, fg, &pr->sites[i]);
	add_anon(&g->anon.sum, &pr->anon.sum);
	for (i = 0; !err && i < pr->anon.nr_sites; i++)
		err = merge_anon_site(g, fg, &pr->anon.sites[i]);
	for (i = 0; !err && i < pr->anon.nr_arenas; i++)
		err = merge_arena(fg, &pr->anon.arenas[i]);
	for (i = 0; !err && i < pr->nr_anomalies; i++)
		err = merge_anomaly(g, fg, &pr->anomalies[i]);
	return err;
}

int report_fold__add(struct report_fold *f, struct report *top, size_t pos,
		     struct report *pr, const struct proc_image *im)
{
	struct report_proc *rp = &top->procs[pos];
	struct fold_group *fg = tab_keyed_get(&f->groups, pos);
	int err = 0;

	if (!fg) {
		err = tab_keyed_reserve(&f->groups);
		if (err)
			goto out;
		fg = tab_keyed_add(&f->groups, pos);
		memset(fg, 0, sizeof(*fg));
		fg->pos = pos;
		fg->kernel_all = true;
		tab_array_init(&fg->sites, sizeof(struct fold_site), 0);
		tab_index_init_empty(&fg->ix);
		tab_array_init(&fg->anon, sizeof(struct fold_anon), 0);
		tab_index_init_empty(&fg->anon_ix);
		tab_array_init(&fg->arenas, sizeof(struct report_arena), 0);
		tab_array_init(&fg->anomalies, sizeof(struct report_anomaly),
			       0);
	}
	if (!rp->r) {
		rp->r = group_model(top, rp, pr);
		if (!rp->r) {
			err = -ENOMEM;
			goto out;
		}
	}
	rp->folded++;
	if (im->end == PROC_EXITED && im->exit_code)
		rp->folded_failed++;
	rp->end = im->end;
	rp->end_ns = im->end_ns;
	rp->exit_code = im->exit_code;
	rp->last_pid = im->info.pid;
	top->folded_images++;
	err = merge(rp->r, fg, pr);
out:
	report__free(pr);
	return err;
}

/* The orders of the merged sites: a list's figure, count, then arrival. */
enum fold_order { BY_ALLOC, BY_LIVE, BY_PEAK };

static void metric(const struct report_site *s, enum fold_order o,
		   __u64 *count, __u64 *bytes)
{
	switch (o) {
	case BY_LIVE:
		*count = s->live_count;
		*bytes = s->live_bytes;
		break;
	case BY_PEAK:
		*count = s->peak_count;
		*bytes = s->peak_bytes;
		break;
	default:
		*count = s->alloc_count;
		*bytes = s->alloc_bytes;
	}
}

static int site_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct fold_site *a = pa, *b = pb;
	enum fold_order o = *(enum fold_order *)ctx;
	__u64 ac, ab, bc, bb;

	metric(&a->s, o, &ac, &ab);
	metric(&b->s, o, &bc, &bb);
	if (ab != bb)
		return ab < bb ? 1 : -1;
	if (ac != bc)
		return ac < bc ? 1 : -1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * One list of the merged sites, ranked as an image ranks its own (top
 * applies to leaks and peak), count and bytes the list's figure.
 */
static int site_list(struct report *g, struct fold_group *fg,
		     enum fold_order o, size_t top, struct report_site **out,
		     size_t *nr)
{
	struct fold_site *v = fg->sites.v;
	size_t i, kept = 0;
	__u64 count, bytes;

	if (!fg->sites.nr) {
		*nr = 0;
		return 0;
	}
	qsort_r(v, fg->sites.nr, sizeof(*v), site_cmp, &o);
	for (i = 0; i < fg->sites.nr; i++) {
		metric(&v[i].s, o, &count, &bytes);
		if (!count)
			break;
		kept++;
	}
	if (o != BY_ALLOC && top && kept > top)
		kept = top;
	*nr = kept;
	if (!kept)
		return 0;
	*out = report__arena_alloc(g, kept, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < kept; i++) {
		(*out)[i] = v[i].s;
		metric(&v[i].s, o, &(*out)[i].count, &(*out)[i].bytes);
		(*out)[i].proc = fg->pos;
	}
	return 0;
}

static int anon_cmp(const void *pa, const void *pb)
{
	const struct fold_anon *a = pa, *b = pb;
	int c = report__anon_site_cmp(&a->s, &b->s);

	return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int finish(struct report *g, struct fold_group *fg)
{
	struct report_anon *ra = &g->anon;
	size_t i;
	int err;

	g->have_kernel = fg->kernel_all;
	if (!fg->kernel_all)
		memset(&g->kernel, 0, sizeof(g->kernel));
	err = site_list(g, fg, BY_LIVE, g->top, &g->leaks, &g->nr_leaks);
	if (!err)
		err = site_list(g, fg, BY_PEAK, g->top, &g->peak, &g->nr_peak);
	if (!err)
		err = site_list(g, fg, BY_ALLOC, 0, &g->sites, &g->nr_sites);
	if (err)
		return err;
	if (fg->anon.nr) {
		struct fold_anon *v = fg->anon.v;

		qsort(v, fg->anon.nr, sizeof(*v), anon_cmp);
		ra->nr_sites = g->top && fg->anon.nr > g->top ? g->top :
			       fg->anon.nr;
		ra->sites = report__arena_alloc(g, ra->nr_sites,
						sizeof(*ra->sites));
		if (!ra->sites)
			return -ENOMEM;
		for (i = 0; i < ra->nr_sites; i++)
			ra->sites[i] = v[i].s;
	}
	if (fg->arenas.nr) {
		qsort(fg->arenas.v, fg->arenas.nr, sizeof(struct report_arena),
		      report__arena_cmp);
		ra->arenas = report__arena_alloc(g, fg->arenas.nr,
						 sizeof(*ra->arenas));
		if (!ra->arenas)
			return -ENOMEM;
		memcpy(ra->arenas, fg->arenas.v,
		       fg->arenas.nr * sizeof(*ra->arenas));
		ra->nr_arenas = fg->arenas.nr;
	}
	if (fg->anomalies.nr) {
		qsort(fg->anomalies.v, fg->anomalies.nr,
		      sizeof(struct report_anomaly), report__anomaly_cmp);
		g->anomalies = report__arena_alloc(g, fg->anomalies.nr,
						   sizeof(*g->anomalies));
		if (!g->anomalies)
			return -ENOMEM;
		memcpy(g->anomalies, fg->anomalies.v,
		       fg->anomalies.nr * sizeof(*g->anomalies));
		g->nr_anomalies = fg->anomalies.nr;
	}
	return 0;
}

int report_fold__finish(struct report_fold *f, struct report *top)
{
	struct fold_group *fg;
	size_t i;
	int err;

	for (i = 0; i < tab_keyed_nr(&f->groups); i++) {
		fg = tab_keyed_at(&f->groups, i);
		err = finish(top->procs[fg->pos].r, fg);
		if (err)
			return err;
		top->folded_entries++;
	}
	return 0;
}
