/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The containers of userspace, one module for all of them: a growable
 * array, an open-addressing index, a table of records keyed by a __u64,
 * and a string pool.
 *
 * The index holds 8-byte slots (32 bits of hash, an entry position + 1)
 * and no keys: entries live outside it, dense, wherever their owner keeps
 * them (the store's chunks of blocks, an array of records), and callers
 * compare their own keys while they walk a probe run. Linear probing at a
 * load of at most 3/4, backward-shift deletion, so churn never leaves
 * tombstones or forces a rehash. This, not a chained table with a handle
 * in every entry (uthash's is 56 bytes), is what keeps the store at ~64
 * bytes per live block and a lookup at one run of adjacent slots.
 *
 * Nothing here trusts a size: growth checks for overflow, every table has
 * a limit (past it -ENOSPC, never a wrap), and a failure leaves the
 * container as it was.
 */
#ifndef MEMSCOPE_TABLE_H
#define MEMSCOPE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

/* Positions are 32 bits in a slot, 0 meaning empty. */
#define TAB_MAX_ENTRIES		((size_t)UINT32_MAX - 1)

/* splitmix64's finalizer: every input bit reaches every output bit. */
static inline __u64 tab_mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* The 32 bits of hash an index keeps for a __u64 key. */
static inline __u32 tab_hash64(__u64 key)
{
	return (__u32)tab_mix64(key);
}

/* FNV-1a over len bytes at p, mixed into the bits that pick the slot. */
static inline __u32 tab_hash_mem(const void *p, size_t len)
{
	const unsigned char *b = p;
	__u64 h = 0xcbf29ce484222325ull;

	while (len--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return tab_hash64(h);
}

/*
 * Room for need elements of elem bytes in *arr, whose capacity is *cap:
 * doubles from 16 until it fits. 0, or -ENOMEM with *arr untouched.
 */
int tab_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* Index ------------------------------------------------------------------- */

struct tab_slot {
	__u32 hash;	/* low bits give the home slot, all 32 reject cheaply */
	__u32 pos;	/* entry position + 1; 0 marks an empty slot */
};

struct tab_index {
	struct tab_slot *slots;
	size_t mask;	/* capacity - 1, capacity a power of two */
	size_t used;
};

/*
 * Walks the probe run of hash, slot by slot (i: a size_t), until an empty
 * slot. The caller breaks out at its match: after the loop, i is the slot
 * of the match or the empty slot that ends the run, where the key would go.
 */
#define tab_index_for_run(ix, hash, i)					\
	for ((i) = (hash) & (ix)->mask; (ix)->slots[i].pos;		\
	     (i) = ((i) + 1) & (ix)->mask)

/* The entry position in slot i, which must be in use. */
static inline size_t tab_index_pos(const struct tab_index *ix, size_t i)
{
	return ix->slots[i].pos - 1;
}

/* cap: a power of two. 0 or -ENOMEM. */
int tab_index_init(struct tab_index *ix, size_t cap);
/* No room until the first tab_index_reserve(), and nothing allocated:
 * for tables that often stay empty (every keyed table and pool). */
void tab_index_init_empty(struct tab_index *ix);
void tab_index_fini(struct tab_index *ix);
/* Room for one more entry: -ENOSPC past TAB_MAX_ENTRIES, or -ENOMEM. */
int tab_index_reserve(struct tab_index *ix);
/* Puts entry pos in slot i, the empty end of its run (tab_index_for_run);
 * tab_index_reserve() must have succeeded since that walk. */
static inline void tab_index_fill(struct tab_index *ix, size_t i, __u32 hash,
				  size_t pos)
{
	ix->slots[i].hash = hash;
	ix->slots[i].pos = pos + 1;
	ix->used++;
}
/* Adds entry pos at the end of its run; tab_index_reserve() first. */
void tab_index_insert(struct tab_index *ix, __u32 hash, size_t pos);
/* Empties slot i. */
void tab_index_remove(struct tab_index *ix, size_t i);
/*
 * The entry at position from, with this hash, indexed, now lives at
 * position to. Inline: the store's every free has one.
 */
static inline void tab_index_moved(struct tab_index *ix, __u32 hash,
				   size_t from, size_t to)
{
	size_t i;

	for (i = hash & ix->mask; ix->slots[i].pos != from + 1;
	     i = (i + 1) & ix->mask)
		;
	ix->slots[i].pos = to + 1;
}
size_t tab_index_bytes(const struct tab_index *ix);

/* Array ------------------------------------------------------------------- */

/* A growable array of fixed-size records, at most max of them. */
struct tab_array {
	void *v;
	size_t nr;
	size_t cap;
	size_t size;	/* of a record */
	size_t max;
};

/* No allocation until the first record; max 0: TAB_MAX_ENTRIES. */
void tab_array_init(struct tab_array *t, size_t size, size_t max);
void tab_array_fini(struct tab_array *t);

static inline void *tab_array_at(const struct tab_array *t, size_t i)
{
	return (char *)t->v + i * t->size;
}

/* Room for more records: -ENOSPC past the table's max, or -ENOMEM. */
int tab_array_reserve(struct tab_array *t, size_t more);
/* A zeroed record at the end; tab_array_reserve() must have succeeded. */
void *tab_array_push(struct tab_array *t);
/*
 * Capacity down to the records held, for a table that is done growing (an
 * ended image's); one that could not shrink stays as it was.
 */
void tab_array_shrink(struct tab_array *t);
size_t tab_array_bytes(const struct tab_array *t);

/* Keyed table ------------------------------------------------------------- */

/*
 * Records in a dense array with an index on the __u64 at byte offset off
 * of each. A key has at most one current record; adding a record for a
 * key that has one leaves the old record in the array, no longer indexed,
 * so tables that keep history (every task, every passport) keep it.
 */
struct tab_keyed {
	struct tab_array t;
	struct tab_index ix;
	size_t off;
};

/* 0 or -ENOMEM. */
int tab_keyed_init(struct tab_keyed *k, size_t size, size_t off, size_t max);
void tab_keyed_fini(struct tab_keyed *k);

static inline size_t tab_keyed_nr(const struct tab_keyed *k)
{
	return k->t.nr;
}

static inline void *tab_keyed_at(const struct tab_keyed *k, size_t i)
{
	return tab_array_at(&k->t, i);
}

/* Room down to the records held (tab_array_shrink); records move. */
void tab_keyed_shrink(struct tab_keyed *k);
/* The position of rec, a record of the table. */
size_t tab_keyed_pos(const struct tab_keyed *k, const void *rec);
/* The current record of key, or NULL. */
void *tab_keyed_get(const struct tab_keyed *k, __u64 key);
/* Room for one more record: -ENOSPC past the table's max, or -ENOMEM. */
int tab_keyed_reserve(struct tab_keyed *k);
/* A new zeroed record holding key, now its current one; reserve first. */
void *tab_keyed_add(struct tab_keyed *k, __u64 key);
/* A new zeroed record that no key finds; reserve first. */
void *tab_keyed_push(struct tab_keyed *k);
/* The record of key is no longer current; it stays in the array. */
void tab_keyed_unlink(struct tab_keyed *k, __u64 key);
/*
 * Deletes rec, the current record of its key: the last record takes its
 * place, indexed there if it was indexed.
 */
void tab_keyed_delete(struct tab_keyed *k, void *rec);
size_t tab_keyed_bytes(const struct tab_keyed *k);

/* String pool ------------------------------------------------------------- */

/*
 * Interned strings: each distinct string once, numbered in order of first
 * sight, in pages that never move, so a string stays valid as long as the
 * pool and two interned strings are equal exactly when their pointers are.
 */
struct tab_pool {
	struct tab_index ix;
	struct tab_array strs;	/* const char *, by number */
	char **pages;
	size_t nr_pages;
	size_t pages_cap;
	size_t page_used;	/* bytes taken from the last page */
	size_t page_size;	/* of the last page */
	size_t page_bytes;	/* of all pages */
};

/* 0 or -ENOMEM; max strings at most (0: TAB_MAX_ENTRIES). */
int tab_pool_init(struct tab_pool *p, size_t max);
void tab_pool_fini(struct tab_pool *p);
/*
 * *out: the pool's copy of s, and *nr (may be NULL) its number. -ENOSPC
 * when the pool holds max strings, or -ENOMEM; the pool is unchanged then.
 */
int tab_pool_intern(struct tab_pool *p, const char *s, const char **out,
		    size_t *nr);

static inline size_t tab_pool_nr(const struct tab_pool *p)
{
	return p->strs.nr;
}

static inline const char *tab_pool_str(const struct tab_pool *p, size_t nr)
{
	return *(const char **)tab_array_at(&p->strs, nr);
}

size_t tab_pool_bytes(const struct tab_pool *p);

#endif /* MEMSCOPE_TABLE_H */
