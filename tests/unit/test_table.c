/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Unit tests of the containers (table.h): growth and its limits, the
 * index under churn against a plain model, the keyed table's current
 * record and history, and the string pool.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "table.h"
#include "expect.h"

/* A broken index loops forever rather than failing: make that a failure. */
TestSuite(table, .timeout = 30);

Test(table, grow_doubles_and_keeps_contents)
{
	size_t cap = 0, i;
	int *v = NULL;

	expect_eq(tab_grow((void **)&v, &cap, 1, sizeof(*v)), 0, "first");
	expect_eq(cap, 16, "first capacity");
	for (i = 0; i < 16; i++)
		v[i] = (int)i;
	expect_eq(tab_grow((void **)&v, &cap, 16, sizeof(*v)), 0, "fits");
	expect_eq(cap, 16, "no growth when it fits");
	expect_eq(tab_grow((void **)&v, &cap, 100, sizeof(*v)), 0, "100");
	expect_eq(cap, 128, "doubled until it fits");
	for (i = 0; i < 16; i++)
		expect_eq(v[i], i, "v[%zu] kept", i);
	free(v);
}

Test(table, grow_refuses_an_overflowing_size)
{
	size_t cap = 16;
	char *v = malloc(16), *old = v;

	cr_assert_not_null(v);
	expect_eq(tab_grow((void **)&v, &cap, SIZE_MAX / 2 + 2, 1), -ENOMEM,
		  "need past SIZE_MAX / 2");
	expect_eq(tab_grow((void **)&v, &cap, SIZE_MAX / 8, 16), -ENOMEM,
		  "need * elem past SIZE_MAX");
	cr_assert_eq(v, old, "the array moved on a failure");
	expect_eq(cap, 16, "capacity after a failure");
	free(v);
}

/* The model: keys[pos] for every entry, the index maps hash(key) to pos. */
#define NR_KEYS		5000

static __u64 keys[NR_KEYS];
static size_t nr_keys;

static size_t find(const struct tab_index *ix, __u64 key)
{
	__u32 hash = tab_hash64(key);
	size_t i;

	tab_index_for_run(ix, hash, i) {
		if (ix->slots[i].hash == hash &&
		    keys[tab_index_pos(ix, i)] == key)
			break;
	}
	return i;
}

/* Deletes slot i's entry; the last entry moves into its place. */
static void delete_at(struct tab_index *ix, size_t i)
{
	size_t pos = tab_index_pos(ix, i), last = nr_keys - 1;

	tab_index_remove(ix, i);
	if (pos != last) {
		keys[pos] = keys[last];
		tab_index_moved(ix, tab_hash64(keys[pos]), last, pos);
	}
	nr_keys--;
}

Test(table, index_survives_churn)
{
	struct tab_index ix;
	__u64 rng = 88172645463325252ull, key;
	size_t i, n, round;

	cr_assert_eq(tab_index_init(&ix, 16), 0);
	nr_keys = 0;
	for (round = 0; round < 200000; round++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		/* Few distinct keys, dense ones: long runs and many hits. */
		key = (rng >> 8) % (2 * NR_KEYS) * 16;
		i = find(&ix, key);
		if (ix.slots[i].pos) {
			delete_at(&ix, i);
			continue;
		}
		if (nr_keys == NR_KEYS)
			continue;
		cr_assert_eq(tab_index_reserve(&ix), 0);
		keys[nr_keys] = key;
		tab_index_insert(&ix, tab_hash64(key), nr_keys++);
	}
	expect_eq(ix.used, nr_keys, "used");
	cr_assert_leq(ix.used * 4, (ix.mask + 1) * 3, "load over 3/4");
	for (n = 0; n < nr_keys; n++) {
		i = find(&ix, keys[n]);
		cr_assert(ix.slots[i].pos, "key %zu lost", n);
		expect_eq(tab_index_pos(&ix, i), n, "position of key %zu", n);
	}
	for (key = 1; key < 2 * NR_KEYS * 16; key += 16)
		cr_assert(!ix.slots[find(&ix, key)].pos, "never added: %llu",
			  (unsigned long long)key);
	expect_eq(tab_index_bytes(&ix), (ix.mask + 1) * sizeof(struct tab_slot),
		  "bytes");
	tab_index_fini(&ix);
}

/* 2^32 - 2 entries cannot be made here: an index told it holds them. */
Test(table, index_full_of_positions_refuses)
{
	struct tab_index ix;

	cr_assert_eq(tab_index_init(&ix, 16), 0);
	ix.used = TAB_MAX_ENTRIES - 1;
	ix.mask = SIZE_MAX >> 1;	/* room by the load factor */
	expect_eq(tab_index_reserve(&ix), 0, "the last position");
	ix.used = TAB_MAX_ENTRIES;
	expect_eq(tab_index_reserve(&ix), -ENOSPC, "past the last position");
	ix.mask = 15;
	tab_index_fini(&ix);
}

