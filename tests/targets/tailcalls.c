/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * tailcalls: allocator calls glibc makes by jumping to another one, each
 * 100 times from its own site:
 *
 *   realloc_null         realloc(NULL, 64): glibc jumps to malloc
 *   reallocarray_null    reallocarray(NULL, 4, 16): to realloc, then malloc
 *   realloc_then_malloc  realloc(p, 128), then malloc(32) from the same
 *                        frame: two calls, two sites
 *
 * Each is one allocation call where it is made, in both modes: the calls
 * glibc makes on its way are nested, not calls of their own.
 */
#include "target.h"

#define N	100

/* NULL, but not a constant: GCC folds realloc(NULL, n) into malloc(n). */
static void *volatile no_block;

__attribute__((noinline)) static void realloc_null(void)
{
	keep(realloc(no_block, 64));		/* @site realloc_null */
}

__attribute__((noinline)) static void reallocarray_null(void)
{
	keep(reallocarray(no_block, 4, 16));	/* @site reallocarray_null */
}

__attribute__((noinline)) static void *realloc_then_malloc(void *p)
{
	p = realloc(p, 128);			/* @site realloc_again */
	keep(malloc(32));			/* @site malloc_after */
	return p;
}

int main(int argc, char **argv)
{
	void *p = NULL;
	int i;

	target_wait(argc, argv);
	for (i = 0; i < opaque(N); i++) {
		realloc_null();
		reallocarray_null();
		p = realloc_then_malloc(p);
	}
	keep(p);
	return 0;
}
