/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Writes a dashboard (and its JSON report) from a store fed with synthetic
 * records, for tests/html/run.py:
 *
 *   gen-report known|hostile|big|procs|folds|stops OUT   writes OUT.html and OUT.json
 *
 * known: a small trace whose every number run.py checks (stacks S1..S4,
 * times in ms after the start; functions file:line as the resolver says):
 *
 *   S1 make_buffer buf.c:12 < load_config config.c:40 < main main.c:10
 *   S2 new_node list.c:7 < load_config config.c:44 < main main.c:10
 *   S3 scratch work.c:99 < 0x7f00000010a0 in libfoo.so < main main.c:20
 *   S4 no stack (the kernel could not read it)
 *
 *   100 alloc S1 1000   500 alloc S3 4096    1000 alloc S4 128
 *   200 alloc S1 1000   600 free it          1100..1140 free 5 of S2's
 *   300..390 alloc S2   700 alloc S3 8192      (every 10 ms)
 *     64 x10 (10 ms)      (peak: 10832)
 *                       800 free it
 *                       900 free S1's first
 *
 * Totals: 15 allocs 15056 bytes, 8 frees 13608 bytes, 7 live 1448 bytes,
 * peak 10832 bytes at 700 ms; kernel counters report 3 lost events and 1
 * stack error, so the page must show its banner.
 *
 * hostile: names, files, objects and the command line are markup and
 * script that would mark the page (body data-pwned) if they ever ran.
 *
 * procs: three processes, their own known frames (S1..S3 above):
 *
 *   pid 100 server (attached to): 100 alloc S1 1000, 200 alloc S2 64
 *   pid 101 forked by 100 at 300: 400 alloc S3 500, exec "worker" at 500
 *                                (joined late: probed 12 ms after it)
 *     (500 bytes live at exec), 600 alloc S1 3000, exits 1 at 700
 *   pid 102 cron forked by 100 at 800: 900 alloc S2 64, 950 frees it,
 *                                960 glibc frees its thread cache
 *   100 frees a block from before the attach at 970
 *
 * Four images, by live bytes: 101 worker 3000, 100 server 1064,
 * 101 server 500 (at its exec), 102 cron 0.
 *
 * big: one million records over 10 s from 5000 call stacks six to twelve
 * frames deep: allocations, and frees of a random live block that become
 * the majority after 6 s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "procs.h"
#include "rules.h"
#include "store.h"

#define START_NS	1000000000ull
#define MS		1000000ull
#define LIB_ADDR	0x7f00000010a0ull
#define BIG_EVENTS	1000000u
#define BIG_STACKS	5000u
#define BIG_SPAN_NS	(10000 * MS)

struct known_frame {
	__u64 addr;
	const char *function;
	const char *file;
	int line;
	const char *object;
};

static const struct known_frame known_frames[] = {
	{ 0x401100, "make_buffer", "buf.c", 12, "/usr/bin/server" },
	{ 0x401200, "load_config", "config.c", 40, "/usr/bin/server" },
	{ 0x401210, "load_config", "config.c", 44, "/usr/bin/server" },
	{ 0x401300, "new_node", "list.c", 7, "/usr/bin/server" },
	{ 0x401400, "scratch", "work.c", 99, "/usr/bin/server" },
	{ 0x401500, "main", "main.c", 10, "/usr/bin/server" },
	{ 0x401510, "main", "main.c", 20, "/usr/bin/server" },
	{ LIB_ADDR, NULL, NULL, 0, "/usr/lib/libfoo.so" },
};

#define H_SCRIPT	"<script>document.body.dataset.pwned='script'</script>"
#define H_IMG		"<img src=x onerror=\"document.body.dataset.pwned='img'\">"
#define H_ALERT		"<script>alert(1)</script>"
#define H_ALERT_IMG	"<img src=x onerror=alert(1)>"
#define H_QUOTES	"\"'quotes' & \"amp\" &amp; &lt;b&gt;"
#define H_CLOSE		"</script><script>document.body.dataset.pwned='json'</script>"
#define H_SVG		"<svg onload=\"document.body.dataset.pwned='svg'\">"

