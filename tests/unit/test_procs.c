/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Unit tests of the process table: records of several processes routed
 * to their images, fork, exec (live at exec), exit (live at exit), pid
 * reuse, the peak over all images, and the memory an ended image gives
 * back.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "procs.h"
#include "builders.h"
#include "expect.h"

static struct procs *pt;

static void setup(void)
{
	pt = procs__new();
	cr_assert_not_null(pt, "procs__new: %s", strerror(errno));
}

static void teardown(void)
{
	procs__free(pt);
}

TestSuite(procs, .init = setup, .fini = teardown, .timeout = 30);

static void apply(const struct ms_event *e)
{
	int err = procs__apply(pt, e);

	cr_assert_eq(err, 0, "procs__apply(type %u, pid %u, at %llu) = %d",
		     e->type, e->pid, (unsigned long long)e->ts_ns, err);
}

static void proc_rec(__u16 type, __u32 pid, __u64 aux, const char *name,
		     const char *file, __u64 ts)
{
	struct ms_event e = ev_proc(type, pid, aux, name, file, ts);

	apply(&e);
}

/* pid allocates size bytes at ptr from a stack of its own (frame k). */
static void alloc(__u32 pid, __u64 ptr, __u64 size, __u64 k, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_ALLOC, ts);
	__u64 frames[2] = { 0x401000 + k * 0x10, 0x402000 };

	e.pid = pid;
	e.tid = pid;
	e.ptr = ptr;
	e.size = size;
	ev_stack(&e, frames, 2);
	apply(&e);
}

static void release(__u32 pid, __u64 ptr, __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_FREE, ts);

	e.pid = pid;
	e.tid = pid;
	e.ptr = ptr;
	apply(&e);
}

static const struct proc_image *image(size_t i)
{
	const struct proc_image *im = procs__image(pt, i);

	cr_assert_not_null(im, "image %zu of %zu", i, procs__nr_images(pt));
	return im;
}

static const struct store_summary *sum_of(size_t i)
{
	return store__summary(image(i)->store);
}

static int count_live(const struct store_block *b, void *ctx)
{
	(void)b;
	++*(size_t *)ctx;
	return 0;
}

static size_t live_blocks(__u32 pid)
{
	size_t n = 0;

	cr_assert_eq(procs__for_each_live(pt, pid, count_live, &n), 0);
	return n;
}

/* A pid never announced: one image, what is known of it, its records. */
Test(procs, records_of_unknown_pid_open_an_image)
{
	alloc(100, 0x1000, 10, 0, 1000);
	alloc(100, 0x2000, 20, 1, 1100);
	alloc(200, 0x1000, 30, 0, 1200);

	expect_eq(procs__nr_images(pt), 2, "images");
	expect_eq(image(0)->info.pid, 100, "image 0 pid");
	expect_eq(image(0)->image, 0, "generation");
	expect_eq(image(0)->end, PROC_RUNNING, "end");
	expect_eq(image(0)->first_ns, 1000, "first_ns");
	expect_eq(sum_of(0)->live_bytes, 30, "pid 100 live");
	expect_eq(sum_of(1)->live_bytes, 30, "pid 200 live");
	expect_eq(procs__summary(pt)->sum.live_bytes, 60, "all live");
	expect_eq(procs__summary(pt)->processes, 2, "processes");
	expect_eq(procs__current(pt, 200), 1, "pid 200 current");
	expect_eq(live_blocks(100), 2, "pid 100 blocks");
}

/* The same address in two processes is two blocks: no cross free. */
Test(procs, processes_do_not_share_addresses)
{
	alloc(100, 0x1000, 10, 0, 1000);
	alloc(200, 0x1000, 30, 0, 1100);
	release(200, 0x1000, 1200);

	expect_eq(sum_of(0)->live_bytes, 10, "pid 100 keeps its block");
	expect_eq(sum_of(1)->live_bytes, 0, "pid 200 freed its own");
	expect_eq(procs__summary(pt)->sum.unknown_frees, 0, "unknown frees");
}

Test(procs, fork_opens_a_process_with_its_parent_and_comm)
{
	alloc(100, 0x1000, 10, 0, 1000);
	proc_rec(MS_EV_PROC_START, 101, 100, "worker", NULL, 1100);
	alloc(101, 0x1000, 50, 0, 1200);

	expect_eq(procs__nr_images(pt), 2, "images");
	expect_eq(image(1)->info.pid, 101, "child pid");
	expect_eq(image(1)->info.ppid, 100, "child ppid");
	expect_eq(image(1)->info.start_ns, 1100, "child start");
	cr_expect_str_eq(image(1)->info.comm, "worker");
	expect_eq(sum_of(1)->live_bytes, 50, "child live");
	expect_eq(sum_of(0)->live_bytes, 10, "parent live");
	expect_eq(procs__summary(pt)->lifecycle, 1, "lifecycle records");
}

