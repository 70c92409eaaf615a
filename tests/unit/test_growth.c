/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Snapshots and growth verdicts (user/analysis/growth.c) on generated
 * programs: one site per pattern the verdicts tell apart, fed as records
 * through the store, a snapshot every second; and two processes through
 * a process table, each image with its own series.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include "growth.h"
#include "procs.h"
#include "report.h"
#include "report_json.h"
#include "builders.h"

#define SEC		1000000000ULL
#define STEPS		20

/* One site per pattern; the frame names the site. */
enum site { LEAK, CHURN_LEAK, STEADY, PLATEAU, SAWTOOTH, TEMPORARY, NSITES };

static const enum growth_pattern want[NSITES] = {
	[LEAK] = GROWTH_GROWING,	[CHURN_LEAK] = GROWTH_GROWING,
	[STEADY] = GROWTH_STEADY,	[PLATEAU] = GROWTH_PLATEAU,
	[SAWTOOTH] = GROWTH_SAWTOOTH,	[TEMPORARY] = GROWTH_TEMPORARY,
};

struct prog {
	struct store *st;
	struct growth *g;
	__u64 next_ptr, seq;
	unsigned int rnd;
	__u64 pool[100];	/* STEADY's blocks */
	__u64 saw[200];		/* SAWTOOTH's since its last batch */
	size_t nr_saw;
	__u64 churn[64];	/* CHURN_LEAK's live temporaries */
	unsigned int fill;	/* PLATEAU's seconds of filling */
};

static unsigned int rnd(struct prog *p)
{
	p->rnd = p->rnd * 1103515245u + 12345u;
	return p->rnd >> 8;
}

static __u64 alloc(struct prog *p, enum site s, __u64 size, __u64 ts)
{
	__u64 frame = 0x400000 + 0x100 * s, ptr = p->next_ptr += 0x1000;

	ev_alloc(p->st, ptr, size, ++p->seq, &frame, 1, ts);
	return ptr;
}

/* Second k of the program, then its snapshot at its end. */
static void second(struct prog *p, unsigned int k)
{
	__u64 t0 = k * SEC, ts, ptr;
	struct growth_mark m = { .ts_ns = t0 + SEC };
	unsigned int i;

	for (i = 0; i < 10; i++)
		alloc(p, LEAK, 128, t0 + i * SEC / 10);
	/* churn: a thousand short lives, one forgotten block a second */
	for (i = 0; i < 64; i++) {
		if (p->churn[i])
			ev_free(p->st, p->churn[i], t0 + i);
		p->churn[i] = 0;
	}
	for (i = 0; i < 1000; i++) {
		ts = t0 + 1000 + i * (SEC / 1000);
		ptr = alloc(p, CHURN_LEAK, 16 + rnd(p) % 4000, ts);
		if (i == 500)
			continue;	/* the leak */
		if (i >= 1000 - 64 && rnd(p) % 2)
			p->churn[i - (1000 - 64)] = ptr;	/* live at m */
		else
			ev_free(p->st, ptr, ts + 1000);
	}
	/* steady: a pool whose blocks are replaced at random */
	for (i = 0; i < 100; i++) {
		if (!k)
			p->pool[i] = alloc(p, STEADY, 512, t0);
	}
	for (i = 0; i < 40; i++) {
		size_t j = rnd(p) % 100;

		ts = t0 + SEC / 2 + i;
		ev_free(p->st, p->pool[j], ts);
		p->pool[j] = alloc(p, STEADY, 512, ts);
	}
	/* plateau: a cache filled in the first third of the run */
	for (i = 0; k < p->fill && i < 20; i++)
		alloc(p, PLATEAU, 256, t0 + i * SEC / 20);
	/* sawtooth: batches let go every fourth second */
	if (k % 4 == 3) {
		for (i = 0; i < p->nr_saw; i++)
			ev_free(p->st, p->saw[i], t0 + SEC / 3);
		p->nr_saw = 0;
	}
	for (i = 0; i < 30; i++)
		p->saw[p->nr_saw++] = alloc(p, SAWTOOTH, 1024,
					    t0 + SEC / 2 + i);
	for (i = 0; i < 100; i++) {
		ptr = alloc(p, TEMPORARY, 64, t0 + i * 1000);
		ev_free(p->st, ptr, t0 + i * 1000 + 500);
	}
	cr_assert_eq(growth__take(p->g, p->st, &m), 0);
}