static const struct known_frame hostile_frames[] = {
	{ 0x501000, H_SCRIPT, H_IMG, 1, H_CLOSE },
	{ 0x502000, H_ALERT, H_ALERT_IMG, 2, "/lib/" H_ALERT },
	{ 0x503000, H_QUOTES, H_SVG, 3, "/lib/x.so" },
	{ 0x504000, NULL, NULL, 0, "/lib/" H_IMG },
};

static const struct known_frame *frames_of(const char *kind, size_t *n)
{
	if (!strcmp(kind, "hostile")) {
		*n = sizeof(hostile_frames) / sizeof(*hostile_frames);
		return hostile_frames;
	}
	*n = sizeof(known_frames) / sizeof(*known_frames);
	return known_frames;
}

static void table_resolve_one(void *ctx, __u64 addr, struct frame *out)
{
	size_t i, n;
	const struct known_frame *t = frames_of(ctx, &n);

	for (i = 0; i < n; i++) {
		if (t[i].addr != addr)
			continue;
		out->function = t[i].function;
		out->file = t[i].file;
		out->line = t[i].line;
		out->object = t[i].object;
		return;
	}
}

/* The frame_resolve_fn: one frame per address, filled by table_resolve_one. */
static unsigned table_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;

	fr = (struct frame){ .addr = addr };
	table_resolve_one(ctx, addr, &fr);
	*out = &fr;
	return 1;
}

/*
 * big: address = level << 24 | index. Level 0 is the leaf (one per stack),
 * then handler (/10), module (/100), subsystem (/1000), main; level 6 is a
 * recursive helper that some stacks repeat.
 */
static void big_resolve_one(void *ctx, __u64 addr, struct frame *out)
{
	static const char *const level[] = {
		"leaf", "handler", "module", "subsystem", "main", "start",
		"recurse",
	};
	char *buf = ctx;
	unsigned int lv = addr >> 24, idx = addr & 0xffffff;

	if (lv >= sizeof(level) / sizeof(*level))
		return;
	if (lv == 4 || lv == 5)
		snprintf(buf, 64, "%s", level[lv]);
	else
		snprintf(buf, 64, "%s_%u", level[lv], idx);
	out->function = buf;
	out->file = "big.c";
	out->line = (int)(lv * 100 + idx % 100);
	out->object = lv == 5 ? "/lib/libc.so.6" : "/usr/bin/big";
}

/* The frame_resolve_fn: one frame per address, filled by big_resolve_one. */
static unsigned big_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;

	fr = (struct frame){ .addr = addr };
	big_resolve_one(ctx, addr, &fr);
	*out = &fr;
	return 1;
}

static int apply(struct store *s, __u16 type, __u64 ts, __u64 ptr,
		 __u64 size, const __u64 *frames, __u16 nr, __u16 flags)
{
	struct ms_event e = {
		.type = type, .fn = MS_FN_MALLOC, .pid = 4242, .tid = 4242,
		.ts_ns = ts, .ptr = ptr, .size = size, .nr_frames = nr,
		.flags = flags,
	};
	int err;

	if (nr)
		memcpy(e.frames, frames, nr * sizeof(*frames));
	err = store__apply(s, &e);
	if (err)
		fprintf(stderr, "gen-report: store__apply at %llu ns: %s\n",
			(unsigned long long)ts, strerror(-err));
	return err;
}

#define AT(ms)		(START_NS + (ms) * MS)
#define ALLOC(s, ms, p, n, st) \
	apply(s, MS_EV_ALLOC, AT(ms), p, n, st, sizeof(st) / sizeof(*st), 0)
#define FREE(s, ms, p)	apply(s, MS_EV_FREE, AT(ms), p, 0, NULL, 0, 0)

