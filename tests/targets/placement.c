/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * placement: calls each allocator whose probe attach moves past offset 0
 * on this glibc (free at +9 after its NULL check, posix_memalign, memalign
 * and valloc/pvalloc at +7) exactly ROUNDS times, and frees all but the
 * last three blocks of each. Exactly three blocks per site at exit prove
 * the moved probes saw every call: a missed free leaves more, a missed
 * allocation fewer.
 */
#include <malloc.h>
#include "target.h"

#define ROUNDS	1000
#define KEPT	3

typedef void *(*alloc_fn)(void);

__attribute__((noinline)) static void *via_posix_memalign(void)
{
	void *p = NULL;

	if (posix_memalign(&p, 64, 96))	/* @site via_posix_memalign */
		return NULL;
	return p;
}

__attribute__((noinline)) static void *via_memalign(void)
{
	return memalign(128, 200);		/* @site via_memalign */
}

__attribute__((noinline)) static void *via_valloc(void)
{
	return valloc(300);			/* @site via_valloc */
}

__attribute__((noinline)) static void *via_pvalloc(void)
{
	return pvalloc(5000);			/* @site via_pvalloc */
}

__attribute__((noinline)) static void *via_malloc(void)
{
	return malloc(40);			/* @site via_malloc */
}

/* ROUNDS calls of fn, all freed but the last KEPT. */
__attribute__((noinline)) static void rounds(alloc_fn fn)
{
	void *p;
	int i;

	for (i = 0; i < opaque(ROUNDS); i++) {
		p = fn();
		touch(p, 1);
		if (i < ROUNDS - KEPT)
			free(p);
		else
			keep(p);
	}
	/* free(NULL) must change nothing: the probe sits past the check */
	free(NULL);
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	rounds(via_posix_memalign);
	rounds(via_memalign);
	rounds(via_valloc);
	rounds(via_pvalloc);
	rounds(via_malloc);
	return 0;
}
