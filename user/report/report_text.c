/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The human report: what was traced, the totals, whether data was lost,
 * then the call sites to look at, and, when the program declared anything,
 * its tasks, zombie-task candidates, passports and shared handles, each
 * section labelled with where its data comes from. Formatting only; the
 * model decides.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "names.h"
#include "report.h"
#include "report_text.h"

/* Enough to recognise a call path; the JSON report has all of them. */
#define TEXT_MAX_FRAMES		12
#define FRAME_INDENT		REPORT_TEXT_INDENT
/* Records per declared section; the JSON report has all of them. */
#define TEXT_MAX_RECORDS	50
/* Deeper tasks are indented no further, so lines stay readable. */
#define TEXT_MAX_DEPTH		16

#define NS_PER_SEC		1000000000ull

/* "512 bytes" or "1.5 MiB (1572864 bytes)": readable and exact. */
static const char *fmt_bytes(char *buf, size_t size, __u64 v)
{
	static const char *const units[] = {
		"KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	double x = v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, size, "%llu bytes", (unsigned long long)v);
		return buf;
	}
	while (x >= 1024 && u < 5) {
		x /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s (%llu bytes)", x, units[u],
		 (unsigned long long)v);
	return buf;
}

static const char *fmt_secs(char *buf, size_t size, __u64 ns)
{
	snprintf(buf, size, "%llu.%03llu s",
		 (unsigned long long)(ns / NS_PER_SEC),
		 (unsigned long long)(ns % NS_PER_SEC / 1000000));
	return buf;
}

static const char *plural(__u64 n)
{
	return n == 1 ? "" : "s";
}

static void print_header(const struct report *r, FILE *f)
{
	const struct report_target *t = &r->target;
	char secs[32];

	if (t->pid)
		fprintf(f, "memscope-bpf report: pid %d", t->pid);
	else
		fputs("memscope-bpf report: " REPORT_SET_NAME, f);
	if (t->command) {
		fputs(" (", f);
		name_put(f, t->command);
		fputc(')', f);
	}
	fprintf(f, ", traced for %s",
		fmt_secs(secs, sizeof(secs), t->duration_ns));
	fprintf(f, ", mode %s", trace_mode_name(t->mode));
	if (t->killed)
		fputs(", killed when tracing ended (--kill)", f);
	else if (t->detached)
		fputs(", still running when tracing ended: detached, left running",
		      f);
	else if (t->exited && t->status_unknown)
		fputs(", exited (its status not seen)", f);
	else if (t->exited && WIFEXITED(t->exit_status))
		fprintf(f, ", exited with status %d",
			WEXITSTATUS(t->exit_status));
	else if (t->exited && WIFSIGNALED(t->exit_status))
		fprintf(f, ", killed by signal %d (%s)",
			WTERMSIG(t->exit_status),
			strsignal(WTERMSIG(t->exit_status)));
	fputs("\nAll numbers are captured: observed directly by the probes.\n\n",
	      f);
}

static void print_totals(const struct report *r, FILE *f)
{
	const struct store_summary *s = &r->summary;
	__u64 ended_bytes = 0, ended_blocks = 0;
	char b[64], secs[32];
	size_t i;

	/*
	 * An image that ended left its blocks live at its end: counted in
	 * live now, said apart, since the peak counts the running ones (and
	 * the target, whose exit ended tracing).
	 */
	for (i = 0; i < r->nr_procs; i++) {
		if (r->procs[i].end == PROC_RUNNING ||
		    r->procs[i].ended_trace)
			continue;
		ended_bytes += r->procs[i].r->summary.live_bytes;
		ended_blocks += r->procs[i].r->summary.live_allocs;
	}
	fputs("Totals (captured)\n", f);
	fprintf(f, "  allocations    %llu, %s\n", (unsigned long long)s->allocs,
		fmt_bytes(b, sizeof(b), s->alloc_bytes));
	fprintf(f, "  frees          %llu, %s\n", (unsigned long long)s->frees,
		fmt_bytes(b, sizeof(b), s->free_bytes));
	fprintf(f, "  live now       %llu block%s, %s",
		(unsigned long long)s->live_allocs, plural(s->live_allocs),
		fmt_bytes(b, sizeof(b), s->live_bytes));
	if (ended_blocks)
		fprintf(f, "; of them %llu block%s, %s, left by processes at their exit or exec",
			(unsigned long long)ended_blocks, plural(ended_blocks),
			fmt_bytes(b, sizeof(b), ended_bytes));
	fputc('\n', f);
	fprintf(f, "  peak           %s",
		fmt_bytes(b, sizeof(b), s->peak_bytes));
	if (s->peak_ns)
		fprintf(f, " at %s", fmt_secs(secs, sizeof(secs),
				report__since_start(r, s->peak_ns)));
	fprintf(f, "\n  failed allocs  %llu\n  unknown frees  %llu",
		(unsigned long long)s->failed_allocs,
		(unsigned long long)s->unknown_frees);
	/* Not blocks the trace missed: the allocator's own, never probed. */
	if (s->allocator_frees)
		fprintf(f, "; of them %llu by the allocator itself, of blocks it took internally (glibc frees a thread's cache at its exit)",
			(unsigned long long)s->allocator_frees);
	/* Nor those a forked process had from its parent, never its own. */
	if (s->forked_frees)
		fprintf(f, "%s %llu by forked processes, of blocks their parent made before the fork",
			s->allocator_frees ? ";" : "; of them",
			(unsigned long long)s->forked_frees);
	fputc('\n', f);
}

/* One clause of the warning; the first one opens the line. */
static void warn_clause(FILE *f, bool *open, __u64 n, const char *noun,
			const char *what)
{
	if (!n)
		return;
	fprintf(f, "%s%llu %s%s %s",
		*open ? ", " : "\nWARNING: report is incomplete: ",
		(unsigned long long)n, noun, plural(n), what);
	*open = true;
}

