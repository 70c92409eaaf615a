/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The leak filter (--older, --min-size, --max-size): a generated trace of
 * blocks of many sizes and ages on a few stacks, replayed into a store,
 * and every report form checked against a count made here by brute force
 * over the same blocks: the leak lists, the sites' live figures (what
 * pprof and folded weigh), the totals (never filtered) and the lines that
 * say a filter is on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "report.h"
#include "report_json.h"
#include "store.h"
#include "builders.h"

#define START_NS	1000000000ull
#define MS		1000000ull
#define END_MS		10000ull
#define NR_BLOCKS	3000
#define NR_STACKS	5

static const __u64 stacks[NR_STACKS][2] = {
	{ 0x1000, 0x9000 }, { 0x1100, 0x9000 }, { 0x1200, 0x9000 },
	{ 0x1300, 0x9000 }, { 0x1400, 0x9000 },
};

struct gen_block {
	__u64 size;
	__u64 ms;		/* allocated at, ms after the start */
	int stack;
	bool live;		/* still live at the end */
};

static struct gen_block blocks[NR_BLOCKS];

/* Sizes 1..8191 and times over the whole trace, a third of them freed. */
static struct store *gen_store(void)
{
	struct store *s = store__new();
	unsigned int seed = 12345;
	int i;

	cr_assert_not_null(s, "store__new: %s", strerror(errno));
	for (i = 0; i < NR_BLOCKS; i++) {
		seed = seed * 1103515245 + 12345;
		blocks[i].size = 1 + (seed >> 8) % 8191;
		blocks[i].ms = (__u64)i * (END_MS - 1) / NR_BLOCKS;
		blocks[i].stack = (seed >> 4) % NR_STACKS;
		blocks[i].live = (seed >> 20) % 3 != 0;
		ev_alloc(s, 0x100000 + 16 * i, blocks[i].size, i + 1,
			 stacks[blocks[i].stack], 2,
			 START_NS + blocks[i].ms * MS);
	}
	for (i = 0; i < NR_BLOCKS; i++) {
		if (!blocks[i].live)
			ev_free(s, 0x100000 + 16 * i,
				START_NS + (blocks[i].ms + 1) * MS);
	}
	return s;
}

static bool passes(const struct gen_block *b, const struct report_filter *f)
{
	__u64 age_ns = (END_MS - b->ms) * MS;

	return b->live && (!f->min_size || b->size >= f->min_size) &&
	       (!f->max_size || b->size <= f->max_size) &&
	       (!f->older_ns || age_ns > f->older_ns);
}

static struct report *build(struct store *s, const struct report_filter *f)
{
	struct report_target t = {
		.pid = 4242, .mode = TRACE_MODE_DEFAULT, .start_ns = START_NS,
		.duration_ns = END_MS * MS,
	};
	struct report_opts o = { .filter = *f };
	struct report *r = report__build(s, &t, NULL, NULL, 0, &o);

	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	return r;
}

static const struct report_site *site_of(const struct report_site *sites,
					 size_t n, int stack)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (sites[i].nr_frames && sites[i].frames[0].addr ==
		    stacks[stack][0])
			return &sites[i];
	}
	return NULL;
}

static void check(const struct report_filter *f, const char *what)
{
	__u64 count[NR_STACKS] = {}, bytes[NR_STACKS] = {}, all = 0, sum = 0;
	__u64 total = 0;
	const struct report_site *l, *st;
	struct store *s = gen_store();
	struct report *r = build(s, f);
	size_t nr_want = 0;
	int i;

	for (i = 0; i < NR_BLOCKS; i++) {
		total += blocks[i].live;
		if (!passes(&blocks[i], f))
			continue;
		count[blocks[i].stack]++;
		bytes[blocks[i].stack] += blocks[i].size;
		all++;
		sum += blocks[i].size;
	}
	for (i = 0; i < NR_STACKS; i++)
		nr_want += !!count[i];
	cr_expect_eq(r->filter_count, all, "%s: %llu blocks pass, want %llu",
		     what, (unsigned long long)r->filter_count,
		     (unsigned long long)all);
	cr_expect_eq(r->filter_bytes, sum, "%s: %llu bytes pass, want %llu",
		     what, (unsigned long long)r->filter_bytes,
		     (unsigned long long)sum);
	cr_expect_eq(r->summary.live_allocs, total,
		     "%s: totals are every live block: %llu, want %llu", what,
		     (unsigned long long)r->summary.live_allocs,
		     (unsigned long long)total);
	cr_expect_eq(r->nr_leaks, nr_want, "%s: %zu leak sites, want %zu",
		     what, r->nr_leaks, nr_want);
	for (i = 0; i < NR_STACKS; i++) {
		l = site_of(r->leaks, r->nr_leaks, i);
		st = site_of(r->sites, r->nr_sites, i);
		cr_assert_not_null(st, "%s: stack %d not among the sites",
				   what, i);
		cr_expect_eq(st->live_count, count[i],
			     "%s: site %d live_count %llu, want %llu", what, i,
			     (unsigned long long)st->live_count,
			     (unsigned long long)count[i]);
		cr_expect_eq(st->live_bytes, bytes[i],
			     "%s: site %d live_bytes %llu, want %llu", what, i,
			     (unsigned long long)st->live_bytes,
			     (unsigned long long)bytes[i]);
		if (!count[i]) {
			cr_expect_null(l, "%s: stack %d listed, none pass",
				       what, i);
			continue;
		}
		cr_assert_not_null(l, "%s: stack %d not listed", what, i);
		cr_expect(l->count == count[i] && l->bytes == bytes[i],
			  "%s: leak %d %llu blocks %llu bytes, want %llu %llu",
			  what, i, (unsigned long long)l->count,
			  (unsigned long long)l->bytes,
			  (unsigned long long)count[i],
			  (unsigned long long)bytes[i]);
	}
	report__free(r);
	store__free(s);
}

