/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The report model built from a real store fed with hand-made records,
 * and its text and JSON forms.
 *
 * The trace (ms after the start, stacks A..E):
 *    100 alloc A p1 100      1000 free p2          2200 alloc E p10 100
 *    200 alloc B p2 300      1100 alloc A p5 100        (peak: 700 bytes)
 *    300 alloc C p3 50       1200 alloc B p6 200   3000 free p7
 *    400 alloc C p4 50       1300 alloc C p7 50    3100 realloc B p6->p11 250
 *                            1400 alloc C p8 50    3200 free unknown
 *                            2000 free p1          3300 alloc A fails
 *                            2100 alloc D p9 100
 *
 * Live at the end: A 100/1 (oldest 1100), B 250/1 (3100), C 150/3 (300),
 * D 100/1 (2100, no stack), E 100/1 (2200, stack cut at MS_MAX_STACK).
 * At the peak: A 100/1, B 200/1, C 200/4, D 100/1, E 100/1.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "frame_table.h"
#include "prologue.h"
#include "report.h"
#include "report_text.h"
#include "store.h"
#include "builders.h"
#include "expect.h"

#define START_NS	1000000000ull
#define MS		1000000ull
#define AT(ms)		(START_NS + (ms) * MS)

static const __u64 stack_a[] = { 0x1000, 0x2000, 0x3000 };
static const __u64 stack_b[] = { 0x1100, 0x2000, 0x3000 };
static const __u64 stack_c[] = { 0x1200, 0x3000 };
/* stack E: MS_MAX_STACK frames from here, 0x10 apart */
#define DEEP_BASE	0x5000ull

#define HOSTILE_FN	"evil\"name\x01</script>"
#define NR_ADDRS	(5 + MS_MAX_STACK)	/* distinct frame addresses */

struct fake_resolver {
	int calls;
	int calls_per_addr[NR_ADDRS];
	/* reused by every call, like a resolver whose strings do not last */
	char fn[64], file[64], obj[64];
};

static struct fake_resolver res;

static int addr_slot(__u64 addr)
{
	static const __u64 named[] = { 0x1000, 0x1100, 0x1200, 0x2000, 0x3000 };
	int i;

	for (i = 0; i < 5; i++) {
		if (named[i] == addr)
			return i;
	}
	cr_assert(addr >= DEEP_BASE && addr < DEEP_BASE + 0x10 * MS_MAX_STACK,
		  "resolver asked for unexpected address 0x%llx",
		  (unsigned long long)addr);
	return 5 + (int)((addr - DEEP_BASE) / 0x10);
}

static void fake_resolve_one(void *ctx, __u64 addr, struct frame *out)
{
	struct fake_resolver *fr = ctx;

	fr->calls++;
	fr->calls_per_addr[addr_slot(addr)]++;
	switch (addr) {
	case 0x1000:
		snprintf(fr->fn, sizeof(fr->fn), "%s", HOSTILE_FN);
		snprintf(fr->file, sizeof(fr->file), "a.c");
		out->function = fr->fn;
		out->file = fr->file;
		out->line = 10;
		break;
	case 0x1100:
		snprintf(fr->fn, sizeof(fr->fn), "b_alloc");
		snprintf(fr->file, sizeof(fr->file), "b.c");
		out->function = fr->fn;
		out->file = fr->file;
		out->line = 20;
		break;
	case 0x1200:
		snprintf(fr->fn, sizeof(fr->fn), "c_alloc");
		snprintf(fr->obj, sizeof(fr->obj), "/lib/libc.so.6");
		out->function = fr->fn;
		out->object = fr->obj;
		out->object_offset = 0x1234;
		break;
	case 0x2000:
		snprintf(fr->obj, sizeof(fr->obj), "/lib/libfoo.so");
		out->object = fr->obj;
		out->object_offset = 0x42;
		break;
	case 0x3000:
		break;
	default:
		snprintf(fr->fn, sizeof(fr->fn), "deep_%llu",
			 (unsigned long long)(addr - DEEP_BASE) / 0x10);
		out->function = fr->fn;
	}
}

/* The frame_resolve_fn: one frame per address, filled by fake_resolve_one. */
static unsigned fake_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;

	fr = (struct frame){ .addr = addr };
	fake_resolve_one(ctx, addr, &fr);
	*out = &fr;
	return 1;
}

#define NR(a)	(sizeof(a) / sizeof(*(a)))
#define ALLOC(s, ms, p, n, st)	ev_alloc(s, p, n, 0, st, NR(st), AT(ms))
#define FREE(s, ms, p)		ev_free(s, p, AT(ms))

static struct store *make_store(void)
{
	struct store *s = store__new();
	__u64 deep[MS_MAX_STACK];
	struct ms_event e;
	int i;

	cr_assert_not_null(s, "store__new: %s", strerror(errno));
	for (i = 0; i < MS_MAX_STACK; i++)
		deep[i] = DEEP_BASE + 0x10 * i;

	ALLOC(s, 100, 0xa1, 100, stack_a);
	ALLOC(s, 200, 0xa2, 300, stack_b);
	ALLOC(s, 300, 0xa3, 50, stack_c);
	ALLOC(s, 400, 0xa4, 50, stack_c);
	FREE(s, 1000, 0xa2);
	ALLOC(s, 1100, 0xa5, 100, stack_a);
	ALLOC(s, 1200, 0xa6, 200, stack_b);
	ALLOC(s, 1300, 0xa7, 50, stack_c);
	ALLOC(s, 1400, 0xa8, 50, stack_c);
	FREE(s, 2000, 0xa1);
	e = ev_rec(MS_EV_ALLOC, AT(2100));
	e.ptr = 0xa9;
	e.size = 100;
	e.flags = MS_EVF_STACK_ERR;
	ev_apply(s, &e);
	e = ev_rec(MS_EV_ALLOC, AT(2200));
	e.ptr = 0xaa;
	e.size = 100;
	e.flags = MS_EVF_STACK_TRUNC;
	ev_stack(&e, deep, MS_MAX_STACK);
	ev_apply(s, &e);
	FREE(s, 3000, 0xa7);
	ev_realloc(s, 0xa6, 0, 0xab, 250, 0, stack_b, 3, AT(3100));
	FREE(s, 3200, 0xdead);
	ALLOC(s, 3300, 0, 100, stack_a);
	return s;
}