/*
 * A fork frees blocks its parent made before the fork (its heap is a
 * copy): unknown frees said to be the fork's, apart from those the
 * allocator makes of what it took internally; after an exec, and in a
 * process whose start was not seen, an unknown free is only unknown.
 */
Test(procs, a_forks_unknown_frees_are_its_parents_blocks)
{
	struct ms_event own = ev_rec(MS_EV_FREE, 1250);

	alloc(100, 0x1000, 10, 0, 1000);
	proc_rec(MS_EV_PROC_START, 101, 100, "worker", NULL, 1100);
	release(101, 0x1000, 1200);
	own.pid = own.tid = 101;
	own.ptr = 0x7000;
	own.flags = MS_EVF_FREE_CHECK | MS_EVF_FREE_INTERNAL;
	apply(&own);
	proc_rec(MS_EV_PROC_EXEC, 101, 0, "prog", "/bin/prog", 1300);
	release(101, 0x2000, 1400);
	release(100, 0x3000, 1500);

	expect_eq(sum_of(1)->unknown_frees, 2, "the fork's unknown frees");
	expect_eq(sum_of(1)->forked_frees, 1, "the fork's of its copy");
	expect_eq(sum_of(2)->unknown_frees, 1, "after the exec");
	expect_eq(sum_of(2)->forked_frees, 0, "after the exec: no copy");
	expect_eq(sum_of(0)->forked_frees, 0, "the parent's");
	expect_eq(procs__summary(pt)->sum.forked_frees, 1, "all");
	expect_eq(procs__summary(pt)->sum.unknown_frees, 4, "all unknown");
}

/*
 * A child's first mappings are those of the image its parent ran at the
 * fork (named through it when the child is gone before its maps are
 * read); a fork of a process not traced has none known, and an exec's
 * image is no fork.
 */
Test(procs, fork_keeps_the_image_it_was_forked_from)
{
	alloc(100, 0x1000, 10, 0, 1000);
	proc_rec(MS_EV_PROC_EXEC, 100, 0, "next", "/bin/next", 1050);
	proc_rec(MS_EV_PROC_START, 101, 100, "next", NULL, 1100);
	proc_rec(MS_EV_PROC_START, 102, 999, "orphan", NULL, 1200);
	proc_rec(MS_EV_PROC_EXEC, 101, 0, "other", "/bin/other", 1300);

	expect_eq(procs__nr_images(pt), 5, "images");
	expect_eq(image(0)->parent, -1, "a process seen from the middle");
	expect_eq(image(1)->parent, -1, "an exec's image");
	expect_eq(image(2)->info.pid, 101, "child");
	expect_eq(image(2)->parent, 1, "forked from the parent's image then");
	expect_eq(image(3)->parent, -1, "parent not traced");
	expect_eq(image(4)->parent, -1, "the child's exec'd image");
}

/*
 * An exec ends the image: its block stays its own, live at exec, never a
 * leak of the next image, and its per-block memory goes.
 */
Test(procs, exec_leaves_blocks_live_at_exec)
{
	struct procinfo info = { .pid = 100, .ppid = 1, .ns_pid = 7,
				 .flags = PROCINFO_EXISTING };

	strcpy(info.comm, "sh");
	strcpy(info.command, "sh -c exec ./leaky");
	cr_assert_eq(procs__set_info(pt, &info), 0);
	alloc(100, 0x1000, 10, 0, 1000);
	alloc(100, 0x2000, 20, 1, 1100);
	release(100, 0x2000, 1150);
	proc_rec(MS_EV_PROC_EXEC, 100, 0, "leaky", "/tmp/leaky", 1200);
	alloc(100, 0x1000, 40, 2, 1300);

	expect_eq(procs__nr_images(pt), 2, "images");
	expect_eq(image(0)->end, PROC_EXECED, "image 0 end");
	expect_eq(image(0)->end_ns, 1200, "image 0 end_ns");
	cr_assert(store__closed(image(0)->store), "image 0 closed");
	expect_eq(sum_of(0)->live_bytes, 10, "live at exec");
	expect_eq(sum_of(0)->live_allocs, 1, "blocks live at exec");
	expect_eq(image(1)->image, 1, "exec generation");
	expect_eq(image(1)->info.ppid, 1, "ppid kept across exec");
	expect_eq(image(1)->info.ns_pid, 7, "ns_pid kept across exec");
	expect_eq(image(1)->info.flags & PROCINFO_EXISTING, 0,
		  "the new image began while traced");
	cr_expect_str_eq(image(1)->info.comm, "leaky");
	cr_expect_str_eq(image(1)->command, "/tmp/leaky");
	expect_eq(sum_of(1)->live_bytes, 40, "new image live");
	expect_eq(sum_of(1)->unknown_frees, 0, "new image unknown frees");
	expect_eq(live_blocks(100), 1, "current image's blocks");
	expect_eq(procs__summary(pt)->execed, 1, "execed");
	expect_eq(procs__summary(pt)->sum.live_bytes, 50, "all: live at end");
}