Test(filter, none_counts_every_live_block)
{
	check(&(struct report_filter){}, "no filter");
}

Test(filter, min_size)
{
	check(&(struct report_filter){ .min_size = 4000 }, "--min-size 4000");
}

Test(filter, max_size)
{
	check(&(struct report_filter){ .max_size = 100 }, "--max-size 100");
}

Test(filter, older)
{
	check(&(struct report_filter){ .older_ns = 7500 * MS },
	      "--older 7.5");
}

Test(filter, all_three)
{
	check(&(struct report_filter){ .older_ns = 2 * 1000 * MS,
				       .min_size = 512, .max_size = 1024 },
	      "--older 2 --min-size 512 --max-size 1024");
}

Test(filter, nothing_passes)
{
	check(&(struct report_filter){ .older_ns = END_MS * MS },
	      "--older the whole trace");
}

/* A block exactly SEC old is not older than SEC. */
Test(filter, older_is_strict)
{
	struct report_filter f = { .older_ns = 5 * 1000 * MS };
	struct store *s = store__new();
	struct report *r;

	cr_assert_not_null(s);
	ev_alloc(s, 0xa0, 10, 1, stacks[0], 2, START_NS + 5000 * MS);
	ev_alloc(s, 0xb0, 10, 2, stacks[1], 2, START_NS + 5000 * MS - 1);
	r = build(s, &f);
	cr_expect_eq(r->filter_count, 1, "blocks older than 5 s: %llu",
		     (unsigned long long)r->filter_count);
	cr_assert_eq(r->nr_leaks, 1);
	cr_expect_eq(r->leaks[0].frames[0].addr, stacks[1][0]);
	report__free(r);
	store__free(s);
}

static char *text_and_json(const struct report *r, char **json)
{
	char *txt = NULL;
	size_t len;
	FILE *f = open_memstream(&txt, &len);

	cr_assert_not_null(f);
	cr_assert_eq(report__write_text(r, f), 0);
	fclose(f);
	f = open_memstream(json, &len);
	cr_assert_not_null(f);
	cr_assert_eq(report__json_stream(r, f, false), 0);
	fclose(f);
	return txt;
}

/* The report says a filter is on, and what passed of how much. */
Test(filter, text_and_json_say_so)
{
	struct report_filter f = { .older_ns = 1500 * MS, .min_size = 2048 };
	struct store *s = store__new();
	struct report *r;
	char *txt, *json;

	cr_assert_not_null(s);
	ev_alloc(s, 0xa0, 4096, 1, stacks[0], 2, START_NS + 100 * MS);
	ev_alloc(s, 0xb0, 100, 2, stacks[1], 2, START_NS + 100 * MS);
	ev_alloc(s, 0xc0, 4096, 3, stacks[2], 2, START_NS + 9000 * MS);
	r = build(s, &f);
	txt = text_and_json(r, &json);
	cr_expect(strstr(txt, "\nLeak filter: only blocks older than 1.500 s at the end, of at least 2.0 KiB (2048 bytes)\n"
			      "  1 of 3 live blocks pass, 4.0 KiB (4096 bytes) of 8.1 KiB (8292 bytes)\n"),
		  "text: no filter line in:\n%s", txt);
	cr_expect(strstr(json, "\"leak_filter\":{\"older_ns\":1500000000,\"min_size\":2048,\"max_size\":null,\"live_allocs\":1,\"live_bytes\":4096}"),
		  "json: no leak_filter in:\n%s", json);
	free(txt);
	free(json);
	report__free(r);
	f = (struct report_filter){};
	r = build(s, &f);
	txt = text_and_json(r, &json);
	cr_expect_null(strstr(txt, "Leak filter"), "text: a filter line with none:\n%s", txt);
	cr_expect(strstr(json, "\"leak_filter\":null"), "json: leak_filter not null:\n%s", json);
	free(txt);
	free(json);
	report__free(r);
	store__free(s);
}
