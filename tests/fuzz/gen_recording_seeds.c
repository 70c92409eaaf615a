/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Writes the fuzzer's seed corpus into DIR: a small, whole recording with
 * every kind of frame (full.msr: a heap scan too), and one cut short as a killed tool
 * leaves it (cut.msr). Made by the writer at build time, so the seeds
 * follow the format as it changes.
 *
 *   gen_recording_seeds DIR
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "prologue.h"
#include "recording.h"
#include "procs.h"

#define NR_RECORDS	12
/* then a child's life: fork, a block, exec, a block, exit */
#define NR_LIFE		5
/* Records per events frame: a few frames, so cuts fall between them. */
#define PER_FRAME	4

static const struct attach_probe probes[] = {
	{ "/lib/x86_64-linux-gnu/libc.so.6", "malloc", 0x9a0d0, 0, false, true,
	  PROLOGUE_NONE, { 0 }, NULL, false, 0, NULL, false },
	{ "/lib/x86_64-linux-gnu/libc.so.6", "free", 0x9a7d4, 4, false, true,
	  PROLOGUE_NONE, { 0 }, NULL, false, 0, NULL, false },
	/* single-stepped: its reason rides in the probe's flags */
	{ "/lib/x86_64-linux-gnu/libc.so.6", "memalign", 0x9b7e0, 0, false,
	  false, PROLOGUE_ARG_WRITTEN, { 0 }, NULL, false, 0, NULL,
	  false },
	/* a wrapper left unprobed: the name it forwards to follows */
	{ "/lib/x86_64-linux-gnu/libc.so.6", "reallocarray", 0x9a7e0, 0, false,
	  false, PROLOGUE_NONE, { 0 }, "realloc", false, 0, NULL, false },
	/* a layer probed at its entry: the name that counts its blocks */
	{ "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "_Znwm", 0xa8e40, 0,
	  false, true, PROLOGUE_NONE, { 0 }, NULL, false, 0, "malloc", false },
	/* a return probe on a function that may throw */
	{ "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4", "_Znwm",
	  0x1c9a0, 0, false, true, PROLOGUE_NONE, { 0 }, NULL, false, 0, NULL,
	  true },
};

/* Seeds hold inlined frames too: the fuzzer mutates from every shape. */
static unsigned resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame frames[2];
	unsigned i, n = addr & 0x40 ? 2 : 1;

	(void)ctx;
	memset(frames, 0, sizeof(frames));
	*out = frames;
	for (i = 0; i < n; i++) {
		frames[i].addr = addr;
		frames[i].object = "/usr/bin/seed";
		frames[i].object_offset = addr - 0x400000;
		frames[i].inlined = i + 1 < n;
	}
	if (addr & 0x10)
		return 1;
	for (i = 0; i < n; i++) {
		frames[i].function = addr & 0x20 ? "leak_here" : "main";
		frames[i].file = "seed.c";
		frames[i].line = (int)(addr & 0xff) + i;
		frames[i].build_id = "5eed";
	}
	if (n == 2) {
		frames[0].function = "seed::inlined()";
		frames[0].mangled = "_ZN4seed7inlinedEv";
	}
	return n;
}

static void record(struct ms_event *e, int i)
{
	memset(e, 0, sizeof(*e));
	e->pid = 100;
	e->tid = 100 + i % 2;
	e->ts_ns = 1000 + i * 10;
	if (i % 3 == 2) {
		e->type = MS_EV_FREE;
		e->fn = MS_FN_FREE;
		e->ptr = 0x5000 + (i - 1) * 0x40;
		return;
	}
	/*
	 * Anonymous memory: a mapping (PROT_NONE), part of it unmapped, an
	 * arena's, and part of that opened by mprotect.
	 */
	if (i == 10) {
		e->type = MS_EV_MPROTECT;
		e->ptr = 0x7f0000000000ull;
		e->size = 0x2000;
		e->aux = 3;
		return;
	}
	if (i == 6 || i == 7 || i == 9) {
		e->type = i == 6 ? MS_EV_MMAP : i == 7 ? MS_EV_MUNMAP :
			  MS_EV_MREMAP;
		e->ptr = 0x7f0000000000ull + (i == 7) * 0x1000;
		e->size = i == 9 ? 0x8000 : 0x4000;
		e->aux = i == 6 ? 0x22 | MS_MMAP_PROT_KNOWN :
			 i == 9 ? 0x4000 : 0;
		e->old_ptr = i == 9 ? 0x7f0000000000ull : 0;
		e->nr_frames = 1;
		e->frames[0] = 0x401400;
		if (i == 9) {
			e->flags = MS_EVF_ARENA;
			e->fn = MS_FN_MALLOC;
		}
		return;
	}
	e->type = i == 4 ? MS_EV_REALLOC : MS_EV_ALLOC;
	e->fn = i == 4 ? MS_FN_REALLOC : MS_FN_MALLOC;
	e->old_ptr = i == 4 ? 0x5000 + 3 * 0x40 : 0;
	e->seq = i + 1;
	e->ptr = 0x5000 + i * 0x40;
	e->size = 24 * (i + 1);
	e->nr_frames = 1 + i % 3;
	e->frames[0] = 0x401000 + (i % 4) * 0x10;
	e->frames[1] = 0x401200;
	e->frames[2] = 0x401320;
}

