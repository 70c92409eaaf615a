/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Declared state, kept beside the store's live blocks.
 *
 * The dependency runs one way: the store (store.c) owns this state and
 * feeds it through declared.h; nothing here includes store.h or calls the
 * store. What it needs of a captured block comes as arguments, or as a
 * declared_block for the block a record names.
 *
 * Every table is a dense array; those looked up by a key (task id, block
 * or handle address, passport ptr) are keyed tables (table.h), so a
 * lookup is one probe run whatever the size. Tables whose records end
 * (declared variables, handles) stay dense by moving their last record
 * into the hole; the others keep every record for the report, and their
 * index points at the current one of each key.
 *
 * Strings are interned: names repeat ("request", "struct cache"), and an
 * interned string compares by pointer, which the passport state machine
 * does on every operation. The pool only grows; a string stays valid as
 * long as the store.
 *
 * Applying a record first validates it, then interns its strings and
 * reserves room in every table it will touch, and only then changes
 * anything, so a failure leaves the state as it was (an interned string
 * nobody refers to changes nothing).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "declared.h"
#include "table.h"

#define HISTORY_MIN	4
#define SLOT_NONE	((__u32)-1)

struct track {
	struct declared_track pub;
	__u32 slot;		/* its name's slot in its site, or SLOT_NONE */
};

struct handle {
	__u64 addr;
	size_t shared;
};

struct passport {
	struct declared_passport pub;
	__u32 history_cap;
};

/*
 * A call site's declared blocks, exact at the peak the way the store's
 * sites are: the first change within a peak epoch copies live into snap.
 */
struct site_decl {
	__u64 stack_id;
	__u64 epoch;
	__u64 live;
	__u64 snap;
	__u32 nr_names;
	struct {
		const char *name;
		const char *type;
		__u8 kind;
		__u64 live;
		__u64 snap;
	} names[DECLARED_SITE_NAMES];
};

struct declared {
	struct declared_stats stats;
	struct tab_pool pool;
	const char *host;	/* DECLARED_HOST, interned with the first
				 * passport: a pool page for every process
				 * image that declares nothing was half of
				 * what an ended one kept */
	struct tab_keyed tasks;		/* struct declared_task, by id */
	struct tab_keyed tracks;	/* struct track, by ptr, live only */
	struct tab_keyed shared;	/* struct declared_shared, by ptr */
	struct tab_keyed handles;	/* struct handle, by addr, live only */
	struct tab_keyed passports;	/* struct passport, by ptr */
	struct tab_array share_log;	/* struct declared_share_ev */
	struct tab_array violations;	/* struct declared_violation */
	struct tab_keyed sites;		/* struct site_decl, by stack id */
};

static void site_snap(struct site_decl *sd, __u64 epoch)
{
	__u32 i;

	if (sd->epoch == epoch)
		return;
	sd->epoch = epoch;
	sd->snap = sd->live;
	for (i = 0; i < sd->nr_names; i++)
		sd->names[i].snap = sd->names[i].live;
}

/* Room for the record of a site that has no declared block yet. */
static int site_reserve(struct declared *d, __u32 stack_id)
{
	if (tab_keyed_get(&d->sites, stack_id))
		return 0;
	return tab_keyed_reserve(&d->sites);
}

/* A declared block of the site: counted, under its name while there is room. */
static void site_add(struct declared *d, struct track *t, __u64 epoch)
{
	struct site_decl *sd = tab_keyed_get(&d->sites, t->pub.stack_id);
	__u32 i;

	if (!sd)
		sd = tab_keyed_add(&d->sites, t->pub.stack_id);

	site_snap(sd, epoch);
	sd->live++;
	for (i = 0; i < sd->nr_names; i++) {
		if (sd->names[i].name == t->pub.name &&
		    sd->names[i].type == t->pub.type &&
		    sd->names[i].kind == t->pub.kind)
			goto found;
	}
	/* A slot empty now and at the peak names nothing: take it. */
	for (i = 0; i < sd->nr_names; i++) {
		if (!sd->names[i].live && !sd->names[i].snap)
			break;
	}
	if (i == DECLARED_SITE_NAMES) {
		t->slot = SLOT_NONE;
		return;
	}
	if (i == sd->nr_names)
		sd->nr_names++;
	sd->names[i].name = t->pub.name;
	sd->names[i].type = t->pub.type;
	sd->names[i].kind = t->pub.kind;
found:
	t->slot = i;
	sd->names[i].live++;
}

