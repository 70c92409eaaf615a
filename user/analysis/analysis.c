/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Analysis of the declared state.
 *
 * Zombie tasks. Two rules, and nothing else fires:
 *  - completed-with-live-blocks: a task completed while blocks it
 *    allocated stayed live, and they are still live at the end. Only
 *    blocks allocated before the completion count: the task owned them
 *    while it ran. Confidence grows from 0.5 with how long they outlived
 *    the task (up to the idle threshold) and with the share of what was
 *    live at completion that never went away, up to 0.95:
 *	0.5 + 0.45 * min(1, quiet / idle_threshold) * bytes / done_bytes
 *  - never-completed-idle: a task never completed whose last activity
 *    (creation, enter, leave, attributed allocation) is older than the
 *    idle threshold at the end of the trace:
 *	min(0.95, 0.5 * idle / idle_threshold)
 *    so just past the threshold is a coin toss, twice it as sure as a
 *    guess gets.
 * Each names where most of the bytes concerned come from.
 *
 * Clone storms: more than storm_clones shares of one block within any
 * window of storm_window_ns, found with a sliding window over the share
 * times; confidence c / (c + storm_clones) for c shares in the densest
 * window, so a storm just over the line is about 0.5.
 *
 * Passports: the violations the state machine found as they happened,
 * and the one only the end shows: a passport handed over and neither
 * reclaimed nor freed (its stack: the handover).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"

#define CONFIDENCE_MAX		0.95

/* A live block, for grouping by task and stack. */
struct blk {
	__u32 task;		/* store_block.task */
	__u32 stack_id;
	__u64 size;
};

/* The blocks of one task that a rule looks at, and where most come from. */
struct task_blocks {
	__u64 count;
	__u64 bytes;
	__u64 top_count;
	__u64 top_bytes;
	__u32 top_stack;
};

struct collect {
	const struct declared *d;
	struct blk *blks;
	size_t nr;
	size_t cap;
};

static void *calloc_n(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static __u64 end_of(const struct report_rules *r, __u64 ts)
{
	return r->end_ns > ts ? r->end_ns - ts : 0;
}

static double fmin1(double x)
{
	return x < 1 ? x : 1;
}

/* id, then record order: a task's records by id in the order seen. */
struct idref {
	__u64 id;
	size_t i;
};

static int idref_cmp(const void *pa, const void *pb)
{
	const struct idref *a = pa, *b = pb;

	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * The parent of record i: the last record of its parent id seen before
 * it. Requiring "before" keeps the tree a tree whatever ids claim.
 */
static size_t parent_of(const struct idref *ids, size_t n, __u64 parent,
			size_t i)
{
	size_t lo = 0, hi = n, mid;

	/* the first entry after (parent, i) */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ids[mid].id < parent ||
		    (ids[mid].id == parent && ids[mid].i < i))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && ids[lo - 1].id == parent)
		return ids[lo - 1].i;
	return DECLARED_NONE;
}

/* Children in record order, then a depth-first walk: pre-order. */
static int tree_order(const struct declared *d, size_t n, size_t *order,
		      __u32 *depth, size_t *parent)
{
	size_t *first = NULL, *last = NULL, *next = NULL, *stack = NULL;
	struct idref *ids = NULL;
	size_t i, p, sp = 0, k = 0;
	int err = -ENOMEM;

	ids = calloc_n(n, sizeof(*ids));
	first = calloc_n(n, sizeof(*first));
	last = calloc_n(n, sizeof(*last));
	next = calloc_n(n, sizeof(*next));
	stack = calloc_n(n, sizeof(*stack));
	if (!ids || !first || !last || !next || !stack)
		goto out;
	for (i = 0; i < n; i++) {
		ids[i].id = declared__task(d, i)->id;
		ids[i].i = i;
		first[i] = last[i] = next[i] = DECLARED_NONE;
	}
	qsort(ids, n, sizeof(*ids), idref_cmp);
	for (i = 0; i < n; i++) {
		const struct declared_task *t = declared__task(d, i);

		parent[i] = t->parent ? parent_of(ids, n, t->parent, i) :
					DECLARED_NONE;
		p = parent[i];
		if (p == DECLARED_NONE)
			continue;
		if (last[p] == DECLARED_NONE)
			first[p] = i;
		else
			next[last[p]] = i;
		last[p] = i;
	}
	/* Roots in record order, each subtree whole before the next root. */
	for (i = n; i-- > 0;) {
		if (parent[i] == DECLARED_NONE)
			stack[sp++] = i;
	}
	while (sp) {
		size_t c, nc = 0;

		i = stack[--sp];
		order[k++] = i;
		depth[i] = parent[i] == DECLARED_NONE ? 0 :
			   depth[parent[i]] + 1;
		/* children go on last-first, so the first comes off first */
		for (c = first[i]; c != DECLARED_NONE; c = next[c])
			nc++;
		for (c = first[i], p = sp + nc; c != DECLARED_NONE; c = next[c])
			stack[--p] = c;
		sp += nc;
	}
	err = 0;
out:
	free(ids);
	free(first);
	free(last);
	free(next);
	free(stack);
	return err;
}