static void print_warning(const struct report *r, FILE *f)
{
	const struct ms_counters *k = &r->kernel;
	bool full = r->have_kernel && k->live_full;
	bool open = false;

	if (r->have_kernel) {
		warn_clause(f, &open, k->lost_events, "event",
			    "lost (ring buffer full)");
		warn_clause(f, &open, k->stack_errors, "stack",
			    "unreadable (sites without frames)");
	}
	warn_clause(f, &open, r->consumer_drops, "record",
		    "dropped by userspace");
	warn_clause(f, &open, r->summary.stacks_cut, "record",
		    "whose stack was cut to its first frame (--max-stacks: the process's table of distinct stacks was full)");
	/* "process" takes "es": not warn_clause's plural */
	if (r->procs_full) {
		fprintf(f, "%s%llu process%s not traced (--max-procs %llu reached)",
			open ? ", " : "\nWARNING: report is incomplete: ",
			(unsigned long long)r->procs_full,
			r->procs_full == 1 ? "" : "es",
			(unsigned long long)r->max_procs);
		open = true;
	}
	if (r->procs_late) {
		fprintf(f, "%s%llu process image%s ran unprobed before %s allocator probes were in (joined late, up to %.1f ms): %s counts start there",
			open ? ", " : "\nWARNING: report is incomplete: ",
			(unsigned long long)r->procs_late,
			plural(r->procs_late),
			r->procs_late == 1 ? "its" : "their",
			r->late_max_ns / 1e6,
			r->procs_late == 1 ? "its" : "their");
		open = true;
	}
	if (r->procs_foreign) {
		fprintf(f, "%s%llu process image%s not traced: not x86-64 (a 32-bit program), which memscope-bpf cannot trace",
			open ? ", " : "\nWARNING: report is incomplete: ",
			(unsigned long long)r->procs_foreign,
			plural(r->procs_foreign));
		open = true;
	}
	if (open) {
		if (r->have_kernel)
			fputs(full ? "; kernel counters are inexact too" :
				     "; kernel counters at the end are exact", f);
		fputc('\n', f);
	}
	/* The stream is whole when only the kernel's own table overflowed. */
	if (full)
		fprintf(f, "%sWARNING: kernel live table full (raise --max-live): "
			"%llu allocation%s not tracked there, so the kernel "
			"counters are inexact%s\n", open ? "" : "\n",
			(unsigned long long)k->live_full, plural(k->live_full),
			open ? "" : "; the captured numbers are complete");
}

/*
 * Best known location: function, file:line, object+offset, address; a call
 * inlined into the frame below it says so.
 */
static void put_location(FILE *f, const struct frame *fr)
{
	if (fr->function) {
		name_put(f, fr->function);
		fputs(" (", f);
	}
	if (fr->file) {
		name_put(f, fr->file);
		if (fr->line > 0)
			fprintf(f, ":%d", fr->line);
	} else if (fr->object) {
		name_put(f, fr->object);
		fprintf(f, "+0x%llx", (unsigned long long)fr->object_offset);
	} else {
		fprintf(f, "0x%llx", (unsigned long long)fr->addr);
	}
	if (fr->function)
		putc(')', f);
}

static void print_frame(FILE *f, const struct frame *fr)
{
	fputs(FRAME_INDENT, f);
	put_location(f, fr);
	fputs(fr->inlined ? " [inlined]\n" : "\n", f);
}

void report_text_stack_end(FILE *f, const char *indent, __u32 nr,
			   __u32 flags)
{
	unsigned int stop = ms_event_stop(flags);

	if (flags & MS_EVF_STACK_FULL)
		fprintf(f, "%s(stacks cut to their first frame: the process's "
			"table of distinct stacks was full, --max-stacks)\n",
			indent);
	else if (flags & MS_EVF_STACK_TRUNC)
		fprintf(f, "%s(stack cut at %u frames)\n", indent, nr);
	else if (nr && report_stop_why(stop))
		fprintf(f, "%s(stack ended early, %s: %s)\n", indent,
			report_stop_name(stop), report_stop_why(stop));
}

static void print_frames(FILE *f, const struct frame *frames, __u32 nr,
			 __u32 flags)
{
	__u32 i, shown;

	if (!nr)
		fputs(FRAME_INDENT "(no stack captured)\n", f);
	shown = nr < TEXT_MAX_FRAMES ? nr : TEXT_MAX_FRAMES;
	for (i = 0; i < shown; i++)
		print_frame(f, &frames[i]);
	if (nr > shown)
		fprintf(f, FRAME_INDENT "... %u more frame%s\n", nr - shown,
			plural(nr - shown));
	report_text_stack_end(f, FRAME_INDENT, nr, flags);
}

/* An identifier of the reports ("heap_owner") as words ("heap owner"). */
static void put_words(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '_' ? ' ' : *s, f);
}

/* "name (type, kind)", leaving out what was not declared. */
static void put_declared_name(FILE *f, const char *name, const char *type,
			      __u8 kind)
{
	const char *k = declared_kind_name(kind);
	bool has_type = type && *type;

	name_put(f, name);
	if (!has_type && !k)
		return;
	fputs(" (", f);
	if (has_type)
		name_put(f, type);
	if (k) {
		if (has_type)
			fputs(", ", f);
		put_words(f, k);
	}
	fputc(')', f);
}

/* What the program declared the site's blocks to be. */
static void print_site_declared(FILE *f, const struct report_site *s)
{
	const struct declared_site *d = &s->declared;
	__u64 named = 0;
	__u32 i;

	if (!d->count)
		return;
	fputs(FRAME_INDENT "declared: ", f);
	for (i = 0; i < d->nr_names; i++) {
		const struct declared_name *n = &d->names[i];

		if (i)
			fputs(", ", f);
		put_declared_name(f, n->name, n->type, n->kind);
		if (n->count > 1)
			fprintf(f, " x%llu", (unsigned long long)n->count);
		named += n->count;
	}
	if (d->count > named)
		fprintf(f, ", %llu more under other names",
			(unsigned long long)(d->count - named));
	if (d->count < s->count)
		fprintf(f, " (%llu of %llu blocks)",
			(unsigned long long)d->count,
			(unsigned long long)s->count);
	fputc('\n', f);
}

static void print_site(const struct report *r, FILE *f, size_t rank,
		       const struct report_site *s, bool live)
{
	char b[64], at[32], age[32];

	fprintf(f, "  #%zu  %s in %llu block%s (%s)", rank,
		fmt_bytes(b, sizeof(b), s->bytes), (unsigned long long)s->count,
		plural(s->count), report_family_name(s->family));
	if (live)
		fprintf(f, ", oldest allocated at %s (age %s)",
			fmt_secs(at, sizeof(at), s->oldest_ns),
			fmt_secs(age, sizeof(age),
				 r->target.duration_ns > s->oldest_ns ?
				 r->target.duration_ns - s->oldest_ns : 0));
	fputc('\n', f);
	print_site_declared(f, s);
	print_frames(f, s->frames, s->nr_frames, s->flags);
}

