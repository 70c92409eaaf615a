/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The kernel's live table (bpf/live_table.h), the very code the BPF
 * programs run, on an array here: a service that cycles through ever new
 * addresses must not turn the table into tombstones, and threads that
 * insert, free and reclaim at once must never lose a block.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <criterion/criterion.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#include "events.h"

#define MAX_SLOTS	(1u << 16)

static struct live_slot table[MAX_SLOTS];
static __u32 mask;
static __u64 replaced;
/*
 * Racing threads pause now and then between two slot accesses, so that
 * another thread's swap lands between a read and what follows it: the
 * windows are nanoseconds wide otherwise.
 */
static bool jitter;
static __thread __u32 jitter_n;
/* Both tables, near in front (live_add), or the far one alone. */
static bool two_level;

static struct live_slot *live_at(__u32 idx)
{
	if (jitter && ++jitter_n % 3 == 0)
		for (volatile int i = 0; i < (int)(jitter_n % 64); i++)
			;
	return &table[idx & mask];
}

static void live_replaced(__u64 size, __u64 tag)
{
	(void)size;
	(void)tag;
	__sync_fetch_and_add(&replaced, 1);
}

/*
 * A traced set: processes share the table, each block's owner in its
 * tag's upper half, as bpf/memscope.bpf.c's ms_owner() puts it.
 */
static bool shared;

static bool live_owned(const struct live_slot *s, __u64 owner)
{
	return !shared || (s->tag >> 32) == (owner >> 32);
}

static bool live_shared(void)
{
	return shared;
}

/*
 * The near table: as many buckets as a test asks (near_shift), up to
 * MS_NEAR_SLOTS slots; the jitter as the far table's.
 */
static struct live_slot near[MS_NEAR_SLOTS];
static __u64 spill[1u << MS_NEAR_BUCKET_BITS];
static __u32 near_shift;

static struct live_slot *near_at(__u32 idx)
{
	if (jitter && ++jitter_n % 3 == 0)
		for (volatile int i = 0; i < (int)(jitter_n % 64); i++)
			;
	return &near[idx & (MS_NEAR_SLOTS - 1)];
}

static __u64 *near_spill_at(__u32 bucket)
{
	return &spill[bucket & ((1u << MS_NEAR_BUCKET_BITS) - 1)];
}

#define NEAR_SHIFT	near_shift
#define LIVE_GLOBAL	static
#define LIVE_MASK	mask
#define LIVE_LOOP(n, step, ctx)						\
	do {								\
		for (__u32 i_ = 0; i_ < (n); i_++)			\
			if ((step)(i_, (ctx)))				\
				break;					\
	} while (0)
#include "live_table.h"

static void reset(__u32 slots)
{
	memset(table, 0, sizeof(table));
	memset(near, 0, sizeof(near));
	memset(spill, 0, sizeof(spill));
	near_shift = 64 - MS_NEAR_BUCKET_BITS;
	two_level = false;
	mask = slots - 1;
	replaced = 0;
	jitter = false;
	shared = false;
}

/*
 * A plain free, as bpf/memscope.bpf.c's block_release_at does one: of the
 * far table alone, or (two_level) of both, as the BPF programs use them.
 */
static bool table_free_of(__u64 ptr, __u64 owner, bool reclaim)
{
	__u32 idx = two_level ? live_lookup(ptr, owner) : live_find(ptr, owner);
	struct live_slot *s = live_slot_at(idx);

	if (!s || __sync_val_compare_and_swap(&s->key, ptr, LIVE_TOMB) != ptr)
		return false;
	if (two_level)
		live_released(idx, ptr, owner);
	else if (reclaim)
		live_reclaim(idx);
	return true;
}

static bool table_add(__u64 ptr, __u64 size, __u64 seq, __u64 tag)
{
	return two_level ? live_add(ptr, size, seq, tag) :
			   live_table_insert(ptr, size, seq, tag);
}

static bool table_free(__u64 ptr, bool reclaim)
{
	return table_free_of(ptr, 0, reclaim);
}

static __u32 count_keys(__u64 key)
{
	__u32 i, n = 0;

	for (i = 0; i <= mask; i++)
		n += table[i].key == key;
	return n;
}

/* Slots a search for an absent address reads, averaged over every home. */
static double miss_probes(void)
{
	__u64 total = 0;
	__u32 h, i;

	for (h = 0; h <= mask; h++) {
		for (i = 0; i < LIVE_PROBES; i++)
			if (live_at(h + i)->key == LIVE_EMPTY)
				break;
		total += i < LIVE_PROBES ? i + 1 : LIVE_PROBES;
	}
	return (double)total / (mask + 1);
}