static int build_tasks(struct analysis *a, const struct declared *d,
		       size_t *pos)
{
	size_t n = declared__nr_tasks(d), *order, *parent, k;
	__u32 *depth;
	int err = -ENOMEM;

	order = calloc_n(n, sizeof(*order));
	parent = calloc_n(n, sizeof(*parent));
	depth = calloc_n(n, sizeof(*depth));
	a->tasks = calloc_n(n, sizeof(*a->tasks));
	if (!order || !parent || !depth || !a->tasks)
		goto out;
	err = tree_order(d, n, order, depth, parent);
	if (err)
		goto out;
	for (k = 0; k < n; k++) {
		const struct declared_task *t = declared__task(d, order[k]);
		struct report_task *rt = &a->tasks[k];
		__u64 from = t->created ? t->created_ns : t->first_ns;
		__u64 to = t->completed ? t->completed_ns : a->rules.end_ns;

		rt->t = *t;
		rt->depth = depth[order[k]];
		rt->parent_known = parent[order[k]] != DECLARED_NONE;
		rt->lifetime_ns = to > from ? to - from : 0;
		pos[order[k]] = k;
	}
	a->nr_tasks = n;
out:
	free(order);
	free(parent);
	free(depth);
	return err;
}

static int collect_blk(const struct store_block *b, void *ctx)
{
	struct collect *c = ctx;
	const struct declared_task *t;
	struct blk *blks;

	if (!b->task)
		return 0;
	t = declared__task(c->d, b->task - 1);
	/* A completed task answers only for what it held when it ended. */
	if (t->completed && b->ts_ns > t->completed_ns)
		return 0;
	if (c->nr == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		blks = realloc(c->blks, c->cap * sizeof(*blks));
		if (!blks)
			return -ENOMEM;
		c->blks = blks;
	}
	c->blks[c->nr++] = (struct blk){
		.task = b->task, .stack_id = b->stack_id, .size = b->size,
	};
	return 0;
}

static int blk_cmp(const void *pa, const void *pb)
{
	const struct blk *a = pa, *b = pb;

	if (a->task != b->task)
		return a->task < b->task ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

/* tb[ref - 1]: the blocks the zombie rules look at, per task. */
static int group_blocks(const struct store *st, const struct declared *d,
			struct task_blocks *tb)
{
	struct collect c = { .d = d };
	struct task_blocks *t;
	__u64 cnt, bytes;
	size_t i, j;
	int err;

	err = store__for_each_live(st, collect_blk, &c);
	if (err || !c.nr)
		goto out;
	qsort(c.blks, c.nr, sizeof(*c.blks), blk_cmp);
	for (i = 0; i < c.nr; i = j) {
		t = &tb[c.blks[i].task - 1];
		cnt = bytes = 0;
		for (j = i; j < c.nr && !blk_cmp(&c.blks[i], &c.blks[j]); j++) {
			cnt++;
			bytes += c.blks[j].size;
		}
		t->count += cnt;
		t->bytes += bytes;
		if (bytes > t->top_bytes) {
			t->top_bytes = bytes;
			t->top_count = cnt;
			t->top_stack = c.blks[i].stack_id;
		}
	}
out:
	free(c.blks);
	return err;
}

static int zombie_cmp(const void *pa, const void *pb)
{
	const struct report_zombie *a = pa, *b = pb;

	if (a->confidence != b->confidence)
		return a->confidence < b->confidence ? 1 : -1;
	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	return a->task < b->task ? -1 : a->task > b->task;
}

/* Whether task t is a zombie candidate, and by which rule. */
static bool zombie_rule(const struct report_rules *r,
			const struct declared_task *t,
			const struct task_blocks *tb, struct report_zombie *z)
{
	double quiet, share;

	if (t->completed) {
		if (!tb->count)
			return false;
		z->rule = REPORT_RULE_COMPLETED_LIVE;
		z->since_ns = t->completed_ns;
		z->quiet_ns = end_of(r, t->completed_ns);
		quiet = fmin1((double)z->quiet_ns / r->idle_threshold_ns);
		share = t->done_bytes ?
			fmin1((double)tb->bytes / t->done_bytes) : 1;
		z->confidence = 0.5 + (CONFIDENCE_MAX - 0.5) * quiet * share;
		return true;
	}
	z->since_ns = t->last_active_ns;
	z->quiet_ns = end_of(r, t->last_active_ns);
	if (z->quiet_ns <= r->idle_threshold_ns)
		return false;
	z->rule = REPORT_RULE_NEVER_COMPLETED;
	z->confidence = 0.5 * z->quiet_ns / r->idle_threshold_ns;
	if (z->confidence > CONFIDENCE_MAX)
		z->confidence = CONFIDENCE_MAX;
	return true;
}

static int build_zombies(struct analysis *a, const struct store *st,
			 const struct declared *d, const size_t *pos)
{
	size_t n = declared__nr_tasks(d), i;
	struct task_blocks *tb;
	struct report_zombie *z;
	int err = -ENOMEM;

	tb = calloc_n(n, sizeof(*tb));
	a->zombies = calloc_n(n, sizeof(*a->zombies));
	if (!tb || !a->zombies)
		goto out;
	err = group_blocks(st, d, tb);
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		z = &a->zombies[a->nr_zombies];
		if (!zombie_rule(&a->rules, declared__task(d, i), &tb[i], z))
			continue;
		z->task = pos[i];
		z->count = tb[i].count;
		z->bytes = tb[i].bytes;
		z->top_count = tb[i].top_count;
		z->top_bytes = tb[i].top_bytes;
		z->stack_id = tb[i].top_stack;
		a->nr_zombies++;
	}
	qsort(a->zombies, a->nr_zombies, sizeof(*a->zombies), zombie_cmp);
out:
	free(tb);
	return err;
}

