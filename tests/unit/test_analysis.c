/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Unit tests of the analysis of declared state: the task tree, the two
 * zombie rules firing where planted and nowhere else, the passport
 * violation only the end of the trace shows, and the clone-storm
 * threshold. The store is fed hand-made records, as in test_declared.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "analysis.h"
#include "report.h"
#include "report_json.h"
#include "rules.h"
#include "store.h"
#include "builders.h"
#include "expect.h"

#define MS	1000000ull
#define SEC	1000000000ull

static struct store *st;
static struct analysis *an;
static struct rule_zombie *zombies;
static size_t nr_zombies;
static struct rule_storm *storms;
static size_t nr_storms;

static void setup(void)
{
	ev_src.pid = 100;
	ev_src.tid = 101;
	st = store__new();
	cr_assert_not_null(st, "store__new: %s", strerror(errno));
}

static void teardown(void)
{
	analysis__free(an);
	free(zombies);
	free(storms);
	store__free(st);
}

TestSuite(analysis, .init = setup, .fini = teardown, .timeout = 30);

#define expect_near(got, want, ...)					\
	do {								\
		double got_ = (got), want_ = (want);			\
		char what_[160];					\
									\
		snprintf(what_, sizeof(what_), __VA_ARGS__);		\
		cr_assert(got_ > want_ - 1e-9 && got_ < want_ + 1e-9,	\
			  "%s: got %.6f, want %.6f", what_, got_, want_); \
	} while (0)

static void alloc_at(__u64 ptr, __u64 size, __u64 frame, __u64 ts)
{
	ev_alloc(st, ptr, size, ptr, &frame, 1, ts);
}

static void alloc(__u64 ptr, __u64 size, __u64 ts)
{
	alloc_at(ptr, size, 0x400000, ts);
}

static void dealloc(__u64 ptr, __u64 ts)
{
	ev_free(st, ptr, ts);
}

static void create(__u64 id, __u64 parent, const char *name, __u64 ts)
{
	ev_task_create(st, id, parent, name, ts);
}

#define ENTER(id, ts)		ev_task(st, MS_EV_TASK_ENTER, id, ts)
#define LEAVE(id, ts)		ev_task(st, MS_EV_TASK_LEAVE, id, ts)
#define COMPLETE(id, ts)	ev_task(st, MS_EV_TASK_COMPLETE, id, ts)

static void pp(__u16 type, __u64 ptr, const char *side, __u64 where,
	       __u64 ts)
{
	ev_passport(st, type, ptr, 0, side, &where, 1, ts);
}

static void share_at(__u64 handle, __u64 heap, __u64 frame, __u64 ts)
{
	ev_share(st, handle, heap, "config", "", &frame, 1, ts);
}

/* A share made at frame 0x6000 + the heap block's address. */
static void share(__u64 handle, __u64 heap, __u64 ts)
{
	share_at(handle, heap, 0x6000 + heap, ts);
}

static void infer(const struct rule *rule, const __u64 *given,
		  void **items, size_t *nr)
{
	__u64 applied[RULE_OPTS_MAX];
	int err;

	free(*items);
	err = rule__infer(rule, st, an, given, applied, items, nr);
	cr_assert_eq(err, 0, "%s: %s", rule->key, strerror(-err));
}

/* The analysis and both rules; 0 options take their defaults. */
static void analyse(__u64 idle_ns, __u64 clones, __u64 window_ns)
{
	const __u64 zopts[] = { idle_ns }, sopts[] = { clones, window_ns };

	analysis__free(an);
	an = analysis__new(st, 0);
	cr_assert_not_null(an, "analysis__new: %s", strerror(errno));
	infer(&rule_zombie_tasks, zopts, (void **)&zombies, &nr_zombies);
	infer(&rule_clone_storms, sopts, (void **)&storms, &nr_storms);
}

/* frames[0] of a stack; a declared record's is its probe address + 1. */
static __u64 frame0(__u32 stack_id)
{
	struct store_site s;

	cr_assert_eq(store__site(st, stack_id, &s), 0, "store__site(%u)",
		     stack_id);
	cr_assert(s.nr_frames, "stack %u has frames", stack_id);
	return s.frames[0];
}