Test(table, array_limit)
{
	struct tab_array t;
	size_t i;
	int *p;

	tab_array_init(&t, sizeof(int), 40);
	for (i = 0; i < 40; i++) {
		cr_assert_eq(tab_array_reserve(&t, 1), 0, "record %zu", i);
		p = tab_array_push(&t);
		expect_eq(*p, 0, "pushed zeroed");
		*p = (int)i;
	}
	expect_eq(tab_array_reserve(&t, 1), -ENOSPC, "past max");
	expect_eq(tab_array_reserve(&t, SIZE_MAX), -ENOSPC, "SIZE_MAX more");
	expect_eq(t.nr, 40, "nr");
	for (i = 0; i < 40; i++)
		expect_eq(*(int *)tab_array_at(&t, i), i, "record %zu", i);
	expect_eq(tab_array_bytes(&t), 64 * sizeof(int), "bytes");
	tab_array_fini(&t);
}

struct rec {
	__u32 value;
	__u64 key;
};

static struct rec *add(struct tab_keyed *k, __u64 key, __u32 value)
{
	struct rec *r;

	cr_assert_eq(tab_keyed_reserve(k), 0, "reserve for %llu",
		     (unsigned long long)key);
	r = tab_keyed_add(k, key);
	expect_eq(r->key, key, "key set by add");
	expect_eq(r->value, 0, "value zeroed by add");
	r->value = value;
	return r;
}

static __u32 value_of(const struct tab_keyed *k, __u64 key)
{
	const struct rec *r = tab_keyed_get(k, key);

	return r ? r->value : 0;
}

Test(table, keyed_current_record_and_history)
{
	struct tab_keyed k;
	struct rec *r;

	cr_assert_eq(tab_keyed_init(&k, sizeof(struct rec),
				    offsetof(struct rec, key), 0), 0);
	add(&k, 7, 1);
	add(&k, 8, 2);
	add(&k, 7, 3);		/* a new record for 7: 1 is history */
	expect_eq(tab_keyed_nr(&k), 3, "records kept");
	expect_eq(value_of(&k, 7), 3, "current of 7");
	expect_eq(((struct rec *)tab_keyed_at(&k, 0))->value, 1, "history");

	cr_assert_eq(tab_keyed_reserve(&k), 0);
	r = tab_keyed_push(&k);
	r->value = 4;
	expect_eq(tab_keyed_nr(&k), 4, "after a push");
	expect_eq(value_of(&k, 0), 0, "a pushed record found by its key 0");

	/* The pushed record, last, moves into 8's place and stays unfound. */
	tab_keyed_delete(&k, tab_keyed_get(&k, 8));
	expect_eq(tab_keyed_nr(&k), 3, "after a delete");
	expect_eq(((struct rec *)tab_keyed_at(&k, 1))->value, 4, "moved");
	cr_assert_null(tab_keyed_get(&k, 8), "deleted key still found");
	expect_eq(value_of(&k, 0), 0, "the moved record found by key 0");
	expect_eq(value_of(&k, 7), 3, "current of 7 after the move");

	tab_keyed_unlink(&k, 7);
	cr_assert_null(tab_keyed_get(&k, 7), "unlinked key still found");
	expect_eq(tab_keyed_nr(&k), 3, "unlink keeps the record");
	tab_keyed_unlink(&k, 99);	/* not there: nothing happens */
	expect_eq(tab_keyed_nr(&k), 3, "unlink of a key not there");
	tab_keyed_fini(&k);
}

Test(table, keyed_delete_keeps_every_key_found)
{
	struct tab_keyed k;
	__u64 key;

	cr_assert_eq(tab_keyed_init(&k, sizeof(struct rec),
				    offsetof(struct rec, key), 0), 0);
	for (key = 1; key <= 1000; key++)
		add(&k, key, (__u32)key);
	/* Every other one, from the front: each time the last one moves. */
	for (key = 1; key <= 1000; key += 2)
		tab_keyed_delete(&k, tab_keyed_get(&k, key));
	expect_eq(tab_keyed_nr(&k), 500, "left");
	for (key = 1; key <= 1000; key++)
		expect_eq(value_of(&k, key), key % 2 ? 0 : key, "key %llu",
			  (unsigned long long)key);
	expect_eq(tab_keyed_bytes(&k), tab_array_bytes(&k.t) +
		  tab_index_bytes(&k.ix), "bytes");
	tab_keyed_fini(&k);
}

/* A table that stays empty costs nothing, is searched as any other, and
 * grows at its first record (each ended image keeps a dozen of them). */
