/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Folded stacks from a hand-made report model: exporters only format the
 * model, so the test states the sites and the exact lines they become.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "report.h"

#define NR(a)	(sizeof(a) / sizeof(*(a)))

/* Frames innermost first, as the model holds them. */
static struct frame st_hostile[] = {
	{ .addr = 0x1000, .function = "operator new(unsigned long)" },
	{ .addr = 0x1100, .function = "std::map<int; char>\n\tinsert" },
	{ .addr = 0x1200, .function = "main" },
};

static struct frame st_unresolved[] = {
	{ .addr = 0x2000, .object = "/usr/lib/my lib.so",
	  .object_offset = 0x42 },
	{ .addr = 0x7fff0000, .object = "relative.so", .object_offset = 0x10 },
	{ .addr = 0x2100 },
};

static struct frame st_plain[] = {
	{ .addr = 0x3000, .function = "leaky", .file = "l.c", .line = 3 },
	{ .addr = 0x1200, .function = "main" },
};

static struct frame st_freed[] = {
	{ .addr = 0x4000, .function = "all_freed" },
};

static struct frame st_cut[] = {
	{ .addr = 0x5000, .function = "deep" },
	{ .addr = 0x5100, .function = "deeper" },
};

/* By bytes allocated, as the model orders sites. */
static struct report_site sites[] = {
	{ .alloc_bytes = 5000, .live_bytes = 0, .peak_bytes = 1000,
	  .nr_frames = NR(st_freed), .frames = st_freed },
	{ .alloc_bytes = 900, .live_bytes = 300,
	  .nr_frames = NR(st_hostile), .frames = st_hostile },
	{ .alloc_bytes = 700, .live_bytes = 700,
	  .nr_frames = NR(st_plain), .frames = st_plain },
	/* its walk stopped at 0x2100, in no mapping */
	{ .alloc_bytes = 60, .live_bytes = 20,
	  .flags = MS_STOP_NO_MAPPING << MS_EVF_STOP_SHIFT,
	  .nr_frames = NR(st_unresolved), .frames = st_unresolved },
	{ .alloc_bytes = 50, .live_bytes = 50, .flags = MS_EVF_STACK_TRUNC,
	  .nr_frames = NR(st_cut), .frames = st_cut },
	{ .alloc_bytes = 8, .live_bytes = 8, .flags = MS_EVF_STACK_ERR },
};

static char tmpdir[] = "/tmp/memscope-folded-XXXXXX";
static char path[PATH_MAX];

static void setup_dir(void)
{
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/f.txt", tmpdir);
}

static void remove_dir(void)
{
	unlink(path);
	rmdir(tmpdir);
}

TestSuite(folded, .init = setup_dir, .fini = remove_dir);

/* The folded file of the first n sites, weighed by w. */
static char *folded_weighed(enum trace_mode mode, size_t n,
			    enum report_weight w)
{
	struct report r = {
		.target = { .pid = 1, .mode = mode },
		.folded_weight = w,
		.sites = sites, .nr_sites = n,
	};
	char *buf;
	long len;
	FILE *f;
	int err;

	err = report__write_folded(&r, path);
	cr_assert_eq(err, 0, "report__write_folded: %s", strerror(-err));
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, len, f), (size_t)len);
	fclose(f);
	return buf;
}

static char *folded_of(enum trace_mode mode, size_t n)
{
	return folded_weighed(mode, n, REPORT_WEIGHT_LEAKS);
}

Test(folded, live_bytes_root_first_escaped)
{
	char *got = folded_of(TRACE_MODE_DEFAULT, NR(sites));

	cr_expect_str_eq(got,
		"main;std::map<int__char>__insert;"
		"operator_new(unsigned_long) 300\n"
		"main;leaky 700\n"
		"[ended-early-no_mapping];0x2100;relative.so+0x10;my_lib.so+0x42 20\n"
		"[truncated];deeper;deep 50\n"
		"[no-stack] 8\n");
	free(got);
}

Test(folded, alloc_mode_weighs_bytes_allocated)
{
	char *got = folded_of(TRACE_MODE_ALLOC, NR(sites));

	cr_expect_str_eq(got,
		"all_freed 5000\n"
		"main;std::map<int__char>__insert;"
		"operator_new(unsigned_long) 900\n"
		"main;leaky 700\n"
		"[ended-early-no_mapping];0x2100;relative.so+0x10;my_lib.so+0x42 60\n"
		"[truncated];deeper;deep 50\n"
		"[no-stack] 8\n");
	free(got);
}

Test(folded, peak_weighs_bytes_live_at_the_peak)
{
	char *got = folded_weighed(TRACE_MODE_DEFAULT, NR(sites),
				   REPORT_WEIGHT_PEAK);

	/* only the first site was live at the peak */
	cr_expect_str_eq(got, "all_freed 1000\n");
	free(got);
}

Test(folded, allocs_weighs_bytes_allocated)
{
	char *got = folded_weighed(TRACE_MODE_DEFAULT, 3,
				   REPORT_WEIGHT_ALLOCS);

	cr_expect_str_eq(got,
		"all_freed 5000\n"
		"main;std::map<int__char>__insert;"
		"operator_new(unsigned_long) 900\n"
		"main;leaky 700\n");
	free(got);
}

Test(folded, alloc_mode_weighs_allocations_whatever_asked)
{
	char *got = folded_weighed(TRACE_MODE_ALLOC, 1, REPORT_WEIGHT_PEAK);

	cr_expect_str_eq(got, "all_freed 5000\n");
	free(got);
}

Test(folded, nothing_live_is_an_empty_file)
{
	char *got = folded_of(TRACE_MODE_DEFAULT, 1);

	cr_expect_str_eq(got, "");
	free(got);
}

Test(folded, unwritable_path_fails_cleanly)
{
	struct report r = { .target = { .pid = 1 } };
	char bad[PATH_MAX];

	snprintf(bad, sizeof(bad), "%s/missing/f.txt", tmpdir);
	cr_expect_eq(report__write_folded(&r, bad), -ENOENT);
	cr_expect_neq(access(bad, F_OK), 0);
}