/* Every live key reachable: nothing empty between its home and it. */
static void expect_reachable(void)
{
	__u32 idx, h, i;
	__u64 k;

	for (idx = 0; idx <= mask; idx++) {
		k = table[idx].key;
		if (k <= LIVE_STATES)
			continue;
		cr_assert(live_find(k, table[idx].tag) != LIVE_NONE &&
			  (live_find(k, table[idx].tag) & mask) == idx,
			     "key 0x%llx at %u cannot be found",
			     (unsigned long long)k, idx);
		h = live_home(k, table[idx].tag);
		for (i = 0; ((h + i) & mask) != idx; i++)
			cr_assert(live_at(h + i)->key != LIVE_EMPTY,
				  "slot %u before key 0x%llx is empty",
				  (h + i) & mask, (unsigned long long)k);
	}
}

/*
 * A sliding window of `window` live blocks over ever new addresses, as a
 * service's allocator hands out over hours; returns the empty slots left.
 */
static __u32 cycle(__u64 steps, __u32 window, bool reclaim)
{
	const __u64 base = 0x7f0000000000ull;
	__u64 i;

	for (i = 0; i < steps; i++) {
		if (!live_table_insert(base + i * 48, 48, i + 1, 0))
			cr_assert_fail("step %llu: no slot (%u empty)",
				       (unsigned long long)i,
				       count_keys(LIVE_EMPTY));
		if (i >= window && !table_free(base + (i - window) * 48,
					       reclaim))
			cr_assert_fail("step %llu: the block of step %llu is lost",
				       (unsigned long long)i,
				       (unsigned long long)(i - window));
	}
	return count_keys(LIVE_EMPTY);
}

/*
 * A service with a sixteenth of the slots live (32k blocks in the default
 * table): without reclaiming, ever new addresses leave a tombstone in
 * every slot, and each insert and each search for an unknown address
 * reads all LIVE_PROBES slots of its window, for good.
 */
#define SLOTS		(1u << 14)
#define WINDOW		(SLOTS / 16)

Test(live_table, without_reclaim_tombstones_take_every_slot)
{
	reset(SLOTS);
	cycle(64 * SLOTS, WINDOW, false);
	cr_expect_lt(count_keys(LIVE_EMPTY), 16,
		     "%u slots still empty", count_keys(LIVE_EMPTY));
	cr_expect_gt(miss_probes(), LIVE_PROBES - 1,
		     "a search reads %.1f slots", miss_probes());
}

/*
 * With reclaiming, at the same load: the table holds as many tombstones
 * after 4 million blocks as after the first pass over it, and a search
 * for an unknown address reads as few slots. (At a quarter full and
 * more, long runs of slots keep tombstones too; every window is still
 * LIVE_PROBES slots at most.)
 */
Test(live_table, cycling_addresses_stay_as_short_as_after_warmup)
{
	__u32 warm_tombs, tombs;
	double warm, end;

	reset(SLOTS);
	cycle(4 * SLOTS, WINDOW, true);
	warm_tombs = count_keys(LIVE_TOMB);
	warm = miss_probes();
	reset(SLOTS);
	cycle(4ull << 20, WINDOW, true);
	tombs = count_keys(LIVE_TOMB);
	end = miss_probes();
	expect_reachable();
	cr_expect_eq(replaced, 0);
	cr_expect_leq(tombs, warm_tombs + warm_tombs / 4 + 64,
		      "%u tombstones after 4 Mi blocks, %u after warm-up",
		      tombs, warm_tombs);
	cr_expect_leq(end, warm * 1.25 + 0.5,
		      "a search reads %.2f slots, %.2f after warm-up", end,
		      warm);
	cr_expect_lt(end, 2, "a search reads %.2f slots", end);
}

/*
 * The sliding window again, and one block in `every` kept for good (a
 * slow leak): the tombstones left at the end.
 */
static __u32 leaky_cycle(__u64 steps, __u64 every)
{
	const __u64 base = 0x7e0000000000ull;
	__u64 i;

	reset(SLOTS);
	for (i = 0; i < steps; i++) {
		cr_assert(live_table_insert(base + i * 48, 48, i + 1, 0));
		if (i >= WINDOW && (i - WINDOW) % every)
			cr_assert(table_free(base + (i - WINDOW) * 48, true));
	}
	expect_reachable();
	cr_expect_eq(replaced, 0);
	return count_keys(LIVE_TOMB);
}

