/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The event store.
 *
 * Live blocks are kept densely, as struct store_block in fixed-size chunks,
 * behind an open-addressing index (linear probing, backward-shift deletion)
 * of 8-byte slots keyed by ptr. Keeping the 48-byte blocks out of the hash
 * table is what holds the memory budget at every size: a table of blocks
 * just after doubling sits at 0.375 load, 128 bytes per block, while dense
 * blocks plus slots stay between 59 and 70 (and one partly used chunk).
 * Chunks never move, so growth never copies blocks or needs twice the
 * memory for a moment.
 *
 * Call stacks are interned through the same kind of index into a dense
 * array of sites, their frames packed in an arena of pages that never
 * move, so the frames store__site() hands out stay valid while the store
 * lives.
 *
 * The peak is exact without snapshotting every site on every new peak:
 * each new peak starts a new epoch, and a site copies its live counts into
 * its snapshot the first time it changes within an epoch. A site untouched
 * since the last peak therefore still holds its at-peak values as its live
 * ones.
 *
 * Declared records go to the declared state (declared.c) with what they
 * refer to here: the live block at their address, their stack interned in
 * the same table as allocation stacks (so it symbolizes like any site),
 * and the peak epoch. Every block that begins or ends is reported to it,
 * so bytes follow their task and a freed block's declarations end. The
 * store owns that state and the dependency runs one way: store.c calls
 * declared.h, declared.c never calls back, and the containers of both
 * are table.h's.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "anon.h"
#include "declared.h"
#include "store.h"
#include "table.h"

#define BLOCK_CHUNK_SHIFT	10
#define BLOCK_CHUNK		(1ul << BLOCK_CHUNK_SHIFT)
#define LIVE_INDEX_MIN		1024
#define STACK_INDEX_MIN		256
#define SITES_MIN		64
#define ARENA_PAGE		4096	/* frames; a page holds whole stacks */
#define ARENA_PAGES_MIN		16

/*
 * Slots carry 32 bits of hash, enough to find the home slot of up to 2^32
 * slots, and a 32-bit position. Past these limits the store refuses the
 * record with -ENOSPC rather than corrupt itself.
 */
#define STORE_MAX_LIVE		(1ul << 31)
/* One less: an anomaly's key packs a site id + 1 into 31 bits. */
#define STORE_MAX_SITES		((1ul << 31) - 1)
#define ANOMALY_MAX		(1ul << 20)

struct site {
	__u64 hash;
	const __u64 *frames;
	__u32 nr_frames;
	__u32 flags;
	__u32 family;
	__u64 allocs;
	__u64 alloc_bytes;
	__u64 live_count;
	__u64 live_bytes;
	__u64 snap_epoch;	/* snap_* hold the values at that peak epoch */
	__u64 snap_count;
	__u64 snap_bytes;
	__u64 end_count;	/* store__close(): live then, and passed */
	__u64 end_bytes;
	__u64 end_oldest;	/* ts_ns of the oldest of them */
};

struct grave {
	__u64 ptr;
	__u32 stack_id;
	__u32 tag;
};

struct store {
	struct store_summary sum;
	__u64 peak_epoch;
	struct declared *decl;
	struct anon *anon;

	/* live.used is the number of live blocks, all of them dense */
	struct tab_index live;
	struct store_block **chunks;
	size_t nr_chunks;
	size_t chunks_cap;

	struct tab_index stacks;
	struct site *sites;
	size_t nr_sites;
	size_t sites_cap;
	__u64 **pages;
	size_t nr_pages;
	size_t pages_cap;
	size_t page_used;	/* frames taken from the last page */

	/*
	 * The last block freed at each address not live now (a realloc's
	 * old block too): what a second free there freed twice. An address
	 * allocated again is live, and its next free is no double free.
	 */
	struct tab_index grave_ix;	/* by ptr, into graves */
	struct grave *graves;		/* a ring of STORE_GRAVES */
	size_t nr_graves;
	size_t grave_next;		/* the oldest, once the ring is full */
	struct tab_keyed anomalies;	/* struct store_anomaly by key */
	__u64 late_from_ns;		/* store__set_late(): [from, end) */
	__u64 late_end_ns;
	bool forked;			/* store__set_forked() */
	size_t max_sites;		/* store__set_max_stacks() */

	struct timeline tl;	/* closed: shrunk */
	bool closed;		/* store__close(): no blocks, no records */
	size_t closed_frames;	/* closed: the one page holds exactly these */
	/*
	 * store__spill(): the closed sites and frames are in spill_fd at
	 * spill_off, spill_len bytes of zlib (sites, then frames), and in
	 * memory too while sites is not NULL; -1: never written out
	 */
	int spill_fd;
	off_t spill_off;
	size_t spill_len;
};

/*
 * One multiply per frame: (h ^ f) * odd is a bijection of h, so stacks
 * that differ in a single frame never collide; mix64 then spreads the
 * result over the low bits that pick the slot.
 */
