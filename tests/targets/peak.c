/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * peak: a known peak. peak_big makes 10 x 1 MiB and peak_small 5 x 512 KiB,
 * all live together (the peak: 13107200 bytes plus whatever libc holds),
 * then everything is freed and after_peak leaks one 4096-byte block.
 * The blocks live at the peak, by calling function:
 *
 *   peak_big     10 blocks  10485760 bytes
 *   peak_small    5 blocks   2621440 bytes
 *
 * and after_peak (1 block, 4096 bytes) is the only leak from this file.
 */
#include "target.h"

#define NR_BIG		10
#define BIG_SIZE	(1 << 20)
#define NR_SMALL	5
#define SMALL_SIZE	(512 << 10)

static void *big[NR_BIG];
static void *small[NR_SMALL];

__attribute__((noinline)) static void peak_big(void)
{
	int i;

	for (i = 0; i < opaque(NR_BIG); i++) {
		big[i] = malloc(BIG_SIZE);	/* @site peak_big */
		touch(big[i], BIG_SIZE);
	}
}

__attribute__((noinline)) static void peak_small(void)
{
	int i;

	for (i = 0; i < opaque(NR_SMALL); i++) {
		small[i] = malloc(SMALL_SIZE);	/* @site peak_small */
		touch(small[i], SMALL_SIZE);
	}
}

__attribute__((noinline)) static void release_all(void)
{
	int i;

	for (i = 0; i < NR_BIG; i++)
		free(big[i]);
	for (i = 0; i < NR_SMALL; i++)
		free(small[i]);
}

__attribute__((noinline)) static void after_peak(void)
{
	keep(malloc(4096));			/* @site after_peak */
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);

	peak_big();
	peak_small();
	release_all();
	after_peak();
	return 0;
}