/* Record i of pid 100's child 101: a start, its exec and its exit. */
static void life(struct ms_event *e, int i)
{
	static const __u16 types[NR_LIFE] = {
		MS_EV_PROC_START, MS_EV_ALLOC, MS_EV_PROC_EXEC, MS_EV_ALLOC,
		MS_EV_PROC_EXIT,
	};

	memset(e, 0, sizeof(*e));
	e->type = types[i];
	e->pid = 101;
	e->tid = 101;
	e->ts_ns = 2000 + i * 10;
	if (e->type == MS_EV_ALLOC) {
		e->fn = MS_FN_MALLOC;
		e->ptr = 0x5000;
		e->size = 40;
		e->nr_frames = 1;
		e->frames[0] = 0x401000;
	}
	if (e->type == MS_EV_PROC_START) {
		e->aux = 100;
		strcpy(e->name, "seed");
	}
	if (e->type == MS_EV_PROC_EXEC) {
		strcpy(e->name, "child");
		strcpy(e->type_name, "/bin/child");
	}
}

/* A heap scan of image 0's blocks, with a cycle, a link and a clone. */
static int write_scan(struct recorder *w)
{
	static const struct heapscan_member members[] = {
		{ .site = 0, .count = 1, .bytes = 24 },
		{ .site = 1, .count = 1, .bytes = 48 },
	};
	static const struct heapscan_cycle cycles[] = {
		{ .instances = 1, .blocks = 2, .bytes = 72,
		  .members = members, .nr_members = 2 },
	};
	static const struct heapscan_link links[] = {
		{ .from = 0, .to = 1, .kind = HEAPSCAN_OWNER, .count = 1 },
	};
	static const struct heapscan_clone clones[] = {
		{ .site = 1, .size = 48, .count = 2 },
	};
	struct heapscan_verdict v[NR_RECORDS];
	struct recording_scan s = {
		.pause = { .pause_ns = 150000, .threads = 2, .stack_bytes = 4096 },
		.res = {
			.verdicts = v,
			.cycles = cycles, .nr_cycles = 1,
			.links = links, .nr_links = 1,
			.clones = clones, .nr_clones = 1,
		},
	};
	int i;

	for (i = 0; i < NR_RECORDS; i++)
		v[i] = (struct heapscan_verdict){
			.addr = 0x5000 + i * 0x40, .cls = i % 4 };
	s.res.nr_verdicts = NR_RECORDS;
	s.res.stats.blocks = NR_RECORDS;
	s.res.stats.cycles = 1;
	s.res.stats.clones = 2;
	return recorder__scan(w, &s);
}

static int write_seed(const char *path, bool whole)
{
	struct recording_info info = {
		.tool_version = MEMSCOPE_VERSION,
		.pid = 100,
		.command = "./seed",
		.mode = TRACE_MODE_DEFAULT,
		.top = 10,
		.start_ns = 1000,
	};
	struct recording_end end = {
		.kernel = { .allocs = 8, .frees = 4, .lost_events = 1 },
		.end_ns = 2000,
		.exited = true,
		.probes = probes,
		.nr_probes = sizeof(probes) / sizeof(probes[0]),
	};
	char partial[PATH_MAX];
	struct recorder *w;
	struct procs *st;
	struct ms_event e;
	int i, err;

	st = procs__new();
	w = recorder__new(path);
	if (!st || !w) {
		err = -errno;
		goto out;
	}
	err = recorder__start(w, &info);
	for (i = 0; i < NR_RECORDS && !err; i++) {
		record(&e, i);
		procs__apply(st, &e);
		err = recorder__add(w, &e);
		if (!err && (i + 1) % PER_FRAME == 0)
			err = recorder__flush(w);
		/* -i's snapshots, for the fuzzer to take apart too */
		if (!err && (i + 1) % 2 == 0) {
			struct recording_snapshot sn = {
				.ts_ns = e.ts_ns,
				.lost_events = i,
			};

			err = recorder__snapshot(w, &sn);
		}
	}
	/* --reachability's scan, among the records where it was taken */
	if (!err)
		err = write_scan(w);
	for (i = 0; i < NR_LIFE && !err; i++) {
		struct recording_snapshot sn = { .ts_ns = 2000 + i * 10 };

		life(&e, i);
		procs__apply(st, &e);
		err = recorder__add(w, &e);
		/* and snapshots of several images, one of them ending */
		if (!err)
			err = recorder__snapshot(w, &sn);
	}
	if (!err && whole) {
		err = recorder__finish(w, st, resolve, NULL, NULL, &end);
		w = NULL;
	} else if (!err) {
		/* As a killed tool leaves it: the .partial, kept. */
		snprintf(partial, sizeof(partial), "%s" RECORDING_PARTIAL,
			 path);
		if (rename(partial, path))
			err = -errno;
	}
out:
	recorder__free(w);
	procs__free(st);
	if (err)
		fprintf(stderr, "gen_seeds: cannot write %s: %s\n", path,
			strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/full.msr", argv[1]);
	if (write_seed(path, true))
		return 1;
	snprintf(path, sizeof(path), "%s/cut.msr", argv[1]);
	return write_seed(path, false) ? 1 : 0;
}
