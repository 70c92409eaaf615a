/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The report of several processes: one model per image, resolved by
 * that image's resolver, leaks of an ended image as it left them, the
 * merged lists naming their image, the text process table and
 * --top-procs, and processes[] in the JSON document.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procs.h"
#include "report.h"
#include "report_json.h"
#include "builders.h"
#include "expect.h"

#define START_NS	1000

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

TestSuite(report_procs, .init = setup, .fini = teardown, .timeout = 30);

/* Image i's resolver: every address is in function "img<i>". */
static unsigned resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;
	static char fn[32];

	snprintf(fn, sizeof(fn), "img%zu", (size_t)ctx);
	fr = (struct frame){ .addr = addr, .function = fn };
	*out = &fr;
	return 1;
}

static void *image_ctx(void *ctx, size_t i)
{
	(void)ctx;
	return (void *)i;
}

/*
 * sh (pid 10) forks 11, which leaks 100 bytes and execs leaky; leaky
 * leaks 300 and exits with status 1; sh leaks 50 and runs on.
 */
static struct report *build_for(size_t top_procs,
				const struct report_target *tgt)
{
	struct procinfo sh = { .pid = 10, .ppid = 1,
			       .flags = PROCINFO_EXISTING };
	struct report_opts o = { .resolve = resolve, .image_ctx = image_ctx,
				 .top_procs = top_procs };
	struct report *r;

	strcpy(sh.comm, "sh");
	strcpy(sh.command, "sh -c ./leaky");
	cr_assert_eq(procs__set_info(pt, &sh), 0);
	ev_procs_alloc(pt, 10, 0x1000, 50, 0x401000, 1100);
	ev_procs_apply(pt, ev_proc(MS_EV_PROC_START, 11, 10, "sh", NULL, 1200));
	ev_procs_alloc(pt, 11, 0x1000, 100, 0x401000, 1300);
	ev_procs_apply(pt, ev_proc(MS_EV_PROC_EXEC, 11, 0, "leaky", "/t/leaky",
				   1400));
	ev_procs_alloc(pt, 11, 0x1000, 300, 0x401000, 1500);
	ev_procs_apply(pt, ev_proc(MS_EV_PROC_EXIT, 11, 1 << 8, NULL, NULL,
				   1600));
	r = report__build_procs(pt, tgt, NULL, NULL, 0, &o);
	cr_assert_not_null(r, "report__build_procs: %s", strerror(errno));
	return r;
}

static struct report *build(size_t top_procs)
{
	struct report_target tgt = { .pid = 10, .start_ns = START_NS,
				     .duration_ns = 10000 };

	return build_for(top_procs, &tgt);
}

Test(report_procs, one_model_per_image)
{
	struct report *r = build(0);

	expect_eq(r->nr_procs, 3, "images");
	expect_eq(r->all.processes, 2, "processes");
	expect_eq(r->summary.live_bytes, 450, "live over all");
	/* 100 of them ended at the exec, before leaky took 300 */
	expect_eq(r->summary.peak_bytes, 350, "peak of the sum");
	/* pid 11's first image: what it left at its exec is its own */
	expect_eq(r->procs[1].end, PROC_EXECED, "image 1 end");
	cr_expect(r->procs[1].r->ended, "image 1 ended");
	expect_eq(r->procs[1].r->nr_leaks, 1, "image 1 leaks");
	expect_eq(r->procs[1].r->leaks[0].bytes, 100, "live at exec");
	cr_expect_str_eq(r->procs[1].r->leaks[0].frames[0].function, "img1",
			 "its own symbols");
	expect_eq(r->procs[2].r->leaks[0].bytes, 300, "leaky's leak");
	cr_expect_str_eq(r->procs[2].r->leaks[0].frames[0].function, "img2");
	expect_eq(r->procs[2].exit_code, 1 << 8, "exit status");
	cr_expect(!r->procs[0].r->ended, "sh runs on");
	/* merged, by bytes, each naming its image */
	expect_eq(r->nr_leaks, 3, "merged leaks");
	expect_eq(r->leaks[0].proc, 2, "first leak's image");
	expect_eq(r->leaks[1].proc, 1, "second leak's image");
	expect_eq(r->leaks[2].proc, 0, "third leak's image");
	report__free(r);
}

