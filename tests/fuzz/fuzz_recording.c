/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: any bytes as a recording, through everything that
 * `memscope-bpf report` runs on a file: the header, the replay into a
 * store with its snapshots and heap scans, the recorded symbols as the
 * resolver, the report model (suspects by growth too) and the text report. A crash, a sanitizer report, a hang (-timeout) or an
 * allocation past -rss_limit_mb fails `make fuzz`.
 *
 * Flipping bytes of a file only ever reaches the CRC check: frames are
 * checksummed and compressed. So most mutations are made inside a frame:
 * decompressed, mutated, compressed again and given a valid CRC, which
 * takes the fuzzer past the frame checks into the parsers behind them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "growth.h"
#include "heapscan.h"
#include "recording.h"
#include "report.h"
#include "rules.h"
#include "procs.h"

/* The framing as recording.c writes it: a prelude, then frames. */
#define PRELUDE_SIZE	16
#define MAX_FRAMES	64
/* Room to grow a frame's payload in: well past the seeds' frames. */
#define RAW_ROOM	(64u << 10)

struct rec_frame {
	uint32_t type;
	uint32_t raw_len;
	uint32_t z_len;
	uint32_t crc;		/* of the three fields above, then the payload */
};

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* Offsets of the frames data holds whole. */
static size_t find_frames(const uint8_t *data, size_t size, size_t *offs)
{
	size_t off = PRELUDE_SIZE, n = 0;
	struct rec_frame fr;

	while (n < MAX_FRAMES && off < size && size - off >= sizeof(fr)) {
		memcpy(&fr, data + off, sizeof(fr));
		if (fr.z_len > size - off - sizeof(fr))
			break;
		offs[n++] = off;
		off += sizeof(fr) + fr.z_len;
	}
	return n;
}

/* Mutates the payload of the frame at off; 0 when it cannot. */
static size_t mutate_frame(uint8_t *data, size_t size, size_t max_size,
			   size_t off)
{
	static uint8_t raw[RAW_ROOM];
	static uint8_t z[RAW_ROOM + RAW_ROOM / 16 + 64];
	uLongf raw_len = sizeof(raw), z_len = sizeof(z);
	size_t tail, new_size;
	struct rec_frame fr;

	memcpy(&fr, data + off, sizeof(fr));
	if (uncompress(raw, &raw_len, data + off + sizeof(fr),
		       fr.z_len) != Z_OK)
		return 0;
	raw_len = LLVMFuzzerMutate(raw, raw_len, sizeof(raw));
	if (compress2(z, &z_len, raw, raw_len, Z_BEST_SPEED) != Z_OK)
		return 0;
	tail = size - off - sizeof(fr) - fr.z_len;
	new_size = off + sizeof(fr) + z_len + tail;
	if (new_size > max_size)
		return 0;
	memmove(data + off + sizeof(fr) + z_len,
		data + off + sizeof(fr) + fr.z_len, tail);
	memcpy(data + off + sizeof(fr), z, z_len);
	fr.raw_len = raw_len;
	fr.z_len = z_len;
	fr.crc = crc32(crc32(0, (const Bytef *)&fr,
			     offsetof(struct rec_frame, crc)), z, z_len);
	memcpy(data + off, &fr, sizeof(fr));
	return new_size;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	size_t offs[MAX_FRAMES], n, out;

	/* A quarter of the time, damage as it comes: bytes anywhere. */
	n = seed % 4 ? find_frames(data, size, offs) : 0;
	if (n) {
		out = mutate_frame(data, size, max_size, offs[seed / 4 % n]);
		if (out)
			return out;
	}
	return LLVMFuzzerMutate(data, size, max_size);
}

/* Heap scans kept for the first images, as `report` keeps each image's. */
#define MAX_SCANS	4

struct replay {
	struct procs *pt;
	struct growth_table g;
	struct report_scan scans[MAX_SCANS];
};

static int apply(void *ctx, const struct ms_event *e)
{
	struct replay *rp = ctx;

	procs__apply(rp->pt, e);
	return 0;
}