static const struct report_task *ztask(const struct rule_zombie *z)
{
	cr_assert_lt(z->task, an->nr_tasks, "zombie task index");
	return &an->tasks[z->task];
}

static const char *zombie_list(void)
{
	static char buf[512];
	size_t i, n = 0;

	buf[0] = 0;
	for (i = 0; i < nr_zombies && n < sizeof(buf); i++)
		n += snprintf(buf + n, sizeof(buf) - n, " task %llu (%s)",
			      (unsigned long long)ztask(&zombies[i])->t.id,
			      zombies[i].f.rule);
	return buf;
}

#define expect_zombies(n)						\
	cr_assert_eq(nr_zombies, (size_t)(n),			\
		     "zombies: got %zu, want %d:%s", nr_zombies,	\
		     (int)(n), zombie_list())

Test(analysis, task_tree_in_pre_order)
{
	create(10, 0, "root", 1);
	create(20, 10, "a", 2);
	create(30, 0, "other root", 3);
	create(21, 20, "a.1", 4);
	create(40, 10, "b", 5);
	create(50, 60, "parent comes later", 6);
	create(60, 0, "late parent", 7);
	ENTER(70, 8);		/* never created: a root too */
	analyse(0, 0, 0);

	static const struct {
		__u64 id;
		__u32 depth;
	} want[] = {
		{ 10, 0 }, { 20, 1 }, { 21, 2 }, { 40, 1 }, { 30, 0 },
		{ 50, 0 }, { 60, 0 }, { 70, 0 },
	};
	size_t i;

	expect_eq(an->nr_tasks, 8, "tasks");
	for (i = 0; i < 8; i++) {
		expect_eq(an->tasks[i].t.id, want[i].id, "tasks[%zu].id", i);
		expect_eq(an->tasks[i].depth, want[i].depth,
			  "tasks[%zu] (id %llu) depth", i,
			  (unsigned long long)want[i].id);
	}
	cr_assert(an->tasks[1].parent_known, "a's parent is known");
	cr_assert(!an->tasks[5].parent_known,
		  "a parent created after its child is not its parent");
	expect_eq(an->tasks[5].t.parent, 60, "declared parent kept");
}

Test(analysis, lifetime_from_creation_to_completion_or_end)
{
	create(1, 0, "done", 1 * SEC);
	COMPLETE(1, 3 * SEC);
	create(2, 0, "open", 2 * SEC);
	ENTER(2, 4 * SEC);
	analyse(10 * SEC, 0, 0);
	expect_eq(an->tasks[0].lifetime_ns, 2 * SEC, "completed lifetime");
	expect_eq(an->tasks[1].lifetime_ns, 2 * SEC, "lifetime to the end");
	expect_eq(an->end_ns, 4 * SEC, "end: the last record");
}

/*
 * Planted: task 1 completes holding a block nobody frees. Not planted:
 * task 2 frees everything first, task 3's block is freed after it
 * completed, task 4 allocates only after it completed, task 5 completes
 * with nothing live.
 */
Test(analysis, completed_with_live_blocks_fires_where_planted)
{
	const struct rule_zombie *z;
	int id;

	for (id = 1; id <= 5; id++)
		create(id, 0, "t", 1 * MS);

	ENTER(1, 2 * MS);
	alloc_at(0x1000, 100, 0x401000, 3 * MS);
	alloc_at(0x1100, 300, 0x402000, 3 * MS);
	alloc_at(0x1200, 50, 0x401000, 3 * MS);
	LEAVE(1, 4 * MS);
	COMPLETE(1, 5 * MS);

	ENTER(2, 6 * MS);
	alloc(0x2000, 10, 7 * MS);
	dealloc(0x2000, 8 * MS);
	LEAVE(2, 9 * MS);
	COMPLETE(2, 10 * MS);

	ENTER(3, 11 * MS);
	alloc(0x3000, 10, 12 * MS);
	LEAVE(3, 13 * MS);
	COMPLETE(3, 14 * MS);
	dealloc(0x3000, 15 * MS);

	COMPLETE(4, 16 * MS);
	ENTER(4, 17 * MS);
	alloc(0x4000, 10, 18 * MS);
	LEAVE(4, 19 * MS);

	COMPLETE(5, 20 * MS);
	/* the trace goes on for long after: the held bytes are old */
	alloc(0x9000, 1, 5 * SEC);

	analyse(0, 0, 0);
	expect_zombies(1);
	z = &zombies[0];
	expect_eq(ztask(z)->t.id, 1, "zombie task");
	cr_assert_str_eq(z->f.rule, RULE_COMPLETED_LIVE, "rule");
	expect_eq(z->count, 3, "blocks");
	expect_eq(z->bytes, 450, "bytes");
	expect_eq(z->since_ns, 5 * MS, "since: completion");
	expect_eq(z->quiet_ns, 5 * SEC - 5 * MS, "quiet");
	expect_eq(z->top_bytes, 300, "top stack bytes");
	expect_eq(z->top_count, 1, "top stack blocks");
	expect_eq(frame0(z->f.stack_id), 0x402000, "top stack");
	/* all it held survived, for longer than the idle threshold */
	expect_near(z->f.confidence, 0.95, "confidence");
}

