// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * The heap scan in the text report: the leaks by memcheck's class,
 * definitely lost first, then the leaked cycles and the strongest links
 * of the ownership graph. Every figure is inferred, and says so.
 */
#include <stdlib.h>
#include "report.h"
#include "report_text.h"

/* Links shown in text; JSON holds every one the model kept. */
#define TEXT_LINKS	10

struct by_class {
	const struct report_site *s;
	size_t rank;		/* in the leak list */
};

static int by_class_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct by_class *a = pa, *b = pb;
	unsigned c = *(const unsigned *)ctx;
	__u64 x = a->s->reach[c].bytes, y = b->s->reach[c].bytes;

	if (x != y)
		return x < y ? 1 : -1;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

static void print_class(const struct report *r, FILE *f, unsigned c,
			struct by_class *v)
{
	const struct heapscan_stats *st = &r->reach.stats;
	char b[64];
	size_t i, n = 0;

	fprintf(f, "\n  %s: %s in %llu block%s (inferred, confidence %.2f)\n",
		c == HEAPSCAN_DEFINITELY_LOST ? "Definitely lost" :
		c == HEAPSCAN_INDIRECTLY_LOST ? "Indirectly lost" :
		c == HEAPSCAN_POSSIBLY_LOST ? "Possibly lost" :
		"Still reachable",
		report_text_bytes(b, sizeof(b), st->class_bytes[c]),
		(unsigned long long)st->count[c],
		report_text_plural(st->count[c]),
		heapscan_class_confidence(c));
	for (i = 0; i < r->nr_leaks; i++) {
		if (r->leaks[i].reach[c].count)
			v[n++] = (struct by_class){ &r->leaks[i], i + 1 };
	}
	qsort_r(v, n, sizeof(*v), by_class_cmp, &c);
	for (i = 0; i < n; i++) {
		const struct report_count *rc = &v[i].s->reach[c];

		fprintf(f, "    %s in %llu block%s, of leak #%zu\n",
			report_text_bytes(b, sizeof(b), rc->bytes),
			(unsigned long long)rc->count,
			report_text_plural(rc->count), v[i].rank);
		report_text_frames(f, v[i].s->frames, v[i].s->nr_frames);
	}
}

static void print_cycles(const struct report *r, FILE *f)
{
	const struct report_reach *rr = &r->reach;
	char b[64];
	size_t i;
	__u32 k;

	fprintf(f, "\n  Leaked cycles (owner pointers among lost blocks, inferred): %llu cycle%s in %zu group%s\n",
		(unsigned long long)rr->stats.cycles,
		report_text_plural(rr->stats.cycles), rr->cycles_total,
		report_text_plural(rr->cycles_total));
	for (i = 0; i < rr->nr_cycles; i++) {
		const struct report_cycle *c = &rr->cycles[i];

		fprintf(f, "    #%zu  %llu cycle%s of %llu block%s each, %s\n",
			i + 1, (unsigned long long)c->instances,
			report_text_plural(c->instances),
			(unsigned long long)(c->blocks / c->instances),
			report_text_plural(c->blocks / c->instances),
			report_text_bytes(b, sizeof(b), c->bytes));
		for (k = 0; k < c->nr_members; k++) {
			fprintf(f, "      %u block%s each, %s in all, from\n",
				c->members[k].count,
				report_text_plural(c->members[k].count),
				report_text_bytes(b, sizeof(b),
						  c->members[k].bytes));
			report_text_frames(f, c->members[k].frames,
					   c->members[k].nr_frames);
		}
	}
	if (rr->cycles_total > rr->nr_cycles)
		fprintf(f, "    ... %zu more group%s in the JSON report\n",
			rr->cycles_total - rr->nr_cycles,
			report_text_plural(rr->cycles_total - rr->nr_cycles));
}

static void print_links(const struct report *r, FILE *f)
{
	const struct report_reach *rr = &r->reach;
	size_t i, n = rr->nr_links < TEXT_LINKS ? rr->nr_links : TEXT_LINKS;

	fprintf(f, "\n  Ownership graph (pointers between blocks by allocating site, inferred): %llu pointer%s, %zu link%s\n",
		(unsigned long long)rr->stats.edges,
		report_text_plural(rr->stats.edges), rr->links_total,
		report_text_plural(rr->links_total));
	for (i = 0; i < n; i++) {
		const struct report_link *l = &rr->links[i];

		fprintf(f, "    %llu %s (%s, %.2f): ",
			(unsigned long long)l->count,
			heapscan_edge_name(l->kind),
			heapscan_edge_rule(l->kind),
			heapscan_edge_confidence(l->kind));
		report_text_site(f, l->from, l->nr_from, 1);
		fputs(" -> ", f);
		report_text_site(f, l->to, l->nr_to, 1);
		fputc('\n', f);
	}
	if (rr->links_total > n)
		fprintf(f, "    ... %zu more in the JSON report\n",
			rr->links_total - n);
}

static void print_clones(const struct report *r, FILE *f)
{
	const struct report_reach *rr = &r->reach;
	size_t i, n = rr->nr_clones < TEXT_LINKS ? rr->nr_clones : TEXT_LINKS;

	fprintf(f, "\n  Clone candidates (blocks of one site and size with the same data, allocated within %llu ms, inferred, %.2f): %llu block%s in %zu group%s\n",
		(unsigned long long)(rr->stats.clone_window_ns / 1000000),
		heapscan_clone_confidence,
		(unsigned long long)rr->stats.clones,
		report_text_plural(rr->stats.clones), rr->clones_total,
		report_text_plural(rr->clones_total));
	for (i = 0; i < n; i++) {
		fprintf(f, "    %llu x %llu bytes: ",
			(unsigned long long)rr->clones[i].count,
			(unsigned long long)rr->clones[i].size);
		report_text_site(f, rr->clones[i].frames,
				 rr->clones[i].nr_frames, 1);
		fputc('\n', f);
	}
	if (rr->clones_total > n)
		fprintf(f, "    ... %zu more in the JSON report\n",
			rr->clones_total - n);
}

void report_text_reach(const struct report *r, FILE *f)
{
	const struct report_reach *rr = &r->reach;
	const struct heapscan_stats *st = &rr->stats;
	struct by_class *v;
	unsigned c;

	if (!rr->scanned)
		return;
	fprintf(f, "\nReachability (heap scan of %llu live block%s, memcheck's classes; %u thread%s stopped for %.3f ms, scan %.1f ms)\n",
		(unsigned long long)st->blocks, report_text_plural(st->blocks),
		rr->pause.threads, report_text_plural(rr->pause.threads),
		rr->pause.pause_ns / 1e6, st->scan_ns / 1e6);
	if (rr->pause.missed || st->unreadable || st->unreadable_ranges ||
	    rr->unscanned)
		fprintf(f, "  warning: %u thread%s not stopped, %llu block%s and %llu root segment%s unreadable, %llu leak block%s not scanned\n",
			rr->pause.missed, report_text_plural(rr->pause.missed),
			(unsigned long long)st->unreadable,
			report_text_plural(st->unreadable),
			(unsigned long long)st->unreadable_ranges,
			report_text_plural(st->unreadable_ranges),
			(unsigned long long)rr->unscanned,
			report_text_plural(rr->unscanned));
	v = calloc(r->nr_leaks ? r->nr_leaks : 1, sizeof(*v));
	if (!v)
		return;
	for (c = 0; c < HEAPSCAN_CLASS__COUNT; c++)
		print_class(r, f, c, v);
	free(v);
	print_cycles(r, f);
	print_links(r, f);
	print_clones(r, f);
}
