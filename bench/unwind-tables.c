/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What compiling an object's CFI costs and gives (user/capture/
 * unwind_table.c): per object, where the rows came from, FDEs, rows by
 * rule, bytes as loaded (16-byte rows) and the build time, best and median
 * of RUNS builds (the first one reads the file cold or warm, as it comes).
 *
 *   unwind-tables [-n RUNS] OBJECT...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unwind_table.h"

#define MAX_RUNS	101

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int measure(const char *path, int runs)
{
	double ms[MAX_RUNS], t0;
	struct unwind_table_stats st;
	struct unwind_table *t = NULL;
	int fd, i;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < runs; i++) {
		unwind_table__free(t);
		t0 = now_ms();
		/* as a library: the entry rule adds a row or two at most */
		t = unwind_table__build(fd, "/", 0);
		ms[i] = now_ms() - t0;
		if (!t) {
			fprintf(stderr, "cannot compile the CFI of %s: %s\n",
				path, strerror(errno));
			close(fd);
			return 1;
		}
	}
	close(fd);
	unwind_table__stats(t, &st);
	qsort(ms, runs, sizeof(ms[0]), cmp_double);
	printf("| %s | %s | %u | %u | %u / %u / %u / %u / %u / %u / %u / %u "
	       "| %zu | %.1f / %.1f |\n", path, unwind_table__source(t),
	       st.fdes, st.rows, st.by_type[MS_CFA_RSP], st.by_type[MS_CFA_RBP],
	       st.by_type[MS_CFA_RBP_RA],
	       st.by_type[MS_CFA_DEREF_RBP], st.by_type[MS_CFA_PLT],
	       st.by_type[MS_CFA_SIGNAL], st.by_type[MS_CFA_UNDEFINED],
	       st.by_type[MS_CFA_UNSUPPORTED],
	       st.rows * sizeof(struct ms_unwind_row), ms[0], ms[runs / 2]);
	unwind_table__free(t);
	return 0;
}

int main(int argc, char **argv)
{
	int opt, runs = 5, rc = 0;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (runs = atoi(optarg)) < 1 || runs > MAX_RUNS) {
			fprintf(stderr, "usage: %s [-n RUNS (1-%d)] OBJECT...\n",
				argv[0], MAX_RUNS);
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: %s [-n RUNS (1-%d)] OBJECT...\n",
			argv[0], MAX_RUNS);
		return 2;
	}
	printf("| object | source | FDEs | rows | rsp / rbp / rbp-ra / deref-rbp / plt "
	       "/ signal / undefined / unsupported | bytes | ms best / median "
	       "of %d |\n|---|---|---:|---:|---|---:|---:|\n", runs);
	for (; optind < argc; optind++)
		rc |= measure(argv[optind], runs);
	return rc;
}
