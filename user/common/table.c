/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The containers (table.h). Everything that can fail happens before the
 * first change, so a caller that reserves, then adds, never sees a
 * container half-changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "table.h"

#define GROW_MIN	16
/* Bytes per pool page; a longer string gets a page of its own size. */
#define POOL_PAGE	4096
#define POOL_PAGES_MIN	4

int tab_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : GROW_MIN;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	/* Checked here: sanitizers abort on reallocarray's own overflow. */
	if (n > SIZE_MAX / elem)
		return -ENOMEM;
	p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/* Index ------------------------------------------------------------------- */

/*
 * Where an index with no room yet points: one empty slot, read-only (a
 * walk ends at it, and the first reserve moves the index off it). A store
 * opens a dozen keyed tables and pools per process image, and in most
 * images most stay empty: allocated at once, their slots were 1.5 KiB of
 * every ended image a -a trace keeps.
 */
static struct tab_slot no_slots[1];
/* The room an index gets at its first entry. */
#define INDEX_FIRST_SLOTS	16

void tab_index_init_empty(struct tab_index *ix)
{
	*ix = (struct tab_index){ .slots = no_slots };
}

int tab_index_init(struct tab_index *ix, size_t cap)
{
	ix->slots = calloc(cap, sizeof(*ix->slots));
	if (!ix->slots)
		return -ENOMEM;
	ix->mask = cap - 1;
	ix->used = 0;
	return 0;
}

void tab_index_fini(struct tab_index *ix)
{
	if (ix->slots != no_slots)
		free(ix->slots);
	ix->slots = NULL;
}

int tab_index_reserve(struct tab_index *ix)
{
	size_t cap = ix->mask + 1, mask = 2 * cap - 1, i, j;
	struct tab_slot *slots;

	/* Before the room check: a position past 32 bits would read as empty. */
	if (ix->used >= TAB_MAX_ENTRIES)
		return -ENOSPC;
	if (ix->slots == no_slots) {
		struct tab_index first;

		if (tab_index_init(&first, INDEX_FIRST_SLOTS))
			return -ENOMEM;
		*ix = first;
		return 0;
	}
	if ((ix->used + 1) * 4 <= cap * 3)
		return 0;
	if (cap > SIZE_MAX / 2 / sizeof(*slots))
		return -ENOSPC;
	slots = calloc(2 * cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < cap; i++) {
		if (!ix->slots[i].pos)
			continue;
		for (j = ix->slots[i].hash & mask; slots[j].pos;
		     j = (j + 1) & mask)
			;
		slots[j] = ix->slots[i];
	}
	free(ix->slots);
	ix->slots = slots;
	ix->mask = mask;
	return 0;
}

void tab_index_insert(struct tab_index *ix, __u32 hash, size_t pos)
{
	size_t i;

	tab_index_for_run(ix, hash, i)
		;
	tab_index_fill(ix, i, hash, pos);
}

/*
 * Backward-shift deletion: pull later members of the probe run into the
 * hole whenever their home does not lie between the hole and them.
 */
void tab_index_remove(struct tab_index *ix, size_t hole)
{
	size_t i, home;

	for (i = (hole + 1) & ix->mask; ix->slots[i].pos;
	     i = (i + 1) & ix->mask) {
		home = ix->slots[i].hash & ix->mask;
		if (((i - home) & ix->mask) >= ((i - hole) & ix->mask)) {
			ix->slots[hole] = ix->slots[i];
			hole = i;
		}
	}
	ix->slots[hole].pos = 0;
	ix->used--;
}

size_t tab_index_bytes(const struct tab_index *ix)
{
	return ix->slots && ix->slots != no_slots ?
	       (ix->mask + 1) * sizeof(*ix->slots) : 0;
}

/* Array ------------------------------------------------------------------- */

void tab_array_init(struct tab_array *t, size_t size, size_t max)
{
	*t = (struct tab_array){
		.size = size,
		.max = max && max < TAB_MAX_ENTRIES ? max : TAB_MAX_ENTRIES,
	};
}

void tab_array_fini(struct tab_array *t)
{
	free(t->v);
	t->v = NULL;
	t->nr = t->cap = 0;
}

int tab_array_reserve(struct tab_array *t, size_t more)
{
	if (more > t->max || t->nr > t->max - more)
		return -ENOSPC;
	return tab_grow(&t->v, &t->cap, t->nr + more, t->size);
}

void *tab_array_push(struct tab_array *t)
{
	void *p = tab_array_at(t, t->nr++);

	memset(p, 0, t->size);
	return p;
}

void tab_array_shrink(struct tab_array *t)
{
	void *v;

	if (t->cap == t->nr)
		return;
	if (!t->nr) {
		tab_array_fini(t);
		return;
	}
	v = realloc(t->v, t->nr * t->size);
	if (v) {
		t->v = v;
		t->cap = t->nr;
	}
}

size_t tab_array_bytes(const struct tab_array *t)
{
	return t->cap * t->size;
}

/* Keyed table ------------------------------------------------------------- */

static inline __u64 kd_key(const struct tab_keyed *k, size_t pos)
{
	__u64 key;

	memcpy(&key, (char *)tab_array_at(&k->t, pos) + k->off, sizeof(key));
	return key;
}