/* A closed image's site keeps its live-at-end figures. */
Test(procs, ended_image_keeps_sites)
{
	struct store_site site;

	alloc(100, 0x1000, 10, 0, 1000);
	alloc(100, 0x2000, 20, 0, 1100);
	proc_rec(MS_EV_PROC_EXIT, 100, 0x100, NULL, NULL, 1200);

	cr_assert_eq(store__site(image(0)->store, 0, &site), 0);
	expect_eq(site.live_count, 2, "site live at exit");
	expect_eq(site.live_bytes, 30, "site bytes live at exit");
	expect_eq(site.allocs, 2, "site allocs");
	expect_eq(image(0)->end, PROC_EXITED, "end");
	expect_eq(image(0)->exit_code, 0x100, "exit status");
	expect_eq(live_blocks(100), 0, "no open image");
	expect_eq(procs__current(pt, 100), -ENOENT, "pid closed");
}

/* After an exit, the pid seen again is a new process. */
Test(procs, pid_reuse_after_exit_is_a_new_process)
{
	alloc(100, 0x1000, 10, 0, 1000);
	proc_rec(MS_EV_PROC_EXIT, 100, 0, NULL, NULL, 1100);
	alloc(100, 0x1000, 70, 0, 1200);
	release(100, 0x1000, 1300);

	expect_eq(procs__nr_images(pt), 2, "images");
	expect_eq(image(1)->image, 0, "a new process, not an exec");
	expect_eq(sum_of(0)->live_bytes, 10, "the first keeps its leak");
	expect_eq(sum_of(1)->live_bytes, 0, "the second freed its own");
	expect_eq(procs__summary(pt)->processes, 2, "processes");
}

/* A start of a pid still open: the old one ended without an exit seen. */
Test(procs, pid_reuse_by_start_ends_the_old_process)
{
	alloc(100, 0x1000, 10, 0, 1000);
	proc_rec(MS_EV_PROC_START, 100, 1, "again", NULL, 1100);

	expect_eq(image(0)->end, PROC_REUSED, "old end");
	expect_eq(image(0)->end_ns, 1100, "old end_ns");
	expect_eq(image(1)->end, PROC_RUNNING, "new one runs");
	expect_eq(procs__current(pt, 100), 1, "pid 100 current");
}

/* The peak of all is of the sum at one time, not a sum of peaks. */
Test(procs, peak_over_all_is_of_the_sum)
{
	alloc(100, 0x1000, 100, 0, 1000);
	release(100, 0x1000, 1100);
	alloc(200, 0x1000, 60, 0, 1200);
	alloc(100, 0x2000, 30, 0, 1300);

	expect_eq(sum_of(0)->peak_bytes, 100, "pid 100 peak");
	expect_eq(sum_of(1)->peak_bytes, 60, "pid 200 peak");
	expect_eq(procs__summary(pt)->sum.peak_bytes, 100, "peak of all");
	expect_eq(procs__summary(pt)->sum.peak_ns, 1000, "peak of all at");
	alloc(200, 0x2000, 20, 0, 1400);
	expect_eq(procs__summary(pt)->sum.peak_bytes, 110, "new peak of all");
	expect_eq(procs__summary(pt)->sum.peak_ns, 1400, "new peak at");
}

/* An exited image's bytes leave the sum a later peak is measured on. */
Test(procs, exited_bytes_leave_the_running_sum)
{
	alloc(100, 0x1000, 100, 0, 1000);
	proc_rec(MS_EV_PROC_EXIT, 100, 0, NULL, NULL, 1100);
	alloc(200, 0x1000, 60, 0, 1200);

	expect_eq(procs__summary(pt)->sum.peak_bytes, 100, "peak of all");
	alloc(200, 0x2000, 50, 0, 1300);
	expect_eq(procs__summary(pt)->sum.peak_bytes, 110, "peak of all");
	expect_eq(procs__summary(pt)->sum.live_bytes, 210,
		  "live: at exit and now");
}

/* Processes that come and go leave their sites, not their blocks. */
Test(procs, ended_images_release_block_memory)
{
	size_t before, after;
	__u32 pid;
	__u64 i, ts = 1000;

	for (pid = 1000; pid < 1004; pid++) {
		for (i = 0; i < 4096; i++)
			alloc(pid, 0x100000 + i * 64, 32, i % 4, ts++);
	}
	before = procs__mem_bytes(pt);
	for (pid = 1000; pid < 1004; pid++)
		proc_rec(MS_EV_PROC_EXIT, pid, 0, NULL, NULL, ts++);
	after = procs__mem_bytes(pt);
	cr_assert_lt(after + 4 * 4096 * 48, before,
		     "memory after exits %zu, before %zu: the blocks stayed",
		     after, before);
	expect_eq(procs__summary(pt)->sum.live_allocs, 4 * 4096,
		  "blocks live at exit, counted");
}

