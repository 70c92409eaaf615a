/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Zombie tasks: tasks that may hold memory nobody will use again. Two
 * rules, and nothing else fires:
 *  - completed-with-live-blocks: a task completed while blocks it
 *    allocated stayed live, and they are still live at the end. Only
 *    blocks allocated before the completion count: the task owned them
 *    while it ran. Confidence grows from 0.5 with how long they outlived
 *    the task (up to the idle threshold) and with the share of what was
 *    live at completion that never went away, up to 0.95:
 *	0.5 + 0.45 * min(1, quiet / idle_threshold) * bytes / done_bytes
 *  - never-completed-idle: a task never completed whose last activity
 *    (creation, enter, leave, attributed allocation) is older than the
 *    idle threshold at the end of the trace:
 *	min(0.95, 0.5 * idle / idle_threshold)
 *    so just past the threshold is a coin toss, twice it as sure as a
 *    guess gets.
 * Each names where most of the bytes concerned come from.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "json.h"
#include "report_json.h"
#include "report_text.h"
#include "rules.h"
#include "table.h"

#define CONFIDENCE_MAX		0.95

enum {
	OPT_IDLE_THRESHOLD,
};

static const struct rule_option zombie_opts[] = {
	[OPT_IDLE_THRESHOLD] = {
		.name = "idle-threshold",
		.json = "idle_threshold_ns",
		.type = RULE_OPT_SECS,
		.def = 1000000000ull,
		.help =
"      --idle-threshold SEC  a task never completed and idle this long is a\n"
"                        zombie candidate (default 1)\n",
	},
};

