/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The reports of a store, live or replayed: the exporter table, writing
 * them, and `report FILE.msr`, which replays a recording into a fresh
 * store and reports on it exactly as the traced run did.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "export.h"
#include <stdlib.h>
#include "diff.h"
#include "outfile.h"
#include "report.h"
#include "report_growth.h"
#include "rules.h"
#include "table.h"

static int (*const exporters[EXPORT__COUNT])(const struct report *,
					     const char *) = {
	[EXPORT_JSON] = report__write_json,
	[EXPORT_HTML] = report__write_html,
	[EXPORT_PPROF] = report__write_pprof,
	[EXPORT_FOLDED] = report__write_folded,
};

int export_check(const struct opts *o)
{
	struct outfile *of;
	int i, err;

	for (i = 0; i < EXPORT__COUNT; i++) {
		if (!o->exports[i])
			continue;
		of = outfile__new(o->exports[i]);
		if (!of) {
			err = -errno;
			cli_error("cannot write %s: %s", o->exports[i],
				  strerror(-err));
			return err;
		}
		outfile__abort(of);
	}
	return 0;
}

/*
 * A recording's header (info) and trailer (end) hold exactly what the
 * report needs beside the store, so the live run passes the same two.
 * Without a trailer (a cut recording) there are no kernel counters or
 * probes, the trace lasted at least until its last record, and drops are
 * the records the store refused.
 */
int export_snapshot(const struct growth_view *v, __u64 start_ns,
		    FILE *jsonl, frame_resolve_fn resolve, void *resolve_ctx)
{
	report_snapshot_text(stdout, v, start_ns, resolve, resolve_ctx);
	fflush(stdout);
	return jsonl ? report_snapshot_json(jsonl, v, start_ns, resolve,
					    resolve_ctx) : 0;
}

int export_reports(const struct store *st, const struct growth *g,
		   const struct recording_info *info,
		   const struct recording_end *end, __u64 refused,
		   frame_resolve_fn resolve, void *resolve_ctx,
		   const struct opts *o)
{
	struct report_opts ro = {
		.top = o->top,
		.resolve = resolve,
		.resolve_ctx = resolve_ctx,
		.rule_opts = o->rule_opts,
		.nr_rule_opts = RECORDING_RULE_OPTS,
		.growth = g,
		.filter = {
			.older_ns = o->older_ns,
			.min_size = o->min_size,
			.max_size = o->max_size,
		},
	};
	struct report_target tgt = {
		.pid = info->pid,
		.command = info->command,
		.mode = info->mode,
		.start_ns = info->start_ns,
		/* alloc mode leaves the syscalls alone (user/capture/trace.c) */
		.anon_traced = info->version >= RECORDING_VERSION_ANON &&
			       info->mode != TRACE_MODE_ALLOC,
	};
	__u64 stop_ns = end ? end->end_ns : store__summary(st)->last_ns;
	struct report *r;
	int err, i, e;

	ro.rules = rules__table(&ro.nr_rules);
	if (stop_ns > info->start_ns)
		tgt.duration_ns = stop_ns - info->start_ns;
	if (end) {
		tgt.exited = end->exited;
		tgt.exit_status = end->exit_status;
		tgt.detached = end->detached;
		tgt.killed = end->killed;
	}
	r = report__build(st, &tgt, end ? &end->kernel : NULL,
			  end ? end->probes : NULL, end ? end->nr_probes : 0,
			  &ro);
	if (!r) {
		cli_error("cannot build the report: %s", strerror(errno));
		return -ENOMEM;
	}
	r->consumer_drops = end ? end->consumer_drops : refused;
	err = report__write_text(r, stdout);
	fflush(stdout);
	for (i = 0; i < EXPORT__COUNT; i++) {
		if (!o->exports[i])
			continue;
		e = exporters[i](r, o->exports[i]);
		if (e)
			cli_error("cannot write %s: %s", o->exports[i],
				  strerror(-e));
		if (!err)
			err = e;
	}
	report__free(r);
	return err;
}

