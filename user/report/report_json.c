/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The JSON report, schema "memscope-bpf/report/3" (docs/report-schema.md).
 * Times are ns since tracing began; every record carries its source label
 * so later versions can add declared and inferred records beside these.
 */
#include <errno.h>
#include <stdlib.h>
#include "frame_table.h"
#include "json.h"
#include "outfile.h"
#include "prologue.h"
#include "report.h"
#include "report_json.h"

#ifndef MEMSCOPE_VERSION
#define MEMSCOPE_VERSION	"unknown"
#endif

#define REPORT_SCHEMA		"memscope-bpf/report/3"

static void write_target(struct json *j, const struct report_target *t)
{
	json_key(j, "target");
	json_obj_begin(j);
	json_key(j, "pid");
	json_s64(j, t->pid);
	json_kv_str(j, "command", t->command);
	json_kv_str(j, "mode", trace_mode_name(t->mode));
	json_kv_u64(j, "duration_ns", t->duration_ns);
	json_kv_bool(j, "exited", t->exited);
	json_key(j, "exit_status");
	if (t->exited && !t->status_unknown)
		json_s64(j, t->exit_status);
	else
		json_null(j);
	/* How it stood when tracing ended. */
	json_kv_str(j, "state", t->killed ? "killed" :
				t->exited ? "exited" :
				t->detached ? "detached" : "running");
	json_obj_end(j);
}

/* Which live blocks the leak lists and the sites' live figures count. */
static void write_filter(struct json *j, const struct report *r)
{
	const struct report_filter *f = &r->filter;

	json_key(j, "leak_filter");
	if (!report_filter_on(f)) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kv_u64(j, "older_ns", f->older_ns);
	json_kv_u64(j, "min_size", f->min_size);
	json_key(j, "max_size");
	if (f->max_size)
		json_u64(j, f->max_size);
	else
		json_null(j);
	json_kv_u64(j, "live_allocs", r->filter_count);
	json_kv_u64(j, "live_bytes", r->filter_bytes);
	json_obj_end(j);
}

/*
 * An object of counters: on one line in a process's entry, as an -a
 * report has thousands of them, each member on an indented line before.
 */
static void counters_begin(struct json *j, bool line)
{
	if (line)
		json_obj_begin_line(j);
	else
		json_obj_begin(j);
}

static void write_summary(struct json *j, const struct report *r, bool line)
{
	const struct store_summary *s = &r->summary;
	const struct ms_counters *k = r->have_kernel ? &r->kernel : NULL;

	json_key(j, "summary");
	counters_begin(j, line);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	json_kv_u64(j, "allocs", s->allocs);
	json_kv_u64(j, "frees", s->frees);
	json_kv_u64(j, "alloc_bytes", s->alloc_bytes);
	json_kv_u64(j, "free_bytes", s->free_bytes);
	json_kv_u64(j, "live_allocs", s->live_allocs);
	json_kv_u64(j, "live_bytes", s->live_bytes);
	json_kv_u64(j, "peak_bytes", s->peak_bytes);
	json_kv_u64(j, "peak_ns", report__since_start(r, s->peak_ns));
	json_kv_u64(j, "failed_allocs", s->failed_allocs);
	json_kv_u64(j, "unknown_frees", s->unknown_frees);
	json_kv_u64(j, "replaced", s->replaced);
	json_kv_u64(j, "anomalies", s->anomalies);
	json_kv_u64(j, "unwalked_frees", s->unwalked);
	json_kv_u64(j, "allocator_frees", s->allocator_frees);
	json_kv_u64(j, "forked_frees", s->forked_frees);
	json_kv_u64(j, "late_frees", s->late_frees);
	json_kv_u64(j, "graves_evicted", s->graves_evicted);
	json_kv_u64(j, "stacks_cut", s->stacks_cut);
	json_kv_u64(j, "lost_events",
		(k ? k->lost_events : 0) + r->consumer_drops);
	json_kv_u64(j, "stack_errors", k ? k->stack_errors : 0);
	json_kv_u64(j, "procs_not_traced", r->procs_full);
	json_kv_u64(j, "procs_joined_late", r->procs_late);
	json_kv_u64(j, "procs_foreign", r->procs_foreign);
	json_kv_u64(j, "events", s->events);
	json_obj_end(j);
}