static __u64 stack_hash(const __u64 *frames, __u32 nr, __u32 family)
{
	__u64 h = 0x9e3779b97f4a7c15ull ^ nr ^ (__u64)family << 32;
	__u32 i;

	for (i = 0; i < nr; i++)
		h = (h ^ frames[i]) * 0xff51afd7ed558ccdull;
	return tab_mix64(h);
}

static inline __u32 ptr_hash(__u64 ptr)
{
	return tab_hash64(ptr);
}

static inline struct store_block *block_at(const struct store *s, size_t i)
{
	return &s->chunks[i >> BLOCK_CHUNK_SHIFT][i & (BLOCK_CHUNK - 1)];
}

/* The slot holding ptr, or the empty slot that ends its probe run. */
static inline size_t live_probe(const struct store *s, __u64 ptr, __u32 hash)
{
	const struct tab_index *ix = &s->live;
	size_t i;

	tab_index_for_run(ix, hash, i) {
		if (ix->slots[i].hash == hash &&
		    block_at(s, tab_index_pos(ix, i))->ptr == ptr)
			break;
	}
	return i;
}

/* Room for nr more frames in the last arena page. */
static int arena_reserve(struct store *s, size_t nr)
{
	int err;

	if (s->page_used + nr <= ARENA_PAGE)
		return 0;
	err = tab_grow((void **)&s->pages, &s->pages_cap, s->nr_pages + 1,
		       sizeof(*s->pages));
	if (err)
		return err;
	s->pages[s->nr_pages] = malloc(ARENA_PAGE * sizeof(**s->pages));
	if (!s->pages[s->nr_pages])
		return -ENOMEM;
	s->nr_pages++;
	s->page_used = 0;
	return 0;
}

/* Room for one more live block: a chunk for it and a slot. */
static int live_reserve(struct store *s)
{
	size_t n = s->live.used;
	int err;

	if (n >= STORE_MAX_LIVE)
		return -ENOSPC;
	if ((n >> BLOCK_CHUNK_SHIFT) >= s->nr_chunks) {
		err = tab_grow((void **)&s->chunks, &s->chunks_cap,
			       s->nr_chunks + 1, sizeof(*s->chunks));
		if (err)
			return err;
		s->chunks[s->nr_chunks] = malloc(BLOCK_CHUNK *
						 sizeof(struct store_block));
		if (!s->chunks[s->nr_chunks])
			return -ENOMEM;
		s->nr_chunks++;
	}
	return tab_index_reserve(&s->live);
}

/* Give a site the values it had at the peak before its first change since. */
static inline void site_snap(struct store *s, struct site *st)
{
	if (st->snap_epoch == s->peak_epoch)
		return;
	st->snap_epoch = s->peak_epoch;
	st->snap_count = st->live_count;
	st->snap_bytes = st->live_bytes;
}

/* The image's declared state, made at its first declaration; NULL: no memory. */
static struct declared *decl_of(struct store *s)
{
	if (!s->decl)
		s->decl = declared__new();
	return s->decl;
}

static void block_drop(struct store *s, const struct store_block *b)
{
	struct site *st = &s->sites[b->stack_id];

	if (s->decl)
		declared__block_end(s->decl, b->ptr, b->seq, b->task,
				    b->size, s->peak_epoch);
	site_snap(s, st);
	st->live_count--;
	st->live_bytes -= b->size;
	s->sum.live_allocs--;
	s->sum.live_bytes -= b->size;
}

/* An allocation call from the site, whether or not it leaves a block. */
static struct site *site_count(struct store *s, const struct ms_event *e,
			       __u32 stack_id)
{
	struct site *st = &s->sites[stack_id];

	st->flags = store_site_flags(st->flags, e->flags);
	st->allocs++;
	st->alloc_bytes += e->size;
	s->sum.allocs++;
	s->sum.alloc_bytes += e->size;
	return st;
}

static void block_fill(struct store *s, struct store_block *b,
		       const struct ms_event *e, __u32 stack_id, __u32 task)
{
	struct site *st = site_count(s, e, stack_id);

	b->ptr = e->ptr;
	b->size = e->size;
	b->seq = e->seq;
	b->ts_ns = e->ts_ns;
	b->stack_id = stack_id;
	b->tid = e->tid;
	b->task = task;
	b->tag = (__u32)e->aux;
	/* A task (not 0) was declared, so the image has its declared state. */
	if (task)
		declared__block_new(s->decl, task, e->size, e->ts_ns);

	site_snap(s, st);
	st->live_count++;
	st->live_bytes += e->size;
	s->sum.live_allocs++;
	s->sum.live_bytes += e->size;
	if (s->sum.live_bytes > s->sum.peak_bytes) {
		s->sum.peak_bytes = s->sum.live_bytes;
		s->sum.peak_ns = e->ts_ns;
		s->peak_epoch++;
	}
}

/* e->ptr becomes live; live_reserve() must have succeeded. */
static void live_add(struct store *s, const struct ms_event *e, __u32 stack_id,
		     __u32 task)
{
	__u32 hash = ptr_hash(e->ptr);
	size_t i = live_probe(s, e->ptr, hash);
	struct store_block *b;

	if (s->live.slots[i].pos) {
		/* We never saw its free: the address is someone else's now. */
		b = block_at(s, tab_index_pos(&s->live, i));
		block_drop(s, b);
		s->sum.replaced++;
	} else {
		b = block_at(s, s->live.used);
		tab_index_fill(&s->live, i, hash, s->live.used);
	}
	block_fill(s, b, e, stack_id, task);
}

