/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The "declared" member of the JSON report (docs/declared.md): what the
 * program declared through the memscope USDT probes and what analysis
 * inferred from it. Every record carries its source: "declared" as the
 * program said it, "inferred" with its rule and confidence, "captured"
 * for what the probes observed (bytes, blocks, stacks). Instants are ns
 * since tracing began; an instant that did not happen is null.
 */
#include <stdio.h>
#include "json.h"
#include "report.h"
#include "report_json.h"

#define SOURCE_CAPTURED		"captured"
#define SOURCE_DECLARED		"declared"
#define SOURCE_INFERRED		"inferred"

/* An instant since the start, or null when it did not happen. */
static void put_when(const struct report *r, struct json *j, const char *key,
		     bool happened, __u64 ts)
{
	json_key(j, key);
	if (happened)
		json_u64(j, report__since_start(r, ts));
	else
		json_null(j);
}

static void put_index(struct json *j, const char *key, size_t i)
{
	json_key(j, key);
	if (i == DECLARED_NONE)
		json_null(j);
	else
		json_u64(j, i);
}

/* The same frame object as the rest of the report (report-schema.md). */
static void write_stats(struct json *j, const struct report *r)
{
	const struct declared_stats *d = &r->declared;

	json_key(j, "stats");
	json_obj_begin(j);
	json_kv_u64(j, "records", d->records);
	json_kv_u64(j, "malformed", d->malformed);
	json_kv_u64(j, "dropped", d->dropped);
	json_kv_u64(j, "tracks", d->tracks);
	json_kv_u64(j, "tracks_no_block", d->tracks_no_block);
	json_kv_u64(j, "tracks_freed", d->tracks_freed);
	json_kv_u64(j, "untracks", d->untracks);
	json_kv_u64(j, "untracks_unknown", d->untracks_unknown);
	json_kv_u64(j, "shares", d->shares);
	json_kv_u64(j, "unshares", d->unshares);
	json_kv_u64(j, "unshares_unknown", d->unshares_unknown);
	json_kv_u64(j, "tasks_repeated", d->tasks_repeated);
	json_kv_u64(j, "share_log_dropped", d->share_log_dropped);
	json_obj_end(j);
}

static void write_rules(struct json *j, const struct report *r)
{
	json_key(j, "rules");
	json_obj_begin(j);
	json_kv_u64(j, "idle_threshold_ns", r->rules.idle_threshold_ns);
	json_kv_u64(j, "storm_clones", r->rules.storm_clones);
	json_kv_u64(j, "storm_window_ns", r->rules.storm_window_ns);
	json_kv_u64(j, "end_ns", report__since_start(r, r->rules.end_ns));
	json_obj_end(j);
}

static void write_task(struct json *j, const struct report *r,
		       const struct report_task *rt)
{
	const struct declared_task *t = &rt->t;

	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_DECLARED);
	json_kv_u64(j, "id", t->id);
	json_kv_u64(j, "parent", t->parent);
	json_kv_bool(j, "parent_known", rt->parent_known);
	json_kv_u64(j, "depth", rt->depth);
	json_kv_str(j, "name", t->name);
	json_kv_bool(j, "created", t->created);
	json_kv_str(j, "state", declared_task_state_name(declared_task_state(t)));
	json_kv_u64(j, "first_ns", report__since_start(r, t->first_ns));
	put_when(r, j, "created_ns", t->created, t->created_ns);
	put_when(r, j, "completed_ns", t->completed, t->completed_ns);
	json_kv_u64(j, "last_active_ns", report__since_start(r, t->last_active_ns));
	json_kv_u64(j, "lifetime_ns", rt->lifetime_ns);
	json_kv_u64(j, "threads_inside", t->active);
	json_key(j, "memory");
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	json_kv_u64(j, "allocs", t->allocs);
	json_kv_u64(j, "alloc_bytes", t->alloc_bytes);
	json_kv_u64(j, "live_count", t->live_count);
	json_kv_u64(j, "live_bytes", t->live_bytes);
	json_kv_u64(j, "peak_bytes", t->peak_bytes);
	json_key(j, "at_completion");
	if (t->completed) {
		json_obj_begin(j);
		json_kv_u64(j, "live_count", t->done_count);
		json_kv_u64(j, "live_bytes", t->done_bytes);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_obj_end(j);
	json_obj_end(j);
}