static void write_kernel(struct json *j, const struct report *r, bool line)
{
	const struct ms_counters *k = &r->kernel;
	unsigned int i;

	json_key(j, "kernel");
	if (!r->have_kernel) {
		json_null(j);
		return;
	}
	counters_begin(j, line);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	/* A full kernel live table is the one thing that makes them inexact. */
	json_kv_bool(j, "exact", !k->live_full);
	json_kv_u64(j, "allocs", k->allocs);
	json_kv_u64(j, "frees", k->frees);
	json_kv_u64(j, "alloc_bytes", k->alloc_bytes);
	json_kv_u64(j, "free_bytes", k->free_bytes);
	json_kv_u64(j, "live_bytes", k->live_bytes);
	json_kv_u64(j, "live_blocks", k->live_blocks);
	json_kv_u64(j, "peak_bytes", k->peak_bytes);
	json_kv_u64(j, "peak_ns", report__since_start(r, k->peak_ns));
	json_kv_u64(j, "failed_allocs", k->failed_allocs);
	json_kv_u64(j, "unknown_frees", k->unknown_frees);
	json_kv_u64(j, "nested_calls", k->nested_calls);
	json_kv_u64(j, "lost_events", k->lost_events);
	json_kv_u64(j, "stack_errors", k->stack_errors);
	json_kv_u64(j, "live_full", k->live_full);
	json_kv_u64(j, "task_depth_full", k->task_depth_full);
	json_kv_u64(j, "strings_cut", k->strings_cut);
	json_kv_u64(j, "seq", k->seq);
	json_key(j, "stack_stops");
	json_obj_begin_line(j);
	for (i = 0; i < MS_STOP__COUNT; i++)
		json_kv_u64(j, report_stop_name(i), k->stack_stops[i]);
	json_obj_end(j);
	json_obj_end(j);
}

/* A frame whole: an entry of the frame table, or a frame where it stands. */
static void write_frame(struct json *j, const struct frame *fr)
{
	json_obj_begin_line(j);
	json_kv_str(j, "function", fr->function);
	/* only where the name shown is not the linkage name */
	if (fr->mangled)
		json_kv_str(j, "mangled", fr->mangled);
	json_kv_bool(j, "inlined", fr->inlined);
	json_kv_str(j, "file", fr->file);
	json_key(j, "line");
	json_s64(j, fr->line > 0 ? fr->line : 0);
	json_kv_str(j, "object", fr->object);
	json_kv_addr(j, "addr", fr->addr);
	json_obj_end(j);
}

void report_json_frame(struct json *j, const struct frame *fr)
{
	struct frame_table *ft = json__user(j);
	long id;

	if (!ft) {
		write_frame(j, fr);
		return;
	}
	id = frame_table__id(ft, fr);
	if (id < 0)
		json__fail(j, (int)id);
	else
		json_u64(j, id);
}

void report_json_frame_list(struct json *j, const char *key,
			    const struct frame *frames, __u32 nr)
{
	__u32 i;

	json_key(j, key);
	/* A stack of numbers reads as one line; of frames, one a line. */
	if (json__user(j))
		json_arr_begin_line(j);
	else
		json_arr_begin(j);
	for (i = 0; i < nr; i++)
		report_json_frame(j, &frames[i]);
	json_arr_end(j);
}

void report_json_frames(struct json *j, const struct frame *frames,
			__u32 nr)
{
	report_json_frame_list(j, "frames", frames, nr);
}

void report_json_frame_table(struct json *j, const struct frame_table *ft)
{
	size_t i, n = frame_table__nr(ft);

	json_key(j, "frame_table");
	json_arr_begin(j);
	for (i = 0; i < n; i++)
		write_frame(j, frame_table__at(ft, i));
	json_arr_end(j);
}

