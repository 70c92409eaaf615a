/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Replay benchmark of the consumer and the event store, without BPF:
 * generate an allocator-like record stream into a record ring laid out as
 * the kernel's (bpf/events.h), and time ms_ring__consume() handing every
 * record to store__apply(), as the tool's drain does.
 *
 * The stream keeps a sliding window of live blocks, frees and allocates
 * through it with a LIFO of freed addresses (allocators hand back what
 * was freed last), draws call stacks of depth 8 to 20 from a skewed
 * distribution, and now and then reallocs in place or by moving. Records
 * go on the ring as producers send them: a ring header, then
 * ms_event_size(nr_frames). Generation fills the ring outside the timed
 * section; each drain empties it.
 *
 *   gcc -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Ibpf \
 *       -Iuser/common -Iuser/capture -Iuser/store bench/store-replay.c \
 *       user/store/store.c user/store/declared.c user/capture/ring.c \
 *       user/common/table.c -o store-replay
 *   ./store-replay [records]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ring.h"
#include "store.h"

#define DEFAULT_RECORDS		10000000ul
#define NR_CHUNKS		16	/* the tool's ring: 32 MiB */
#define RING_BYTES		((__u64)NR_CHUNKS << MS_RING_CHUNK_SHIFT)
#define STRIDE			sizeof(struct ms_ring_chunk)
#define WINDOW			10000
#define NR_STACKS		200
#define MIN_DEPTH		8
#define MAX_DEPTH		20
#define NR_THREADS		8
#define REALLOC_PERMILLE	50
#define LARGE_PERMILLE		1
#define HEAP_BASE		0x555555a00000ull

struct live_ref {
	__u64 ptr;
	__u64 seq;
};

struct gen {
	__u64 rng;
	__u64 seq;
	__u64 ts;
	__u64 brk;		/* next never-used address */
	__u64 *freed;		/* reused last-in first-out */
	size_t nr_freed;
	size_t freed_cap;
	struct live_ref live[WINDOW];
	size_t nr_live;
	__u64 frames[NR_STACKS][MAX_DEPTH];
	unsigned int depth[NR_STACKS];
	unsigned long allocs, frees, reallocs;
};

struct batch {
	unsigned char *mem;	/* NR_CHUNKS chunks */
	__u64 prod;
	__u64 cons;
	size_t nr;
	struct ms_ring *ring;
};

static __u64 rnd(struct gen *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dull;
}

static void gen_init(struct gen *g)
{
	__u64 root[MAX_DEPTH];
	unsigned int i, k;

	memset(g, 0, sizeof(*g));
	g->rng = 0x9e3779b97f4a7c15ull;
	g->ts = 1000000000ull;
	g->brk = HEAP_BASE;
	for (i = 0; i < MAX_DEPTH; i++)
		root[i] = 0x555555554000ull + rnd(g) % 0x100000;
	/* inner frames differ, outer ones run into a few shared roots */
	for (k = 0; k < NR_STACKS; k++) {
		g->depth[k] = MIN_DEPTH + rnd(g) % (MAX_DEPTH - MIN_DEPTH + 1);
		for (i = 0; i < g->depth[k]; i++)
			g->frames[k][i] = i < g->depth[k] / 2 ?
				0x7ffff7a00000ull + rnd(g) % 0x200000 :
				root[(i + k % 3) % MAX_DEPTH];
	}
}

/* Skewed: a few hot stacks allocate most, as in real programs. */
static unsigned int pick_stack(struct gen *g)
{
	double u = (double)(rnd(g) >> 11) / (double)(1ull << 53);

	return (unsigned int)(u * u * NR_STACKS);
}

static __u64 pick_size(struct gen *g)
{
	if (rnd(g) % 1000 < LARGE_PERMILLE)
		return (1ull << 20) + rnd(g) % (1ull << 20);
	return (16ull << (rnd(g) % 8)) + rnd(g) % 16;
}

static int addr_release(struct gen *g, __u64 ptr)
{
	__u64 *freed;

	if (g->nr_freed == g->freed_cap) {
		g->freed_cap = g->freed_cap ? 2 * g->freed_cap : 4096;
		freed = realloc(g->freed, g->freed_cap * sizeof(*freed));
		if (!freed)
			return -ENOMEM;
		g->freed = freed;
	}
	g->freed[g->nr_freed++] = ptr;
	return 0;
}

static __u64 addr_get(struct gen *g, __u64 size)
{
	__u64 ptr;

	if (g->nr_freed && rnd(g) % 8)
		return g->freed[--g->nr_freed];
	ptr = g->brk;
	g->brk += ((size + 15) & ~15ull) + 16;
	return ptr;
}

static struct ms_event *emit(struct gen *g, struct batch *b, __u16 type,
			     __u16 fn, int stack)
{
	unsigned int nr = stack < 0 ? 0 : g->depth[stack];
	__u64 off = b->prod & (RING_BYTES - 1);
	struct ms_ring_hdr *h = (void *)(b->mem +
		(off >> MS_RING_CHUNK_SHIFT) * STRIDE +
		(off & (MS_RING_CHUNK - 1)));
	struct ms_event *e = (struct ms_event *)(h + 1);

	memset(e, 0, MS_EVENT_HDR_SIZE);
	e->type = type;
	e->fn = fn;
	e->pid = 4242;
	e->tid = 4242 + rnd(g) % NR_THREADS;
	g->ts += 50 + rnd(g) % 200;
	e->ts_ns = g->ts;
	e->nr_frames = nr;
	if (nr)
		memcpy(e->frames, g->frames[stack], nr * sizeof(__u64));
	/* Committed at once: the drain runs after the ring is filled. */
	h->len = sizeof(*h) + ms_event_size(nr);
	h->commit = ~b->prod;
	b->prod += h->len;
	b->nr++;
	return e;
}