/* The trace of the comment at the top. */
static int feed_known(struct store *s)
{
	static const __u64 s1[] = { 0x401100, 0x401200, 0x401500 };
	static const __u64 s2[] = { 0x401300, 0x401210, 0x401500 };
	static const __u64 s3[] = { 0x401400, LIB_ADDR, 0x401510 };
	int i, err = 0;

	err |= ALLOC(s, 100, 0x1001, 1000, s1);
	err |= ALLOC(s, 200, 0x1002, 1000, s1);
	for (i = 0; i < 10; i++)
		err |= ALLOC(s, 300 + 10 * i, 0x2000 + i, 64, s2);
	err |= ALLOC(s, 500, 0x3001, 4096, s3);
	err |= FREE(s, 600, 0x3001);
	err |= ALLOC(s, 700, 0x3002, 8192, s3);
	err |= FREE(s, 800, 0x3002);
	err |= FREE(s, 900, 0x1001);
	err |= apply(s, MS_EV_ALLOC, AT(1000), 0x4001, 128, NULL, 0,
		     MS_EVF_STACK_ERR);
	for (i = 0; i < 5; i++)
		err |= FREE(s, 1100 + 10 * i, 0x2000 + i);
	return err ? -EINVAL : 0;
}

/*
 * stops: a whole stack, S1 live 100 bytes, and one whose walk stopped
 * early, scratch work.c:99 < 0x7f00000010a0 in libfoo.so where the stack
 * could not be read, live 300 bytes.
 */
static int feed_stops(struct store *s)
{
	static const __u64 s1[] = { 0x401100, 0x401200, 0x401500 };
	static const __u64 cut[] = { 0x401400, LIB_ADDR };
	int err = 0;

	err |= ALLOC(s, 100, 0x1001, 100, s1);
	err |= apply(s, MS_EV_ALLOC, AT(200), 0x2001, 300, cut, 2,
		     MS_STOP_READ << MS_EVF_STOP_SHIFT);
	return err ? -EINVAL : 0;
}

/* Each hostile frame innermost once, over a frame that names the object. */
static int feed_hostile(struct store *s)
{
	static const __u64 a[] = { 0x501000, 0x504000 };
	static const __u64 b[] = { 0x502000, 0x504000 };
	static const __u64 c[] = { 0x503000, 0x504000 };
	int err = 0;

	err |= ALLOC(s, 10, 0x1001, 100, a);
	err |= ALLOC(s, 20, 0x1002, 200, b);
	err |= ALLOC(s, 30, 0x1003, 300, c);
	err |= FREE(s, 40, 0x1002);
	return err ? -EINVAL : 0;
}

/* A fixed pseudo-random sequence: the same report on every run. */
static __u32 rnd(__u64 *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return *state >> 33;
}

/* Stack i, innermost first; returns its depth. */
static __u16 big_stack(__u32 i, __u64 *frames)
{
	__u16 n = 0;
	__u32 r;

	frames[n++] = 0ull << 24 | i;
	/* a third of the stacks recurse through a helper a few times */
	for (r = 0; i % 3 == 0 && r < 1 + i % 6; r++)
		frames[n++] = 6ull << 24 | (i / 10 % 7);
	frames[n++] = 1ull << 24 | i / 10;
	frames[n++] = 2ull << 24 | i / 100;
	frames[n++] = 3ull << 24 | i / 1000;
	frames[n++] = 4ull << 24;
	frames[n++] = 5ull << 24;
	return n;
}