static int build_tracked(struct analysis *a, const struct declared *d)
{
	size_t n = declared__nr_tracked(d), i;

	a->tracked = calloc_n(n, sizeof(*a->tracked));
	if (!a->tracked)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		a->tracked[i] = *declared__tracked(d, i);
	a->nr_tracked = n;
	return 0;
}

/* By time; at the same instant, in the order they were found. */
static int violation_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct report_violation *v = ctx;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	if (v[a].v.ev.ts_ns != v[b].v.ev.ts_ns)
		return v[a].v.ev.ts_ns < v[b].v.ev.ts_ns ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Puts the violations in time order. */
static int sort_violations(struct analysis *a)
{
	size_t n = a->nr_violations, *idx, i;
	struct report_violation *sorted;

	idx = calloc_n(n, sizeof(*idx));
	sorted = calloc_n(n, sizeof(*sorted));
	if (!idx || !sorted) {
		free(idx);
		free(sorted);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), violation_cmp, a->violations);
	for (i = 0; i < n; i++)
		sorted[i] = a->violations[idx[i]];
	free(a->violations);
	a->violations = sorted;
	free(idx);
	return 0;
}

/* Handed over and neither reclaimed nor freed by the end of the trace. */
static bool never_freed(const struct declared_passport *p)
{
	return !p->freed && p->nr_handovers &&
	       strcmp(p->custody, DECLARED_HOST);
}

static int build_passports(struct analysis *a, const struct declared *d)
{
	size_t np = declared__nr_passports(d), nv = declared__nr_violations(d);
	const struct declared_passport *p;
	struct report_violation *v;
	size_t i;

	a->passports = calloc_n(np, sizeof(*a->passports));
	a->violations = calloc_n(np + nv, sizeof(*a->violations));
	if (!a->passports || !a->violations)
		return -ENOMEM;
	for (i = 0; i < nv; i++)
		a->violations[i].v = *declared__violation(d, i);
	a->nr_violations = nv;
	for (i = 0; i < np; i++) {
		p = declared__passport(d, i);
		a->passports[i].p = *p;
		if (!never_freed(p))
			continue;
		a->passports[i].p.nr_violations++;
		v = &a->violations[a->nr_violations++];
		v->v = (struct declared_violation){
			.kind = DECLARED_PV_NEVER_FREED,
			.ptr = p->ptr,
			.passport = i,
			.custody = p->custody,
			.ev = p->last_handover,
		};
	}
	a->nr_passports = np;
	return sort_violations(a);
}

static int share_ev_cmp(const void *pa, const void *pb)
{
	const struct declared_share_ev *a = pa, *b = pb;

	if (a->shared != b->shared)
		return a->shared < b->shared ? -1 : 1;
	return a->ts_ns < b->ts_ns ? -1 : a->ts_ns > b->ts_ns;
}