static void emit_alloc(struct gen *g, struct batch *b, size_t slot)
{
	struct ms_event *e = emit(g, b, MS_EV_ALLOC, MS_FN_MALLOC,
				  pick_stack(g));

	e->size = pick_size(g);
	e->ptr = addr_get(g, e->size);
	e->seq = ++g->seq;
	g->live[slot].ptr = e->ptr;
	g->live[slot].seq = e->seq;
	g->allocs++;
}

static int emit_step(struct gen *g, struct batch *b)
{
	size_t slot = rnd(g) % WINDOW;
	struct live_ref *old = &g->live[slot];
	struct ms_event *e;
	int err;

	if (g->nr_live < WINDOW) {
		emit_alloc(g, b, g->nr_live++);
		return 0;
	}
	if (rnd(g) % 1000 < REALLOC_PERMILLE) {
		e = emit(g, b, MS_EV_REALLOC, MS_FN_REALLOC, pick_stack(g));
		e->old_ptr = old->ptr;
		e->old_seq = old->seq;
		e->size = pick_size(g);
		e->seq = ++g->seq;
		if (rnd(g) % 2) {
			e->ptr = old->ptr;
		} else {
			e->ptr = addr_get(g, e->size);
			err = addr_release(g, old->ptr);
			if (err)
				return err;
		}
		old->ptr = e->ptr;
		old->seq = e->seq;
		g->reallocs++;
		return 0;
	}
	e = emit(g, b, MS_EV_FREE, MS_FN_FREE, -1);
	e->ptr = old->ptr;
	g->frees++;
	err = addr_release(g, old->ptr);
	if (err)
		return err;
	emit_alloc(g, b, slot);
	return 0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

struct apply_ctx {
	struct store *s;
	int err;
};

static void apply(void *ctx, const void *data, size_t len)
{
	struct apply_ctx *a = ctx;

	(void)len;
	if (!a->err)
		a->err = store__apply(a->s, data);
}

/* Drain the ring into the store, adding the time it took to *secs. */
static int replay(struct store *s, struct batch *b, double *secs)
{
	struct apply_ctx a = { .s = s };
	double start = now_s();
	int n = ms_ring__consume(b->ring, apply, &a);

	*secs += now_s() - start;
	if (n < 0)
		return n;
	if (a.err)
		return a.err;
	return (size_t)n == b->nr ? 0 : -EPROTO;
}

/* Room for one more step: up to two records of the deepest stack. */
static bool ring_room(const struct batch *b)
{
	return b->prod - b->cons + 2 * MS_RING_REC_MAX <= RING_BYTES;
}

int main(int argc, char **argv)
{
	unsigned long records = DEFAULT_RECORDS, done = 0;
	const struct store_summary *sum;
	struct batch b = { 0 };
	size_t empty_mem, mem;
	struct store *s;
	struct gen *g;
	double secs = 0;
	int err = 0;

	if (argc > 1)
		records = strtoul(argv[1], NULL, 0);
	g = malloc(sizeof(*g));
	b.mem = calloc(NR_CHUNKS, STRIDE);
	if (b.mem)
		b.ring = ms_ring__new(b.mem, STRIDE, NR_CHUNKS,
				      MS_RING_CHUNK_SHIFT, &b.prod, &b.cons);
	s = store__new();
	if (!g || !b.ring || !s) {
		fprintf(stderr, "store-replay: out of memory\n");
		err = -ENOMEM;
		goto out;
	}
	gen_init(g);
	empty_mem = store__mem_bytes(s);

	while (done < records) {
		b.nr = 0;
		while (ring_room(&b) && done + b.nr < records) {
			err = emit_step(g, &b);
			if (err)
				goto out_err;
		}
		err = replay(s, &b, &secs);
		if (err)
			goto out_err;
		done += b.nr;
	}

	sum = store__summary(s);
	mem = store__mem_bytes(s);
	printf("records   %lu (%lu alloc, %lu free, %lu realloc), %u stacks\n",
	       done, g->allocs, g->frees, g->reallocs, store__nr_stacks(s));
	printf("replay    %.3f s, %.1f M events/s, %.1f ns/event\n",
	       secs, done / secs / 1e6, secs * 1e9 / done);
	printf("memory    %zu bytes for %llu live blocks: %.1f bytes per block"
	       " (%.1f with the empty store's %zu)\n",
	       mem - empty_mem, (unsigned long long)sum->live_allocs,
	       (double)(mem - empty_mem) / sum->live_allocs,
	       (double)mem / sum->live_allocs, empty_mem);
	printf("summary   allocs %llu frees %llu peak %llu bytes"
	       " unknown_frees %llu replaced %llu\n",
	       (unsigned long long)sum->allocs, (unsigned long long)sum->frees,
	       (unsigned long long)sum->peak_bytes,
	       (unsigned long long)sum->unknown_frees,
	       (unsigned long long)sum->replaced);
	/* the stream is consistent by construction: anything else is a bug */
	if (sum->unknown_frees || sum->replaced ||
	    sum->live_allocs != g->nr_live || sum->events != done) {
		fprintf(stderr, "store-replay: store disagrees with the stream\n");
		err = -EPROTO;
	}
	goto out;

out_err:
	fprintf(stderr, "store-replay: %s\n", strerror(-err));
out:
	store__free(s);
	ms_ring__free(b.ring);
	free(b.mem);
	if (g)
		free(g->freed);
	free(g);
	return err ? 1 : 0;
}
