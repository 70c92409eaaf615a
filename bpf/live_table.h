/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The kernel's live table: blocks by address, for the exact counters, in
 * an open-addressing table of slots changed with compare-and-swap by every
 * CPU at once. The BPF programs include it (bpf/memscope.bpf.c), and so
 * does tests/unit/test_live_table.c, which runs the same code on threads.
 *
 * The slot and its states are the ABI's (events.h). The includer defines,
 * before including this:
 *   static struct live_slot *live_at(__u32 idx);     slot idx & mask, or NULL
 *   static void live_replaced(__u64 size, __u64 tag); a block never freed,
 *                                                    dropped (counted)
 *   static bool live_owned(const struct live_slot *s, __u64 owner);
 *                 whether the block in s is owner's: processes of a traced
 *                 set share the table, and two may hold one address
 *   static bool live_shared(void);  whether they do: a new key is then
 *                 published after its slot's owner (LIVE_BUSY meanwhile)
 *   LIVE_MASK     the slots minus one (a power of two)
 *   LIVE_GLOBAL   how the larger functions are declared: global functions
 *                 in BPF, so the verifier walks their loops once
 *   LIVE_LOOP(n, step, ctx)   calls long step(__u32 i, void *ctx) up to n
 *                 times, until it returns 1 (bpf_loop's contract)
 *
 * A key is the block address, or a state (LIVE_EMPTY ... LIVE_STATES).
 * A search for a key stops at the first empty slot of its window, so a
 * freed slot cannot simply become empty: a key placed past it would be
 * lost. It becomes a tombstone, which an insert may reuse; and a
 * tombstone no key after it needs (none up to the next empty slot has its
 * home at or before it) is made empty again (live_reclaim), walking back
 * over the tombstones before it. Without that, a service that cycles through ever new
 * addresses turns every slot it ever used into a tombstone: every insert
 * and every search for an unknown address then reads all LIVE_PROBES
 * slots of its window, for as long as the trace lasts.
 *
 * The invariant: no slot between a key's home and the key is empty. A
 * tombstone j is emptied only when no key needs it, in three steps:
 * j becomes LIVE_RECL (searches go on past it, as past a tombstone), the
 * keys after j are read again, and j becomes empty only if none needs it,
 * else a tombstone again:
 *  - a key swapped in before that read is seen by it, and j stays;
 *  - a key swapped in after it is checked by its insert, which reads the
 *    window before its key again after its swap and moves the key into
 *    any empty or LIVE_RECL slot it finds (live_settle): j.
 * j is never empty while a key that needs it can be looked up. (Emptying
 * first and putting the tombstone back on a second look left a moment in
 * which a key inserted between the two looks, its insert over, could not
 * be found: test_live_table's racing threads lost a free in 1 run of 20.)
 */
#ifndef MEMSCOPE_LIVE_TABLE_H
#define MEMSCOPE_LIVE_TABLE_H

/*
 * A window's slots. Random addresses churned at a steady load, with every
 * tombstone no key needs reclaimed, fail an insert in 16-slot windows
 * 7e-7 of the time at 25 % full, 6e-5 at 35 %, 8e-4 at 45 %; in 32-slot
 * windows none at 35 %, 4e-7 at 40 %, 4e-6 at 45 % (8 Mi inserts into
 * 1 Mi slots; filling without frees, the first fails near 35 % and 50 %).
 * A search for an absent address stops at the first empty slot, so a
 * wider window costs only where the table is crowded.
 */
#define LIVE_PROBES	32
/* live_find()'s "not found": no index is this large. */
#define LIVE_NONE	0xffffffffu

/* ms_live_hkey() of owner's ptr: owner's part only in a shared table. */
static __always_inline __u64 live_hkey(__u64 ptr, __u64 owner)
{
	return ms_live_hkey(ptr, live_shared() ? (__u32)(owner >> 32) : 0);
}

/* Owner's ptr's home in the far table: multiplicative hashing. */
static __always_inline __u32 live_home(__u64 ptr, __u64 owner)
{
	return (live_hkey(ptr, owner) * 0x9e3779b97f4a7c15ull) >> 32;
}

static __always_inline __u64 live_key(struct live_slot *s)
{
	return *(volatile __u64 *)&s->key;
}

/*
 * The index of owner's ptr's slot (masked: below 2^31, where a near index
 * has LIVE_NEAR), or LIVE_NONE.
 */
static __always_inline __u32 live_find(__u64 ptr, __u64 owner)
{
	__u32 home = live_home(ptr, owner);
	struct live_slot *s;
	__u64 k;

	if (ptr <= LIVE_STATES)
		return LIVE_NONE;
	for (__u32 i = 0; i < LIVE_PROBES; i++) {
		s = live_at(home + i);
		if (!s)
			return LIVE_NONE;
		k = live_key(s);
		if (k == ptr && live_owned(s, owner))
			return (home + i) & LIVE_MASK;
		if (k == LIVE_EMPTY)
			return LIVE_NONE;
	}
	return LIVE_NONE;
}

/*
 * Slot s, which held old (a free state), taken for a new key ptr: one
 * swap publishes it, with its size, seq and tag written after (nothing
 * reads a slot's size before malloc returns ptr to its caller, and a
 * release racing from a realloc compares seq, which it cannot find equal
 * to its own old block's). In a traced set another process may look for
 * the same address: the slot is held busy until its owner is in, and
 * published with the key. false when another CPU swapped first.
 */
static __always_inline bool live_claim(struct live_slot *s, __u64 old,
				       __u64 ptr, __u64 size, __u64 seq,
				       __u64 tag)
{
	if (__sync_val_compare_and_swap(&s->key, old, live_shared() ?
					LIVE_BUSY : ptr) != old)
		return false;
	s->size = size;
	s->seq = seq;
	s->tag = tag;
	if (live_shared())
		__sync_lock_test_and_set(&s->key, ptr);
	return true;
}

/*
 * Slot s holds ptr, a block whose free was not seen: its bytes leave the
 * live totals (live_replaced) and the new block takes the slot, held busy
 * meanwhile; the exchange publishes size and seq with the key. false when
 * another CPU swapped first.
 */
static __always_inline bool live_replace(struct live_slot *s, __u64 ptr,
					 __u64 size, __u64 seq, __u64 tag)
{
	if (__sync_val_compare_and_swap(&s->key, ptr, LIVE_BUSY) != ptr)
		return false;
	live_replaced(s->size, s->tag);
	s->size = size;
	s->seq = seq;
	s->tag = tag;
	__sync_lock_test_and_set(&s->key, ptr);
	return true;
}

struct live_settling {
	__u64 ptr;
	__u32 home;
	__u32 pos;		/* where ptr is now */
	__u32 i;		/* the next slot to look at */
};

/*
 * One step of live_settle: look at slot home + i; an empty one, or one
 * being reclaimed, gets ptr, and the slot it left becomes a tombstone. Since slots looked at before
 * may have been emptied meanwhile, the walk starts again from home after
 * a move. 1 when done.
 */
static long live_settle_step(__u32 n, void *ctx)
{
	struct live_settling *c = ctx;
	struct live_slot *s, *from;
	__u64 k;

	(void)n;
	if (c->i >= c->pos || c->pos >= LIVE_PROBES)
		return 1;
	s = live_at(c->home + c->i);
	from = live_at(c->home + c->pos);
	if (!s || !from)
		return 1;
	k = live_key(s);
	if (k != LIVE_EMPTY && k != LIVE_RECL) {
		c->i++;
		return 0;
	}
	/*
	 * Taken meanwhile: look at it again. The copy goes in as a new key
	 * does (held busy in a traced set); a search meanwhile finds ptr
	 * where it was.
	 */
	if (!live_claim(s, k, c->ptr, from->size, from->seq, from->tag))
		return 0;
	__sync_lock_test_and_set(&from->key, LIVE_TOMB);
	c->pos = c->i;
	c->i = 0;
	return 0;
}

/*
 * ptr was just swapped into slot home + pos: while a slot before it is
 * empty, move it there. Each move brings it closer to home and
 * every other step looks one slot further, so it ends well within the
 * bound; the loop is the includer's LIVE_LOOP (bpf_loop in BPF, so the
 * verifier walks one step, not every path through the walk).
 */
static __always_inline void live_settle(__u64 ptr, __u32 home, __u32 pos)
{
	struct live_settling c = { .ptr = ptr, .home = home, .pos = pos };

	LIVE_LOOP(4 * LIVE_PROBES * LIVE_PROBES, live_settle_step, &c);
}

/*
 * Whether no key needs the slot idx to be non-empty: none after it in a
 * window, up to the first empty slot, has its home at or before it. A
 * key being rewritten (LIVE_BUSY) may: it says no.
 */
static __always_inline bool live_unneeded(__u32 idx)
{
	struct live_slot *s;
	__u64 k, tag;

	for (__u32 i = 1; i < LIVE_PROBES; i++) {
		s = live_at(idx + i);
		if (!s)
			return false;
		k = live_key(s);
		if (k == LIVE_EMPTY)
			return true;
		if (k == LIVE_BUSY)
			return false;
		if (k <= LIVE_STATES)
			continue;
		/*
		 * Its home is its owner's too: the tag a published key has,
		 * unless the slot changed since (then it may be needed)
		 */
		tag = *(volatile __u64 *)&s->tag;
		if (live_key(s) != k ||
		    ((idx + i - live_home(k, tag)) & LIVE_MASK) >= i)
			return false;
	}
	return true;
}

/*
 * Slot idx has just become a tombstone: make it empty while no key needs
 * it, then the tombstone before it in turn; how, and why in three steps,
 * at the top of this file.
 */
static long live_reclaim_step(__u32 n, void *ctx)
{
	__u32 *idx = ctx;
	struct live_slot *s = live_at(*idx);

	(void)n;
	if (!s || live_key(s) != LIVE_TOMB || !live_unneeded(*idx))
		return 1;
	/* An insert took the tombstone meanwhile: it stays. */
	if (__sync_val_compare_and_swap(&s->key, LIVE_TOMB,
					LIVE_RECL) != LIVE_TOMB)
		return 1;
	/*
	 * A key that settled into the slot meanwhile keeps it: either swap
	 * then fails.
	 */
	if (!live_unneeded(*idx)) {
		__sync_val_compare_and_swap(&s->key, LIVE_RECL, LIVE_TOMB);
		return 1;
	}
	if (__sync_val_compare_and_swap(&s->key, LIVE_RECL,
					LIVE_EMPTY) != LIVE_RECL)
		return 1;
	(*idx)--;
	return 0;
}

/* A LIVE_LOOP, as live_settle: the verifier walks one step. */
LIVE_GLOBAL int live_reclaim(__u32 idx)
{
	LIVE_LOOP(LIVE_PROBES, live_reclaim_step, &idx);
	return 0;
}

/* What live_scan_step found in a window, for live_table_insert. */
struct live_scanning {
	__u64 ptr;
	__u64 owner;
	__u64 spot_key;		/* the key spot held when read */
	__u32 home;
	__u32 spot;		/* the slot to take; LIVE_NONE: none */
	bool ptr_seen;		/* spot holds ptr already */
	bool failed;		/* a slot could not be read */
};

/*
 * One step of an insert's window scan: slot home + i holding owner's ptr
 * ends the scan with it; else the first reusable slot (empty, tombstone,
 * being reclaimed) is kept, and an empty one ends the scan. 1 when done.
 */
static long live_scan_step(__u32 i, void *ctx)
{
	struct live_scanning *c = ctx;
	struct live_slot *s;
	__u64 k;

	if (i >= LIVE_PROBES)
		return 1;
	s = live_at(c->home + i);
	if (!s) {
		c->failed = true;
		return 1;
	}
	k = live_key(s);
	if (k == c->ptr && live_owned(s, c->owner)) {
		c->spot = i;
		c->spot_key = k;
		c->ptr_seen = true;
		return 1;
	}
	if (k <= LIVE_STATES && k != LIVE_BUSY && c->spot == LIVE_NONE) {
		c->spot = i;
		c->spot_key = k;
	}
	return k == LIVE_EMPTY;
}

/* What live_far_insert() did. */
enum {
	LIVE_ADD_FULL,		/* no free slot in the window */
	LIVE_ADD_NEW,		/* a slot of its own */
	LIVE_ADD_REPLACED,	/* the slot already holding ptr */
};

/*
 * Put ptr in the far table; LIVE_ADD_FULL when its window holds no free
 * slot. A slot already holding ptr is a block whose free was not seen: a
 * realloc on another thread that released it and has not returned yet,
 * or a free that ran before its probe was attached. Its bytes leave the
 * live totals (live_replaced); like the store, which counts it as
 * replaced, this is not counted as a free (LIVE_ADD_REPLACED).
 */
static __always_inline int live_far_insert(__u64 ptr, __u64 size, __u64 seq,
					   __u64 tag)
{
	struct live_scanning c = { .ptr = ptr, .owner = tag,
				   .home = live_home(ptr, tag) };
	struct live_slot *spot;
	__u64 spot_key;
	__u32 pos;

	if (ptr <= LIVE_STATES)
		return LIVE_ADD_FULL;
	/*
	 * A lost race for a slot (another key swapped in first) rescans; only
	 * a run of such losses on many CPUs at once counts as a full table.
	 * The scan is a LIVE_LOOP, so the verifier walks one step of it, not
	 * every path through LIVE_PROBES slots in each of the tries (with 32
	 * slots, unrolled, that was most of a second of load time).
	 */
	for (int tries = 0; tries < 4; tries++) {
		c.spot = LIVE_NONE;
		c.spot_key = 0;
		c.ptr_seen = false;
		c.failed = false;
		LIVE_LOOP(LIVE_PROBES, live_scan_step, &c);
		if (c.failed || c.spot >= LIVE_PROBES)
			return LIVE_ADD_FULL;
		pos = c.spot;
		spot_key = c.spot_key;
		spot = live_at(c.home + pos);
		if (!spot)
			return LIVE_ADD_FULL;
		if (c.ptr_seen) {
			if (live_replace(spot, ptr, size, seq, tag))
				return LIVE_ADD_REPLACED;
			continue;
		}
		if (!live_claim(spot, spot_key, ptr, size, seq, tag))
			continue;
		if (pos)
			live_settle(ptr, c.home, pos);
		return LIVE_ADD_NEW;
	}
	return LIVE_ADD_FULL;
}

/* The far table alone, as the tests of its windows use it. */
static __always_inline bool live_table_insert(__u64 ptr, __u64 size,
					      __u64 seq, __u64 tag)
{
	return live_far_insert(ptr, size, seq, tag) != LIVE_ADD_FULL;
}

/*
 * The near table: a small table in front of the far one above, in
 * buckets of NEAR_WAYS slots (four cache lines), so that a program whose
 * heap holds a few thousand blocks finds them in 128 KiB of slots that
 * stay in the caches, where the far table's slots, one per address
 * scattered over tens of megabytes, cost a cache and TLB miss at each
 * insert and each free (bench/RESULTS.md, "Where the hot path's time
 * goes"). A key lives in its bucket, or in the far table when the bucket
 * was full: then the bucket's spill count (near_spill_at) is above zero
 * for as long as the far key lives, and only then does a search, or an
 * insert (for a block whose free was not seen), look in the far table.
 * A new key goes near whenever its bucket has room, so a long-lived far
 * key does not send its bucket's later keys far. A spill count may be too high (a far
 * key released by userspace's sweep), never too low: it is raised before
 * a far key is published and lowered after it is gone.
 *
 * A search reads every slot of a bucket, so a freed near slot needs no
 * tombstone: it is free at once (LIVE_TOMB or LIVE_EMPTY alike), and the
 * reclaiming above is the far table's alone. Keys never move between the
 * tables, nor inside a bucket.
 *
 * The includer defines, besides the far table's:
 *   static struct live_slot *near_at(__u32 idx);   slot idx, or NULL
 *   static __u64 *near_spill_at(__u32 bucket);     its spill count, or NULL
 *   NEAR_SHIFT    64 - log2(buckets)
 */
#define NEAR_WAYS	MS_NEAR_WAYS
/* In a table index: a near slot's (far indexes stay below 2^31). */
#define LIVE_NEAR	0x80000000u

static __always_inline __u32 near_bucket(__u64 ptr, __u64 owner)
{
	return ms_near_bucket(live_hkey(ptr, owner), NEAR_SHIFT);
}

/* The slot of a table index (live_lookup's), or NULL. */
static __always_inline struct live_slot *live_slot_at(__u32 idx)
{
	if (idx == LIVE_NONE)
		return NULL;
	if (idx & LIVE_NEAR)
		return near_at(idx & ~LIVE_NEAR);
	return live_at(idx);
}

/*
 * The index of owner's ptr's slot, near (| LIVE_NEAR) or far, or
 * LIVE_NONE.
 */
static __always_inline __u32 live_lookup(__u64 ptr, __u64 owner)
{
	__u32 b = near_bucket(ptr, owner), i;
	struct live_slot *s;
	__u64 *spill;

	if (ptr <= LIVE_STATES)
		return LIVE_NONE;
	for (i = 0; i < NEAR_WAYS; i++) {
		s = near_at(b * NEAR_WAYS + i);
		if (s && live_key(s) == ptr && live_owned(s, owner))
			return (b * NEAR_WAYS + i) | LIVE_NEAR;
	}
	spill = near_spill_at(b);
	if (!spill || !*(volatile __u64 *)spill)
		return LIVE_NONE;
	return live_find(ptr, owner);
}

/*
 * Put ptr in the tables: its bucket while it has room, else the far
 * table; false when neither has. A bucket with far keys may have ptr
 * among them, a block whose free was not seen: then the far insert
 * replaces it there (a key is held once, in one table). A slot is taken
 * as in the far table (live_claim, live_replace).
 */
static __always_inline bool live_add(__u64 ptr, __u64 size, __u64 seq,
				     __u64 tag)
{
	__u32 b = near_bucket(ptr, tag), i, spot;
	struct live_slot *s, *at;
	__u64 k, spot_key;
	__u64 *spill;
	bool seen;
	int how;

	if (ptr <= LIVE_STATES)
		return false;
	spill = near_spill_at(b);
	if (!spill)
		return false;
	if (*(volatile __u64 *)spill && live_find(ptr, tag) != LIVE_NONE)
		goto far;
	for (int tries = 0; tries < 4; tries++) {
		spot = NEAR_WAYS;
		spot_key = 0;
		seen = false;
		for (i = 0; i < NEAR_WAYS; i++) {
			s = near_at(b * NEAR_WAYS + i);
			if (!s)
				return false;
			k = live_key(s);
			if (k == ptr && live_owned(s, tag)) {
				spot = i;
				seen = true;
				break;
			}
			if (k <= LIVE_STATES && k != LIVE_BUSY &&
			    spot == NEAR_WAYS) {
				spot = i;
				spot_key = k;
			}
		}
		if (spot >= NEAR_WAYS)
			break;
		at = near_at(b * NEAR_WAYS + spot);
		if (!at)
			return false;
		if (seen ? live_replace(at, ptr, size, seq, tag) :
			   live_claim(at, spot_key, ptr, size, seq, tag))
			return true;
	}
far:
	__sync_fetch_and_add(spill, 1);
	how = live_far_insert(ptr, size, seq, tag);
	/* Not a key more in the far table: the count goes back. */
	if (how != LIVE_ADD_NEW)
		__sync_fetch_and_sub(spill, 1);
	return how != LIVE_ADD_FULL;
}

/*
 * The slot idx (live_lookup's) of owner's ptr has just been freed
 * (swapped to a tombstone): a far one is reclaimed, and its bucket's
 * spill count goes down.
 */
static __always_inline void live_released(__u32 idx, __u64 ptr, __u64 owner)
{
	__u64 *spill;

	if (idx & LIVE_NEAR)
		return;
	live_reclaim(idx);
	spill = near_spill_at(near_bucket(ptr, owner));
	if (spill)
		__sync_fetch_and_sub(spill, 1);
}

#endif /* MEMSCOPE_LIVE_TABLE_H */
