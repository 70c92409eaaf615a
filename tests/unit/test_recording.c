/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Unit tests of recordings: a round trip gives back every record, the
 * header, the trailer and the symbols; a file cut anywhere or with any
 * byte flipped gives back a prefix of the records and says where it broke;
 * files that are not recordings, or of another version, are refused.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include "anon.h"
#include "growth.h"
#include "prologue.h"
#include "recording.h"
#include "report_growth.h"
#include "store.h"
#include "builders.h"
#include "expect.h"

#define NR_EVENTS	40
/* Small frames: the cut and flip tests walk every byte of the file. */
#define SMALL_EVENTS	12
#define FLUSH_EVERY	4

/* Offsets the format fixes: the prelude, then each frame's header. */
#define PRELUDE_SIZE	16
#define PRELUDE_VERSION	8
#define FRAME_HDR_SIZE	16
#define FRAME_Z_LEN	8

static char dir[] = "/tmp/memscope-recording-XXXXXX";
static char path[PATH_MAX];

static int rm_entry(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/trace.msr", dir);
}

static void teardown(void)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Every walk over all bytes is bounded: a reader that loops fails. */
TestSuite(recording, .init = setup, .fini = teardown, .timeout = 60);

static const struct recording_info info = {
	.tool_version = "9.8.7",
	.pid = 4242,
	.command = "./leaky --flag",
	.mode = TRACE_MODE_DEFAULT,
	.top = 7,
	.fold = 5,
	.rule_opts = { 250000000, 3, 40000000 },
	.wall_ns = 1700000000123456789ull,
	.start_ns = 1000000000ull,
};

/* A header of pid 500, whose tree the process tests trace. */
static const struct recording_info info_v = {
	.tool_version = "9.8.7",
	.pid = 500,
	.mode = TRACE_MODE_DEFAULT,
	.top = 7,
	.start_ns = 500,
};

static const struct attach_probe probes[] = {
	{ "/lib/libc.so.6", "malloc", 0x1000, 0, false, true, PROLOGUE_NONE,
	  { 0 }, NULL, false, 0, NULL, false },
	{ "/lib/libc.so.6", "malloc", 0x1000, 0, true, false,
	  PROLOGUE_ARG_WRITTEN, { 0 }, NULL, false, 0, NULL, false },
	{ "/lib/libc.so.6", "free", 0x2010, 16, false, true, PROLOGUE_NONE,
	  { 0 }, NULL, false, 0, NULL, false },
	/* not probed: it forwards to realloc */
	{ "/lib/libc.so.6", "reallocarray", 0x2400, 0, false, false,
	  PROLOGUE_NONE, { 0 }, "realloc", false, 0, NULL, false },
	/* a layer: entry only, malloc's return counts its blocks */
	{ "/lib/libstdc++.so.6", "_Znwm", 0xa957c, 12, false, true,
	  PROLOGUE_NONE, { 0 }, NULL, false, MS_FAM_NEW, "malloc", false },
	/* a return probe on a function that may throw */
	{ "/lib/libtcmalloc_minimal.so.4", "_Znwm", 0x1e6c0, 0, true, true,
	  PROLOGUE_NONE, { 0 }, NULL, false, MS_FAM_NEW, NULL, true },
};

static struct ms_event events[NR_EVENTS];

/*
 * Allocations from a few stacks (one of them deep, one empty), frees of
 * half of them, a realloc, a failed allocation, a declared record, which
 * is written whole with its strings, and anonymous memory: a mapping, a
 * munmap of part of it and an allocator's arena growing the break.
 */
static void make_events(void)
{
	struct ms_event *e;
	int i, j;

	memset(events, 0, sizeof(events));
	for (i = 0; i < NR_EVENTS; i++) {
		e = &events[i];
		e->pid = 4242;
		e->tid = 4243 + i % 3;
		e->ts_ns = info.start_ns + 1000 * (i + 1);
		e->fn = MS_FN_MALLOC;
		if (i % 4 == 3) {
			e->type = MS_EV_FREE;
			e->fn = MS_FN_FREE;
			e->ptr = 0x10000 + (i - 3) * 0x100;
			continue;
		}
		e->type = MS_EV_ALLOC;
		e->seq = i + 1;
		e->ptr = 0x10000 + i * 0x100;
		e->size = 16 * (i + 1);
		e->nr_frames = i % 5 == 4 ? MS_MAX_STACK : i % 5;
		for (j = 0; j < e->nr_frames; j++)
			e->frames[j] = 0x401000 + (i % 3) * 0x40 + j * 0x1000;
	}
	e = &events[10];
	e->type = MS_EV_REALLOC;
	e->fn = MS_FN_REALLOC;
	e->old_ptr = 0x10000 + 9 * 0x100;
	events[14].ptr = 0;	/* a failed malloc */
	e = &events[17];
	memset(e, 0, sizeof(*e));
	e->pid = 4242;
	e->type = MS_EV_TRACK;
	e->ptr = 0x10000 + 16 * 0x100;
	e->size = 272;
	e->aux = MS_KIND_CONTAINER;
	e->nr_frames = 2;
	e->frames[0] = 0x402000;
	e->frames[1] = 0x403000;
	strcpy(e->name, "cache");
	strcpy(e->type_name, "struct lru");
	e = &events[21];
	e->type = MS_EV_MMAP;
	e->fn = MS_FN_NONE;
	e->seq = 0;
	e->ptr = 0x7f0000000000ull;
	e->size = 5 * ANON_PAGE;
	e->aux = ANON_MAP_PRIVATE | ANON_MAP_ANONYMOUS;
	e = &events[22];
	memset(e, 0, sizeof(*e));
	e->pid = 4242;
	e->type = MS_EV_MUNMAP;
	e->ts_ns = info.start_ns + 1000 * 23;
	e->ptr = 0x7f0000000000ull + ANON_PAGE;
	e->size = ANON_PAGE;
	e = &events[25];
	memset(e, 0, sizeof(*e));
	e->pid = 4242;
	e->type = MS_EV_BRK;
	e->ts_ns = info.start_ns + 1000 * 26;
	e->fn = MS_FN_MALLOC;
	e->flags = MS_EVF_ARENA;
	e->old_ptr = 0x555555559000ull;
	e->ptr = 0x555555559000ull + 33 * ANON_PAGE;
	e->nr_frames = 1;
	e->frames[0] = 0x7f1000001234ull;
}

/*
 * A resolver that knows some addresses fully, some only by object, and
 * none of the rest: every field, and NULL against "", must survive.
 */
/*
 * Addresses % 3 == 0: two inlined calls (one with a mangled name) in a
 * function with a line; == 1: an object only; else nothing.
 */
static unsigned fake_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame frames[3];
	static char fn[32];
	unsigned i;

	(void)ctx;
	memset(frames, 0, sizeof(frames));
	*out = frames;
	for (i = 0; i < 3; i++)
		frames[i].addr = addr;
	switch (addr % 3) {
	case 0:
		snprintf(fn, sizeof(fn), "fn_%llx", (unsigned long long)addr);
		for (i = 0; i < 3; i++) {
			frames[i].file = "src/leaky.c";
			frames[i].line = (int)(addr % 1000) + i;
			frames[i].object = "/usr/bin/leaky";
			frames[i].object_offset = addr - 0x400000;
			frames[i].build_id = "0123456789abcdef";
			frames[i].inlined = i < 2;
		}
		frames[0].function = "inl::a()";
		frames[0].mangled = "_ZN3inl1aEv";
		frames[1].function = "inl_b";
		frames[1].file = "src/inl.h";
		frames[2].function = fn;
		return 3;
	case 1:
		frames[0].file = "";
		frames[0].object = "/lib/libc.so.6";
		frames[0].object_offset = addr & 0xfff;
		return 1;
	default:
		return 1;
	}
}

static const struct recording_end end_template = {
	.kernel = { .allocs = 30, .frees = 10, .peak_bytes = 12345,
		    .lost_events = 2, .seq = 31 },
	.end_ns = 2000000000ull,
	.consumer_drops = 3,
	.exited = true,
	.exit_status = 256,
	.procs_full = 4,
	.max_procs = 5,
	.probes = probes,
	.nr_probes = sizeof(probes) / sizeof(probes[0]),
};