Test(table, empty_tables_allocate_nothing)
{
	struct tab_keyed k;
	struct tab_pool p;
	const char *s;

	cr_assert_eq(tab_keyed_init(&k, sizeof(struct rec),
				    offsetof(struct rec, key), 0), 0);
	cr_assert_eq(tab_pool_init(&p, 0), 0);
	expect_eq(tab_keyed_bytes(&k), 0, "empty keyed table");
	expect_eq(tab_pool_bytes(&p), 0, "empty pool");
	cr_assert_null(tab_keyed_get(&k, 0), "key 0 found in an empty table");
	tab_keyed_unlink(&k, 5);
	add(&k, 5, 50);
	expect_eq(value_of(&k, 5), 50, "the first record");
	cr_expect_gt(tab_keyed_bytes(&k), 0, "a table with a record");
	cr_assert_eq(tab_pool_intern(&p, "x", &s, NULL), 0);
	cr_expect_str_eq(s, "x");
	/* Done growing: room for the records held, each still found. */
	add(&k, 6, 60);
	tab_keyed_shrink(&k);
	expect_eq(tab_array_bytes(&k.t), 2 * sizeof(struct rec), "shrunk");
	expect_eq(value_of(&k, 5) + value_of(&k, 6), 110, "found after");
	tab_keyed_fini(&k);
	tab_pool_fini(&p);
	/* Another empty one, freed empty: the shared slot is not freed. */
	cr_assert_eq(tab_pool_init(&p, 0), 0);
	tab_pool_fini(&p);
}

Test(table, keyed_full_table_refuses)
{
	struct tab_keyed k;

	cr_assert_eq(tab_keyed_init(&k, sizeof(struct rec),
				    offsetof(struct rec, key), 2), 0);
	add(&k, 1, 1);
	add(&k, 2, 2);
	expect_eq(tab_keyed_reserve(&k), -ENOSPC, "third record");
	expect_eq(value_of(&k, 1) + value_of(&k, 2), 3, "kept");
	tab_keyed_fini(&k);
}

Test(table, pool_interns_once_in_order)
{
	struct tab_pool p;
	const char *a, *b, *c;
	size_t na, nb, nc;

	cr_assert_eq(tab_pool_init(&p, 0), 0);
	cr_assert_eq(tab_pool_intern(&p, "request", &a, &na), 0);
	cr_assert_eq(tab_pool_intern(&p, "", &b, &nb), 0);
	cr_assert_eq(tab_pool_intern(&p, "request", &c, &nc), 0);
	cr_assert_eq(a, c, "the same string twice, two copies");
	cr_assert_str_eq(a, "request");
	cr_assert_str_eq(b, "");
	expect_eq(na, 0, "first number");
	expect_eq(nb, 1, "second number");
	expect_eq(nc, 0, "number of a string seen");
	expect_eq(tab_pool_nr(&p), 2, "strings");
	cr_assert_eq(tab_pool_str(&p, 1), b);
	cr_assert_eq(tab_pool_intern(&p, "requesu", &c, NULL), 0);
	cr_assert_neq(a, c, "different strings share a copy");
	tab_pool_fini(&p);
}

Test(table, pool_strings_stay_put_and_long_ones_fit)
{
	static char big[10000];
	const char *first, *again, *copy;
	struct tab_pool p;
	char name[32];
	size_t i, before;

	memset(big, 'x', sizeof(big) - 1);
	cr_assert_eq(tab_pool_init(&p, 0), 0);
	cr_assert_eq(tab_pool_intern(&p, "name-0", &first, NULL), 0);
	/* Many pages' worth: earlier copies never move. */
	for (i = 1; i < 3000; i++) {
		snprintf(name, sizeof(name), "name-%zu", i);
		cr_assert_eq(tab_pool_intern(&p, name, &copy, NULL), 0);
	}
	before = tab_pool_bytes(&p);
	cr_assert_eq(tab_pool_intern(&p, big, &copy, NULL), 0);
	cr_assert_str_eq(copy, big, "a string longer than a page");
	cr_assert_geq(tab_pool_bytes(&p) - before, sizeof(big),
		      "the long string's page is not counted");
	cr_assert_eq(tab_pool_intern(&p, "name-0", &again, NULL), 0);
	cr_assert_eq(again, first, "an early string moved");
	cr_assert_str_eq(first, "name-0");
	tab_pool_fini(&p);
}

Test(table, pool_full_refuses_new_strings_only)
{
	struct tab_pool p;
	const char *s;

	cr_assert_eq(tab_pool_init(&p, 2), 0);
	cr_assert_eq(tab_pool_intern(&p, "a", &s, NULL), 0);
	cr_assert_eq(tab_pool_intern(&p, "b", &s, NULL), 0);
	expect_eq(tab_pool_intern(&p, "c", &s, NULL), -ENOSPC, "third");
	expect_eq(tab_pool_intern(&p, "a", &s, NULL), 0, "one it holds");
	expect_eq(tab_pool_nr(&p), 2, "strings");
	tab_pool_fini(&p);
}
