/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libstk_rows.so: a library whose CFI takes many chunks of unwind rows
 * (6,000 functions of 200 rows each: 1.2M rows, as big programs' objects
 * take; rustc's driver 1.15M), and rows_run, which allocates. gcc -O2 -g
 * -fPIC, no frame pointers.
 */
#include <stdlib.h>
#include "../fixtures/cfi_rows.h"

CFI_ROWS_FUNCTIONS(6000);

void *rows_sink[32];
void rows_run(int n);

__attribute__((noinline)) void rows_run(int n)
{
	int i;

	for (i = 0; i < n && i < 32; i++) {
		__asm__ volatile ("" : "+r" (i));
		rows_sink[i] = malloc(64); /* @site rows_run */
	}
}