static void site_drop(struct declared *d, const struct track *t, __u64 epoch)
{
	struct site_decl *sd = tab_keyed_get(&d->sites, t->pub.stack_id);

	site_snap(sd, epoch);
	sd->live--;
	if (t->slot != SLOT_NONE)
		sd->names[t->slot].live--;
}

/* Ends a declared variable: its block's site no longer counts it. */
static void track_end(struct declared *d, struct track *t, __u64 epoch)
{
	if (t->pub.has_block)
		site_drop(d, t, epoch);
	tab_keyed_delete(&d->tracks, t);
}

static struct declared_task *task_cur(const struct declared *d, __u64 id)
{
	return tab_keyed_get(&d->tasks, id);
}

static size_t task_ref_of(const struct declared *d,
			  const struct declared_task *t)
{
	return tab_keyed_pos(&d->tasks, t) + 1;
}

/* A new record for id (tab_keyed_reserve() done): the id's current task. */
static struct declared_task *task_add(struct declared *d, __u64 id,
				      __u64 ts)
{
	struct declared_task *t = tab_keyed_add(&d->tasks, id);

	t->first_ns = ts;
	t->last_active_ns = ts;
	return t;
}

/*
 * The current task of id, added as a placeholder (no name) if it is new.
 * NULL with *err: -ENOMEM, or -ENOSPC when the table is full.
 */
static struct declared_task *task_get(struct declared *d, __u64 id, __u64 ts,
				      int *err)
{
	struct declared_task *t = task_cur(d, id);

	*err = 0;
	if (t)
		return t;
	*err = tab_keyed_reserve(&d->tasks);
	return *err ? NULL : task_add(d, id, ts);
}

static void task_touch(struct declared_task *t, __u64 ts)
{
	if (ts > t->last_active_ns)
		t->last_active_ns = ts;
}

/* A full table drops the record, counted; only -ENOMEM is an error. */
static int dropped(struct declared *d, int err)
{
	if (err != -ENOSPC)
		return err;
	d->stats.dropped++;
	return 0;
}

static int apply_task_create(struct declared *d, const struct ms_event *e,
			     const char *name)
{
	struct declared_task *t = task_cur(d, e->task);
	int err;

	if (t && t->created && !t->completed) {
		d->stats.tasks_repeated++;
		return 0;
	}
	/* An id seen before only by enter or attribution: now it has a name. */
	if (!t || t->completed) {
		err = tab_keyed_reserve(&d->tasks);
		if (err)
			return dropped(d, err);
		t = task_add(d, e->task, e->ts_ns);
	}
	t->created = true;
	t->created_ns = e->ts_ns;
	t->parent = e->aux;
	t->name = *name ? name : NULL;
	/* Created and never run is a state too: its last activity is now. */
	task_touch(t, e->ts_ns);
	return 0;
}

static int apply_task(struct declared *d, const struct ms_event *e)
{
	struct declared_task *t;
	int err;

	t = task_get(d, e->task, e->ts_ns, &err);
	if (!t)
		return dropped(d, err);
	task_touch(t, e->ts_ns);
	switch (e->type) {
	case MS_EV_TASK_ENTER:
		t->active++;
		break;
	case MS_EV_TASK_LEAVE:
		if (t->active)
			t->active--;
		break;
	case MS_EV_TASK_COMPLETE:
		if (t->completed) {
			d->stats.tasks_repeated++;
			break;
		}
		t->completed = true;
		t->completed_ns = e->ts_ns;
		t->done_count = t->live_count;
		t->done_bytes = t->live_bytes;
		break;
	}
	return 0;
}