static const struct attach_probe probes[] = {
	{ .object = "/lib/libc.so.6", .symbol = "malloc", .offset = 0x9a0e0,
	  .func_offset = 0, .reason = PROLOGUE_STACK_CHANGED },
	{ .object = "/lib/libc.so.6", .symbol = "malloc", .offset = 0x9a1f3,
	  .func_offset = 0x113, .is_return = true, .emulated = true },
};

static struct report_target target = {
	.pid = 4242, .mode = TRACE_MODE_DEFAULT, .start_ns = START_NS,
	.duration_ns = 10000 * MS,
};

static struct report *build(struct store *s, size_t top,
			    const struct ms_counters *kernel)
{
	struct report_opts opts = {
		.top = top, .resolve = fake_resolve, .resolve_ctx = &res,
	};
	struct report *r;

	memset(&res, 0, sizeof(res));
	r = report__build(s, &target, kernel, probes, 2, &opts);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	/* the resolver's strings die here; the report must not care */
	memset(res.fn, 'X', sizeof(res.fn) - 1);
	memset(res.file, 'X', sizeof(res.file) - 1);
	memset(res.obj, 'X', sizeof(res.obj) - 1);
	return r;
}

static void expect_site(const struct report_site *s, const char *name,
			__u64 count, __u64 bytes, __u64 first_addr)
{
	cr_expect_eq(s->count, count, "site %s: count %llu, want %llu", name,
		     (unsigned long long)s->count, (unsigned long long)count);
	cr_expect_eq(s->bytes, bytes, "site %s: bytes %llu, want %llu", name,
		     (unsigned long long)s->bytes, (unsigned long long)bytes);
	if (!first_addr) {
		cr_expect_eq(s->nr_frames, 0, "site %s: has frames", name);
		return;
	}
	cr_assert_gt(s->nr_frames, 0, "site %s: no frames", name);
	cr_expect_eq(s->frames[0].addr, first_addr,
		     "site %s: innermost frame 0x%llx, want 0x%llx", name,
		     (unsigned long long)s->frames[0].addr,
		     (unsigned long long)first_addr);
}

Test(report, leaks_grouped_sorted_with_oldest)
{
	struct store *s = make_store();
	struct report *r = build(s, 0, NULL);
	const struct report_site *l = r->leaks;

	cr_assert_eq(r->nr_leaks, 5, "nr_leaks %zu, want 5", r->nr_leaks);
	/* bytes desc, then count desc, then first seen stack */
	expect_site(&l[0], "B", 1, 250, 0x1100);
	expect_site(&l[1], "C", 3, 150, 0x1200);
	expect_site(&l[2], "A", 1, 100, 0x1000);
	expect_site(&l[3], "D", 1, 100, 0);
	expect_site(&l[4], "E", 1, 100, DEEP_BASE);
	cr_expect_eq(l[0].oldest_ns, 3100 * MS);
	cr_expect_eq(l[1].oldest_ns, 300 * MS);
	cr_expect_eq(l[2].oldest_ns, 1100 * MS);
	cr_expect_eq(l[3].oldest_ns, 2100 * MS);
	cr_expect_eq(l[4].oldest_ns, 2200 * MS);
	cr_expect_eq(l[3].flags, MS_EVF_STACK_ERR);
	cr_expect_eq(l[4].flags, MS_EVF_STACK_TRUNC);
	cr_expect_eq(l[4].nr_frames, MS_MAX_STACK);
	cr_expect_eq(l[1].nr_frames, 2);
	report__free(r);
	store__free(s);
}

Test(report, oldest_is_the_earliest_live_block)
{
	struct store *s = store__new();
	struct report *r;

	cr_assert_not_null(s);
	/* records may arrive out of time order across CPUs */
	ALLOC(s, 900, 0xb1, 10, stack_a);
	ALLOC(s, 500, 0xb2, 10, stack_a);
	ALLOC(s, 700, 0xb3, 10, stack_a);
	/* a stack with nothing left live is no leak */
	ALLOC(s, 800, 0xb4, 10, stack_b);
	FREE(s, 1000, 0xb4);
	r = report__build(s, &target, NULL, NULL, 0, NULL);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	cr_assert_eq(r->nr_leaks, 1);
	cr_expect_eq(r->leaks[0].count, 3);
	/* neither the first nor the last block seen */
	cr_expect_eq(r->leaks[0].oldest_ns, 500 * MS, "oldest %llu ns",
		     (unsigned long long)r->leaks[0].oldest_ns);
	report__free(r);
	store__free(s);
}

Test(report, oldest_clamped_at_start)
{
	struct store *s = make_store();
	struct report_target late = target;
	struct report *r;

	late.start_ns = AT(1000);
	r = report__build(s, &late, NULL, NULL, 0, NULL);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	cr_assert_eq(r->nr_leaks, 5);
	cr_expect_eq(r->leaks[1].oldest_ns, 0, "C began before the start");
	cr_expect_eq(r->leaks[0].oldest_ns, 2100 * MS);
	report__free(r);
	store__free(s);
}

Test(report, peak_by_stack)
{
	struct store *s = make_store();
	struct report *r = build(s, 0, NULL);
	const struct report_site *p = r->peak;

	cr_expect_eq(r->summary.peak_bytes, 700);
	cr_expect_eq(report__since_start(r, r->summary.peak_ns), 2200 * MS);
	cr_assert_eq(r->nr_peak, 5, "nr_peak %zu, want 5", r->nr_peak);
	expect_site(&p[0], "C", 4, 200, 0x1200);
	expect_site(&p[1], "B", 1, 200, 0x1100);
	expect_site(&p[2], "A", 1, 100, 0x1000);
	expect_site(&p[3], "D", 1, 100, 0);
	expect_site(&p[4], "E", 1, 100, DEEP_BASE);
	report__free(r);
	store__free(s);
}