/* The process table the live run would have: every record applied. */
static struct procs *procs_of(size_t n)
{
	struct procs *pt = procs__new();
	size_t i;

	cr_assert_not_null(pt, "procs__new: %s", strerror(errno));
	for (i = 0; i < n; i++)
		procs__apply(pt, &events[i]);
	return pt;
}

/* Its one process's store: the test's records are all of pid 4242. */
static const struct store *store_in(const struct procs *pt)
{
	cr_assert_eq(procs__nr_images(pt), 1, "images: got %zu, want 1",
		     procs__nr_images(pt));
	return procs__image(pt, 0)->store;
}

/* Writes events[0..n) with a frame every flush_every records. */
/* The trailer write_recording writes; a test may point it elsewhere. */
static const struct recording_end *end_of_run = &end_template;
/* write_recording takes a snapshot after every this many records (0: none). */
static size_t snap_every;

/* The snapshot write_recording takes after record i. */
static struct recording_snapshot snapshot_after(size_t i)
{
	return (struct recording_snapshot){
		.ts_ns = info.start_ns + (i + 1) * 1000,
		.records = i + 1,
		.lost_events = i,
		.consumer_drops = 2 * i,
	};
}

static void write_recording(size_t n, size_t flush_every, bool finish)
{
	struct recording_end end = *end_of_run;
	struct recorder *w = recorder__new(path);
	struct procs *pt = procs_of(n);
	char partial[PATH_MAX + 16];
	size_t i;
	int err;

	cr_assert_not_null(w, "recorder__new(%s): %s", path, strerror(errno));
	err = recorder__start(w, &info);
	cr_assert_eq(err, 0, "recorder__start: %s", strerror(-err));
	for (i = 0; i < n; i++) {
		err = recorder__add(w, &events[i]);
		cr_assert_eq(err, 0, "recorder__add(%zu): %s", i,
			     strerror(-err));
		if ((i + 1) % flush_every == 0) {
			err = recorder__flush(w);
			cr_assert_eq(err, 0, "recorder__flush: %s",
				     strerror(-err));
		}
		if (snap_every && (i + 1) % snap_every == 0) {
			struct recording_snapshot sn = snapshot_after(i);

			err = recorder__snapshot(w, &sn);
			cr_assert_eq(err, 0, "recorder__snapshot: %s",
				     strerror(-err));
		}
	}
	if (finish) {
		err = recorder__finish(w, pt, fake_resolve, NULL, NULL, &end);
		cr_assert_eq(err, 0, "recorder__finish: %s", strerror(-err));
	} else {
		err = recorder__flush(w);
		cr_assert_eq(err, 0, "recorder__flush: %s", strerror(-err));
		/* What a killed tool leaves: the .partial, as it is. */
		snprintf(partial, sizeof(partial), "%s" RECORDING_PARTIAL,
			 path);
		cr_assert_eq(rename(partial, path), 0, "rename: %s",
			     strerror(errno));
		recorder__free(w);
	}
	procs__free(pt);
}

static unsigned char *read_file(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	unsigned char *buf;
	long n;

	cr_assert_not_null(f, "fopen(%s): %s", p, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? n : 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n, "short read of %s", p);
	fclose(f);
	*len = n;
	return buf;
}

/* What a replay delivered. */
struct got {
	struct ms_event ev[NR_EVENTS];
	size_t n;
	bool overflow;
};

static int collect(void *ctx, const struct ms_event *e)
{
	struct got *g = ctx;

	if (g->n == NR_EVENTS) {
		g->overflow = true;
		return -E2BIG;
	}
	memcpy(&g->ev[g->n++], e, ms_event_len(e));
	return 0;
}

/* The records delivered are events[0..n), byte for byte. */
static void expect_prefix(const struct got *g, size_t total, const char *what)
{
	size_t i;

	cr_assert(!g->overflow && g->n <= total,
		  "%s: expected at most %zu records, got more", what, total);
	for (i = 0; i < g->n; i++)
		cr_assert(!memcmp(&g->ev[i], &events[i],
				  ms_event_len(&events[i])),
			  "%s: record %zu differs from the one written", what,
			  i);
}

static struct recording *open_buf(unsigned char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "r");
	struct recording *r;

	cr_assert_not_null(f, "fmemopen: %s", strerror(errno));
	r = recording__new(f);
	cr_assert_not_null(r, "recording__new: %s", strerror(errno));
	return r;
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool frame_same(const struct frame *a, const struct frame *b)
{
	return a->addr == b->addr && a->line == b->line &&
	       a->inlined == b->inlined &&
	       a->object_offset == b->object_offset &&
	       str_same(a->function, b->function) &&
	       str_same(a->mangled, b->mangled) &&
	       str_same(a->file, b->file) && str_same(a->object, b->object) &&
	       str_same(a->build_id, b->build_id);
}

Test(recording, round_trip)
{
	const struct recording_info *in;
	const struct recording_end *end;
	struct procs *live_procs;
	const struct store *live;
	struct store *replayed;
	const struct frame *want, *fr;
	struct store_site site;
	struct recording *r;
	struct got g = {};
	struct stat st;
	char partial[PATH_MAX + 16];
	unsigned n, nw, k;
	__u32 i, j;
	int err;

	make_events();
	write_recording(NR_EVENTS, 8, true);
	snprintf(partial, sizeof(partial), "%s" RECORDING_PARTIAL, path);
	cr_assert(stat(partial, &st) && errno == ENOENT,
		  "%s: expected it renamed away after finish", partial);

	r = recording__new(fopen(path, "rb"));
	cr_assert_not_null(r, "recording__new: %s", strerror(errno));
	err = recording__read_header(r);
	cr_assert_eq(err, 0, "read_header: %d (%s)", err, recording__error(r));
	in = recording__info(r);
	cr_assert_str_eq(in->tool_version, info.tool_version);
	cr_assert_str_eq(in->command, info.command);
	cr_assert_eq(in->mode, info.mode);
	cr_assert_eq(in->pid, info.pid);
	cr_assert_eq(in->top, info.top);
	cr_assert_eq(in->fold, info.fold, "--fold: got %u", in->fold);
	cr_assert_arr_eq(in->rule_opts, info.rule_opts,
			 sizeof(info.rule_opts));
	cr_assert_eq(in->wall_ns, info.wall_ns);
	cr_assert_eq(in->start_ns, info.start_ns);

	replayed = store__new();
	cr_assert_not_null(replayed);
	err = recording__replay(r, collect, &g);
	cr_assert_eq(err, 0, "replay: %d (damage at %llu: %s)", err,
		     (unsigned long long)recording__damage(r)->offset,
		     recording__damage(r)->what);
	cr_assert_eq(g.n, NR_EVENTS, "records: got %zu, want %d", g.n,
		     NR_EVENTS);
	expect_prefix(&g, NR_EVENTS, "round trip");
	for (i = 0; i < g.n; i++)
		store__apply(replayed, &g.ev[i]);
	live_procs = procs_of(NR_EVENTS);
	live = store_in(live_procs);
	cr_assert(!memcmp(store__summary(live), store__summary(replayed),
			  sizeof(struct store_summary)),
		  "store summary after replay differs from the live one");
	cr_assert_eq(store__nr_stacks(live), store__nr_stacks(replayed));
	cr_assert(!memcmp(anon__summary(store__anon(live)),
			  anon__summary(store__anon(replayed)),
			  sizeof(struct anon_summary)),
		  "anonymous memory after replay differs from the live one");
	cr_assert_eq(anon__summary(store__anon(live))->live_bytes,
		     4 * ANON_PAGE, "anonymous live bytes");
	cr_assert_eq(anon__summary(store__anon(live))->arena_live_bytes,
		     33 * ANON_PAGE, "arena live bytes");
	cr_assert_eq(in->version, RECORDING_VERSION);

	end = recording__end(r);
	cr_assert_not_null(end, "trailer: expected one, got none");
	cr_assert(!memcmp(&end->kernel, &end_template.kernel,
			  sizeof(end->kernel)), "trailer: kernel counters");
	cr_assert_eq(end->end_ns, end_template.end_ns);
	cr_assert_eq(end->consumer_drops, end_template.consumer_drops);
	cr_assert_eq(end->procs_full, end_template.procs_full);
	cr_assert_eq(end->max_procs, end_template.max_procs);
	cr_assert_eq(end->exited, true);
	cr_assert_eq(end->exit_status, 256);
	cr_assert_eq(end->nr_probes, end_template.nr_probes);
	for (i = 0; i < end->nr_probes; i++) {
		cr_assert_str_eq(end->probes[i].object, probes[i].object);
		cr_assert_str_eq(end->probes[i].symbol, probes[i].symbol);
		cr_assert_eq(end->probes[i].offset, probes[i].offset);
		cr_assert_eq(end->probes[i].func_offset, probes[i].func_offset);
		cr_assert_eq(end->probes[i].is_return, probes[i].is_return);
		cr_assert_eq(end->probes[i].emulated, probes[i].emulated);
		cr_assert_eq(end->probes[i].reason, probes[i].reason);
		if (probes[i].forwards_to)
			cr_assert_str_eq(end->probes[i].forwards_to,
					 probes[i].forwards_to);
		else
			cr_assert_null(end->probes[i].forwards_to);
		if (probes[i].counted_at)
			cr_assert_str_eq(end->probes[i].counted_at,
					 probes[i].counted_at);
		else
			cr_assert_null(end->probes[i].counted_at);
		cr_assert_eq(end->probes[i].throw_ends, probes[i].throw_ends);
	}

	/* Every address of every stack resolves as it did when written. */
	for (i = 0; i < store__nr_stacks(live); i++) {
		cr_assert_eq(store__site(live, i, &site), 0);
		for (j = 0; j < site.nr_frames; j++) {
			nw = fake_resolve(NULL, site.frames[j], &want);
			n = recording__resolve(r, site.frames[j], &fr);
			cr_assert_eq(n, nw, "0x%llx: %u frames, the resolver "
				     "gave %u", (unsigned long long)
				     site.frames[j], n, nw);
			for (k = 0; k < n; k++)
				cr_assert(frame_same(&fr[k], &want[k]),
					  "frame %u of 0x%llx differs from "
					  "the resolver's", k,
					  (unsigned long long)site.frames[j]);
		}
	}
	n = recording__resolve(r, 0xdead, &fr);
	cr_assert(n == 1 && fr->addr == 0xdead && !fr->function &&
		  !fr->object, "unknown address: expected only itself back");
	procs__free(live_procs);
	store__free(replayed);
	recording__free(r);
}

