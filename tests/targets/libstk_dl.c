/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libstk_dl.so: loaded by stk_dlopen with dlopen(3) after tracing began,
 * so its unwind table can only be loaded once it is mapped. Built like
 * production code (gcc -O2 -g -fPIC, no frame pointers).
 */
#include <stdlib.h>

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")

void *stkdl_sink;

FN void stkdl_leaf(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		__asm__ volatile ("" : "+r" (i));
		__atomic_store_n(&stkdl_sink, malloc(72), __ATOMIC_RELAXED); /* @site stkdl_leaf */
	}
}

FN void stkdl_mid(int n)
{
	stkdl_leaf(n);
	NOTAIL();
}

void stkdl_entry(int n);

void stkdl_entry(int n)
{
	stkdl_mid(n);
	NOTAIL();
}
