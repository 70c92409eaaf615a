/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What every unwind table a fuzzer gets must hold, whatever the input: rows
 * in strictly increasing pc order, each of a rule the walker knows.
 */
#ifndef MEMSCOPE_FUZZ_ROWS_H
#define MEMSCOPE_FUZZ_ROWS_H

#include <stdlib.h>
#include "unwind_table.h"

static inline void rows_check(const struct unwind_table *t)
{
	const struct ms_unwind_row *rows;
	size_t i, n;

	rows = unwind_table__rows(t, &n);
	for (i = 0; i < n; i++)
		if ((i && rows[i - 1].pc >= rows[i].pc) ||
		    rows[i].cfa_type >= MS_CFA__COUNT ||
		    rows[i].rbp_type >= MS_RBP__COUNT)
			abort();
}

/*
 * The object and tool a table-cache entry of the fuzzer's is for: its
 * seeds are written for them (gen_table_cache_seeds.c).
 */
#define FUZZ_CACHE_KEY	"b:0123456789abcdef0123456789abcdef01234567"
#define FUZZ_CACHE_TOOL	"feedfacefeedfacefeedfacefeedfacefeedface"

#endif /* MEMSCOPE_FUZZ_ROWS_H */