struct replay {
	struct store *store;
	__u64 refused;
	/* the recording's snapshots, taken again, and their lists */
	struct growth *growth;
	size_t top;
	struct growth_view *views;
	size_t nr_views, cap_views;
	/* --from, --to: a snapshot at each (CLOCK_MONOTONIC), NULL unasked */
	struct growth *cut[2];
	__u64 cut_ns[2];
	int cut_err;
};

/* As the live consumer does: a record the store refuses is counted. */
static int replay_event(void *ctx, const struct ms_event *e)
{
	struct replay *rp = ctx;
	struct growth_mark m = { .ts_ns = e->ts_ns };
	int i;

	/* A moment is the store before the first record at or after it. */
	for (i = 0; i < 2; i++) {
		if (!rp->cut[i] || growth__count(rp->cut[i]) ||
		    e->ts_ns < rp->cut_ns[i] || (i && !growth__count(rp->cut[0])))
			continue;
		m.ts_ns = rp->cut_ns[i];
		if (growth__take(rp->cut[i], rp->store, &m))
			return -ENOMEM;
	}

	if (store__apply(rp->store, e))
		rp->refused++;
	return 0;
}

/*
 * At a recorded snapshot the store holds what the live run's did: the
 * same snapshot, kept to be shown once the symbols are all read.
 */
static int replay_snapshot(void *ctx, const struct recording_snapshot *s)
{
	struct replay *rp = ctx;
	struct growth_mark m = {
		.ts_ns = s->ts_ns,
		.lost_events = s->lost_events,
		.consumer_drops = s->consumer_drops,
	};
	int err;

	if (tab_grow((void **)&rp->views, &rp->cap_views, rp->nr_views + 1,
		     sizeof(*rp->views)))
		return -ENOMEM;
	err = growth__take(rp->growth, rp->store, &m);
	if (!err)
		err = growth__view(rp->growth, rp->store, rp->top,
				   &rp->views[rp->nr_views]);
	if (err)
		return err;
	rp->nr_views++;
	return 0;
}

/* The snapshots as the live run showed them, or only --snapshot N. */
static int show_snapshots(struct replay *rp, struct recording *rec,
			  const struct opts *o)
{
	__u64 start_ns = recording__info(rec)->start_ns;
	struct outfile *of = NULL;
	size_t i;
	int err = 0;

	if (o->snapshot) {
		if (o->snapshot > rp->nr_views) {
			cli_error("recording %s has %zu snapshot%s, not %u%s",
				  o->recording, rp->nr_views,
				  rp->nr_views == 1 ? "" : "s", o->snapshot,
				  rp->nr_views ? "" : " (made without -i)");
			return -ENOENT;
		}
		report_snapshot_text(stdout, &rp->views[o->snapshot - 1],
				     start_ns, recording__resolve, rec);
		return 0;
	}
	if (o->snapshots && !rp->nr_views) {
		cli_error("recording %s has no snapshots (made without -i): nothing for --snapshots",
			  o->recording);
		return -ENOENT;
	}
	if (o->snapshots) {
		of = outfile__new(o->snapshots);
		if (!of) {
			err = -errno;
			cli_error("cannot write %s: %s", o->snapshots,
				  strerror(-err));
			return err;
		}
	}
	for (i = 0; i < rp->nr_views && !err; i++)
		err = export_snapshot(&rp->views[i], start_ns,
				      of ? outfile__stream(of) : NULL,
				      recording__resolve, rec);
	if (of && !err)
		err = outfile__commit(of);
	else if (of)
		outfile__abort(of);
	if (err)
		cli_error("cannot write %s: %s", o->snapshots, strerror(-err));
	return err;
}

/* A moment for people: "12.500 s", or the file's name. */
static const char *moment(char *buf, size_t size, __u64 ns)
{
	snprintf(buf, size, "%llu.%03llu s",
		 (unsigned long long)(ns / 1000000000ull),
		 (unsigned long long)(ns % 1000000000ull / 1000000));
	return buf;
}