/*
 * A block that outlives the churn around it keeps the tombstones in
 * front of it until it goes (a key placed past them may need them), so
 * they follow such blocks: the same 256 kept blocks among four times as
 * many that came and went leave no more of them.
 */
Test(live_table, tombstones_follow_long_lived_blocks_not_events)
{
	__u32 few = leaky_cycle(1u << 20, 1u << 12);
	__u32 many = leaky_cycle(1u << 22, 1u << 14);

	cr_expect_leq(many, few + few / 4 + 64,
		      "256 kept blocks: %u tombstones among 1 Mi blocks, %u among 4 Mi",
		      few, many);
	cr_expect_lt(few, SLOTS / 2, "%u tombstones of %u slots", few, SLOTS);
}

/* Addresses as spread as the hash makes them: 16-aligned, random. */
static __u64 random_address(__u64 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (*state & 0x7ffffffffff0ull) | 0x10;
}

/*
 * A service holding `live` blocks at random addresses, each freed `live`
 * allocations later, for `steps` allocations: the inserts that found no
 * slot in their window (live_full in the kernel).
 */
static __u64 churn_failures(__u32 live, __u64 steps)
{
	static __u64 ring[MAX_SLOTS];
	__u64 state = 0x9e3779b97f4a7c15ull, i, failed = 0;
	__u32 j;

	reset(MAX_SLOTS);
	memset(ring, 0, sizeof(ring));
	for (i = 0; i < steps; i++) {
		j = i % live;
		if (ring[j])
			cr_assert(table_free(ring[j], true));
		ring[j] = random_address(&state);
		if (!live_table_insert(ring[j], 48, i + 1, 0)) {
			failed++;
			ring[j] = 0;
		}
	}
	expect_reachable();
	return failed;
}

/*
 * The load the table is sized for (LIVE_FILL_EIGHTHS of its slots live
 * at --max-live): no insert fails, neither while it fills nor under 16
 * times its size of churn. With 16-slot windows 1 in 10^4 failed here.
 */
Test(live_table, sized_load_fails_no_insert)
{
	__u32 live = MAX_SLOTS / 8 * LIVE_FILL_EIGHTHS;
	__u64 failed = churn_failures(live, 16ull * MAX_SLOTS);

	cr_expect_eq(failed, 0, "%llu of %llu inserts found no slot at %u%% full",
		     (unsigned long long)failed,
		     (unsigned long long)16 * MAX_SLOTS, 100 * live / MAX_SLOTS);
	cr_expect_eq(replaced, 0);
}

Test(live_table, reclaim_walks_back_over_tombstones)
{
	__u64 a = 0x1000, home = live_home(a, 0);
	__u64 ptrs[4];
	__u32 n = 0, i;

	reset(1u << 10);
	/* four keys of one home, in its first four slots */
	for (__u64 p = 0x10; n < 4; p += 0x10)
		if ((live_home(p, 0) & mask) == (home & mask))
			ptrs[n++] = p;
	for (i = 0; i < 4; i++)
		cr_assert(live_table_insert(ptrs[i], 8, i + 1, 0));
	for (i = 0; i < 4; i++)
		cr_assert_eq(live_find(ptrs[i], 0) & mask, (home + i) & mask);
	/* the inner ones stay tombstones: the last still needs them */
	cr_assert(table_free(ptrs[1], true));
	cr_assert(table_free(ptrs[2], true));
	cr_expect_eq(live_at(home + 1)->key, LIVE_TOMB);
	cr_expect_eq(live_at(home + 2)->key, LIVE_TOMB);
	cr_expect_eq(live_find(ptrs[3], 0) & mask, (home + 3) & mask);
	/* freeing the last empties it and the tombstones before it */
	cr_assert(table_free(ptrs[3], true));
	for (i = 1; i < 4; i++)
		cr_expect_eq(live_at(home + i)->key, LIVE_EMPTY, "slot %u", i);
	cr_expect_eq(live_at(home)->key, ptrs[0]);
	cr_expect_eq(count_keys(LIVE_TOMB), 0);
}

/*
 * Threads insert and free at once in a small table where every address
 * shares its window with many others, so inserts, reclaims and settles
 * race: no free may miss its block, and no key may end unreachable.
 */
