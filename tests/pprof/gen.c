/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * gen: writes the JSON report, the pprof profile and the folded stacks of
 * one synthetic trace, for tests/pprof/check.sh to hold against each
 * other with a real pprof reader. No BPF: a store fed by hand.
 *
 *   gen REPORT.json PROFILE.pb.gz FOLDED.txt
 *
 * The trace is large enough to grow every table of the encoder and to
 * span many deflate buffers: NR_STACKS stacks of up to 24 frames over
 * three objects (one with a build-id, one without, some frames in none),
 * names with ';', spaces and commas, unresolved frames, a block above
 * 4 GiB (multi-byte varints past 32 bits), a stack cut at MS_MAX_STACK
 * and an allocation with no stack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "store.h"

#define NR_STACKS	3000
#define NR_OUTER	500	/* shared outer frames */
#define LEAF_BASE	0x400000ull
#define OUTER_BASE	0x100000ull
#define START_NS	1000000000ull
#define BUILD_ID	"b0a1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3"

static __u64 now_ns = START_NS;
static __u64 next_ptr = 0x10000;

static void resolve_one(void *ctx, __u64 addr, struct frame *out)
{
	static char fn[64], file[64];
	unsigned int n = (unsigned int)(addr >> 4);

	(void)ctx;
	/* one address in 11 is in no object, one in 7 has no symbol */
	if (n % 11 == 0)
		return;
	switch (n % 3) {
	case 0:
		out->object = "/usr/bin/gen";
		break;
	case 1:
		out->object = "/usr/lib/libone.so";
		out->build_id = BUILD_ID;
		break;
	default:
		out->object = "/usr/lib/lib two.so";
	}
	out->object_offset = addr & 0xfffff;
	if (n % 7 == 0)
		return;
	if (n % 5 == 0)
		snprintf(fn, sizeof(fn), "ns::f<a, b>(int; %u)", n % 97);
	else
		snprintf(fn, sizeof(fn), "fn_%u", n % 397);
	out->function = fn;
	if (n % 2) {
		snprintf(file, sizeof(file), "src/f%u.c", n % 31);
		out->file = file;
		out->line = (int)(n % 1000) + 1;
	}
}

/* The frame_resolve_fn: one frame per address, filled by resolve_one. */
static unsigned resolve(void *ctx, __u64 addr, const struct frame **out)
{
	static struct frame fr;

	fr = (struct frame){ .addr = addr };
	resolve_one(ctx, addr, &fr);
	*out = &fr;
	return 1;
}

static int event(struct store *s, __u16 type, __u64 ptr, __u64 size,
		 const __u64 *frames, __u16 nr, __u16 flags)
{
	struct ms_event e = {
		.type = type, .fn = MS_FN_MALLOC, .pid = 4242, .tid = 4242,
		.ts_ns = now_ns += 1000, .ptr = ptr, .size = size,
		.nr_frames = nr, .flags = flags,
	};

	if (nr)
		memcpy(e.frames, frames, nr * sizeof(*frames));
	return store__apply(s, &e);
}

/* Stack i: its own leaf, then a walk through the shared outer frames. */
static unsigned int stack_of(unsigned int i, __u64 *frames)
{
	unsigned int k, depth = 1 + i % 24;

	frames[0] = LEAF_BASE + (__u64)i * 0x10;
	for (k = 1; k < depth; k++)
		frames[k] = OUTER_BASE + ((i * 7 + k * 13) % NR_OUTER) * 0x40;
	return depth;
}

static int fill(struct store *s)
{
	__u64 frames[MS_MAX_STACK], ptr;
	unsigned int i, j, nr;
	int err = 0;

	for (i = 0; i < NR_STACKS && !err; i++) {
		nr = stack_of(i, frames);
		for (j = 0; j <= i % 4 && !err; j++) {
			ptr = next_ptr++;
			err = event(s, MS_EV_ALLOC, ptr,
				    1 + (i * 37 + j) % 5000, frames, nr, 0);
			/* every third block is freed again */
			if (!err && (i + j) % 3 == 0)
				err = event(s, MS_EV_FREE, ptr, 0, NULL, 0, 0);
		}
	}
	if (!err)
		err = event(s, MS_EV_ALLOC, next_ptr++, 6ull << 30, frames, 1,
			    0);
	for (i = 0; i < MS_MAX_STACK; i++)
		frames[i] = OUTER_BASE + i * 0x40;
	if (!err)
		err = event(s, MS_EV_ALLOC, next_ptr++, 64, frames,
			    MS_MAX_STACK, MS_EVF_STACK_TRUNC);
	if (!err)
		err = event(s, MS_EV_ALLOC, next_ptr++, 77, NULL, 0,
			    MS_EVF_STACK_ERR);
	return err;
}

int main(int argc, char **argv)
{
	struct report_target t = {
		.pid = 4242, .command = "gen", .mode = "default",
		.start_ns = START_NS,
	};
	struct report_opts opts = { .resolve = resolve };
	struct report *r = NULL;
	struct store *s;
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: gen REPORT.json PROFILE.pb.gz "
			"FOLDED.txt\n");
		return 2;
	}
	s = store__new();
	if (!s) {
		err = -errno;
		goto out;
	}
	err = fill(s);
	if (err)
		goto out;
	t.duration_ns = now_ns - START_NS;
	r = report__build(s, &t, NULL, NULL, 0, &opts);
	if (!r) {
		err = -errno;
		goto out;
	}
	err = report__write_json(r, argv[1]);
	if (!err)
		err = report__write_pprof(r, argv[2]);
	if (!err)
		err = report__write_folded(r, argv[3]);
out:
	if (err)
		fprintf(stderr, "gen: %s\n", strerror(-err));
	report__free(r);
	store__free(s);
	return err ? 1 : 0;
}