/*
 * A process's entry names each call stack by its index in the top-level
 * sites, which hold every image's stacks: written out in both, a traced
 * set's report carried its frames twice (over half its bytes).
 * A stack's frames are one array, shared by the image's lists and the
 * merged ones (report.c), so the pointer finds the site.
 */
struct site_ref {
	const struct frame *frames;
	size_t idx;
};

static int ref_cmp(const void *pa, const void *pb)
{
	const struct site_ref *a = pa, *b = pb;

	return (a->frames > b->frames) - (a->frames < b->frames);
}

/* The top-level sites by frames, sorted; NULL with none (or no memory). */
static struct site_ref *site_refs_sorted(const struct report *r, size_t *nr)
{
	struct site_ref *refs;
	size_t i, n = 0;

	refs = r->nr_sites ? calloc(r->nr_sites, sizeof(*refs)) : NULL;
	for (i = 0; refs && i < r->nr_sites; i++)
		if (r->sites[i].nr_frames)
			refs[n++] = (struct site_ref){ r->sites[i].frames, i };
	if (refs)
		qsort(refs, n, sizeof(*refs), ref_cmp);
	*nr = n;
	return refs;
}

/* What a process's lists are written with: NULL at the top level. */
struct site_refs {
	const struct site_ref *v;
	size_t nr;
};

static void write_frames(struct json *j, const struct report_site *s,
			 const struct site_refs *refs)
{
	struct site_ref key = { .frames = s->frames }, *hit = NULL;

	if (refs && refs->nr && s->nr_frames)
		hit = bsearch(&key, refs->v, refs->nr, sizeof(key), ref_cmp);
	if (hit) {
		json_kv_u64(j, "site", hit->idx);
		return;
	}
	json_kv_bool(j, "stack_truncated", s->flags & MS_EVF_STACK_TRUNC);
	json_kv_bool(j, "stack_full", s->flags & MS_EVF_STACK_FULL);
	json_kv_str(j, "stack_stop", report_stop_name(ms_event_stop(s->flags)));
	report_json_frames(j, s->frames, s->nr_frames);
}

/* A leak record, or (live false) one stack's share of the peak. */
static void write_site(struct json *j, const struct report *r,
		       const struct report_site *s, bool live,
		       const struct site_refs *refs)
{
	json_obj_begin_line(j);
	if (live)
		json_kv_str(j, "source", SOURCE_CAPTURED);
	json_kv_str(j, "family", report_family_name(s->family));
	json_kv_u64(j, "count", s->count);
	json_kv_u64(j, "bytes", s->bytes);
	if (live) {
		json_kv_u64(j, "oldest_ns", s->oldest_ns);
		report_json_site_reach(j, r, s);
	}
	write_frames(j, s, refs);
	json_kv_u64(j, "proc", s->proc);
	json_obj_end(j);
}

static void write_sites(struct json *j, const struct report *r,
			const char *key, const struct report_site *sites,
			size_t n, bool live, const struct site_refs *refs)
{
	size_t i;

	json_key(j, key);
	json_arr_begin(j);
	for (i = 0; i < n; i++)
		write_site(j, r, &sites[i], live, refs);
	json_arr_end(j);
}

static void write_peak(struct json *j, const struct report *r,
		       const struct site_refs *refs)
{
	json_key(j, "peak");
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	json_kv_u64(j, "bytes", r->summary.peak_bytes);
	json_kv_u64(j, "ns", report__since_start(r, r->summary.peak_ns));
	write_sites(j, r, "by_stack", r->peak, r->nr_peak, false, refs);
	json_obj_end(j);
}

/*
 * Every call stack with every metric, uncut by --top: leaks and peak rank
 * a few of them, this is what a reader (the dashboard) aggregates over.
 */
