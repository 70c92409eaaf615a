/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: any bytes as the code of an allocator function, which
 * comes from the traced process's own files: where its probe may sit
 * (prologue__place, for what each allocator probe needs), where it leaves
 * for other code (prologue__exit, prologue__exits), an entry point's
 * straight run (prologue__straight), whether the kernel emulates its
 * first instruction, and the rules of frame-pointer code without CFI
 * (prologue_fp__scan, fed in pieces as unwind_table.c reads an object).
 * A crash, a sanitizer report or a hang fails `make fuzz`, as does an
 * answer outside the input: a probe site past the code, an argument in
 * no register, a reason that is not one, more exits than room was given
 * for, a call returning past the code, a rule out of order or outside
 * the code.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "events.h"
#include "prologue.h"

#define MAX_EXITS	64
#define RET		PROLOGUE_RET_AT_SP

/* What the allocator probes ask for (attach.c), and everything at once. */
static const unsigned int needs_of[] = {
	0,
	PROLOGUE_RDI | RET,					/* malloc */
	PROLOGUE_RDI | PROLOGUE_SKIP_NULL_CHECK,		/* free */
	PROLOGUE_RDI | PROLOGUE_RSI | RET,			/* realloc */
	PROLOGUE_RDI | PROLOGUE_RSI | PROLOGUE_RDX | RET,	/* memalign */
	PROLOGUE_RDI | PROLOGUE_RSI | PROLOGUE_RDX | PROLOGUE_RCX | RET,
	PROLOGUE_RDI | PROLOGUE_RSI | PROLOGUE_RDX | PROLOGUE_RCX | RET |
		PROLOGUE_SKIP_NULL_CHECK,
};

#define FP_BASE		0x400000

struct fp_seen {
	__u64 last;
	const uint8_t *data;
	size_t size;
	bool any;
};

/* A switch's table read from the fuzzed bytes themselves. */
static int fp_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	const struct fp_seen *f = ctx;

	if (addr < FP_BASE || addr - FP_BASE > f->size ||
	    len > f->size - (addr - FP_BASE))
		return -EIO;
	memcpy(buf, f->data + (addr - FP_BASE), len);
	return 0;
}

static int fp_check(void *ctx, __u64 pc, enum prologue_fp_rule rule,
		    __s32 cfa)
{
	struct fp_seen *f = ctx;

	/* a frame above the return address and rbp, under what was pushed */
	if ((f->any && pc <= f->last) || pc < FP_BASE ||
	    pc > FP_BASE + f->size || rule > PROLOGUE_FP_FRAME_RA ||
	    (rule == PROLOGUE_FP_FRAME_RA ? cfa < 16 || cfa & 7 : cfa))
		abort();
	f->any = true;
	f->last = pc;
	return 0;
}

/* The scan in pieces of the size the first byte says, as a file's chunks. */
static void fp_scan(const uint8_t *data, size_t size)
{
	struct fp_seen f = { .data = data, .size = size };
	struct prologue_fp *s = prologue_fp__new(fp_check, fp_read, &f);
	size_t at = 0, have, step, used;
	bool last;

	if (!s)
		return;
	step = size ? 64 + data[0] * 16 : 64;
	while (at <= size) {
		have = size - at < step ? size - at : step;
		last = at + have == size;
		if (prologue_fp__scan(s, data + at, have, FP_BASE + at, last,
				      &used) || used > have ||
		    (last && used != have))
			abort();
		at += used;
		if (last)
			break;
		if (!used)	/* too few bytes for an instruction: more */
			step *= 2;
	}
	prologue_fp__free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prologue_exit exits[MAX_EXITS];
	struct prologue_site site;
	size_t nr, i, k;
	bool calls;
	__s64 target;

	if (size > PROLOGUE_MAX_BYTES)
		return 0;
	for (k = 0; k < sizeof(needs_of) / sizeof(*needs_of); k++) {
		if (prologue__place(data, size, needs_of[k], &site) == -ENOMEM)
			continue;
		if ((site.offset && site.offset >= size) ||
		    site.reason >= NR_PROLOGUE_REASONS)
			abort();
		for (i = 0; i < 3; i++)
			if (site.arg_reg[i] > MS_REG_R15)
				abort();
	}
	if (!prologue__exit(data, size, &target, &calls) &&
	    target >= 0 && (size_t)target < size)
		abort();
	if (!prologue__exits(data, size, exits, MAX_EXITS, &nr)) {
		if (nr > MAX_EXITS)
			abort();
		for (i = 0; i < nr; i++)
			if (exits[i].calls && exits[i].ret > size)
				abort();
	}
	/* an entry point's run: whole instructions, inside the code */
	if (!prologue__straight(data, size, &nr) && (!nr || nr > size))
		abort();
	prologue__emulated(data, size);
	fp_scan(data, size);
	return 0;
}
