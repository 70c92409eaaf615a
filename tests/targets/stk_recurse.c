/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_recurse: 10 allocations at the bottom of a 200-frame recursion
 * (gcc -O2 -g, no frame pointers): main, rec_start, 200 x rec_down,
 * rec_leaf, then malloc. Deeper than the default depth limit, so the
 * stack is cut there and the cut counted; whole with --max-depth 256.
 * stk_recurse.json declares the chain.
 */
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")
#define DEPTH	200

FN void rec_leaf(void)
{
	int i;

	for (i = 0; i < opaque(10); i++)
		keep(malloc(128));		/* @site rec_leaf */
}

/* Work after the call keeps each level a real frame (no tail call). */
FN int rec_down(int n)
{
	if (n <= 1)
		rec_leaf();
	else
		rec_down(n - 1);
	NOTAIL();
	return n;
}

FN void rec_start(void)
{
	rec_down(opaque(DEPTH));
	NOTAIL();
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	rec_start();
	NOTAIL();
	return 0;
}
