/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Go programs: the rows their CFI cannot give. A Go program's own code
 * has its CFI in .debug_frame (its C parts in .eh_frame: unwind_table.c
 * takes both), which describes each function as if it ran on one stack.
 * The runtime's assembly switches stacks: a C function called through
 * cgo runs on the system stack, and asmcgocall puts the goroutine's rsp
 * back from memory when it returns. These are the rules of those places:
 * asmcgocall's returns from the C function as decoded from its
 * epilogue, the bottoms of the goroutine and thread stacks as outermost,
 * and every other function that switches stacks as a stop, never walked
 * with its CFI's guess. Go's CFI follows only the constant moves of rsp
 * (its assembler's SP deltas): from an instruction that sets rsp any
 * other way (callCgoMmap realigns it with an AND, then loads it back)
 * to the end of its function, a Go function is a stop too.
 */
#ifndef MEMSCOPE_UNWIND_GO_H
#define MEMSCOPE_UNWIND_GO_H

#include <stdbool.h>
#include <stddef.h>
#include <gelf.h>
#include <linux/types.h>
#include "events.h"

/* One rule over [start, end) of the object's ELF addresses. */
struct go_rule {
	__u64 start;
	__u64 end;
	struct ms_unwind_row row;	/* pc unused */
};

struct gopcln;

/* What the rules are made from besides the ELF's symbols. */
struct go_object {
	/* Go's function table, for a program without .symtab; or NULL */
	const struct gopcln *pcln;
	/* len bytes of code at ELF address addr: 0, or -errno */
	int (*code)(void *ctx, __u64 addr, void *buf, size_t len);
	/* addr is described by .eh_frame: C code, whose CFI is gcc's */
	bool (*eh_frame)(void *ctx, __u64 addr);
	void *ctx;
};

/*
 * The rules of elf's Go functions, in the order they apply (a later one
 * holds where two overlap), into a malloc'd *out of *nr; none (0, *out
 * NULL) for an object that is not a Go program. 0 or -ENOMEM.
 */
int unwind_go__rules(Elf *elf, const struct go_object *obj,
		     struct go_rule **out, size_t *nr);

#endif /* MEMSCOPE_UNWIND_GO_H */