/* Confidence: how long the bytes outlived the task, and how many stayed. */
Test(analysis, completed_rule_confidence)
{
	create(1, 0, "t", 0);
	ENTER(1, 1);
	alloc(0x1000, 100, 2);
	alloc(0x2000, 300, 3);
	LEAVE(1, 4);
	COMPLETE(1, 1 * SEC);
	dealloc(0x2000, 1 * SEC + 1);		/* 1/4 of it stays */
	alloc(0x9000, 1, 1 * SEC + 500 * MS);	/* the end: 0.5 s later */

	analyse(0, 0, 0);
	expect_zombies(1);
	expect_near(zombies[0].f.confidence, 0.5 + 0.45 * 0.5 * 0.25,
		    "confidence");
}

/*
 * Planted: task 1 goes idle and never completes. Not planted: task 2 is
 * never completed but active until shortly before the end; task 3 was
 * idle for long but completed.
 */
Test(analysis, never_completed_idle_fires_where_planted)
{
	const struct rule_zombie *z;

	create(1, 0, "stuck", 0);
	create(2, 0, "busy", 0);
	create(3, 0, "slow", 0);
	ENTER(1, 10 * MS);
	alloc(0x1000, 64, 11 * MS);
	LEAVE(1, 12 * MS);
	ENTER(2, 2500 * MS);
	alloc(0x2000, 64, 2600 * MS);
	LEAVE(2, 2700 * MS);
	COMPLETE(3, 3000 * MS);

	analyse(0, 0, 0);
	expect_zombies(1);
	z = &zombies[0];
	expect_eq(ztask(z)->t.id, 1, "zombie task");
	cr_assert_str_eq(z->f.rule, RULE_NEVER_COMPLETED, "rule");
	expect_eq(z->since_ns, 12 * MS, "since: last activity");
	expect_eq(z->quiet_ns, 2988 * MS, "idle");
	expect_near(z->f.confidence, 0.95, "confidence (capped)");
	expect_eq(z->count, 1, "its live blocks");
	expect_eq(z->bytes, 64, "its live bytes");

	/* the threshold is an option: past 3 s nothing is idle enough */
	analyse(3 * SEC, 0, 0);
	expect_zombies(0);
	/* and the confidence follows idle / threshold */
	analyse(2 * SEC, 0, 0);
	expect_zombies(1);
	expect_near(zombies[0].f.confidence, 0.5 * 2988.0 / 2000,
		    "confidence at 2 s");
}

/* A clean program: everything freed, every task completed. */
Test(analysis, clean_trace_has_no_findings)
{
	int i;

	create(1, 0, "root", 0);
	ENTER(1, 1);
	for (i = 2; i < 10; i++) {
		create(i, 1, "child", i * MS);
		ENTER(i, i * MS + 1);
		alloc(0x1000 * i, 10 * i, i * MS + 2);
		share(0xa0 + i, 0x1000 * i, i * MS + 3);
		pp(MS_EV_PASSPORT_CREATE, 0x1000 * i, "buf", 0x5000, i * MS + 4);
		pp(MS_EV_PASSPORT_HANDOVER, 0x1000 * i, "libfoo", 0x5010,
		   i * MS + 5);
		pp(MS_EV_PASSPORT_RECLAIM, 0x1000 * i, NULL, 0x5020,
		   i * MS + 6);
		pp(MS_EV_PASSPORT_FREE, 0x1000 * i, "host", 0x5030,
		   i * MS + 7);
		dealloc(0x1000 * i, i * MS + 8);
		LEAVE(i, i * MS + 9);
		COMPLETE(i, i * MS + 9);
		ENTER(1, i * MS + 10);
	}
	LEAVE(1, 5 * SEC);
	COMPLETE(1, 5 * SEC);

	analyse(0, 0, 0);
	expect_zombies(0);
	expect_eq(an->nr_violations, 0, "violations");
	expect_eq(nr_storms, 0, "storms");
	expect_eq(an->nr_passports, 8, "passports");
	expect_eq(an->nr_tasks, 9, "tasks");
}

