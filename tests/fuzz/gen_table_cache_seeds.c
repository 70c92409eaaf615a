/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Writes the table-cache fuzzer's seeds into DIR: entries as the cache
 * writes them, of the tables of the CFI fixture and its .debug_frame
 * build (run from the top directory, as make does).
 *
 *   gen_table_cache_seeds DIR
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "files.h"
#include "rows.h"
#include "table_cache.h"

int main(int argc, char **argv)
{
	const char *objs[] = { ".output/fixtures/cfi", ".output/fixtures/cfi.df" };
	struct unwind_table *t;
	char name[32];
	size_t i, len;
	void *buf;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		fd = open(objs[i], O_RDONLY | O_CLOEXEC);
		t = fd < 0 ? NULL : unwind_table__build(fd, "/", 0);
		buf = t ? table_cache__format(FUZZ_CACHE_KEY, FUZZ_CACHE_TOOL,
					      objs[i], t, &len) : NULL;
		if (!buf) {
			perror(objs[i]);
			return 1;
		}
		snprintf(name, sizeof(name), "entry%zu", i);
		if (write_seed(argv[1], name, buf, len))
			return 1;
		free(buf);
		unwind_table__free(t);
		close(fd);
	}
	return 0;
}