static void print_sites(const struct report *r, FILE *f, const char *title,
			const struct report_site *sites, size_t n, bool live)
{
	size_t i;

	fprintf(f, "\n%s\n", title);
	if (!n)
		fputs("  none\n", f);
	for (i = 0; i < n; i++)
		print_site(r, f, i + 1, &sites[i], live);
}

/* "TITLE: 3 no info, 1 depth": the stacks that ended early, by why. */
static void print_stops(FILE *f, const char *title, const __u64 *stops)
{
	bool open = false;
	unsigned int i;
	const char *n;

	for (i = MS_STOP_END + 1; i < MS_STOP__COUNT; i++) {
		if (!stops[i])
			continue;
		fprintf(f, "%s%llu ", open ? ", " : title,
			(unsigned long long)stops[i]);
		for (n = report_stop_name(i); *n; n++)
			fputc(*n == '_' ? ' ' : *n, f);
		open = true;
	}
	if (open)
		fputc('\n', f);
}

/* PROT_NONE pages beside live ones: ", 64.0 MiB reserved (PROT_NONE)". */
static void put_reserved(FILE *f, __u64 bytes)
{
	char b[64];

	if (bytes)
		fprintf(f, ", %s reserved (PROT_NONE)",
			fmt_bytes(b, sizeof(b), bytes));
}

/*
 * Anonymous memory after the heap: the program's own mappings by call
 * site, then what the allocators mapped for their arenas.
 */
static void print_anon(const struct report *r, FILE *f)
{
	const struct report_anon *a = &r->anon;
	const struct report_anon_site *s;
	const struct report_arena *ar;
	char b[64], p[64], at[32];
	size_t i;

	fputs("\nAnonymous memory (mmap/mremap/brk outside the allocators; "
	      "not in the heap figures)\n", f);
	if (!a->traced) {
		fputs(r->target.mode == TRACE_MODE_ALLOC ?
		      "  not traced in --mode=alloc\n" :
		      "  not traced (a recording older than format 4)\n", f);
		return;
	}
	fprintf(f, "  live %s in %llu range%s, peak %s at %s, %llu mapping call%s\n",
		fmt_bytes(b, sizeof(b), a->sum.live_bytes),
		(unsigned long long)a->sum.live_ranges,
		plural(a->sum.live_ranges),
		fmt_bytes(p, sizeof(p), a->sum.peak_bytes),
		fmt_secs(at, sizeof(at),
			 report__since_start(r, a->sum.peak_ns)),
		(unsigned long long)a->sum.calls, plural(a->sum.calls));
	if (a->sum.reserved_bytes)
		fprintf(f, "  reserved %s: mapped PROT_NONE (address space, not memory; not in live or peak)\n",
			fmt_bytes(b, sizeof(b), a->sum.reserved_bytes));
	if (a->sum.prot_unknown)
		fprintf(f, "  %llu mapping%s without a protection in the recording (format 9 or older): counted as live\n",
			(unsigned long long)a->sum.prot_unknown,
			plural(a->sum.prot_unknown));
	print_stops(f, "  stacks that ended early: ", a->sum.stack_stops);
	if (a->sum.full_ranges)
		fprintf(f, "  warning: %llu range%s (%llu bytes) not kept: the range table was full\n",
			(unsigned long long)a->sum.full_ranges,
			plural(a->sum.full_ranges),
			(unsigned long long)a->sum.full_bytes);
	for (i = 0; i < a->nr_sites; i++) {
		s = &a->sites[i];
		fprintf(f, "  #%zu  %s live in %llu range%s", i + 1,
			fmt_bytes(b, sizeof(b), s->live_bytes),
			(unsigned long long)s->live_ranges,
			plural(s->live_ranges));
		put_reserved(f, s->reserved_bytes);
		fprintf(f, ", %s mapped in %llu call%s\n",
			fmt_bytes(p, sizeof(p), s->mapped_bytes),
			(unsigned long long)s->calls, plural(s->calls));
		print_frames(f, s->frames, s->nr_frames, s->flags);
	}
	fprintf(f, "  allocator arenas: %s live",
		fmt_bytes(b, sizeof(b), a->sum.arena_live_bytes));
	put_reserved(f, a->sum.arena_reserved_bytes);
	fprintf(f, ", %s mapped in %llu call%s\n",
		fmt_bytes(p, sizeof(p), a->sum.arena_mapped_bytes),
		(unsigned long long)a->sum.arena_calls,
		plural(a->sum.arena_calls));
	for (i = 0; i < a->nr_arenas; i++) {
		ar = &a->arenas[i];
		fputs("    ", f);
		name_put(f, ar->object ? ar->object : "(unknown object)");
		fprintf(f, ": %s live", fmt_bytes(b, sizeof(b),
						 ar->live_bytes));
		put_reserved(f, ar->reserved_bytes);
		fprintf(f, ", %s mapped in %llu call%s\n",
			fmt_bytes(p, sizeof(p), ar->mapped_bytes),
			(unsigned long long)ar->calls, plural(ar->calls));
	}
}

static void put_task(FILE *f, const struct declared_task *t)
{
	fprintf(f, "task %llu", (unsigned long long)t->id);
	if (t->name) {
		fputs(" \"", f);
		name_put(f, t->name);
		fputc('"', f);
	} else if (!t->created) {
		fputs(" (never created)", f);
	}
}

/* "\"name\" 0x1234" for a passport, or the bare address. */
static void put_passport(FILE *f, const struct report *r, size_t i,
			 __u64 ptr)
{
	if (i != DECLARED_NONE && r->passports[i].p.name[0]) {
		fputc('"', f);
		name_put(f, r->passports[i].p.name);
		fputs("\" ", f);
	}
	fprintf(f, "0x%llx", (unsigned long long)ptr);
}