static int apply_track(struct declared *d, const struct ms_event *e,
		       const struct declared_ctx *ctx, const char *name,
		       const char *type)
{
	const struct declared_block *b = ctx->block;
	struct track *t = tab_keyed_get(&d->tracks, e->ptr);
	int err;

	if (b) {
		err = site_reserve(d, b->stack_id);
		if (err)
			return dropped(d, err);
	}
	/* Declared again: the new declaration replaces the old one. */
	if (t) {
		if (t->pub.has_block)
			site_drop(d, t, ctx->epoch);
	} else {
		err = tab_keyed_reserve(&d->tracks);
		if (err)
			return dropped(d, err);
		t = tab_keyed_add(&d->tracks, e->ptr);
	}
	t->pub = (struct declared_track){
		.ptr = e->ptr,
		.size = e->size,
		.ts_ns = e->ts_ns,
		.name = name,
		.type = type,
		.kind = e->aux,
		.has_block = b,
	};
	d->stats.tracks++;
	if (!b) {
		t->slot = SLOT_NONE;
		d->stats.tracks_no_block++;
		return 0;
	}
	t->pub.stack_id = b->stack_id;
	t->pub.seq = b->seq;
	t->pub.block_size = b->size;
	site_add(d, t, ctx->epoch);
	return 0;
}

static void apply_untrack(struct declared *d, const struct ms_event *e,
			  __u64 epoch)
{
	struct track *t = tab_keyed_get(&d->tracks, e->ptr);

	if (!t) {
		d->stats.untracks_unknown++;
		return;
	}
	d->stats.untracks++;
	track_end(d, t, epoch);
}

/* A handle dropped, by UNSHARE or by a new share at its address. */
static void handle_drop(struct declared *d, struct handle *h)
{
	struct declared_shared *s = tab_keyed_at(&d->shared, h->shared);

	s->handles--;
	tab_keyed_delete(&d->handles, h);
}

/* Whether the shared record s is about block b (NULL: no block). */
static bool shared_is(const struct declared_shared *s,
		      const struct declared_block *b)
{
	return b ? s->has_block && s->seq == b->seq : !s->has_block;
}

static int apply_share(struct declared *d, const struct ms_event *e,
		       const struct declared_ctx *ctx, const char *name,
		       const char *type)
{
	const struct declared_block *b = ctx->block;
	struct declared_shared *s = tab_keyed_get(&d->shared, e->ptr);
	struct declared_share_ev *ev;
	struct handle *h;
	bool log;
	int err;

	if (s && !shared_is(s, b))
		s = NULL;
	h = tab_keyed_get(&d->handles, e->old_ptr);
	err = h ? 0 : tab_keyed_reserve(&d->handles);
	if (!err && !s)
		err = tab_keyed_reserve(&d->shared);
	if (err)
		return dropped(d, err);
	err = tab_array_reserve(&d->share_log, 1);
	if (err == -ENOMEM)
		return err;
	log = !err;

	/* A handle overwritten without an unshare is dropped all the same. */
	if (h)
		handle_drop(d, h);
	/* A record about another block at ptr is no longer the current one. */
	if (!s) {
		s = tab_keyed_add(&d->shared, e->ptr);
		s->has_block = b;
		if (b) {
			s->stack_id = b->stack_id;
			s->seq = b->seq;
			s->size = b->size;
		}
		s->name = name;
		s->type = type;
		s->first_ns = e->ts_ns;
	}
	/* A share whose strings could not be read names nothing: a later may. */
	if (!*s->name && *name) {
		s->name = name;
		s->type = type;
	}
	s->shares++;
	s->handles++;
	if (s->handles > s->max_handles)
		s->max_handles = s->handles;
	h = tab_keyed_add(&d->handles, e->old_ptr);
	h->shared = tab_keyed_pos(&d->shared, s);
	d->stats.shares++;
	if (!log) {
		d->stats.share_log_dropped++;
		return 0;
	}
	ev = tab_array_push(&d->share_log);
	ev->ts_ns = e->ts_ns;
	ev->shared = h->shared;
	ev->stack_id = ctx->stack_id;
	return 0;
}

