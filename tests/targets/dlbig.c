// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * dlbig LIB: dlopens LIB (a big library, whose CFI takes the tool seconds
 * to compile), allocates, lives 300 ms more and exits: a short run that
 * leaves the tool compiling a table no process needs any more.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>
#include "target.h"

int main(int argc, char **argv)
{
	struct timespec t = { .tv_nsec = 300 * 1000 * 1000 };

	if (argc < 2)
		return 2;
	if (!dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) {
		fprintf(stderr, "dlbig: %s\n", dlerror());
		return 3;
	}
	keep(malloc(64));
	nanosleep(&t, NULL);
	return 0;
}