static struct grave *grave_find(const struct store *s, __u64 ptr,
				size_t *slot)
{
	const struct tab_index *ix = &s->grave_ix;
	__u32 hash = ptr_hash(ptr);
	size_t i;

	tab_index_for_run(ix, hash, i) {
		if (ix->slots[i].hash == hash &&
		    s->graves[tab_index_pos(ix, i)].ptr == ptr) {
			if (slot)
				*slot = i;
			return &s->graves[tab_index_pos(ix, i)];
		}
	}
	return NULL;
}

/*
 * Remember a block being freed, in place of the last one freed at its
 * address, or of the oldest one when the ring is full. The index was
 * made for twice the ring, so it never grows (store__new).
 */
static void grave_note(struct store *s, const struct store_block *b)
{
	struct grave *g = grave_find(s, b->ptr, NULL);
	size_t pos, slot;

	if (!g) {
		if (s->nr_graves < STORE_GRAVES) {
			pos = s->nr_graves++;
		} else {
			pos = s->grave_next;
			s->grave_next = (pos + 1) % STORE_GRAVES;
			if (grave_find(s, s->graves[pos].ptr, &slot))
				tab_index_remove(&s->grave_ix, slot);
			s->sum.graves_evicted++;
		}
		g = &s->graves[pos];
		g->ptr = b->ptr;
		tab_index_insert(&s->grave_ix, ptr_hash(b->ptr), pos);
	}
	g->stack_id = b->stack_id;
	g->tag = b->tag;
}

/*
 * Release the block at ptr, which e freed. With a non-zero seq, only the
 * block that the record saw: another thread may already own the address
 * again, its alloc record having overtaken ours, and the block we meant
 * is gone already.
 */
static void live_release(struct store *s, const struct ms_event *e,
			 __u64 ptr, __u64 seq)
{
	size_t i = live_probe(s, ptr, ptr_hash(ptr)), pos, last;
	struct store_block *b;

	if (!s->live.slots[i].pos) {
		s->sum.unknown_frees++;
		/*
		 * A fork's image saw every allocation its process made: a
		 * block it does not hold is its parent's, from before the
		 * fork (bash's subshells free them), unless the allocator
		 * freed what it took internally (allocator_frees).
		 */
		if (s->forked && !(e->flags & MS_EVF_FREE_INTERNAL))
			s->sum.forked_frees++;
		return;
	}
	pos = tab_index_pos(&s->live, i);
	b = block_at(s, pos);
	if (seq && b->seq != seq)
		return;
	grave_note(s, b);
	block_drop(s, b);
	s->sum.frees++;
	s->sum.free_bytes += b->size;

	/* Keep blocks dense: the last one moves into the hole. */
	tab_index_remove(&s->live, i);
	last = s->live.used;
	if (pos == last)
		return;
	*b = *block_at(s, last);
	tab_index_moved(&s->live, ptr_hash(b->ptr), last, pos);
}

static int site_add(struct store *s, const __u64 *stack, __u32 nr,
		    __u32 family, __u32 flags, __u64 hash, __u32 *id)
{
	struct site *st;
	__u64 *frames;
	int err;

	if (s->nr_sites >= STORE_MAX_SITES)
		return -ENOSPC;
	err = tab_grow((void **)&s->sites, &s->sites_cap, s->nr_sites + 1,
		       sizeof(*s->sites));
	if (!err)
		err = arena_reserve(s, nr);
	if (err)
		return err;
	err = tab_index_reserve(&s->stacks);
	if (err)
		return err;

	tab_index_insert(&s->stacks, (__u32)hash, s->nr_sites);

	st = &s->sites[s->nr_sites];
	memset(st, 0, sizeof(*st));
	st->hash = hash;
	frames = s->pages[s->nr_pages - 1] + s->page_used;
	memcpy(frames, stack, nr * sizeof(__u64));
	s->page_used += nr;
	st->frames = frames;
	st->nr_frames = nr;
	st->family = family;
	st->flags = flags;
	*id = s->nr_sites++;
	return 0;
}

/* The site of stack as kept whole (cut 0) or cut for room (MS_EVF_STACK_FULL). */
static bool site_find(const struct store *s, const __u64 *stack, __u32 nr,
		      __u32 family, __u32 cut, __u64 hash, __u32 *id)
{
	const struct tab_index *ix = &s->stacks;
	const struct site *st;
	size_t i;

	tab_index_for_run(ix, (__u32)hash, i) {
		if (ix->slots[i].hash != (__u32)hash)
			continue;
		st = &s->sites[tab_index_pos(ix, i)];
		if (st->hash == hash && st->nr_frames == nr &&
		    st->family == family &&
		    (st->flags & MS_EVF_STACK_FULL) == cut &&
		    !memcmp(st->frames, stack, nr * sizeof(__u64))) {
			*id = tab_index_pos(ix, i);
			return true;
		}
	}
	return false;
}