/* What was declared, and what of it could not be used or kept. */
static void print_declared_summary(const struct report *r, FILE *f)
{
	const struct declared_stats *d = &r->declared;
	size_t i, no_block = 0;

	for (i = 0; i < r->nr_tracked; i++)
		no_block += !r->tracked[i].has_block;
	fprintf(f, "\nDeclared by the program (USDT probes): %llu record%s",
		(unsigned long long)d->records, plural(d->records));
	if (d->malformed)
		fprintf(f, ", %llu malformed (not used)",
			(unsigned long long)d->malformed);
	if (d->dropped)
		fprintf(f, ", %llu not kept (a table was full)",
			(unsigned long long)d->dropped);
	if (d->share_log_dropped)
		fprintf(f, ", %llu share%s left out of clone-storm detection",
			(unsigned long long)d->share_log_dropped,
			plural(d->share_log_dropped));
	/* Limits the kernel side hit: counted there, said here. */
	if (r->have_kernel && r->kernel.strings_cut)
		fprintf(f, ", %llu string%s cut at %d bytes",
			(unsigned long long)r->kernel.strings_cut,
			plural(r->kernel.strings_cut), MS_STR_MAX - 1);
	if (r->have_kernel && r->kernel.task_depth_full)
		fprintf(f, ", %llu task enter%s past the per-thread depth of %d (their bytes go to the task outside)",
			(unsigned long long)r->kernel.task_depth_full,
			plural(r->kernel.task_depth_full), MS_TASK_DEPTH);
	fprintf(f, "\n  declared variables live at the end: %zu", r->nr_tracked);
	if (no_block)
		fprintf(f, " (%zu naming no live block)", no_block);
	fputc('\n', f);
}

static void print_tasks(const struct report *r, FILE *f)
{
	char live[64], peak[64], alloc[64], life[32];
	const struct report_task *rt;
	const struct declared_task *t;
	size_t i, shown;
	__u32 depth;

	fputs("\nTasks (declared; bytes captured)\n", f);
	if (!r->nr_tasks)
		fputs("  none\n", f);
	shown = r->nr_tasks < TEXT_MAX_RECORDS ? r->nr_tasks : TEXT_MAX_RECORDS;
	for (i = 0; i < shown; i++) {
		rt = &r->tasks[i];
		t = &rt->t;
		depth = rt->depth < TEXT_MAX_DEPTH ? rt->depth : TEXT_MAX_DEPTH;
		fprintf(f, "  %*s", (int)(2 * depth), "");
		put_task(f, t);
		fprintf(f, ": %s, live %s in %llu block%s, peak %s, allocated %s in %llu block%s, lifetime %s",
			declared_task_state_name(declared_task_state(t)),
			fmt_bytes(live, sizeof(live), t->live_bytes),
			(unsigned long long)t->live_count,
			plural(t->live_count),
			fmt_bytes(peak, sizeof(peak), t->peak_bytes),
			fmt_bytes(alloc, sizeof(alloc), t->alloc_bytes),
			(unsigned long long)t->allocs, plural(t->allocs),
			fmt_secs(life, sizeof(life), rt->lifetime_ns));
		if (t->completed && t->done_count)
			fprintf(f, ", %llu block%s live at completion",
				(unsigned long long)t->done_count,
				plural(t->done_count));
		if (t->parent && !rt->parent_known)
			fprintf(f, " (parent %llu not seen before it)",
				(unsigned long long)t->parent);
		fputc('\n', f);
	}
	if (r->nr_tasks > shown)
		fprintf(f, "  ... %zu more tasks (the JSON report has all)\n",
			r->nr_tasks - shown);
}

static void put_pp_event(FILE *f, const struct declared_pp_event *ev)
{
	fputs(declared_pp_op_name(ev->op), f);
	if (!ev->side)
		return;
	fputs(ev->op == DECLARED_PP_FREE ? " by " : " to ", f);
	name_put(f, ev->side);
}

static void print_passport(const struct report *r, FILE *f, size_t i)
{
	const struct report_passport *p = &r->passports[i];
	__u32 k;

	fputs("  ", f);
	put_passport(f, r, i, p->p.ptr);
	fprintf(f, " (%llu bytes", (unsigned long long)p->p.size);
	if (p->p.generation)
		fprintf(f, ", generation %u", p->p.generation);
	fputs("): ", f);
	for (k = 0; k < p->p.nr_history; k++) {
		if (k)
			fputs(" -> ", f);
		put_pp_event(f, &p->history[k].ev);
	}
	if (p->p.nr_events > p->p.nr_history)
		fprintf(f, " -> ... %llu more",
			(unsigned long long)(p->p.nr_events - p->p.nr_history));
	if (!p->p.freed) {
		fputs("; custody: ", f);
		name_put(f, p->p.custody);
	}
	if (p->p.nr_violations)
		fprintf(f, " [%llu violation%s]",
			(unsigned long long)p->p.nr_violations,
			plural(p->p.nr_violations));
	fputc('\n', f);
}

/* An operation as a sentence: "handed over to libfoo", "freed by host". */
static void put_pp_verb(FILE *f, const struct declared_pp_event *ev)
{
	static const char *const verbs[] = {
		[DECLARED_PP_CREATE] = "created",
		[DECLARED_PP_HANDOVER] = "handed over to ",
		[DECLARED_PP_RECLAIM] = "reclaimed",
		[DECLARED_PP_FREE] = "freed by ",
	};

	fputs(verbs[ev->op], f);
	if (ev->side)
		name_put(f, ev->side);
}

static void print_violation(const struct report *r, FILE *f, size_t i)
{
	const struct report_violation *rv = &r->violations[i];
	const struct declared_violation *v = &rv->v;
	char at[32];

	fprintf(f, "  #%zu  %s: ", i + 1, declared_violation_name(v->kind));
	if (v->kind == DECLARED_PV_UNKNOWN) {
		fprintf(f, "%s of 0x%llx with no passport",
			declared_pp_op_name(v->ev.op),
			(unsigned long long)v->ptr);
		if (v->passport != DECLARED_NONE)
			fputs(" (it was freed)", f);
	} else {
		put_passport(f, r, v->passport, v->ptr);
		fputc(' ', f);
		put_pp_verb(f, &v->ev);
		switch (v->kind) {
		case DECLARED_PV_NEVER_FREED:
			fputs(", never reclaimed or freed", f);
			break;
		case DECLARED_PV_HANDOVER_AFTER_FREE:
			fputs(" after it was freed", f);
			break;
		default:
			fputs(" while ", f);
			name_put(f, v->custody);
			fputs(" held it", f);
		}
	}
	fprintf(f, ", at %s\n", fmt_secs(at, sizeof(at),
					 report__since_start(r, v->ev.ts_ns)));
	print_frames(f, rv->frames, rv->nr_frames, 0);
}