/* Image i's resolver names every address after its image: "image_<i>". */
static unsigned image_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;
	static char fn[32];

	snprintf(fn, sizeof(fn), "image_%zu", (size_t)ctx - 1);
	fr = (struct frame){ .addr = addr, .function = fn,
			     .object = "/bin/prog" };
	*out = &fr;
	return 1;
}

static void *image_ctx_of(void *ctx, size_t i)
{
	(void)ctx;
	return (void *)(i + 1);
}

static int to_procs(void *ctx, const struct ms_event *e)
{
	return procs__apply(ctx, e);
}

static int info_to_procs(void *ctx, const struct procinfo *info)
{
	return procs__set_info(ctx, info);
}

/*
 * Version 5: a process that forks a child which execs; the same address
 * in two images resolves as each image did, and the images' facts and
 * kernel counters come back by image number. Version 8: the exec'd image
 * joined late (its allocator probed after it ran), learnt after its
 * first record, and its late_ns comes back with its facts; version 9:
 * with when that ended, so the replay's store leaves a mismatch made
 * then unjudged as the run's did.
 */
Test(recording, processes_round_trip)
{
	static const __u64 frame = 0x401000;
	struct ms_event ev[6];
	struct procinfo info = { .pid = 500, .ppid = 1, .ns_pid = 3,
				 .flags = PROCINFO_EXISTING,
				 .start_ns = 77 };
	struct procinfo late = { .pid = 501, .ppid = 500,
				 .flags = PROCINFO_LATE, .late_ns = 150,
				 .late_end_ns = 1350,
				 .comm = "prog", .command = "/bin/prog" };
	struct ms_counters kc = { .allocs = 9, .live_bytes = 64 };
	struct recording_end end = end_template;
	const struct recording_proc *rp;
	const struct frame *fr = NULL;
	struct procs *pt, *back;
	struct recording *r;
	struct recorder *w;
	size_t i, nr;
	int err;

	ev[0] = ev_proc(MS_EV_PROC_START, 501, 500, "child", NULL, 1000);
	ev[1] = ev_rec(MS_EV_ALLOC, 1100);
	ev[1].pid = 501;
	ev[1].ptr = 0x1000;
	ev[1].size = 16;
	ev_stack(&ev[1], &frame, 1);
	ev[2] = ev_proc(MS_EV_PROC_EXEC, 501, 0, "prog", "/bin/prog", 1200);
	ev[3] = ev[1];
	ev[3].ts_ns = 1300;
	ev[3].size = 32;
	ev[4] = ev_proc(MS_EV_PROC_EXIT, 501, 0x200, NULL, NULL, 1400);
	ev[5] = ev[1];
	ev[5].pid = 500;
	ev[5].ts_ns = 1500;

	pt = procs__new();
	cr_assert_not_null(pt);
	cr_assert_eq(procs__set_info(pt, &info), 0);
	w = recorder__new(path);
	cr_assert_not_null(w, "recorder__new: %s", strerror(errno));
	cr_assert_eq(recorder__start(w, &info_v), 0);
	cr_assert_eq(recorder__info(w, &info), 0);
	for (i = 0; i < 6; i++) {
		if (i == 4)
			cr_assert_eq(procs__set_kernel(pt, 501, &kc), 0);
		if (i == 4) {
			cr_assert_eq(procs__set_info(pt, &late), 0);
			cr_assert_eq(recorder__info(w, &late), 0);
		}
		cr_assert_eq(procs__apply(pt, &ev[i]), 0, "record %zu", i);
		cr_assert_eq(recorder__add(w, &ev[i]), 0);
	}
	expect_eq(procs__nr_images(pt), 3, "images");
	err = recorder__finish(w, pt, image_resolve, image_ctx_of, NULL, &end);
	cr_assert_eq(err, 0, "recorder__finish: %s", strerror(-err));

	r = recording__new(fopen(path, "rb"));
	cr_assert_not_null(r);
	cr_assert_eq(recording__read_header(r), 0, "%s", recording__error(r));
	back = procs__new();
	cr_assert_not_null(back);
	recording__on_info(r, info_to_procs);
	err = recording__replay(r, to_procs, back);
	cr_assert_eq(err, 0, "replay: %d (%s)", err,
		     recording__damage(r)->what);
	expect_eq(procs__nr_images(back), 3, "images replayed");
	expect_eq(procs__image(back, 0)->info.pid, 500,
		  "image 0 as the run numbered it");
	expect_eq(procs__image(back, 0)->info.ns_pid, 3,
		  "image 0's facts where the run learnt them");
	expect_eq(procs__image(back, 2)->info.late_ns, 150,
		  "image 2 joined late, where the run learnt it");
	expect_eq(procs__image(back, 2)->info.late_end_ns, 1350,
		  "image 2 late until");
	expect_eq(procs__image(back, 1)->info.flags & PROCINFO_LATE, 0,
		  "image 1 not late");
	rp = recording__procs(r, &nr);
	expect_eq(nr, 3, "images' facts");
	cr_expect(rp[0].have_info && !rp[0].have_kernel, "image 0 facts");
	expect_eq(rp[0].info.ns_pid, 3, "image 0 ns_pid");
	cr_expect_str_eq(rp[1].info.comm, "child");
	cr_expect_str_eq(rp[2].info.command, "/bin/prog");
	cr_expect(rp[2].info.flags & PROCINFO_LATE, "image 2 late");
	expect_eq(rp[2].info.late_ns, 150, "image 2 late_ns");
	expect_eq(rp[2].info.late_end_ns, 1350, "image 2 late_end_ns");
	cr_expect(rp[2].have_kernel, "image 2 kernel counters");
	expect_eq(rp[2].kernel.live_bytes, 64, "image 2 kernel live");
	for (i = 0; i < nr; i++)
		cr_assert_eq(procs__restore(back, i, rp[i].have_info ?
					    &rp[i].info : NULL,
					    rp[i].have_kernel ?
					    &rp[i].kernel : NULL), 0);
	expect_eq(procs__image(back, 2)->kernel.allocs, 9, "restored");
	for (i = 0; i < 3; i++) {
		const char *object = fr ? fr->object : NULL;
		char want[16];

		snprintf(want, sizeof(want), "image_%zu", i);
		cr_assert_eq(recording__resolve(recording__image_ctx(r, i),
						frame, &fr), 1);
		cr_expect_str_eq(fr->function, want, "image %zu", i);
		/* each image's symbols name it: one copy of the string */
		cr_expect(!i || fr->object == object,
			  "image %zu's object: a copy of its own", i);
	}
	info.pid = 9;
	cr_expect_eq(procs__restore(back, 0, &info, NULL), -EINVAL,
		     "facts of another pid");
	procs__free(back);
	procs__free(pt);
	recording__free(r);
}