/* Text on stdout, and -o and --html when given. 0 or -errno, said. */
static int write_diff(const struct diff *d, const char *from, const char *to,
		      const struct opts *o)
{
	int err = 0, e;

	report_diff_text(stdout, d, from, to, o->top);
	fflush(stdout);
	if (o->exports[EXPORT_JSON]) {
		err = report_diff_json(o->exports[EXPORT_JSON], d, from, to);
		if (err)
			cli_error("cannot write %s: %s", o->exports[EXPORT_JSON],
				  strerror(-err));
	}
	if (o->exports[EXPORT_HTML]) {
		e = report_diff_html(o->exports[EXPORT_HTML], d, from, to);
		if (e)
			cli_error("cannot write %s: %s", o->exports[EXPORT_HTML],
				  strerror(-e));
		if (!err)
			err = e;
	}
	return err;
}

/* --from/--to, once the recording is replayed. */
static int show_cut(struct replay *rp, struct recording *rec,
		    const struct opts *o)
{
	__u64 start = recording__info(rec)->start_ns;
	const struct recording_end *end = recording__end(rec);
	__u64 last = end ? end->end_ns : store__summary(rp->store)->last_ns;
	struct growth_mark m = { .ts_ns = last };
	char a[32], b[32];
	struct diff_side from, to;
	struct diff d;
	int err, i;

	for (i = 0; i < 2; i++) {
		if (growth__count(rp->cut[i]))
			continue;
		if (!i && o->from_given && rp->cut_ns[0] > last) {
			cli_error("--from %s is past the end of recording %s (%s)",
				  moment(a, sizeof(a), o->from_ns), o->recording,
				  moment(b, sizeof(b), last > start ?
					 last - start : 0));
			return -ERANGE;
		}
		/* Not reached: the moment is the end of the recording. */
		if (i)
			rp->cut_ns[1] = last > rp->cut_ns[0] ? last : rp->cut_ns[0];
		m.ts_ns = rp->cut_ns[i];
		err = growth__take(rp->cut[i], rp->store, &m);
		if (err) {
			cli_error("out of memory");
			return err;
		}
	}
	from = (struct diff_side){ growth__last(rp->cut[0]), rp->store,
				   recording__resolve, rec };
	to = (struct diff_side){ growth__last(rp->cut[1]), rp->store,
				 recording__resolve, rec };
	err = diff__build(&from, &to, &d);
	if (err) {
		cli_error("cannot compare the two moments: %s", strerror(-err));
		return err;
	}
	moment(a, sizeof(a), rp->cut_ns[0] - start);
	moment(b, sizeof(b), rp->cut_ns[1] - start);
	err = write_diff(&d, a, b, o);
	diff__fini(&d);
	return err;
}