Test(analysis, passport_never_freed_in_foreign_custody)
{
	const struct report_violation *v;

	/* planted: handed over, never back */
	pp(MS_EV_PASSPORT_CREATE, 0x1000, "frame", 0x5000, 1);
	pp(MS_EV_PASSPORT_HANDOVER, 0x1000, "libfoo", 0x5010, 2);
	/* not planted: reclaimed and kept by the host; freed abroad */
	pp(MS_EV_PASSPORT_CREATE, 0x2000, "kept", 0x5000, 3);
	pp(MS_EV_PASSPORT_HANDOVER, 0x2000, "libfoo", 0x5010, 4);
	pp(MS_EV_PASSPORT_RECLAIM, 0x2000, NULL, 0x5020, 5);
	pp(MS_EV_PASSPORT_CREATE, 0x3000, "gift", 0x5000, 6);
	pp(MS_EV_PASSPORT_HANDOVER, 0x3000, "libfoo", 0x5011, 7);
	pp(MS_EV_PASSPORT_FREE, 0x3000, "libfoo", 0x5030, 8);
	/* a violation found as it happened, later than the handover above */
	pp(MS_EV_PASSPORT_FREE, 0x4000, "host", 0x5040, 9);

	analyse(0, 0, 0);
	expect_eq(an->nr_violations, 2, "violations");
	v = &an->violations[0];
	expect_eq(v->v.kind, DECLARED_PV_NEVER_FREED, "kind");
	expect_eq(v->v.passport, 0, "passport");
	cr_assert_str_eq(v->v.custody, "libfoo", "custody");
	expect_eq(v->v.ev.ts_ns, 2, "at the handover");
	expect_eq(v->v.ev.op, DECLARED_PP_HANDOVER, "op");
	expect_eq(frame0(v->v.ev.stack_id), 0x5011, "the handover's stack");
	expect_eq(an->passports[0].p.nr_violations, 1, "on the passport");
	expect_eq(an->violations[1].v.kind, DECLARED_PV_UNKNOWN, "then");
	expect_eq(an->passports[1].p.nr_violations, 0, "reclaimed one");
	expect_eq(an->passports[2].p.nr_violations, 0, "freed abroad");
}

/* More than N shares of one block within the window, and only that. */
Test(analysis, clone_storm_threshold)
{
	const struct rule_storm *s;
	int i;

	alloc(0x1000, 64, 1);
	alloc(0x2000, 64, 1);
	alloc(0x3000, 64, 1);
	/* block 1: exactly 16 within 100 ms: no storm */
	for (i = 0; i < 16; i++)
		share(0x10000 + i * 8, 0x1000, 10 * MS + i * 6 * MS);
	/* block 2: 17 within 96 ms: a storm */
	for (i = 0; i < 17; i++)
		share(0x20000 + i * 8, 0x2000, 200 * MS + i * 6 * MS);
	/* block 3: 40 shares, but never 17 in 100 ms */
	for (i = 0; i < 40; i++)
		share(0x30000 + i * 8, 0x3000, 400 * MS + i * 7 * MS);

	analyse(0, 0, 0);
	expect_eq(an->nr_shared, 3, "shared blocks");
	expect_eq(nr_storms, 1, "storms");
	s = &storms[0];
	expect_eq(an->shared[s->shared].s.ptr, 0x2000, "storm block");
	expect_eq(s->clones, 17, "clones in the window");
	expect_eq(s->start_ns, 200 * MS, "window start");
	expect_eq(s->end_ns, 296 * MS, "window end");
	expect_near(s->f.confidence, 17.0 / 33, "confidence");
	expect_eq(frame0(s->f.stack_id), 0x8001, "where the clones were made");
	cr_assert_str_eq(s->f.rule, RULE_CLONE_STORM, "rule");
	expect_eq(an->shared[2].s.handles, 40, "clones of block 3");

	/* the options move the line */
	analyse(0, 10, 100 * MS);
	expect_eq(nr_storms, 3, "storms over 10 clones");
	analyse(0, 16, 50 * MS);
	expect_eq(nr_storms, 0, "storms within 50 ms");
}