static int site_intern(struct store *s, const __u64 *stack, __u32 nr,
		       __u32 family, __u32 *id)
{
	__u64 hash = stack_hash(stack, nr, family);

	if (site_find(s, stack, nr, family, 0, hash, id))
		return 0;
	if (s->nr_sites < s->max_sites)
		return site_add(s, stack, nr, family, 0, hash, id);
	/*
	 * Full: the innermost frame alone, apart from a stack that has only
	 * it. Such sites are one per call site of the code, never without end.
	 */
	s->sum.stacks_cut++;
	nr = nr ? 1 : 0;
	hash = stack_hash(stack, nr, family) ^ MS_EVF_STACK_FULL;
	if (site_find(s, stack, nr, family, MS_EVF_STACK_FULL, hash, id))
		return 0;
	return site_add(s, stack, nr, family,
			MS_EVF_STACK_FULL | MS_EVF_STACK_TRUNC, hash, id);
}

static void apply_realloc(struct store *s, const struct ms_event *e,
			  __u32 stack_id, __u32 task)
{
	switch (ms_realloc_effect(e->old_ptr, e->size, e->ptr)) {
	case MS_RE_ALLOC:
		live_add(s, e, stack_id, task);
		break;
	case MS_RE_FREE:
		live_release(s, e, e->old_ptr, e->old_seq);
		break;
	case MS_RE_FAILED:
		s->sum.failed_allocs++;
		break;
	case MS_RE_MOVE:
		live_release(s, e, e->old_ptr, e->old_seq);
		live_add(s, e, stack_id, task);
		break;
	}
}

static bool is_declared(const struct ms_event *e)
{
	return ms_event_declared(e->type);
}

static bool event_valid(const struct ms_event *e)
{
	if (e->nr_frames > MS_MAX_STACK || e->fn >= MS_FN__COUNT)
		return false;
	/* An allocator record's aux is its tag (anonymous memory's is not). */
	if (!is_declared(e) && !ms_event_anon(e->type) &&
	    (ms_tag_family(e->aux) >= MS_FAM__COUNT || e->aux >> 32))
		return false;
	if (e->flags & MS_EVF_PROFILE)
		return e->type == MS_EV_ALLOC;
	if (ms_event_anon(e->type))
		return anon__valid(e);
	/* The probes behind declared records are no allocator functions. */
	if (is_declared(e))
		return e->fn == MS_FN_NONE;
	return e->type == MS_EV_ALLOC || e->type == MS_EV_FREE ||
	       e->type == MS_EV_REALLOC;
}

bool store__valid(const struct ms_event *e)
{
	return event_valid(e);
}

static const struct store_block *live_at(const struct store *s, __u64 ptr)
{
	size_t i = live_probe(s, ptr, ptr_hash(ptr));

	return s->live.slots[i].pos ? block_at(s, tab_index_pos(&s->live, i)) :
				      NULL;
}

/*
 * Passport operations keep their stack, for the violations they may be,
 * and shares theirs, for the storms; variables and handles name the block
 * live at their address.
 *
 * Every stack here is return addresses, and symbolizers look one byte
 * back from each, at the call. A declared record's frames[0] is the
 * probe's own address instead: it is kept as the address one past it, so
 * it resolves to the probe's line, not to the instruction before it.
 */
static int apply_declared(struct store *s, const struct ms_event *e)
{
	struct declared_ctx ctx = { .epoch = s->peak_epoch };
	const struct store_block *b;
	struct declared_block db;
	__u64 stack[MS_MAX_STACK];
	int err;

	if (e->type >= MS_EV_PASSPORT_CREATE || e->type == MS_EV_SHARE) {
		memcpy(stack, e->frames, e->nr_frames * sizeof(*stack));
		if (e->nr_frames)
			stack[0]++;
		err = site_intern(s, stack, e->nr_frames, MS_FAM_MALLOC,
				  &ctx.stack_id);
		if (err)
			return err;
	}
	if (e->type == MS_EV_TRACK || e->type == MS_EV_SHARE) {
		b = live_at(s, e->ptr);
		if (b) {
			db = (struct declared_block){
				.seq = b->seq,
				.size = b->size,
				.stack_id = b->stack_id,
			};
			ctx.block = &db;
		}
	}
	if (!decl_of(s))
		return -ENOMEM;
	return declared__apply(s->decl, e, &ctx);
}

/*
 * Anonymous memory goes to its own bookkeeping (anon.c), never into the
 * heap's. Its stack is interned like any other, so it symbolizes like
 * any site; an arena record's one frame is its allocator's probe
 * address, kept one past it like a declared record's frames[0].
 */
