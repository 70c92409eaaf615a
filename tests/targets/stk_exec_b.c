/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_exec_b: what stk_exec execs. Other code at the same addresses
 * (padding first), it waits 300 ms for the tool to read its new
 * mappings (nothing holds an exec under -p), then allocates 30 blocks
 * (main, b_mid, b_leaf) and exits. gcc -O2 -g -no-pie, no frame pointers.
 */
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")

FN void b_pad(int n)
{
	char buf[512];
	int i;

	for (i = 0; i < n; i++)
		buf[i % 512] = (char)i;
	__asm__ volatile ("" : : "r" (buf) : "memory");
}

FN void b_leaf(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		__asm__ volatile ("" : "+r" (i));
		keep(malloc(24)); /* @site b_leaf */
	}
}

FN void b_mid(void)
{
	b_leaf(opaque(30));
	NOTAIL();
}

int main(void)
{
	b_pad(opaque(3));
	usleep(300000);
	b_mid();
	NOTAIL();
	return 0;
}