/*
 * Several images: the top level's curve is the running images' live bytes
 * together, whose top is the peak of their sum; an image's exit or exec
 * takes its blocks off it.
 */
Test(report_procs, timeline_of_the_running_images)
{
	struct report *r = build(0);
	__u64 top = 0, allocs = 0;
	size_t i;

	cr_assert(r->nr_timeline > 0, "no timeline at the top level");
	for (i = 0; i < r->nr_timeline; i++) {
		if (r->timeline[i].max_bytes > top)
			top = r->timeline[i].max_bytes;
		allocs += r->timeline[i].allocs;
	}
	expect_eq(top, r->summary.peak_bytes, "the curve's top: the peak");
	expect_eq(top, 350, "sh's 50 and leaky's 300");
	expect_eq(allocs, 3, "every allocation in a bucket");
	/* leaky's exit took its 300 off: sh's 50 runs on */
	expect_eq(r->timeline[r->nr_timeline - 1].end_bytes, 50,
		  "live in the running images at the end");
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

Test(report_procs, text_table_and_top_procs)
{
	struct report *r = build(1);
	char *t = text_of(r);

	cr_expect(strstr(t, "Processes (captured): 3 images of 2 processes"),
		  "table title in:\n%s", t);
	cr_expect(strstr(t, "  11      leaky [exec 1], parent 10"),
		  "leaky's row in:\n%s", t);
	cr_expect(strstr(t, "exit 1 at 0.000 s"), "exit status in:\n%s", t);
	cr_expect(strstr(t, "live at its end 300 bytes"), "its live in:\n%s",
		  t);
	cr_expect(strstr(t, "== pid 11 leaky [exec 1] =="),
		  "the top process's sites in:\n%s", t);
	cr_expect(strstr(t, "Top leaking call sites (live at its exit)"),
		  "labelled live at exit in:\n%s", t);
	cr_expect(!strstr(t, "== pid 10 "), "--top-procs 1 shows one:\n%s", t);
	cr_expect(strstr(t, "2 more process images"), "the rest counted:\n%s",
		  t);
	free(t);
	report__free(r);
}

static char *json_of(const struct report *r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(report__json_stream(r, f, false), 0);
	fclose(f);
	return buf;
}

/*
 * The target (sh, pid 10) exits and so ends tracing, with no exit record:
 * its last image says it exited, with its status, and its blocks, live at
 * that end, are still not counted among those ended images left. A -p
 * target whose end was not seen says so rather than a status.
 */
Test(report_procs, the_targets_exit_ends_its_last_image)
{
	struct report_target tgt = { .pid = 10, .start_ns = START_NS,
				     .duration_ns = 10000, .exited = true,
				     .exit_status = 2 << 8 };
	struct report *r = build_for(0, &tgt);
	char *t = text_of(r), *j = json_of(r);

	cr_expect(r->procs[0].ended_trace && r->procs[0].end == PROC_EXITED,
		  "sh: ended_trace %d, end %u", r->procs[0].ended_trace,
		  r->procs[0].end);
	expect_eq(r->procs[0].end_ns, START_NS + 10000, "sh's end");
	cr_expect(!r->procs[2].ended_trace, "leaky ended by its own exit");
	cr_expect(strstr(t, "parent 1, attached at 0.000 s, exit 2 at 0.000 s"),
		  "sh's row in:\n%s", t);
	cr_expect(strstr(t, "; of them 2 blocks, 400 bytes, left by"),
		  "what ended images left, sh's 50 bytes not among it, in:\n%s",
		  t);
	cr_expect(strstr(j, "\"pid\":10,") &&
		  strstr(j, "\"end\":\"exited\",\"exit_ns\":10000,"
			    "\"exit_code\":512"), "sh's target in %s", j);
	free(t);
	free(j);
	report__free(r);

	tgt.status_unknown = true;
	r = build_for(0, &tgt);
	t = text_of(r);
	j = json_of(r);
	cr_expect(strstr(t, ", exited (its status not seen)\n"),
		  "the header in:\n%s", t);
	cr_expect(strstr(t, "exited, status not seen"), "sh's row in:\n%s", t);
	cr_expect(strstr(j, "\"exited\":true,\"exit_status\":null,"),
		  "target in %s", j);
	cr_expect(strstr(j, "\"end\":\"exited\",\"exit_ns\":10000,"
			    "\"exit_code\":null"), "sh's target in %s", j);
	free(t);
	free(j);
	report__free(r);
}

/*
 * -a's many images: the table lists the first 50 (by live bytes, then
 * allocations) and counts the rest; --top-procs 0 lists them all. One
 * that joined late is listed wherever it ranks: the warning counts it.
 */
Test(report_procs, text_table_cut)
{
	struct report_target tgt = { .start_ns = START_NS,
				     .duration_ns = 10000 };
	struct report_opts o = { .resolve = resolve, .image_ctx = image_ctx,
				 .top_procs = 5 };
	struct report *r;
	__u32 pid;
	char *t;

	for (pid = 100; pid < 160; pid++) {
		ev_procs_apply(pt, ev_proc(MS_EV_PROC_START, pid, 10, "true",
					   NULL, pid));
		/* ten allocate: they lead the table */
		if (pid % 6 == 0)
			ev_procs_alloc(pt, pid, 0x1000, pid, 0x401000, pid + 1);
		/* of the ten that rank last (idle, opened last) */
		if (pid == 158)
			cr_assert_geq(procs__late(pt, pid, 0, pid, 1), 0);
		ev_procs_apply(pt, ev_proc(MS_EV_PROC_EXIT, pid, 0, NULL, NULL,
					   pid + 2));
	}
	r = report__build_procs(pt, &tgt, NULL, NULL, 0, &o);
	cr_assert_not_null(r, "report__build_procs: %s", strerror(errno));
	t = text_of(r);
	cr_expect(strstr(t, "memscope-bpf report: a set of processes (-a, "
			 "--comm or --cgroup), traced for "),
		  "a set with no first process in:\n%s", t);
	cr_expect(strstr(t, "Processes (captured): 60 images of 60 processes"),
		  "table title in:\n%s", t);
	cr_expect(strstr(t, "\n  156     true, parent 10,"),
		  "the largest first in:\n%s", t);
	cr_expect(strstr(t, "\n  ... 9 more images (9 allocated nothing): "
			 "--top-procs 0 lists them all, the JSON report has "
			 "them\n"), "the rest counted in:\n%s", t);
	cr_expect(strstr(t, "\n  158     true, parent 10,"),
		  "the late one listed in:\n%s", t);
	expect_eq(count_of(t, "joined late: "), 1, "its joined-late line");
	expect_eq(count_of(t, ", parent 10, "), 51, "rows");
	free(t);
	report__free(r);
	o.top_procs = 0;
	r = report__build_procs(pt, &tgt, NULL, NULL, 0, &o);
	cr_assert_not_null(r);
	t = text_of(r);
	expect_eq(count_of(t, ", parent 10, "), 60, "rows, --top-procs 0");
	cr_expect(!strstr(t, "more images ("), "nothing cut:\n%s", t);
	free(t);
	report__free(r);
}

Test(report_procs, json_processes)
{
	struct report *r = build(0);
	char *buf = json_of(r);

	cr_expect(strstr(buf, "\"process_counts\":{\"images\":3,"
			      "\"processes\":2,\"execs\":1,\"exits\":1"),
		  "process_counts in %s", buf);
	cr_expect(strstr(buf, "\"pid\":11,\"ppid\":10,\"ns_pid\":11,"
			      "\"comm\":\"leaky\",\"command\":\"/t/leaky\""),
		  "leaky's target in %s", buf);
	cr_expect(strstr(buf, "\"end\":\"exec\""), "an exec'd image");
	cr_expect(strstr(buf, "\"end\":\"exited\",\"exit_ns\":600,"
			      "\"exit_code\":256"), "an exited image");
	cr_expect(strstr(buf, "\"live_at_end\":true"), "ended images");
	free(buf);
	report__free(r);
}

/*
 * Each image's leaks, peak and sites name their stacks by index in the
 * top-level sites, which alone write the frames.
 */
Test(report_procs, json_process_lists_name_their_sites)
{
	struct report *r = build(0);
	const struct report_site *leak = &r->procs[2].r->leaks[0];
	char *buf = json_of(r), want[160];
	const char *procs;
	size_t j;

	procs = strstr(buf, "\"processes\":[");
	cr_assert_not_null(procs, "no processes in %s", buf);
	cr_expect(strstr(buf, "\"frames\":[{\"function\":\"img2\"") < procs,
		  "the top level's frames in %s", buf);
	cr_expect_null(strstr(procs, "\"frames\""),
		       "frames written again in the images: %s", procs);
	for (j = 0; j < r->nr_sites; j++)
		if (r->sites[j].frames == leak->frames)
			break;
	cr_assert_lt(j, r->nr_sites, "leaky's stack among the sites");
	expect_eq(r->sites[j].proc, 2, "the site's image");
	snprintf(want, sizeof(want),
		 "\"bytes\":300,\"oldest_ns\":%llu,\"site\":%zu,\"proc\":2}",
		 (unsigned long long)leak->oldest_ns, j);
	cr_expect(strstr(procs, want), "%s in %s", want, procs);
	free(buf);
	report__free(r);
}

/* One image: the report is that process, procs[0] the report itself. */
Test(report_procs, one_image_is_the_report)
{
	struct report_target tgt = { .pid = 10, .start_ns = START_NS };
	struct report *r;

	ev_procs_alloc(pt, 10, 0x1000, 50, 0x401000, 1100);
	r = report__build_procs(pt, &tgt, NULL, NULL, 0, NULL);
	cr_assert_not_null(r);
	expect_eq(r->nr_procs, 1, "images");
	cr_expect_eq(r->procs[0].r, r, "procs[0] is the report");
	expect_eq(r->nr_leaks, 1, "leaks");
	report__free(r);
}

/* No record at all: an empty report, no image. */
Test(report_procs, no_image)
{
	struct report_target tgt = { .pid = 10, .start_ns = START_NS };
	struct report *r = report__build_procs(pt, &tgt, NULL, NULL, 0, NULL);

	cr_assert_not_null(r);
	expect_eq(r->nr_procs, 0, "images");
	expect_eq(r->summary.allocs, 0, "allocs");
	report__free(r);
}

/* Folded stacks: every stack starts at its process, an exec'd one so. */
/* The folded lines of r, in a static buffer. */
static const char *folded_of(const struct report *r)
{
	static char buf[512];
	char path[] = "/tmp/memscope-folded-XXXXXX";
	size_t n;
	FILE *f;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	close(fd);
	cr_assert_eq(report__write_folded(r, path), 0);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	return buf;
}

Test(report_procs, folded_process_frames)
{
	struct report *r = build(0);

	cr_expect_str_eq(folded_of(r), "[pid-11-leaky-exec1];img2 300\n"
				       "[pid-11-sh];img1 100\n"
				       "[pid-10-sh];img0 50\n");
	report__free(r);
}

/*
 * --folded-weight over several processes: pid 20 frees its 200 bytes,
 * pid 21 keeps its 100. Each tower weighs what its own process had at
 * its own peak, or allocated, or leaks.
 */
Test(report_procs, folded_weight_per_process)
{
	static const char *const want[] = {
		[REPORT_WEIGHT_LEAKS] = "[pid-21-?];img1 100\n",
		[REPORT_WEIGHT_PEAK] = "[pid-20-?];img0 200\n"
				       "[pid-21-?];img1 100\n",
		[REPORT_WEIGHT_ALLOCS] = "[pid-20-?];img0 200\n"
					 "[pid-21-?];img1 100\n",
	};
	struct report_target tgt = { .pid = 20, .start_ns = START_NS,
				     .duration_ns = 10000 };
	struct report_opts o = { .resolve = resolve, .image_ctx = image_ctx };
	struct ms_event fr = ev_rec(MS_EV_FREE, 1300);
	struct report *r;
	size_t w;

	ev_procs_alloc(pt, 20, 0x1000, 200, 0x401000, 1100);
	ev_procs_alloc(pt, 21, 0x2000, 100, 0x401000, 1200);
	fr.pid = fr.tid = 20;
	fr.ptr = 0x1000;
	ev_procs_apply(pt, fr);
	for (w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		o.folded_weight = w;
		r = report__build_procs(pt, &tgt, NULL, NULL, 0, &o);
		cr_assert_not_null(r, "report__build_procs: %s",
				   strerror(errno));
		cr_expect_str_eq(folded_of(r), want[w], "weight %zu", w);
		report__free(r);
	}
}

/*
 * The kernel's trace-wide peak counts what an ended image left live as
 * live from then on; the captured one, the images running at one time.
 * Where they differ for that reason, the text says so.
 */
Test(report_procs, two_peaks_explained)
{
	struct procinfo sh = { .pid = 10, .ppid = 1,
			       .flags = PROCINFO_EXISTING };
	struct report_target tgt = { .pid = 10, .start_ns = START_NS,
				     .duration_ns = 10000 };
	struct report_opts o = { .resolve = resolve, .image_ctx = image_ctx };
	struct ms_counters k = { .allocs = 2, .alloc_bytes = 400,
				 .live_bytes = 400, .live_blocks = 2,
				 .peak_bytes = 400 };
	struct report *r;
	char *t;

	strcpy(sh.comm, "sh");
	cr_assert_eq(procs__set_info(pt, &sh), 0);
	/* 10 leaks 100 and execs; its next image leaks 300 */
	ev_procs_alloc(pt, 10, 0x1000, 100, 0x401000, 1100);
	ev_procs_apply(pt, ev_proc(MS_EV_PROC_EXEC, 10, 0, "leaky", "/t/leaky",
				   1200));
	ev_procs_alloc(pt, 10, 0x2000, 300, 0x401000, 1300);
	r = report__build_procs(pt, &tgt, &k, NULL, 0, &o);
	cr_assert_not_null(r, "report__build_procs: %s", strerror(errno));
	t = text_of(r);
	cr_expect(strstr(t, "peak bytes 400 vs 300\n  (the kernel's peak "
			    "counts the blocks an ended image left as live"),
		  "the two peaks explained in:\n%s", t);
	free(t);
	report__free(r);
}

/*
 * A process that joins the set at its exec (--comm, --cgroup): its exec
 * record opens and ends an image nothing is known of. It is counted, not
 * listed as a row of "?".
 */
Test(report_procs, image_of_nothing_before_a_join_is_not_listed)
{
	struct report_target tgt = { .start_ns = START_NS,
				     .duration_ns = 10000 };
	struct report_opts o = { .resolve = resolve, .image_ctx = image_ctx };
	struct report *r;
	char *t;

	ev_procs_apply(pt, ev_proc(MS_EV_PROC_EXEC, 20, 0, "lk", "/t/lk",
				   1100));
	ev_procs_alloc(pt, 20, 0x1000, 64, 0x401000, 1200);
	ev_procs_alloc(pt, 21, 0x1000, 32, 0x401000, 1300);
	r = report__build_procs(pt, &tgt, NULL, NULL, 0, &o);
	cr_assert_not_null(r, "report__build_procs: %s", strerror(errno));
	expect_eq(r->all.images, 3, "every image counted");
	expect_eq(r->unlisted_images, 1, "the one before the exec");
	expect_eq(r->nr_procs, 2, "rows");
	t = text_of(r);
	cr_expect(strstr(t, "3 images of 2 processes, by live bytes; 1 image "
			    "not listed"), "the count in:\n%s", t);
	cr_expect(!strstr(t, "\n  20      ?,"), "a row of nothing in:\n%s", t);
	cr_expect(strstr(t, "\n  20      lk [exec 1]"), "its exec in:\n%s", t);
	free(t);
	report__free(r);
}