/* A resolver that knows nothing of 0x401000 until *ctx says it does. */
static unsigned learning_resolve(void *ctx, __u64 addr,
				 const struct frame **out)
{
	static struct frame fr;

	if (addr == 0x401000 && !*(bool *)ctx)
		return 0;
	fr = (struct frame){ .addr = addr, .object = "/bin/prog",
			     .function = addr == 0x401000 ? "learnt" :
							    "known" };
	*out = &fr;
	return 1;
}

/*
 * An address written while nothing was known of it (a fork's stack,
 * covered before its mappings were) is written again at the end if it is
 * known then, and the replay names it so, as the live report does; one
 * known from the start keeps its entry.
 */
Test(recording, symbols_learnt_by_the_end)
{
	static const __u64 frames[] = { 0x401000, 0x402000 };
	struct recording_end end = end_template;
	const struct frame *fr;
	struct ms_event ev = ev_rec(MS_EV_ALLOC, 1100);
	struct recording *r;
	struct recorder *w;
	struct procs *pt, *back;
	bool known = false;

	ev.pid = info_v.pid;
	ev.ptr = 0x1000;
	ev.size = 16;
	ev_stack(&ev, frames, 2);
	pt = procs__new();
	cr_assert_not_null(pt);
	w = recorder__new(path);
	cr_assert_not_null(w, "recorder__new: %s", strerror(errno));
	cr_assert_eq(recorder__start(w, &info_v), 0);
	cr_assert_eq(procs__apply(pt, &ev), 0);
	cr_assert_eq(recorder__add(w, &ev), 0);
	cr_assert_eq(recorder__symbols(w, 0, frames, 2, learning_resolve,
				       &known), 0);
	known = true;
	cr_assert_eq(recorder__finish(w, pt, learning_resolve, NULL, &known,
				      &end), 0);
	procs__free(pt);

	r = recording__new(fopen(path, "rb"));
	cr_assert_not_null(r);
	cr_assert_eq(recording__read_header(r), 0, "%s", recording__error(r));
	back = procs__new();
	cr_assert_not_null(back);
	cr_assert_eq(recording__replay(r, to_procs, back), 0, "%s",
		     recording__damage(r)->what);
	cr_assert_eq(recording__resolve(recording__image_ctx(r, 0), frames[0],
					&fr), 1);
	cr_expect_str_eq(fr->function ? fr->function : "(unknown)", "learnt",
			 "named by what the end knew");
	cr_assert_eq(recording__resolve(recording__image_ctx(r, 0), frames[1],
					&fr), 1);
	cr_expect_str_eq(fr->function, "known");
	procs__free(back);
	recording__free(r);
}

/* Where the header frame ends: the first byte of the first events frame. */
static size_t header_end(const unsigned char *buf)
{
	__u32 z_len;

	memcpy(&z_len, buf + PRELUDE_SIZE + FRAME_Z_LEN, sizeof(z_len));
	return PRELUDE_SIZE + FRAME_HDR_SIZE + z_len;
}

Test(recording, every_cut_gives_a_prefix)
{
	size_t len, cut, last = 0, hdr_end;
	struct recording *r;
	unsigned char *buf;
	int err;

	make_events();
	write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
	buf = read_file(path, &len);
	hdr_end = header_end(buf);
	for (cut = 0; cut <= len; cut++) {
		struct got g = {};
		char what[64];

		snprintf(what, sizeof(what), "cut at %zu of %zu", cut, len);
		r = open_buf(buf, cut);
		err = recording__read_header(r);
		if (cut < hdr_end) {
			cr_assert(err == -EBADMSG || err == -EINVAL,
				  "%s: header: expected -EBADMSG or -EINVAL, got %d",
				  what, err);
			cr_assert(recording__error(r)[0], "%s: no error text",
				  what);
			recording__free(r);
			continue;
		}
		cr_assert_eq(err, 0, "%s: header: %s", what,
			     recording__error(r));
		err = recording__replay(r, collect, &g);
		expect_prefix(&g, SMALL_EVENTS, what);
		cr_assert(g.n >= last, "%s: %zu records, fewer than a shorter cut gave (%zu)",
			  what, g.n, last);
		last = g.n;
		if (cut == len) {
			cr_assert_eq(err, 0, "%s: expected the whole file read",
				     what);
			cr_assert_eq(g.n, SMALL_EVENTS);
		} else {
			cr_assert_eq(err, -EBADMSG, "%s: expected -EBADMSG, got %d",
				     what, err);
			cr_assert_eq(recording__damage(r)->records, g.n,
				     "%s: damage.records", what);
			cr_assert_leq(recording__damage(r)->offset, cut,
				      "%s: damage past the end", what);
		}
		recording__free(r);
	}
	free(buf);
}

Test(recording, every_flipped_byte_is_detected)
{
	size_t len, at, hdr_end;
	struct recording *r;
	unsigned char *buf;
	int err;

	make_events();
	write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
	buf = read_file(path, &len);
	hdr_end = header_end(buf);
	for (at = hdr_end; at < len; at++) {
		struct got g = {};

		buf[at] ^= 0x10;
		r = open_buf(buf, len);
		cr_assert_eq(recording__read_header(r), 0);
		err = recording__replay(r, collect, &g);
		cr_assert_eq(err, -EBADMSG,
			     "byte %zu flipped: expected the damage found, got %d",
			     at, err);
		expect_prefix(&g, SMALL_EVENTS, "flipped");
		cr_assert_leq(recording__damage(r)->offset, at,
			      "byte %zu flipped: damage reported later, at %llu",
			      at,
			      (unsigned long long)recording__damage(r)->offset);
		recording__free(r);
		buf[at] ^= 0x10;
	}
	free(buf);
}

Test(recording, flip_in_second_frame_keeps_the_first)
{
	struct recording *r;
	struct got g = {};
	unsigned char *buf;
	size_t len, second;
	__u32 z_len;

	make_events();
	write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
	buf = read_file(path, &len);
	second = header_end(buf);
	memcpy(&z_len, buf + second + FRAME_Z_LEN, sizeof(z_len));
	second += FRAME_HDR_SIZE + z_len;
	buf[second + FRAME_HDR_SIZE + 2] ^= 0x01;
	r = open_buf(buf, len);
	cr_assert_eq(recording__read_header(r), 0);
	cr_assert_eq(recording__replay(r, collect, &g), -EBADMSG);
	cr_assert_eq(g.n, FLUSH_EVERY, "records: got %zu, want the first frame's %d",
		     g.n, FLUSH_EVERY);
	cr_assert_eq(recording__damage(r)->offset, second,
		     "damage: at %llu, want the second frame's start %zu",
		     (unsigned long long)recording__damage(r)->offset, second);
	cr_assert(strstr(recording__damage(r)->what, "checksum"),
		  "damage: expected a checksum mismatch, got '%s'",
		  recording__damage(r)->what);
	recording__free(r);
	free(buf);
}

