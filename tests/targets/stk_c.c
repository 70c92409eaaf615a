/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_c: known call chains in a program built the way production C is
 * (gcc -O2 -g: no frame pointers). stk_c.json beside it declares every
 * chain, from main (or the thread's start routine) to the function that
 * calls the allocator; tests/integration/check.py checks each site has
 * exactly that chain, in one row.
 *
 * noinline/noclone keep every function a frame of its own, and NOTAIL()
 * after a call keeps it from becoming a jump that would take the caller's
 * frame off the stack: the chains are what the source says, at -O2.
 */
#include <pthread.h>
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")

FN void c_leaf_a(int n)
{
	int i;

	for (i = 0; i < opaque(n); i++)
		keep(malloc(100));		/* @site c_leaf_a */
}

FN void c_l4(int n)
{
	c_leaf_a(n);
	NOTAIL();
}

FN void c_l3(int n)
{
	c_l4(n);
	NOTAIL();
}

FN void c_branch_a(void)
{
	c_l3(100);
	NOTAIL();
}

FN void c_leaf_b(int n)
{
	int i;

	for (i = 0; i < opaque(n); i++)
		keep(calloc(3, 64));		/* @site c_leaf_b */
}

FN void c_b6(int n)
{
	c_leaf_b(n);
	NOTAIL();
}

FN void c_b5(int n)
{
	c_b6(n);
	NOTAIL();
}

FN void c_b4(int n)
{
	c_b5(n);
	NOTAIL();
}

FN void c_b3(int n)
{
	c_b4(n);
	NOTAIL();
}

FN void c_branch_b(void)
{
	c_b3(50);
	NOTAIL();
}

/* One function, two allocating lines: two sites, two rows. */
FN void c_two_lines(void)
{
	int i;

	for (i = 0; i < opaque(30); i++)
		keep(malloc(24));		/* @site c_two_first */
	for (i = 0; i < opaque(40); i++)
		keep(malloc(48));		/* @site c_two_second */
}

FN void c_two_parent(void)
{
	c_two_lines();
	NOTAIL();
}

FN void c_grow(void)
{
	void *p = NULL;
	int i;

	for (i = 1; i <= opaque(20); i++) {
		p = realloc(p, (size_t)i * 512);	/* @site c_grow */
		touch(p, (size_t)i * 512);
	}
	keep(p);
}

FN void c_grow_parent(void)
{
	c_grow();
	NOTAIL();
}

FN void c_aligned_leaf(void *buf)
{
	int i;

	for (i = 0; i < opaque(20); i++)
		keep(malloc(64 + ((char *)buf)[i % 64]));	/* @site c_aligned_leaf */
}

/*
 * An over-aligned local: GCC realigns the stack (and rsp) here, so the
 * caller's frame is found through the saved pointer (CFA = *(rbp - 8)).
 */
FN void c_aligned(void)
{
	char buf[64] __attribute__((aligned(64)));

	memset(buf, 0, sizeof(buf));
	__asm__ volatile ("" : : "r" (buf) : "memory");
	c_aligned_leaf(buf);
	NOTAIL();
}

/*
 * An over-aligned local beside a variable-length array: GCC realigns
 * through a saved copy of the entry stack pointer (DRAP), and the CFI
 * says CFA = *(rbp - 8), an expression, for the rest of the function.
 * (Not in the build without CFI, stk_c_fp_nocfi: no rule is taken from
 * such a prologue, and its stacks stop there.)
 */
#ifndef STK_NO_DRAP
FN void c_drap(int n)
{
	char buf[64] __attribute__((aligned(64)));
	char vla[n];

	memset(buf, 1, sizeof(buf));
	memset(vla, 0, (size_t)n);
	__asm__ volatile ("" : : "r" (buf), "r" (vla) : "memory");
	c_aligned_leaf(buf);
	NOTAIL();
}
#endif

FN void c_aligned_parent(void)
{
	c_aligned();
#ifndef STK_NO_DRAP
	c_drap(opaque(100));
#endif
	NOTAIL();
}

/*
 * One leaf and its caller reached through two parents of the same frame
 * size, in turn: from one allocation to the next the two innermost frames
 * have the same pc and sp, so the walker's cache of the thread's last
 * walk holds for them, and only the return address into the parent tells
 * the two chains apart.
 */
FN void c_shared_leaf(int n)
{
	keep(malloc(72 + (size_t)n));		/* @site c_shared_leaf */
}

FN void c_shared_mid(int n)
{
	c_shared_leaf(n);
	NOTAIL();
}

FN void c_via_x(int n)
{
	c_shared_mid(n);
	NOTAIL();
}

/* Not the same code as c_via_x, or gcc would fold the two into one. */
FN void c_via_y(int n)
{
	c_shared_mid(n + 1);
	NOTAIL();
}

FN void c_alternate(void)
{
	int i;

	for (i = 0; i < opaque(60); i++) {
		if (i & 1)
			c_via_y(0);
		else
			c_via_x(0);
	}
}

FN void c_thr_leaf(int n)
{
	int i;

	for (i = 0; i < opaque(n); i++)
		keep(malloc(200));		/* @site c_thr_leaf */
}

FN void c_thr_mid(int n)
{
	c_thr_leaf(n);
	NOTAIL();
}

/* A thread's stack ends at start_thread (and clone3): never at main. */
FN void *c_thread(void *arg)
{
	c_thr_mid(25);
	NOTAIL();
	return arg;
}

FN void c_run(void)
{
	pthread_t t[2];
	int i;

	c_branch_a();
	c_branch_b();
	c_two_parent();
	c_grow_parent();
	c_aligned_parent();
	c_alternate();
	for (i = 0; i < 2; i++) {
		if (pthread_create(&t[i], NULL, c_thread, NULL)) {
			fprintf(stderr, "stk_c: pthread_create failed\n");
			exit(1);
		}
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	c_run();
	NOTAIL();
	return 0;
}
