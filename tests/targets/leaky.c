/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * leaky: known leaks from several threads and through each allocation call
 * the integration tests check, next to balanced work that must not show up
 * as a leak. What stays live at exit, by the function that called the
 * allocator (tests/integration/check.py holds the same table):
 *
 *   leak_in_thread_a     10 x malloc(1000)              10 blocks  10000 bytes
 *   leak_in_thread_b      5 x malloc(2048)               5 blocks  10240 bytes
 *   leak_calloc           3 x calloc(4, 256)             3 blocks   3072 bytes
 *   leak_realloc          malloc(100) in realloc_start,   1 block     400 bytes
 *                         realloc(200) in realloc_grow,
 *                         realloc(400) here
 *   leak_posix_memalign   2 x posix_memalign(64, 4096)   2 blocks   8192 bytes
 *   leak_aligned_alloc    4 x aligned_alloc(64, 128)     4 blocks    512 bytes
 *
 * Nothing may be reported live from churn, realloc_start, realloc_grow,
 * realloc_to_zero or realloc_fail.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include "target.h"

#define CHURN_PAIRS	10000
#define CHURN_WINDOW	16

__attribute__((noinline)) static void *leak_in_thread_a(void *arg)
{
	int i;

	for (i = 0; i < opaque(10); i++)
		keep(malloc(1000));	/* @site leak_in_thread_a */
	return arg;
}

__attribute__((noinline)) static void *leak_in_thread_b(void *arg)
{
	int i;

	for (i = 0; i < opaque(5); i++)
		keep(malloc(2048));	/* @site leak_in_thread_b */
	return arg;
}

__attribute__((noinline)) static void leak_calloc(void)
{
	int i;

	for (i = 0; i < opaque(3); i++)
		keep(calloc(4, 256));	/* @site leak_calloc */
}

__attribute__((noinline)) static void *realloc_start(void)
{
	void *p = malloc(100);		/* @site realloc_start */

	touch(p, 100);
	return p;
}

__attribute__((noinline)) static void *realloc_grow(void *p)
{
	p = realloc(p, 200);		/* @site realloc_grow */
	touch(p, 200);
	return p;
}

/* The block ends up owned by the last realloc: that is where it leaks. */
__attribute__((noinline)) static void leak_realloc(void)
{
	void *p = realloc_grow(realloc_start());

	keep(realloc(p, 400));		/* @site leak_realloc */
}

__attribute__((noinline)) static void leak_posix_memalign(void)
{
	void *p;
	int i;

	for (i = 0; i < opaque(2); i++) {
		if (posix_memalign(&p, 64, 4096) == 0) /* @site leak_posix_memalign */
			keep(p);
	}
}

__attribute__((noinline)) static void leak_aligned_alloc(void)
{
	int i;

	for (i = 0; i < opaque(4); i++)
		keep(aligned_alloc(64, 128));	/* @site leak_aligned_alloc */
}

__attribute__((noinline)) static void leak_memalign(void)
{
	leak_posix_memalign();
	leak_aligned_alloc();
}

/*
 * Balanced work: a sliding window of live blocks of varied sizes (small,
 * medium, and now and then above the mmap threshold), so frees are not
 * LIFO and addresses are reused by later blocks.
 */
__attribute__((noinline)) static void churn(void)
{
	void *win[CHURN_WINDOW] = { NULL };
	size_t size;
	int i;

	for (i = 0; i < CHURN_PAIRS; i++) {
		size = 16 + (size_t)(i * 37) % 4000;
		if (i % 1000 == 999)
			size = 256 << 10;
		free(win[i % CHURN_WINDOW]);
		win[i % CHURN_WINDOW] = malloc(size);	/* @site churn */
		touch(win[i % CHURN_WINDOW], size);
		keep(win[i % CHURN_WINDOW]);
	}
	for (i = 0; i < CHURN_WINDOW; i++)
		free(win[i]);
}

/* glibc: realloc(p, 0) frees p and returns NULL. */
__attribute__((noinline)) static void realloc_to_zero(void)
{
	volatile size_t zero = 0;
	void *p = malloc(300);			/* @site realloc_to_zero */

	touch(p, 300);
	keep(p);
	keep(realloc(p, zero));
}

/* A failed realloc returns NULL and leaves the old block alone. */
__attribute__((noinline)) static void realloc_fail(void)
{
	volatile size_t huge = SIZE_MAX / 2;
	void *p = malloc(500);			/* @site realloc_fail */
	void *q;

	touch(p, 500);
	keep(p);
	q = realloc(p, huge);
	if (q) {
		fprintf(stderr, "leaky: realloc(%zu) did not fail\n", huge);
		exit(1);
	}
	free(p);
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	target_wait(argc, argv);

	if (pthread_create(&a, NULL, leak_in_thread_a, NULL) ||
	    pthread_create(&b, NULL, leak_in_thread_b, NULL)) {
		fprintf(stderr, "leaky: pthread_create failed\n");
		return 1;
	}
	pthread_join(a, NULL);
	pthread_join(b, NULL);

	leak_calloc();
	leak_realloc();
	leak_memalign();
	churn();
	realloc_to_zero();
	realloc_fail();
	return 0;
}