static int apply_anon(struct store *s, const struct ms_event *e)
{
	__u64 stack[MS_MAX_STACK];
	__u32 stack_id;
	int err;

	if (e->flags & MS_EVF_ARENA) {
		stack[0] = e->frames[0] + 1;
		err = site_intern(s, stack, 1, MS_FAM_MALLOC, &stack_id);
	} else {
		err = site_intern(s, e->frames, e->nr_frames,
				  MS_FAM_MALLOC, &stack_id);
	}
	if (err)
		return err;
	if (!(e->flags & MS_EVF_ARENA))
		s->sites[stack_id].flags =
			store_site_flags(s->sites[stack_id].flags, e->flags);
	/* made at the first: most forked images map nothing before exec */
	if (!s->anon) {
		s->anon = anon__new(0);
		if (!s->anon)
			return -ENOMEM;
	}
	return anon__apply(s->anon, e, stack_id);
}

/* What a suspect free turned out to be, decided before anything changes. */
struct free_check {
	bool anomaly;
	__u32 kind;
	__u32 alloc_stack;
	__u32 alloc_tag;
	__u32 free_stack;
	__u64 key;
};

/* An anomaly's group: its kind, allocating site (+1, 0: none), freeing site. */
static __u64 anomaly_key(__u32 kind, __u32 alloc_stack, __u32 free_stack)
{
	__u64 a = alloc_stack == STORE_NO_STACK ? 0 : (__u64)alloc_stack + 1;

	return (__u64)kind << 62 | a << 31 | free_stack;
}

void store__set_late(struct store *s, __u64 from_ns, __u64 end_ns)
{
	s->late_from_ns = from_ns;
	s->late_end_ns = end_ns;
}

void store__set_forked(struct store *s)
{
	s->forked = true;
}

void store__set_max_stacks(struct store *s, __u32 n)
{
	s->max_sites = n < STORE_MAX_SITES ? n : STORE_MAX_SITES;
}

/* Whether ts falls where the image's allocator probes were not all in. */
static bool in_late(const struct store *s, __u64 ts)
{
	return ts >= s->late_from_ns && ts < s->late_end_ns;
}

/*
 * A free the kernel found suspect: the live block must match it, a
 * freed one makes it double, and with nothing ever at the address it is
 * invalid only when the trace saw the heap from its start (the process's,
 * and not a fork's copy of its parent's).
 */
static int free_classify(struct store *s, const struct ms_event *e,
			 struct free_check *c)
{
	const struct store_block *b = live_at(s, e->ptr);
	const struct grave *g;
	int err;

	c->anomaly = false;
	if (b) {
		if (ms_free_matches(b->tag, e->aux))
			return 0;
		if (in_late(s, b->ts_ns) || in_late(s, e->ts_ns)) {
			s->sum.late_frees++;
			return 0;
		}
		c->kind = STORE_MISMATCHED_FREE;
		c->alloc_stack = b->stack_id;
		c->alloc_tag = b->tag;
	} else if (e->flags & MS_EVF_FREE_INTERNAL) {
		/* Its block never passed a probe: nothing to judge it by. */
		s->sum.allocator_frees++;
		return 0;
	} else if ((g = grave_find(s, e->ptr, NULL))) {
		c->kind = STORE_DOUBLE_FREE;
		c->alloc_stack = g->stack_id;
		c->alloc_tag = g->tag;
	} else if ((e->flags & MS_EVF_FROM_START) && !s->forked &&
		   !s->sum.graves_evicted) {
		c->kind = STORE_INVALID_FREE;
		c->alloc_stack = STORE_NO_STACK;
		c->alloc_tag = 0;
	} else {
		return 0;
	}
	err = site_intern(s, e->frames, e->nr_frames, ms_tag_family(e->aux),
			  &c->free_stack);
	if (err)
		return err;
	c->key = anomaly_key(c->kind, c->alloc_stack, c->free_stack);
	if (!tab_keyed_get(&s->anomalies, c->key)) {
		err = tab_keyed_reserve(&s->anomalies);
		/* Past the groups kept, an anomaly is still counted. */
		if (err && err != -ENOSPC)
			return err;
		if (err)
			c->key = 0;
	}
	c->anomaly = true;
	return 0;
}

static void anomaly_note(struct store *s, const struct ms_event *e,
			 const struct free_check *c, __u64 ts)
{
	struct store_anomaly *a;

	s->sum.anomalies++;
	/* Key 0 is no group (a double free always has its alloc site). */
	if (!c->key)
		return;
	a = tab_keyed_get(&s->anomalies, c->key);
	if (!a) {
		a = tab_keyed_add(&s->anomalies, c->key);
		a->kind = c->kind;
		a->alloc_stack = c->alloc_stack;
		a->free_stack = c->free_stack;
		a->alloc_tag = c->alloc_tag;
		a->free_tag = (__u32)e->aux;
		a->first_ns = ts;
	}
	a->count++;
	/* The free's stack flags (why it ends) count like an allocation's. */
	s->sites[c->free_stack].flags =
		store_site_flags(s->sites[c->free_stack].flags, e->flags);
}

