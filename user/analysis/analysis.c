/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Analysis of the declared state: the task tree, declared variables,
 * passports with the violation only the end of the trace shows (a
 * passport handed over and neither reclaimed nor freed; its stack: the
 * handover), and shared blocks. What is inferred from them is the rules'
 * (user/rules/).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"

static void *calloc_n(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
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

static int build_tasks(struct analysis *a, const struct declared *d)
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
		__u64 to = t->completed ? t->completed_ns : a->end_ns;

		rt->t = *t;
		rt->depth = depth[order[k]];
		rt->parent_known = parent[order[k]] != DECLARED_NONE;
		rt->lifetime_ns = to > from ? to - from : 0;
		a->task_pos[order[k]] = k;
	}
	a->nr_tasks = n;
out:
	free(order);
	free(parent);
	free(depth);
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

static int build_shared(struct analysis *a, const struct declared *d)
{
	size_t n = declared__nr_shared(d), i;

	a->shared = calloc_n(n, sizeof(*a->shared));
	if (!a->shared)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		a->shared[i].s = *declared__shared(d, i);
	a->nr_shared = n;
	return 0;
}

struct analysis *analysis__new(const struct store *st, __u64 end_ns)
{
	const struct declared *d = store__declared(st);
	struct analysis *a;
	int err = -ENOMEM;

	a = calloc(1, sizeof(*a));
	if (!a)
		goto err_out;
	a->end_ns = end_ns ? end_ns : store__summary(st)->last_ns;
	a->task_pos = calloc_n(declared__nr_tasks(d), sizeof(*a->task_pos));
	if (!a->task_pos)
		goto err_free;
	err = build_tasks(a, d);
	if (!err)
		err = build_tracked(a, d);
	if (!err)
		err = build_passports(a, d);
	if (!err)
		err = build_shared(a, d);
	if (err)
		goto err_free;
	return a;

err_free:
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
	free(a->task_pos);
	free(a->tracked);
	free(a->passports);
	free(a->violations);
	free(a->shared);
	free(a);
}
