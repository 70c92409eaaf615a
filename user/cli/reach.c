// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "clock.h"
#include "cli.h"
#include "procinfo_read.h"
#include "reach.h"

/*
 * Why a scan could not stop the process: ptrace takes one tracer, so a
 * debugger or strace on it refuses us; named from /proc, not guessed.
 */
static void why_not(int pid, int err)
{
	struct procinfo t;
	__u32 tracer = 0;
	char *c;

	if (err == -EPERM && !procinfo_read_task(pid, NULL, NULL, &tracer) &&
	    tracer && !procinfo_read(tracer, 0, &t) &&
	    !(t.flags & PROCINFO_GONE)) {
		/* Its name is its own: no control bytes reach the terminal. */
		for (c = t.comm; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		cli_error("cannot scan the heap of pid %d: pid %u (%s) traces it, and a process has one tracer",
			  pid, tracer, t.comm);
		return;
	}
	cli_error("cannot scan the heap of pid %d: %s", pid, strerror(-err));
}

/* The scan being filled, and its moment: each block's age from it. */
struct adding {
	struct heapscan *h;
	__u64 now_ns;
};

static int add_block(const struct store_block *b, void *ctx)
{
	const struct adding *a = ctx;

	return heapscan__add(a->h, b->ptr, b->size, b->stack_id,
			     a->now_ns > b->ts_ns ? a->now_ns - b->ts_ns : 0);
}

/* The roots as the scan takes them: the same fields, one stage later. */
static int scan_roots(struct heapscan *h, struct heaproots *hr)
{
	const struct heaproots_range *rg;
	const struct heaproots_buf *hb;
	struct heapscan_roots roots = {
		.read = heaproots__read, .ctx = hr,
	};
	struct heapscan_range *ranges;
	struct heapscan_buf *bufs;
	size_t i, nb, nr;
	int err;

	nb = heaproots__bufs(hr, &hb);
	nr = heaproots__ranges(hr, &rg);
	bufs = calloc(nb ? nb : 1, sizeof(*bufs));
	ranges = calloc(nr ? nr : 1, sizeof(*ranges));
	if (!bufs || !ranges) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nb; i++)
		bufs[i] = (struct heapscan_buf){
			.addr = hb[i].addr, .data = hb[i].data,
			.len = hb[i].len,
		};
	for (i = 0; i < nr; i++)
		ranges[i] = (struct heapscan_range){
			.addr = rg[i].addr, .len = rg[i].len,
			.anon = rg[i].anon,
		};
	roots.bufs = bufs;
	roots.nr_bufs = nb;
	roots.ranges = ranges;
	roots.nr_ranges = nr;
	err = heapscan__run(h, &roots);
out:
	free(bufs);
	free(ranges);
	return err;
}

static void say(const struct reach *r, int pid)
{
	const struct heapscan_stats *st = heapscan__stats(r->scan);

	fprintf(stderr,
		"memscope-bpf: heap scan of pid %d: %u thread%s stopped for %.3f ms; %llu blocks classified in %.1f ms: %llu definitely lost, %llu indirectly lost, %llu possibly lost, %llu still reachable\n",
		pid, r->pause.threads, r->pause.threads == 1 ? "" : "s",
		r->pause.pause_ns / 1e6, (unsigned long long)st->blocks,
		st->scan_ns / 1e6,
		(unsigned long long)st->count[HEAPSCAN_DEFINITELY_LOST],
		(unsigned long long)st->count[HEAPSCAN_INDIRECTLY_LOST],
		(unsigned long long)st->count[HEAPSCAN_POSSIBLY_LOST],
		(unsigned long long)st->count[HEAPSCAN_STILL_REACHABLE]);
}

/*
 * The roots of a process the caller traces: held through hold, copied
 * stopped, let go; the pause from the first stop asked to the last let
 * go. NULL with errno ESRCH when hold cannot stop it.
 */
static struct heaproots *held_roots(int pid, const struct reach_hold *hold,
				    struct heaproots_info *pause)
{
	__u64 t0 = mono_ns();
	struct heaproots *hr;
	int err;

	err = hold->stop(hold->ctx, pid);
	if (err) {
		errno = -err;
		return NULL;
	}
	hr = heaproots__take(pid, HEAPROOTS_STOPPED);
	err = errno;
	hold->resume(hold->ctx);
	if (hr) {
		*pause = *heaproots__info(hr);
		pause->pause_ns = mono_ns() - t0;
	}
	errno = err;
	return hr;
}

int reach__take(struct reach *r, const struct store *st, int pid,
		enum heaproots_how how, const struct reach_hold *hold,
		const struct opts *o)
{
	struct heapscan *h = heapscan__new();
	struct heaproots *hr = NULL;
	struct heaproots_info pause;
	int err;

	if (!h) {
		err = -ENOMEM;
		goto fail;
	}
	if (o->clone_window_ns)
		heapscan__clone_window(h, o->clone_window_ns);
	err = store__for_each_live(st, add_block,
				   &(struct adding){ h, mono_ns() });
	if (err)
		goto fail;
	if (how == HEAPROOTS_SEIZE && hold)
		hr = held_roots(pid, hold, &pause);
	if (!hr && (how != HEAPROOTS_SEIZE || !hold || errno == ESRCH)) {
		hr = heaproots__take(pid, how);
		if (hr)
			pause = *heaproots__info(hr);
	}
	if (!hr) {
		err = -errno;
		goto fail;
	}
	err = scan_roots(h, hr);
	if (err)
		goto fail;
	reach__release(r);
	r->scan = h;
	r->pause = pause;
	heaproots__free(hr);
	if (!o->quiet)
		say(r, pid);
	return 0;
fail:
	why_not(pid, err);
	heaproots__free(hr);
	heapscan__free(h);
	return err;
}

void reach__release(struct reach *r)
{
	heapscan__free(r->scan);
	r->scan = NULL;
}

int reach__record(const struct reach *r, struct recorder *w, __u32 image)
{
	struct recording_scan s = { .image = image, .pause = r->pause };
	struct heapscan_verdict *verdicts;
	int err;

	err = heapscan__result(r->scan, &s.res, &verdicts);
	if (!err)
		err = recorder__scan(w, &s);
	free(verdicts);
	return err;
}

int reach__restore(struct reach *r, const struct recording_scan *s)
{
	struct heapscan *h = heapscan__restore(&s->res);

	if (!h)
		return -errno;
	reach__release(r);
	r->scan = h;
	r->pause = s->pause;
	return 0;
}