int store__apply(struct store *s, const struct ms_event *e)
{
	/*
	 * An alloc or a realloc makes e->ptr live exactly when it is set; a
	 * profile record (--mode=alloc) only counts a call from its stack.
	 */
	bool profile = e->flags & MS_EVF_PROFILE, decl = is_declared(e);
	bool anon = ms_event_anon(e->type);
	bool adds = e->ptr && e->type != MS_EV_FREE && !profile && !decl &&
		    !anon;
	bool frees = e->type == MS_EV_FREE && e->ptr;
	struct free_check check = { .anomaly = false };
	__u64 ts = e->ts_ns;
	__u32 stack_id = 0, task = 0;
	int err;

	/* A drain tick may precede the record before it, never the call. */
	if ((e->flags & MS_EVF_TICK_TS) && s->sum.events && ts < s->sum.last_ns)
		ts = s->sum.last_ns;

	if (!event_valid(e) || s->closed)
		return -EINVAL;

	/* Whatever can fail happens before the first change. */
	if (decl) {
		err = apply_declared(s, e);
		if (err)
			return err;
	}
	if (anon) {
		err = apply_anon(s, e);
		if (err)
			return err;
	}
	if (adds) {
		err = live_reserve(s);
		if (err)
			return err;
	}
	if (adds || profile) {
		err = site_intern(s, e->frames, e->nr_frames,
				  ms_tag_family(e->aux), &stack_id);
		if (err)
			return err;
	}
	if (adds && e->task) {
		if (!decl_of(s))
			return -ENOMEM;
		err = declared__task_ref(s->decl, e->task, e->ts_ns, &task);
		if (err)
			return err;
	}
	if (frees && (e->flags & MS_EVF_FREE_CHECK)) {
		err = free_classify(s, e, &check);
		if (err)
			return err;
	}

	if (!s->sum.events || ts < s->sum.first_ns)
		s->sum.first_ns = ts;
	if (!s->sum.events || ts > s->sum.last_ns)
		s->sum.last_ns = ts;
	s->sum.events++;

	switch (e->type) {
	case MS_EV_ALLOC:
		if (profile)
			site_count(s, e, stack_id);
		else if (adds)
			live_add(s, e, stack_id, task);
		else
			s->sum.failed_allocs++;
		break;
	case MS_EV_FREE:
		if ((e->flags & (MS_EVF_FREE_CHECK | MS_EVF_FREE_NOWALK)) ==
		    (MS_EVF_FREE_CHECK | MS_EVF_FREE_NOWALK))
			s->sum.unwalked++;
		if (check.anomaly)
			anomaly_note(s, e, &check, ts);
		/* free(NULL) is a no-op, not a free of an unknown block */
		if (e->ptr)
			live_release(s, e, e->ptr, 0);
		break;
	case MS_EV_REALLOC:
		apply_realloc(s, e, stack_id, task);
		break;
	}
	timeline_note(&s->tl, s->sum.first_ns, ts, s->sum.live_bytes,
		      s->sum.allocs, s->sum.frees);
	return 0;
}

size_t store__nr_anomalies(const struct store *s)
{
	return tab_keyed_nr(&s->anomalies);
}

const struct store_anomaly *store__anomaly(const struct store *s, size_t i)
{
	return i < tab_keyed_nr(&s->anomalies) ?
		tab_keyed_at(&s->anomalies, i) : NULL;
}

size_t store__timeline(const struct store *s,
		       const struct timeline_point **out, __u64 *width_ns)
{
	return timeline_points(&s->tl, out, width_ns);
}

const struct declared *store__declared(const struct store *s)
{
	return s->decl ? s->decl : declared__none();
}

const struct anon *store__anon(const struct store *s)
{
	return s->anon ? s->anon : anon__none();
}

void store__site_declared(const struct store *s, __u32 stack_id,
			  struct declared_site *live,
			  struct declared_site *peak)
{
	declared__site(store__declared(s), stack_id, s->peak_epoch, live, peak);
}

const struct store_summary *store__summary(const struct store *s)
{
	return &s->sum;
}

__u32 store__nr_stacks(const struct store *s)
{
	return s->nr_sites;
}

/* Exactly len bytes at off, or -errno (-EIO for a file cut short). */
static int spill_io(int fd, void *buf, size_t len, off_t off, bool write)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write ? pwrite(fd, (char *)buf + done, len - done,
				   off + done) :
			    pread(fd, (char *)buf + done, len - done,
				  off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += n;
	}
	return 0;
}

/* Spilled, and not read back: its sites and frames are in the file only. */
static bool spilled_out(const struct store *s)
{
	return s->spill_fd >= 0 && !s->sites;
}

/* What a spill holds: the sites, then their frames, as compact() left them. */
static size_t spill_raw_len(const struct store *s)
{
	return (s->nr_sites ? s->nr_sites : 1) * sizeof(*s->sites) +
	       s->closed_frames * sizeof(**s->pages);
}

/*
 * A spilled store's sites and frames back in memory. It changes what the
 * store holds, not what it says (the same sites come back), so a reader
 * of a const store may ask for it. The frames are laid out as compact()
 * left them: each site's after the one before.
 */
