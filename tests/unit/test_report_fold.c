/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Folds (report_opts.fold): a program's ended images past the bound are
 * one entry whose figures are theirs added up, sites merged by what a
 * reader sees (each run maps the program elsewhere), the peak the largest
 * one image reached; an image with something of its own stays apart.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "procs.h"
#include "report.h"
#include "report_json.h"
#include "builders.h"
#include "expect.h"

#define START_NS	1000
#define RUNS		12	/* of "tool", pids 100 to 111 */
#define LATE_PID	105	/* joined late: apart */
#define FAILED_PID	103	/* exit 1 */

static struct procs *pt;

static void setup(void)
{
	pt = procs__new();
	cr_assert_not_null(pt);
}

static void teardown(void)
{
	procs__free(pt);
}

TestSuite(report_fold, .init = setup, .fini = teardown, .timeout = 30);

static void release(__u32 pid, __u64 ptr, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_FREE, ts);

	e.pid = pid;
	e.tid = pid;
	e.ptr = ptr;
	ev_procs_apply(pt, e);
}

/*
 * Every image maps the program at its own base (pid << 16): the low 12
 * bits say what is there. 0x100: function work (tool.c:10); 0x200: no
 * symbol, /bin/tool at offset 0x200; 0x300: nothing known.
 */
static unsigned resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;

	(void)ctx;
	fr = (struct frame){ .addr = addr };
	switch (addr & 0xfff) {
	case 0x100:
		fr.function = "work";
		fr.file = "tool.c";
		fr.line = 10;
		fr.object = "/bin/tool";
		fr.object_offset = 0x100;
		break;
	case 0x200:
		fr.object = "/bin/tool";
		fr.object_offset = 0x200;
		break;
	default:
		break;
	}
	*out = &fr;
	return 1;
}

/*
 * sh (pid 10, running) forks RUNS runs of tool; run i leaks 10 * (i + 1)
 * bytes at work, allocates and frees 1000 + i at the unnamed 0x200 and
 * leaks 1 byte at 0x300, then exits (FAILED_PID with status 1). LATE_PID
 * joined late.
 */
static void runs(void)
{
	struct procinfo sh = { .pid = 10, .ppid = 1,
			       .flags = PROCINFO_EXISTING };
	__u32 pid, i;
	__u64 base, ts;

	strcpy(sh.comm, "sh");
	strcpy(sh.command, "sh");
	cr_assert_eq(procs__set_info(pt, &sh), 0);
	ev_procs_alloc(pt, 10, 0x1000, 50, 0x401100, 1010);
	for (i = 0; i < RUNS; i++) {
		struct procinfo in = { .ppid = 10 };

		pid = 100 + i;
		base = (__u64)pid << 16;
		ts = 2000 + i * 100;
		ev_procs_apply(pt, ev_proc(MS_EV_PROC_START, pid, 10, "tool",
					   NULL, ts));
		in.pid = pid;
		strcpy(in.comm, "tool");
		snprintf(in.command, sizeof(in.command), "/bin/tool -n %u", i);
		cr_assert_eq(procs__set_info(pt, &in), 0);
		if (pid == LATE_PID)
			cr_assert_geq(procs__late(pt, pid, 0, ts, 1), 0);
		ev_procs_alloc(pt, pid, 0x1000, 10 * (i + 1), base | 0x100,
				   ts + 1);
		ev_procs_alloc(pt, pid, 0x2000, 1000 + i, base | 0x200, ts + 2);
		release(pid, 0x2000, ts + 3);
		ev_procs_alloc(pt, pid, 0x3000, 1, base | 0x300, ts + 4);
		ev_procs_apply(pt, ev_proc(MS_EV_PROC_EXIT, pid,
			      pid == FAILED_PID ? 1 << 8 : 0, NULL, NULL,
			      ts + 5));
	}
}

static struct report *build(size_t fold)
{
	struct report_target tgt = { .start_ns = START_NS,
				     .duration_ns = 10000 };
	struct report_opts o = { .resolve = resolve, .top = 2,
				 .fold = fold };
	struct report *r = report__build_procs(pt, &tgt, NULL, NULL, 0, &o);

	cr_assert_not_null(r, "report__build_procs: %s", strerror(errno));
	return r;
}

static const struct report_proc *fold_of(const struct report *r)
{
	size_t i;

	for (i = 0; i < r->nr_procs; i++)
		if (r->procs[i].folded)
			return &r->procs[i];
	cr_assert_fail("no fold among %zu entries", r->nr_procs);
	return NULL;
}

