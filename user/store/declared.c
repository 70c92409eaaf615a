/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Declared state, kept beside the store's live blocks.
 *
 * Every table is a dense array; those looked up by a key (task id, block
 * or handle address, passport ptr) sit behind the store's own index
 * (store_index), so a lookup is one probe run whatever the size. Tables
 * whose records end (declared variables, handles) stay dense by moving
 * their last record into the hole; the others keep every record for the
 * report, and their index points at the current one of each key.
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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "declared.h"

#define INDEX_MIN	16
#define TABLE_MIN	16
#define HISTORY_MIN	4
/* Bytes per pool page: whole strings only, each at most MS_STR_MAX. */
#define POOL_PAGE	4096
#define SLOT_NONE	((__u32)-1)

/* A growable array of fixed-size records. */
struct table {
	void *v;
	size_t nr;
	size_t cap;
	size_t size;		/* of a record */
};

/* A table with an index on the __u64 at byte offset off of its records. */
struct keyed {
	struct table t;
	struct store_index ix;
	size_t off;
};

struct strpool {
	struct store_index ix;
	struct table strs;	/* const char *, in the pages */
	char **pages;
	size_t nr_pages;
	size_t pages_cap;
	size_t page_used;	/* bytes taken from the last page */
};

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
	struct strpool pool;
	const char *host;	/* DECLARED_HOST, interned */
	struct keyed tasks;	/* struct declared_task, by id */
	struct keyed tracks;	/* struct track, by ptr, live ones only */
	struct keyed shared;	/* struct declared_shared, by ptr */
	struct keyed handles;	/* struct handle, by addr, live ones only */
	struct keyed passports;	/* struct passport, by ptr */
	struct table share_log;	/* struct declared_share_ev */
	struct table violations; /* struct declared_violation */
	struct keyed sites;	/* struct site_decl, by stack id */
};

static inline __u32 key_hash(__u64 key)
{
	return (__u32)store_mix64(key);
}

static inline void *tab_at(const struct table *t, size_t i)
{
	return (char *)t->v + i * t->size;
}

/* Room for more records: -ENOSPC past DECLARED_TABLE_MAX, or -ENOMEM. */
static int tab_reserve(struct table *t, size_t more)
{
	size_t cap = t->cap ? t->cap : TABLE_MIN;
	void *v;

	if (t->nr + more > DECLARED_TABLE_MAX)
		return -ENOSPC;
	if (t->nr + more <= t->cap)
		return 0;
	while (cap < t->nr + more)
		cap *= 2;
	v = realloc(t->v, cap * t->size);
	if (!v)
		return -ENOMEM;
	t->v = v;
	t->cap = cap;
	return 0;
}

/* A zeroed record at the end; tab_reserve() must have succeeded. */
static void *tab_push(struct table *t)
{
	void *p = tab_at(t, t->nr++);

	memset(p, 0, t->size);
	return p;
}

static inline __u64 kd_key(const struct keyed *k, size_t pos)
{
	__u64 key;

	memcpy(&key, (char *)tab_at(&k->t, pos) + k->off, sizeof(key));
	return key;
}

/* The slot holding key, or the empty slot that ends its probe run. */
static size_t kd_slot(const struct keyed *k, __u64 key)
{
	const struct store_index *ix = &k->ix;
	__u32 hash = key_hash(key);
	size_t i;

	for (i = hash & ix->mask; ix->slots[i].pos; i = (i + 1) & ix->mask) {
		if (ix->slots[i].hash == hash &&
		    kd_key(k, ix->slots[i].pos - 1) == key)
			break;
	}
	return i;
}

static void *kd_get(const struct keyed *k, __u64 key)
{
	size_t i = kd_slot(k, key);

	return k->ix.slots[i].pos ? tab_at(&k->t, k->ix.slots[i].pos - 1) :
				    NULL;
}

static size_t kd_pos(const struct keyed *k, const void *rec)
{
	return ((const char *)rec - (const char *)k->t.v) / k->t.size;
}

static int kd_reserve(struct keyed *k)
{
	int err = tab_reserve(&k->t, 1);

	return err ? err : store_index_reserve(&k->ix);
}

/*
 * A new record for key, which becomes the current one of its key (an
 * older record of the key stays in the table, no longer indexed).
 * kd_reserve() must have succeeded.
 */
static void *kd_add(struct keyed *k, __u64 key)
{
	size_t i = kd_slot(k, key), pos = k->t.nr;
	char *rec = tab_push(&k->t);

	memcpy(rec + k->off, &key, sizeof(key));
	if (k->ix.slots[i].pos) {
		k->ix.slots[i].pos = pos + 1;
		return rec;
	}
	store_index_insert(&k->ix, key_hash(key), pos);
	return rec;
}