static void print_passports(const struct report *r, FILE *f)
{
	size_t i, freed = 0, home = 0, shown;

	for (i = 0; i < r->nr_passports; i++) {
		freed += r->passports[i].p.freed;
		home += !r->passports[i].p.freed &&
			!strcmp(r->passports[i].p.custody, DECLARED_HOST);
	}
	fputs("\nPassports (declared)\n", f);
	fprintf(f, "  %zu passport%s: %zu freed, %zu held by the host, %zu in foreign custody\n",
		r->nr_passports, plural(r->nr_passports), freed, home,
		r->nr_passports - freed - home);
	shown = r->nr_passports < TEXT_MAX_RECORDS ? r->nr_passports :
						    TEXT_MAX_RECORDS;
	for (i = 0; i < shown; i++)
		print_passport(r, f, i);
	if (r->nr_passports > shown)
		fprintf(f, "  ... %zu more passports (the JSON report has all)\n",
			r->nr_passports - shown);

	fputs("\nPassport violations (declared operations, checked)\n", f);
	if (!r->nr_violations)
		fputs("  none\n", f);
	for (i = 0; i < r->nr_violations; i++)
		print_violation(r, f, i);
}

static void put_shared(FILE *f, const struct declared_shared *s)
{
	fprintf(f, "0x%llx ", (unsigned long long)s->ptr);
	put_declared_name(f, s->name, s->type, MS_KIND_NONE);
}

static void print_shared(const struct report *r, FILE *f)
{
	const struct declared_shared *s;
	char b[64];
	size_t i, shown;

	fputs("\nShared handles (declared)\n", f);
	if (!r->nr_shared)
		fputs("  none\n", f);
	shown = r->nr_shared < TEXT_MAX_RECORDS ? r->nr_shared :
						  TEXT_MAX_RECORDS;
	for (i = 0; i < shown; i++) {
		s = &r->shared[i].s;
		fputs("  ", f);
		put_shared(f, s);
		fprintf(f, ": %llu handle%s now, at most %llu, %llu share%s",
			(unsigned long long)s->handles, plural(s->handles),
			(unsigned long long)s->max_handles,
			(unsigned long long)s->shares, plural(s->shares));
		if (s->has_block)
			fprintf(f, "; block of %s%s",
				fmt_bytes(b, sizeof(b), s->size),
				s->ended ? ", freed" : "");
		else
			fputs("; no live block at that address", f);
		fputc('\n', f);
		if (r->shared[i].nr_frames)
			print_frame(f, &r->shared[i].frames[0]);
	}
	if (r->nr_shared > shown)
		fprintf(f, "  ... %zu more (the JSON report has all)\n",
			r->nr_shared - shown);
}

/* The sections of the rules placed here, each under its title. */
static void print_rules(const struct report *r, enum rule_place place,
			FILE *f)
{
	const struct report_findings *fi;
	size_t i, k;

	for (i = 0; i < r->nr_findings; i++) {
		fi = &r->findings[i];
		if (fi->rule->place != place)
			continue;
		fprintf(f, "\n%s\n", fi->rule->title);
		if (!fi->nr)
			fputs("  none\n", f);
		for (k = 0; k < fi->nr; k++)
			fi->rule->text(f, r, fi->opts,
				       (const char *)fi->items +
				       k * fi->rule->size, k);
	}
}

/* Only for a program that declared something: the rest have nothing here. */
static void print_declared(const struct report *r, FILE *f)
{
	if (!r->declared.records)
		return;
	print_declared_summary(r, f);
	print_tasks(r, f);
	print_rules(r, RULE_AFTER_TASKS, f);
	print_passports(r, f);
	print_rules(r, RULE_AFTER_PASSPORTS, f);
	print_shared(r, f);
	print_rules(r, RULE_AFTER_SHARED, f);
}

/*
 * Stacks that ended before the program's entry, by why: the one line
 * says how far to trust the call sites. Nothing when every stack ended
 * at its outermost frame.
 */
static void print_kernel(const struct report *r, FILE *f)
{
	const struct ms_counters *k = &r->kernel;
	const struct store_summary *s = &r->summary;
	bool left = false;
	size_t i;

	fprintf(f, "\nKernel counters (%s) vs captured: allocs %llu vs %llu, "
		"live bytes %llu vs %llu, peak bytes %llu vs %llu\n",
		k->live_full ? "inexact" : "exact",
		(unsigned long long)k->allocs, (unsigned long long)s->allocs,
		(unsigned long long)k->live_bytes,
		(unsigned long long)s->live_bytes,
		(unsigned long long)k->peak_bytes,
		(unsigned long long)s->peak_bytes);
	/* Two peaks, both right: say why they differ, not leave it a doubt. */
	for (i = 0; i < r->nr_procs; i++)
		left |= r->procs[i].r->ended &&
			r->procs[i].r->summary.live_bytes;
	if (left && k->peak_bytes != s->peak_bytes)
		fputs("  (the kernel's peak counts the blocks an ended image left as "
		      "live from its end on; the captured one, the images running "
		      "at one time)\n", f);
	print_stops(f, "Stacks that ended early (kernel): ", k->stack_stops);
}

/* What each kind of anomaly is, in a sentence's words. */
static const char *const anomaly_words[STORE_ANOMALY__COUNT] = {
	[STORE_DOUBLE_FREE] = "double free",
	[STORE_INVALID_FREE] = "invalid free (never allocated)",
	[STORE_MISMATCHED_FREE] = "mismatched free",
};