/* The site a stack id is, by its one frame. */
static enum site site_of(const struct store *st, __u32 stack_id)
{
	struct store_site s;

	cr_assert_eq(store__site(st, stack_id, &s), 0);
	cr_assert_eq(s.nr_frames, 1);
	return (s.frames[0] - 0x400000) / 0x100;
}

static void run(struct prog *p, unsigned int steps)
{
	unsigned int k;

	p->st = store__new();
	p->g = growth__new();
	p->next_ptr = 0x10000000;
	p->rnd = 42;
	p->fill = steps / 3;
	cr_assert(p->st && p->g);
	for (k = 0; k < steps; k++)
		second(p, k);
}

static void done(struct prog *p)
{
	growth__free(p->g);
	store__free(p->st);
}

Test(growth, each_pattern_gets_its_verdict)
{
	static const char *const names[NSITES] = {
		"leak", "churn_leak", "steady", "plateau", "sawtooth",
		"temporary",
	};
	struct growth_verdict *vs;
	struct prog p = {};
	bool seen[NSITES] = {};
	size_t nr, i;
	enum site s;

	run(&p, STEPS);
	cr_assert_eq(growth__verdicts(p.g, &vs, &nr), 0);
	cr_assert_eq(nr, NSITES, "%zu verdicts, want one a site", nr);
	for (i = 0; i < nr; i++) {
		s = site_of(p.st, vs[i].stack_id);
		cr_assert_lt(s, NSITES);
		seen[s] = true;
		cr_expect_eq(vs[i].pattern, want[s], "%s: %s, want %s",
			     names[s], growth_pattern_name(vs[i].pattern),
			     growth_pattern_name(want[s]));
		cr_expect_eq(vs[i].snapshots, STEPS - 1, "%s", names[s]);
		if (want[s] == GROWTH_GROWING)
			cr_expect_geq(vs[i].confidence, 0.8,
				      "%s: confidence %.2f", names[s],
				      vs[i].confidence);
		else
			cr_expect_eq(vs[i].confidence, 0, "%s", names[s]);
	}
	for (s = 0; s < NSITES; s++)
		cr_expect(seen[s], "%s: no verdict", names[s]);
	/* growing first, the fast leak's rate in its own units */
	cr_expect_eq(vs[0].pattern, GROWTH_GROWING);
	cr_expect_eq(vs[1].pattern, GROWTH_GROWING);
	for (i = 0; i < 2; i++) {
		s = site_of(p.st, vs[i].stack_id);
		if (s == LEAK)
			cr_expect(vs[i].bytes_per_s > 1270 &&
				  vs[i].bytes_per_s < 1290 &&
				  vs[i].blocks_per_s > 9.9 &&
				  vs[i].blocks_per_s < 10.1,
				  "leak: %.1f B/s, %.2f blocks/s, want 1280, 10",
				  vs[i].bytes_per_s, vs[i].blocks_per_s);
		else
			cr_expect(vs[i].blocks_per_s > 0.99 &&
				  vs[i].blocks_per_s < 1.01,
				  "churn_leak: %.2f blocks/s, want 1",
				  vs[i].blocks_per_s);
	}
	free(vs);
	done(&p);
}

Test(growth, too_few_snapshots_give_no_verdict)
{
	struct growth_verdict *vs;
	struct prog p = {};
	size_t nr;

	run(&p, GROWTH_MIN_SNAPS);
	cr_assert_eq(growth__verdicts(p.g, &vs, &nr), 0);
	cr_expect_eq(nr, 0, "%zu verdicts from %d snapshots", nr,
		     GROWTH_MIN_SNAPS);
	free(vs);
	done(&p);
}

