/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The record ring's consumer, against a producer written from the layout
 * in bpf/events.h: stream order, records that run into a chunk's slack,
 * uncommitted and stale records, lap after lap, and corrupt headers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "expect.h"
#include "ring.h"
#include "events.h"

#define SHIFT		12	/* small chunks, so tests wrap often */
#define CHUNK		(1u << SHIFT)
#define NR_CHUNKS	4
#define STRIDE		(CHUNK + MS_RING_SLACK)

static unsigned char *mem;
static __u64 prod, cons;
static struct ms_ring *ring;

static void setup(void)
{
	mem = calloc(NR_CHUNKS, STRIDE);
	cr_assert_not_null(mem);
	prod = cons = 0;
	ring = ms_ring__new(mem, STRIDE, NR_CHUNKS, SHIFT, &prod, &cons);
	cr_assert_not_null(ring);
}

static void teardown(void)
{
	ms_ring__free(ring);
	free(mem);
}

static struct ms_ring_hdr *at(__u64 pos)
{
	__u64 off = pos & ((__u64)NR_CHUNKS * CHUNK - 1);

	return (void *)(mem + (off >> SHIFT) * STRIDE + (off & (CHUNK - 1)));
}

/* Reserve a record of nr_frames frames, numbered by tag; commit or not. */
static __u64 produce(__u64 tag, unsigned int nr_frames, bool commit)
{
	__u32 len = sizeof(struct ms_ring_hdr) + ms_event_size(nr_frames);
	struct ms_ring_hdr *h = at(prod);
	struct ms_event *e = (void *)(h + 1);
	__u64 pos = prod;

	cr_assert_leq(prod + len - cons, (__u64)NR_CHUNKS * CHUNK);
	prod += len;
	memset(e, 0, ms_event_size(nr_frames));
	e->type = MS_EV_FREE;
	e->ptr = tag;
	e->nr_frames = nr_frames;
	for (unsigned int i = 0; i < nr_frames; i++)
		e->frames[i] = tag * 100 + i;
	h->len = len;
	if (commit)
		h->commit = ~pos;
	return pos;
}

struct seen {
	__u64 tags[4096];
	unsigned int nr;
	bool frames_ok;
};

static void collect(void *ctx, const void *data, size_t len)
{
	struct seen *s = ctx;
	const struct ms_event *e = data;

	cr_assert_geq(len, ms_event_len(e), "record %llu cut",
		      (unsigned long long)e->ptr);
	for (unsigned int i = 0; i < e->nr_frames; i++)
		if (e->frames[i] != e->ptr * 100 + i)
			s->frames_ok = false;
	if (s->nr < 4096)
		s->tags[s->nr++] = e->ptr;
}

TestSuite(ring, .init = setup, .fini = teardown);

Test(ring, hands_records_over_in_order_and_frees_their_space)
{
	struct seen s = { .frames_ok = true };

	for (__u64 i = 1; i <= 5; i++)
		produce(i, i, true);
	expect_eq(ms_ring__consume(ring, collect, &s), 5, "records");
	for (unsigned int i = 0; i < 5; i++)
		expect_eq(s.tags[i], i + 1, "record %u", i);
	cr_assert(s.frames_ok, "frames intact");
	expect_eq(cons, prod, "consumer position after the drain");
	expect_eq(ms_ring__consume(ring, collect, &s), 0, "second drain");
}

Test(ring, stops_at_a_record_not_yet_committed)
{
	struct seen s = { .frames_ok = true };
	__u64 pending;

	produce(1, 0, true);
	pending = produce(2, 3, false);
	produce(3, 0, true);
	expect_eq(ms_ring__consume(ring, collect, &s), 1, "before the commit");
	expect_eq(cons, pending, "consumer waits at the reserved record");
	at(pending)->commit = ~pending;
	expect_eq(ms_ring__consume(ring, collect, &s), 2, "after the commit");
	expect_eq(s.tags[1], 2, "the late record first");
	expect_eq(s.tags[2], 3, "then the one after it");
}

Test(ring, records_run_into_the_slack_across_many_laps)
{
	struct seen s = { .frames_ok = true };
	unsigned int want = 0;
	__u64 tag = 1;

	/* Odd sizes put record starts everywhere, ends past chunk edges. */
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 7; i++, want++)
			produce(tag++, (round * 7 + i) % (MS_MAX_STACK + 1),
				true);
		s.nr = 0;
		expect_eq(ms_ring__consume(ring, collect, &s), 7,
			  "round %d", round);
		for (unsigned int i = 0; i < 7; i++)
			expect_eq(s.tags[i], tag - 7 + i, "round %d record %u",
				  round, i);
	}
	cr_assert(s.frames_ok, "frames intact across chunk edges");
	cr_assert_gt(prod, 8ull * NR_CHUNKS * CHUNK, "the test wrapped");
}

Test(ring, a_stale_record_from_an_earlier_lap_is_not_taken)
{
	struct seen s = { .frames_ok = true };
	__u64 lap = (__u64)NR_CHUNKS * CHUNK;

	/* An old committed header sits exactly where the next record goes. */
	prod = cons = 3 * lap;
	at(prod)->len = sizeof(struct ms_ring_hdr) + MS_EVENT_HDR_SIZE;
	at(prod)->commit = ~(prod - lap);
	expect_eq(ms_ring__consume(ring, collect, &s), 0, "stale record");
	expect_eq(cons, 3 * lap, "consumer did not move");
}

Test(ring, a_corrupt_header_skips_to_the_producer)
{
	struct seen s = { .frames_ok = true };
	__u64 bad;

	produce(1, 0, true);
	bad = produce(2, 0, true);
	at(bad)->len = 12;	/* not a record length */
	produce(3, 0, true);
	expect_eq(ms_ring__consume(ring, collect, &s), (__u64)-EBADMSG,
		  "result");
	expect_eq(s.nr, 1, "records before the damage");
	expect_eq(cons, prod, "skipped to the producer");
	produce(4, 2, true);
	expect_eq(ms_ring__consume(ring, collect, &s), 1, "after the skip");
	expect_eq(s.tags[1], 4, "the next record");
}

Test(ring, rejects_a_layout_it_cannot_walk)
{
	cr_assert_null(ms_ring__new(mem, STRIDE, 3, SHIFT, &prod, &cons));
	cr_assert_null(ms_ring__new(mem, CHUNK, NR_CHUNKS, SHIFT, &prod,
				    &cons));
}