static void print_anomalies(const struct report *r, FILE *f)
{
	const struct report_anomaly *a;
	__u64 late = r->summary.late_frees;
	char at[32];
	size_t i;

	if (!r->nr_anomalies && !late)
		return;
	fputs("\nAnomalies (captured: frees the allocator was not owed)\n", f);
	if (late)
		fprintf(f, "  %llu free%s of another family's block not judged: the block or the free was made before its process's allocator probes were all in (joined late)\n",
			(unsigned long long)late, plural(late));
	for (i = 0; i < r->nr_anomalies; i++) {
		a = &r->anomalies[i];
		fprintf(f, "  #%zu  %s x%llu, first at %s: freed by %s", i + 1,
			anomaly_words[a->kind], (unsigned long long)a->count,
			fmt_secs(at, sizeof(at), a->first_ns),
			report_family_name(a->free_family));
		if (a->kind != STORE_INVALID_FREE)
			fprintf(f, ", allocated by %s%s",
				report_family_name(a->alloc_family),
				a->other_allocator ?
				" of another allocator" : "");
		fputs("\n      freed at:\n", f);
		if (!a->nr_free_frames && !(a->free_flags & MS_EVF_STACK_ERR))
			fputs(FRAME_INDENT "(not walked: the budget of "
			      "suspect frees was spent)\n", f);
		else
			print_frames(f, a->free_frames, a->nr_free_frames,
				     a->free_flags);
		if (a->kind == STORE_INVALID_FREE)
			continue;
		fputs("      allocated at:\n", f);
		print_frames(f, a->alloc_frames, a->nr_alloc_frames,
			     a->alloc_flags);
	}
}

/*
 * Before the leak lists: which blocks they show, and how many of the live
 * ones that is, so the totals above are not read as the lists' sum.
 */
static void print_filter(const struct report *r, FILE *f)
{
	const struct report_filter *fl = &r->filter;
	char b[64], secs[32];
	const char *sep = "";

	if (!report_filter_on(fl))
		return;
	fputs("\nLeak filter: only blocks", f);
	if (fl->older_ns) {
		fprintf(f, " older than %s at the end",
			fmt_secs(secs, sizeof(secs), fl->older_ns));
		sep = ",";
	}
	if (fl->min_size) {
		fprintf(f, "%s of at least %s", sep,
			fmt_bytes(b, sizeof(b), fl->min_size));
		sep = ",";
	}
	if (fl->max_size)
		fprintf(f, "%s of at most %s", sep,
			fmt_bytes(b, sizeof(b), fl->max_size));
	fprintf(f, "\n  %llu of %llu live block%s pass, ",
		(unsigned long long)r->filter_count,
		(unsigned long long)r->summary.live_allocs,
		plural(r->summary.live_allocs));
	fprintf(f, "%s", fmt_bytes(b, sizeof(b), r->filter_bytes));
	fprintf(f, " of %s\n", fmt_bytes(b, sizeof(b), r->summary.live_bytes));
}

/*
 * The leak suspects first: sites whose old blocks kept growing over the
 * snapshots, inferred, with the rule, the confidence and the evidence.
 */
static void print_suspects(const struct report *r, FILE *f)
{
	size_t counts[GROWTH_PATTERN__COUNT] = {}, i, shown;
	const struct report_growth_site *g;
	char buf[64];
	bool first = true;

	if (!r->snapshots)
		return;
	fprintf(f, "\nLeak suspects by growth (inferred, rule %s, over %u snapshot%s)\n",
		GROWTH_RULE, r->snapshots, plural(r->snapshots));
	if (!r->nr_growth) {
		fprintf(f, "  none judged: a verdict needs %d snapshots after the first\n",
			GROWTH_MIN_SNAPS);
		return;
	}
	shown = r->top && r->top < r->nr_suspects ? r->top : r->nr_suspects;
	if (!r->nr_suspects)
		fputs("  none: no site's old blocks kept growing\n", f);
	for (i = 0; i < shown; i++) {
		g = &r->growth[i];
		fprintf(f, "#%zu  growing %s/s (%.2f blocks/s) of blocks that stay, confidence %.2f\n",
			i + 1,
			fmt_bytes(buf, sizeof(buf),
				  g->v.bytes_per_s > 0 ? g->v.bytes_per_s : 0),
			g->v.blocks_per_s, g->v.confidence);
		fprintf(f, "    %llu old block%s (%s) of %llu live; old blocks rose in %u and fell in %u of %u steps\n",
			(unsigned long long)g->v.old_blocks,
			plural(g->v.old_blocks),
			fmt_bytes(buf, sizeof(buf), g->v.old_bytes),
			(unsigned long long)g->v.live_blocks, g->v.rises,
			g->v.falls, g->v.snapshots - 1);
		if (r->nr_procs > 1) {
			fprintf(f, "    in pid %u ", r->procs[g->proc].info.pid);
			name_put(f, r->procs[g->proc].info.comm[0] ?
				    r->procs[g->proc].info.comm : "?");
			if (r->procs[g->proc].image)
				fprintf(f, " [exec %u]",
					r->procs[g->proc].image);
			fputc('\n', f);
		}
		print_frames(f, g->frames, g->nr_frames, g->flags);
	}
	if (shown < r->nr_suspects)
		fprintf(f, "  ... %zu more (-t 0 shows all)\n",
			r->nr_suspects - shown);
	for (i = r->nr_suspects; i < r->nr_growth; i++)
		counts[r->growth[i].v.pattern]++;
	for (i = 0; i < GROWTH_PATTERN__COUNT; i++) {
		if (!counts[i])
			continue;
		fprintf(f, "%s%zu %s", first ? "  other sites: " : ", ",
			counts[i], growth_pattern_name(i));
		first = false;
	}
	if (!first)
		fputc('\n', f);
}

/* "exited 0", "killed by signal 9", "exec", "running": how an image ended. */
static void put_end(FILE *f, const struct report_proc *p)
{
	switch (p->end) {
	case PROC_EXITED:
		if (p->exit_unknown)
			fputs("exited, status not seen", f);
		else if (WIFEXITED(p->exit_code))
			fprintf(f, "exit %d", WEXITSTATUS(p->exit_code));
		else if (WIFSIGNALED(p->exit_code))
			fprintf(f, "signal %d", WTERMSIG(p->exit_code));
		else
			fprintf(f, "status %#x", p->exit_code);
		break;
	case PROC_EXECED:
		fputs("exec", f);
		break;
	case PROC_REUSED:
		fputs("gone (pid reused)", f);
		break;
	default:
		fputs("running", f);
	}
}