Test(procs, bad_records_change_nothing)
{
	struct ms_event e = ev_proc(MS_EV_PROC_START, 0, 1, "x", NULL, 1000);

	cr_expect_eq(procs__apply(pt, &e), -EINVAL, "start of pid 0");
	e = ev_proc(MS_EV_PROC_START, 5, 0, "x", NULL, 1000);
	cr_expect_eq(procs__apply(pt, &e), -EINVAL, "start without parent");
	e = ev_proc(MS_EV_PROC_EXIT, 5, 1ull << 40, NULL, NULL, 1000);
	cr_expect_eq(procs__apply(pt, &e), -EINVAL, "exit code too wide");
	e = ev_rec(MS_EV_ALLOC, 1000);
	e.pid = 5;
	e.nr_frames = MS_MAX_STACK + 1;
	cr_expect_eq(procs__apply(pt, &e), -EINVAL, "too many frames");
	e = ev_rec(MS_EV_ALLOC, 1000);
	e.pid = 0;
	cr_expect_eq(procs__apply(pt, &e), -EINVAL, "alloc of pid 0");
	expect_eq(procs__nr_images(pt), 0, "images");
	expect_eq(procs__summary(pt)->sum.events, 0, "events");
}

Test(procs, set_info_and_kernel)
{
	struct procinfo info = { .pid = 300, .ppid = 1 }, back;
	struct ms_counters c = { .live_bytes = 77 };

	cr_expect_eq(procs__set_kernel(pt, 300, &c), -ENOENT, "no image");
	memset(info.comm, 'x', sizeof(info.comm));
	cr_assert_eq(procs__set_info(pt, &info), 0);
	cr_assert_eq(procs__set_kernel(pt, 300, &c), 0);
	expect_eq(procs__nr_images(pt), 1, "images");
	expect_eq(strlen(image(0)->info.comm), PROCINFO_COMM - 1,
		  "comm terminated");
	cr_expect(image(0)->have_kernel, "have_kernel");
	expect_eq(image(0)->kernel.live_bytes, 77, "kernel live");
	cr_expect_null(image(0)->command, "no command line told");

	/* a command line as long as the buffer: kept cut, given back so */
	memset(info.command, 'c', sizeof(info.command));
	cr_assert_eq(procs__set_info(pt, &info), 0);
	expect_eq(strlen(image(0)->command), PROCINFO_COMMAND - 1,
		  "command cut");
	memset(&back, 0xff, sizeof(back));
	cr_assert_eq(procs__info(pt, 0, &back), 0);
	expect_eq(back.pid, 300, "pid given back");
	expect_eq(back.ppid, 1, "ppid given back");
	expect_eq(strlen(back.comm), PROCINFO_COMM - 1, "comm given back");
	expect_eq(strlen(back.command), PROCINFO_COMMAND - 1,
		  "command given back");
	cr_expect_eq(procs__info(pt, 1, &back), -ENOENT, "no image 1");
	info.pid = 0;
	cr_expect_eq(procs__set_info(pt, &info), -EINVAL, "pid 0");
}

/*
 * Facts saying the image joined late, its probes in at 500 after 300 ns:
 * its store leaves a mismatch whose block was made in [200, 500) to the
 * late count; a later one is judged. A format 8 replay (no end) judges.
 */
Test(procs, late_facts_reach_the_store)
{
	struct procinfo info = { .pid = 300, .flags = PROCINFO_LATE,
				 .late_ns = 300, .late_end_ns = 500 };
	const __u64 m = MS_FAM_MALLOC, n = MS_FAM_NEW;
	struct ms_event e;
	__u64 i;

	cr_assert_eq(procs__set_info(pt, &info), 0);
	for (i = 0; i < 3; i++) {
		if (i == 2) {
			info.pid = 301;
			info.late_end_ns = 0;
			cr_assert_eq(procs__set_info(pt, &info), 0);
		}
		e = ev_rec(MS_EV_ALLOC, i ? 600 : 250);
		e.pid = e.tid = i == 2 ? 301 : 300;
		e.ptr = 0x1000 + i;
		e.size = 8;
		e.aux = m;
		apply(&e);
		e = ev_rec(MS_EV_FREE, 700);
		e.pid = e.tid = i == 2 ? 301 : 300;
		e.ptr = 0x1000 + i;
		e.aux = n;
		e.flags = MS_EVF_FREE_CHECK;
		apply(&e);
	}
	expect_eq(sum_of(0)->late_frees, 1, "pid 300 late frees");
	expect_eq(sum_of(0)->anomalies, 1, "pid 300 anomalies");
	expect_eq(sum_of(1)->late_frees, 0, "pid 301 (no end) late frees");
	expect_eq(sum_of(1)->anomalies, 1, "pid 301 anomalies");
}