/* The record of key is no longer current; it stays in the table. */
static void kd_unlink(struct keyed *k, __u64 key)
{
	size_t i = kd_slot(k, key);

	if (k->ix.slots[i].pos)
		store_index_remove(&k->ix, i);
}

/* Deletes rec, the current record of its key: the last one takes its place. */
static void kd_delete(struct keyed *k, void *rec)
{
	size_t pos = kd_pos(k, rec), last = k->t.nr - 1;

	store_index_remove(&k->ix, kd_slot(k, kd_key(k, pos)));
	if (pos != last) {
		memcpy(rec, tab_at(&k->t, last), k->t.size);
		store_index_moved(&k->ix, key_hash(kd_key(k, pos)), last, pos);
	}
	k->t.nr--;
}

static int kd_init(struct keyed *k, size_t size, size_t off)
{
	k->t.size = size;
	k->off = off;
	return store_index_init(&k->ix, INDEX_MIN);
}

static void kd_fini(struct keyed *k)
{
	free(k->t.v);
	free(k->ix.slots);
}

static size_t tab_bytes(const struct table *t)
{
	return t->cap * t->size;
}

static size_t kd_bytes(const struct keyed *k)
{
	return tab_bytes(&k->t) + store_index_bytes(&k->ix);
}

/* FNV-1a over the bytes, spread over the low bits that pick the slot. */
static __u32 str_hash(const char *s)
{
	__u64 h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return key_hash(h);
}

static const char *pool_str(const struct strpool *p, size_t pos)
{
	return *(const char **)tab_at(&p->strs, pos);
}

/*
 * *out: the pool's copy of s (at most MS_STR_MAX bytes with its NUL).
 * -ENOSPC when the pool holds DECLARED_TABLE_MAX strings, or -ENOMEM.
 */
static int pool_intern(struct strpool *p, const char *s, const char **out)
{
	size_t len = strlen(s) + 1, i;
	__u32 hash = str_hash(s);
	char **pages, *copy;
	int err;

	for (i = hash & p->ix.mask; p->ix.slots[i].pos;
	     i = (i + 1) & p->ix.mask) {
		if (p->ix.slots[i].hash == hash &&
		    !strcmp(pool_str(p, p->ix.slots[i].pos - 1), s)) {
			*out = pool_str(p, p->ix.slots[i].pos - 1);
			return 0;
		}
	}
	err = tab_reserve(&p->strs, 1);
	if (!err)
		err = store_index_reserve(&p->ix);
	if (err)
		return err;
	if (!p->nr_pages || p->page_used + len > POOL_PAGE) {
		if (p->nr_pages == p->pages_cap) {
			size_t cap = p->pages_cap ? 2 * p->pages_cap : 4;

			pages = realloc(p->pages, cap * sizeof(*pages));
			if (!pages)
				return -ENOMEM;
			p->pages = pages;
			p->pages_cap = cap;
		}
		p->pages[p->nr_pages] = malloc(POOL_PAGE);
		if (!p->pages[p->nr_pages])
			return -ENOMEM;
		p->nr_pages++;
		p->page_used = 0;
	}
	copy = p->pages[p->nr_pages - 1] + p->page_used;
	memcpy(copy, s, len);
	p->page_used += len;
	*(const char **)tab_push(&p->strs) = copy;
	store_index_insert(&p->ix, hash, p->strs.nr - 1);
	*out = copy;
	return 0;
}

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
	return kd_get(&d->sites, stack_id) ? 0 : kd_reserve(&d->sites);
}

/* A declared block of the site: counted, under its name while there is room. */
static void site_add(struct declared *d, struct track *t, __u64 epoch)
{
	struct site_decl *sd = kd_get(&d->sites, t->pub.stack_id);
	__u32 i;

	if (!sd)
		sd = kd_add(&d->sites, t->pub.stack_id);

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
	struct site_decl *sd = kd_get(&d->sites, t->pub.stack_id);

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
	kd_delete(&d->tracks, t);
}

static struct declared_task *task_cur(const struct declared *d, __u64 id)
{
	return kd_get(&d->tasks, id);
}

static size_t task_ref_of(const struct declared *d,
			  const struct declared_task *t)
{
	return kd_pos(&d->tasks, t) + 1;
}