Test(report, top_limits_both_lists)
{
	struct store *s = make_store();
	struct report *r = build(s, 2, NULL);

	cr_assert_eq(r->nr_leaks, 2);
	cr_assert_eq(r->nr_peak, 2);
	expect_site(&r->leaks[0], "B", 1, 250, 0x1100);
	expect_site(&r->leaks[1], "C", 3, 150, 0x1200);
	expect_site(&r->peak[0], "C", 4, 200, 0x1200);
	expect_site(&r->peak[1], "B", 1, 200, 0x1100);
	/*
	 * Merging by resolved frames needs every site resolved before the
	 * top is taken, but each distinct address only once.
	 */
	cr_expect_eq(res.calls, NR_ADDRS, "resolver called %d times, want %d",
		     res.calls, NR_ADDRS);
	report__free(r);
	store__free(s);
}

/* 0x7xxx addresses: one function per 0x100, one line per 0x10 in it. */
static void line_resolve_one(void *ctx, __u64 addr, struct frame *out)
{
	static const char *const fns[] = { "hot", "main" };

	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	if (addr < 0x7000 || addr >= 0x7200)
		return;
	out->function = fns[(addr - 0x7000) >> 8];
	out->file = "hot.c";
	out->line = (addr & 0xff) >> 4;
	out->object = "/bin/hot";
}

/* The frame_resolve_fn: one frame per address, filled by line_resolve_one. */
static unsigned line_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;

	fr = (struct frame){ .addr = addr };
	line_resolve_one(ctx, addr, &fr);
	*out = &fr;
	return 1;
}

Test(report, sites_merged_by_resolved_frames)
{
	/* two return addresses on one line of hot(), the same caller */
	static const __u64 st1[] = { 0x7012, 0x7100 };
	static const __u64 st2[] = { 0x7018, 0x7100 };
	/* another line of hot(): stays apart */
	static const __u64 st3[] = { 0x7020, 0x7100 };
	/* unresolved frames only match their own address */
	static const __u64 st4[] = { 0x9000 };
	static const __u64 st5[] = { 0x9008 };
	struct report_opts opts = { .resolve = line_resolve };
	struct report_target tgt = { .pid = 1, .start_ns = AT(0) };
	struct store *s = store__new();
	struct report *r;

	cr_assert(s);
	ALLOC(s, 1, 0xb1, 100, st1);
	ALLOC(s, 2, 0xb2, 50, st2);
	ALLOC(s, 3, 0xb3, 10, st3);
	ALLOC(s, 4, 0xb4, 5, st4);
	ALLOC(s, 5, 0xb5, 5, st5);
	r = report__build(s, &tgt, NULL, NULL, 0, &opts);
	cr_assert(r);
	cr_assert_eq(r->nr_leaks, 4, "nr_leaks %zu, want 4", r->nr_leaks);
	cr_expect_eq(r->leaks[0].count, 2);
	cr_expect_eq(r->leaks[0].bytes, 150);
	cr_expect_eq(r->leaks[0].oldest_ns, 1 * MS);
	cr_expect_eq(r->leaks[1].bytes, 10);
	cr_expect_eq(r->leaks[2].count, 1);
	cr_expect_eq(r->leaks[3].count, 1);
	report__free(r);
	store__free(s);
}

Test(report, frames_resolved_once_and_copied)
{
	struct store *s = make_store();
	struct report *r = build(s, 0, NULL);
	const struct frame *a = r->leaks[2].frames;
	const struct frame *c = r->leaks[1].frames;
	int i;

	cr_expect_eq(res.calls, NR_ADDRS, "resolver called %d times for %d "
		     "addresses", res.calls, NR_ADDRS);
	for (i = 0; i < NR_ADDRS; i++)
		cr_expect_eq(res.calls_per_addr[i], 1,
			     "address #%d resolved %d times", i,
			     res.calls_per_addr[i]);

	cr_expect_str_eq(a[0].function, HOSTILE_FN);
	cr_expect_str_eq(a[0].file, "a.c");
	cr_expect_eq(a[0].line, 10);
	cr_expect_null(a[1].function);
	cr_expect_str_eq(a[1].object, "/lib/libfoo.so");
	cr_expect_eq(a[1].object_offset, 0x42);
	cr_expect_null(a[2].object);
	cr_expect_eq(a[2].addr, 0x3000);
	cr_expect_str_eq(c[0].function, "c_alloc");
	cr_expect_null(c[0].file);
	cr_expect_str_eq(r->leaks[4].frames[63].function, "deep_63");
	report__free(r);
	store__free(s);
}

Test(report, without_resolver_only_addresses)
{
	struct store *s = make_store();
	struct report *r = report__build(s, &target, NULL, NULL, 0, NULL);
	const struct frame *fr;

	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	cr_assert_eq(r->nr_leaks, 5);
	fr = &r->leaks[0].frames[0];
	cr_expect_eq(fr->addr, 0x1100);
	cr_expect(!fr->function && !fr->file && !fr->object && !fr->line,
		  "unresolved frame has symbol data");
	report__free(r);
	store__free(s);
}

Test(report, copies_summary_kernel_target_probes)
{
	struct store *s = make_store();
	struct ms_counters k = { .allocs = 20, .lost_events = 9 };
	char cmd[] = "prog --flag";
	struct report_target t = target;
	struct attach_probe pr[2];
	char sym[] = "malloc";
	struct report *r;

	memcpy(pr, probes, sizeof(pr));
	pr[1].symbol = sym;
	t.command = cmd;
	r = report__build(s, &t, &k, pr, 2, NULL);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	memset(cmd, 'X', sizeof(cmd) - 1);
	memset(sym, 'X', sizeof(sym) - 1);

	cr_expect_str_eq(r->target.command, "prog --flag");
	cr_expect_eq(r->target.mode, TRACE_MODE_DEFAULT);
	cr_expect(r->have_kernel);
	cr_expect_eq(r->kernel.allocs, 20);
	cr_expect_eq(r->kernel.lost_events, 9);
	cr_expect_eq(r->summary.allocs, 11);
	cr_expect_eq(r->summary.frees, 4);
	cr_expect_eq(r->summary.live_allocs, 7);
	cr_expect_eq(r->summary.live_bytes, 700);
	cr_expect_eq(r->summary.failed_allocs, 1);
	cr_expect_eq(r->summary.unknown_frees, 1);
	cr_assert_eq(r->nr_probes, 2);
	cr_expect_str_eq(r->probes[1].symbol, "malloc");
	cr_expect_eq(r->probes[1].func_offset, 0x113);
	cr_expect(r->probes[1].is_return && r->probes[1].emulated);
	report__free(r);
	store__free(s);
}

