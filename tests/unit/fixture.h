/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* What the unit tests that use tests/fixtures/ share. */
#ifndef MEMSCOPE_TEST_FIXTURE_H
#define MEMSCOPE_TEST_FIXTURE_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The path of a built fixture: $FIXTURES/name, by default under
 * .output/fixtures as make runs tests from the top directory. The buffer
 * is reused by the next call.
 */
static inline const char *fixture(const char *name)
{
	static char path[PATH_MAX];
	const char *dir = getenv("FIXTURES");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".output/fixtures",
		 name);
	return path;
}

/* Open descriptors of this process, to catch leaks. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert(d, "cannot list /proc/self/fd: %s", strerror(errno));
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#endif /* MEMSCOPE_TEST_FIXTURE_H */
