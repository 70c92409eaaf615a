/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libstk_plt.so: every call on the way to malloc goes through a PLT.
 * stk_plt calls pltlib_a through its own PLT; pltlib_a calls pltlib_b
 * through this library's PLT (both are exported, so interposable: GCC
 * cannot call one directly); pltlib_b calls malloc through it too. The
 * library and the executable bind lazily: the first call of each stub
 * goes through the dynamic linker's resolver, which must leave no frame.
 * gcc -O2 -g -fPIC, no frame pointers.
 */
#include <stdlib.h>

#define NOTAIL()	__asm__ volatile ("" ::: "memory")

void *pltlib_sink;
void pltlib_b(int n);
void pltlib_a(int n);

__attribute__((noinline)) void pltlib_b(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		__asm__ volatile ("" : "+r" (i));
		__atomic_store_n(&pltlib_sink, malloc(56), __ATOMIC_RELAXED); /* @site pltlib_b */
	}
}

__attribute__((noinline)) void pltlib_a(int n)
{
	pltlib_b(n);
	NOTAIL();
}