Test(report, build_rejects_bad_arguments)
{
	struct store *s = make_store();

	errno = 0;
	cr_expect_null(report__build(NULL, &target, NULL, NULL, 0, NULL));
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_null(report__build(s, NULL, NULL, NULL, 0, NULL));
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_null(report__build(s, &target, NULL, NULL, 1, NULL));
	cr_expect_eq(errno, EINVAL);
	store__free(s);
}

static char *text_of(const struct report *r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	int err;

	cr_assert_not_null(f);
	err = report__write_text(r, f);
	fclose(f);
	cr_assert_eq(err, 0, "report__write_text: %d", err);
	return buf;
}

static void expect_has(const char *hay, const char *needle, const char *what)
{
	cr_expect_not_null(strstr(hay, needle),
			   "%s: \"%s\" missing from:\n%s", what, needle, hay);
}

Test(report, text_has_sections_sites_and_frames)
{
	struct store *s = make_store();
	struct report_target t = target;
	struct report *r;
	char *txt, cut[256];

	t.command = "prog --flag";
	r = report__build(s, &t, NULL, NULL, 0, &(struct report_opts){
		.resolve = fake_resolve, .resolve_ctx = &res });
	cr_assert_not_null(r);
	txt = text_of(r);

	expect_has(txt, "memscope-bpf report: pid 4242 (prog --flag), "
		   "traced for 10.000 s, mode default\n", "header");
	expect_has(txt, "captured", "label");
	expect_has(txt, "  allocations    11, 1.3 KiB (1350 bytes)\n", "totals");
	expect_has(txt, "  live now       7 blocks, 700 bytes\n", "live");
	expect_has(txt, "  peak           700 bytes at 2.200 s\n", "peak");
	expect_has(txt, "\nTop leaking call sites (live at end)\n"
		   "  #1  250 bytes in 1 block (malloc), oldest allocated at 3.100 s "
		   "(age 6.900 s)\n"
		   "        b_alloc (b.c:20)\n"
		   "        /lib/libfoo.so+0x42\n"
		   "        0x3000\n"
		   "  #2  150 bytes in 3 blocks (malloc)", "first leak");
	expect_has(txt, "        c_alloc (/lib/libc.so.6+0x1234)\n", "object");
	expect_has(txt, "        evil\"name\\x01</script> (a.c:10)\n",
		   "control characters shown, not sent");
	expect_has(txt, "  #4  100 bytes in 1 block (malloc), oldest allocated at "
		   "2.100 s (age 7.900 s)\n"
		   "        (no stack captured)\n", "no stack");
	snprintf(cut, sizeof(cut), "        deep_11 (0x50b0)\n"
		 "        ... %d more frames\n"
		 "        (stack cut at %d frames)\n", MS_MAX_STACK - 12,
		 MS_MAX_STACK);
	expect_has(txt, cut, "truncated");
	expect_has(txt, "\nTop call sites at the peak\n"
		   "  #1  200 bytes in 4 blocks (malloc)\n", "peak section");
	cr_expect_null(strstr(txt, "WARNING"), "warning without loss:\n%s",
		       txt);
	cr_expect_null(strstr(txt, "Kernel counters"),
		       "kernel line without kernel counters:\n%s", txt);
	free(txt);
	report__free(r);
	store__free(s);
}

/*
 * A site whose stacks stopped before the program's entry says why under
 * its frames; one that ended whole, or was cut at the depth limit (which
 * says so by its count), does not.
 */
Test(report, text_says_where_a_stack_stopped_early)
{
	struct store *s = store__new();
	struct report_target t = target;
	struct ms_event e;
	struct report *r;
	char *txt;

	cr_assert_not_null(s);
	e = ev_rec(MS_EV_ALLOC, AT(100));
	e.ptr = 0xb1;
	e.size = 300;
	e.flags = MS_STOP_NOT_LOADED << MS_EVF_STOP_SHIFT;
	ev_stack(&e, stack_b, NR(stack_b));
	ev_apply(s, &e);
	ALLOC(s, 200, 0xb2, 200, stack_a);
	r = report__build(s, &t, NULL, NULL, 0, &(struct report_opts){
		.resolve = fake_resolve, .resolve_ctx = &res });
	cr_assert_not_null(r);
	txt = text_of(r);
	expect_has(txt, "  #1  300 bytes in 1 block (malloc), oldest allocated "
		   "at 0.100 s (age 9.900 s)\n"
		   "        b_alloc (b.c:20)\n"
		   "        /lib/libfoo.so+0x42\n"
		   "        0x3000\n"
		   "        (stack ended early, not_loaded: the unwind table of "
		   "the code there was not loaded yet)\n"
		   "  #2  200 bytes", "the stop under the frames");
	expect_has(txt, "(a.c:10)\n"
		   "        /lib/libfoo.so+0x42\n"
		   "        0x3000\n"
		   "\nTop call sites", "the whole stack without a stop");
	free(txt);
	report__free(r);
	store__free(s);
}

Test(report, text_warns_about_lost_events)
{
	struct store *s = make_store();
	struct ms_counters k = {
		.allocs = 30, .live_bytes = 900, .peak_bytes = 1000,
		.lost_events = 12,
	};
	struct report *r = build(s, 1, &k);
	char *txt;

	txt = text_of(r);
	expect_has(txt, "\nWARNING: report is incomplete: 12 events lost "
		   "(ring buffer full); kernel counters at the end are exact\n",
		   "warning");
	expect_has(txt, "\nKernel counters (exact) vs captured: allocs 30 vs "
		   "11, live bytes 900 vs 700, peak bytes 1000 vs 700\n",
		   "kernel line");
	free(txt);

	k.lost_events = 0;
	k.live_full = 2;
	r->kernel = k;
	r->consumer_drops = 5;
	txt = text_of(r);
	expect_has(txt, "\nWARNING: report is incomplete: 5 records dropped "
		   "by userspace; kernel counters are inexact too\n",
		   "drop warning");
	expect_has(txt, "WARNING: kernel live table full (raise --max-live): "
		   "2 allocations not tracked there, so the kernel counters "
		   "are inexact\n", "live table warning");
	expect_has(txt, "Kernel counters (inexact)", "inexact kernel line");
	free(txt);
	report__free(r);
	store__free(s);
}

