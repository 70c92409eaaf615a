/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libstk_ctor.so: a library whose constructor allocates. The dynamic
 * loader runs it before the program's main, from _dl_init, which its
 * entry code (_dl_start_user, after _start: no CFI) calls: the stack's
 * outermost frame is the loader's entry, not the program's _start.
 * gcc -O2 -g -fPIC, no frame pointers.
 */
#include <stdlib.h>

#define NOTAIL()	__asm__ volatile ("" ::: "memory")

void *ctorlib_sink[12];
void ctorlib_fill(int n);

__attribute__((noinline)) void ctorlib_fill(int n)
{
	int i;

	for (i = 0; i < n && i < 12; i++) {
		__asm__ volatile ("" : "+r" (i));
		ctorlib_sink[i] = malloc(24); /* @site ctorlib_fill */
	}
}

__attribute__((constructor)) static void ctorlib_init(void)
{
	ctorlib_fill(12);
	NOTAIL();
}
