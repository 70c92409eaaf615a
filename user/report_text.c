/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The human report: what was traced, the totals, whether data was lost,
 * then the call sites to look at. Formatting only; the model decides.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include "report.h"

/* Enough to recognise a call path; the JSON report has all of them. */
#define TEXT_MAX_FRAMES		12
#define FRAME_INDENT		"        "

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

/*
 * Names come from the traced program: control characters are shown, not
 * sent, so a symbol cannot drive the terminal that reads the report.
 */
static void put_name(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static void print_header(const struct report *r, FILE *f)
{
	const struct report_target *t = &r->target;
	char secs[32];

	fprintf(f, "memscope-bpf report: pid %d", t->pid);
	if (t->command) {
		fputs(" (", f);
		put_name(f, t->command);
		fputc(')', f);
	}
	fprintf(f, ", traced for %s",
		fmt_secs(secs, sizeof(secs), t->duration_ns));
	if (t->mode)
		fprintf(f, ", mode %s", t->mode);
	if (t->exited && WIFEXITED(t->exit_status))
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
	char b[64], secs[32];

	fputs("Totals (captured)\n", f);
	fprintf(f, "  allocations    %llu, %s\n", (unsigned long long)s->allocs,
		fmt_bytes(b, sizeof(b), s->alloc_bytes));
	fprintf(f, "  frees          %llu, %s\n", (unsigned long long)s->frees,
		fmt_bytes(b, sizeof(b), s->free_bytes));
	fprintf(f, "  live now       %llu block%s, %s\n",
		(unsigned long long)s->live_allocs, plural(s->live_allocs),
		fmt_bytes(b, sizeof(b), s->live_bytes));
	fprintf(f, "  peak           %s",
		fmt_bytes(b, sizeof(b), s->peak_bytes));
	if (s->peak_ns)
		fprintf(f, " at %s", fmt_secs(secs, sizeof(secs),
				report__since_start(r, s->peak_ns)));
	fprintf(f, "\n  failed allocs  %llu\n  unknown frees  %llu\n",
		(unsigned long long)s->failed_allocs,
		(unsigned long long)s->unknown_frees);
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
	bool open = false;

	if (r->have_kernel) {
		warn_clause(f, &open, k->lost_events, "event",
			    "lost (ring buffer full)");
		warn_clause(f, &open, k->stack_errors, "stack",
			    "unreadable (sites without frames)");
		warn_clause(f, &open, k->live_full, "allocation",
			    "missed by the full kernel live table");
	}
	warn_clause(f, &open, r->consumer_drops, "record",
		    "dropped by userspace");
	if (!open)
		return;
	if (r->have_kernel && !k->live_full)
		fputs("; kernel counters at the end are exact", f);
	else if (r->have_kernel)
		fputs("; kernel counters are inexact too", f);
	fputc('\n', f);
}

/* Best known location: function, file:line, object+offset, address. */
static void print_frame(FILE *f, const struct report_frame *fr)
{
	fputs(FRAME_INDENT, f);
	if (fr->function) {
		put_name(f, fr->function);
		fputs(" (", f);
	}
	if (fr->file) {
		put_name(f, fr->file);
		if (fr->line > 0)
			fprintf(f, ":%d", fr->line);
	} else if (fr->object) {
		put_name(f, fr->object);
		fprintf(f, "+0x%llx", (unsigned long long)fr->object_offset);
	} else {
		fprintf(f, "0x%llx", (unsigned long long)fr->addr);
	}
	fputs(fr->function ? ")\n" : "\n", f);
}

static void print_site(const struct report *r, FILE *f, size_t rank,
		       const struct report_site *s, bool live)
{
	char b[64], at[32], age[32];
	__u32 i, shown;

	fprintf(f, "  #%zu  %s in %llu block%s", rank,
		fmt_bytes(b, sizeof(b), s->bytes), (unsigned long long)s->count,
		plural(s->count));
	if (live)
		fprintf(f, ", oldest allocated at %s (age %s)",
			fmt_secs(at, sizeof(at), s->oldest_ns),
			fmt_secs(age, sizeof(age),
				 r->target.duration_ns > s->oldest_ns ?
				 r->target.duration_ns - s->oldest_ns : 0));
	fputc('\n', f);

	if (!s->nr_frames)
		fputs(FRAME_INDENT "(no stack captured)\n", f);
	shown = s->nr_frames < TEXT_MAX_FRAMES ? s->nr_frames : TEXT_MAX_FRAMES;
	for (i = 0; i < shown; i++)
		print_frame(f, &s->frames[i]);
	if (s->nr_frames > shown)
		fprintf(f, FRAME_INDENT "... %u more frame%s\n",
			s->nr_frames - shown, plural(s->nr_frames - shown));
	if (s->flags & MS_EVF_STACK_TRUNC)
		fprintf(f, FRAME_INDENT "(stack cut at %d frames)\n",
			MS_MAX_STACK);
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

static void print_kernel(const struct report *r, FILE *f)
{
	const struct ms_counters *k = &r->kernel;
	const struct store_summary *s = &r->summary;

	fprintf(f, "\nKernel counters (%s) vs captured: allocs %llu vs %llu, "
		"live bytes %llu vs %llu, peak bytes %llu vs %llu\n",
		k->live_full ? "inexact" : "exact",
		(unsigned long long)k->allocs, (unsigned long long)s->allocs,
		(unsigned long long)k->live_bytes,
		(unsigned long long)s->live_bytes,
		(unsigned long long)k->peak_bytes,
		(unsigned long long)s->peak_bytes);
}

int report__write_text(const struct report *r, FILE *f)
{
	print_header(r, f);
	print_totals(r, f);
	print_warning(r, f);
	if (r->target.mode && !strcmp(r->target.mode, "alloc")) {
		/* No frees traced: no leaks or peak, but where bytes go. */
		print_sites(r, f, "Top allocating call sites (bytes requested; "
			    "--mode=alloc traces no frees or returns: no leaks, "
			    "no peak, failed calls included)",
			    r->sites, r->top && r->top < r->nr_sites ?
			    r->top : r->nr_sites, false);
	} else {
		print_sites(r, f, "Top leaking call sites (live at end)",
			    r->leaks, r->nr_leaks, true);
		print_sites(r, f, "Top call sites at the peak", r->peak,
			    r->nr_peak, false);
	}
	if (r->have_kernel)
		print_kernel(r, f);
	if (fflush(f))
		return -errno;
	return ferror(f) ? -EIO : 0;
}