/*
 * A strict JSON syntax check (RFC 8259), enough to know the report parses;
 * it also refuses raw '<', which must never reach an HTML <script>.
 */
static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
		(*p)++;
}

static bool parse_value(const char **p, int depth);

static bool parse_string(const char **p)
{
	const char *s = *p + 1;
	int i;

	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20 || *s == '<')
			return false;
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			for (i = 1; i <= 4; i++) {
				if (!strchr("0123456789abcdefABCDEF", s[i]) ||
				    !s[i])
					return false;
			}
			s += 4;
		} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
			return false;
		}
	}
	*p = s + 1;
	return true;
}

static bool parse_digits(const char **p)
{
	const char *s = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p > s;
}

static bool parse_number(const char **p)
{
	if (**p == '-')
		(*p)++;
	if (**p == '0')
		(*p)++;
	else if (!parse_digits(p))
		return false;
	if (**p == '.' && (++(*p), !parse_digits(p)))
		return false;
	if (**p == 'e' || **p == 'E') {
		(*p)++;
		if (**p == '+' || **p == '-')
			(*p)++;
		return parse_digits(p);
	}
	return true;
}

static bool parse_members(const char **p, int depth, char close, bool keys)
{
	(*p)++;
	skip_ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (keys) {
			if (**p != '"' || !parse_string(p))
				return false;
			skip_ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!parse_value(p, depth + 1))
			return false;
		skip_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
		skip_ws(p);
	}
}

static bool parse_value(const char **p, int depth)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t i;

	if (depth > 64)
		return false;
	skip_ws(p);
	if (**p == '{')
		return parse_members(p, depth, '}', true);
	if (**p == '[')
		return parse_members(p, depth, ']', false);
	if (**p == '"')
		return parse_string(p);
	for (i = 0; i < 3; i++) {
		if (!strncmp(*p, words[i], strlen(words[i]))) {
			*p += strlen(words[i]);
			return true;
		}
	}
	return parse_number(p);
}

static void expect_valid_json(const char *doc)
{
	const char *p = doc;
	bool ok = parse_value(&p, 0);

	skip_ws(&p);
	cr_expect(ok && !*p, "invalid JSON at offset %td: \"%.40s\"", p - doc,
		  p);
}

static char tmpdir[] = "/tmp/memscope-report-XXXXXX";
static char json_path[PATH_MAX];

static void setup_dir(void)
{
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(json_path, sizeof(json_path), "%s/report.json", tmpdir);
}

static void remove_dir(void)
{
	unlink(json_path);
	rmdir(tmpdir);
}

static char *json_of_file(const char *path)
{
	char *buf;
	long len;
	FILE *f;

	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, len, f), (size_t)len);
	fclose(f);
	return buf;
}

static char *json_of(const struct report *r)
{
	int err;

	err = report__write_json(r, json_path);
	cr_assert_eq(err, 0, "report__write_json: %d", err);
	return json_of_file(json_path);
}

Test(report, json_schema_fields, .init = setup_dir, .fini = remove_dir)
{
	struct store *s = make_store();
	struct ms_counters k = { .allocs = 30, .lost_events = 12,
				 .peak_ns = AT(2500), .live_full = 1 };
	struct report *r = build(s, 0, &k);
	char *doc;

	r->consumer_drops = 3;
	doc = json_of(r);
	expect_valid_json(doc);
	expect_has(doc, "\n  \"schema\": \"memscope-bpf/report/3\",\n", "schema");
	expect_has(doc, "\"tool\": {\n    \"name\": \"memscope-bpf\",\n"
		   "    \"version\": \"", "tool");
	expect_has(doc, "\"pid\": 4242,\n    \"command\": null,\n"
		   "    \"mode\": \"default\",\n"
		   "    \"duration_ns\": 10000000000,\n"
		   "    \"exited\": false,\n    \"exit_status\": null,\n"
		   "    \"state\": \"running\"\n",
		   "target");
	expect_has(doc, "\n  \"leak_filter\": null,\n", "no leak filter");
	expect_has(doc, "\"summary\": {\n    \"source\": \"captured\",\n"
		   "    \"allocs\": 11,", "summary");
	expect_has(doc, "    \"peak_ns\": 2200000000,\n", "peak_ns since start");
	expect_has(doc, "    \"lost_events\": 15,\n", "lost events + drops");
	expect_has(doc, "\"kernel\": {\n    \"source\": \"captured\",\n"
		   "    \"exact\": false,\n    \"allocs\": 30,", "kernel");
	expect_has(doc, "    \"peak_ns\": 2500000000,\n", "kernel peak_ns");
	/* each record of a list on one line */
	expect_has(doc, "\"leaks\": [\n    {\"source\": \"captured\", "
		   "\"family\": \"malloc\", \"count\": 1, \"bytes\": 250, "
		   "\"oldest_ns\": 3100000000, \"stack_truncated\": false, ",
		   "first leak");
	expect_has(doc, "\n    {\"function\": null, \"inlined\": false, "
		   "\"file\": null, \"line\": 0, \"object\": null, "
		   "\"addr\": \"0x3000\"}", "bare frame, in frame_table");
	expect_has(doc, "\"peak\": {\n    \"source\": \"captured\",\n"
		   "    \"bytes\": 700,\n    \"ns\": 2200000000,\n"
		   "    \"by_stack\": [\n      {\"family\": \"malloc\", "
		   "\"count\": 4, \"bytes\": 200,", "peak");
	expect_has(doc, "\"symbol\": \"malloc\", \"offset\": 631283, "
		   "\"func_offset\": 275, \"return\": true, "
		   "\"emulated\": true, \"single_step_reason\": null, "
		   "\"probed\": true, \"forwards_to\": null, "
		   "\"counted_at\": null, \"throw_ends_program\": false}",
		   "probe");
	expect_has(doc, "\"emulated\": false, "
		   "\"single_step_reason\": \"stack_changed\", ",
		   "single-stepped probe");
	free(doc);
	report__free(r);
	store__free(s);
}