/* As `report` does: facts where the run learnt them. */
static int info(void *ctx, const struct procinfo *in)
{
	struct replay *rp = ctx;

	procs__set_info(rp->pt, in);
	return 0;
}

/* As `report` does: each snapshot taken again, and shown. */
static int snapshot(void *ctx, const struct recording_snapshot *s)
{
	struct replay *rp = ctx;
	struct growth_mark m = { .ts_ns = s->ts_ns };
	struct growth_view *v;
	size_t nr;

	if (growth_table__take(&rp->g, rp->pt, &m) ||
	    growth_table__views(&rp->g, rp->pt, 0, &v, &nr))
		return -1;
	while (nr)
		growth_view__fini(&v[--nr]);
	free(v);
	return 0;
}

/* As `report` does: each image's last scan, restored from its results. */
static int scan(void *ctx, const struct recording_scan *s)
{
	struct replay *rp = ctx;
	struct heapscan *h;

	if (s->image >= MAX_SCANS)
		return 0;
	h = heapscan__restore(&s->res);
	if (!h)
		return 0;
	heapscan__free((struct heapscan *)rp->scans[s->image].scan);
	rp->scans[s->image] = (struct report_scan){ h, s->pause };
	return 0;
}

/* As `report` does: facts that do not match the records stop it. */
static int restore(struct recording *r, struct procs *pt)
{
	const struct recording_proc *rp;
	size_t i, nr;
	int err;

	rp = recording__procs(r, &nr);
	for (i = 0; i < nr; i++) {
		err = procs__restore(pt, i, rp[i].have_info ? &rp[i].info : NULL,
				     rp[i].have_kernel ? &rp[i].kernel : NULL);
		if (err)
			return err;
	}
	return 0;
}

static void report_on(struct recording *r, struct procs *st,
		      const struct growth_table *g,
		      const struct report_scan *scans)
{
	const struct recording_info *in = recording__info(r);
	const struct recording_end *end = recording__end(r);
	/* The rules as `report` runs them: with the file's options. */
	struct report_opts ro = {
		.resolve = recording__resolve,
		.resolve_ctx = r,
		.image_ctx = recording__image_ctx,
		.rule_opts = in->rule_opts,
		.nr_rule_opts = RECORDING_RULE_OPTS,
		.growth_table = g,
		.scans = scans,
		.nr_scans = MAX_SCANS,
	};
	struct report_target tgt = {
		.pid = in->pid,
		.command = in->command,
		.mode = in->mode,
		.start_ns = in->start_ns,
	};
	struct report *rep;
	FILE *null;

	ro.rules = rules__table(&ro.nr_rules);
	if (end) {
		tgt.duration_ns = end->end_ns - in->start_ns;
		tgt.exited = end->exited;
		tgt.exit_status = end->exit_status;
	}
	rep = report__build_procs(st, &tgt, end ? &end->kernel : NULL,
				  end ? end->probes : NULL,
				  end ? end->nr_probes : 0, &ro);
	if (!rep)
		return;
	null = fopen("/dev/null", "w");
	if (null) {
		report__write_text(rep, null);
		fclose(null);
	}
	report__free(rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Read only: "r" never writes to the buffer. */
	FILE *f = fmemopen((void *)data, size, "r");
	struct recording *r = recording__new(f);
	struct replay rp = { .pt = procs__new() };
	int i;

	if (!r || !rp.pt) {
		if (!r && f)
			fclose(f);
		goto out;
	}
	if (recording__read_header(r))
		goto out;
	recording__on_info(r, info);
	recording__on_snapshot(r, snapshot, &rp);
	recording__on_scan(r, scan, &rp);
	recording__replay(r, apply, &rp);
	/* A site the records never saw fails the model: refused, no crash. */
	if (!restore(r, rp.pt))
		report_on(r, rp.pt, &rp.g, rp.scans);
out:
	for (i = 0; i < MAX_SCANS; i++)
		heapscan__free((struct heapscan *)rp.scans[i].scan);
	growth_table__fini(&rp.g);
	procs__free(rp.pt);
	recording__free(r);
	return 0;
}