static int u32_cmp(const void *pa, const void *pb)
{
	__u32 a = *(const __u32 *)pa, b = *(const __u32 *)pb;

	return a < b ? -1 : a > b;
}

/* The stack most of n shares were made from: the loop that cloned. */
static int window_stack(const struct declared_share_ev *ev, size_t n,
			__u32 *stack_id)
{
	__u32 *ids = calloc_n(n, sizeof(*ids));
	size_t i, j, best = 0;

	if (!ids)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ids[i] = ev[i].stack_id;
	qsort(ids, n, sizeof(*ids), u32_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && ids[j] == ids[i]; j++)
			;
		if (j - i > best) {
			best = j - i;
			*stack_id = ids[i];
		}
	}
	free(ids);
	return 0;
}

/*
 * The densest window of each block's shares, sliding over their times,
 * and where most of its shares were made.
 */
static int find_storms(struct analysis *a, const struct declared_share_ev *ev,
		       size_t n)
{
	const struct report_rules *r = &a->rules;
	size_t i, lo, start, best, best_lo;
	struct report_storm *s;
	int err;

	for (start = 0; start < n; start = i) {
		best = best_lo = 0;
		for (i = lo = start; i < n && ev[i].shared == ev[start].shared;
		     i++) {
			while (ev[i].ts_ns - ev[lo].ts_ns > r->storm_window_ns)
				lo++;
			if (i - lo + 1 > best) {
				best = i - lo + 1;
				best_lo = lo;
			}
		}
		if (best <= r->storm_clones)
			continue;
		s = &a->storms[a->nr_storms++];
		s->rule = REPORT_RULE_CLONE_STORM;
		s->confidence = (double)best / (best + r->storm_clones);
		s->shared = ev[start].shared;
		s->clones = best;
		s->start_ns = ev[best_lo].ts_ns;
		s->end_ns = ev[best_lo + best - 1].ts_ns;
		err = window_stack(ev + best_lo, best, &s->stack_id);
		if (err)
			return err;
	}
	return 0;
}

static int build_shared(struct analysis *a, const struct declared *d)
{
	size_t n = declared__nr_shared(d), nlog, i;
	const struct declared_share_ev *log;
	struct declared_share_ev *ev;
	int err;

	nlog = declared__share_log(d, &log);
	a->shared = calloc_n(n, sizeof(*a->shared));
	a->storms = calloc_n(n, sizeof(*a->storms));
	ev = calloc_n(nlog, sizeof(*ev));
	if (!a->shared || !a->storms || !ev) {
		free(ev);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		a->shared[i].s = *declared__shared(d, i);
	a->nr_shared = n;
	if (nlog)
		memcpy(ev, log, nlog * sizeof(*ev));
	qsort(ev, nlog, sizeof(*ev), share_ev_cmp);
	err = find_storms(a, ev, nlog);
	free(ev);
	return err;
}

struct analysis *analysis__new(const struct store *st,
			       const struct report_rules *rules)
{
	const struct declared *d = store__declared(st);
	struct analysis *a;
	size_t *pos = NULL;
	int err = -ENOMEM;

	a = calloc(1, sizeof(*a));
	if (!a)
		goto err_out;
	if (rules)
		a->rules = *rules;
	if (!a->rules.idle_threshold_ns)
		a->rules.idle_threshold_ns = REPORT_IDLE_THRESHOLD_NS;
	if (!a->rules.storm_clones)
		a->rules.storm_clones = REPORT_STORM_CLONES;
	if (!a->rules.storm_window_ns)
		a->rules.storm_window_ns = REPORT_STORM_WINDOW_NS;
	if (!a->rules.end_ns)
		a->rules.end_ns = store__summary(st)->last_ns;

	pos = calloc_n(declared__nr_tasks(d), sizeof(*pos));
	if (!pos)
		goto err_free;
	err = build_tasks(a, d, pos);
	if (!err)
		err = build_zombies(a, st, d, pos);
	if (!err)
		err = build_tracked(a, d);
	if (!err)
		err = build_passports(a, d);
	if (!err)
		err = build_shared(a, d);
	if (err)
		goto err_free;
	free(pos);
	return a;

err_free:
	free(pos);
	analysis__free(a);
err_out:
	errno = -err;
	return NULL;
}

void analysis__free(struct analysis *a)
{
	if (!a)
		return;
	free(a->tasks);
	free(a->zombies);
	free(a->tracked);
	free(a->passports);
	free(a->violations);
	free(a->shared);
	free(a->storms);
	free(a);
}