/* The leak filter: blocks of at least 20 bytes, older than 100 ns. */
static bool big_and_old(const struct store_block *b, __u64 end_ns, void *ctx)
{
	(void)ctx;
	return b->size >= 20 && end_ns - b->ts_ns > 100;
}

/* An image that ends is judged by the filter at its end, site by site. */
Test(procs, filter_applies_at_the_end_of_an_image)
{
	struct store_site site;

	procs__set_filter(pt, big_and_old, NULL);
	alloc(100, 0x1000, 10, 0, 1000);	/* too small */
	alloc(100, 0x2000, 20, 0, 1010);	/* passes */
	alloc(100, 0x3000, 30, 0, 1150);	/* too young at the exit */
	proc_rec(MS_EV_PROC_EXIT, 100, 0, NULL, NULL, 1200);

	cr_assert_eq(store__site(image(0)->store, 0, &site), 0);
	expect_eq(site.live_count, 3, "site live at exit");
	expect_eq(site.end_count, 1, "site leaks at exit");
	expect_eq(site.end_bytes, 20, "site leaked bytes at exit");
	expect_eq(site.end_oldest, 1010, "oldest leak");
}

/*
 * A short process leaves little: its sites' frames in one block, its
 * timeline's used points, no index of stacks or blocks, no table of
 * anonymous memory it never mapped, no room for more frame pages, and
 * its command line apart from the image's fixed facts (2,164 bytes an
 * image with a 512-byte command inline, an empty anonymous table and 16
 * page pointers each; 1,103 without).
 */
#define ENDED_IMAGE_BUDGET	1280u

Test(procs, short_processes_leave_little)
{
	__u32 pid;

	for (pid = 1000; pid < 1100; pid++) {
		alloc(pid, 0x1000, 10, pid % 4, pid);
		proc_rec(MS_EV_PROC_EXIT, pid, 0, NULL, NULL, pid + 1);
	}
	cr_assert_lt(procs__mem_bytes(pt) / 100, ENDED_IMAGE_BUDGET,
		     "%zu bytes an ended image, over the %u budget",
		     procs__mem_bytes(pt) / 100, ENDED_IMAGE_BUDGET);
	expect_eq(sum_of(99)->live_bytes, 10, "the last one's leak");
	cr_assert_eq(store__nr_stacks(image(99)->store), 1);
}

/*
 * The child's first record drained before its fork's (another CPU's
 * ring): it is that child, not a process the fork ended.
 */
Test(procs, start_after_the_childs_first_record_adopts_it)
{
	alloc(101, 0x1000, 10, 0, 1200);
	proc_rec(MS_EV_PROC_START, 101, 100, "worker", NULL, 1100);
	alloc(101, 0x2000, 20, 0, 1300);

	expect_eq(procs__nr_images(pt), 1, "images");
	expect_eq(image(0)->end, PROC_RUNNING, "still running");
	expect_eq(image(0)->info.ppid, 100, "its parent");
	expect_eq(image(0)->first_ns, 1100, "began at the fork");
	expect_eq(sum_of(0)->live_bytes, 30, "both blocks its own");
	/* A start after that process has run is a new one again. */
	proc_rec(MS_EV_PROC_START, 101, 100, "again", NULL, 1400);
	expect_eq(procs__nr_images(pt), 2, "a new process");
	expect_eq(image(0)->end, PROC_REUSED, "the first ended");
}

/* Starts and execs while the table grows: every image where it belongs. */
Test(procs, lifecycle_while_the_table_grows)
{
	__u32 pid;
	__u64 ts = 1000;

	for (pid = 200; pid < 300; pid++) {
		alloc(pid, 0x1000, pid, 0, ts++);
		proc_rec(MS_EV_PROC_START, pid, 1, "again", NULL, ts++);
		proc_rec(MS_EV_PROC_EXEC, pid, 0, "next", "/bin/next", ts++);
		alloc(pid, 0x1000, 1, 0, ts++);
	}
	expect_eq(procs__nr_images(pt), 300, "images");
	expect_eq(image(297)->info.pid, 299, "last pid's images");
	expect_eq(image(297)->end, PROC_REUSED, "ended by the start");
	expect_eq(image(298)->end, PROC_EXECED, "ended by the exec");
	expect_eq(image(298)->info.ppid, 1, "parent of the start");
	expect_eq(image(299)->image, 1, "after the exec");
	expect_eq(sum_of(297)->live_bytes, 299, "first image's block");
	expect_eq(sum_of(299)->live_bytes, 1, "last image's block");
}

