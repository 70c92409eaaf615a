/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Go's own table of its functions (.gopclntab), which the runtime needs
 * for its tracebacks and so keeps in a stripped program (-ldflags=-s -w
 * drops .symtab and the DWARF, .debug_frame with it): each function's
 * start, name and stack-pointer delta at every pc. Read for the Go
 * functions' unwind rows and names where nothing else describes them.
 * Formats of Go 1.18 and later (magic 0xfffffff0, 0xfffffff1); the file
 * is the traced program's, so every offset in it is checked.
 */
#ifndef MEMSCOPE_GOPCLNTAB_H
#define MEMSCOPE_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

struct Elf;
struct gopcln;

/*
 * elf's .gopclntab, read (copied: the table outlives the Elf). NULL with
 * errno ENOENT (none, or a format of Go before 1.18), EINVAL (its header
 * or function table out of bounds) or ENOMEM.
 */
struct gopcln *gopcln__new(struct Elf *elf);
void gopcln__free(struct gopcln *p);

struct gopcln_func {
	__u64 start;		/* ELF address of its entry */
	__u64 end;		/* where the next function starts */
	const char *name;	/* in the table; NULL if out of its bounds */
	/*
	 * Written in assembly (funcFlag_ASM, Go 1.19 on): what .symtab names
	 * NAME.abi0, where a Go wrapper of the same NAME may be beside it.
	 */
	bool is_asm;
};

size_t gopcln__nr_funcs(const struct gopcln *p);
/* Function i, in address order. 0, or -EINVAL (out of bounds). */
int gopcln__func(const struct gopcln *p, size_t i, struct gopcln_func *out);
/* The function holding ELF address pc: its index, or -1. */
ssize_t gopcln__find(const struct gopcln *p, __u64 pc);

/*
 * Function i's stack-pointer deltas (bytes below its entry rsp, so the
 * CFA is rsp + sp + 8), run by run in address order within [start, end):
 * fn(ctx, from, to, sp) for each, until fn returns non-zero (that is
 * returned). -EINVAL when the table is malformed; the runs before it were
 * given.
 */
int gopcln__pcsp(const struct gopcln *p, size_t i,
		 int (*fn)(void *ctx, __u64 from, __u64 to, __s32 sp),
		 void *ctx);

/*
 * The source file and line of ELF address pc in function i, as Go's
 * tables say. -ENOENT when they do not, and inside a call inlined there:
 * Go gives the callee's line, which the function's name is not (its
 * inline tree, which would name the callee, is kept outside this table).
 */
int gopcln__line(const struct gopcln *p, size_t i, __u64 pc,
		 const char **file, int *line);

#endif /* MEMSCOPE_GOPCLNTAB_H */