/* The slot holding key, or the empty slot that ends its probe run. */
static size_t kd_slot(const struct tab_keyed *k, __u64 key)
{
	__u32 hash = tab_hash64(key);
	size_t i;

	tab_index_for_run(&k->ix, hash, i) {
		if (k->ix.slots[i].hash == hash &&
		    kd_key(k, tab_index_pos(&k->ix, i)) == key)
			break;
	}
	return i;
}

int tab_keyed_init(struct tab_keyed *k, size_t size, size_t off, size_t max)
{
	tab_array_init(&k->t, size, max);
	k->off = off;
	tab_index_init_empty(&k->ix);
	return 0;
}

void tab_keyed_fini(struct tab_keyed *k)
{
	tab_array_fini(&k->t);
	tab_index_fini(&k->ix);
}

void tab_keyed_shrink(struct tab_keyed *k)
{
	tab_array_shrink(&k->t);
}

size_t tab_keyed_pos(const struct tab_keyed *k, const void *rec)
{
	return ((const char *)rec - (const char *)k->t.v) / k->t.size;
}

void *tab_keyed_get(const struct tab_keyed *k, __u64 key)
{
	size_t i = kd_slot(k, key);

	return k->ix.slots[i].pos ?
		tab_array_at(&k->t, tab_index_pos(&k->ix, i)) : NULL;
}

int tab_keyed_reserve(struct tab_keyed *k)
{
	int err = tab_array_reserve(&k->t, 1);

	return err ? err : tab_index_reserve(&k->ix);
}

void *tab_keyed_add(struct tab_keyed *k, __u64 key)
{
	size_t i = kd_slot(k, key), pos = k->t.nr;
	char *rec = tab_array_push(&k->t);

	memcpy(rec + k->off, &key, sizeof(key));
	if (k->ix.slots[i].pos)
		k->ix.slots[i].pos = pos + 1;
	else
		tab_index_fill(&k->ix, i, tab_hash64(key), pos);
	return rec;
}

void *tab_keyed_push(struct tab_keyed *k)
{
	return tab_array_push(&k->t);
}

void tab_keyed_unlink(struct tab_keyed *k, __u64 key)
{
	size_t i = kd_slot(k, key);

	if (k->ix.slots[i].pos)
		tab_index_remove(&k->ix, i);
}

void tab_keyed_delete(struct tab_keyed *k, void *rec)
{
	size_t pos = tab_keyed_pos(k, rec), last = k->t.nr - 1, i;

	tab_index_remove(&k->ix, kd_slot(k, kd_key(k, pos)));
	if (pos != last) {
		memcpy(rec, tab_array_at(&k->t, last), k->t.size);
		/* The last record may be history, not its key's current. */
		i = kd_slot(k, kd_key(k, pos));
		if (k->ix.slots[i].pos == last + 1)
			k->ix.slots[i].pos = pos + 1;
	}
	k->t.nr--;
}

size_t tab_keyed_bytes(const struct tab_keyed *k)
{
	return tab_array_bytes(&k->t) + tab_index_bytes(&k->ix);
}

/* String pool ------------------------------------------------------------- */

int tab_pool_init(struct tab_pool *p, size_t max)
{
	*p = (struct tab_pool){ 0 };
	tab_array_init(&p->strs, sizeof(const char *), max);
	tab_index_init_empty(&p->ix);
	return 0;
}

void tab_pool_fini(struct tab_pool *p)
{
	size_t i;

	for (i = 0; i < p->nr_pages; i++)
		free(p->pages[i]);
	free(p->pages);
	tab_array_fini(&p->strs);
	tab_index_fini(&p->ix);
}

/* Room for len bytes in the last page. */
static int pool_room(struct tab_pool *p, size_t len)
{
	size_t size = len > POOL_PAGE ? len : POOL_PAGE;
	int err;

	if (p->nr_pages && p->page_size - p->page_used >= len)
		return 0;
	err = tab_grow((void **)&p->pages, &p->pages_cap, p->nr_pages + 1,
		       sizeof(*p->pages));
	if (err)
		return err;
	p->pages[p->nr_pages] = malloc(size);
	if (!p->pages[p->nr_pages])
		return -ENOMEM;
	p->nr_pages++;
	p->page_used = 0;
	p->page_size = size;
	p->page_bytes += size;
	return 0;
}

int tab_pool_intern(struct tab_pool *p, const char *s, const char **out,
		    size_t *nr)
{
	size_t len = strlen(s) + 1, i, n;
	__u32 hash = tab_hash_mem(s, len - 1);
	char *copy;
	int err;

	tab_index_for_run(&p->ix, hash, i) {
		n = tab_index_pos(&p->ix, i);
		if (p->ix.slots[i].hash == hash &&
		    !strcmp(tab_pool_str(p, n), s))
			goto found;
	}
	err = tab_array_reserve(&p->strs, 1);
	if (!err)
		err = tab_index_reserve(&p->ix);
	if (!err)
		err = pool_room(p, len);
	if (err)
		return err;
	copy = p->pages[p->nr_pages - 1] + p->page_used;
	memcpy(copy, s, len);
	p->page_used += len;
	n = p->strs.nr;
	*(const char **)tab_array_push(&p->strs) = copy;
	tab_index_insert(&p->ix, hash, n);
found:
	*out = tab_pool_str(p, n);
	if (nr)
		*nr = n;
	return 0;
}

size_t tab_pool_bytes(const struct tab_pool *p)
{
	return tab_index_bytes(&p->ix) + tab_array_bytes(&p->strs) +
	       p->pages_cap * sizeof(*p->pages) + p->page_bytes;
}