#define THREADS		4
#define RACE_STEPS	1000000
#define RACE_WINDOW	6
/* Near slots for two thirds of the THREADS * RACE_WINDOW live keys. */
#define RACE_BUCKETS	(16 / MS_NEAR_WAYS)
_Static_assert(RACE_BUCKETS >= 2 && !(RACE_BUCKETS & (RACE_BUCKETS - 1)),
	       "the racing tests' near table: a power of two of buckets");

struct racer {
	__u32 id;
	__u64 lost;
	__u64 full;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	/*
	 * addresses of thread id, 16 apart; in a traced set every thread
	 * is a process of its own using the same addresses
	 */
	__u64 base = 0x100000ull * (shared ? 1 : r->id + 1), i, p;
	__u64 tag = shared ? (__u64)(r->id + 1) << 32 : r->id;

	for (i = 0; i < RACE_STEPS; i++) {
		p = base + (i % 4096) * 16 + (i / 4096 % 2) * 0x80000;
		if (!table_add(p, 16, i + 1, tag))
			r->full++;
		if (i < RACE_WINDOW)
			continue;
		i -= RACE_WINDOW;
		p = base + (i % 4096) * 16 + (i / 4096 % 2) * 0x80000;
		i += RACE_WINDOW;
		if (!table_free_of(p, tag, true))
			r->lost++;
	}
	return NULL;
}

static void race_all(bool set, bool both)
{
	struct racer r[THREADS] = {};
	pthread_t t[THREADS];
	__u64 live = 0, spilled = 0;
	__u32 i;

	/* a quarter full: runs of slots that windows share */
	reset(THREADS * RACE_WINDOW * 4 > 64 ? 128 : 64);
	jitter = true;
	shared = set;
	/*
	 * RACE_BUCKETS for 24 live keys, fewer slots than keys: buckets
	 * fill, spill and empty again all the time
	 */
	two_level = both;
	near_shift = 64 - __builtin_ctz(RACE_BUCKETS);
	for (i = 0; i < THREADS; i++) {
		r[i].id = i;
		cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < THREADS; i++) {
		cr_expect_eq(r[i].full, 0, "thread %u: %llu inserts found no slot",
			     i, (unsigned long long)r[i].full);
		cr_expect_eq(r[i].lost, 0, "thread %u: %llu frees missed their block",
			     i, (unsigned long long)r[i].lost);
	}
	for (i = 0; i <= mask; i++)
		live += table[i].key > LIVE_STATES;
	/* exact here: no sweep lowers a count (which may only be high) */
	for (i = 0; i < RACE_BUCKETS; i++)
		spilled += spill[i];
	if (both)
		cr_expect_eq(spilled, live, "spill counts %llu for %llu far keys",
			     (unsigned long long)spilled,
			     (unsigned long long)live);
	for (i = 0; i < RACE_BUCKETS * MS_NEAR_WAYS; i++)
		live += near[i].key > LIVE_STATES;
	cr_expect_eq(live, THREADS * RACE_WINDOW);
	cr_expect_eq(count_keys(LIVE_BUSY) + count_keys(LIVE_RECL), 0);
	cr_expect_eq(replaced, 0);
	expect_reachable();
}

Test(live_table, racing_threads_lose_no_block)
{
	race_all(false, false);
}

/* Processes of a traced set at the same addresses: each finds its own. */
Test(live_table, racing_processes_at_one_address_lose_no_block)
{
	race_all(true, false);
}

/* The same through the near table's few buckets and their spills. */
Test(live_table, racing_threads_through_both_tables_lose_no_block)
{
	race_all(false, true);
}

Test(live_table, racing_processes_through_both_tables_lose_no_block)
{
	race_all(true, true);
}

/*
 * The forks of one parent allocate at the same addresses: 128 processes
 * holding one address at once each have a slot (where they all had one
 * bucket and one window, 40 slots), find their own, and free it.
 */
Test(live_table, many_processes_at_one_address_each_have_a_slot)
{
	const __u64 ptr = 0x55d0c0de4000, n = 128;
	__u64 owner, full = 0, found = 0, spilled = 0;
	__u32 idx, i;

	reset(1u << 14);
	shared = true;
	two_level = true;
	for (owner = 1; owner <= n; owner++)
		full += !live_add(ptr, 64, owner, owner << 32);
	cr_expect_eq(full, 0, "%llu of %llu processes' blocks found no slot",
		     (unsigned long long)full, (unsigned long long)n);
	for (owner = 1; owner <= n; owner++) {
		idx = live_lookup(ptr, owner << 32);
		found += idx != LIVE_NONE &&
			 live_slot_at(idx)->seq == owner;
	}
	cr_expect_eq(found, n, "%llu of %llu found their own block",
		     (unsigned long long)found, (unsigned long long)n);
	for (owner = 1; owner <= n; owner++)
		cr_expect(table_free_of(ptr, owner << 32, true),
			  "process %llu's free missed its block",
			  (unsigned long long)owner);
	for (i = 0; i < (1u << MS_NEAR_BUCKET_BITS); i++)
		spilled += spill[i];
	cr_expect_eq(spilled, 0, "spill counts %llu after every free",
		     (unsigned long long)spilled);
	cr_expect_eq(count_keys(ptr), 0);
}