/* A storm is where most of its clones come from, not its last one. */
Test(analysis, clone_storm_names_the_cloning_loop)
{
	int i;

	alloc(0x1000, 64, 1);
	for (i = 0; i < 15; i++)
		share_at(0x10000 + i * 8, 0x1000, 0x7100, 10 * MS + i * MS);
	share_at(0x20000, 0x1000, 0x7200, 30 * MS);
	share_at(0x20008, 0x1000, 0x7200, 31 * MS);

	analyse(0, 0, 0);
	expect_eq(nr_storms, 1, "storms");
	expect_eq(frame0(storms[0].f.stack_id), 0x7101, "the loop's stack");
}

Test(analysis, empty_store)
{
	analyse(0, 0, 0);
	expect_eq(an->nr_tasks + nr_zombies + an->nr_passports +
		  an->nr_violations + an->nr_shared + nr_storms +
		  an->nr_tracked, 0, "records");
}

/* Options not given (0, or none at all) take the rule's defaults. */
Test(analysis, rule_options_default)
{
	const __u64 given[] = { 0, 50 * MS };
	__u64 applied[RULE_OPTS_MAX];
	void *items = NULL;
	size_t nr;

	an = analysis__new(st, 0);
	cr_assert_not_null(an, "analysis__new: %s", strerror(errno));
	cr_assert_eq(rule__infer(&rule_zombie_tasks, st, an, NULL, applied,
				 &items, &nr), 0);
	free(items);
	expect_eq(applied[0], 1 * SEC, "default idle threshold");
	cr_assert_eq(rule__infer(&rule_clone_storms, st, an, given, applied,
				 &items, &nr), 0);
	free(items);
	expect_eq(applied[0], 16, "default storm clones");
	expect_eq(applied[1], 50 * MS, "storm window given");
}

/* Names every frame "fn_<address>", in a buffer reused by each call. */
static void fake_resolve_one(void *ctx, __u64 addr, struct frame *out)
{
	static char fn[32];

	(void)ctx;
	snprintf(fn, sizeof(fn), "fn_%llx", (unsigned long long)addr);
	out->function = fn;
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

static void track(__u64 ptr, const char *name, const char *type, __u64 ts)
{
	ev_track(st, ptr, 0, MS_KIND_HEAP_OWNER, name, type, ts);
}

/*
 * A trace with one of everything: a zombie task holding a declared block,
 * a passport freed by the wrong side, a clone storm.
 */
static struct report *declared_report(void)
{
	struct report_target t = { .pid = 100, .mode = TRACE_MODE_DEFAULT };
	struct report_opts o = { .resolve = fake_resolve };
	struct report *r;
	int i;

	o.rules = rules__table(&o.nr_rules);
	create(1, 0, "session", 1 * MS);
	ENTER(1, 2 * MS);
	alloc_at(0x1000, 4096, 0x401000, 3 * MS);
	track(0x1000, "session cache", "struct cache", 4 * MS);
	LEAVE(1, 5 * MS);
	COMPLETE(1, 6 * MS);
	pp(MS_EV_PASSPORT_CREATE, 0x2000, "frame", 0x5000, 7 * MS);
	pp(MS_EV_PASSPORT_HANDOVER, 0x2000, "libfoo", 0x5010, 8 * MS);
	pp(MS_EV_PASSPORT_FREE, 0x2000, "host", 0x5030, 9 * MS);
	alloc_at(0x3000, 64, 0x403000, 10 * MS);
	for (i = 0; i < 20; i++)
		share(0xa000 + i * 8, 0x3000, 11 * MS + i * MS);
	alloc_at(0x9000, 1, 0x409000, 3 * SEC);

	t.duration_ns = 3 * SEC;
	r = report__build(st, &t, NULL, NULL, 0, &o);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	/* everything the report shows must be its own copy */
	store__free(st);
	st = NULL;
	return r;
}

static char *text_of(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f, "open_memstream: %s", strerror(errno));
	cr_assert_eq(report__write_text(r, f), 0, "report__write_text");
	fclose(f);
	return buf;
}

