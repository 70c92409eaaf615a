/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Folded stacks, the input of flamegraph.pl, inferno and speedscope: one
 * line per call stack, frames from the root to the allocating function
 * joined by ';', a space, and a weight.
 *
 * The weight is, as r->folded_weight says, the bytes still live at the
 * end (the flame graph of what is leaking; the default), live at the
 * peak, or allocated over the trace. Stacks that weigh nothing are left
 * out (a zero-width frame only clutters). --mode=alloc traces no frees,
 * so there every weight is the bytes allocated.
 *
 * A frame is its function, else object+0xoffset (the file name of the
 * object, the address inside it), else the process address; an inlined
 * call ends in _[i], as perf's folded stacks mark them. The format
 * has no quoting: ';', white space and control characters in a name
 * become '_'. A stack cut at the depth limit starts with [truncated], so
 * cut stacks share a root instead of passing for roots of their own, and
 * one that stopped before the program's entry for another reason with
 * its marker, [ended-early-not_loaded] (report_stop_marker()); a stack
 * that could not be captured is [no-stack]. With several process
 * images every stack starts at its process, [pid-PID-COMM] (and -execN
 * for an image after an exec), so each process is a tower of its own.
 */
#include <errno.h>
#include <string.h>
#include "outfile.h"
#include "report.h"

static void put_name(FILE *f, const char *s)
{
	unsigned char c;

	for (; (c = (unsigned char)*s); s++)
		putc(c == ';' || c <= ' ' || c == 0x7f ? '_' : c, f);
}

static void put_frame(FILE *f, const struct frame *fr)
{
	const char *base;

	if (fr->function) {
		put_name(f, fr->function);
	} else if (fr->object) {
		base = strrchr(fr->object, '/');
		put_name(f, base ? base + 1 : fr->object);
		fprintf(f, "+0x%llx", (unsigned long long)fr->object_offset);
	} else {
		fprintf(f, "0x%llx", (unsigned long long)fr->addr);
	}
	/* the annotation flamegraph.pl and inferno know for inlined calls */
	if (fr->inlined)
		fputs("_[i]", f);
}

static void put_site(FILE *f, const struct report *r,
		     const struct report_site *s, __u64 weight)
{
	const struct report_proc *p;
	__u32 i;

	if (r->nr_procs > 1 && s->proc < r->nr_procs) {
		p = &r->procs[s->proc];
		if (p->folded) {
			/* a fold (--fold): "[sh-folded-120]" */
			fputc('[', f);
			put_name(f, p->info.comm[0] ? p->info.comm : "?");
			fprintf(f, "-folded-%u];", p->folded);
		} else {
			fprintf(f, "[pid-%u-", p->info.pid);
			put_name(f, p->info.comm[0] ? p->info.comm : "?");
			if (p->image)
				fprintf(f, "-exec%u", p->image);
			fputs("];", f);
		}
	}
	if (!s->nr_frames)
		fputs("[no-stack]", f);
	else if (s->flags & MS_EVF_STACK_TRUNC)
		fputs("[truncated];", f);
	else if (report_stop_marker(ms_event_stop(s->flags)))
		fprintf(f, "%s;", report_stop_marker(ms_event_stop(s->flags)));
	for (i = s->nr_frames; i > 0; i--) {
		put_frame(f, &s->frames[i - 1]);
		if (i > 1)
			putc(';', f);
	}
	fprintf(f, " %llu\n", (unsigned long long)weight);
}

static __u64 site_weight(const struct report *r, const struct report_site *s)
{
	if (r->target.mode == TRACE_MODE_ALLOC)
		return s->alloc_bytes;
	switch (r->folded_weight) {
	case REPORT_WEIGHT_PEAK:
		return s->peak_bytes;
	case REPORT_WEIGHT_ALLOCS:
		return s->alloc_bytes;
	case REPORT_WEIGHT_LEAKS:
		break;
	}
	return s->live_bytes;
}

int report__write_folded(const struct report *r, const char *path)
{
	const struct report_site *s;
	struct outfile *o;
	__u64 weight;
	size_t i;

	o = outfile__new(path);
	if (!o)
		return -errno;
	for (i = 0; i < r->nr_sites; i++) {
		s = &r->sites[i];
		weight = site_weight(r, s);
		if (weight)
			put_site(outfile__stream(o), r, s, weight);
	}
	return outfile__commit(o);
}
