/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* A JIT runtime's perf map: the lines runtimes write, bad lines, reuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfmap.h"

static struct perfmap *parse(const char *text)
{
	struct perfmap *pm = perfmap__parse(text, strlen(text));

	cr_assert(pm, "perfmap__parse: %s", strerror(errno));
	return pm;
}

static void expect_name(const struct perfmap *pm, __u64 addr,
			const char *want)
{
	bool reused = true;
	const char *got = perfmap__find(pm, addr, &reused);

	cr_expect(!reused, "0x%llx: reused", (unsigned long long)addr);
	if (!want)
		cr_expect_null(got, "0x%llx: expected no name, got %s",
			       (unsigned long long)addr, got);
	else
		cr_expect(got && !strcmp(got, want),
			  "0x%llx: expected %s, got %s",
			  (unsigned long long)addr, want, got ? got : "(none)");
}

static void expect_reused(const struct perfmap *pm, __u64 addr)
{
	bool reused = false;
	const char *got = perfmap__find(pm, addr, &reused);

	cr_expect(reused && !got, "0x%llx: expected reused, got %s",
		  (unsigned long long)addr, got ? got : "(none)");
}

/* node's lines (no 0x), Java's (0x, padded), names with blanks and '@'. */
Test(perfmap, runtimes_lines)
{
	struct perfmap *pm = parse(
		"3ef414c0 398 LazyCompile:~main /app/x.js:1:1\n"
		"0x00007f6490ec7920 0x00000000000001e8 long java.util.zip.Deflater.init(int, int, boolean)\n"
		"7f0000001000 10 JS:*f@1 x.js:2\r\n"
		"7f0000002000\t20\tstub\n");

	cr_expect_eq(perfmap__count(pm), 4);
	cr_expect_eq(perfmap__skipped(pm), 0);
	expect_name(pm, 0x3ef414c0, "LazyCompile:~main /app/x.js:1:1");
	expect_name(pm, 0x3ef414c0 + 0x397, "LazyCompile:~main /app/x.js:1:1");
	expect_name(pm, 0x3ef414c0 + 0x398, NULL);
	expect_name(pm, 0x3ef414bf, NULL);
	expect_name(pm, 0x7f6490ec7920 + 0x10,
		    "long java.util.zip.Deflater.init(int, int, boolean)");
	expect_name(pm, 0x7f000000100f, "JS:*f@1 x.js:2");
	expect_name(pm, 0x7f0000002000, "stub");
	perfmap__free(pm);
}

/* Lines that are no entry are skipped and counted; the rest still read. */
Test(perfmap, bad_lines)
{
	static const char text[] =
		"\n"
		"not a line\n"
		"1000 0 zero size\n"
		"2000 10\n"
		"2000 10 \n"
		"ffffffffffffff00 100 wraps\n"
		"11112222333344445 10 seventeen digits\n"
		"0x 10 no digits\n"
		"3000 10 good\n"
		"4000 10 a\0nul\n";
	struct perfmap *pm = perfmap__parse(text, sizeof(text) - 1);

	cr_assert(pm);
	cr_expect_eq(perfmap__count(pm), 1);
	cr_expect_eq(perfmap__skipped(pm), 9);
	expect_name(pm, 0x3008, "good");
	expect_name(pm, 0x2000, NULL);
	perfmap__free(pm);
}

/*
 * The same code listed twice (Java's dump does) is one name; code made
 * again where other code was is neither's.
 */
Test(perfmap, reuse)
{
	struct perfmap *pm = parse(
		"1000 100 f\n"
		"1000 100 f\n"
		"1080 10 g\n"
		"2000 100 h\n");

	expect_name(pm, 0x1000, "f");
	expect_reused(pm, 0x1088);
	expect_name(pm, 0x1090, "f");
	expect_name(pm, 0x2000, "h");
	perfmap__free(pm);
}

/* An entry over everything cannot make a lookup walk the whole map. */
Test(perfmap, bounded_lookup)
{
	size_t i, n = 5000, len = 0;
	char *text = malloc(n * 32 + 64);
	struct perfmap *pm;

	cr_assert(text);
	len += sprintf(text + len, "0 ffffffffffff all\n");
	for (i = 1; i <= n; i++)
		len += sprintf(text + len, "%zx 1 all\n", i * 16);
	pm = perfmap__parse(text, len);
	cr_assert(pm);
	expect_name(pm, 8, "all");
	expect_reused(pm, n * 16 + 8);
	perfmap__free(pm);
	free(text);
}

/* From a file: a last line still being written is not read yet. */
Test(perfmap, read_whole_lines)
{
	char path[] = "/tmp/perfmap-test-XXXXXX";
	const char text[] = "1000 10 done\n2000 10 half";
	struct perfmap *pm = NULL;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	unlink(path);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	cr_assert_eq(perfmap__read(fd, &pm), 0);
	close(fd);
	cr_expect_eq(perfmap__count(pm), 1);
	expect_name(pm, 0x1000, "done");
	expect_name(pm, 0x2000, NULL);
	perfmap__free(pm);
}