Test(report, json_escapes_hostile_names, .init = setup_dir,
     .fini = remove_dir)
{
	struct store *s = make_store();
	struct report *r = build(s, 0, NULL);
	char *doc = json_of(r);

	expect_valid_json(doc);
	expect_has(doc, "\"function\": \"evil\\\"name\\u0001\\u003c/script"
		   "\\u003e\",", "escaped function");
	cr_expect_null(strstr(doc, "</script>"), "raw </script> in JSON");
	expect_has(doc, "\"kernel\": null,", "no kernel counters");
	expect_has(doc, "    \"lost_events\": 0,\n", "no loss");
	free(doc);
	report__free(r);
	store__free(s);
}

/*
 * Each frame once, in frame_table, and stacks as its numbers: B (the
 * first leak, 250 bytes) numbers its frames first, C and A share its
 * callers' entries.
 */
Test(report, json_frames_once_in_frame_table, .init = setup_dir,
     .fini = remove_dir)
{
	struct store *s = make_store();
	struct report *r = build(s, 0, NULL);
	char *doc = json_of(r);

	expect_valid_json(doc);
	cr_expect_eq(count_of(doc, "\"addr\": \"0x"), NR_ADDRS,
		     "every frame once: %zu of %d addresses in:\n%s",
		     count_of(doc, "\"addr\": \"0x"), NR_ADDRS, doc);
	expect_has(doc, "\"frames\": [0, 1, 2],", "B, first seen");
	expect_has(doc, "\"frames\": [3, 2],", "C, sharing 0x3000");
	expect_has(doc, "\"frames\": [4, 1, 2],", "A, sharing B's callers");
	expect_has(doc, "\n  \"frame_table\": [\n    {\"function\": \"b_alloc\", "
		   "\"inlined\": false, \"file\": \"b.c\", \"line\": 20, "
		   "\"object\": null, \"addr\": \"0x1100\"},\n    {\"function\": "
		   "null, \"inlined\": false, \"file\": null, \"line\": 0, "
		   "\"object\": \"/lib/libfoo.so\", \"addr\": \"0x2000\"},\n",
		   "frame_table, in order of first sight");
	free(doc);
	report__free(r);
	store__free(s);
}

/* A frame is one entry by what a document shows of it, strings copied. */
Test(report, frame_table_ids)
{
	struct frame_table *ft = frame_table__new();
	char fn[16] = "f";
	struct frame a = { .addr = 0x10, .function = fn, .line = -1 };
	struct frame b = a;
	long id;

	cr_assert_not_null(ft);
	id = frame_table__id(ft, &a);
	cr_expect_eq(id, 0);
	strcpy(fn, "g");	/* the caller's buffer, reused */
	cr_expect_str_eq(frame_table__at(ft, 0)->function, "f");
	cr_expect_eq(frame_table__at(ft, 0)->line, 0, "an unknown line is 0");
	b.function = "f";
	b.line = 0;
	b.object_offset = 0x99;	/* not shown: the same entry */
	cr_expect_eq(frame_table__id(ft, &b), 0);
	b.inlined = true;
	cr_expect_eq(frame_table__id(ft, &b), 1);
	b.inlined = false;
	b.file = "f.c";
	cr_expect_eq(frame_table__id(ft, &b), 2);
	b.mangled = "_Z1fv";
	cr_expect_eq(frame_table__id(ft, &b), 3);
	b.addr = 0x11;
	cr_expect_eq(frame_table__id(ft, &b), 4);
	cr_expect_eq(frame_table__id(ft, &a), 5, "\"g\" is another function");
	cr_expect_eq(frame_table__nr(ft), 6);
	frame_table__free(ft);
}

Test(report, json_missing_directory_fails)
{
	struct store *s = make_store();
	struct report *r = build(s, 0, NULL);
	int err = report__write_json(r, "/nonexistent-memscope/r.json");

	cr_expect_eq(err, -ENOENT, "report__write_json: %d, want -ENOENT",
		     err);
	report__free(r);
	store__free(s);
}

/*
 * 0x8000 stands for three frames: push_back inlined into grow, inlined into
 * main; every other address for one.
 */
static unsigned inline_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame frames[3];

	(void)ctx;
	memset(frames, 0, sizeof(frames));
	*out = frames;
	frames[0].addr = addr;
	if (addr != 0x8000)
		return 1;
	frames[0] = (struct frame){
		.function = "std::vector<int>::push_back(int const&)",
		.mangled = "_ZNSt6vectorIiE9push_backERKi",
		.file = "vector.h", .line = 1287, .inlined = true,
	};
	frames[1] = (struct frame){
		.function = "grow", .file = "app.c", .line = 12,
		.inlined = true,
	};
	frames[2] = (struct frame){
		.function = "main", .file = "app.c", .line = 40,
		.object = "/bin/app", .object_offset = 0x1000,
	};
	return 3;
}