/* A new record for id (kd_reserve() done): the id's current task. */
static struct declared_task *task_add(struct declared *d, __u64 id,
				      __u64 ts)
{
	struct declared_task *t = kd_add(&d->tasks, id);

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
	*err = kd_reserve(&d->tasks);
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
		err = kd_reserve(&d->tasks);
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
	const struct store_block *b = ctx->block;
	struct track *t = kd_get(&d->tracks, e->ptr);
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
		err = kd_reserve(&d->tracks);
		if (err)
			return dropped(d, err);
		t = kd_add(&d->tracks, e->ptr);
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
	struct track *t = kd_get(&d->tracks, e->ptr);

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
	struct declared_shared *s = tab_at(&d->shared.t, h->shared);

	s->handles--;
	kd_delete(&d->handles, h);
}

/* Whether the shared record s is about block b (NULL: no block). */
static bool shared_is(const struct declared_shared *s,
		      const struct store_block *b)
{
	return b ? s->has_block && s->seq == b->seq : !s->has_block;
}

static int apply_share(struct declared *d, const struct ms_event *e,
		       const struct declared_ctx *ctx, const char *name,
		       const char *type)
{
	const struct store_block *b = ctx->block;
	struct declared_shared *s = kd_get(&d->shared, e->ptr);
	struct declared_share_ev *ev;
	struct handle *h;
	bool log;
	int err;

	if (s && !shared_is(s, b))
		s = NULL;
	h = kd_get(&d->handles, e->old_ptr);
	err = h ? 0 : kd_reserve(&d->handles);
	if (!err && !s)
		err = kd_reserve(&d->shared);
	if (err)
		return dropped(d, err);
	err = tab_reserve(&d->share_log, 1);
	if (err == -ENOMEM)
		return err;
	log = !err;

	/* A handle overwritten without an unshare is dropped all the same. */
	if (h)
		handle_drop(d, h);
	/* A record about another block at ptr is no longer the current one. */
	if (!s) {
		s = kd_add(&d->shared, e->ptr);
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
	h = kd_add(&d->handles, e->old_ptr);
	h->shared = kd_pos(&d->shared, s);
	d->stats.shares++;
	if (!log) {
		d->stats.share_log_dropped++;
		return 0;
	}
	ev = tab_push(&d->share_log);
	ev->ts_ns = e->ts_ns;
	ev->shared = h->shared;
	ev->stack_id = ctx->stack_id;
	return 0;
}

static void apply_unshare(struct declared *d, const struct ms_event *e)
{
	struct handle *h = kd_get(&d->handles, e->old_ptr);

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
	struct passport *old = kd_get(&d->passports, e->ptr), *p;
	struct declared_pp_event *h;
	__u32 gen = old ? old->pub.generation + 1 : 0;
	int err;

	err = kd_reserve(&d->passports);
	if (err)
		return dropped(d, err);
	h = malloc(HISTORY_MIN * sizeof(*h));
	if (!h)
		return -ENOMEM;
	p = kd_add(&d->passports, e->ptr);
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
	struct passport *p = kd_get(&d->passports, e->ptr);
	struct declared_violation *v;
	int kind = pp_violation(d, p, ev), err = 0;

	if (p)
		err = history_reserve(p);
	if (!err && kind >= 0)
		err = tab_reserve(&d->violations, 1);
	if (err)
		return dropped(d, err);

	if (kind >= 0) {
		v = tab_push(&d->violations);
		v->kind = kind;
		v->ptr = e->ptr;
		v->passport = p ? kd_pos(&d->passports, p) : DECLARED_NONE;
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
	err = pool_intern(&d->pool, e->name, &name);
	if (!err)
		err = pool_intern(&d->pool, e->type_name, &type);
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

void declared__block_new(struct declared *d, const struct store_block *b)
{
	struct declared_task *t;

	if (!b->task)
		return;
	t = tab_at(&d->tasks.t, b->task - 1);
	t->allocs++;
	t->alloc_bytes += b->size;
	t->live_count++;
	t->live_bytes += b->size;
	if (t->live_bytes > t->peak_bytes)
		t->peak_bytes = t->live_bytes;
	task_touch(t, b->ts_ns);
}

/*
 * The block's end ends what was declared about it: the bytes leave the
 * task that allocated them (whoever frees them), its declared variable
 * ends, and handles on it point at a block that is gone.
 */
void declared__block_end(struct declared *d, const struct store_block *b,
			 __u64 epoch)
{
	struct declared_shared *s;
	struct declared_task *t;
	struct track *tr;

	if (b->task) {
		t = tab_at(&d->tasks.t, b->task - 1);
		t->live_count--;
		t->live_bytes -= b->size;
	}
	/* Frees are the hot path, and most programs declare nothing. */
	tr = d->tracks.t.nr ? kd_get(&d->tracks, b->ptr) : NULL;
	if (tr && tr->pub.has_block && tr->pub.seq == b->seq) {
		d->stats.tracks_freed++;
		track_end(d, tr, epoch);
	}
	s = d->shared.ix.used ? kd_get(&d->shared, b->ptr) : NULL;
	if (s && shared_is(s, b)) {
		s->ended = true;
		kd_unlink(&d->shared, b->ptr);
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
	sd = kd_get(&d->sites, stack_id);
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
	return d->tasks.t.nr;
}

const struct declared_task *declared__task(const struct declared *d,
					   size_t i)
{
	return i < d->tasks.t.nr ? tab_at(&d->tasks.t, i) : NULL;
}

size_t declared__nr_tracked(const struct declared *d)
{
	return d->tracks.t.nr;
}

const struct declared_track *declared__tracked(const struct declared *d,
					       size_t i)
{
	const struct track *t;

	if (i >= d->tracks.t.nr)
		return NULL;
	t = tab_at(&d->tracks.t, i);
	return &t->pub;
}

size_t declared__nr_shared(const struct declared *d)
{
	return d->shared.t.nr;
}

const struct declared_shared *declared__shared(const struct declared *d,
					       size_t i)
{
	return i < d->shared.t.nr ? tab_at(&d->shared.t, i) : NULL;
}

size_t declared__share_log(const struct declared *d,
			   const struct declared_share_ev **out)
{
	*out = d->share_log.v;
	return d->share_log.nr;
}

size_t declared__nr_passports(const struct declared *d)
{
	return d->passports.t.nr;
}

const struct declared_passport *declared__passport(const struct declared *d,
						   size_t i)
{
	const struct passport *p;

	if (i >= d->passports.t.nr)
		return NULL;
	p = tab_at(&d->passports.t, i);
	return &p->pub;
}

size_t declared__nr_violations(const struct declared *d)
{
	return d->violations.nr;
}

const struct declared_violation *
declared__violation(const struct declared *d, size_t i)
{
	return i < d->violations.nr ? tab_at(&d->violations, i) : NULL;
}

size_t declared__mem_bytes(const struct declared *d)
{
	const struct passport *p;
	size_t n, i;

	n = sizeof(*d) + store_index_bytes(&d->pool.ix) +
	    tab_bytes(&d->pool.strs) + d->pool.pages_cap * sizeof(char *) +
	    d->pool.nr_pages * POOL_PAGE + kd_bytes(&d->tasks) +
	    kd_bytes(&d->tracks) + kd_bytes(&d->shared) +
	    kd_bytes(&d->handles) + kd_bytes(&d->passports) +
	    tab_bytes(&d->share_log) + tab_bytes(&d->violations) +
	    kd_bytes(&d->sites);
	for (i = 0; i < d->passports.t.nr; i++) {
		p = tab_at(&d->passports.t, i);
		n += p->history_cap * sizeof(*p->pub.history);
	}
	return n;
}

struct declared *declared__new(void)
{
	struct declared *d = calloc(1, sizeof(*d));

	if (!d)
		goto err_out;
	d->pool.strs.size = sizeof(const char *);
	d->share_log.size = sizeof(struct declared_share_ev);
	d->violations.size = sizeof(struct declared_violation);
	if (store_index_init(&d->pool.ix, INDEX_MIN) ||
	    kd_init(&d->tasks, sizeof(struct declared_task),
		    offsetof(struct declared_task, id)) ||
	    kd_init(&d->tracks, sizeof(struct track),
		    offsetof(struct track, pub.ptr)) ||
	    kd_init(&d->shared, sizeof(struct declared_shared),
		    offsetof(struct declared_shared, ptr)) ||
	    kd_init(&d->handles, sizeof(struct handle),
		    offsetof(struct handle, addr)) ||
	    kd_init(&d->passports, sizeof(struct passport),
		    offsetof(struct passport, pub.ptr)) ||
	    kd_init(&d->sites, sizeof(struct site_decl),
		    offsetof(struct site_decl, stack_id)))
		goto err_free;
	if (pool_intern(&d->pool, DECLARED_HOST, &d->host))
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
	for (i = 0; i < d->passports.t.nr; i++) {
		p = tab_at(&d->passports.t, i);
		free(p->pub.history);
	}
	kd_fini(&d->passports);
	kd_fini(&d->handles);
	kd_fini(&d->shared);
	kd_fini(&d->tracks);
	kd_fini(&d->tasks);
	free(d->share_log.v);
	free(d->violations.v);
	kd_fini(&d->sites);
	for (i = 0; i < d->pool.nr_pages; i++)
		free(d->pool.pages[i]);
	free(d->pool.pages);
	free(d->pool.strs.v);
	free(d->pool.ix.slots);
	free(d);
}