/*
 * One bucket's worth of keys stays near; more go far, counted in the
 * bucket's spill count, and are found there; frees bring the count back
 * to 0 and the far table back to empty.
 */
Test(live_table, a_full_bucket_spills_to_the_far_table)
{
	__u64 p[3 * MS_NEAR_WAYS];
	__u32 n = 0, i, nearn = 0;

	reset(1u << 10);
	two_level = true;
	for (__u64 a = 0x10000; n < 3 * MS_NEAR_WAYS; a += 0x10)
		if (near_bucket(a, 0) == near_bucket(0x10000, 0))
			p[n++] = a;
	for (i = 0; i < n; i++)
		cr_assert(live_add(p[i], 8, i + 1, 0));
	for (i = 0; i < n; i++) {
		__u32 idx = live_lookup(p[i], 0);

		cr_assert_neq(idx, LIVE_NONE, "key %u lost", i);
		cr_expect_eq(live_slot_at(idx)->seq, i + 1);
		nearn += !!(idx & LIVE_NEAR);
	}
	cr_expect_eq(nearn, MS_NEAR_WAYS);
	cr_expect_eq(spill[near_bucket(p[0], 0)], n - MS_NEAR_WAYS);
	/* a free near leaves room, which a new key takes, far keys or not */
	cr_assert(table_free_of(p[0], 0, true));
	cr_assert(live_add(p[0], 8, 99, 0));
	cr_expect(live_lookup(p[0], 0) & LIVE_NEAR);
	cr_expect_eq(spill[near_bucket(p[0], 0)], n - MS_NEAR_WAYS);
	for (i = 0; i < n; i++)
		cr_assert(table_free_of(p[i], 0, true), "key %u", i);
	cr_expect_eq(spill[near_bucket(p[0], 0)], 0);
	cr_expect_eq(count_keys(LIVE_EMPTY), mask + 1);
	for (i = 0; i < n; i++)
		cr_expect_eq(live_lookup(p[i], 0), LIVE_NONE);
	/* and an empty bucket takes keys near again */
	cr_assert(live_add(p[1], 8, 100, 0));
	cr_expect(live_lookup(p[1], 0) & LIVE_NEAR);
}

/*
 * A block whose free was not seen is replaced where it is, near or far,
 * never held twice, even with room near; the far one's spill count stays
 * one.
 */
Test(live_table, an_unseen_free_is_replaced_in_either_table)
{
	__u64 p[MS_NEAR_WAYS + 1];
	__u32 n = 0, i, held;

	reset(1u << 10);
	two_level = true;
	for (__u64 a = 0x20000; n < MS_NEAR_WAYS + 1; a += 0x10)
		if (near_bucket(a, 0) == near_bucket(0x20000, 0))
			p[n++] = a;
	for (i = 0; i < n; i++)
		cr_assert(live_add(p[i], 8, i + 1, 0));
	/* room near: not for a key the far table already holds */
	cr_assert(table_free_of(p[1], 0, true));
	cr_assert(live_add(p[0], 16, 50, 0));
	cr_assert(live_add(p[n - 1], 16, 51, 0));
	cr_expect(!(live_lookup(p[n - 1], 0) & LIVE_NEAR));
	cr_expect_eq(replaced, 2);
	cr_expect_eq(spill[near_bucket(p[0], 0)], 1);
	for (i = 0; i < n; i += n - 1) {
		held = count_keys(p[i]);
		for (__u32 j = 0; j < MS_NEAR_SLOTS; j++)
			held += near[j].key == p[i];
		cr_expect_eq(held, 1, "key %u held %u times", i, held);
	}
	cr_expect_eq(live_slot_at(live_lookup(p[0], 0))->seq, 50);
	cr_expect_eq(live_slot_at(live_lookup(p[n - 1], 0))->seq, 51);
}