Test(report, inlined_frames_expanded_in_every_export, .init = setup_dir,
     .fini = remove_dir)
{
	static const __u64 st[] = { 0x8000, 0x8100 };
	struct report_opts opts = { .resolve = inline_resolve };
	struct report_target tgt = { .pid = 1, .start_ns = AT(0) };
	struct store *s = store__new();
	const struct report_site *site;
	struct report *r;
	char *txt, *doc;

	cr_assert(s);
	ALLOC(s, 1, 0xb1, 100, st);
	r = report__build(s, &tgt, NULL, NULL, 0, &opts);
	cr_assert(r);
	cr_assert_eq(r->nr_leaks, 1, "nr_leaks %zu, want 1", r->nr_leaks);
	site = &r->leaks[0];
	cr_assert_eq(site->nr_frames, 4, "%u frames for 2 addresses, want 4",
		     site->nr_frames);
	cr_expect(site->frames[0].inlined && site->frames[1].inlined &&
		  !site->frames[2].inlined && !site->frames[3].inlined,
		  "inlined marks: %d %d %d %d", site->frames[0].inlined,
		  site->frames[1].inlined, site->frames[2].inlined,
		  site->frames[3].inlined);
	cr_expect(site->frames[2].addr == 0x8000 &&
		  site->frames[3].addr == 0x8100, "addresses %#llx %#llx",
		  site->frames[2].addr, site->frames[3].addr);

	txt = text_of(r);
	expect_has(txt, "std::vector<int>::push_back(int const&) "
		   "(vector.h:1287) [inlined]\n", "inlined frame in text");
	expect_has(txt, "grow (app.c:12) [inlined]\n        main (app.c:40)\n",
		   "caller frames in text");
	free(txt);

	doc = json_of(r);
	expect_valid_json(doc);
	/* HTML-safe JSON: < > & escaped */
	expect_has(doc, "{\"function\": \"std::vector\\u003cint\\u003e::"
		   "push_back(int const\\u0026)\", \"mangled\": "
		   "\"_ZNSt6vectorIiE9push_backERKi\", "
		   "\"inlined\": true, ", "mangled and inlined");
	expect_has(doc, "{\"function\": \"main\", \"inlined\": false, ",
		   "the function is not inlined");
	free(doc);

	cr_assert_eq(report__write_folded(r, json_path), 0, "folded");
	doc = json_of_file(json_path);
	expect_has(doc, "0x8100;main;grow_[i];std::vector<int>::push_back"
		   "(int_const&)_[i] 100\n", "folded, root first");
	free(doc);
	report__free(r);
	store__free(s);
}

/*
 * Anonymous memory in the model: the program's sites ranked by live bytes
 * and cut to --top, the arenas merged by allocator object, whatever
 * function of it mapped; and the section in text and JSON, null in JSON
 * when it was not traced.
 */
#define PG		4096ull
#define ANON		(ANON_MAP_PRIVATE | ANON_MAP_ANONYMOUS)

static const __u64 anon_big[] = { 0x7000, 0x7100 };
static const __u64 anon_small[] = { 0x7000, 0x7200 };

static unsigned anon_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;

	(void)ctx;
	fr = (struct frame){ .addr = addr };
	switch (addr) {
	case 0x7000:
		fr.function = "__mmap";
		break;
	case 0x7100:
		fr.function = "map_big";
		break;
	case 0x7200:
		fr.function = "map_small";
		break;
	}
	/* The probes' addresses, one past them: two in libc, one in jemalloc. */
	fr.object = addr < 0x9200 ? "/lib/libc.so.6" : "/lib/libjemalloc.so.2";
	*out = &fr;
	return 1;
}

static struct report *anon_report(size_t top, bool traced)
{
	struct report_opts opts = { .top = top, .resolve = anon_resolve };
	struct report_target t = target;
	struct store *s = store__new();
	struct report *r;

	cr_assert_not_null(s);
	ev_mmap(s, 0x7f0000000000ull, 10 * PG, ANON, 0, anon_big, 2, AT(1));
	ev_mmap(s, 0x7f0000100000ull, 2 * PG, ANON, 0, anon_small, 2, AT(2));
	ev_mmap(s, 0x7f0000200000ull, PG, ANON, 0, anon_small, 2, AT(3));
	ev_munmap(s, 0x7f0000000000ull, 4 * PG, AT(4));
	ev_mmap(s, 0x7f0001000000ull, 257 * PG, ANON, 0x9000, NULL, 0, AT(5));
	ev_brk(s, 0x555555559000ull, 0x555555559000ull + 33 * PG, 0x9100,
	       NULL, 0, AT(6));
	ev_mmap(s, 0x7f0002000000ull, 512 * PG, ANON, 0x9200, NULL, 0, AT(7));
	t.anon_traced = traced;
	r = report__build(s, &t, NULL, NULL, 0, &opts);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	store__free(s);
	return r;
}

Test(report, anon_sites_ranked_and_arenas_by_object)
{
	struct report *r = anon_report(0, true);
	const struct report_anon *a = &r->anon;

	cr_assert(a->traced);
	cr_expect_eq(a->sum.live_bytes, 9 * PG, "live bytes");
	cr_expect_eq(a->sum.peak_bytes, 13 * PG, "peak bytes");
	cr_assert_eq(a->nr_sites, 2, "sites: %zu", a->nr_sites);
	cr_expect_str_eq(a->sites[0].frames[1].function, "map_big");
	cr_expect_eq(a->sites[0].live_bytes, 6 * PG);
	cr_expect_eq(a->sites[0].peak_bytes, 10 * PG);
	cr_expect_str_eq(a->sites[1].frames[1].function, "map_small");
	cr_expect_eq(a->sites[1].live_ranges, 2);
	cr_expect_eq(a->sites[1].calls, 2);
	cr_assert_eq(a->nr_arenas, 2, "arenas: %zu", a->nr_arenas);
	cr_expect_str_eq(a->arenas[0].object, "/lib/libjemalloc.so.2");
	cr_expect_eq(a->arenas[0].mapped_bytes, 512 * PG);
	cr_expect_str_eq(a->arenas[1].object, "/lib/libc.so.6");
	cr_expect_eq(a->arenas[1].live_bytes, 290 * PG);
	cr_expect_eq(a->arenas[1].calls, 2);
	/* None of it is heap. */
	cr_expect_eq(r->summary.live_bytes, 0);
	cr_expect_eq(r->nr_sites, 0);
	report__free(r);

	r = anon_report(1, true);
	cr_expect_eq(r->anon.nr_sites, 1, "--top 1: %zu sites",
		     r->anon.nr_sites);
	report__free(r);
}

