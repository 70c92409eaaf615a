/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: any bytes as a table-cache entry read back
 * (table_cache__parse). Its CRC is set first (table_cache__seal), or no
 * change would get past it to the checks behind: the length, the strings,
 * the rows. A crash, a sanitizer report, or a table whose rows are out of
 * order or of an unknown rule fails `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "table_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwind_table *t;
	uint8_t *buf = malloc(size ?: 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	table_cache__seal(buf, size);
	t = table_cache__parse(buf, size, FUZZ_CACHE_KEY, FUZZ_CACHE_TOOL);
	if (t) {
		rows_check(t);
		unwind_table__free(t);
	}
	free(buf);
	return 0;
}