Test(recording, without_trailer)
{
	struct recording *r;
	struct got g = {};
	unsigned char *buf;
	size_t len;

	make_events();
	write_recording(SMALL_EVENTS, FLUSH_EVERY, false);
	buf = read_file(path, &len);
	r = open_buf(buf, len);
	cr_assert_eq(recording__read_header(r), 0, "header: %s",
		     recording__error(r));
	cr_assert_eq(recording__replay(r, collect, &g), -EBADMSG);
	cr_assert_eq(g.n, SMALL_EVENTS, "records: got %zu, want all %d", g.n,
		     SMALL_EVENTS);
	expect_prefix(&g, SMALL_EVENTS, "no trailer");
	cr_assert_null(recording__end(r), "trailer: expected none");
	cr_assert_eq(recording__damage(r)->offset, len);
	cr_assert(strstr(recording__damage(r)->what, "no trailer"),
		  "damage: expected 'no trailer', got '%s'",
		  recording__damage(r)->what);
	recording__free(r);
	free(buf);
}

Test(recording, abandoned_leaves_nothing)
{
	char partial[PATH_MAX + 16];
	struct recorder *w;
	struct stat st;

	snprintf(partial, sizeof(partial), "%s" RECORDING_PARTIAL, path);
	w = recorder__new(path);
	cr_assert_not_null(w);
	cr_assert_eq(stat(partial, &st), 0, "%s: expected while recording",
		     partial);
	recorder__free(w);
	cr_assert(stat(partial, &st) && errno == ENOENT,
		  "%s: expected removed when abandoned", partial);
	cr_assert(stat(path, &st) && errno == ENOENT,
		  "%s: expected never created", path);
}

Test(recording, partial_of_another_run_is_kept)
{
	char partial[PATH_MAX + 16];
	FILE *f;

	snprintf(partial, sizeof(partial), "%s" RECORDING_PARTIAL, path);
	f = fopen(partial, "w");
	cr_assert_not_null(f);
	fputs("left by a killed run", f);
	fclose(f);
	cr_assert_null(recorder__new(path), "recorder__new: expected EEXIST");
	cr_assert_eq(errno, EEXIST, "errno: got %s", strerror(errno));
	f = fopen(partial, "r");
	cr_assert_not_null(f, "%s: expected it left alone", partial);
	fclose(f);
}

static int header_of(unsigned char *buf, size_t len, char *err, size_t size)
{
	struct recording *r = open_buf(buf, len);
	int ret = recording__read_header(r);

	snprintf(err, size, "%s", recording__error(r));
	recording__free(r);
	return ret;
}

Test(recording, not_a_recording)
{
	unsigned char text[] = "root:x:0:0:root:/root:/bin/bash\n";
	char err[256];

	cr_assert_eq(header_of(text, sizeof(text) - 1, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "not a memscope-bpf recording"),
		  "error: got '%s'", err);
	cr_assert_eq(header_of(text, 0, err, sizeof(err)), -EINVAL,
		     "empty file");
}

Test(recording, future_version_refused)
{
	unsigned char *buf;
	char err[256], want[32];
	size_t len;
	__u32 v = RECORDING_VERSION + 1;

	make_events();
	write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
	buf = read_file(path, &len);
	memcpy(buf + PRELUDE_VERSION, &v, sizeof(v));
	cr_assert_eq(header_of(buf, len, err, sizeof(err)), -EPROTONOSUPPORT);
	snprintf(want, sizeof(want), "format version %u", v);
	cr_assert(strstr(err, want) && strstr(err, "newer"),
		  "error: expected the version and what to do, got '%s'", err);
	free(buf);
}

/* The frame types of the format, as the file numbers them. */
#define FRAME_HEADER	1
#define FRAME_SYMBOLS	3
#define FRAME_TRAILER	4
#define FRAME_PROCS	5
#define FRAME_PROCINFO	6

/*
 * buf (len bytes, a file of this version, without snapshots) as version
 * v (3 or 4) wrote it: the same frames, but a header without --fold (its
 * last 4 bytes), symbols without their image, no process facts and a
 * trailer without the processes left out (its last 16 bytes); each frame
 * rebuilt with its own compression and
 * checksum. In place, *len the new length.
 */
static void as_version_frames(unsigned char *buf, size_t *len, __u32 v,
			      bool pre_procs);

static void as_version(unsigned char *buf, size_t *len, __u32 v)
{
	as_version_frames(buf, len, v, true);
}

/*
 * buf as a file of version v from 5 on wrote it: the header without
 * --fold, the rest as it is (v < RECORDING_VERSION_FOLD).
 */
static void header_as_version(unsigned char *buf, size_t *len, __u32 v)
{
	as_version_frames(buf, len, v, false);
}

static void as_version_frames(unsigned char *buf, size_t *len, __u32 v,
			      bool pre_procs)
{
	size_t in = PRELUDE_VERSION + 8, out = in;
	static unsigned char raw[8 << 20];

	memcpy(buf + PRELUDE_VERSION, &v, sizeof(v));
	while (in < *len) {
		__u32 hdr[4];
		uLongf raw_len = sizeof(raw), z_len;
		unsigned char *z;
		size_t skip = 0, cut = 0;

		memcpy(hdr, buf + in, sizeof(hdr));
		cr_assert_eq(uncompress(raw, &raw_len, buf + in + 16, hdr[2]),
			     Z_OK, "frame at %zu", in);
		in += 16 + hdr[2];
		if (pre_procs &&
		    (hdr[0] == FRAME_PROCS || hdr[0] == FRAME_PROCINFO))
			continue;
		if (pre_procs && hdr[0] == FRAME_SYMBOLS)
			skip = sizeof(__u32);
		if (pre_procs && hdr[0] == FRAME_TRAILER)
			cut = 2 * sizeof(__u64);
		if (hdr[0] == FRAME_HEADER)
			cut = sizeof(__u32);
		z_len = compressBound(raw_len - skip - cut);
		z = malloc(z_len);
		cr_assert_not_null(z);
		cr_assert_eq(compress(z, &z_len, raw + skip,
				      raw_len - skip - cut), Z_OK);
		hdr[1] = raw_len - skip - cut;
		hdr[2] = z_len;
		hdr[3] = crc32(crc32(0, (const Bytef *)hdr, 12), z, z_len);
		memcpy(buf + out, hdr, sizeof(hdr));
		memcpy(buf + out + 16, z, z_len);
		out += 16 + z_len;
		free(z);
	}
	*len = out;
}

/*
 * Versions 3 and 4 are one process, and symbols of no image: read as
 * they are, image 0, and each says which version it is.
 */
Test(recording, version_4_still_read)
{
	const struct recording_info *in;
	struct recording *r;
	struct procs *pt;
	const struct frame *fr;
	unsigned char *buf;
	size_t len, nr;
	int err;

	make_events();
	write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
	buf = read_file(path, &len);
	as_version(buf, &len, 4);
	r = open_buf(buf, len);
	err = recording__read_header(r);
	cr_assert_eq(err, 0, "read_header: %d (%s)", err, recording__error(r));
	in = recording__info(r);
	cr_assert_eq(in->version, 4, "version: got %u", in->version);
	cr_assert_eq(in->fold, 0, "an older run folded nothing: got %u",
		     in->fold);
	pt = procs__new();
	cr_assert_not_null(pt);
	err = recording__replay(r, to_procs, pt);
	cr_assert_eq(err, 0, "replay: %d (%s)", err,
		     recording__damage(r)->what);
	expect_eq(procs__nr_images(pt), 1, "images");
	recording__procs(r, &nr);
	expect_eq(nr, 0, "image facts in a version 4 file");
	expect_eq(recording__end(r)->procs_full, 0,
		  "processes left out in a version 4 file");
	cr_assert_eq(recording__resolve(recording__image_ctx(r, 0),
					events[1].frames[0], &fr), 3,
		     "a symbol of image 0");
	procs__free(pt);
	recording__free(r);
	free(buf);
}

Test(recording, version_3_still_read)
{
	const struct recording_info *in;
	struct recording *r;
	struct got g = {};
	unsigned char *buf;
	size_t len;
	int err;

	make_events();
	write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
	buf = read_file(path, &len);
	as_version(buf, &len, 3);
	r = open_buf(buf, len);
	err = recording__read_header(r);
	cr_assert_eq(err, 0, "read_header: %d (%s)", err, recording__error(r));
	in = recording__info(r);
	cr_assert_eq(in->version, 3, "version: got %u", in->version);
	err = recording__replay(r, collect, &g);
	cr_assert_eq(err, 0, "replay: %d", err);
	cr_assert_eq(g.n, SMALL_EVENTS, "records: got %zu", g.n);
	recording__free(r);
	free(buf);
}

