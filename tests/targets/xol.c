/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * xol: calls every function of the C allocation API that the allocator
 * malloc binds to defines (glibc's, or one preloaded), ROUNDS times each,
 * then says "done" and what it asked for. A function that allocator lacks
 * would come from glibc, whose blocks the other allocator cannot free: it
 * is skipped. The test preloads libxolcount.so beside the allocator.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include "target.h"

#define ROUNDS	200

static void *aligned(size_t align, size_t size)
{
	void *p = NULL;

	return posix_memalign(&p, align, size) ? NULL : p;
}

/*
 * Frees a block that escaped first: gcc drops a free(aligned_alloc(...))
 * pair whose block nobody sees, and the call with it.
 */
static void drop(void *p)
{
	keep(p);
	free(p);
}

/* Whether name binds to the object malloc binds to. */
static int ours(const char *name)
{
	Dl_info a, b;
	void *fn = dlsym(RTLD_DEFAULT, name);

	return fn && dladdr(fn, &a) && dladdr(dlsym(RTLD_DEFAULT, "malloc"), &b) &&
	       a.dli_fbase == b.dli_fbase;
}

int main(int argc, char **argv)
{
	int has_ra = ours("reallocarray"), has_pm = ours("posix_memalign");
	int has_aa = ours("aligned_alloc"), has_ma = ours("memalign");
	int has_va = ours("valloc"), has_pv = ours("pvalloc");
	unsigned long bytes = 0, calls = 0;
	void *p;
	int i;

	target_wait(argc, argv);
	for (i = 0; i < opaque(ROUNDS); i++) {
		p = malloc(24 + i);
		keep(p);
		p = realloc(p, 200 + i);
		keep(p);
		free(p);
		free(NULL);
		p = calloc(3, 40);
		keep(p);
		bytes += 24 + i + 200 + i + 3 * 40;
		calls += 3;
		if (has_ra) {
			p = reallocarray(p, 5, 40);
			bytes += 5 * 40;
			calls++;
		}
		keep(p);
		free(p);
		if (has_pm) {
			drop(aligned(64, 96));
			bytes += 96;
			calls++;
		}
		if (has_aa) {
			drop(aligned_alloc(64, 128));
			bytes += 128;
			calls++;
		}
		if (has_ma) {
			drop(memalign(128, 200));
			bytes += 200;
			calls++;
		}
		if (has_va) {
			drop(valloc(300));
			bytes += 300;
			calls++;
		}
		if (has_pv) {
			drop(pvalloc(5000));
			bytes += 5000;
			calls++;
		}
	}
	keep(NULL);
	/* what the trace must show: every call, with the size asked */
	printf("done %lu bytes in %lu calls\n", bytes, calls);
	return 0;
}
