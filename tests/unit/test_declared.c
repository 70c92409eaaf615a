/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Unit tests of the declared state the store keeps: task attribution
 * across threads and task moves, frees charged to the owning task,
 * declared variables joined to blocks by seq, shared handles, the
 * passport state machine and its violations, malformed records.
 *
 * Records are hand-made and applied through store__apply(), as the ring
 * buffer and recordings apply them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "declared.h"
#include "store.h"
#include "builders.h"
#include "expect.h"

static struct store *st;
/* Read again each time: a store makes its declared state at the first
 * declaration, and reads as declared__none() until then. */
#define dc store__declared(st)

static void setup(void)
{
	ev_src.pid = 100;
	ev_src.tid = 100;
	st = store__new();
	cr_assert_not_null(st, "store__new: %s", strerror(errno));
}

static void teardown(void)
{
	store__free(st);
}

TestSuite(declared, .init = setup, .fini = teardown, .timeout = 30);

#define expect_str(got, want, ...)					\
	do {								\
		const char *got_ = (got), *want_ = (want);		\
		char what_[160];					\
									\
		snprintf(what_, sizeof(what_), __VA_ARGS__);		\
		cr_assert(got_ && !strcmp(got_, want_),			\
			  "%s: got \"%s\", want \"%s\"", what_,		\
			  got_ ? got_ : "(null)", want_);		\
	} while (0)