/*
 * In a trace from the start, a free of an address never allocated is an
 * invalid free, but not in a forked child before its exec: its heap is a
 * copy of its parent's, whose blocks it may free (a shell's subshell, a
 * server's worker). There it is an unknown free; after its exec the heap
 * is new again.
 */
Test(procs, forked_heap_frees_are_not_invalid)
{
	struct ms_event e;
	__u32 pid;

	alloc(100, 0x1000, 10, 0, 1000);
	proc_rec(MS_EV_PROC_START, 101, 100, "worker", NULL, 1100);
	proc_rec(MS_EV_PROC_START, 102, 100, "worker", NULL, 1150);
	proc_rec(MS_EV_PROC_EXEC, 102, 0, "other", "/bin/other", 1160);
	for (pid = 100; pid <= 102; pid++) {
		e = ev_rec(MS_EV_FREE, 1200 + pid);
		e.pid = e.tid = pid;
		e.ptr = pid == 101 ? 0x1000 : 0x9000;
		e.flags = MS_EVF_FREE_CHECK | MS_EVF_FROM_START;
		apply(&e);
	}
	expect_eq(store__nr_anomalies(image(1)->store), 0,
		  "the forked child's free of its parent's block");
	expect_eq(sum_of(1)->unknown_frees, 1, "counted as unknown");
	expect_eq(store__nr_anomalies(image(0)->store), 1,
		  "the parent's own free of a never allocated address");
	expect_eq(store__nr_anomalies(image(3)->store), 1,
		  "after the child's exec, its heap is new");
}

/* pid's block made by new while unprobed (malloc's tag), freed by delete. */
static void new_then_delete(__u32 pid, __u64 ptr, __u64 alloc_ts,
			    __u64 free_ts)
{
	struct ms_event e = ev_rec(MS_EV_ALLOC, alloc_ts);

	e.pid = e.tid = pid;
	e.ptr = ptr;
	e.size = 8;
	e.aux = MS_FAM_MALLOC;
	apply(&e);
	e = ev_rec(MS_EV_FREE, free_ts);
	e.pid = e.tid = pid;
	e.ptr = ptr;
	e.aux = MS_FAM_NEW;
	e.flags = MS_EVF_FREE_CHECK;
	apply(&e);
}

/*
 * The tracer placed probes for a process that had exec'd a C++ program
 * before the drain delivered the exec's record: the window goes to the
 * program's image too (from its exec on), not only to the image current
 * then; new's blocks made before the probes were in are not judged.
 */
Test(procs, late_window_reaches_an_exec_not_yet_seen)
{
	const struct proc_image *im;

	proc_rec(MS_EV_PROC_START, 400, 1, "sh", "", 100);
	cr_assert_eq(procs__late(pt, 400, 0, 150, 100), 1);
	proc_rec(MS_EV_PROC_EXEC, 400, 0, "prog", "/prog", 160);
	cr_assert(procs__took_late(pt));
	new_then_delete(400, 0x1000, 170, 300);
	im = image(1);
	cr_assert(im->info.flags & PROCINFO_LATE, "the exec'd image not late");
	expect_eq(im->info.late_ns, 90, "late ns, from its exec");
	expect_eq(im->info.late_end_ns, 250, "late end");
	expect_eq(sum_of(1)->late_frees, 1, "late frees");
	expect_eq(sum_of(1)->anomalies, 0, "anomalies");
	/* /proc's facts, read after, keep it */
	struct procinfo info = { .pid = 400, .start_ns = 160 };
	cr_assert_eq(procs__set_info(pt, &info), 0);
	cr_assert(image(1)->info.flags & PROCINFO_LATE);
	/* an image begun after the window takes none, and the note goes */
	proc_rec(MS_EV_PROC_EXEC, 400, 0, "prog2", "/prog2", 260);
	cr_assert(!procs__took_late(pt));
	cr_assert(!(image(2)->info.flags & PROCINFO_LATE));
	new_then_delete(400, 0x2000, 270, 300);
	expect_eq(sum_of(2)->anomalies, 1, "anomalies after the window");
}

/* A lifecycle record of pid with the kernel's generation gen. */
static void proc_gen(__u16 type, __u32 pid, __u32 gen, const char *name,
		     __u64 ts)
{
	struct ms_event e = ev_proc(type, pid, 1, name, name, ts);

	e.seq = gen;
	apply(&e);
}

/*
 * A shell's fork about to exec a program, the exec not drained yet when
 * the tracer placed the program's probes (for kernel generation 2): the
 * fork, which ran the shell's probed code, is not late, even where the
 * window began before the exec (the exec's own mappings); the program is,
 * from its exec. A later exec of it, after the window, is not.
 */