static void write_zombie(struct json *j, const struct report *r,
			 const struct report_zombie *z)
{
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_INFERRED);
	json_kv_str(j, "rule", z->rule);
	json_key(j, "confidence");
	json_double(j, z->confidence);
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
		report_json_frames(j, z->frames, z->nr_frames);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_obj_end(j);
}

static void write_tracked(struct json *j, const struct report *r,
			  const struct declared_track *t)
{
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_DECLARED);
	json_kv_addr(j, "ptr", t->ptr);
	json_kv_str(j, "name", t->name);
	json_kv_str(j, "type", t->type);
	json_kv_str(j, "kind", declared_kind_name(t->kind));
	json_kv_u64(j, "size", t->size);
	json_kv_u64(j, "declared_ns", report__since_start(r, t->ts_ns));
	json_key(j, "block");
	if (t->has_block) {
		json_obj_begin(j);
		json_kv_str(j, "source", SOURCE_CAPTURED);
		json_kv_u64(j, "seq", t->seq);
		json_kv_u64(j, "size", t->block_size);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_obj_end(j);
}

/* The declared blocks of leaks[i] or peak.by_stack[i] that have any. */
static void write_site_names(struct json *j, const char *key,
			     const struct report_site *sites, size_t n)
{
	const struct declared_site *d;
	size_t i;
	__u32 k;

	json_key(j, key);
	json_arr_begin(j);
	for (i = 0; i < n; i++) {
		d = &sites[i].declared;
		if (!d->count)
			continue;
		json_obj_begin(j);
		json_kv_str(j, "source", SOURCE_DECLARED);
		json_kv_u64(j, "index", i);
		json_kv_u64(j, "count", d->count);
		json_key(j, "names");
		json_arr_begin(j);
		for (k = 0; k < d->nr_names; k++) {
			json_obj_begin(j);
			json_kv_str(j, "name", d->names[k].name);
			json_kv_str(j, "type", d->names[k].type);
			json_kv_str(j, "kind", declared_kind_name(d->names[k].kind));
			json_kv_u64(j, "count", d->names[k].count);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void write_pp_event(struct json *j, const struct report *r,
			   const struct report_pp_event *e)
{
	json_obj_begin(j);
	json_kv_str(j, "op", declared_pp_op_name(e->ev.op));
	json_kv_u64(j, "ns", report__since_start(r, e->ev.ts_ns));
	json_kv_str(j, "side", e->ev.side);
	json_kv_u64(j, "tid", e->ev.tid);
	json_kv_u64(j, "task", e->ev.task);
	json_key(j, "at");
	if (e->at.addr)
		report_json_frame(j, &e->at);
	else
		json_null(j);
	json_obj_end(j);
}

static void write_passport(struct json *j, const struct report *r,
			   const struct report_passport *p)
{
	__u32 k;

	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_DECLARED);
	json_kv_addr(j, "ptr", p->p.ptr);
	json_kv_u64(j, "size", p->p.size);
	json_kv_u64(j, "generation", p->p.generation);
	json_kv_str(j, "name", p->p.name);
	json_kv_bool(j, "freed", p->p.freed);
	json_kv_str(j, "custody", p->p.freed ? NULL : p->p.custody);
	json_kv_str(j, "freed_by", p->p.freed ? p->p.custody : NULL);
	json_kv_u64(j, "events", p->p.nr_events);
	json_kv_u64(j, "violations", p->p.nr_violations);
	json_key(j, "history");
	json_arr_begin(j);
	for (k = 0; k < p->p.nr_history; k++)
		write_pp_event(j, r, &p->history[k]);
	json_arr_end(j);
	json_kv_u64(j, "history_dropped", p->p.nr_events - p->p.nr_history);
	json_obj_end(j);
}

static void write_violation(struct json *j, const struct report *r,
			    const struct report_violation *rv)
{
	const struct declared_violation *v = &rv->v;

	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_DECLARED);
	json_kv_str(j, "kind", declared_violation_name(v->kind));
	json_kv_addr(j, "ptr", v->ptr);
	put_index(j, "passport", v->passport);
	json_kv_str(j, "custody", v->custody);
	json_kv_str(j, "op", declared_pp_op_name(v->ev.op));
	json_kv_str(j, "side", v->ev.side);
	json_kv_u64(j, "ns", report__since_start(r, v->ev.ts_ns));
	json_kv_u64(j, "tid", v->ev.tid);
	json_kv_u64(j, "task", v->ev.task);
	report_json_frames(j, rv->frames, rv->nr_frames);
	json_obj_end(j);
}

static void write_shared(struct json *j, const struct report *r,
			 const struct report_shared *rs)
{
	const struct declared_shared *s = &rs->s;

	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_DECLARED);
	json_kv_addr(j, "ptr", s->ptr);
	json_kv_str(j, "name", s->name);
	json_kv_str(j, "type", s->type);
	json_kv_u64(j, "first_ns", report__since_start(r, s->first_ns));
	json_kv_u64(j, "shares", s->shares);
	json_kv_u64(j, "handles", s->handles);
	json_kv_u64(j, "max_handles", s->max_handles);
	json_key(j, "block");
	if (s->has_block) {
		json_obj_begin(j);
		json_kv_str(j, "source", SOURCE_CAPTURED);
		json_kv_u64(j, "seq", s->seq);
		json_kv_u64(j, "size", s->size);
		json_kv_bool(j, "freed", s->ended);
		report_json_frames(j, rs->frames, rs->nr_frames);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_obj_end(j);
}

static void write_storm(struct json *j, const struct report *r,
			const struct report_storm *s)
{
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_INFERRED);
	json_kv_str(j, "rule", s->rule);
	json_key(j, "confidence");
	json_double(j, s->confidence);
	json_kv_u64(j, "shared", s->shared);
	json_kv_addr(j, "ptr", r->shared[s->shared].s.ptr);
	json_kv_u64(j, "clones", s->clones);
	json_kv_u64(j, "start_ns", report__since_start(r, s->start_ns));
	json_kv_u64(j, "end_ns", report__since_start(r, s->end_ns));
	report_json_frames(j, s->frames, s->nr_frames);
	json_obj_end(j);
}