/* The order of the process table: live bytes, then allocations, desc. */
static int proc_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct report_proc *procs = ctx;
	const struct store_summary *a = &procs[*(const size_t *)pa].r->summary;
	const struct store_summary *b = &procs[*(const size_t *)pb].r->summary;

	if (a->live_bytes != b->live_bytes)
		return a->live_bytes < b->live_bytes ? 1 : -1;
	if (a->allocs != b->allocs)
		return a->allocs < b->allocs ? 1 : -1;
	return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

/*
 * The end of a row's figures: its records the kernel could not deliver,
 * and its stacks that ended before the program's entry, for any reason.
 */
static void put_lost(FILE *f, const struct report *pr)
{
	__u64 early = 0;
	unsigned int i;

	if (pr->have_kernel) {
		for (i = MS_STOP_END + 1; i < MS_STOP__COUNT; i++)
			early += pr->kernel.stack_stops[i];
		fprintf(f, ", lost %llu",
			(unsigned long long)pr->kernel.lost_events);
		if (early)
			fprintf(f, ", %llu stack%s stopped early",
				(unsigned long long)early, plural(early));
	}
	fputc('\n', f);
}

/*
 * A fold's row: the program, how many images and from when to when, its
 * figures added up (the peak the largest one image reached); its first
 * image's command line below it.
 */
static void print_fold_row(const struct report *r, FILE *f,
			   const struct report_proc *p)
{
	const struct store_summary *s = &p->r->summary;
	char b[64], secs[32];

	fputs("  ", f);
	name_put(f, p->info.comm[0] ? p->info.comm : "?");
	fprintf(f, ": %u ended images folded (pids %u to %u), from %s",
		p->folded, p->info.pid, p->last_pid,
		fmt_secs(secs, sizeof(secs), report__since_start(r,
			 p->info.start_ns ? p->info.start_ns : p->first_ns)));
	fprintf(f, " to %s", fmt_secs(secs, sizeof(secs),
				      report__since_start(r, p->end_ns)));
	if (p->folded_failed)
		fprintf(f, ", %u failed", p->folded_failed);
	fprintf(f, "\n           %llu alloc%s, live at their ends %s",
		(unsigned long long)s->allocs, plural(s->allocs),
		fmt_bytes(b, sizeof(b), s->live_bytes));
	fprintf(f, ", largest peak of one %s", fmt_bytes(b, sizeof(b),
							 s->peak_bytes));
	put_lost(f, p->r);
	if (p->command) {
		fputs("           first: ", f);
		name_put(f, p->command);
		if (p->info.flags & PROCINFO_CUT)
			fputs(" (cut)", f);
		fputc('\n', f);
	}
}

/*
 * One line per process image: who, when, how it ended, and its own
 * figures; its command line below it.
 */
static void print_proc_row(const struct report *r, FILE *f,
			   const struct report_proc *p)
{
	const struct store_summary *s = &p->r->summary;
	const struct procfacts *in = &p->info;
	char b[64], secs[32];

	if (p->folded) {
		print_fold_row(r, f, p);
		return;
	}
	fprintf(f, "  %-7u", in->pid);
	if (in->ns_pid && in->ns_pid != in->pid)
		fprintf(f, " (ns %u)", in->ns_pid);
	fputs(" ", f);
	name_put(f, in->comm[0] ? in->comm : "?");
	if (p->image)
		fprintf(f, " [exec %u]", p->image);
	fputs(", parent ", f);
	if (in->ppid)
		fprintf(f, "%u", in->ppid);
	else
		fputs("?", f);
	fprintf(f, ", %s %s, ", in->flags & PROCINFO_EXISTING ?
		"attached at" : "started at",
		fmt_secs(secs, sizeof(secs), report__since_start(r,
			 in->start_ns ? in->start_ns : p->first_ns)));
	put_end(f, p);
	if (p->end_ns)
		fprintf(f, " at %s", fmt_secs(secs, sizeof(secs),
					      report__since_start(r,
								  p->end_ns)));
	fprintf(f, "\n           %llu alloc%s, %s %s",
		(unsigned long long)s->allocs, plural(s->allocs),
		p->end == PROC_RUNNING ? "live now" : "live at its end",
		fmt_bytes(b, sizeof(b), s->live_bytes));
	fprintf(f, ", peak %s", fmt_bytes(b, sizeof(b), s->peak_bytes));
	if (s->peak_ns)
		fprintf(f, " at %s", fmt_secs(secs, sizeof(secs),
				report__since_start(r, s->peak_ns)));
	put_lost(f, p->r);
	if (in->flags & PROCINFO_FOREIGN)
		fputs("           not traced: not an x86-64 program (a 32-bit one)\n", f);
	if (in->flags & PROCINFO_LATE)
		fprintf(f, "           joined late: its allocator probed %.1f ms after it ran it, counts start there\n",
			in->late_ns / 1e6);
	if (p->command) {
		fputs("           ", f);
		name_put(f, p->command);
		if (in->flags & PROCINFO_CUT)
			fputs(" (cut)", f);
		fputc('\n', f);
	}
}

/*
 * Rows of the process table at least: -a's hour of ten processes a
 * second is 72,000 images, three lines each; the JSON has every one.
 */
#define PROC_TABLE_ROWS	50

/*
 * Several processes: the table, by live bytes (its first rows, and every
 * image the warning counts), then the call sites of the first
 * --top-procs of them; the leaks of an image that ended are what it left
 * at its exit or exec, never a later image's.
 */
