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
#include "outfile.h"
#include "report.h"
#include "rules.h"

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
static struct report_filter opts_filter(const struct opts *o)
{
	return (struct report_filter){
		.older_ns = o->older_ns,
		.min_size = o->min_size,
		.max_size = o->max_size,
	};
}

bool export_filter_pass(const struct store_block *b, __u64 end_ns, void *ctx)
{
	struct report_filter f = opts_filter(ctx);

	return report_filter_pass(&f, b, end_ns);
}

int export_reports(const struct procs *pt, const struct recording_info *info,
		   const struct recording_end *end, __u64 refused,
		   frame_resolve_fn resolve,
		   void *(*image_ctx)(void *ctx, size_t i), void *resolve_ctx,
		   const struct opts *o)
{
	struct report_opts ro = {
		.top = o->top,
		.top_procs = o->top_procs,
		.resolve = resolve,
		.resolve_ctx = resolve_ctx,
		.image_ctx = image_ctx,
		.rule_opts = o->rule_opts,
		.nr_rule_opts = RECORDING_RULE_OPTS,
		.filter = opts_filter(o),
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
	__u64 stop_ns = end ? end->end_ns : procs__summary(pt)->sum.last_ns;
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
	r = report__build_procs(pt, &tgt, end ? &end->kernel : NULL,
				end ? end->probes : NULL,
				end ? end->nr_probes : 0, &ro);
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
	struct procs *procs;
	__u64 refused;
};

/* As the live consumer does: a record the store refuses is counted. */
static int replay_event(void *ctx, const struct ms_event *e)
{
	struct replay *rp = ctx;

	if (procs__apply(rp->procs, e))
		rp->refused++;
	return 0;
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
	if (!o->top_given)
		o->top = info->top;
	/* Rules' options not given here are the traced run's: 0 never is. */
	for (i = 0; i < RECORDING_RULE_OPTS; i++) {
		if (!o->rule_opts[i])
			o->rule_opts[i] = info->rule_opts[i];
	}
	rp.procs = procs__new();
	if (!rp.procs) {
		err = -ENOMEM;
		cli_error("out of memory");
		goto out;
	}
	procs__set_filter(rp.procs, export_filter_pass, o);
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
	err = restore_procs(rp.procs, rec);
	if (err) {
		cli_error("recording %s: its process facts do not match its records",
			  o->recording);
		goto out;
	}
	err = export_reports(rp.procs, info, recording__end(rec), rp.refused,
			     recording__resolve, recording__image_ctx, rec, o);
out:
	procs__free(rp.procs);
	recording__free(rec);
	return err || damaged ? 1 : 0;
}
