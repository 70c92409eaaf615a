// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * fam_cross: a block of one allocator freed by another's free. Debian's
 * mimalloc is loaded with dlopen, so it does not replace glibc's malloc
 * (jemalloc cannot be: its TLS is initial-exec): cross_free takes a block
 * from its mi_zalloc and hands it to glibc's free, which may well abort.
 * Attached with -p after the dlopen (run with --wait), the trace shows
 * why: a mismatched free, mimalloc's block freed by malloc's free of
 * another allocator.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include "target.h"

static void *(*mi_zalloc)(size_t);

/* glibc aborts on the foreign block: the test wants the trace, quietly. */
static void on_abort(int sig)
{
	(void)sig;
	_exit(0);
}

__attribute__((noinline)) static void cross_free(void)
{
	void *p = mi_zalloc(opaque(64));

	keep(p);
	free(p);
	keep(NULL);	/* no tail call: this frame frees */
}

int main(int argc, char **argv)
{
	void *h = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "fam_cross: %s\n", dlerror());
		return 3;
	}
	*(void **)&mi_zalloc = dlsym(h, "mi_zalloc");
	if (!mi_zalloc) {
		fprintf(stderr, "fam_cross: no mi_zalloc in libmimalloc.so.2\n");
		return 3;
	}
	signal(SIGABRT, on_abort);
	target_wait(argc, argv);
	cross_free();
	return 0;
}