static int print_processes(const struct report *r, FILE *f)
{
	size_t *order, i, n = r->nr_procs, shown, rows, idle = 0, flagged = 0;
	const struct report_proc *p;
	char title[128];

	order = calloc(n, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), proc_cmp, r->procs);
	fprintf(f, "\nProcesses (captured): %llu image%s of %llu process%s, "
		"by live bytes", (unsigned long long)r->all.images,
		plural(r->all.images), (unsigned long long)r->all.processes,
		r->all.processes == 1 ? "" : "es");
	if (r->folded_images)
		fprintf(f, "; %zu ended image%s of %zu program%s folded, "
			"one row each (--fold)", r->folded_images,
			plural(r->folded_images), r->folded_entries,
			plural(r->folded_entries));
	if (r->unlisted_images)
		fprintf(f, "; %zu image%s not listed: opened and ended by "
			"an exec where the process joined, nothing traced",
			r->unlisted_images, plural(r->unlisted_images));
	fputc('\n', f);
	rows = r->top_procs > PROC_TABLE_ROWS ? r->top_procs : PROC_TABLE_ROWS;
	if (!r->top_procs || rows > n)
		rows = n;
	for (i = 0; i < rows; i++)
		print_proc_row(r, f, &r->procs[order[i]]);
	/*
	 * An image the warning counts (joined late, not traced) is listed
	 * wherever it ranks: the warning sends the reader to its row.
	 */
	for (i = rows; i < n; i++) {
		p = &r->procs[order[i]];
		if (p->info.flags & (PROCINFO_LATE | PROCINFO_FOREIGN)) {
			print_proc_row(r, f, p);
			flagged++;
		} else {
			idle += !p->r->summary.allocs;
		}
	}
	if (rows + flagged < n)
		fprintf(f, "  ... %zu more %s%s (%zu allocated nothing): "
			"--top-procs 0 lists them all, the JSON report has "
			"them\n", n - rows - flagged,
			r->folded_images ? "row" : "image",
			plural(n - rows - flagged), idle);
	shown = r->top_procs && r->top_procs < n ? r->top_procs : n;
	for (i = 0; i < shown; i++) {
		p = &r->procs[order[i]];
		if (p->folded) {
			fputs("\n== ", f);
			name_put(f, p->info.comm[0] ? p->info.comm : "?");
			fprintf(f, ", %u ended images folded ==\n", p->folded);
		} else {
			fprintf(f, "\n== pid %u ", p->info.pid);
			name_put(f, p->info.comm[0] ? p->info.comm : "?");
			if (p->image)
				fprintf(f, " [exec %u]", p->image);
			fputs(" ==\n", f);
		}
		snprintf(title, sizeof(title), "Top leaking call sites (%s)",
			 p->folded ? "live at their ends, added up" :
			 p->r->ended ? (p->end == PROC_EXECED ?
					"live at its exec" :
					"live at its exit") :
				       "live at end");
		print_sites(p->r, f, title, p->r->leaks, p->r->nr_leaks, true);
		report_text_reach(p->r, f);
		print_sites(p->r, f, p->folded ?
			    "Top call sites at their peaks (each image's own, "
			    "added up)" : "Top call sites at its peak",
			    p->r->peak, p->r->nr_peak, false);
		/* its own mappings and declarations, as one process shows them */
		print_anon(p->r, f);
		print_declared(p->r, f);
	}
	if (shown < n)
		fprintf(f, "\n%zu more %s%s: --top-procs 0 shows them all, "
			"the JSON report has them\n", n - shown,
			r->folded_images ? "row" : "process image",
			plural(n - shown));
	free(order);
	return 0;
}

int report__write_text(const struct report *r, FILE *f)
{
	int err;

	print_header(r, f);
	print_totals(r, f);
	print_warning(r, f);
	if (r->nr_procs > 1) {
		/* The suspects lead here too: every image's, each named. */
		print_suspects(r, f);
		err = print_processes(r, f);
		if (err)
			return err;
		print_anomalies(r, f);
		if (r->have_kernel)
			print_kernel(r, f);
		if (fflush(f))
			return -errno;
		return ferror(f) ? -EIO : 0;
	}
	if (r->target.mode == TRACE_MODE_ALLOC) {
		/* No frees traced: no leaks or peak, but where bytes go. */
		print_sites(r, f, "Top allocating call sites (bytes requested; "
			    "--mode=alloc traces no frees or returns: no leaks, "
			    "no peak, failed calls included)",
			    r->sites, r->top && r->top < r->nr_sites ?
			    r->top : r->nr_sites, false);
	} else {
		print_suspects(r, f);
		print_filter(r, f);
		print_sites(r, f, "Top leaking call sites (live at end)",
			    r->leaks, r->nr_leaks, true);
		report_text_reach(r, f);
		print_sites(r, f, "Top call sites at the peak", r->peak,
			    r->nr_peak, false);
		print_anomalies(r, f);
	}
	print_anon(r, f);
	print_declared(r, f);
	if (r->have_kernel)
		print_kernel(r, f);
	if (fflush(f))
		return -errno;
	return ferror(f) ? -EIO : 0;
}

/* For the rules' records (report_text.h): the same forms as the rest. */
const char *report_text_bytes(char *buf, size_t size, __u64 v)
{
	return fmt_bytes(buf, size, v);
}

const char *report_text_secs(char *buf, size_t size, __u64 ns)
{
	return fmt_secs(buf, size, ns);
}

const char *report_text_plural(__u64 n)
{
	return plural(n);
}

void report_text_task(FILE *f, const struct declared_task *t)
{
	put_task(f, t);
}

void report_text_shared(FILE *f, const struct declared_shared *s)
{
	put_shared(f, s);
}

void report_text_frame_short(FILE *f, const struct frame *fr)
{
	put_location(f, fr);
}

/* A frame of a site line, after the shown ones before it. */
static void site_frame(FILE *f, const struct frame *fr, unsigned *shown)
{
	if ((*shown)++)
		fputs(" < ", f);
	put_location(f, fr);
}

void report_text_site(FILE *f, const struct frame *frames, __u32 nr,
		      unsigned max)
{
	unsigned shown = 0;
	__u32 i;

	if (!nr)
		fputs("(no stack captured)", f);
	for (i = 0; i < nr && shown < max; i++)
		site_frame(f, &frames[i], &shown);
	if (i < nr)
		fputs(" < ...", f);
}

void report_text_site_addrs(FILE *f, const __u64 *addrs, __u32 nr,
			    unsigned max, frame_resolve_fn resolve, void *ctx)
{
	const struct frame *fr;
	struct frame one;
	unsigned n = 0, i = 0, shown = 0;
	__u32 k;

	if (!nr)
		fputs("(no stack captured)", f);
	for (k = 0; k < nr && shown < max; k++) {
		one = (struct frame){ .addr = addrs[k] };
		fr = &one;
		n = resolve ? resolve(ctx, addrs[k], &fr) : 1;
		if (!n) {
			fr = &one;
			n = 1;
		}
		for (i = 0; i < n && shown < max; i++)
			site_frame(f, &fr[i], &shown);
	}
	/* frames left of the last address, or addresses left */
	if (k < nr || i < n)
		fputs(" < ...", f);
}

void report_text_frames(FILE *f, const struct frame *frames, __u32 nr)
{
	print_frames(f, frames, nr, 0);
}
