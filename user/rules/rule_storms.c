/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Clone storms: more than storm_clones shares of one block within any
 * window of storm_window_ns, found with a sliding window over the share
 * times; confidence c / (c + storm_clones) for c shares in the densest
 * window, so a storm just over the line is about 0.5. Each names the
 * stack most of its shares were made from.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analysis.h"
#include "json.h"
#include "report_json.h"
#include "report_text.h"
#include "rules.h"

enum {
	OPT_STORM_CLONES,
	OPT_STORM_WINDOW,
};

static const struct rule_option storm_opts[] = {
	[OPT_STORM_CLONES] = {
		.name = "storm-clones",
		.json = "storm_clones",
		.type = RULE_OPT_COUNT,
		.def = 16,
		.max = 1u << 30,
		.help =
"      --storm-clones N  more than N clones of one block ... (default 16)\n",
	},
	[OPT_STORM_WINDOW] = {
		.name = "storm-window",
		.json = "storm_window_ns",
		.type = RULE_OPT_SECS,
		.def = 100000000ull,
		.help =
"      --storm-window SEC  ... within this window are a storm (default 0.1)\n",
	},
};

static void *calloc_n(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static int share_ev_cmp(const void *pa, const void *pb)
{
	const struct declared_share_ev *a = pa, *b = pb;

	if (a->shared != b->shared)
		return a->shared < b->shared ? -1 : 1;
	return a->ts_ns < b->ts_ns ? -1 : a->ts_ns > b->ts_ns;
}

static int u32_cmp(const void *pa, const void *pb)
{
	__u32 a = *(const __u32 *)pa, b = *(const __u32 *)pb;

	return a < b ? -1 : a > b;
}

/* The stack most of n shares were made from: the loop that cloned. */
static int window_stack(const struct declared_share_ev *ev, size_t n,
			__u32 *stack_id)
{
	__u32 *ids = calloc_n(n, sizeof(*ids));
	size_t i, j, best = 0;

	if (!ids)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ids[i] = ev[i].stack_id;
	qsort(ids, n, sizeof(*ids), u32_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && ids[j] == ids[i]; j++)
			;
		if (j - i > best) {
			best = j - i;
			*stack_id = ids[i];
		}
	}
	free(ids);
	return 0;
}

/*
 * The densest window of each block's shares, sliding over their times,
 * and where most of its shares were made. ev is by block, then time.
 */
static int find_storms(const struct rule_input *in,
		       const struct declared_share_ev *ev, size_t n,
		       struct rule_storm *storms, size_t *nr)
{
	__u64 clones = in->opts[OPT_STORM_CLONES];
	__u64 window = in->opts[OPT_STORM_WINDOW];
	size_t i, lo, start, best, best_lo;
	struct rule_storm *s;
	int err;

	for (start = 0; start < n; start = i) {
		best = best_lo = 0;
		for (i = lo = start; i < n && ev[i].shared == ev[start].shared;
		     i++) {
			while (ev[i].ts_ns - ev[lo].ts_ns > window)
				lo++;
			if (i - lo + 1 > best) {
				best = i - lo + 1;
				best_lo = lo;
			}
		}
		if (best <= clones)
			continue;
		s = &storms[(*nr)++];
		s->f.rule = RULE_CLONE_STORM;
		s->f.confidence = (double)best / (best + clones);
		s->f.has_stack = true;
		s->shared = ev[start].shared;
		s->clones = best;
		s->start_ns = ev[best_lo].ts_ns;
		s->end_ns = ev[best_lo + best - 1].ts_ns;
		err = window_stack(ev + best_lo, best, &s->f.stack_id);
		if (err)
			return err;
	}
	return 0;
}

static int storms_infer(const struct rule_input *in, void **items,
			size_t *nr)
{
	const struct declared *d = store__declared(in->st);
	const struct declared_share_ev *log;
	struct declared_share_ev *ev;
	struct rule_storm *storms;
	size_t nlog;
	int err = -ENOMEM;

	nlog = declared__share_log(d, &log);
	/* At most one storm per shared block. */
	storms = calloc_n(declared__nr_shared(d), sizeof(*storms));
	ev = calloc_n(nlog, sizeof(*ev));
	if (!storms || !ev)
		goto out;
	if (nlog)
		memcpy(ev, log, nlog * sizeof(*ev));
	qsort(ev, nlog, sizeof(*ev), share_ev_cmp);
	err = find_storms(in, ev, nlog, storms, nr);
	if (err)
		goto out;
	*items = storms;
	storms = NULL;
out:
	free(ev);
	free(storms);
	return err;
}

static void storm_text(FILE *f, const struct report *r, const __u64 *opts,
		       const void *item, size_t i)
{
	const struct rule_storm *s = item;
	char span[32], at[32], win[32];

	(void)i;
	fputs("  ", f);
	report_text_shared(f, &r->shared[s->shared].s);
	fprintf(f, ": %llu shares within %s from %s (more than %llu in %s)\n",
		(unsigned long long)s->clones,
		report_text_secs(span, sizeof(span), s->end_ns - s->start_ns),
		report_text_secs(at, sizeof(at),
				 report__since_start(r, s->start_ns)),
		(unsigned long long)opts[OPT_STORM_CLONES],
		report_text_secs(win, sizeof(win), opts[OPT_STORM_WINDOW]));
	fprintf(f, REPORT_TEXT_INDENT "rule %s, confidence %.2f\n",
		s->f.rule, s->f.confidence);
	report_text_frames(f, s->f.frames, s->f.nr_frames);
}

static void storm_json(struct json *j, const struct report *r,
		       const void *item)
{
	const struct rule_storm *s = item;

	json_obj_begin(j);
	json_kv_str(j, "source", SOURCE_INFERRED);
	json_kv_str(j, "rule", s->f.rule);
	json_key(j, "confidence");
	json_double(j, s->f.confidence);
	json_kv_u64(j, "shared", s->shared);
	json_kv_addr(j, "ptr", r->shared[s->shared].s.ptr);
	json_kv_u64(j, "clones", s->clones);
	json_kv_u64(j, "start_ns", report__since_start(r, s->start_ns));
	json_kv_u64(j, "end_ns", report__since_start(r, s->end_ns));
	report_json_frames(j, s->f.frames, s->f.nr_frames);
	json_obj_end(j);
}

const struct rule rule_clone_storms = {
	.key = "storms",
	.title = "Clone storms (inferred)",
	.place = RULE_AFTER_SHARED,
	.opts = storm_opts,
	.nr_opts = sizeof(storm_opts) / sizeof(storm_opts[0]),
	.size = sizeof(struct rule_storm),
	.infer = storms_infer,
	.text = storm_text,
	.json = storm_json,
};