Test(recording, older_version_refused)
{
	unsigned char *buf;
	char err[256];
	__u32 v = RECORDING_VERSION_MIN - 1;
	size_t len;

	make_events();
	write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
	buf = read_file(path, &len);
	memcpy(buf + PRELUDE_VERSION, &v, sizeof(v));
	cr_assert_eq(header_of(buf, len, err, sizeof(err)), -EPROTONOSUPPORT);
	cr_assert(strstr(err, "format version 2"), "error: got '%s'", err);
	free(buf);
}

Test(recording, other_byte_order_refused)
{
	unsigned char *buf;
	char err[256];
	size_t len;
	__u32 bom;

	make_events();
	write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
	buf = read_file(path, &len);
	memcpy(&bom, buf + PRELUDE_VERSION + 4, sizeof(bom));
	bom = __builtin_bswap32(bom);
	memcpy(buf + PRELUDE_VERSION + 4, &bom, sizeof(bom));
	cr_assert_eq(header_of(buf, len, err, sizeof(err)), -EPROTONOSUPPORT);
	cr_assert(strstr(err, "byte order"), "error: got '%s'", err);
	free(buf);
}

/* A full disk: the first error is every later call's, and finish's. */
Test(recording, write_errors_stick)
{
	struct recording_end end = end_template;
	struct recorder *w;
	struct procs *pt;

	make_events();
	w = recorder__new("/dev/full");
	cr_assert_not_null(w, "recorder__new(/dev/full): %s", strerror(errno));
	cr_assert_eq(recorder__start(w, &info), -ENOSPC);
	cr_assert_eq(recorder__add(w, &events[0]), -ENOSPC);
	cr_assert_eq(recorder__flush(w), -ENOSPC);
	pt = procs_of(1);
	cr_assert_eq(recorder__finish(w, pt, fake_resolve, NULL, NULL, &end),
		     -ENOSPC);
	procs__free(pt);
}

/*
 * How the target ended: in the word that once said only "exited", with
 * whether a -p target's status was seen.
 */
Test(recording, target_detached_or_killed)
{
	static const struct {
		bool exited, detached, killed, unknown;
	} cases[] = {
		{ false, false, false, false },	/* -p, still running */
		{ true, false, false, false },	/* exited on its own */
		{ false, true, false, false },	/* left running, detached */
		{ true, false, true, false },	/* ended by --kill */
		{ true, false, false, true },	/* -p, its end not seen */
	};
	const struct recording_end *got;
	struct recording_end end;
	struct recording *r;
	struct got g = {};
	unsigned char *buf;
	size_t len, i;

	make_events();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		end = end_template;
		end.exited = cases[i].exited;
		end.detached = cases[i].detached;
		end.killed = cases[i].killed;
		end.status_unknown = cases[i].unknown;
		end_of_run = &end;
		write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
		buf = read_file(path, &len);
		r = open_buf(buf, len);
		cr_assert_eq(recording__read_header(r), 0);
		cr_assert_eq(recording__replay(r, collect, &g), 0,
			     "case %zu: %s", i, recording__error(r));
		got = recording__end(r);
		cr_assert_not_null(got, "case %zu: no trailer", i);
		cr_expect(got->exited == cases[i].exited &&
			  got->detached == cases[i].detached &&
			  got->killed == cases[i].killed &&
			  got->status_unknown == cases[i].unknown,
			  "case %zu: exited/detached/killed/unknown %d/%d/%d/%d, want %d/%d/%d/%d",
			  i, got->exited, got->detached, got->killed,
			  got->status_unknown, cases[i].exited,
			  cases[i].detached, cases[i].killed, cases[i].unknown);
		recording__free(r);
		free(buf);
		g.n = 0;
		unlink(path);
	}
}

/* What a replay's snapshot callback saw, and the records before each. */
struct snaps {
	struct got *g;
	struct recording_snapshot s[NR_EVENTS];
	size_t at[NR_EVENTS];	/* records delivered when it came */
	size_t n;
};

static int collect_snapshot(void *ctx, const struct recording_snapshot *s)
{
	struct snaps *sn = ctx;

	cr_assert_lt(sn->n, NR_EVENTS, "more snapshots than records");
	sn->at[sn->n] = sn->g->n;
	sn->s[sn->n++] = *s;
	return 0;
}

/* Snapshots come back in place: after exactly the records they follow. */
Test(recording, snapshots_round_trip)
{
	struct recording_snapshot want;
	struct got g = {};
	struct snaps sn = { .g = &g };
	struct recording *r;
	unsigned char *buf;
	size_t len, i;
	int err;

	make_events();
	snap_every = 3;
	write_recording(NR_EVENTS, 7, true);
	buf = read_file(path, &len);
	r = open_buf(buf, len);
	cr_assert_eq(recording__read_header(r), 0, "header: %s",
		     recording__error(r));
	cr_assert_eq(recording__info(r)->version, RECORDING_VERSION);
	recording__on_snapshot(r, collect_snapshot, &sn);
	err = recording__replay(r, collect, &g);
	cr_assert_eq(err, 0, "replay: %d (%s)", err,
		     err == -EBADMSG ? recording__damage(r)->what : "");
	cr_assert_eq(g.n, NR_EVENTS);
	cr_assert_eq(sn.n, NR_EVENTS / 3, "snapshots: got %zu, want %d", sn.n,
		     NR_EVENTS / 3);
	for (i = 0; i < sn.n; i++) {
		want = snapshot_after(3 * i + 2);
		cr_expect(!memcmp(&sn.s[i], &want, sizeof(want)),
			  "snapshot %zu: at %llu after %llu records, want %llu after %llu",
			  i, (unsigned long long)sn.s[i].ts_ns,
			  (unsigned long long)sn.s[i].records,
			  (unsigned long long)want.ts_ns,
			  (unsigned long long)want.records);
		cr_expect_eq(sn.at[i], 3 * i + 3,
			     "snapshot %zu delivered after %zu records", i,
			     sn.at[i]);
	}
	recording__free(r);
	free(buf);
}

/*
 * Version 5 had no snapshot frames: one in a file that says version 5 is
 * damage, and everything before it is still delivered.
 */
Test(recording, snapshot_in_older_version_is_damage)
{
	struct recording *r;
	struct got g = {};
	unsigned char *buf;
	__u32 v = RECORDING_VERSION_SNAPSHOTS - 1;
	size_t len;

	make_events();
	snap_every = 5;
	write_recording(SMALL_EVENTS, 5, true);
	buf = read_file(path, &len);
	header_as_version(buf, &len, v);
	r = open_buf(buf, len);
	cr_assert_eq(recording__read_header(r), 0, "header: %s",
		     recording__error(r));
	cr_assert_eq(recording__replay(r, collect, &g), -EBADMSG);
	cr_assert_eq(g.n, 5, "records before the damage: got %zu", g.n);
	expect_prefix(&g, SMALL_EVENTS, "snapshot in version 5");
	cr_assert(strstr(recording__damage(r)->what, "version 5"),
		  "damage: got '%s'", recording__damage(r)->what);
	recording__free(r);
	free(buf);
}

/* A cut or flipped file with snapshots still gives a prefix of records. */
Test(recording, snapshots_survive_every_cut)
{
	struct recording *r;
	unsigned char *buf;
	size_t len, cut;
	int err;

	make_events();
	snap_every = 2;
	write_recording(SMALL_EVENTS, FLUSH_EVERY, true);
	buf = read_file(path, &len);
	for (cut = 0; cut < len; cut++) {
		struct got g = {};
		struct snaps sn = { .g = &g };

		r = open_buf(buf, cut);
		if (recording__read_header(r)) {
			recording__free(r);
			continue;
		}
		recording__on_snapshot(r, collect_snapshot, &sn);
		err = recording__replay(r, collect, &g);
		cr_assert_eq(err, -EBADMSG, "cut at %zu: %d", cut, err);
		expect_prefix(&g, SMALL_EVENTS, "cut");
		cr_assert_leq(sn.n, g.n / 2, "cut at %zu: %zu snapshots after %zu records",
			      cut, sn.n, g.n);
		recording__free(r);
	}
	free(buf);
}