Test(procs, late_window_skips_a_fork_the_exec_ended)
{
	proc_gen(MS_EV_PROC_START, 600, 1, "sh", 100);
	cr_assert_eq(procs__late(pt, 600, 2, 150, 100), 0);
	cr_assert(!(image(0)->info.flags & PROCINFO_LATE), "the fork late");
	proc_gen(MS_EV_PROC_EXEC, 600, 2, "prog", 160);
	cr_assert(procs__took_late(pt));
	cr_assert(!(image(0)->info.flags & PROCINFO_LATE), "the fork late");
	cr_assert(image(1)->info.flags & PROCINFO_LATE, "the program not late");
	expect_eq(image(1)->info.late_ns, 90, "late ns, from its exec");
	expect_eq(image(1)->info.late_end_ns, 250, "late end");
	proc_gen(MS_EV_PROC_EXEC, 600, 3, "prog2", 300);
	cr_assert(!procs__took_late(pt));
	cr_assert(!(image(2)->info.flags & PROCINFO_LATE));
}

/*
 * Probes for the image current then (its generation, or one not known)
 * go to it, and to an exec of it within the window as before.
 */
Test(procs, late_window_of_the_current_image)
{
	proc_gen(MS_EV_PROC_START, 700, 1, "sh", 100);
	cr_assert_eq(procs__late(pt, 700, 1, 140, 100), 1);
	expect_eq(image(0)->info.late_ns, 100, "the current image's window");
	proc_gen(MS_EV_PROC_EXEC, 700, 2, "prog", 160);
	cr_assert(procs__took_late(pt));
	expect_eq(image(1)->info.late_ns, 80, "the exec's, from its start");
}

/*
 * /proc's facts of an image its record began keep the record's start:
 * /proc's is the process's fork, in clock ticks, for an exec'd image
 * too. One seen from the middle takes /proc's.
 */
Test(procs, info_keeps_the_record_start)
{
	struct procinfo info = { .pid = 800, .start_ns = 90000000 };

	proc_gen(MS_EV_PROC_START, 800, 1, "sh", 95000123);
	proc_gen(MS_EV_PROC_EXEC, 800, 2, "prog", 96000456);
	cr_assert_eq(procs__set_info(pt, &info), 0);
	expect_eq(image(1)->info.start_ns, 96000456, "the exec's start");
	info.pid = 801;
	cr_assert_eq(procs__set_info(pt, &info), 0);
	expect_eq(image(2)->info.start_ns, 90000000, "one from the middle");
}

/* A process no record has shown yet: its first record's image takes it. */
Test(procs, late_window_waits_for_a_process_not_yet_seen)
{
	cr_assert_eq(procs__late(pt, 500, 0, 100, 50), 0);
	new_then_delete(500, 0x1000, 120, 400);
	expect_eq(sum_of(0)->late_frees, 1, "late frees");
	expect_eq(sum_of(0)->anomalies, 0, "anomalies");
	/* gone: a new process of the pid takes nothing */
	proc_rec(MS_EV_PROC_EXIT, 500, 0, "", "", 130);
	proc_rec(MS_EV_PROC_START, 500, 1, "x", "", 140);
	cr_assert(!(image(1)->info.flags & PROCINFO_LATE));
}

/*
 * A short program gone before its file was examined, its records all
 * applied: its ended image takes the window, no longer than it ran; an
 * image of another generation, or one still running, does not. A window
 * taken while the image ran, its end drained after, stops at its end.
 */
Test(procs, late_window_of_an_ended_image)
{
	proc_gen(MS_EV_PROC_START, 900, 1, "sh", 100);
	proc_gen(MS_EV_PROC_EXEC, 900, 2, "prog", 200);
	proc_rec(MS_EV_PROC_EXIT, 900, 0, NULL, NULL, 230);
	cr_expect_eq(procs__late_ended(pt, 900, 3, 200, 500), -ENOENT,
		     "another generation");
	cr_expect_eq(procs__late_ended(pt, 901, 2, 200, 500), -ENOENT,
		     "another pid");
	cr_assert_eq(procs__late_ended(pt, 900, 2, 200, 500), 1);
	cr_assert(image(1)->info.flags & PROCINFO_LATE, "the program late");
	expect_eq(image(1)->info.late_ns, 30, "late ns: its life");
	cr_assert(!(image(0)->info.flags & PROCINFO_LATE), "the fork late");
	cr_expect_eq(procs__late_ended(pt, 900, 2, 200, 500), 0, "again");

	proc_gen(MS_EV_PROC_START, 902, 1, "sh", 1000);
	cr_expect_eq(procs__late_ended(pt, 902, 1, 1000, 500), -ENOENT,
		     "a running image");
	cr_assert_eq(procs__late(pt, 902, 1, 1000, 500), 1);
	proc_rec(MS_EV_PROC_EXIT, 902, 0, NULL, NULL, 1040);
	expect_eq(image(2)->info.late_ns, 40, "a window past its exit");
	expect_eq(image(2)->info.late_end_ns, 1500, "when its probes went in");
}