Test(growth, view_ranks_growth_since_previous_and_live)
{
	struct growth_view v;
	struct prog p = {};
	size_t i;

	run(&p, 8);
	cr_assert_eq(growth__view(p.g, p.st, 0, &v), 0);
	cr_expect_eq(v.index, 8);
	cr_expect_eq(v.ts_ns, 8 * SEC);
	cr_expect_eq(v.prev_ts_ns, 7 * SEC);
	/* second 7: the sawtooth's batches went (90 blocks), 30 came */
	for (i = 0; i < v.nr_since_prev; i++) {
		cr_expect_gt(v.since_prev[i].d_bytes, 0);
		if (i)
			cr_expect_geq(v.since_prev[i - 1].d_bytes,
				      v.since_prev[i].d_bytes);
		cr_expect_neq(site_of(p.st, v.since_prev[i].stack_id),
			      SAWTOOTH, "the sawtooth shrank in second 7");
		if (site_of(p.st, v.since_prev[i].stack_id) == LEAK)
			cr_expect(v.since_prev[i].d_bytes == 1280 &&
				  v.since_prev[i].d_blocks == 10 &&
				  v.since_prev[i].live_blocks == 80,
				  "leak: +%lld B, +%lld blocks, %llu live",
				  v.since_prev[i].d_bytes,
				  v.since_prev[i].d_blocks,
				  (unsigned long long)v.since_prev[i].live_blocks);
	}
	for (i = 1; i < v.nr_since_start; i++)
		cr_expect_geq(v.since_start[i - 1].live_bytes,
			      v.since_start[i].live_bytes);
	for (i = 0; i < v.nr_since_start; i++)
		cr_expect(v.since_start[i].nr_frames == 1 &&
			  v.since_start[i].frames[0] ==
			  0x400000 + 0x100 * site_of(p.st, v.since_start[i].stack_id),
			  "row %zu: the frames of its site", i);
	cr_expect_eq(v.live_blocks, store__summary(p.st)->live_allocs);
	growth_view__fini(&v);
	cr_assert_eq(growth__view(p.g, p.st, 2, &v), 0);
	cr_expect_leq(v.nr_since_prev, 2);
	cr_expect_eq(v.nr_since_start, 2);
	growth_view__fini(&v);
	done(&p);
}

/*
 * A recording's sizes are input (the fuzzer's case: a live total past
 * LLONG_MAX): a change is held within +-LLONG_MAX, the process's and
 * its site's alike.
 */
Test(growth, changes_past_long_long_are_held)
{
	struct store *st = store__new();
	struct growth *g = growth__new();
	struct growth_mark m = { .ts_ns = SEC };
	struct growth_view v;
	__u64 frame = 0x400000;

	cr_assert(st && g);
	ev_alloc(st, 0x1000, ~0ULL - 7, 1, &frame, 1, 1);
	cr_assert_eq(growth__take(g, st, &m), 0);
	cr_assert_eq(growth__view(g, st, 0, &v), 0);
	cr_expect_eq(v.d_bytes, LLONG_MAX);
	cr_assert_eq(v.nr_since_prev, 1);
	cr_expect_eq(v.since_prev[0].d_bytes, LLONG_MAX);
	growth_view__fini(&v);

	ev_free(st, 0x1000, SEC + 1);
	ev_alloc(st, 0x2000, 120, 2, &frame, 1, SEC + 2);
	m.ts_ns = 2 * SEC;
	cr_assert_eq(growth__take(g, st, &m), 0);
	cr_assert_eq(growth__view(g, st, 0, &v), 0);
	cr_expect_eq(v.live_bytes, 120);
	cr_expect_eq(v.d_bytes, -LLONG_MAX);
	cr_expect_eq(v.d_blocks, 0);
	growth_view__fini(&v);
	growth__free(g);
	store__free(st);
}

Test(growth, a_long_series_is_thinned_and_still_judged)
{
	struct growth_verdict *vs;
	struct prog p = {};
	size_t nr, i;

	run(&p, 3 * GROWTH_SERIES);
	cr_expect_eq(growth__count(p.g), 3 * GROWTH_SERIES);
	cr_expect_eq(growth__last(p.g)->index, 3 * GROWTH_SERIES);
	cr_assert_eq(growth__verdicts(p.g, &vs, &nr), 0);
	cr_assert_eq(nr, NSITES);
	for (i = 0; i < nr; i++) {
		cr_expect_lt(vs[i].snapshots, GROWTH_SERIES);
		cr_expect_eq(vs[i].pattern, want[site_of(p.st, vs[i].stack_id)],
			     "site %d: %s", site_of(p.st, vs[i].stack_id),
			     growth_pattern_name(vs[i].pattern));
	}
	free(vs);
	done(&p);
}

