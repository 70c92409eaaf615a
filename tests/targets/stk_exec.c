/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_exec: allocates 40 blocks (main, exec_run, exec_leaf) and frees
 * none, then execs stk_exec_b from beside it. Both are linked without PIE,
 * so the two programs' code lies at the same addresses: each image's
 * stacks must be unwound with its own tables and named from its own
 * file. gcc -O2 -g -no-pie, no frame pointers.
 */
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")

FN void exec_leaf(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		__asm__ volatile ("" : "+r" (i));
		keep(malloc(40)); /* @site exec_leaf */
	}
}

FN void exec_run(void)
{
	exec_leaf(opaque(40));
	NOTAIL();
}

int main(int argc, char **argv)
{
	char next[PATH_MAX + 32];

	target_wait(argc, argv);
	exec_run();
	target_beside("stk_exec_b", next);
	execl(next, next, (char *)NULL);
	perror("execl");
	return 1;
}