int export_replay(struct opts *o)
{
	struct replay rp = {};
	const struct recording_info *info;
	const struct recording_damage *dmg;
	struct recording *rec;
	bool damaged = false;
	FILE *f;
	int err, i;

	if (export_check(o))
		return 1;
	f = fopen(o->recording, "rb");
	rec = f ? recording__new(f) : NULL;
	if (!rec) {
		cli_error("cannot read recording %s: %s", o->recording,
			  strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	err = recording__read_header(rec);
	if (err) {
		cli_error("cannot read recording %s: %s", o->recording,
			  recording__error(rec));
		goto out;
	}
	info = recording__info(rec);
	if (!o->top_given)
		o->top = info->top;
	/* Rules' options not given here are the traced run's: 0 never is. */
	for (i = 0; i < RECORDING_RULE_OPTS; i++) {
		if (!o->rule_opts[i])
			o->rule_opts[i] = info->rule_opts[i];
	}
	rp.store = store__new();
	rp.growth = growth__new();
	rp.top = o->top;
	recording__on_snapshot(rec, replay_snapshot, &rp);
	if (o->from_given || o->to_given) {
		rp.cut[0] = growth__new();
		rp.cut[1] = growth__new();
		rp.cut_ns[0] = info->start_ns + o->from_ns;
		rp.cut_ns[1] = o->to_given ? info->start_ns + o->to_ns :
					     UINT64_MAX;
		if (!rp.cut[0] || !rp.cut[1]) {
			err = -ENOMEM;
			cli_error("out of memory");
			goto out;
		}
	}
	if (!rp.store || !rp.growth) {
		err = -ENOMEM;
		cli_error("out of memory");
		goto out;
	}
	err = recording__replay(rec, replay_event, &rp);
	if (err == -EBADMSG) {
		dmg = recording__damage(rec);
		cli_error("recording %s is damaged at byte %llu: %s; reporting the %llu record%s before it",
			  o->recording, (unsigned long long)dmg->offset,
			  dmg->what, (unsigned long long)dmg->records,
			  dmg->records == 1 ? "" : "s");
		damaged = true;
	} else if (err) {
		cli_error("cannot read recording %s: %s", o->recording,
			  strerror(-err));
		goto out;
	}
	if (rp.cut[0]) {
		err = show_cut(&rp, rec, o);
		goto out;
	}
	err = show_snapshots(&rp, rec, o);
	if (o->snapshot || err)
		goto out;
	err = export_reports(rp.store, rp.growth, info, recording__end(rec),
			     rp.refused, recording__resolve, rec, o);
out:
	for (i = 0; i < (int)rp.nr_views; i++)
		growth_view__fini(&rp.views[i]);
	free(rp.views);
	growth__free(rp.cut[0]);
	growth__free(rp.cut[1]);
	growth__free(rp.growth);
	store__free(rp.store);
	recording__free(rec);
	return err || damaged ? 1 : 0;
}

/* One recording of a diff, replayed to its end. */
struct diff_input {
	struct recording *rec;
	struct replay rp;
	bool damaged;
};

static int load(const char *path, struct diff_input *in)
{
	const struct recording_damage *dmg;
	struct growth_mark m = {};
	FILE *f = fopen(path, "rb");
	int err;

	in->rec = f ? recording__new(f) : NULL;
	if (!in->rec) {
		cli_error("cannot read recording %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -EINVAL;
	}
	err = recording__read_header(in->rec);
	if (err) {
		cli_error("cannot read recording %s: %s", path,
			  recording__error(in->rec));
		return err;
	}
	in->rp.store = store__new();
	in->rp.growth = growth__new();
	if (!in->rp.store || !in->rp.growth) {
		cli_error("out of memory");
		return -ENOMEM;
	}
	err = recording__replay(in->rec, replay_event, &in->rp);
	if (err == -EBADMSG) {
		dmg = recording__damage(in->rec);
		cli_error("recording %s is damaged at byte %llu: %s; comparing the %llu record%s before it",
			  path, (unsigned long long)dmg->offset, dmg->what,
			  (unsigned long long)dmg->records,
			  dmg->records == 1 ? "" : "s");
		in->damaged = true;
	} else if (err) {
		cli_error("cannot read recording %s: %s", path,
			  strerror(-err));
		return err;
	}
	m.ts_ns = store__summary(in->rp.store)->last_ns;
	err = growth__take(in->rp.growth, in->rp.store, &m);
	if (err)
		cli_error("out of memory");
	return err;
}

int export_diff(struct opts *o)
{
	struct diff_input in[2] = {};
	struct diff_side side[2];
	struct diff d;
	int err = 0, i;

	if (export_check(o))
		return 1;
	for (i = 0; i < 2 && !err; i++)
		err = load(o->diff[i], &in[i]);
	if (err)
		goto out;
	for (i = 0; i < 2; i++)
		side[i] = (struct diff_side){ growth__last(in[i].rp.growth),
					      in[i].rp.store,
					      recording__resolve, in[i].rec };
	err = diff__build(&side[0], &side[1], &d);
	if (err) {
		cli_error("cannot compare %s and %s: %s", o->diff[0],
			  o->diff[1], strerror(-err));
		goto out;
	}
	err = write_diff(&d, o->diff[0], o->diff[1], o);
	diff__fini(&d);
out:
	for (i = 0; i < 2; i++) {
		growth__free(in[i].rp.growth);
		store__free(in[i].rp.store);
		recording__free(in[i].rec);
	}
	return err || in[0].damaged || in[1].damaged ? 1 : 0;
}
