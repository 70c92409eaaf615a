/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Probe placement. A uprobe on an instruction the kernel can emulate
 * (push, nop) costs one trap; on anything else it is single-stepped out of
 * line, ~15x dearer here. This decodes the first instructions of a
 * function (x86-64) and finds the cheapest safe place for its probe.
 */
#ifndef MEMSCOPE_PROLOGUE_H
#define MEMSCOPE_PROLOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

enum prologue_need {
	/* Arguments in registers, as at entry. */
	PROLOGUE_ARGS = 1 << 0,
	/* *sp must still be the return address (uretprobe, entry stacks). */
	PROLOGUE_RET_AT_SP = 1 << 1,
	/*
	 * Only calls with a non-NULL first argument matter (free-like): a
	 * leading "test %rdi,%rdi; je" early exit may be skipped.
	 */
	PROLOGUE_SKIP_NULL_CHECK = 1 << 2,
};

struct prologue_site {
	__u32 offset;		/* bytes into the function */
	bool emulated;		/* the instruction there is emulated */
};

/*
 * code: the first len bytes of the function. Always fills out: offset 0
 * (emulated or not) when no cheaper safe site exists.
 */
void prologue__place(const unsigned char *code, size_t len,
		     unsigned int needs, struct prologue_site *out);

/* Whether the kernel emulates the instruction at code (x86-64 rules). */
bool prologue__emulated(const unsigned char *code, size_t len);

#endif /* MEMSCOPE_PROLOGUE_H */