static int feed_big(struct store *s)
{
	__u64 *live, frames[MS_MAX_STACK], state = 42, next_ptr = 0x10000;
	size_t nr_live = 0;
	__u32 i, k, st;
	int err = 0;

	live = calloc(BIG_EVENTS, sizeof(*live));
	if (!live)
		return -ENOMEM;
	for (i = 0; i < BIG_EVENTS && !err; i++) {
		__u64 ts = START_NS + (__u64)i * (BIG_SPAN_NS / BIG_EVENTS);

		/* frees outpace allocations after 60%: the peak is inside */
		if (nr_live && rnd(&state) % 100 < (i < BIG_EVENTS / 10 * 6 ?
						     35 : 62)) {
			k = rnd(&state) % nr_live;
			err = apply(s, MS_EV_FREE, ts, live[k], 0, NULL, 0, 0);
			live[k] = live[--nr_live];
			continue;
		}
		/* half uniform, half skewed to the low-numbered stacks */
		st = rnd(&state) % BIG_STACKS;
		if (rnd(&state) & 1)
			st = (__u32)((__u64)st * st / BIG_STACKS);
		live[nr_live++] = next_ptr;
		err = apply(s, MS_EV_ALLOC, ts, next_ptr, 16 + st % 64 * 64,
			    frames, big_stack(st, frames), 0);
		next_ptr += 0x1000;
	}
	free(live);
	return err;
}

static int write_both(const struct report *r, const char *base)
{
	char path[4096];
	int err;

	snprintf(path, sizeof(path), "%s.json", base);
	err = report__write_json(r, path);
	if (!err) {
		snprintf(path, sizeof(path), "%s.html", base);
		err = report__write_html(r, path);
	}
	if (err)
		fprintf(stderr, "gen-report: cannot write %s: %s\n", path,
			strerror(-err));
	return err;
}

static int apply_to(struct procs *pt, struct ms_event e)
{
	int err = procs__apply(pt, &e);

	if (err)
		fprintf(stderr, "gen-report: procs__apply at %llu ns: %s\n",
			(unsigned long long)e.ts_ns, strerror(-err));
	return err;
}

static struct ms_event proc_rec(__u16 type, __u32 pid, __u64 aux,
				const char *name, const char *file, __u64 ts)
{
	struct ms_event e = { .type = type, .pid = pid, .tid = pid,
			      .ts_ns = ts, .aux = aux };

	if (name)
		snprintf(e.name, sizeof(e.name), "%s", name);
	if (file)
		snprintf(e.type_name, sizeof(e.type_name), "%s", file);
	return e;
}

static struct ms_event heap_rec(__u16 type, __u32 pid, __u64 ts, __u64 ptr,
				__u64 size, const __u64 *frames, __u16 nr)
{
	struct ms_event e = { .type = type, .pid = pid, .tid = pid,
			      .ts_ns = ts, .ptr = ptr, .size = size,
			      .nr_frames = nr };

	e.fn = type == MS_EV_FREE ? MS_FN_FREE : MS_FN_MALLOC;
	if (nr)
		memcpy(e.frames, frames, nr * sizeof(*frames));
	return e;
}

#define PALLOC(pid, ms, p, n, st) heap_rec(MS_EV_ALLOC, pid, AT(ms), p, n, \
					   st, sizeof(st) / sizeof(*st))