static int spill_load(const struct store *cs)
{
	struct store *s = (struct store *)cs;
	size_t nr = s->nr_sites ? s->nr_sites : 1, i, at = 0;
	uLongf raw_len = spill_raw_len(s);
	struct site *sites = malloc(nr * sizeof(*sites));
	__u64 *frames = malloc(s->closed_frames * sizeof(*frames));
	void *z = malloc(s->spill_len), *raw = malloc(raw_len);
	int err = -ENOMEM;

	if (!sites || !frames || !z || !raw)
		goto out;
	err = spill_io(s->spill_fd, z, s->spill_len, s->spill_off, false);
	if (err)
		goto out;
	err = -EIO;
	if (uncompress(raw, &raw_len, z, s->spill_len) != Z_OK ||
	    raw_len != spill_raw_len(s))
		goto out;
	memcpy(sites, raw, nr * sizeof(*sites));
	memcpy(frames, (char *)raw + nr * sizeof(*sites),
	       s->closed_frames * sizeof(*frames));
	for (i = 0; i < s->nr_sites; i++) {
		if (sites[i].nr_frames > s->closed_frames - at)
			goto out;
		sites[i].frames = frames + at;
		at += sites[i].nr_frames;
	}
	s->sites = sites;
	s->sites_cap = nr;
	s->pages[0] = frames;
	sites = NULL;
	frames = NULL;
	err = 0;
out:
	free(sites);
	free(frames);
	free(z);
	free(raw);
	return err;
}

/*
 * The first spill: sites and frames compressed (zlib's fastest: frames of
 * one program share their high bytes, ~4x less disk) and written at *off.
 */
static int spill_write(struct store *s, int fd, off_t *off)
{
	size_t nr = s->nr_sites ? s->nr_sites : 1;
	size_t raw_len = spill_raw_len(s);
	uLongf z_len = compressBound(raw_len);
	char *raw = malloc(raw_len), *z = malloc(z_len);
	int err = -ENOMEM;

	if (!raw || !z)
		goto out;
	memcpy(raw, s->sites, nr * sizeof(*s->sites));
	memcpy(raw + nr * sizeof(*s->sites), s->pages[0],
	       s->closed_frames * sizeof(**s->pages));
	err = -EIO;
	if (compress2((Bytef *)z, &z_len, (Bytef *)raw, raw_len,
		      Z_BEST_SPEED) != Z_OK)
		goto out;
	err = spill_io(fd, z, z_len, *off, true);
	if (err)
		goto out;
	s->spill_fd = fd;
	s->spill_off = *off;
	s->spill_len = z_len;
	*off += z_len;
out:
	free(raw);
	free(z);
	return err;
}

int store__spill(struct store *s, int fd, off_t *off)
{
	int err;

	/* compact() made one page of the frames, or memory was short */
	if (!s->closed || s->nr_pages != 1)
		return -EINVAL;
	if (spilled_out(s))
		return 0;
	if (s->spill_fd < 0) {
		err = spill_write(s, fd, off);
		if (err)
			return err;
	}
	free(s->sites);
	s->sites = NULL;
	s->sites_cap = 0;
	free(s->pages[0]);
	s->pages[0] = NULL;
	return 0;
}

int store__site(const struct store *s, __u32 stack_id, struct store_site *out)
{
	const struct site *st;
	bool snapped;
	int err;

	if (stack_id >= s->nr_sites)
		return -ENOENT;
	if (spilled_out(s)) {
		err = spill_load(s);
		if (err)
			return err;
	}
	st = &s->sites[stack_id];
	snapped = st->snap_epoch == s->peak_epoch;

	out->frames = st->frames;
	out->nr_frames = st->nr_frames;
	out->flags = st->flags;
	out->family = st->family;
	out->allocs = st->allocs;
	out->alloc_bytes = st->alloc_bytes;
	out->live_count = st->live_count;
	out->live_bytes = st->live_bytes;
	out->peak_count = snapped ? st->snap_count : st->live_count;
	out->peak_bytes = snapped ? st->snap_bytes : st->live_bytes;
	out->end_count = st->end_count;
	out->end_bytes = st->end_bytes;
	out->end_oldest = st->end_oldest;
	return 0;
}

