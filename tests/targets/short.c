/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * short: a command that lives about 50 ms. It leaks 7 blocks of 333 bytes
 * (2331 bytes) from short_leak and exits, so the report has to be
 * symbolized after the target is gone.
 */
#include <time.h>
#include "target.h"

__attribute__((noinline)) static void short_leak(void)
{
	int i;

	for (i = 0; i < opaque(7); i++)
		keep(malloc(333));		/* @site short_leak */
}

int main(int argc, char **argv)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000 * 1000 };

	target_wait(argc, argv);

	short_leak();
	nanosleep(&ts, NULL);
	return 0;
}