/* The processes of the comment at the top. */
static int feed_procs(struct procs *pt)
{
	static const __u64 s1[] = { 0x401100, 0x401200, 0x401500 };
	static const __u64 s2[] = { 0x401300, 0x401210, 0x401500 };
	static const __u64 s3[] = { 0x401400, LIB_ADDR, 0x401510 };
	struct procinfo server = { .pid = 100, .ppid = 1,
				   .flags = PROCINFO_EXISTING,
				   .start_ns = START_NS - 5000 * MS };
	/*
	 * its allocator probed 12 ms after its exec (joined late): new's
	 * block made then, seen as malloc's, freed by delete, is not judged
	 */
	struct procinfo worker = { .pid = 101, .ppid = 100,
				   .flags = PROCINFO_LATE,
				   .late_ns = 12 * MS,
				   .late_end_ns = AT(512) };
	struct ms_event del = heap_rec(MS_EV_FREE, 101, AT(550), 0x5000, 0,
				       NULL, 0);
	/* unknown frees: the allocator's own, and one of a block from before */
	struct ms_event own = heap_rec(MS_EV_FREE, 102, AT(960), 0x7000, 0,
				       NULL, 0);
	struct ms_event old = heap_rec(MS_EV_FREE, 100, AT(970), 0x8000, 0,
				       NULL, 0);
	/* and the fork's free of its copy of server's block */
	struct ms_event copy = heap_rec(MS_EV_FREE, 101, AT(450), 0x2000, 0,
					NULL, 0);

	strcpy(server.comm, "server");
	strcpy(server.command, "./server --port 8080");
	strcpy(worker.comm, "worker");
	strcpy(worker.command, "/usr/bin/worker");
	del.flags = MS_EVF_FREE_CHECK;
	del.aux = MS_FAM_NEW;
	own.flags = MS_EVF_FREE_CHECK | MS_EVF_FREE_INTERNAL;
	old.flags = MS_EVF_FREE_CHECK;
	copy.flags = MS_EVF_FREE_CHECK;
	return procs__set_info(pt, &server) ||
	       apply_to(pt, PALLOC(100, 100, 0x1000, 1000, s1)) ||
	       apply_to(pt, PALLOC(100, 200, 0x2000, 64, s2)) ||
	       apply_to(pt, proc_rec(MS_EV_PROC_START, 101, 100, "server",
				     NULL, AT(300))) ||
	       apply_to(pt, PALLOC(101, 400, 0x1000, 500, s3)) ||
	       apply_to(pt, copy) ||
	       apply_to(pt, proc_rec(MS_EV_PROC_EXEC, 101, 0, "worker",
				     "/usr/bin/worker", AT(500))) ||
	       procs__set_info(pt, &worker) ||
	       apply_to(pt, PALLOC(101, 505, 0x5000, 8, s1)) ||
	       apply_to(pt, del) ||
	       apply_to(pt, PALLOC(101, 600, 0x1000, 3000, s1)) ||
	       apply_to(pt, proc_rec(MS_EV_PROC_EXIT, 101, 1 << 8, NULL,
				     NULL, AT(700))) ||
	       apply_to(pt, proc_rec(MS_EV_PROC_START, 102, 100, "cron",
				     NULL, AT(800))) ||
	       apply_to(pt, PALLOC(102, 900, 0x3000, 64, s2)) ||
	       apply_to(pt, heap_rec(MS_EV_FREE, 102, AT(950), 0x3000, 0,
				     NULL, 0)) ||
	       apply_to(pt, own) || apply_to(pt, old) ? -EINVAL : 0;
}

/*
 * folds: server (pid 100, attached to, S1 1000 bytes live) forks ten
 * cron runs (pids 201 to 210, at 100 + 10 i ms), each allocating S2 64
 * bytes and leaving it, exiting 0 but pid 205 with status 1: with --fold
 * 8 they are one row, 10 ended images folded, 640 bytes live at their
 * ends, the largest peak of one 64 bytes.
 */
static int feed_folds(struct procs *pt)
{
	static const __u64 s1[] = { 0x401100, 0x401200, 0x401500 };
	static const __u64 s2[] = { 0x401300, 0x401210, 0x401500 };
	struct procinfo server = { .pid = 100, .ppid = 1,
				   .flags = PROCINFO_EXISTING,
				   .start_ns = START_NS - 5000 * MS };
	__u32 pid;
	__u64 ms;

	strcpy(server.comm, "server");
	strcpy(server.command, "./server --port 8080");
	if (procs__set_info(pt, &server) ||
	    apply_to(pt, PALLOC(100, 50, 0x1000, 1000, s1)))
		return -EINVAL;
	for (pid = 201; pid <= 210; pid++) {
		ms = 100 + 10 * (pid - 201);
		if (apply_to(pt, proc_rec(MS_EV_PROC_START, pid, 100, "cron",
					  NULL, AT(ms))) ||
		    apply_to(pt, PALLOC(pid, ms + 1, 0x3000, 64, s2)) ||
		    apply_to(pt, proc_rec(MS_EV_PROC_EXIT, pid,
					  pid == 205 ? 1 << 8 : 0, NULL, NULL,
					  AT(ms + 5))))
			return -EINVAL;
	}
	return 0;
}