int store__for_each_live(const struct store *s,
			 int (*cb)(const struct store_block *b, void *ctx),
			 void *ctx)
{
	size_t i;
	int ret;

	for (i = 0; i < s->live.used; i++) {
		ret = cb(block_at(s, i), ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * What a closed store keeps, at its size: every stack's frames in one
 * block (the pages are mostly empty for a short process), the sites and
 * the timeline's used points. Where memory is short, the pages stay.
 */
static void compact(struct store *s)
{
	size_t i, total = 0, at = 0;
	struct site *sites;
	__u64 *frames, **pages;

	for (i = 0; i < s->nr_sites; i++)
		total += s->sites[i].nr_frames;
	frames = malloc((total ? total : 1) * sizeof(*frames));
	if (frames) {
		for (i = 0; i < s->nr_sites; i++) {
			memcpy(frames + at, s->sites[i].frames,
			       s->sites[i].nr_frames * sizeof(*frames));
			s->sites[i].frames = frames + at;
			at += s->sites[i].nr_frames;
		}
		for (i = 0; i < s->nr_pages; i++)
			free(s->pages[i]);
		s->pages[0] = frames;
		s->nr_pages = 1;
		/* the room for more pages too: a -a trace keeps every image */
		pages = realloc(s->pages, sizeof(*pages));
		if (pages) {
			s->pages = pages;
			s->pages_cap = 1;
		}
		s->page_used = ARENA_PAGE;
		s->closed_frames = total ? total : 1;
	} else {
		s->closed_frames = s->nr_pages * ARENA_PAGE;
	}
	sites = realloc(s->sites, (s->nr_sites ? s->nr_sites : 1) *
			sizeof(*sites));
	if (sites) {
		s->sites = sites;
		s->sites_cap = s->nr_sites ? s->nr_sites : 1;
	}
	timeline_shrink(&s->tl);
	if (s->anon)
		anon__close(s->anon);
}

/*
 * The sites already hold what is live by stack, and the summary the
 * totals: those stay, as the image's live at its end. The blocks, their
 * index and the freed blocks' ring are what grows with a process, and go.
 */
void store__close(struct store *s,
		  bool (*pass)(const struct store_block *b, void *ctx),
		  void *ctx)
{
	struct site *st;
	size_t i;

	if (s->closed)
		return;
	for (i = 0; i < s->live.used; i++) {
		const struct store_block *b = block_at(s, i);

		if (pass && !pass(b, ctx))
			continue;
		st = &s->sites[b->stack_id];
		if (!st->end_count || b->ts_ns < st->end_oldest)
			st->end_oldest = b->ts_ns;
		st->end_count++;
		st->end_bytes += b->size;
	}
	for (i = 0; i < s->nr_chunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	s->chunks = NULL;
	s->nr_chunks = s->chunks_cap = 0;
	tab_index_fini(&s->live);
	s->live = (struct tab_index){};
	tab_index_fini(&s->grave_ix);
	s->grave_ix = (struct tab_index){};
	free(s->graves);
	s->graves = NULL;
	s->nr_graves = s->grave_next = 0;
	/* No stack is interned again: its index goes, its tables shrink. */
	tab_index_fini(&s->stacks);
	s->stacks = (struct tab_index){};
	compact(s);
	s->closed = true;
}

bool store__closed(const struct store *s)
{
	return s->closed;
}

size_t store__mem_bytes(const struct store *s)
{
	return sizeof(*s) +
	       tab_index_bytes(&s->live) +
	       s->chunks_cap * sizeof(*s->chunks) +
	       s->nr_chunks * BLOCK_CHUNK * sizeof(struct store_block) +
	       tab_index_bytes(&s->stacks) +
	       s->sites_cap * sizeof(*s->sites) +
	       s->pages_cap * sizeof(*s->pages) +
	       (s->closed ? (spilled_out(s) ? 0 : s->closed_frames) :
			    s->nr_pages * ARENA_PAGE) * sizeof(**s->pages) +
	       timeline_mem_bytes(&s->tl, s->closed) +
	       tab_index_bytes(&s->grave_ix) +
	       (s->graves ? STORE_GRAVES * sizeof(*s->graves) : 0) +
	       tab_keyed_bytes(&s->anomalies) +
	       (s->decl ? declared__mem_bytes(s->decl) : 0) +
	       (s->anon ? anon__mem_bytes(s->anon) : 0);
}

struct store *store__new(void)
{
	struct store *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		goto err_out;
	s->max_sites = STORE_DEFAULT_STACKS;
	s->spill_fd = -1;
	s->sites_cap = SITES_MIN;
	s->sites = malloc(s->sites_cap * sizeof(*s->sites));
	s->pages_cap = ARENA_PAGES_MIN;
	s->pages = malloc(s->pages_cap * sizeof(*s->pages));
	s->graves = malloc(STORE_GRAVES * sizeof(*s->graves));
	if (!s->sites || !s->pages || !s->graves || timeline_init(&s->tl))
		goto err_free;
	/* a first page, so that even an empty stack has non-NULL frames */
	s->pages[s->nr_pages++] = malloc(ARENA_PAGE * sizeof(**s->pages));
	if (!s->pages[0] || tab_index_init(&s->live, LIVE_INDEX_MIN) ||
	    tab_index_init(&s->stacks, STACK_INDEX_MIN) ||
	    tab_index_init(&s->grave_ix, 2 * STORE_GRAVES) ||
	    tab_keyed_init(&s->anomalies, sizeof(struct store_anomaly),
			   offsetof(struct store_anomaly, key), ANOMALY_MAX))
		goto err_free;
	return s;

err_free:
	store__free(s);
err_out:
	errno = ENOMEM;
	return NULL;
}

void store__free(struct store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr_chunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	tab_index_fini(&s->live);
	tab_index_fini(&s->stacks);
	tab_index_fini(&s->grave_ix);
	free(s->graves);
	tab_keyed_fini(&s->anomalies);
	free(s->sites);
	for (i = 0; i < s->nr_pages; i++)
		free(s->pages[i]);
	free(s->pages);
	declared__free(s->decl);
	anon__free(s->anon);
	timeline_fini(&s->tl);
	free(s);
}