static void apply_unshare(struct declared *d, const struct ms_event *e)
{
	struct handle *h = tab_keyed_get(&d->handles, e->old_ptr);

	if (!h) {
		d->stats.unshares_unknown++;
		return;
	}
	d->stats.unshares++;
	handle_drop(d, h);
}

static void history_add(struct passport *p,
			const struct declared_pp_event *ev)
{
	if (p->pub.nr_history < p->history_cap)
		p->pub.history[p->pub.nr_history++] = *ev;
	p->pub.nr_events++;
}

/* Room in p's history for one more kept operation. */
static int history_reserve(struct passport *p)
{
	__u32 cap = p->history_cap ? 2 * p->history_cap : HISTORY_MIN;
	struct declared_pp_event *h;

	if (p->pub.nr_history < p->history_cap ||
	    p->history_cap == DECLARED_HISTORY)
		return 0;
	if (cap > DECLARED_HISTORY)
		cap = DECLARED_HISTORY;
	h = realloc(p->pub.history, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	p->pub.history = h;
	p->history_cap = cap;
	return 0;
}

static int apply_pp_create(struct declared *d, const struct ms_event *e,
			   const struct declared_pp_event *ev,
			   const char *name)
{
	struct passport *old = tab_keyed_get(&d->passports, e->ptr), *p;
	struct declared_pp_event *h;
	__u32 gen = old ? old->pub.generation + 1 : 0;
	int err;

	err = tab_keyed_reserve(&d->passports);
	if (!err && !d->host)
		err = tab_pool_intern(&d->pool, DECLARED_HOST, &d->host, NULL);
	if (err)
		return dropped(d, err);
	h = malloc(HISTORY_MIN * sizeof(*h));
	if (!h)
		return -ENOMEM;
	p = tab_keyed_add(&d->passports, e->ptr);
	p->pub.size = e->size;
	p->pub.generation = gen;
	p->pub.name = name;
	p->pub.custody = d->host;
	p->pub.history = h;
	p->history_cap = HISTORY_MIN;
	history_add(p, ev);
	return 0;
}

/* Which rule an operation on passport p (NULL: none at ptr) breaks. */
static int pp_violation(const struct declared *d, const struct passport *p,
			const struct declared_pp_event *ev)
{
	if (!p)
		return DECLARED_PV_UNKNOWN;
	if (ev->op == DECLARED_PP_HANDOVER && p->pub.freed)
		return DECLARED_PV_HANDOVER_AFTER_FREE;
	/* Reclaim or free after the free: that passport is gone. */
	if (p->pub.freed)
		return DECLARED_PV_UNKNOWN;
	if (ev->op == DECLARED_PP_HANDOVER && p->pub.custody != d->host)
		return DECLARED_PV_DOUBLE_HANDOVER;
	if (ev->op == DECLARED_PP_FREE && ev->side != p->pub.custody)
		return DECLARED_PV_WRONG_SIDE;
	return -1;
}

static int apply_pp_op(struct declared *d, const struct ms_event *e,
		       const struct declared_pp_event *ev)
{
	struct passport *p = tab_keyed_get(&d->passports, e->ptr);
	struct declared_violation *v;
	int kind = pp_violation(d, p, ev), err = 0;

	if (p)
		err = history_reserve(p);
	if (!err && kind >= 0)
		err = tab_array_reserve(&d->violations, 1);
	if (err)
		return dropped(d, err);

	if (kind >= 0) {
		v = tab_array_push(&d->violations);
		v->kind = kind;
		v->ptr = e->ptr;
		v->passport = p ? tab_keyed_pos(&d->passports, p) :
				  DECLARED_NONE;
		v->custody = p ? p->pub.custody : NULL;
		v->ev = *ev;
	}
	if (!p)
		return 0;
	if (kind >= 0)
		p->pub.nr_violations++;
	history_add(p, ev);
	/* A freed passport is over: later operations are only its history. */
	if (p->pub.freed)
		return 0;
	switch (ev->op) {
	case DECLARED_PP_HANDOVER:
		p->pub.custody = ev->side;
		p->pub.nr_handovers++;
		p->pub.last_handover = *ev;
		break;
	case DECLARED_PP_RECLAIM:
		p->pub.custody = d->host;
		break;
	case DECLARED_PP_FREE:
		p->pub.custody = ev->side;
		p->pub.freed = true;
		break;
	}
	return 0;
}

static int apply_passport(struct declared *d, const struct ms_event *e,
			  const struct declared_ctx *ctx, const char *name)
{
	struct declared_pp_event ev = {
		.ts_ns = e->ts_ns,
		.task = e->task,
		.tid = e->tid,
		.stack_id = ctx->stack_id,
		.op = e->type - MS_EV_PASSPORT_CREATE,
	};

	if (e->type == MS_EV_PASSPORT_CREATE)
		return apply_pp_create(d, e, &ev, name);
	if (e->type != MS_EV_PASSPORT_RECLAIM)
		ev.side = name;
	return apply_pp_op(d, e, &ev);
}

static bool str_ok(const char *s)
{
	return memchr(s, 0, MS_STR_MAX);
}

/*
 * What the program must give for a record to mean anything: strings cut
 * with their NUL, non-zero addresses and ids, a kind in range, a name for
 * a variable and a side for a passport that moves.
 */
static bool decl_valid(const struct ms_event *e)
{
	if (!str_ok(e->name) || !str_ok(e->type_name))
		return false;
	switch (e->type) {
	case MS_EV_TRACK:
		return e->ptr && e->aux < MS_KIND__COUNT && e->name[0];
	case MS_EV_UNTRACK:
	case MS_EV_PASSPORT_CREATE:
	case MS_EV_PASSPORT_RECLAIM:
		return e->ptr;
	case MS_EV_SHARE:
		return e->ptr && e->old_ptr;
	case MS_EV_UNSHARE:
		return e->old_ptr;
	case MS_EV_TASK_CREATE:
		return e->task && e->aux != e->task;
	case MS_EV_TASK_ENTER:
	case MS_EV_TASK_LEAVE:
	case MS_EV_TASK_COMPLETE:
		return e->task;
	case MS_EV_PASSPORT_HANDOVER:
	case MS_EV_PASSPORT_FREE:
		return e->ptr && e->name[0];
	}
	return false;
}

static int apply_valid(struct declared *d, const struct ms_event *e,
		       const struct declared_ctx *ctx, const char *name,
		       const char *type)
{
	switch (e->type) {
	case MS_EV_TRACK:
		return apply_track(d, e, ctx, name, type);
	case MS_EV_UNTRACK:
		apply_untrack(d, e, ctx->epoch);
		return 0;
	case MS_EV_SHARE:
		return apply_share(d, e, ctx, name, type);
	case MS_EV_UNSHARE:
		apply_unshare(d, e);
		return 0;
	case MS_EV_TASK_CREATE:
		return apply_task_create(d, e, name);
	case MS_EV_TASK_ENTER:
	case MS_EV_TASK_LEAVE:
	case MS_EV_TASK_COMPLETE:
		return apply_task(d, e);
	default:
		return apply_passport(d, e, ctx, name);
	}
}

int declared__apply(struct declared *d, const struct ms_event *e,
		    const struct declared_ctx *ctx)
{
	const char *name, *type;
	int err;

	if (!decl_valid(e)) {
		d->stats.records++;
		d->stats.malformed++;
		return 0;
	}
	err = tab_pool_intern(&d->pool, e->name, &name, NULL);
	if (!err)
		err = tab_pool_intern(&d->pool, e->type_name, &type, NULL);
	if (!err)
		err = apply_valid(d, e, ctx, name, type);
	else
		err = dropped(d, err);
	if (!err)
		d->stats.records++;
	return err;
}

int declared__task_ref(struct declared *d, __u64 id, __u64 ts_ns, __u32 *ref)
{
	struct declared_task *t;
	int err;

	*ref = 0;
	if (!id)
		return 0;
	t = task_get(d, id, ts_ns, &err);
	if (!t)
		return dropped(d, err);
	*ref = task_ref_of(d, t);
	return 0;
}

void declared__block_new(struct declared *d, __u32 task, __u64 size,
			 __u64 ts_ns)
{
	struct declared_task *t;

	if (!task)
		return;
	t = tab_keyed_at(&d->tasks, task - 1);
	t->allocs++;
	t->alloc_bytes += size;
	t->live_count++;
	t->live_bytes += size;
	if (t->live_bytes > t->peak_bytes)
		t->peak_bytes = t->live_bytes;
	task_touch(t, ts_ns);
}

/*
 * The block's end ends what was declared about it: the bytes leave the
 * task that allocated them (whoever frees them), its declared variable
 * ends, and handles on it point at a block that is gone.
 */
void declared__block_end(struct declared *d, __u64 ptr, __u64 seq,
			 __u32 task, __u64 size, __u64 epoch)
{
	struct declared_shared *s;
	struct declared_task *t;
	struct track *tr;

	if (task) {
		t = tab_keyed_at(&d->tasks, task - 1);
		t->live_count--;
		t->live_bytes -= size;
	}
	/* Frees are the hot path, and most programs declare nothing. */
	tr = tab_keyed_nr(&d->tracks) ? tab_keyed_get(&d->tracks, ptr) : NULL;
	if (tr && tr->pub.has_block && tr->pub.seq == seq) {
		d->stats.tracks_freed++;
		track_end(d, tr, epoch);
	}
	s = d->shared.ix.used ? tab_keyed_get(&d->shared, ptr) : NULL;
	if (s && s->has_block && s->seq == seq) {
		s->ended = true;
		tab_keyed_unlink(&d->shared, ptr);
	}
}

static void site_view(const struct site_decl *sd, bool at_peak,
		      struct declared_site *out)
{
	struct declared_name *n;
	__u32 i;

	out->count = at_peak ? sd->snap : sd->live;
	for (i = 0; i < sd->nr_names; i++) {
		n = &out->names[out->nr_names];
		n->count = at_peak ? sd->names[i].snap : sd->names[i].live;
		if (!n->count)
			continue;
		n->name = sd->names[i].name;
		n->type = sd->names[i].type;
		n->kind = sd->names[i].kind;
		out->nr_names++;
	}
}

void declared__site(const struct declared *d, __u32 stack_id, __u64 epoch,
		    struct declared_site *live, struct declared_site *peak)
{
	const struct site_decl *sd;

	memset(live, 0, sizeof(*live));
	memset(peak, 0, sizeof(*peak));
	sd = tab_keyed_get(&d->sites, stack_id);
	if (!sd)
		return;
	site_view(sd, false, live);
	/* Untouched since the peak: its values now are those at the peak. */
	site_view(sd, sd->epoch == epoch, peak);
}

static bool name_same(const struct declared_name *a,
		      const struct declared_name *b)
{
	return a->kind == b->kind && !strcmp(a->name, b->name) &&
	       !strcmp(a->type, b->type);
}

void declared_site_merge(struct declared_site *into,
			 const struct declared_site *from)
{
	struct declared_name tmp;
	__u32 i, j;

	into->count += from->count;
	for (i = 0; i < from->nr_names; i++) {
		for (j = 0; j < into->nr_names; j++) {
			if (name_same(&into->names[j], &from->names[i]))
				break;
		}
		if (j < into->nr_names)
			into->names[j].count += from->names[i].count;
		else if (j < DECLARED_SITE_NAMES)
			into->names[into->nr_names++] = from->names[i];
	}
	/* Most declared first: a merged site reads like a single one. */
	for (i = 1; i < into->nr_names; i++) {
		for (j = i; j && into->names[j].count >
				 into->names[j - 1].count; j--) {
			tmp = into->names[j];
			into->names[j] = into->names[j - 1];
			into->names[j - 1] = tmp;
		}
	}
}

#define NAME_OF(table, v)						\
	((v) < sizeof(table) / sizeof(*(table)) ? (table)[v] : NULL)

const char *declared_kind_name(unsigned int kind)
{
	static const char *const names[MS_KIND__COUNT] = {
		[MS_KIND_HEAP_OWNER] = "heap_owner",
		[MS_KIND_CONTAINER] = "container",
		[MS_KIND_VALUE] = "value",
		[MS_KIND_STACK_OWNER] = "stack_owner",
	};

	return NAME_OF(names, kind);
}

const char *declared_task_state_name(unsigned int state)
{
	static const char *const names[] = {
		[DECLARED_TASK_IDLE] = "idle",
		[DECLARED_TASK_RUNNING] = "running",
		[DECLARED_TASK_COMPLETED] = "completed",
	};

	return NAME_OF(names, state);
}

const char *declared_pp_op_name(unsigned int op)
{
	static const char *const names[] = {
		[DECLARED_PP_CREATE] = "create",
		[DECLARED_PP_HANDOVER] = "handover",
		[DECLARED_PP_RECLAIM] = "reclaim",
		[DECLARED_PP_FREE] = "free",
	};

	return NAME_OF(names, op);
}

const char *declared_violation_name(unsigned int kind)
{
	static const char *const names[DECLARED_PV__COUNT] = {
		[DECLARED_PV_NEVER_FREED] = "never_freed_in_foreign_custody",
		[DECLARED_PV_WRONG_SIDE] = "freed_by_wrong_side",
		[DECLARED_PV_HANDOVER_AFTER_FREE] = "handover_after_free",
		[DECLARED_PV_DOUBLE_HANDOVER] = "double_handover",
		[DECLARED_PV_UNKNOWN] = "unknown_passport",
	};

	return NAME_OF(names, kind);
}

const struct declared_stats *declared__stats(const struct declared *d)
{
	return &d->stats;
}

size_t declared__nr_tasks(const struct declared *d)
{
	return tab_keyed_nr(&d->tasks);
}

const struct declared_task *declared__task(const struct declared *d,
					   size_t i)
{
	return i < tab_keyed_nr(&d->tasks) ? tab_keyed_at(&d->tasks, i) : NULL;
}

size_t declared__nr_tracked(const struct declared *d)
{
	return tab_keyed_nr(&d->tracks);
}

const struct declared_track *declared__tracked(const struct declared *d,
					       size_t i)
{
	const struct track *t;

	if (i >= tab_keyed_nr(&d->tracks))
		return NULL;
	t = tab_keyed_at(&d->tracks, i);
	return &t->pub;
}

size_t declared__nr_shared(const struct declared *d)
{
	return tab_keyed_nr(&d->shared);
}

const struct declared_shared *declared__shared(const struct declared *d,
					       size_t i)
{
	return i < tab_keyed_nr(&d->shared) ? tab_keyed_at(&d->shared, i) :
					      NULL;
}

size_t declared__share_log(const struct declared *d,
			   const struct declared_share_ev **out)
{
	*out = d->share_log.v;
	return d->share_log.nr;
}

size_t declared__nr_passports(const struct declared *d)
{
	return tab_keyed_nr(&d->passports);
}

const struct declared_passport *declared__passport(const struct declared *d,
						   size_t i)
{
	const struct passport *p;

	if (i >= tab_keyed_nr(&d->passports))
		return NULL;
	p = tab_keyed_at(&d->passports, i);
	return &p->pub;
}

size_t declared__nr_violations(const struct declared *d)
{
	return d->violations.nr;
}

const struct declared_violation *
declared__violation(const struct declared *d, size_t i)
{
	return i < d->violations.nr ? tab_array_at(&d->violations, i) : NULL;
}

size_t declared__mem_bytes(const struct declared *d)
{
	const struct passport *p;
	size_t n, i;

	n = sizeof(*d) + tab_pool_bytes(&d->pool) +
	    tab_keyed_bytes(&d->tasks) + tab_keyed_bytes(&d->tracks) +
	    tab_keyed_bytes(&d->shared) + tab_keyed_bytes(&d->handles) +
	    tab_keyed_bytes(&d->passports) + tab_array_bytes(&d->share_log) +
	    tab_array_bytes(&d->violations) + tab_keyed_bytes(&d->sites);
	for (i = 0; i < tab_keyed_nr(&d->passports); i++) {
		p = tab_keyed_at(&d->passports, i);
		n += p->history_cap * sizeof(*p->pub.history);
	}
	return n;
}

/* Every table of declared records has the same limit, DECLARED_TABLE_MAX. */
static int keyed_init(struct tab_keyed *k, size_t size, size_t off)
{
	return tab_keyed_init(k, size, off, DECLARED_TABLE_MAX);
}

/* Empty tables; 0 or -ENOMEM (the containers allocate at first use). */
static int declared_init(struct declared *d)
{
	tab_array_init(&d->share_log, sizeof(struct declared_share_ev),
		       DECLARED_TABLE_MAX);
	tab_array_init(&d->violations, sizeof(struct declared_violation),
		       DECLARED_TABLE_MAX);
	if (tab_pool_init(&d->pool, DECLARED_TABLE_MAX) ||
	    keyed_init(&d->tasks, sizeof(struct declared_task),
		       offsetof(struct declared_task, id)) ||
	    keyed_init(&d->tracks, sizeof(struct track),
		       offsetof(struct track, pub.ptr)) ||
	    keyed_init(&d->shared, sizeof(struct declared_shared),
		       offsetof(struct declared_shared, ptr)) ||
	    keyed_init(&d->handles, sizeof(struct handle),
		       offsetof(struct handle, addr)) ||
	    keyed_init(&d->passports, sizeof(struct passport),
		       offsetof(struct passport, pub.ptr)) ||
	    keyed_init(&d->sites, sizeof(struct site_decl),
		       offsetof(struct site_decl, stack_id)))
		return -ENOMEM;
	return 0;
}

/*
 * What an image that declared nothing reads: a store makes its own at
 * its first declaration, as every image of a -a trace kept one (736
 * bytes) and few programs declare anything. Empty tables allocate
 * nothing, so this one is never freed and never written.
 */
static struct declared none;
static pthread_once_t none_once = PTHREAD_ONCE_INIT;

static void none_init(void)
{
	declared_init(&none);
}

const struct declared *declared__none(void)
{
	pthread_once(&none_once, none_init);
	return &none;
}

struct declared *declared__new(void)
{
	struct declared *d = calloc(1, sizeof(*d));

	if (!d)
		goto err_out;
	if (declared_init(d))
		goto err_free;
	return d;

err_free:
	declared__free(d);
err_out:
	errno = ENOMEM;
	return NULL;
}

void declared__free(struct declared *d)
{
	struct passport *p;
	size_t i;

	if (!d)
		return;
	for (i = 0; i < tab_keyed_nr(&d->passports); i++) {
		p = tab_keyed_at(&d->passports, i);
		free(p->pub.history);
	}
	tab_keyed_fini(&d->passports);
	tab_keyed_fini(&d->handles);
	tab_keyed_fini(&d->shared);
	tab_keyed_fini(&d->tracks);
	tab_keyed_fini(&d->tasks);
	tab_array_fini(&d->share_log);
	tab_array_fini(&d->violations);
	tab_keyed_fini(&d->sites);
	tab_pool_fini(&d->pool);
	free(d);
}
