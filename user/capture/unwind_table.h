/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The CFI compiler: one ELF object's call-frame information turned into
 * the rows the BPF stack walker applies (struct ms_unwind_row, events.h),
 * once per object. libdw interprets the CFA programs; this only maps each
 * row it yields to the few rules the walker knows, and says
 * MS_CFA_UNSUPPORTED for anything else rather than guess.
 */
#ifndef MEMSCOPE_UNWIND_TABLE_H
#define MEMSCOPE_UNWIND_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "events.h"

struct unwind_table;

enum unwind_table_flags {
	UNWIND_TABLE_ENTRY = 1 << 0,	/* processes start at its e_entry */
	/* the CFI's rules alone: what the compiler's own tests compare */
	UNWIND_TABLE_CFI_ONLY = 1 << 1,
};

/*
 * Compiles the CFI of the ELF object open at fd: .eh_frame (through
 * .eh_frame_hdr's sorted table or by walking the section), else
 * .debug_frame, also from a separate debug file found the way gdb finds
 * it (/usr/lib/debug/.build-id/xx/rest.debug, then .gnu_debuglink next to
 * the object, in .debug/ and under /usr/lib/debug/<dir>), all looked up
 * under root ("/" or "/proc/PID/root", for processes in other mount
 * namespaces). Code no CFI describes gets the rules its frame-pointer
 * prologues show (prologue_fp__scan), unless flags has
 * UNWIND_TABLE_CFI_ONLY; with UNWIND_TABLE_ENTRY processes start at the
 * object's e_entry (it is a program, or a program's interpreter): code
 * there that no FDE covers, up to its first jump or return, is the
 * outermost frame. NULL with
 * errno set (ENOENT: no CFI at all, nor frame-pointer code; EFBIG: object addresses above 4 GiB,
 * or more CFI than the compiler's bounds; EINVAL: malformed, or not an
 * x86-64 ELF object).
 */
struct unwind_table *unwind_table__build(int fd, const char *root,
					 unsigned int flags);
/*
 * unwind_table__build(), given up once *cancel is set (by another thread:
 * read as rows are made): NULL with errno ECANCELED then.
 */
struct unwind_table *unwind_table__build_until(int fd, const char *root,
					       unsigned int flags,
					       const bool *cancel);
void unwind_table__free(struct unwind_table *t);

/*
 * A table of rows compiled before (table_cache): rows (malloc'd, taken
 * whatever the result) sorted by pc, no two alike, each of a known rule,
 * as the caller checked. NULL with errno ENOMEM.
 */
struct unwind_table *unwind_table__adopt(struct ms_unwind_row *rows,
					 size_t nr, const char *source,
					 __u32 fdes);

/*
 * Whether the rows are the object's alone, to keep by its build-id: from
 * its own CFI, or from the debug file found. Not when neither had any (a
 * debug file installed later would give other rows).
 */
bool unwind_table__whole(const struct unwind_table *t);

/* The rows, sorted by pc, no two neighbours alike; *nr their count. */
const struct ms_unwind_row *unwind_table__rows(const struct unwind_table *t,
					       size_t *nr);

/*
 * Where the rows came from: ".eh_frame" or ".debug_frame" (+ " (separate
 * debug file)"), and what else gave rules (" + frame pointers")
 */
const char *unwind_table__source(const struct unwind_table *t);
/*
 * The threads its scan for frame-pointer code ran on when it was built:
 * 0 without that scan, or for a table read from the cache.
 */
unsigned int unwind_table__fp_shares(const struct unwind_table *t);

/* FDEs read, rows by cfa type, and rows made MS_CFA_UNSUPPORTED: for -v and tests */
struct unwind_table_stats {
	__u32 fdes;
	__u32 rows;
	__u32 by_type[MS_CFA__COUNT];
};
void unwind_table__stats(const struct unwind_table *t,
			 struct unwind_table_stats *out);

#endif /* MEMSCOPE_UNWIND_TABLE_H */
