/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_rows: 25 allocations in libstk_rows.so (see there), whose unwind
 * table alone takes 19 of the kernel's 1 MiB row chunks. gcc -O2 -g, no
 * frame pointers; stk_rows.json declares the chain.
 */
#include "target.h"

void rows_run(int n);

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	rows_run(opaque(25));
	__asm__ volatile ("" ::: "memory");
	return 0;
}