/* procs or folds: a set of processes, as -a reports it. */
static int write_procs(const char *base, bool folds)
{
	/* -a: a set with no first process */
	struct report_target target = {
		.mode = TRACE_MODE_DEFAULT, .start_ns = START_NS,
		.duration_ns = 2000 * MS,
	};
	struct report_opts opts = { .top = 10, .resolve = table_resolve,
				    .resolve_ctx = (void *)"known",
				    .fold = 8 };
	struct procs *pt = procs__new();
	struct report *r = NULL;
	int err;

	if (!pt) {
		fprintf(stderr, "gen-report: procs__new: %s\n", strerror(errno));
		return 1;
	}
	err = folds ? feed_folds(pt) : feed_procs(pt);
	if (!err) {
		r = report__build_procs(pt, &target, NULL, NULL, 0, &opts);
		if (!r)
			fprintf(stderr, "gen-report: report__build_procs: %s\n",
				strerror(errno));
	}
	if (r)
		err = write_both(r, base);
	report__free(r);
	procs__free(pt);
	return err || !r ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct report_target target = {
		.pid = 4242, .mode = TRACE_MODE_DEFAULT, .start_ns = START_NS,
	};
	/* lost events and a stack error: the page must say so */
	struct ms_counters kernel = {
		.allocs = 15, .frees = 8, .alloc_bytes = 15056,
		.free_bytes = 13608, .live_bytes = 1448, .live_blocks = 7,
		.peak_bytes = 10832, .peak_ns = AT(700), .lost_events = 3,
		.stack_errors = 1, .seq = 15,
	};
	struct report_opts opts = { .top = 10 };
	char big_name[64];
	const char *kind;
	struct report *r;
	struct store *s;
	int err;

	/* The rules the tool runs: their sections as it writes them. */
	opts.rules = rules__table(&opts.nr_rules);
	if (argc != 3 || (strcmp(argv[1], "known") &&
			  strcmp(argv[1], "hostile") && strcmp(argv[1], "big") &&
			  strcmp(argv[1], "procs") && strcmp(argv[1], "folds") &&
			  strcmp(argv[1], "stops"))) {
		fprintf(stderr, "usage: gen-report known|hostile|big|procs|folds|stops OUT\n");
		return 2;
	}
	kind = argv[1];
	if (!strcmp(kind, "procs") || !strcmp(kind, "folds"))
		return write_procs(argv[2], !strcmp(kind, "folds"));
	s = store__new();
	if (!s) {
		fprintf(stderr, "gen-report: store__new: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(kind, "known")) {
		target.command = "./server --port 8080";
		target.duration_ns = 2000 * MS;
		target.exited = true;
		opts.resolve = table_resolve;
		opts.resolve_ctx = (void *)kind;
		err = feed_known(s);
	} else if (!strcmp(kind, "stops")) {
		target.command = "./server";
		target.duration_ns = 1000 * MS;
		/* a -p target whose end the tool did not see */
		target.exited = true;
		target.status_unknown = true;
		opts.resolve = table_resolve;
		opts.resolve_ctx = (void *)kind;
		err = feed_stops(s);
	} else if (!strcmp(kind, "hostile")) {
		target.command = H_CLOSE " " H_SCRIPT " " H_QUOTES;
		target.duration_ns = 100 * MS;
		opts.resolve = table_resolve;
		opts.resolve_ctx = (void *)kind;
		err = feed_hostile(s);
	} else {
		target.command = "./big --events 1000000";
		target.duration_ns = BIG_SPAN_NS;
		opts.resolve = big_resolve;
		opts.resolve_ctx = big_name;
		err = feed_big(s);
	}
	r = err ? NULL : report__build(s, &target,
				       !strcmp(kind, "known") ? &kernel : NULL,
				       NULL, 0, &opts);
	if (!err && !r) {
		err = -errno;
		fprintf(stderr, "gen-report: report__build: %s\n", strerror(errno));
	}
	if (!err)
		err = write_both(r, argv[2]);
	report__free(r);
	store__free(s);
	return err ? 1 : 0;
}
