/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * many: keeps 5000 blocks of 16 bytes live, then frees the first 2500, so
 * a kernel live table sized for fewer (--max-live) runs full: the kernel
 * counters must say they are inexact while the stream stays exact.
 */
#include "target.h"

#define NR	5000

int main(int argc, char **argv)
{
	static void *blocks[NR];
	int i;

	target_wait(argc, argv);
	for (i = 0; i < opaque(NR); i++) {
		blocks[i] = malloc(16);		/* @site many_alloc */
		touch(blocks[i], 16);
	}
	for (i = 0; i < NR / 2; i++)
		free(blocks[i]);
	keep(blocks);
	return 0;
}
