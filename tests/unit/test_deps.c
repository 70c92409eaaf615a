// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * deps: what a launched program will map, found from its files before it
 * runs, on the fixtures (selfalloc needs libc.so.6) and on scripts
 * written here.
 */
#include <unistd.h>
#include "deps.h"
#include "elfsym.h"
#include "fixture.h"

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

Test(deps, finds_the_programs_libc)
{
	char prog[PATH_MAX], out[PATH_MAX];
	struct deps_paths p;
	struct elf_file *ef;

	snprintf(prog, sizeof(prog), "%s", fixture("selfalloc"));
	ef = elf_file__open(prog);
	cr_assert(ef, "cannot open %s", prog);
	deps__paths(&p, ef, prog);
	elf_file__free(ef);
	cr_assert(deps__find_lib(&p, "libc.so.6", out, sizeof(out)));
	cr_expect(strstr(out, "/libc.so.6") && !access(out, R_OK),
		  "libc.so.6 found as %s", out);
	cr_expect_not(deps__find_lib(&p, "libnonexistent-memscope.so.1", out,
				     sizeof(out)));
}

Test(deps, script_runs_its_interpreter)
{
	char interp[PATH_MAX];
	char *path;

	path = script("#!  /usr/bin/env -S x\necho\n");
	cr_expect_eq(deps__script_interp(path, interp, sizeof(interp)), 1);
	unlink(path);
	cr_expect_str_eq(interp, "/usr/bin/env");
	/* an ELF program is no script */
	cr_expect_eq(deps__script_interp(fixture("selfalloc"), interp,
					 sizeof(interp)), 0);
}

static int note_name(const char *name, void *ctx)
{
	char *seen = ctx;

	strcat(seen, name);
	strcat(seen, ",");
	return !strcmp(name, "stop") ? 7 : 0;
}

Test(deps, preloads_in_order_until_told)
{
	char seen[256] = "";

	setenv("LD_PRELOAD", "a.so:b.so c.so", 1);
	cr_expect_eq(deps__each_preload(note_name, seen), 0);
	cr_expect_str_eq(seen, "a.so,b.so,c.so,");
	seen[0] = 0;
	setenv("LD_PRELOAD", "a.so stop c.so", 1);
	cr_expect_eq(deps__each_preload(note_name, seen), 7);
	cr_expect_str_eq(seen, "a.so,stop,");
	unsetenv("LD_PRELOAD");
	seen[0] = 0;
	cr_expect_eq(deps__each_preload(note_name, seen), 0);
	cr_expect_str_eq(seen, "");
}

Test(deps, bad_input_is_an_errno)
{
	char interp[8];
	char *path;

	cr_expect_eq(deps__script_interp("/nonexistent/prog", interp,
					 sizeof(interp)), -ENOENT);
	/* no interpreter, or one longer than the buffer */
	path = script("#!\n");
	cr_expect_eq(deps__script_interp(path, interp, sizeof(interp)),
		     -ENOEXEC);
	unlink(path);
	path = script("#!/a/very/long/interpreter\n");
	cr_expect_eq(deps__script_interp(path, interp, sizeof(interp)),
		     -ENOEXEC);
	unlink(path);
}