/*
 * report -i on a recording made without -i: snapshots at moments every
 * MOMENT_NS, each of the records up to it (growth_clock). A live -i run
 * over the same records, snapshotting at the same moments, records each
 * snapshot after those records; replayed, the two give the same JSON
 * lines, byte for byte.
 */
#define MOMENT_NS	5000
#define MOMENTS_END	(info.start_ns + 45000)

struct moments {
	struct procs *pt;
	struct growth_table t;
	struct growth_clock clock;
	FILE *out;
};

/* A snapshot of every image now, as JSON lines into m->out. */
static void moment_take(struct moments *m, __u64 ts_ns)
{
	struct growth_mark mark = { .ts_ns = ts_ns };
	struct growth_view *v;
	size_t nr, i;
	int err;

	err = growth_table__take(&m->t, m->pt, &mark);
	cr_assert_eq(err, 0, "growth_table__take: %s", strerror(-err));
	err = growth_table__views(&m->t, m->pt, 0, &v, &nr);
	cr_assert_eq(err, 0, "growth_table__views: %s", strerror(-err));
	for (i = 0; i < nr; i++) {
		err = report_snapshot_json(m->out, &v[i], info.start_ns,
					   fake_resolve, NULL);
		cr_assert_eq(err, 0, "report_snapshot_json: %s",
			     strerror(-err));
		growth_view__fini(&v[i]);
	}
	free(v);
}

static int moment_recorded(void *ctx, const struct recording_snapshot *s)
{
	moment_take(ctx, s->ts_ns);
	return 0;
}

static int moment_event(void *ctx, const struct ms_event *e)
{
	struct moments *m = ctx;
	__u64 at;

	while (growth_clock__due(&m->clock, e->ts_ns, &at))
		moment_take(m, at);
	procs__apply(m->pt, e);
	return 0;
}

/* The JSON lines of a replay of path: recorded snapshots, or -i's. */
static char *moments_of(bool computed, size_t *nr_lines)
{
	struct moments m = { .pt = procs__new() };
	struct recording *r;
	unsigned char *buf;
	char *text = NULL;
	size_t len, size = 0, i;
	__u64 at;
	int err;

	cr_assert_not_null(m.pt);
	m.out = open_memstream(&text, &size);
	cr_assert_not_null(m.out);
	buf = read_file(path, &len);
	r = open_buf(buf, len);
	cr_assert_eq(recording__read_header(r), 0, "header: %s",
		     recording__error(r));
	if (computed)
		growth_clock__init(&m.clock, info.start_ns, MOMENT_NS);
	else
		recording__on_snapshot(r, moment_recorded, &m);
	err = recording__replay(r, moment_event, &m);
	cr_assert_eq(err, 0, "replay: %d", err);
	cr_assert_not_null(recording__end(r));
	while (growth_clock__due(&m.clock, recording__end(r)->end_ns, &at))
		moment_take(&m, at);
	fclose(m.out);
	for (i = 0, *nr_lines = 0; i < size; i++)
		*nr_lines += text[i] == '\n';
	growth_table__fini(&m.t);
	procs__free(m.pt);
	recording__free(r);
	free(buf);
	return text;
}

Test(recording, snapshots_from_records_match_a_live_runs)
{
	struct recording_end end = end_template;
	struct recorder *w = recorder__new(path);
	struct procs *pt;
	struct recording_snapshot sn = {};
	__u64 moment = info.start_ns + MOMENT_NS, next;
	size_t i, nr_live, nr_computed;
	char *live, *computed;
	int err;

	make_events();
	pt = procs_of(NR_EVENTS);
	end.end_ns = MOMENTS_END;
	cr_assert_not_null(w);
	cr_assert_eq(recorder__start(w, &info), 0);
	for (i = 0; i < NR_EVENTS; i++) {
		cr_assert_eq(recorder__add(w, &events[i]), 0);
		/* the moments this record is the last one up to */
		next = i + 1 < NR_EVENTS ? events[i + 1].ts_ns : end.end_ns;
		for (; moment >= events[i].ts_ns && moment < next;
		     moment += MOMENT_NS) {
			sn.ts_ns = moment;
			sn.records = i + 1;
			cr_assert_eq(recorder__snapshot(w, &sn), 0);
		}
	}
	err = recorder__finish(w, pt, fake_resolve, NULL, NULL, &end);
	cr_assert_eq(err, 0, "recorder__finish: %s", strerror(-err));
	procs__free(pt);

	live = moments_of(false, &nr_live);
	computed = moments_of(true, &nr_computed);
	cr_assert_eq(nr_live, 8, "recorded snapshots: %zu lines, want 8",
		     nr_live);
	cr_expect_eq(nr_computed, nr_live, "%zu lines from -i, %zu recorded",
		     nr_computed, nr_live);
	cr_expect_str_eq(computed, live);
	free(live);
	free(computed);
}

/* A heap scan of image 0 with every list filled, nr verdicts long. */
static const struct heapscan_member scan_members[] = {
	{ .site = 1, .count = 2, .bytes = 96 },
	{ .site = 3, .count = 1, .bytes = 48 },
	{ .site = 2, .count = 4, .bytes = 256 },
};
static const struct heapscan_cycle scan_cycles[] = {
	{ .instances = 2, .blocks = 6, .bytes = 144,
	  .members = scan_members, .nr_members = 2 },
	{ .instances = 1, .blocks = 4, .bytes = 256,
	  .members = scan_members + 2, .nr_members = 1 },
};
static const struct heapscan_link scan_links[] = {
	{ .from = 1, .to = 3, .kind = HEAPSCAN_OWNER, .count = 9 },
	{ .from = 2, .to = 2, .kind = HEAPSCAN_SHARED, .count = 4 },
	{ .from = 0, .to = 1, .kind = HEAPSCAN_CONTAINER, .count = 1 },
};
static const struct heapscan_clone scan_clones[] = {
	{ .site = 2, .size = 64, .count = 3 },
};

static struct recording_scan scan_of(struct heapscan_verdict *v, size_t nr)
{
	struct recording_scan sc = {
		.image = 0,
		.pause = { .pause_ns = 123456, .threads = 3, .missed = 1,
			   .stack_bytes = 8192 },
		.res = {
			.verdicts = v, .nr_verdicts = nr,
			.cycles = scan_cycles, .nr_cycles = 2,
			.links = scan_links, .nr_links = 3,
			.clones = scan_clones, .nr_clones = 1,
		},
	};
	size_t i, k;

	for (i = 0; i < nr; i++)
		v[i] = (struct heapscan_verdict){
			.addr = 0x10000 + 16 * i, .cls = i % 4 };
	for (k = 0; k < HEAPSCAN_CLASS__COUNT; k++) {
		sc.res.stats.count[k] = k + 1;
		sc.res.stats.class_bytes[k] = 100 * (k + 1);
	}
	sc.res.stats.blocks = nr;
	sc.res.stats.scan_ns = 7777;
	sc.res.stats.clones = 3;
	return sc;
}

/* A recording of events[0..n) with sc taken after record at. */
static void write_scan_recording(size_t n, size_t at,
				 const struct recording_scan *sc)
{
	struct recorder *w = recorder__new(path);
	struct procs *pt = procs_of(n);
	size_t i;
	int err;

	cr_assert_not_null(w, "recorder__new(%s): %s", path, strerror(errno));
	cr_assert_eq(recorder__start(w, &info), 0);
	for (i = 0; i < n; i++) {
		cr_assert_eq(recorder__add(w, &events[i]), 0);
		if (i + 1 == at) {
			err = recorder__scan(w, sc);
			cr_assert_eq(err, 0, "recorder__scan: %s",
				     strerror(-err));
		}
	}
	err = recorder__finish(w, pt, fake_resolve, NULL, NULL, &end_template);
	cr_assert_eq(err, 0, "recorder__finish: %s", strerror(-err));
	procs__free(pt);
}

