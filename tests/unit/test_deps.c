// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * deps: the files a program will map at its start, found from its files
 * before it runs, on the fixtures (selfalloc needs libc.so.6; libvers is a
 * library to preload) and on scripts written here. The run path ($ORIGIN)
 * is the integration test stk_rows_launch's.
 */
#include <unistd.h>
#include "deps.h"
#include "fixture.h"

#define FILES	16

struct seen {
	char *files[FILES];
	int nr;
	int stop_after;		/* cb returns 7 at this call, 0: never */
};

static int note(const char *path, struct elf_file *ef, void *ctx)
{
	struct seen *s = ctx;

	(void)ef;

	cr_assert_lt(s->nr, FILES, "more files than the fixture maps: %s",
		     path);
	s->files[s->nr++] = strdup(path);
	return s->nr == s->stop_after ? 7 : 0;
}

static void seen_free(struct seen *s)
{
	while (s->nr)
		free(s->files[--s->nr]);
}

static int index_of(const struct seen *s, const char *suffix)
{
	size_t n = strlen(suffix);
	int i;

	for (i = 0; i < s->nr; i++) {
		size_t len = strlen(s->files[i]);

		if (len >= n && !strcmp(s->files[i] + len - n, suffix))
			return i;
	}
	return -1;
}

/* A #! script in a temporary file; its path, to unlink. */
static char *script(const char *first_line)
{
	static char path[] = "/tmp/memscope-deps-XXXXXX";
	int fd;

	strcpy(path, "/tmp/memscope-deps-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert(write(fd, first_line, strlen(first_line)) ==
		  (ssize_t)strlen(first_line));
	close(fd);
	return path;
}

Test(deps, program_then_libc_each_once)
{
	struct seen s = {};
	char prog[PATH_MAX];

	snprintf(prog, sizeof(prog), "%s", fixture("selfalloc"));
	cr_assert_eq(deps__each(prog, note, &s), 0);
	cr_assert_geq(s.nr, 2, "expected selfalloc and libc, got %d files",
		      s.nr);
	cr_expect_str_eq(s.files[0], prog);
	cr_expect_gt(index_of(&s, "/libc.so.6"), 0, "libc.so.6 not found");
	for (int i = 0; i < s.nr; i++)
		for (int j = i + 1; j < s.nr; j++)
			cr_expect_str_neq(s.files[i], s.files[j],
					  "%s twice", s.files[i]);
	seen_free(&s);
}

Test(deps, preload_before_needed)
{
	struct seen s = {};
	char lib[PATH_MAX];

	snprintf(lib, sizeof(lib), "%s", fixture("libvers"));
	setenv("LD_PRELOAD", lib, 1);
	cr_assert_eq(deps__each(fixture("selfalloc"), note, &s), 0);
	unsetenv("LD_PRELOAD");
	cr_assert_geq(s.nr, 3);
	cr_expect_str_eq(s.files[1], lib, "preload: expected %s second, got %s",
			 lib, s.files[1]);
	cr_expect_gt(index_of(&s, "/libc.so.6"), 1);
	seen_free(&s);
}

Test(deps, script_runs_its_interpreter)
{
	struct seen s = {};
	char line[PATH_MAX + 16], prog[PATH_MAX];
	char *path;

	snprintf(prog, sizeof(prog), "%s", fixture("selfalloc"));
	snprintf(line, sizeof(line), "#!  %s -x\necho\n", prog);
	path = script(line);
	cr_expect_eq(deps__each(path, note, &s), 0);
	unlink(path);
	cr_assert_geq(s.nr, 2);
	cr_expect_str_eq(s.files[0], prog);
	seen_free(&s);
}

Test(deps, stops_when_told)
{
	struct seen s = { .stop_after = 1 };

	cr_expect_eq(deps__each(fixture("selfalloc"), note, &s), 7);
	cr_expect_eq(s.nr, 1);
	seen_free(&s);
}

Test(deps, bad_input_is_an_errno)
{
	struct seen s = {};
	char *path;

	cr_expect_eq(deps__each("/nonexistent/prog", note, &s), -ENOENT);
	path = script("#!/nonexistent/interpreter\n");
	cr_expect_eq(deps__each(path, note, &s), -ENOENT);
	unlink(path);
	/* a file that is no ELF and no script */
	path = script("not a program\n");
	cr_expect_lt(deps__each(path, note, &s), 0);
	unlink(path);
	cr_expect_eq(s.nr, 0, "a callback for bad input: %s",
		     s.nr ? s.files[0] : "");
	seen_free(&s);
}