/* pid allocates from n stacks of depth frames each, then exits. */
static void run_many(struct procs *p, __u32 pid, unsigned n, unsigned depth,
		     __u64 *ts)
{
	__u64 frames[16];
	unsigned k, f;

	for (k = 0; k < n; k++) {
		struct ms_event e = ev_rec(MS_EV_ALLOC, (*ts)++);

		for (f = 0; f < depth; f++)
			frames[f] = 0x400000 + pid * 0x1000 + k * 0x40 + f;
		e.pid = pid;
		e.tid = pid;
		e.ptr = 0x10000 + k * 64;
		e.size = 16 + k;
		ev_stack(&e, frames, depth);
		cr_assert_eq(procs__apply(p, &e), 0);
	}
	{
		struct ms_event e = ev_proc(MS_EV_PROC_EXIT, pid, 0, NULL,
					    NULL, (*ts)++);

		cr_assert_eq(procs__apply(p, &e), 0);
	}
}

static void expect_same_sites(const struct store *a, const struct store *b,
			      size_t image)
{
	struct store_site x, y;
	__u32 i;

	cr_assert_eq(store__nr_stacks(a), store__nr_stacks(b),
		     "image %zu: %u stacks, spilled %u", image,
		     store__nr_stacks(a), store__nr_stacks(b));
	for (i = 0; i < store__nr_stacks(a); i++) {
		cr_assert_eq(store__site(a, i, &x), 0);
		cr_assert_eq(store__site(b, i, &y), 0, "image %zu site %u "
			     "read back", image, i);
		cr_assert_eq(x.nr_frames, y.nr_frames);
		cr_assert_eq(memcmp(x.frames, y.frames,
				    x.nr_frames * sizeof(*x.frames)), 0,
			     "image %zu site %u: other frames", image, i);
		cr_assert_eq(x.allocs, y.allocs);
		cr_assert_eq(x.end_bytes, y.end_bytes);
		cr_assert_eq(x.live_bytes, y.live_bytes);
	}
}

/*
 * Ended images' sites go to the spill file but the last ones, come back
 * whole when read, and go again when released: a long trace of a busy
 * set stays bounded, its report the same.
 */
Test(procs, ended_images_spill_and_read_back)
{
	struct procs *kept = procs__new();
	size_t i, n = 40, before, spilled, read, released;
	__u64 ts = 1000, ts2 = 1000;
	__u32 pid;

	cr_assert_not_null(kept);
	cr_assert_eq(procs__set_spill(pt, "/tmp", 4), 0, "spill file in /tmp");
	cr_assert_eq(procs__set_spill(pt, "/tmp", 4), -EBUSY);
	for (pid = 1000; pid < 1000 + n; pid++) {
		run_many(pt, pid, 32, 12, &ts);
		run_many(kept, pid, 32, 12, &ts2);
	}
	before = procs__mem_bytes(kept);
	spilled = procs__mem_bytes(pt);
	cr_assert_lt(spilled * 4, before,
		     "%zu bytes with 36 of 40 images spilled, %zu without",
		     spilled, before);
	for (i = 0; i < n; i++)
		expect_same_sites(procs__image(kept, i)->store,
				  procs__image(pt, i)->store, i);
	read = procs__mem_bytes(pt);
	cr_assert_geq(read, before, "read back: %zu bytes, in memory %zu",
		      read, before);
	for (i = 0; i < n; i++)
		procs__release(pt, i);
	released = procs__mem_bytes(pt);
	cr_assert_lt(released * 4, before, "released: %zu bytes", released);
	/* and again, from the copy already written */
	for (i = 0; i < n; i++)
		expect_same_sites(procs__image(kept, i)->store,
				  procs__image(pt, i)->store, i);
	expect_eq(procs__summary(pt)->sum.allocs, 40 * 32, "allocs");
	procs__free(kept);
}

/* An open image is never spilled; a dir with no room for a file: none. */
Test(procs, spill_leaves_open_images_and_needs_a_file)
{
	__u64 ts = 1000;
	struct store_site site;

	cr_assert_eq(procs__set_spill(pt, "/nonexistent-memscope", 0),
		     -ENOENT);
	run_many(pt, 10, 4, 3, &ts);
	cr_assert_eq(procs__set_spill(pt, "/tmp", 0), 0);
	alloc(20, 0x1000, 10, 0, ts++);
	procs__release(pt, 1);
	cr_assert_eq(store__site(image(1)->store, 0, &site), 0);
	expect_eq(site.live_count, 1, "the open image's site");
	run_many(pt, 30, 4, 3, &ts);
	cr_assert_eq(store__site(image(2)->store, 3, &site), 0);
	expect_eq(site.allocs, 1, "spilled at its end, read back");
}
