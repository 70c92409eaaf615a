/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_plt: 40 allocations reached only through PLT stubs, bound lazily:
 * main, plt_run, then libstk_plt.so's pltlib_a and pltlib_b (see there).
 * gcc -O2 -g, no frame pointers; stk_plt.json declares the chain.
 */
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")

void pltlib_a(int n);

FN void plt_run(void)
{
	pltlib_a(opaque(40));
	NOTAIL();
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	plt_run();
	NOTAIL();
	return 0;
}