/*
 * The model and its text and JSON: suspects are the growing verdicts,
 * first in the text (before the leaks) and in JSON, inferred with rule.
 */
Test(growth, suspects_lead_the_report)
{
	struct report_target tgt = { .pid = 4242, .mode = TRACE_MODE_DEFAULT };
	struct report_opts ro = { .top = 10 };
	struct prog p = {};
	struct report *r;
	char *text = NULL, *json = NULL, *sus, *leaks;
	size_t len, i;
	FILE *f;

	run(&p, STEPS);
	ro.growth = p.g;
	r = report__build(p.st, &tgt, NULL, NULL, 0, &ro);
	cr_assert_not_null(r);
	cr_expect_eq(r->snapshots, STEPS);
	cr_expect_eq(r->nr_growth, NSITES);
	cr_expect_eq(r->nr_suspects, 2, "suspects: %zu, want the two leaks",
		     r->nr_suspects);
	for (i = 0; i < r->nr_suspects; i++)
		cr_expect(r->growth[i].v.pattern == GROWTH_GROWING &&
			  r->growth[i].nr_frames == 1,
			  "suspect %zu: growing, its frame resolved", i);
	f = open_memstream(&text, &len);
	cr_assert_eq(report__write_text(r, f), 0);
	fclose(f);
	sus = strstr(text, "\nLeak suspects by growth (inferred, rule old_blocks_growth, over 20 snapshots)\n#1  growing ");
	leaks = strstr(text, "\nTop leaking call sites");
	cr_expect(sus && leaks && sus < leaks,
		  "text: the suspects section before the leaks:\n%s", text);
	cr_expect(strstr(text, "  other sites: 1 plateau, 1 sawtooth, 1 steady, 1 temporary\n"),
		  "text: the other sites' patterns counted:\n%s", text);
	f = open_memstream(&json, &len);
	cr_assert_eq(report__json_stream(r, f, false), 0);
	fclose(f);
	sus = strstr(json, "\"suspects\":[{\"source\":\"inferred\",\"rule\":\"old_blocks_growth\",\"pattern\":\"growing\"");
	leaks = strstr(json, "\"leaks\":");
	cr_expect(sus && leaks && sus < leaks, "JSON: suspects, inferred, before leaks");
	cr_expect(strstr(json, "\"growth\":{\"snapshots\":20,\"min_snapshots\":6,\"sites\":["),
		  "JSON: the growth member");
	free(text);
	free(json);
	report__free(r);
	done(&p);
}

/* pid allocates size at ptr from the one-frame stack pc. */
static void proc_alloc(struct procs *pt, __u32 pid, __u64 ptr, __u64 pc,
		       __u64 ts)
{
	struct ms_event e = ev_rec(MS_EV_ALLOC, ts);

	e.pid = pid;
	e.tid = pid;
	e.ptr = ptr;
	e.size = 100;
	ev_stack(&e, &pc, 1);
	cr_assert_eq(procs__apply(pt, &e), 0);
}

/*
 * Two processes at the same address: pid 100 leaks 10 blocks a second
 * for the whole trace, pid 200 comes at second 3, leaks one a second and
 * exits in second 12. Each image gets its own series (the exited one's
 * ends with it), the views of a snapshot name their image, a view kept
 * outlives its image's end (which compacts its store's frames), and the
 * report lists both suspects, each naming its process.
 */