Test(report_fold, ended_runs_in_one_entry)
{
	struct report *r;
	const struct report_proc *p;
	const struct report *g;
	__u64 live = 0, i;

	runs();
	r = build(8);
	/* sh, the fold, and the late run apart */
	expect_eq(r->nr_procs, 3, "entries");
	expect_eq(r->folded_images, RUNS - 1, "images folded");
	expect_eq(r->folded_entries, 1, "folds");
	expect_eq(r->all.images, RUNS + 1, "images seen");
	p = fold_of(r);
	g = p->r;
	expect_eq(p->folded, RUNS - 1, "its images");
	expect_eq(g->folded, RUNS - 1, "its model's");
	expect_eq(p->info.pid, 100, "first image's pid");
	expect_eq(p->last_pid, 100 + RUNS - 1, "last image's pid");
	expect_eq(p->folded_failed, 1, "the one that failed");
	expect_eq(p->end, PROC_EXITED, "ended");
	cr_expect(g->ended, "live at their ends");
	for (i = 0; i < RUNS; i++)
		if (100 + i != LATE_PID)
			live += 10 * (i + 1) + 1;
	expect_eq(g->summary.allocs, 3 * (RUNS - 1), "allocations added");
	expect_eq(g->summary.live_bytes, live, "live at their ends added");
	/* the largest one image reached: the last run's 1000 + 11 + 120 */
	expect_eq(g->summary.peak_bytes, 1000 + RUNS - 1 + 10 * RUNS,
		  "peak of one image, not a sum");
	/* work and /bin/tool+0x200 merged; 0x300, known by address, not */
	expect_eq(g->nr_sites, 2 + RUNS - 1, "sites");
	cr_expect_str_eq(g->sites[0].frames[0].function ?
			 g->sites[0].frames[0].function : "(none)", "(none)",
			 "most allocated: the unnamed 0x200");
	expect_eq(g->sites[0].alloc_count, RUNS - 1, "0x200's calls");
	expect_eq(g->sites[0].proc, p - r->procs, "the site's entry");
	expect_eq(g->nr_leaks, 2, "--top 2 of the merged leaks");
	cr_expect_str_eq(g->leaks[0].frames[0].function, "work");
	expect_eq(g->leaks[0].live_count, RUNS - 1, "work's blocks");
	/* the trace's merged lists name the fold */
	cr_expect(r->leaks[0].proc == (__u32)(p - r->procs),
		  "the largest leak is the fold's");
	report__free(r);
}

/* --fold 0, or a bound not passed: an entry per image, as before. */
Test(report_fold, bound_not_passed)
{
	struct report *r;

	runs();
	r = build(0);
	expect_eq(r->nr_procs, RUNS + 1, "--fold 0");
	expect_eq(r->folded_images, 0, "none folded");
	report__free(r);
	r = build(RUNS - 1);
	expect_eq(r->nr_procs, RUNS + 1, "11 foldable runs, bound 11");
	report__free(r);
}

/* A trace that would be one entry stays images: it reads as a process. */
Test(report_fold, never_one_entry)
{
	struct report_target tgt = { .start_ns = START_NS };
	struct report_opts o = { .resolve = resolve, .fold = 2 };
	struct report *r;
	__u32 pid;

	for (pid = 100; pid < 105; pid++) {
		ev_procs_apply(pt, ev_proc(MS_EV_PROC_START, pid, 10, "tool",
					   NULL, pid));
		ev_procs_alloc(pt, pid, 0x1000, 10, pid << 16 | 0x100, pid + 1);
		ev_procs_apply(pt, ev_proc(MS_EV_PROC_EXIT, pid, 0, NULL, NULL,
					   pid + 2));
	}
	r = report__build_procs(pt, &tgt, NULL, NULL, 0, &o);
	cr_assert_not_null(r);
	expect_eq(r->nr_procs, 5, "entries");
	expect_eq(r->folded_images, 0, "none folded");
	report__free(r);
}

static char *text_of(const struct report *r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(report__write_text(r, f), 0);
	fclose(f);
	return buf;
}

Test(report_fold, text_and_json)
{
	struct report *r;
	char *t, *buf = NULL;
	size_t len;
	FILE *f;

	runs();
	r = build(8);
	t = text_of(r);
	cr_expect(strstr(t, "Processes (captured): 13 images of 13 processes, "
			 "by live bytes; 11 ended images of 1 program folded"),
		  "table title in:\n%s", t);
	cr_expect(strstr(t, "\n  tool: 11 ended images folded (pids 100 to "
			 "111), from "), "the fold's row in:\n%s", t);
	cr_expect(strstr(t, ", 1 failed\n"), "failures in:\n%s", t);
	cr_expect(strstr(t, "largest peak of one 1.1 KiB (1131 bytes)"),
		  "its peak, labelled, in:\n%s", t);
	cr_expect(strstr(t, "first: /bin/tool -n 0\n"), "command in:\n%s", t);
	cr_expect(strstr(t, "== tool, 11 ended images folded =="),
		  "its sites in:\n%s", t);
	cr_expect(strstr(t, "Top leaking call sites (live at their ends, "
			 "added up)"), "labelled in:\n%s", t);
	free(t);
	f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	cr_assert_eq(report__json_stream(r, f, false), 0);
	fclose(f);
	cr_expect(strstr(buf, "\"process_counts\":{\"images\":13,"),
		  "every image counted in %s", buf);
	cr_expect(strstr(buf, "\"folded_images\":11,\"folded_entries\":1,"
			      "\"unlisted_images\":0}"),
		  "the folds counted in %s", buf);
	cr_expect(strstr(buf, "\"folded\":{\"images\":11,\"last_pid\":111,"
			      "\"failed\":1}"), "the fold in %s", buf);
	cr_expect(strstr(buf, "\"exit_code\":null,\"folded\":null}"),
		  "sh is no fold in %s", buf);
	free(buf);
	report__free(r);
}