/* Arrays of records, one writer each. */
#define WRITE_ARRAY(j, r, key, arr, n, fn)				\
	do {								\
		size_t i_;						\
									\
		json_key(j, key);					\
		json_arr_begin(j);					\
		for (i_ = 0; i_ < (n); i_++)				\
			fn(j, r, &(arr)[i_]);				\
		json_arr_end(j);					\
	} while (0)

void report_json_declared(struct json *j, const struct report *r)
{
	json_key(j, "declared");
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_DECLARED);
	write_stats(j, r);
	write_rules(j, r);
	WRITE_ARRAY(j, r, "tasks", r->tasks, r->nr_tasks, write_task);
	WRITE_ARRAY(j, r, "zombies", r->zombies, r->nr_zombies, write_zombie);
	WRITE_ARRAY(j, r, "tracked", r->tracked, r->nr_tracked,
		    write_tracked);
	json_key(j, "sites");
	json_obj_begin(j);
	write_site_names(j, "leaks", r->leaks, r->nr_leaks);
	write_site_names(j, "peak", r->peak, r->nr_peak);
	json_obj_end(j);
	WRITE_ARRAY(j, r, "passports", r->passports, r->nr_passports,
		    write_passport);
	WRITE_ARRAY(j, r, "violations", r->violations, r->nr_violations,
		    write_violation);
	WRITE_ARRAY(j, r, "shared", r->shared, r->nr_shared, write_shared);
	WRITE_ARRAY(j, r, "storms", r->storms, r->nr_storms, write_storm);
	json_obj_end(j);
}
