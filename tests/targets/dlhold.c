// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * dlhold COUNT SIZE [--wait]: dlopens an allocator no process had mapped before it
 * (Debian's mimalloc, which does not replace glibc's malloc when loaded
 * so) and at once leaks COUNT blocks of SIZE bytes from its mi_malloc.
 * Under --hold-exec the dlopen's mapping holds the process until
 * mi_malloc is probed, so every block is counted; without, the first
 * ones may run unprobed and the process says it joined late. --wait: then
 * says "ready PID" and waits for SIGUSR1, so that the tool attaches it
 * while it lives (one gone first is not said to be late).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include "target.h"

int main(int argc, char **argv)
{
	void *(*mi_malloc)(size_t);
	void *h;
	int i, n, size;

	if (argc < 3)
		return 2;
	n = atoi(argv[1]);
	size = atoi(argv[2]);
	h = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlhold: %s\n", dlerror());
		return 3;
	}
	*(void **)&mi_malloc = dlsym(h, "mi_malloc");
	if (!mi_malloc) {
		fprintf(stderr, "dlhold: no mi_malloc in libmimalloc.so.2\n");
		return 3;
	}
	for (i = 0; i < n; i++)
		keep(mi_malloc(opaque(size)));
	target_wait(argc - 2, argv + 2);
	return 0;
}