static void write_all_sites(struct json *j, const struct report *r)
{
	const struct report_site *s;
	size_t i;

	json_key(j, "sites");
	json_arr_begin(j);
	for (i = 0; i < r->nr_sites; i++) {
		s = &r->sites[i];
		json_obj_begin_line(j);
		json_kv_str(j, "source", SOURCE_CAPTURED);
		json_kv_str(j, "family", report_family_name(s->family));
		json_kv_u64(j, "alloc_count", s->alloc_count);
		json_kv_u64(j, "alloc_bytes", s->alloc_bytes);
		json_kv_u64(j, "live_count", s->live_count);
		json_kv_u64(j, "live_bytes", s->live_bytes);
		json_kv_u64(j, "peak_count", s->peak_count);
		json_kv_u64(j, "peak_bytes", s->peak_bytes);
		report_json_site_reach(j, r, s);
		write_frames(j, s, NULL);
		json_kv_u64(j, "proc", s->proc);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* Captured anomalies: each group with its allocating and freeing stack. */
static void write_anomalies(struct json *j, const struct report *r)
{
	const struct report_anomaly *a;
	size_t i;

	json_key(j, "anomalies");
	json_arr_begin(j);
	for (i = 0; i < r->nr_anomalies; i++) {
		a = &r->anomalies[i];
		json_obj_begin_line(j);
		json_kv_str(j, "source", SOURCE_CAPTURED);
		json_kv_str(j, "kind", report_anomaly_name(a->kind));
		/* An invalid free's block was never allocated: null. */
		json_kv_str(j, "alloc_family",
			    a->kind == STORE_INVALID_FREE ? NULL :
			    report_family_name(a->alloc_family));
		json_kv_str(j, "free_family",
			    report_family_name(a->free_family));
		json_kv_bool(j, "other_allocator", a->other_allocator);
		json_kv_u64(j, "count", a->count);
		json_kv_u64(j, "first_ns", a->first_ns);
		json_kv_bool(j, "free_stack_skipped",
			     !a->nr_free_frames &&
			     (a->free_flags & MS_EVF_STACK_ERR) == 0);
		report_json_frame_list(j, "alloc_frames", a->alloc_frames,
				       a->nr_alloc_frames);
		report_json_frame_list(j, "free_frames", a->free_frames,
				       a->nr_free_frames);
		json_kv_str(j, "alloc_stack_stop",
			    a->kind == STORE_INVALID_FREE ? NULL :
			    report_stop_name(ms_event_stop(a->alloc_flags)));
		json_kv_str(j, "free_stack_stop",
			    report_stop_name(ms_event_stop(a->free_flags)));
		json_kv_u64(j, "proc", a->proc);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void write_timeline(struct json *j, const struct report *r)
{
	const struct timeline_point *p;
	size_t i;

	json_key(j, "timeline");
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	json_kv_u64(j, "width_ns", r->timeline_width_ns);
	json_key(j, "points");
	json_arr_begin(j);
	for (i = 0; i < r->nr_timeline; i++) {
		p = &r->timeline[i];
		json_obj_begin_line(j);
		json_kv_u64(j, "t_ns", report__since_start(r, p->start_ns));
		json_kv_u64(j, "max_bytes", p->max_bytes);
		json_kv_u64(j, "end_bytes", p->end_bytes);
		json_kv_u64(j, "allocs", p->allocs);
		json_kv_u64(j, "frees", p->frees);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void write_probes(struct json *j, const struct report *r)
{
	const struct attach_probe *p;
	size_t i;

	json_key(j, "probes");
	json_arr_begin(j);
	for (i = 0; i < r->nr_probes; i++) {
		p = &r->probes[i];
		json_obj_begin_line(j);
		json_kv_str(j, "object", p->object);
		json_kv_str(j, "symbol", p->symbol);
		json_kv_u64(j, "offset", p->offset);
		json_kv_u64(j, "func_offset", p->func_offset);
		json_kv_bool(j, "return", p->is_return);
		json_kv_bool(j, "emulated", p->emulated);
		json_kv_str(j, "single_step_reason",
			    p->reason == PROLOGUE_NONE ?
				    NULL : prologue__reason_key(p->reason));
		json_kv_bool(j, "probed", !p->forwards_to);
		json_kv_str(j, "forwards_to", p->forwards_to);
		json_kv_str(j, "counted_at", p->counted_at);
		json_kv_bool(j, "throw_ends_program", p->throw_ends);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/*
 * Anonymous memory, beside the heap and never in its figures; null when
 * it was not traced (--mode=alloc, a recording older than version 4).
 */
static void write_anon(struct json *j, const struct report *r)
{
	const struct report_anon *a = &r->anon;
	const struct report_anon_site *s;
	const struct report_arena *ar;
	size_t i;

	json_key(j, "anon_memory");
	if (!a->traced) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	json_kv_u64(j, "live_bytes", a->sum.live_bytes);
	json_kv_u64(j, "live_ranges", a->sum.live_ranges);
	json_kv_u64(j, "peak_bytes", a->sum.peak_bytes);
	json_kv_u64(j, "peak_ns", report__since_start(r, a->sum.peak_ns));
	json_kv_u64(j, "calls", a->sum.calls);
	json_kv_u64(j, "mapped_bytes", a->sum.mapped_bytes);
	json_kv_u64(j, "reserved_bytes", a->sum.reserved_bytes);
	json_kv_u64(j, "prot_unknown_calls", a->sum.prot_unknown);
	json_kv_u64(j, "full_ranges", a->sum.full_ranges);
	json_kv_u64(j, "full_bytes", a->sum.full_bytes);
	json_key(j, "stack_stops");
	json_obj_begin_line(j);
	for (i = 0; i < MS_STOP__COUNT; i++)
		json_kv_u64(j, report_stop_name(i), a->sum.stack_stops[i]);
	json_obj_end(j);
	json_key(j, "sites");
	json_arr_begin(j);
	for (i = 0; i < a->nr_sites; i++) {
		s = &a->sites[i];
		json_obj_begin_line(j);
		json_kv_u64(j, "live_bytes", s->live_bytes);
		json_kv_u64(j, "live_ranges", s->live_ranges);
		json_kv_u64(j, "reserved_bytes", s->reserved_bytes);
		json_kv_u64(j, "peak_bytes", s->peak_bytes);
		json_kv_u64(j, "calls", s->calls);
		json_kv_u64(j, "mapped_bytes", s->mapped_bytes);
		json_kv_bool(j, "stack_truncated",
			     s->flags & MS_EVF_STACK_TRUNC);
		json_kv_str(j, "stack_stop",
			    report_stop_name(ms_event_stop(s->flags)));
		report_json_frames(j, s->frames, s->nr_frames);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "arena");
	json_obj_begin(j);
	json_kv_u64(j, "live_bytes", a->sum.arena_live_bytes);
	json_kv_u64(j, "reserved_bytes", a->sum.arena_reserved_bytes);
	json_kv_u64(j, "calls", a->sum.arena_calls);
	json_kv_u64(j, "mapped_bytes", a->sum.arena_mapped_bytes);
	json_key(j, "objects");
	json_arr_begin(j);
	for (i = 0; i < a->nr_arenas; i++) {
		ar = &a->arenas[i];
		json_obj_begin_line(j);
		json_kv_str(j, "object", ar->object);
		json_kv_u64(j, "live_bytes", ar->live_bytes);
		json_kv_u64(j, "reserved_bytes", ar->reserved_bytes);
		json_kv_u64(j, "calls", ar->calls);
		json_kv_u64(j, "mapped_bytes", ar->mapped_bytes);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	json_obj_end(j);
}

/* A site's verdict from the snapshots: inferred, with rule and evidence. */
static void write_growth_site(struct json *j,
			      const struct report_growth_site *g)
{
	json_obj_begin_line(j);
	json_kv_str(j, "source", SOURCE_INFERRED);
	json_kv_str(j, "rule", GROWTH_RULE);
	json_kv_str(j, "pattern", growth_pattern_name(g->v.pattern));
	json_key(j, "confidence");
	json_double(j, g->v.confidence);
	json_key(j, "growth_bytes_per_s");
	json_double(j, g->v.bytes_per_s);
	json_key(j, "growth_blocks_per_s");
	json_double(j, g->v.blocks_per_s);
	json_kv_u64(j, "live_bytes", g->v.live_bytes);
	json_kv_u64(j, "live_blocks", g->v.live_blocks);
	json_kv_u64(j, "old_bytes", g->v.old_bytes);
	json_kv_u64(j, "old_blocks", g->v.old_blocks);
	json_kv_u64(j, "snapshots", g->v.snapshots);
	json_kv_u64(j, "rises", g->v.rises);
	json_kv_u64(j, "falls", g->v.falls);
	json_kv_bool(j, "stack_truncated", g->flags & MS_EVF_STACK_TRUNC);
	json_kv_bool(j, "stack_full", g->flags & MS_EVF_STACK_FULL);
	json_kv_str(j, "stack_stop", report_stop_name(ms_event_stop(g->flags)));
	report_json_frames(j, g->frames, g->nr_frames);
	json_kv_u64(j, "proc", g->proc);
	json_obj_end(j);
}

static const char *const end_names[] = {
	[PROC_RUNNING] = "running",
	[PROC_EXECED] = "exec",
	[PROC_EXITED] = "exited",
	[PROC_REUSED] = "pid_reused",
};

/* Who image p was, and how it ended; times since tracing began. */
static void write_proc_target(struct json *j, const struct report *r,
			      const struct report_proc *p)
{
	const struct procfacts *in = &p->info;

	json_key(j, "target");
	json_obj_begin_line(j);
	json_kv_u64(j, "pid", in->pid);
	json_key(j, "ppid");
	if (in->ppid)
		json_u64(j, in->ppid);
	else
		json_null(j);
	json_kv_u64(j, "ns_pid", in->ns_pid ? in->ns_pid : in->pid);
	json_kv_str(j, "comm", in->comm[0] ? in->comm : NULL);
	json_kv_str(j, "command", p->command);
	json_kv_bool(j, "command_cut", in->flags & PROCINFO_CUT);
	json_kv_u64(j, "image", p->image);
	json_kv_bool(j, "existing", in->flags & PROCINFO_EXISTING);
	json_kv_bool(j, "foreign", in->flags & PROCINFO_FOREIGN);
	json_key(j, "joined_late_ns");
	if (in->flags & PROCINFO_LATE)
		json_u64(j, in->late_ns);
	else
		json_null(j);
	json_kv_u64(j, "start_ns", report__since_start(r, in->start_ns ?
						      in->start_ns :
						      p->first_ns));
	json_kv_str(j, "end", end_names[p->end]);
	json_key(j, "exit_ns");
	if (p->end_ns)
		json_u64(j, report__since_start(r, p->end_ns));
	else
		json_null(j);
	json_key(j, "exit_code");
	if (p->end == PROC_EXITED && !p->exit_unknown)
		json_s64(j, p->exit_code);
	else
		json_null(j);
	json_key(j, "folded");
	if (p->folded) {
		json_obj_begin(j);
		json_kv_u64(j, "images", p->folded);
		json_kv_u64(j, "last_pid", p->last_pid);
		json_kv_u64(j, "failed", p->folded_failed);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_obj_end(j);
}

/*
 * "suspects": the growing sites, first in the document; "growth": the
 * snapshots taken and every site's verdict.
 */
static void write_suspects(struct json *j, const struct report *r)
{
	size_t i;

	json_key(j, "suspects");
	json_arr_begin(j);
	for (i = 0; i < r->nr_suspects; i++)
		write_growth_site(j, &r->growth[i]);
	json_arr_end(j);
}

static void write_growth(struct json *j, const struct report *r)
{
	size_t i;

	json_key(j, "growth");
	json_obj_begin(j);
	json_kv_u64(j, "snapshots", r->snapshots);
	json_kv_u64(j, "min_snapshots", GROWTH_MIN_SNAPS + 1);
	json_key(j, "sites");
	json_arr_begin(j);
	for (i = 0; i < r->nr_growth; i++)
		write_growth_site(j, &r->growth[i]);
	json_arr_end(j);
	json_obj_end(j);
}

/*
 * One image's own report: its leaks are what it left live at its end
 * when it ended ("live_at_end"), never a later image's. Its sites are
 * not written again: the top-level sites are every image's, each naming
 * its image (proc), and were a quarter of a big -a report twice over.
 */
static void write_process(struct json *j, const struct report *top,
			  const struct report_proc *p,
			  const struct site_refs *refs)
{
	const struct report *r = p->r;

	json_obj_begin(j);
	write_proc_target(j, top, p);
	json_kv_bool(j, "live_at_end", r->ended);
	write_suspects(j, r);
	write_summary(j, r, true);
	write_kernel(j, r, true);
	write_filter(j, r);
	write_sites(j, r, "leaks", r->leaks, r->nr_leaks, true, refs);
	report_json_reach(j, r);
	write_peak(j, r, refs);
	write_anon(j, r);
	write_anomalies(j, r);
	write_timeline(j, r);
	write_growth(j, r);
	json_obj_end(j);
}

static void write_processes(struct json *j, const struct report *r,
			    const struct site_refs *refs)
{
	const struct procs_summary *a = &r->all;
	size_t i;

	json_key(j, "process_counts");
	json_obj_begin(j);
	json_kv_u64(j, "images", a->images);
	json_kv_u64(j, "processes", a->processes);
	json_kv_u64(j, "execs", a->execed);
	json_kv_u64(j, "exits", a->exited);
	json_kv_u64(j, "lifecycle_events", a->lifecycle);
	json_kv_u64(j, "folded_images", r->folded_images);
	json_kv_u64(j, "folded_entries", r->folded_entries);
	json_kv_u64(j, "unlisted_images", r->unlisted_images);
	json_obj_end(j);
	json_key(j, "processes");
	json_arr_begin(j);
	for (i = 0; i < r->nr_procs; i++)
		write_process(j, r, &r->procs[i], refs);
	json_arr_end(j);
}

static void write_report(struct json *j, const struct report *r,
			 const struct site_refs *refs)
{
	json_obj_begin(j);
	json_kv_str(j, "schema", REPORT_SCHEMA);
	json_key(j, "tool");
	json_obj_begin(j);
	json_kv_str(j, "name", "memscope-bpf");
	json_kv_str(j, "version", MEMSCOPE_VERSION);
	json_obj_end(j);
	write_target(j, &r->target);
	json_kv_str(j, "source", SOURCE_CAPTURED);
	write_summary(j, r, false);
	write_kernel(j, r, false);
	write_suspects(j, r);
	write_filter(j, r);
	write_sites(j, r, "leaks", r->leaks, r->nr_leaks, true, NULL);
	report_json_reach(j, r);
	write_peak(j, r, NULL);
	write_all_sites(j, r);
	write_anon(j, r);
	write_anomalies(j, r);
	write_timeline(j, r);
	write_growth(j, r);
	write_probes(j, r);
	write_processes(j, r, refs);
	report_json_declared(j, r);
	/* Last: it holds every frame the members above named. */
	report_json_frame_table(j, json__user(j));
	json_obj_end(j);
}

int report__json_stream(const struct report *r, FILE *f, bool pretty)
{
	struct site_refs refs;
	struct site_ref *v = site_refs_sorted(r, &refs.nr);
	struct frame_table *ft = frame_table__new();
	struct json *j;
	int err = -ENOMEM;

	/* Nothing written unless it can be written whole. */
	if ((!v && r->nr_sites) || !ft)
		goto out;
	refs.v = v;
	j = json__new(f, pretty);
	if (!j) {
		err = -errno;
		goto out;
	}
	json__set_user(j, ft);
	write_report(j, r, &refs);
	err = json__free(j);
out:
	frame_table__free(ft);
	free(v);
	return err;
}

int report__write_json(const struct report *r, const char *path)
{
	struct outfile *o;
	int err;

	o = outfile__new(path);
	if (!o)
		return -errno;
	err = report__json_stream(r, outfile__stream(o), true);
	if (err)
		goto err_abort;
	return outfile__commit(o);

err_abort:
	return outfile__abort(o, err);
}