#define expect_stat(field, want)					\
	expect_eq(declared__stats(dc)->field, want, "stats." #field)

static void apply(const struct ms_event *e)
{
	ev_apply(st, e);
}

/* Allocation stack k: one frame, distinct per k. */
static void alloc(__u64 ptr, __u64 size, __u64 seq, int k, __u64 ts)
{
	__u64 frame = 0x400000 + (__u64)k * 0x10;

	ev_alloc(st, ptr, size, seq, &frame, 1, ts);
}

static void dealloc(__u64 ptr, __u64 ts)
{
	ev_free(st, ptr, ts);
}

static void task_create(__u64 id, __u64 parent, const char *name, __u64 ts)
{
	ev_task_create(st, id, parent, name, ts);
}

static void enter(__u64 id, __u64 ts)
{
	ev_task(st, MS_EV_TASK_ENTER, id, ts);
}

static void leave(__u64 id, __u64 ts)
{
	ev_task(st, MS_EV_TASK_LEAVE, id, ts);
}

static void complete(__u64 id, __u64 ts)
{
	ev_task(st, MS_EV_TASK_COMPLETE, id, ts);
}

static void track(__u64 ptr, const char *name, const char *type, __u64 kind,
		  __u64 ts)
{
	ev_track(st, ptr, 64, kind, name, type, ts);
}

static void untrack(__u64 ptr, __u64 ts)
{
	ev_untrack(st, ptr, ts);
}

static void share(__u64 handle, __u64 heap, const char *name, __u64 ts)
{
	ev_share(st, handle, heap, name, "Arc<Config>", NULL, 0, ts);
}

static void unshare(__u64 handle, __u64 ts)
{
	ev_unshare(st, handle, ts);
}

/* Passport operation at stack frame `where` (frames[0]). */
static void pp(__u16 type, __u64 ptr, const char *side, __u64 where,
	       __u64 ts)
{
	const __u64 frames[] = { where, 0x7000 };

	ev_passport(st, type, ptr, type == MS_EV_PASSPORT_CREATE ? 256 : 0,
		    side, frames, 2, ts);
}

#define PP_CREATE(p, w, t)	pp(MS_EV_PASSPORT_CREATE, p, "frame", w, t)
#define PP_HANDOVER(p, s, w, t)	pp(MS_EV_PASSPORT_HANDOVER, p, s, w, t)
#define PP_RECLAIM(p, w, t)	pp(MS_EV_PASSPORT_RECLAIM, p, NULL, w, t)
#define PP_FREE(p, s, w, t)	pp(MS_EV_PASSPORT_FREE, p, s, w, t)

static const struct declared_task *task_of(__u64 id)
{
	const struct declared_task *t, *found = NULL;
	size_t i;

	/* the current record of the id: the last one */
	for (i = 0; i < declared__nr_tasks(dc); i++) {
		t = declared__task(dc, i);
		if (t->id == id)
			found = t;
	}
	cr_assert_not_null(found, "no task %llu", (unsigned long long)id);
	return found;
}

static void expect_task(__u64 id, __u64 allocs, __u64 alloc_bytes,
			__u64 live_count, __u64 live_bytes, __u64 peak)
{
	const struct declared_task *t = task_of(id);

	expect_eq(t->allocs, allocs, "task %llu allocs", (unsigned long long)id);
	expect_eq(t->alloc_bytes, alloc_bytes, "task %llu alloc_bytes",
		  (unsigned long long)id);
	expect_eq(t->live_count, live_count, "task %llu live_count",
		  (unsigned long long)id);
	expect_eq(t->live_bytes, live_bytes, "task %llu live_bytes",
		  (unsigned long long)id);
	expect_eq(t->peak_bytes, peak, "task %llu peak_bytes",
		  (unsigned long long)id);
}

static __u32 stack_of_frame(__u64 frame0)
{
	struct store_site s;
	__u32 id;

	for (id = 0; id < store__nr_stacks(st); id++) {
		cr_assert_eq(store__site(st, id, &s), 0, "store__site");
		if (s.nr_frames && s.frames[0] == frame0)
			return id;
	}
	cr_assert_fail("no stack with frame 0x%llx",
		       (unsigned long long)frame0);
	return 0;
}

/*
 * The stack a declared record at probe address frame0 was kept as: its
 * frames[0] one past the probe, like a return address (store.c).
 */
static __u32 probe_stack(__u64 where)
{
	return stack_of_frame(where + 1);
}

static __u32 alloc_stack(int k)
{
	return stack_of_frame(0x400000 + (__u64)k * 0x10);
}

/* One task runs on two threads in turn; another shares the first thread. */
Test(declared, task_bytes_follow_the_task_across_threads)
{
	task_create(1, 0, "request", 10);
	task_create(2, 1, "child", 11);

	ev_src.tid = 100;
	enter(1, 20);
	alloc(0x1000, 100, 1, 0, 21);
	leave(1, 22);
	enter(2, 23);
	alloc(0x2000, 50, 2, 1, 24);
	leave(2, 25);
	/* task 1 resumes on another thread */
	ev_src.tid = 200;
	enter(1, 30);
	alloc(0x3000, 300, 3, 0, 31);
	dealloc(0x1000, 32);
	leave(1, 33);
	/* outside any task: nobody's */
	alloc(0x4000, 7, 4, 2, 34);

	expect_task(1, 2, 400, 1, 300, 400);
	expect_task(2, 1, 50, 1, 50, 50);
	expect_eq(declared__nr_tasks(dc), 2, "tasks");
	expect_eq(task_of(2)->parent, 1, "task 2 parent");
	expect_str(task_of(1)->name, "request", "task 1 name");
	expect_eq(task_of(1)->last_active_ns, 33, "task 1 last_active_ns");
	expect_eq(declared_task_state(task_of(1)), DECLARED_TASK_IDLE,
		  "task 1 state");
}

/* A free is charged to the task that allocated the block, not the freer. */
Test(declared, frees_charged_to_the_owning_task)
{
	task_create(1, 0, "producer", 1);
	task_create(2, 0, "consumer", 1);
	enter(1, 10);
	alloc(0x1000, 100, 1, 0, 11);
	alloc(0x2000, 200, 2, 0, 12);
	leave(1, 13);
	enter(2, 20);
	dealloc(0x1000, 21);
	leave(2, 22);
	ev_src.tid = 300;
	dealloc(0x2000, 30);	/* no task at all on this thread */

	expect_task(1, 2, 300, 0, 0, 300);
	expect_task(2, 0, 0, 0, 0, 0);
	/* a realloc moves the bytes to the task running it */
	enter(2, 40);
	alloc(0x3000, 10, 3, 0, 41);
	leave(2, 42);
	enter(1, 43);
	ev_realloc(st, 0x3000, 3, 0x3100, 30, 4, &(__u64){ 0x400000 }, 1, 44);
	leave(1, 45);
	expect_task(2, 1, 10, 0, 0, 10);
	expect_task(1, 3, 330, 1, 30, 300);
}

/* Ids seen only through enter or attribution still count, unnamed. */
Test(declared, placeholder_tasks_are_counted)
{
	ev_src.task = 77;	/* the kernel tagged it; no create seen */
	alloc(0x1000, 64, 1, 0, 5);
	ev_src.task = 0;
	enter(78, 6);
	alloc(0x2000, 32, 2, 0, 7);

	expect_eq(declared__nr_tasks(dc), 2, "tasks");
	cr_assert_null(task_of(77)->name, "task 77 has no name");
	cr_assert(!task_of(77)->created, "task 77 never created");
	expect_task(77, 1, 64, 1, 64, 64);
	expect_task(78, 1, 32, 1, 32, 32);
	expect_eq(declared_task_state(task_of(78)), DECLARED_TASK_RUNNING,
		  "task 78 state");

	/* a create after the fact names it, in the same record */
	task_create(77, 0, "late", 8);
	expect_eq(declared__nr_tasks(dc), 2, "tasks after a late create");
	expect_str(task_of(77)->name, "late", "task 77 name");
	expect_task(77, 1, 64, 1, 64, 64);
}

Test(declared, completion_keeps_what_was_live_then)
{
	task_create(5, 0, "job", 1);
	enter(5, 2);
	alloc(0x1000, 100, 1, 0, 3);
	alloc(0x2000, 20, 2, 0, 4);
	dealloc(0x2000, 5);
	leave(5, 6);
	complete(5, 7);
	dealloc(0x1000, 9);

	expect_eq(task_of(5)->done_count, 1, "done_count");
	expect_eq(task_of(5)->done_bytes, 100, "done_bytes");
	expect_eq(task_of(5)->completed_ns, 7, "completed_ns");
	expect_eq(task_of(5)->live_bytes, 0, "live_bytes after the free");
	expect_eq(declared_task_state(task_of(5)), DECLARED_TASK_COMPLETED,
		  "state");

	/* a repeated complete changes nothing; a repeated create neither */
	complete(5, 20);
	expect_eq(task_of(5)->completed_ns, 7, "completed_ns after repeat");
	expect_stat(tasks_repeated, 1);
	task_create(6, 0, "other", 21);
	task_create(6, 0, "again", 22);
	expect_str(task_of(6)->name, "other", "task 6 keeps its first name");
	expect_stat(tasks_repeated, 2);
}

/* An id created again after it completed is a new task; blocks stay put. */
Test(declared, completed_id_reused_is_a_new_task)
{
	task_create(9, 0, "first", 1);
	enter(9, 2);
	alloc(0x1000, 100, 1, 0, 3);
	leave(9, 4);
	complete(9, 5);

	task_create(9, 0, "second", 6);
	enter(9, 7);
	alloc(0x2000, 10, 2, 0, 8);
	dealloc(0x1000, 9);
	leave(9, 10);

	expect_eq(declared__nr_tasks(dc), 2, "records");
	expect_str(declared__task(dc, 0)->name, "first", "record 0");
	expect_eq(declared__task(dc, 0)->live_bytes, 0, "first live_bytes");
	expect_eq(declared__task(dc, 0)->alloc_bytes, 100, "first alloc_bytes");
	expect_str(declared__task(dc, 1)->name, "second", "record 1");
	expect_eq(declared__task(dc, 1)->live_bytes, 10, "second live_bytes");
}

Test(declared, track_joins_the_live_block_and_ends_with_it)
{
	const struct declared_track *t;
	struct declared_site live, peak;

	alloc(0x1000, 128, 7, 0, 1);
	track(0x1000, "session cache", "struct cache", MS_KIND_HEAP_OWNER, 2);

	expect_eq(declared__nr_tracked(dc), 1, "tracked");
	t = declared__tracked(dc, 0);
	cr_assert(t->has_block, "joined to the block");
	expect_eq(t->seq, 7, "seq");
	expect_eq(t->block_size, 128, "block_size");
	expect_eq(t->stack_id, alloc_stack(0), "stack_id");
	expect_str(t->name, "session cache", "name");
	expect_str(t->type, "struct cache", "type");
	expect_eq(t->kind, MS_KIND_HEAP_OWNER, "kind");

	store__site_declared(st, alloc_stack(0), &live, &peak);
	expect_eq(live.count, 1, "site declared count");
	expect_eq(live.nr_names, 1, "site names");
	expect_str(live.names[0].name, "session cache", "site name");

	dealloc(0x1000, 3);
	expect_eq(declared__nr_tracked(dc), 0, "tracked after the free");
	expect_stat(tracks_freed, 1);
	store__site_declared(st, alloc_stack(0), &live, &peak);
	expect_eq(live.count, 0, "site declared count after the free");

	/* the address comes back as another block: no name */
	alloc(0x1000, 128, 8, 0, 4);
	store__site_declared(st, alloc_stack(0), &live, &peak);
	expect_eq(live.count, 0, "reused address inherits no name");
	expect_eq(declared__nr_tracked(dc), 0, "tracked after reuse");
}

/* A free we never saw: the address is re-allocated, the name must not stay. */
Test(declared, replaced_block_drops_its_name)
{
	struct declared_site live, peak;

	alloc(0x1000, 128, 1, 0, 1);
	track(0x1000, "buf", "char[]", MS_KIND_VALUE, 2);
	alloc(0x1000, 64, 2, 1, 3);	/* the free was lost */

	expect_eq(declared__nr_tracked(dc), 0, "tracked");
	store__site_declared(st, alloc_stack(1), &live, &peak);
	expect_eq(live.count, 0, "new block's site declared count");
	store__site_declared(st, alloc_stack(0), &live, &peak);
	expect_eq(live.count, 0, "old block's site declared count");
}

Test(declared, track_without_block_is_kept_and_said)
{
	const struct declared_track *t;

	track(0x7ffd0000, "frame buffer", "char[64]", MS_KIND_STACK_OWNER, 1);
	expect_eq(declared__nr_tracked(dc), 1, "tracked");
	t = declared__tracked(dc, 0);
	cr_assert(!t->has_block, "no block at a stack address");
	expect_stat(tracks_no_block, 1);

	/* a later block at that address is not what was declared */
	alloc(0x7ffd0000, 16, 1, 0, 2);
	dealloc(0x7ffd0000, 3);
	expect_eq(declared__nr_tracked(dc), 1, "still declared, no block");
	untrack(0x7ffd0000, 4);
	expect_eq(declared__nr_tracked(dc), 0, "untracked");
	untrack(0x7ffd0000, 5);
	expect_stat(untracks, 1);
	expect_stat(untracks_unknown, 1);
}

Test(declared, retrack_replaces_the_declaration)
{
	struct declared_site live, peak;

	alloc(0x1000, 10, 1, 0, 1);
	track(0x1000, "old", "T", MS_KIND_VALUE, 2);
	track(0x1000, "new", "T", MS_KIND_VALUE, 3);
	expect_eq(declared__nr_tracked(dc), 1, "one record per address");
	expect_str(declared__tracked(dc, 0)->name, "new", "name");
	store__site_declared(st, alloc_stack(0), &live, &peak);
	expect_eq(live.count, 1, "site count");
	expect_eq(live.nr_names, 1, "site names");
	expect_str(live.names[0].name, "new", "site name");
}

/* The declared blocks at the peak are those tracked at that moment. */
Test(declared, site_names_at_the_peak)
{
	struct declared_site live, peak;

	alloc(0x1000, 100, 1, 0, 1);
	track(0x1000, "a", "T", MS_KIND_VALUE, 2);
	alloc(0x2000, 100, 2, 0, 3);
	track(0x2000, "b", "T", MS_KIND_VALUE, 4);
	alloc(0x3000, 100, 3, 0, 5);		/* the peak: 300 bytes */
	dealloc(0x1000, 6);
	dealloc(0x2000, 7);
	alloc(0x4000, 10, 4, 0, 8);
	track(0x4000, "c", "T", MS_KIND_VALUE, 9);

	store__site_declared(st, alloc_stack(0), &live, &peak);
	expect_eq(peak.count, 2, "declared at the peak");
	expect_eq(peak.nr_names, 2, "names at the peak");
	expect_str(peak.names[0].name, "a", "peak name 0");
	expect_str(peak.names[1].name, "b", "peak name 1");
	expect_eq(live.count, 1, "declared now");
	expect_eq(live.nr_names, 1, "names now");
	expect_str(live.names[0].name, "c", "name now");
}

Test(declared, site_keeps_three_names_and_counts_all)
{
	struct declared_site live, peak, merged = { 0 };
	static const char *const names[] = { "n0", "n1", "n2", "n3", "n4" };
	int i;

	for (i = 0; i < 5; i++) {
		alloc(0x1000 + i * 0x100, 8, i + 1, 0, 1 + i);
		track(0x1000 + i * 0x100, names[i], "T", MS_KIND_VALUE, 1 + i);
	}
	store__site_declared(st, alloc_stack(0), &live, &peak);
	expect_eq(live.count, 5, "declared blocks");
	expect_eq(live.nr_names, DECLARED_SITE_NAMES, "names kept");

	/*
	 * n0 ends; after a new peak its slot names nothing now or at the
	 * peak, so a new name takes it.
	 */
	untrack(0x1000, 11);
	alloc(0x9000, 100000, 99, 1, 12);
	alloc(0x1500, 8, 6, 0, 13);
	track(0x1500, "n5", "T", MS_KIND_VALUE, 14);
	store__site_declared(st, alloc_stack(0), &live, &peak);
	expect_eq(live.count, 5, "declared blocks now");
	expect_eq(live.nr_names, 3, "names now");
	expect_str(live.names[0].name, "n5", "reused slot");
	expect_eq(peak.count, 4, "declared blocks at the peak");
	expect_eq(peak.nr_names, 2, "names at the peak");

	/* merging two sites adds counts and keeps the busiest names */
	declared_site_merge(&merged, &live);
	declared_site_merge(&merged, &live);
	expect_eq(merged.count, 10, "merged count");
	expect_eq(merged.nr_names, DECLARED_SITE_NAMES, "merged names");
	expect_eq(merged.names[0].count, 2, "merged name count");
}

Test(declared, shared_handles_count_clones_per_block)
{
	const struct declared_shared *s;
	const struct declared_share_ev *log;

	alloc(0x1000, 512, 1, 0, 1);
	share(0xa0, 0x1000, "config", 2);
	share(0xa8, 0x1000, "config", 3);
	share(0xb0, 0x1000, "config", 4);
	unshare(0xa8, 5);

	expect_eq(declared__nr_shared(dc), 1, "shared blocks");
	s = declared__shared(dc, 0);
	cr_assert(s->has_block, "joined to the block");
	expect_eq(s->seq, 1, "seq");
	expect_eq(s->size, 512, "size");
	expect_eq(s->shares, 3, "shares");
	expect_eq(s->handles, 2, "live handles");
	expect_eq(s->max_handles, 3, "max handles");
	expect_str(s->name, "config", "name");
	expect_eq(declared__share_log(dc, &log), 3, "share log");
	expect_eq(log[2].ts_ns, 4, "log[2]");

	/* a handle overwritten is dropped; an unknown unshare is counted */
	expect_eq(declared__shared(dc, 0)->handles, 2, "handles before");
	share(0xb0, 0x1000, "config", 6);
	expect_eq(declared__shared(dc, 0)->handles, 2, "handles after overwrite");
	unshare(0xdead, 7);
	expect_stat(unshares_unknown, 1);

	/* the block dies and its address is reused: a new shared block */
	dealloc(0x1000, 8);
	cr_assert(declared__shared(dc, 0)->ended, "ended with its block");
	alloc(0x1000, 64, 2, 0, 9);
	share(0xc0, 0x1000, "other", 10);
	expect_eq(declared__nr_shared(dc), 2, "shared blocks after reuse");
	s = declared__shared(dc, 1);
	expect_eq(s->seq, 2, "new seq");
	expect_eq(s->shares, 1, "new shares");
	expect_str(s->name, "other", "new name");
	/* the old handles still count against their own block */
	unshare(0xa0, 11);
	expect_eq(declared__shared(dc, 0)->handles, 1, "old block handles");
	expect_eq(declared__shared(dc, 1)->handles, 1, "new block handles");
}

static void expect_no_violations(void)
{
	const struct declared_violation *v;

	if (!declared__nr_violations(dc))
		return;
	v = declared__violation(dc, 0);
	cr_assert_fail("%zu violations, first kind %u at ts %llu",
		       declared__nr_violations(dc), v->kind,
		       (unsigned long long)v->ev.ts_ns);
}

static const struct declared_violation *only_violation(unsigned kind)
{
	const struct declared_violation *v;

	expect_eq(declared__nr_violations(dc), 1, "violations");
	v = declared__violation(dc, 0);
	expect_eq(v->kind, kind, "violation kind");
	return v;
}

Test(declared, passport_clean_round_trip)
{
	const struct declared_passport *p;

	PP_CREATE(0x1000, 0x5000, 1);
	PP_HANDOVER(0x1000, "libfoo", 0x5010, 2);
	PP_RECLAIM(0x1000, 0x5020, 3);
	PP_HANDOVER(0x1000, "libfoo", 0x5010, 4);
	PP_FREE(0x1000, "libfoo", 0x5030, 5);	/* freed where it is */
	PP_CREATE(0x1000, 0x5000, 6);		/* new generation */
	PP_FREE(0x1000, "host", 0x5030, 7);

	expect_no_violations();
	expect_eq(declared__nr_passports(dc), 2, "passports");
	p = declared__passport(dc, 0);
	expect_eq(p->generation, 0, "generation");
	cr_assert(p->freed, "freed");
	expect_str(p->custody, "libfoo", "freed by");
	expect_eq(p->nr_events, 5, "events");
	expect_eq(p->nr_history, 5, "history");
	expect_eq(p->history[1].op, DECLARED_PP_HANDOVER, "history[1] op");
	expect_str(p->history[1].side, "libfoo", "history[1] side");
	expect_eq(p->history[2].stack_id, probe_stack(0x5020),
		  "history[2] stack");
	expect_eq(p->nr_handovers, 2, "handovers");
	expect_eq(declared__passport(dc, 1)->generation, 1, "generation 1");
	expect_str(declared__passport(dc, 1)->custody, "host", "freed by host");
}

Test(declared, passport_freed_by_wrong_side)
{
	const struct declared_violation *v;

	PP_CREATE(0x1000, 0x5000, 1);
	PP_HANDOVER(0x1000, "libfoo", 0x5010, 2);
	PP_FREE(0x1000, "host", 0x5030, 3);

	v = only_violation(DECLARED_PV_WRONG_SIDE);
	expect_eq(v->ptr, 0x1000, "ptr");
	expect_eq(v->passport, 0, "passport");
	expect_str(v->custody, "libfoo", "custody");
	expect_str(v->ev.side, "host", "freed by");
	expect_eq(v->ev.ts_ns, 3, "ts");
	expect_eq(v->ev.stack_id, probe_stack(0x5030), "stack");
	expect_eq(declared__passport(dc, 0)->nr_violations, 1, "on passport");
}

Test(declared, passport_handed_over_after_free)
{
	const struct declared_violation *v;

	PP_CREATE(0x1000, 0x5000, 1);
	PP_FREE(0x1000, "host", 0x5030, 2);
	PP_HANDOVER(0x1000, "libbar", 0x5040, 3);

	v = only_violation(DECLARED_PV_HANDOVER_AFTER_FREE);
	expect_eq(v->ev.stack_id, probe_stack(0x5040), "stack");
	expect_eq(v->ev.op, DECLARED_PP_HANDOVER, "op");
	cr_assert(declared__passport(dc, 0)->freed, "still freed");
	expect_eq(declared__passport(dc, 0)->nr_handovers, 0, "handovers");
}

Test(declared, passport_handed_over_twice)
{
	const struct declared_violation *v;

	PP_CREATE(0x1000, 0x5000, 1);
	PP_HANDOVER(0x1000, "libfoo", 0x5010, 2);
	PP_HANDOVER(0x1000, "libbar", 0x5050, 3);

	v = only_violation(DECLARED_PV_DOUBLE_HANDOVER);
	expect_str(v->custody, "libfoo", "custody before");
	expect_str(v->ev.side, "libbar", "to");
	expect_eq(v->ev.stack_id, probe_stack(0x5050), "stack");
	expect_str(declared__passport(dc, 0)->custody, "libbar", "custody");
}

Test(declared, passport_operations_on_unknown_passports)
{
	const struct declared_violation *v;
	size_t i;

	PP_HANDOVER(0x2000, "libfoo", 0x5010, 1);
	PP_RECLAIM(0x3000, 0x5020, 2);
	PP_FREE(0x4000, "host", 0x5030, 3);
	/* and after the free, reclaim and free again */
	PP_CREATE(0x1000, 0x5000, 4);
	PP_FREE(0x1000, "host", 0x5030, 5);
	PP_RECLAIM(0x1000, 0x5020, 6);
	PP_FREE(0x1000, "host", 0x5060, 7);

	expect_eq(declared__nr_violations(dc), 5, "violations");
	for (i = 0; i < 5; i++) {
		v = declared__violation(dc, i);
		expect_eq(v->kind, DECLARED_PV_UNKNOWN, "violation %zu kind", i);
	}
	v = declared__violation(dc, 0);
	expect_eq(v->passport, DECLARED_NONE, "no passport");
	cr_assert_null(v->custody, "no custody");
	expect_eq(v->ptr, 0x2000, "ptr");
	expect_eq(declared__violation(dc, 4)->passport, 0, "freed passport");
	expect_eq(declared__violation(dc, 4)->ev.stack_id,
		  probe_stack(0x5060), "stack");
	expect_eq(declared__nr_passports(dc), 1, "only the created one");
}

Test(declared, passport_history_is_bounded)
{
	const struct declared_passport *p;
	int i;

	PP_CREATE(0x1000, 0x5000, 1);
	for (i = 0; i < 20; i++) {
		PP_HANDOVER(0x1000, "libfoo", 0x5010, 10 + 2 * i);
		PP_RECLAIM(0x1000, 0x5020, 11 + 2 * i);
	}
	PP_FREE(0x1000, "host", 0x5030, 100);

	expect_no_violations();
	p = declared__passport(dc, 0);
	expect_eq(p->nr_events, 42, "events");
	expect_eq(p->nr_history, DECLARED_HISTORY, "kept");
	expect_eq(p->history[DECLARED_HISTORY - 1].ts_ns, 10 + 14, "last kept");
	cr_assert(p->freed, "the state machine ran past the history");
}

Test(declared, malformed_records_are_counted_not_used)
{
	struct ms_event e;

	alloc(0x1000, 8, 1, 0, 1);
	e = ev_rec(MS_EV_TRACK, 2);
	e.ptr = 0x1000;
	e.aux = MS_KIND__COUNT;		/* kind out of range */
	strcpy(e.name, "x");
	apply(&e);
	e.aux = MS_KIND_VALUE;
	e.name[0] = 0;			/* no name */
	apply(&e);
	memset(e.name, 'a', sizeof(e.name));	/* no NUL */
	apply(&e);
	e = ev_rec(MS_EV_TASK_ENTER, 3);	/* task 0 */
	apply(&e);
	e = ev_rec(MS_EV_TASK_CREATE, 3);
	e.task = 4;
	e.aux = 4;			/* its own parent */
	apply(&e);
	e = ev_rec(MS_EV_PASSPORT_CREATE, 3);	/* ptr 0 */
	apply(&e);
	e = ev_rec(MS_EV_PASSPORT_FREE, 3);
	e.ptr = 0x1000;			/* by nobody */
	apply(&e);
	e = ev_rec(MS_EV_SHARE, 3);
	e.ptr = 0x1000;			/* handle 0 */
	apply(&e);

	expect_stat(malformed, 8);
	expect_stat(records, 8);
	expect_eq(declared__nr_tracked(dc), 0, "tracked");
	expect_eq(declared__nr_tasks(dc), 0, "tasks");
	expect_eq(declared__nr_passports(dc), 0, "passports");
	expect_eq(declared__nr_violations(dc), 0, "violations");
	expect_eq(declared__nr_shared(dc), 0, "shared");
	expect_eq(store__summary(st)->events, 9, "events applied");
}

/* Declared records come from probes, not allocator functions. */
Test(declared, declared_record_with_allocator_fn_is_refused)
{
	struct ms_event e = ev_rec(MS_EV_TRACK, 1);
	int err;

	e.fn = MS_FN_MALLOC;
	e.ptr = 0x1000;
	strcpy(e.name, "x");
	err = store__apply(st, &e);
	expect_eq(err, (unsigned long long)-EINVAL, "store__apply");
	expect_eq(store__summary(st)->events, 0, "events");
	expect_stat(records, 0);
}

/* A first share whose strings could not be read: a later one names it. */
Test(declared, shared_block_named_by_the_first_share_that_names_it)
{
	alloc(0x1000, 64, 1, 0, 1);
	share(0xa0, 0x1000, "", 2);
	expect_str(declared__shared(dc, 0)->name, "", "unnamed");
	share(0xa8, 0x1000, "config", 3);
	share(0xb0, 0x1000, "other", 4);
	expect_str(declared__shared(dc, 0)->name, "config", "named");
	expect_str(declared__shared(dc, 0)->type, "Arc<Config>", "typed");
}

/*
 * frames[0] of a declared record is the probe's own address; the store
 * keeps it one past, like the return addresses of every other stack, and
 * leaves the outer frames and allocation stacks alone.
 */
Test(declared, probe_address_kept_as_a_return_address)
{
	struct store_site s;
	__u32 id;

	PP_CREATE(0x1000, 0x5000, 1);
	alloc(0x2000, 8, 1, 0, 2);
	id = declared__passport(dc, 0)->history[0].stack_id;
	cr_assert_eq(store__site(st, id, &s), 0, "store__site");
	expect_eq(s.nr_frames, 2, "frames");
	expect_eq(s.frames[0], 0x5001, "frames[0]");
	expect_eq(s.frames[1], 0x7000, "frames[1]");
	cr_assert_eq(store__site(st, alloc_stack(0), &s), 0, "store__site");
	expect_eq(s.frames[0], 0x400000, "allocation frames[0]");
}

/*
 * A process image that declares nothing keeps no string page: -a keeps
 * every ended image, and the page interned for "host" at the start was
 * half of what one kept. The first passport interns it, in custody.
 */
Test(declared, nothing_declared_keeps_no_page)
{
	cr_expect_lt(declared__mem_bytes(dc), 4096,
		     "an empty declared state: %zu bytes",
		     declared__mem_bytes(dc));
	PP_FREE(0x2000, "host", 0x5030, 1);	/* unknown: "host" interned */
	PP_CREATE(0x1000, 0x5000, 2);
	PP_HANDOVER(0x1000, "libfoo", 0x5010, 3);
	PP_RECLAIM(0x1000, 0x5020, 4);
	expect_str(declared__passport(dc, 0)->custody, "host",
		   "reclaimed: in the host's custody");
	PP_HANDOVER(0x1000, "libfoo", 0x5010, 5);
	expect_eq(declared__nr_violations(dc), 1,
		  "only the unknown passport's free: a reclaimed passport handed over again is no double handover");
}

/* Most images declare nothing: their store reads the shared empty state
 * and holds none of its own until the first declaration. */
Test(declared, state_made_at_the_first_declaration)
{
	size_t before = store__mem_bytes(st);

	cr_expect_eq(dc, declared__none(), "a store that declared nothing");
	cr_expect_eq(declared__nr_passports(dc), 0);
	PP_CREATE(0x1000, 0x5000, 1);
	cr_expect_neq(dc, declared__none(), "after a declaration");
	cr_expect_eq(declared__nr_passports(dc), 1);
	cr_expect_eq(declared__nr_passports(declared__none()), 0,
		     "the shared empty state stays empty");
	cr_expect_gt(store__mem_bytes(st), before);
}