/* What a replay's scan callback saw, copied out of the reader's arrays. */
struct scans {
	struct got *g;
	size_t n;
	size_t at;		/* records delivered when the last came */
	struct recording_scan s;
	struct heapscan_verdict *verdicts;
	bool same;		/* the last is the one written */
	const struct recording_scan *want;
};

static bool same_scan(const struct recording_scan *a,
		      const struct recording_scan *b)
{
	const struct heapscan_result *x = &a->res, *y = &b->res;
	size_t i;

	if (a->image != b->image ||
	    memcmp(&a->pause, &b->pause, sizeof(a->pause)) ||
	    memcmp(&x->stats, &y->stats, sizeof(x->stats)) ||
	    x->nr_verdicts != y->nr_verdicts || x->nr_cycles != y->nr_cycles ||
	    x->nr_links != y->nr_links || x->nr_clones != y->nr_clones)
		return false;
	for (i = 0; i < x->nr_verdicts; i++) {
		if (x->verdicts[i].addr != y->verdicts[i].addr ||
		    x->verdicts[i].cls != y->verdicts[i].cls)
			return false;
	}
	for (i = 0; i < x->nr_cycles; i++) {
		const struct heapscan_cycle *c = &x->cycles[i], *d = &y->cycles[i];

		if (c->instances != d->instances || c->blocks != d->blocks ||
		    c->bytes != d->bytes || c->nr_members != d->nr_members ||
		    memcmp(c->members, d->members,
			   c->nr_members * sizeof(*c->members)))
			return false;
	}
	for (i = 0; i < x->nr_links; i++) {
		if (x->links[i].from != y->links[i].from ||
		    x->links[i].to != y->links[i].to ||
		    x->links[i].kind != y->links[i].kind ||
		    x->links[i].count != y->links[i].count)
			return false;
	}
	for (i = 0; i < x->nr_clones; i++) {
		if (x->clones[i].site != y->clones[i].site ||
		    x->clones[i].size != y->clones[i].size ||
		    x->clones[i].count != y->clones[i].count)
			return false;
	}
	return true;
}

static int collect_scan(void *ctx, const struct recording_scan *s)
{
	struct scans *sc = ctx;

	sc->n++;
	sc->at = sc->g->n;
	sc->same = sc->want && same_scan(s, sc->want);
	return 0;
}

/* Replays path whole: every record, and the scans to sc. */
static void replay_scans(struct scans *sc)
{
	struct recording *r;
	unsigned char *buf;
	size_t len;
	int err;

	buf = read_file(path, &len);
	r = open_buf(buf, len);
	cr_assert_eq(recording__read_header(r), 0, "header: %s",
		     recording__error(r));
	cr_assert_eq(recording__info(r)->version, RECORDING_VERSION);
	recording__on_scan(r, collect_scan, sc);
	err = recording__replay(r, collect, sc->g);
	cr_assert_eq(err, 0, "replay: %d (%s)", err,
		     err == -EBADMSG ? recording__damage(r)->what : "");
	recording__free(r);
	free(buf);
}

/* A scan comes back whole, in its place among the records. */
Test(recording, scan_round_trip)
{
	struct heapscan_verdict v[9];
	struct recording_scan want = scan_of(v, 9);
	struct got g = {};
	struct scans sc = { .g = &g, .want = &want };

	make_events();
	write_scan_recording(NR_EVENTS, 11, &want);
	replay_scans(&sc);
	cr_assert_eq(g.n, NR_EVENTS);
	cr_assert_eq(sc.n, 1, "scans: got %zu, want 1", sc.n);
	cr_assert_eq(sc.at, 11, "the scan came after %zu records, want 11",
		     sc.at);
	cr_assert(sc.same, "the scan read back differs from the one written");
}

/* One list longer than a frame holds is split, and read back whole. */
Test(recording, scan_over_many_frames)
{
	size_t nr = 2 * REC_FRAME_RAW_MAX / 12 + 5;
	struct heapscan_verdict *v = calloc(nr, sizeof(*v));
	struct recording_scan want;
	struct got g = {};
	struct scans sc = { .g = &g, .want = &want };

	cr_assert_not_null(v);
	want = scan_of(v, nr);
	make_events();
	write_scan_recording(SMALL_EVENTS, SMALL_EVENTS, &want);
	replay_scans(&sc);
	cr_assert_eq(sc.n, 1, "scans: got %zu, want 1", sc.n);
	cr_assert(sc.same, "a scan of %zu verdicts read back differs", nr);
	free(v);
}

/*
 * Version 6 had no heap scans: one in a file that says version 6 is
 * damage, and everything before it is still delivered.
 */
Test(recording, scan_in_older_version_is_damage)
{
	struct heapscan_verdict v[4];
	struct recording_scan want = scan_of(v, 4);
	__u32 ver = RECORDING_VERSION_SCANS - 1;
	struct recording *r;
	struct got g = {};
	struct scans sc = { .g = &g };
	unsigned char *buf;
	size_t len;

	make_events();
	write_scan_recording(SMALL_EVENTS, 5, &want);
	buf = read_file(path, &len);
	header_as_version(buf, &len, ver);
	r = open_buf(buf, len);
	cr_assert_eq(recording__read_header(r), 0, "header: %s",
		     recording__error(r));
	recording__on_scan(r, collect_scan, &sc);
	cr_assert_eq(recording__replay(r, collect, &g), -EBADMSG);
	cr_assert_eq(g.n, 5, "records before the damage: got %zu", g.n);
	cr_assert_eq(sc.n, 0, "a scan was delivered from a version 6 file");
	cr_assert(strstr(recording__damage(r)->what, "version 6"),
		  "damage: got '%s'", recording__damage(r)->what);
	recording__free(r);
	free(buf);
}

/*
 * A cycle group of no cycle is damage, not a division by zero in the
 * text report (the fuzzer's find).
 */
Test(recording, scan_cycle_of_no_instance_is_damage)
{
	struct heapscan_verdict v[4];
	struct recording_scan want = scan_of(v, 4);
	struct heapscan_cycle cycles[2] = { scan_cycles[0], scan_cycles[1] };
	struct recording *r;
	struct got g = {};
	struct scans sc = { .g = &g };
	unsigned char *buf;
	size_t len;

	cycles[1].instances = 0;
	want.res.cycles = cycles;
	make_events();
	write_scan_recording(SMALL_EVENTS, 5, &want);
	buf = read_file(path, &len);
	r = open_buf(buf, len);
	cr_assert_eq(recording__read_header(r), 0, "header: %s",
		     recording__error(r));
	recording__on_scan(r, collect_scan, &sc);
	cr_assert_eq(recording__replay(r, collect, &g), -EBADMSG);
	cr_assert_eq(sc.n, 0, "a scan with a cycle of no instance delivered");
	cr_assert(strstr(recording__damage(r)->what, "heap scan"),
		  "damage: got '%s'", recording__damage(r)->what);
	recording__free(r);
	free(buf);
}

/*
 * Cut anywhere or with a byte flipped, a file with a scan gives a prefix
 * of the records and the scan whole or not at all.
 */
Test(recording, scan_survives_every_cut_and_flip)
{
	struct heapscan_verdict v[6];
	struct recording_scan want = scan_of(v, 6);
	struct recording *r;
	unsigned char *buf;
	size_t len, at, flip;
	int err;

	make_events();
	write_scan_recording(SMALL_EVENTS, 6, &want);
	buf = read_file(path, &len);
	for (at = 0; at < 2 * len; at++) {
		struct got g = {};
		struct scans sc = { .g = &g, .want = &want };

		flip = at >= len;
		if (flip)
			buf[at - len] ^= 0x40;
		r = open_buf(buf, flip ? len : at);
		if (!recording__read_header(r)) {
			recording__on_scan(r, collect_scan, &sc);
			err = recording__replay(r, collect, &g);
			cr_assert_eq(err, -EBADMSG, "%s at %zu: %d", flip ? "flip" : "cut",
				  at % len, err);
			expect_prefix(&g, SMALL_EVENTS, "cut or flip");
			cr_assert(!sc.n || (sc.same && sc.at == 6),
				  "%s at %zu: a scan delivered that differs",
				  flip ? "flip" : "cut", at % len);
		}
		recording__free(r);
		if (flip)
			buf[at - len] ^= 0x40;
	}
	free(buf);
}