static char *json_of(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f, "open_memstream: %s", strerror(errno));
	cr_assert_eq(report__json_stream(r, f, false), 0,
		     "report__json_stream");
	fclose(f);
	return buf;
}

/* What the rule with this JSON key found in r. */
static const struct report_findings *found(const struct report *r,
					   const char *key)
{
	size_t i;

	for (i = 0; i < r->nr_findings; i++) {
		if (!strcmp(r->findings[i].rule->key, key))
			return &r->findings[i];
	}
	cr_assert_fail("no findings of rule %s in the report", key);
	return NULL;
}

#define expect_has(doc, want)						\
	cr_expect(strstr(doc, want), "expected in the report: %s", want)

Test(analysis, report_model_has_its_own_copy)
{
	struct report *r = declared_report();
	const struct report_violation *v;
	const struct report_findings *zf, *sf;
	const struct rule_zombie *z;
	const struct rule_storm *s;

	expect_eq(r->declared.records, 28, "declared records");
	expect_eq(r->nr_tasks, 1, "tasks");
	cr_assert_str_eq(r->tasks[0].t.name, "session", "task name");
	zf = found(r, "zombies");
	expect_eq(zf->nr, 1, "zombies");
	z = zf->items;
	expect_eq(z->f.nr_frames, 1, "zombie frames");
	cr_assert_str_eq(z->f.frames[0].function, "fn_401000",
			 "zombie frame 0");
	expect_eq(r->leaks[0].declared.count, 1, "leak declared blocks");
	cr_assert_str_eq(r->leaks[0].declared.names[0].name, "session cache",
			 "leak declared name");
	cr_assert_str_eq(r->peak[0].declared.names[0].type, "struct cache",
			 "peak declared type");
	expect_eq(r->nr_violations, 1, "violations");
	v = &r->violations[0];
	cr_assert_str_eq(v->v.custody, "libfoo", "custody");
	cr_assert_str_eq(v->frames[0].function, "fn_5031", "violation frame 0");
	cr_assert_str_eq(r->passports[0].history[1].at.function, "fn_5011",
			 "history: where");
	cr_assert_str_eq(r->passports[0].history[1].ev.side, "libfoo",
			 "history: side");
	cr_assert_null(r->passports[0].p.history, "no pointer into the store");
	sf = found(r, "storms");
	expect_eq(sf->nr, 1, "storms");
	s = sf->items;
	cr_assert_str_eq(s->f.frames[0].function, "fn_9001",
			 "storm's stack");
	cr_assert_str_eq(r->shared[0].s.name, "config", "shared name");
	cr_assert_str_eq(r->shared[0].frames[0].function, "fn_403000",
			 "shared block's stack");
	expect_eq(r->rules_end_ns, 3 * SEC, "rules end");
	report__free(r);
}

Test(analysis, text_sections_for_declared_programs)
{
	struct report *r = declared_report();
	char *doc = text_of(r);

	expect_has(doc, "\nTasks (declared; bytes captured)\n"
		   "  task 1 \"session\": completed, live 4.0 KiB");
	expect_has(doc, "\nZombie task candidates (inferred)\n"
		   "  #1  task 1 \"session\": completed at ");
	expect_has(doc, "rule completed-with-live-blocks, confidence 0.95\n");
	expect_has(doc, "        declared: session cache (struct cache, heap owner)\n");
	expect_has(doc, "\nPassports (declared)\n"
		   "  1 passport: 1 freed, 0 held by the host, 0 in foreign custody\n"
		   "  \"frame\" 0x2000 (0 bytes): create -> handover to libfoo -> free by host [1 violation]\n");
	expect_has(doc, "  #1  freed_by_wrong_side: \"frame\" 0x2000 freed by host while libfoo held it, at ");
	expect_has(doc, "        fn_5031 (0x5031)\n");
	expect_has(doc, "\nShared handles (declared)\n"
		   "  0x3000 config: 20 handles now, at most 20, 20 shares; block of 64 bytes\n");
	expect_has(doc, "\nClone storms (inferred)\n"
		   "  0x3000 config: 20 shares within 0.019 s from ");
	free(doc);
	report__free(r);
}