Test(growth, two_processes_each_their_own_series)
{
	struct report_target tgt = { .pid = 100, .mode = TRACE_MODE_DEFAULT };
	struct growth_table t = {};
	struct report_opts ro = { .top = 10, .growth_table = &t };
	struct procs *pt = procs__new();
	struct growth_mark m = {};
	struct growth_view *v, kept = {};
	struct ms_event e;
	struct report *r;
	__u64 ptr = 0x10000000;
	char *text = NULL;
	size_t nr, len, i;
	unsigned int k;
	FILE *f;

	cr_assert_not_null(pt);
	for (k = 0; k < STEPS; k++) {
		for (i = 0; i < 10; i++)
			proc_alloc(pt, 100, ptr += 0x1000, 0x400000,
				   k * SEC + i * SEC / 10);
		if (k >= 3 && k < 12)
			proc_alloc(pt, 200, ptr += 0x1000, 0x400000,
				   k * SEC + SEC / 2);
		if (k == 12) {
			e = ev_proc(MS_EV_PROC_EXIT, 200, 0, NULL, NULL,
				    k * SEC + SEC / 2);
			cr_assert_eq(procs__apply(pt, &e), 0);
		}
		m.ts_ns = (k + 1) * SEC;
		cr_assert_eq(growth_table__take(&t, pt, &m), 0);
		cr_assert_eq(growth_table__views(&t, pt, 0, &v, &nr), 0);
		cr_expect_eq(nr, k >= 3 && k < 12 ? 2 : 1,
			     "snapshot %u: %zu views", k + 1, nr);
		for (i = 0; i < nr; i++) {
			if (k == 5 && v[i].proc == 1) {
				cr_assert_eq(growth_view__keep(&v[i]), 0);
				kept = v[i];
				continue;
			}
			cr_expect(v[i].index == k + 1 &&
				  v[i].named == (k >= 3) &&
				  v[i].pid == (v[i].proc ? 200 : 100),
				  "snapshot %u, view %zu: index %u, image %u, pid %u",
				  k + 1, i, v[i].index, v[i].proc, v[i].pid);
			growth_view__fini(&v[i]);
		}
		free(v);
	}
	cr_assert_eq(kept.nr_since_start, 1);
	cr_expect(kept.since_start[0].nr_frames == 1 &&
		  kept.since_start[0].frames[0] == 0x400000 &&
		  kept.since_start[0].live_blocks == 3,
		  "a kept view after its image ended: its own frames");
	growth_view__fini(&kept);
	cr_expect_eq(t.taken, STEPS);
	cr_expect_eq(growth__count(growth_table__image(&t, 0)), STEPS);
	cr_expect_eq(growth__count(growth_table__image(&t, 1)), 9,
		     "the exited image's series ends with it");
	r = report__build_procs(pt, &tgt, NULL, NULL, 0, &ro);
	cr_assert_not_null(r);
	cr_assert_eq(r->nr_procs, 2);
	cr_expect_eq(r->snapshots, STEPS);
	cr_expect_eq(r->procs[0].r->snapshots, STEPS);
	cr_expect_eq(r->procs[1].r->snapshots, 9);
	cr_assert_eq(r->nr_suspects, 2, "suspects: %zu, want each leak",
		     r->nr_suspects);
	/* 10 blocks a second, confidently, before 1 a second */
	cr_expect(r->growth[0].proc == 0 && r->growth[1].proc == 1 &&
		  r->growth[0].v.blocks_per_s > 9.9 &&
		  r->growth[1].v.blocks_per_s > 0.99 &&
		  r->growth[1].v.blocks_per_s < 1.01,
		  "suspects: image %u at %.2f blocks/s, image %u at %.2f",
		  r->growth[0].proc, r->growth[0].v.blocks_per_s,
		  r->growth[1].proc, r->growth[1].v.blocks_per_s);
	f = open_memstream(&text, &len);
	cr_assert_eq(report__write_text(r, f), 0);
	fclose(f);
	cr_expect(strstr(text, "\nLeak suspects by growth (inferred, rule old_blocks_growth, over 20 snapshots)\n") &&
		  strstr(text, "    in pid 100 ") && strstr(text, "    in pid 200 "),
		  "text: both suspects, each naming its process:\n%s", text);
	cr_expect(strstr(text, "Leak suspects") < strstr(text, "\nProcesses (captured)"),
		  "text: the suspects before the process table:\n%s", text);
	free(text);
	report__free(r);
	growth_table__fini(&t);
	procs__free(pt);
}
