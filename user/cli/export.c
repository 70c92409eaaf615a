/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The reports of a store, live or replayed: the exporter table, writing
 * them, and `report FILE.msr`, which replays a recording into a fresh
 * store and reports on it exactly as the traced run did.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
		outfile__abort(of, 0);
	}
	return 0;
}

FILE *export_text(const struct opts *o)
{
	return o->stdout_taken ? stderr : stdout;
}

int export_snapshot(const struct growth_view *v, __u64 start_ns,
		    FILE *text, FILE *jsonl, frame_resolve_fn resolve,
		    void *resolve_ctx)
{
	report_snapshot_text(text, v, start_ns, resolve, resolve_ctx);
	fflush(text);
	return jsonl ? report_snapshot_json(jsonl, v, start_ns, resolve,
					    resolve_ctx) : 0;
}

static struct report_filter opts_filter(const struct opts *o)
{
	return (struct report_filter){
		.older_ns = o->older_ns,
		.min_size = o->min_size,
		.max_size = o->max_size,
	};
}

/*
 * The last ended images kept in memory beside the spill file: those whose
 * last stacks the recording names after their end record are among them.
 */
#define SPILL_KEEP	64

void export_spill(struct procs *pt)
{
	const char *dirs[] = { getenv("TMPDIR"), "/var/tmp", "/tmp" };
	const char *env = getenv("MEMSCOPE_SPILL_KEEP");
	size_t keep = SPILL_KEEP, i;
	char *end;

	/* the tests' knob: 0 spills every image at its end */
	if (env && *env) {
		keep = strtoul(env, &end, 10);
		if (*end)
			keep = SPILL_KEEP;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (dirs[i] && *dirs[i] &&
		    !procs__set_spill(pt, dirs[i], keep))
			return;
}

bool export_filter_pass(const struct store_block *b, __u64 end_ns, void *ctx)
{
	struct report_filter f = opts_filter(ctx);

	return report_filter_pass(&f, b, end_ns);
}

/*
 * The command line a report is of: the launched one, or for one attached
 * pid (whose header has none: it is read once the tool is in) that of the
 * pid's first image as the tool read it, so that a report of -p PID says
 * what it traced as one of -- CMD does. NULL when neither is known.
 */
static const char *target_command(const struct procs *pt,
				  const struct recording_info *info)
{
	size_t i, n = procs__nr_images(pt);

	if (info->command || !info->pid)
		return info->command;
	for (i = 0; i < n; i++) {
		const struct proc_image *im = procs__image(pt, i);

		if (im->info.pid == (__u32)info->pid)
			return im->command;
	}
	return NULL;
}

/*
 * A recording's header (info) and trailer (end) hold exactly what the
 * report needs beside the store, so the live run passes the same two.
 * Without a trailer (a cut recording) there are no kernel counters or
 * probes, the trace lasted at least until its last record, and drops are
 * the records the store refused.
 */
int export_reports(struct procs *pt, const struct growth_table *g,
		   const struct recording_info *info,
		   const struct recording_end *end, __u64 refused,
		   frame_resolve_fn resolve,
		   void *(*image_ctx)(void *ctx, size_t i), void *resolve_ctx,
		   const struct opts *o, const struct reach *reach,
		   size_t nr_reach)
{
	struct report_opts ro = {
		.top = o->top,
		.top_procs = o->top_procs,
		.fold = o->fold,
		.resolve = resolve,
		.resolve_ctx = resolve_ctx,
		.image_ctx = image_ctx,
		.rule_opts = o->rule_opts,
		.nr_rule_opts = RECORDING_RULE_OPTS,
		.growth_table = g,
		.filter = opts_filter(o),
		.folded_weight = o->folded_weight,
	};
	FILE *text = export_text(o);
	struct report_target tgt = {
		.pid = info->pid,
		.command = target_command(pt, info),
		.mode = info->mode,
		.start_ns = info->start_ns,
		/* alloc mode leaves the syscalls alone (user/capture/trace.c) */
		.anon_traced = info->version >= RECORDING_VERSION_ANON &&
			       info->mode != TRACE_MODE_ALLOC,
	};
	__u64 stop_ns = end ? end->end_ns : procs__summary(pt)->sum.last_ns;
	struct report_scan *scans = NULL;
	struct report *r;
	size_t k;
	int err, i, e;

	ro.rules = rules__table(&ro.nr_rules);
	if (nr_reach) {
		scans = calloc(nr_reach, sizeof(*scans));
		if (!scans) {
			cli_error("out of memory");
			return -ENOMEM;
		}
		for (k = 0; k < nr_reach; k++)
			scans[k] = (struct report_scan){
				.scan = reach[k].scan, .pause = reach[k].pause,
			};
		ro.scans = scans;
		ro.nr_scans = nr_reach;
	}
	if (stop_ns > info->start_ns)
		tgt.duration_ns = stop_ns - info->start_ns;
	if (end) {
		tgt.exited = end->exited;
		tgt.exit_status = end->exit_status;
		tgt.status_unknown = end->status_unknown;
		tgt.detached = end->detached;
		tgt.killed = end->killed;
	}
	r = report__build_procs(pt, &tgt, end ? &end->kernel : NULL,
				end ? end->probes : NULL,
				end ? end->nr_probes : 0, &ro);
	free(scans);
	if (!r) {
		cli_error("cannot build the report: %s", strerror(errno));
		return -ENOMEM;
	}
	r->consumer_drops = end ? end->consumer_drops : refused;
	r->procs_full = end ? end->procs_full : 0;
	r->max_procs = end ? end->max_procs : 0;
	err = report__write_text(r, text);
	fflush(text);
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
	struct procs *procs;
	__u64 refused;
	/* the recording's snapshots, taken again, and their lists */
	struct growth_table growth;
	size_t top;
	struct growth_view *views;
	size_t nr_views, cap_views;
	/* --from, --to: a snapshot at each (CLOCK_MONOTONIC), when asked */
	bool cut_asked;
	struct growth_table cut[2];
	__u64 cut_ns[2];
	/*
	 * report -i: snapshots taken here, every interval_ns from the start,
	 * of a recording that holds none (one that does: own_snapshots)
	 */
	struct growth_clock clock;
	bool own_snapshots;
	/* --reachability: each image's last recorded heap scan */
	struct reach *reach;
	size_t nr_reach;
	__u64 bad_scans;	/* naming what the records never held */
};

/*
 * A snapshot of each running image as the store is now, kept, frames and
 * all (an image that ends later compacts its store's), to be shown once
 * the symbols are all read.
 */
static int replay_take(struct replay *rp, const struct growth_mark *m)
{
	struct growth_view *v;
	size_t nr, i;
	int err;

	err = growth_table__take(&rp->growth, rp->procs, m);
	if (!err)
		err = growth_table__views(&rp->growth, rp->procs, rp->top, &v,
					  &nr);
	if (err)
		return err;
	for (i = 0; i < nr && !err; i++)
		err = growth_view__keep(&v[i]);
	if (err || tab_grow((void **)&rp->views, &rp->cap_views,
			    rp->nr_views + nr, sizeof(*rp->views))) {
		while (nr)
			growth_view__fini(&v[--nr]);
		free(v);
		return -ENOMEM;
	}
	memcpy(rp->views + rp->nr_views, v, nr * sizeof(*v));
	rp->nr_views += nr;
	free(v);
	return 0;
}

/*
 * report -i: the snapshots due before ts_ns (growth_clock). Their lost
 * events are the trailer's, checked to be 0 (finish_moments), so 0 at
 * every moment.
 */
static int replay_moments(struct replay *rp, __u64 ts_ns)
{
	struct growth_mark m = {};
	int err;

	while (growth_clock__due(&rp->clock, ts_ns, &m.ts_ns)) {
		err = replay_take(rp, &m);
		if (err)
			return err;
	}
	return 0;
}

/* As the live consumer does: a record the store refuses is counted. */
static int replay_event(void *ctx, const struct ms_event *e)
{
	struct replay *rp = ctx;
	struct growth_mark m = { .ts_ns = e->ts_ns };
	int i;

	if (replay_moments(rp, e->ts_ns))
		return -ENOMEM;
	/* A moment is the store before the first record at or after it. */
	for (i = 0; i < 2; i++) {
		if (!rp->cut_asked || rp->cut[i].taken ||
		    e->ts_ns < rp->cut_ns[i] || (i && !rp->cut[0].taken))
			continue;
		m.ts_ns = rp->cut_ns[i];
		if (growth_table__take(&rp->cut[i], rp->procs, &m))
			return -ENOMEM;
	}

	if (procs__apply(rp->procs, e))
		rp->refused++;
	return 0;
}

/*
 * At a recorded snapshot the process table holds what the live run's did:
 * the same snapshot, taken again.
 */
static int replay_snapshot(void *ctx, const struct recording_snapshot *s)
{
	struct replay *rp = ctx;
	struct growth_mark m = {
		.ts_ns = s->ts_ns,
		.lost_events = s->lost_events,
		.consumer_drops = s->consumer_drops,
	};

	/* -i on a recording made with it: refused once it is read */
	if (rp->clock.every_ns) {
		rp->own_snapshots = true;
		return 0;
	}
	return replay_take(rp, &m);
}

/* Whether a scan's image and every site it names are in the table. */
static bool scan_fits(const struct procs *pt, const struct recording_scan *sc)
{
	const struct heapscan_result *res = &sc->res;
	__u32 nr;
	size_t i, k;

	if (sc->image >= procs__nr_images(pt))
		return false;
	nr = store__nr_stacks(procs__image(pt, sc->image)->store);
	for (i = 0; i < res->nr_cycles; i++) {
		for (k = 0; k < res->cycles[i].nr_members; k++) {
			if (res->cycles[i].members[k].site >= nr)
				return false;
		}
	}
	for (i = 0; i < res->nr_links; i++) {
		if (res->links[i].from >= nr || res->links[i].to >= nr)
			return false;
	}
	for (i = 0; i < res->nr_clones; i++) {
		if (res->clones[i].site >= nr)
			return false;
	}
	return true;
}

/*
 * A recorded heap scan becomes its image's, replacing the one before, as
 * the live run's did: the report has the classes the live one had. One
 * that names an image or a site the records never held is left out,
 * counted.
 */
static int replay_scan(void *ctx, const struct recording_scan *sc)
{
	struct replay *rp = ctx;
	size_t cap = rp->nr_reach;
	int err;

	if (!scan_fits(rp->procs, sc)) {
		rp->bad_scans++;
		return 0;
	}
	if (sc->image >= rp->nr_reach) {
		if (tab_grow((void **)&rp->reach, &cap, sc->image + 1,
			     sizeof(*rp->reach)))
			return -ENOMEM;
		memset(rp->reach + rp->nr_reach, 0,
		       (sc->image + 1 - rp->nr_reach) * sizeof(*rp->reach));
		rp->nr_reach = sc->image + 1;
	}
	err = reach__restore(&rp->reach[sc->image], sc);
	if (err == -EINVAL) {
		rp->bad_scans++;
		return 0;
	}
	return err;
}

/* The snapshots as the live run showed them, or only --snapshot N. */
static int show_snapshots(struct replay *rp, struct recording *rec,
			  const struct opts *o)
{
	__u64 start_ns = recording__info(rec)->start_ns;
	struct outfile *of = NULL;
	size_t i;
	int err = 0;

	__u32 taken = rp->growth.taken;

	if (o->snapshot) {
		if (o->snapshot > taken) {
			cli_error("recording %s has %u snapshot%s, not %u%s",
				  o->recording, taken, taken == 1 ? "" : "s",
				  o->snapshot,
				  taken || o->interval_ns ? "" :
				  " (made without -i)");
			return -ENOENT;
		}
		/* The Nth snapshot of the trace: a view of each image in it. */
		for (i = 0; i < rp->nr_views; i++) {
			if (rp->views[i].index == o->snapshot)
				report_snapshot_text(export_text(o),
					&rp->views[i],
					start_ns, recording__resolve,
					recording__image_ctx(rec,
							     rp->views[i].proc));
		}
		return 0;
	}
	if (o->snapshots && !taken) {
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
		err = export_snapshot(&rp->views[i], start_ns, export_text(o),
				      of ? outfile__stream(of) : NULL,
				      recording__resolve,
				      recording__image_ctx(rec,
							   rp->views[i].proc));
	if (of && !err)
		err = outfile__commit(of);
	else if (of)
		err = outfile__abort(of, err);
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

/* Text (export_text), and -o and --html when given. 0 or -errno, said. */
static int write_diff(const struct diff *d, const char *from, const char *to,
		      const struct opts *o)
{
	FILE *text = export_text(o);
	int err = 0, e;

	report_diff_text(text, d, from, to, o->top);
	fflush(text);
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

/*
 * A recording's resolver for one image: the diff resolves the sides of
 * several images in turn, and the recording answers for one at a time.
 */
struct image_resolver {
	struct recording *rec;
	size_t image;
};

static unsigned resolve_image(void *ctx, __u64 addr, const struct frame **out)
{
	const struct image_resolver *ir = ctx;

	return recording__resolve(recording__image_ctx(ir->rec, ir->image),
				  addr, out);
}

/*
 * A moment of the trace (t's last snapshot) as diff sides: one for each
 * image in it, with its resolver. *sides and *irs malloc'd. 0 or -ENOMEM.
 */
static int moment_sides(const struct growth_table *t, const struct procs *pt,
			struct recording *rec, struct diff_side **sides,
			struct image_resolver **irs, size_t *nr)
{
	size_t i, n = 0;

	*sides = calloc(t->nr + 1, sizeof(**sides));
	*irs = calloc(t->nr + 1, sizeof(**irs));
	if (!*sides || !*irs)
		return -ENOMEM;
	for (i = 0; i < t->nr; i++) {
		if (t->last[i] != t->taken)
			continue;
		(*irs)[n] = (struct image_resolver){ rec, i };
		(*sides)[n] = (struct diff_side){
			growth__last(t->g[i]), procs__image(pt, i)->store,
			resolve_image, &(*irs)[n] };
		n++;
	}
	*nr = n;
	return 0;
}

/* What grew from the last snapshot of from to that of to. 0 or -errno. */
static int diff_tables(const struct growth_table *from,
		       const struct procs *from_pt, struct recording *from_rec,
		       const struct growth_table *to, const struct procs *to_pt,
		       struct recording *to_rec, struct diff *d)
{
	struct image_resolver *irs[2] = {};
	struct diff_side *sides[2] = {};
	size_t nr[2];
	int err, i;

	err = moment_sides(from, from_pt, from_rec, &sides[0], &irs[0], &nr[0]);
	if (!err)
		err = moment_sides(to, to_pt, to_rec, &sides[1], &irs[1],
				   &nr[1]);
	if (!err)
		err = diff__build(sides[0], nr[0], sides[1], nr[1], d);
	for (i = 0; i < 2; i++) {
		free(sides[i]);
		free(irs[i]);
	}
	return err;
}

/* --from/--to, once the recording is replayed. */
static int show_cut(struct replay *rp, struct recording *rec,
		    const struct opts *o)
{
	__u64 start = recording__info(rec)->start_ns;
	const struct recording_end *end = recording__end(rec);
	__u64 last = end ? end->end_ns : procs__summary(rp->procs)->sum.last_ns;
	struct growth_mark m = { .ts_ns = last };
	char a[32], b[32];
	struct diff d;
	int err, i;

	for (i = 0; i < 2; i++) {
		if (rp->cut[i].taken)
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
		err = growth_table__take(&rp->cut[i], rp->procs, &m);
		if (err) {
			cli_error("out of memory");
			return err;
		}
	}
	err = diff_tables(&rp->cut[0], rp->procs, rec, &rp->cut[1], rp->procs,
			  rec, &d);
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

/*
 * report -i, once the recording is read: the moments left before tracing
 * ended. Refused when the recording has snapshots of its own, or when it
 * is not known when its events were lost (0 in the trailer: 0 all along).
 */
static int finish_moments(struct replay *rp, struct recording *rec,
			  const struct opts *o)
{
	const struct recording_end *end = recording__end(rec);
	int err;

	if (!rp->clock.every_ns)
		return 0;
	if (rp->own_snapshots) {
		cli_error("recording %s was made with -i: report shows its own snapshots (--snapshot N one of them), without -i",
			  o->recording);
		return -EINVAL;
	}
	if (!end) {
		cli_error("recording %s is cut short: without its trailer, when events were lost is not known, and -i cannot say",
			  o->recording);
		return -EINVAL;
	}
	if (end->kernel.lost_events || end->consumer_drops) {
		cli_error("recording %s lost %llu events in the kernel and dropped %llu: when is not recorded, and -i cannot say",
			  o->recording,
			  (unsigned long long)end->kernel.lost_events,
			  (unsigned long long)end->consumer_drops);
		return -EINVAL;
	}
	err = replay_moments(rp, end->end_ns);
	if (err)
		cli_error("out of memory");
	return err;
}

/* A process's facts where the live run learnt them. */
static int replay_info(void *ctx, const struct procinfo *info)
{
	struct replay *rp = ctx;

	if (procs__set_info(rp->procs, info))
		rp->refused++;
	return 0;
}

/* What the live run knew of each image and records cannot carry. */
static int restore_procs(struct procs *pt, const struct recording *rec)
{
	const struct recording_proc *rp;
	size_t i, nr;
	int err;

	rp = recording__procs(rec, &nr);
	for (i = 0; i < nr; i++) {
		err = procs__restore(pt, i, rp[i].have_info ? &rp[i].info : NULL,
				     rp[i].have_kernel ? &rp[i].kernel : NULL);
		if (err)
			return err;
	}
	return 0;
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
	if (o->interval_ns && info->mode == TRACE_MODE_ALLOC) {
		cli_error("recording %s was made in --mode=alloc, without the frees -i needs for its live blocks",
			  o->recording);
		err = -EINVAL;
		goto out;
	}
	if (!o->top_given)
		o->top = info->top;
	/* an older recording's run folded nothing: 0, as it printed */
	if (!o->fold_given)
		o->fold = info->fold;
	/* Rules' options not given here are the traced run's: 0 never is. */
	for (i = 0; i < RECORDING_RULE_OPTS; i++) {
		if (!o->rule_opts[i])
			o->rule_opts[i] = info->rule_opts[i];
	}
	rp.procs = procs__new();
	rp.top = o->top;
	recording__on_snapshot(rec, replay_snapshot, &rp);
	recording__on_scan(rec, replay_scan, &rp);
	rp.cut_asked = o->from_given || o->to_given;
	rp.cut_ns[0] = info->start_ns + o->from_ns;
	rp.cut_ns[1] = o->to_given ? info->start_ns + o->to_ns : UINT64_MAX;
	growth_clock__init(&rp.clock, info->start_ns, o->interval_ns);
	if (!rp.procs) {
		err = -ENOMEM;
		cli_error("out of memory");
		goto out;
	}
	procs__set_filter(rp.procs, export_filter_pass, o);
	procs__set_max_stacks(rp.procs, o->max_stacks);
	export_spill(rp.procs);
	recording__on_info(rec, replay_info);
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
	if (rp.bad_scans)
		cli_error("recording %s: %llu heap scan%s naming a process image or a site its records do not hold, left out",
			  o->recording, (unsigned long long)rp.bad_scans,
			  rp.bad_scans == 1 ? "" : "s");
	err = restore_procs(rp.procs, rec);
	if (err) {
		cli_error("recording %s: its process facts do not match its records",
			  o->recording);
		goto out;
	}
	if (rp.cut_asked) {
		err = show_cut(&rp, rec, o);
		goto out;
	}
	err = finish_moments(&rp, rec, o);
	if (err)
		goto out;
	err = show_snapshots(&rp, rec, o);
	if (o->snapshot || err)
		goto out;
	err = export_reports(rp.procs, &rp.growth, info, recording__end(rec),
			     rp.refused, recording__resolve, recording__image_ctx,
			     rec, o, rp.reach, rp.nr_reach);
out:
	for (i = 0; i < (int)rp.nr_reach; i++)
		reach__release(&rp.reach[i]);
	free(rp.reach);
	for (i = 0; i < (int)rp.nr_views; i++)
		growth_view__fini(&rp.views[i]);
	free(rp.views);
	growth_table__fini(&rp.cut[0]);
	growth_table__fini(&rp.cut[1]);
	growth_table__fini(&rp.growth);
	procs__free(rp.procs);
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
	in->rp.procs = procs__new();
	if (!in->rp.procs) {
		cli_error("out of memory");
		return -ENOMEM;
	}
	export_spill(in->rp.procs);
	recording__on_info(in->rec, replay_info);
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
	m.ts_ns = procs__summary(in->rp.procs)->sum.last_ns;
	err = growth_table__take(&in->rp.growth, in->rp.procs, &m);
	if (err)
		cli_error("out of memory");
	return err;
}

int export_diff(struct opts *o)
{
	struct diff_input in[2] = {};
	struct diff d;
	int err = 0, i;

	if (export_check(o))
		return 1;
	for (i = 0; i < 2 && !err; i++)
		err = load(o->diff[i], &in[i]);
	if (err)
		goto out;
	err = diff_tables(&in[0].rp.growth, in[0].rp.procs, in[0].rec,
			  &in[1].rp.growth, in[1].rp.procs, in[1].rec, &d);
	if (err) {
		cli_error("cannot compare %s and %s: %s", o->diff[0],
			  o->diff[1], strerror(-err));
		goto out;
	}
	err = write_diff(&d, o->diff[0], o->diff[1], o);
	diff__fini(&d);
out:
	for (i = 0; i < 2; i++) {
		growth_table__fini(&in[i].rp.growth);
		procs__free(in[i].rp.procs);
		recording__free(in[i].rec);
	}
	return err || in[0].damaged || in[1].damaged ? 1 : 0;
}