Test(analysis, no_declared_sections_without_declared_records)
{
	struct report_target t = { .pid = 100, .duration_ns = SEC };
	struct report_opts o = {};
	struct report *r;
	char *doc;

	o.rules = rules__table(&o.nr_rules);
	alloc(0x1000, 10, 1);
	r = report__build(st, &t, NULL, NULL, 0, &o);
	cr_assert_not_null(r, "report__build: %s", strerror(errno));
	doc = text_of(r);
	cr_expect_null(strstr(doc, "declared"), "text mentions declared:\n%s",
		       doc);
	cr_expect_null(strstr(doc, "Tasks"), "text has tasks:\n%s", doc);
	free(doc);
	doc = json_of(r);
	expect_has(doc, "\"declared\":{\"source\":\"declared\",\"stats\":{\"records\":0,");
	expect_has(doc, "\"tasks\":[],\"zombies\":[],\"tracked\":[],"
		   "\"sites\":{\"leaks\":[],\"peak\":[]},\"passports\":[],"
		   "\"violations\":[],\"shared\":[],\"storms\":[]},"
		   "\"frame_table\":[");
	free(doc);
	report__free(r);
}

Test(analysis, json_labels_every_record)
{
	struct report *r = declared_report();
	char *doc = json_of(r);

	expect_has(doc, "\"tasks\":[{\"source\":\"declared\",\"id\":1,"
		   "\"parent\":0,\"parent_known\":false,\"depth\":0,"
		   "\"name\":\"session\",\"created\":true,"
		   "\"state\":\"completed\",\"first_ns\":1000000,"
		   "\"created_ns\":1000000,\"completed_ns\":6000000,");
	expect_has(doc, "\"memory\":{\"source\":\"captured\",\"allocs\":1,"
		   "\"alloc_bytes\":4096,\"live_count\":1,\"live_bytes\":4096,"
		   "\"peak_bytes\":4096,\"at_completion\":{\"live_count\":1,"
		   "\"live_bytes\":4096}}}");
	expect_has(doc, "\"zombies\":[{\"source\":\"inferred\","
		   "\"rule\":\"completed-with-live-blocks\","
		   "\"confidence\":0.95,\"task\":1,\"task_index\":0,"
		   "\"since_ns\":6000000,");
	expect_has(doc, "\"top\":{\"source\":\"captured\",\"count\":1,"
		   "\"bytes\":4096,\"frames\":[");
	expect_has(doc, "\"frame_table\":[{\"function\":\"fn_401000\",");
	expect_has(doc, "\"tracked\":[{\"source\":\"declared\","
		   "\"ptr\":\"0x1000\",\"name\":\"session cache\","
		   "\"type\":\"struct cache\",\"kind\":\"heap_owner\",\"size\":0,"
		   "\"declared_ns\":4000000,\"block\":{\"source\":\"captured\","
		   "\"seq\":4096,\"size\":4096}}]");
	expect_has(doc, "\"sites\":{\"leaks\":[{\"source\":\"declared\","
		   "\"index\":0,\"count\":1,\"names\":[{\"name\":\"session cache\","
		   "\"type\":\"struct cache\",\"kind\":\"heap_owner\","
		   "\"count\":1}]}],");
	expect_has(doc, "\"violations\":[{\"source\":\"declared\","
		   "\"kind\":\"freed_by_wrong_side\",\"ptr\":\"0x2000\","
		   "\"passport\":0,\"custody\":\"libfoo\",\"op\":\"free\","
		   "\"side\":\"host\",\"ns\":9000000,");
	expect_has(doc, "\"history\":[{\"op\":\"create\",\"ns\":7000000,"
		   "\"side\":null,");
	expect_has(doc, "\"storms\":[{\"source\":\"inferred\","
		   "\"rule\":\"clone-storm\",\"confidence\":");
	expect_has(doc, "\"shared\":[{\"source\":\"declared\",\"ptr\":\"0x3000\","
		   "\"name\":\"config\",\"type\":\"\",");
	free(doc);
	report__free(r);
}