static void *calloc_n(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

/* A live block, for grouping by task and stack. */
struct blk {
	__u32 task;		/* store_block.task */
	__u32 stack_id;
	__u64 size;
};

/* The blocks of one task that a rule looks at, and where most come from. */
struct task_blocks {
	__u64 count;
	__u64 bytes;
	__u64 top_count;
	__u64 top_bytes;
	__u32 top_stack;
};

struct collect {
	const struct declared *d;
	struct blk *blks;
	size_t nr;
	size_t cap;
};

static __u64 end_of(const struct rule_input *in, __u64 ts)
{
	return in->end_ns > ts ? in->end_ns - ts : 0;
}

static double fmin1(double x)
{
	return x < 1 ? x : 1;
}

static int collect_blk(const struct store_block *b, void *ctx)
{
	struct collect *c = ctx;
	const struct declared_task *t;

	if (!b->task)
		return 0;
	t = declared__task(c->d, b->task - 1);
	/* A completed task answers only for what it held when it ended. */
	if (t->completed && b->ts_ns > t->completed_ns)
		return 0;
	if (tab_grow((void **)&c->blks, &c->cap, c->nr + 1, sizeof(*c->blks)))
		return -ENOMEM;
	c->blks[c->nr++] = (struct blk){
		.task = b->task, .stack_id = b->stack_id, .size = b->size,
	};
	return 0;
}

static int blk_cmp(const void *pa, const void *pb)
{
	const struct blk *a = pa, *b = pb;

	if (a->task != b->task)
		return a->task < b->task ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

/* tb[ref - 1]: the blocks the rules look at, per task. */
static int group_blocks(const struct store *st, const struct declared *d,
			struct task_blocks *tb)
{
	struct collect c = { .d = d };
	struct task_blocks *t;
	__u64 cnt, bytes;
	size_t i, j;
	int err;

	err = store__for_each_live(st, collect_blk, &c);
	if (err || !c.nr)
		goto out;
	qsort(c.blks, c.nr, sizeof(*c.blks), blk_cmp);
	for (i = 0; i < c.nr; i = j) {
		t = &tb[c.blks[i].task - 1];
		cnt = bytes = 0;
		for (j = i; j < c.nr && !blk_cmp(&c.blks[i], &c.blks[j]); j++) {
			cnt++;
			bytes += c.blks[j].size;
		}
		t->count += cnt;
		t->bytes += bytes;
		if (bytes > t->top_bytes) {
			t->top_bytes = bytes;
			t->top_count = cnt;
			t->top_stack = c.blks[i].stack_id;
		}
	}
out:
	free(c.blks);
	return err;
}

static int zombie_cmp(const void *pa, const void *pb)
{
	const struct rule_zombie *a = pa, *b = pb;

	if (a->f.confidence != b->f.confidence)
		return a->f.confidence < b->f.confidence ? 1 : -1;
	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	return a->task < b->task ? -1 : a->task > b->task;
}

/* Whether task t is a zombie candidate, and by which rule. */
static bool zombie_rule(const struct rule_input *in,
			const struct declared_task *t,
			const struct task_blocks *tb, struct rule_zombie *z)
{
	__u64 idle = in->opts[OPT_IDLE_THRESHOLD];
	double quiet, share;

	if (t->completed) {
		if (!tb->count)
			return false;
		z->f.rule = RULE_COMPLETED_LIVE;
		z->since_ns = t->completed_ns;
		z->quiet_ns = end_of(in, t->completed_ns);
		quiet = fmin1((double)z->quiet_ns / idle);
		share = t->done_bytes ?
			fmin1((double)tb->bytes / t->done_bytes) : 1;
		z->f.confidence = 0.5 + (CONFIDENCE_MAX - 0.5) * quiet * share;
		return true;
	}
	z->since_ns = t->last_active_ns;
	z->quiet_ns = end_of(in, t->last_active_ns);
	if (z->quiet_ns <= idle)
		return false;
	z->f.rule = RULE_NEVER_COMPLETED;
	z->f.confidence = 0.5 * z->quiet_ns / idle;
	if (z->f.confidence > CONFIDENCE_MAX)
		z->f.confidence = CONFIDENCE_MAX;
	return true;
}

static int zombies_infer(const struct rule_input *in, void **items,
			 size_t *nr)
{
	const struct declared *d = store__declared(in->st);
	size_t n = declared__nr_tasks(d), i;
	struct rule_zombie *zs, *z;
	struct task_blocks *tb;
	int err = -ENOMEM;

	tb = calloc_n(n, sizeof(*tb));
	zs = calloc_n(n, sizeof(*zs));
	if (!tb || !zs)
		goto out;
	err = group_blocks(in->st, d, tb);
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		z = &zs[*nr];
		if (!zombie_rule(in, declared__task(d, i), &tb[i], z))
			continue;
		z->task = in->a->task_pos[i];
		z->count = tb[i].count;
		z->bytes = tb[i].bytes;
		z->top_count = tb[i].top_count;
		z->top_bytes = tb[i].top_bytes;
		z->f.has_stack = tb[i].top_count != 0;
		z->f.stack_id = tb[i].top_stack;
		(*nr)++;
	}
	qsort(zs, *nr, sizeof(*zs), zombie_cmp);
	*items = zs;
	zs = NULL;
out:
	free(tb);
	free(zs);
	return err;
}

static void zombie_text(FILE *f, const struct report *r, const __u64 *opts,
			const void *item, size_t i)
{
	const struct rule_zombie *z = item;
	char b[64], at[32], quiet[32];

	(void)opts;
	fprintf(f, "  #%zu  ", i + 1);
	report_text_task(f, &r->tasks[z->task].t);
	report_text_secs(at, sizeof(at), report__since_start(r, z->since_ns));
	report_text_secs(quiet, sizeof(quiet), z->quiet_ns);
	report_text_bytes(b, sizeof(b), z->bytes);
	if (!strcmp(z->f.rule, RULE_COMPLETED_LIVE))
		fprintf(f, ": completed at %s; %s in %llu block%s it held then still live %s later\n",
			at, b, (unsigned long long)z->count,
			report_text_plural(z->count), quiet);
	else
		fprintf(f, ": never completed, idle since %s (for %s); %s in %llu block%s of it live\n",
			at, quiet, b, (unsigned long long)z->count,
			report_text_plural(z->count));
	fprintf(f, REPORT_TEXT_INDENT "rule %s, confidence %.2f\n",
		z->f.rule, z->f.confidence);
	if (!z->top_count)
		return;
	fprintf(f, REPORT_TEXT_INDENT "most from here (%s in %llu block%s):\n",
		report_text_bytes(b, sizeof(b), z->top_bytes),
		(unsigned long long)z->top_count,
		report_text_plural(z->top_count));
	report_text_frames(f, z->f.frames, z->f.nr_frames);
}

static void zombie_json(struct json *j, const struct report *r,
			const void *item)
{
	const struct rule_zombie *z = item;

	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_INFERRED);
	json_kv_str(j, "rule", z->f.rule);
	json_key(j, "confidence");
	json_double(j, z->f.confidence);
	json_kv_u64(j, "task", r->tasks[z->task].t.id);
	json_kv_u64(j, "task_index", z->task);
	json_kv_u64(j, "since_ns", report__since_start(r, z->since_ns));
	json_kv_u64(j, "quiet_ns", z->quiet_ns);
	json_kv_u64(j, "count", z->count);
	json_kv_u64(j, "bytes", z->bytes);
	json_key(j, "top");
	if (z->top_count) {
		json_obj_begin(j);
		json_kv_str(j, "source", SOURCE_CAPTURED);
		json_kv_u64(j, "count", z->top_count);
		json_kv_u64(j, "bytes", z->top_bytes);
		report_json_frames(j, z->f.frames, z->f.nr_frames);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_obj_end(j);
}

const struct rule rule_zombie_tasks = {
	.key = "zombies",
	.title = "Zombie task candidates (inferred)",
	.place = RULE_AFTER_TASKS,
	.opts = zombie_opts,
	.nr_opts = sizeof(zombie_opts) / sizeof(zombie_opts[0]),
	.size = sizeof(struct rule_zombie),
	.infer = zombies_infer,
	.text = zombie_text,
	.json = zombie_json,
};