Test(report, anon_in_text_and_json, .init = setup_dir, .fini = remove_dir)
{
	struct report *r = anon_report(0, true);
	char *text = text_of(r), *doc = json_of(r);

	expect_has(text, "\nAnonymous memory (", "text section");
	expect_has(text, "  live 36.0 KiB (36864 bytes) in 3 ranges, peak 52.0 KiB (53248 bytes)",
		   "text totals");
	expect_has(text, "    /lib/libjemalloc.so.2: 2.0 MiB (2097152 bytes) live",
		   "text arena");
	expect_valid_json(doc);
	expect_has(doc, "\n  \"anon_memory\": {\n    \"source\": \"captured\",\n    \"live_bytes\": 36864,",
		   "JSON section");
	expect_has(doc, "\"object\": \"/lib/libc.so.6\", \"live_bytes\": 1187840,",
		   "JSON arena");
	free(text);
	free(doc);
	report__free(r);

	r = anon_report(0, false);
	text = text_of(r);
	doc = json_of(r);
	expect_has(doc, "\n  \"anon_memory\": null,\n", "JSON, not traced");
	expect_has(text, "not traced (a recording older than format 4)",
		   "text, not traced");
	free(text);
	free(doc);
	report__free(r);
}

/*
 * PROT_NONE pages: reserved, beside the live bytes, for a site, for the
 * program and for an arena; a mapping whose record said no protection
 * (an older recording) is counted live, and said so.
 */
Test(report, anon_reserved_in_text_and_json, .init = setup_dir,
     .fini = remove_dir)
{
	struct report_opts opts = { .resolve = anon_resolve };
	struct report_target t = target;
	struct store *s = store__new();
	struct report *r;
	char *text, *doc;

	cr_assert_not_null(s);
	ev_mmap(s, 0x7f0000000000ull, 4 * PG, ANON, 0, anon_big, 2, AT(1));
	ev_mprotect(s, 0x7f0000000000ull, PG, EV_PROT_NONE, AT(2));
	ev_mmap_prot(s, 0x7f0000100000ull, 2 * PG, ANON, EV_PROT_UNSAID, 0,
		     anon_small, 2, AT(3));
	ev_mmap_prot(s, 0x7f0001000000ull, 16 * PG, ANON, EV_PROT_NONE,
		     0x9000, NULL, 0, AT(4));
	ev_mprotect(s, 0x7f0001000000ull, 2 * PG, EV_PROT_RW, AT(5));
	t.anon_traced = true;
	r = report__build(s, &t, NULL, NULL, 0, &opts);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	store__free(s);
	text = text_of(r);
	doc = json_of(r);
	expect_has(text, "  reserved 4.0 KiB (4096 bytes): mapped PROT_NONE",
		   "text: the program's reserve");
	expect_has(text, "  1 mapping without a protection in the recording",
		   "text: a mapping of an older recording");
	expect_has(text, "  #1  12.0 KiB (12288 bytes) live in 1 range, 4.0 KiB (4096 bytes) reserved (PROT_NONE), 16.0 KiB",
		   "text: the site's reserve");
	expect_has(text, "  allocator arenas: 8.0 KiB (8192 bytes) live, 56.0 KiB (57344 bytes) reserved (PROT_NONE), 64.0 KiB",
		   "text: the arenas' reserve");
	expect_valid_json(doc);
	expect_has(doc, "\"reserved_bytes\": 4096,\n    \"prot_unknown_calls\": 1,",
		   "JSON: the program's reserve");
	expect_has(doc, "\"live_ranges\": 1, \"reserved_bytes\": 4096,",
		   "JSON: the site's reserve");
	expect_has(doc, "\"live_bytes\": 8192,\n      \"reserved_bytes\": 57344,",
		   "JSON: the arenas' reserve");
	expect_has(doc, "\"live_bytes\": 8192, \"reserved_bytes\": 57344,",
		   "JSON: the arena object's reserve");
	free(text);
	free(doc);
	report__free(r);
}

/* Two frames at 0x10 (an inlined call in f), one at 0x20; none else. */
static unsigned site_resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static const struct frame at10[] = {
		{ .addr = 0x10, .function = "inl", .file = "a.c", .line = 3,
		  .inlined = true },
		{ .addr = 0x10, .function = "f", .file = "a.c", .line = 9 },
	};
	static const struct frame at20[] = {
		{ .addr = 0x20, .function = "main", .file = "m.c", .line = 1 },
	};

	(void)ctx;
	*out = addr == 0x10 ? at10 : at20;
	return addr == 0x10 ? 2 : addr == 0x20 ? 1 : 0;
}

/* report_text_site_addrs(addrs[0..nr), max) as a string, in buf. */
static const char *site_line(char *buf, size_t size, const __u64 *addrs,
			     __u32 nr, unsigned max)
{
	FILE *f = fmemopen(buf, size, "w");

	cr_assert_not_null(f);
	report_text_site_addrs(f, addrs, nr, max, site_resolve, NULL);
	fclose(f);
	return buf;
}

/*
 * One site line for every text output: innermost first, " < " between,
 * " < ..." when frames are left (of an address or after it), an address
 * nothing names as itself, and a stack of none said.
 */
Test(report, site_line)
{
	const __u64 addrs[] = { 0x10, 0x20, 0x30 };
	struct frame frames[2] = {
		{ .function = "g", .file = "g.c", .line = 7 },
		{ .function = "main", .object = "/bin/x", .object_offset = 0x40 },
	};
	char buf[256], *text = NULL;
	size_t len = 0;
	FILE *f;

	cr_expect_str_eq(site_line(buf, sizeof(buf), addrs, 3, 3),
			 "inl (a.c:3) < f (a.c:9) < main (m.c:1) < ...");
	cr_expect_str_eq(site_line(buf, sizeof(buf), addrs, 2, 3),
			 "inl (a.c:3) < f (a.c:9) < main (m.c:1)");
	cr_expect_str_eq(site_line(buf, sizeof(buf), addrs, 1, 1),
			 "inl (a.c:3) < ...");
	cr_expect_str_eq(site_line(buf, sizeof(buf), addrs + 2, 1, 1),
			 "0x30");
	cr_expect_str_eq(site_line(buf, sizeof(buf), addrs, 0, 1),
			 "(no stack captured)");
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	report_text_site(f, frames, 2, 1);
	fputc('|', f);
	report_text_site(f, frames, 2, 2);
	fclose(f);
	cr_expect_str_eq(text, "g (g.c:7) < ...|g (g.c:7) < main (/bin/x+0x40)");
	free(text);
}
