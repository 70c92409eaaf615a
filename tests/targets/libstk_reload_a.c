/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * One of the two plugins stk_reload loads in turn at the same address:
 * its leaf keeps a 3000-byte frame filled with one byte, so that the
 * other plugin's unwind rows, applied to this code, would read that
 * filling as return addresses.
 */
#include <string.h>
#include "target.h"

__attribute__((noinline)) void reload_a_leaf(int i)
{
	volatile char buf[3000];

	memset((char *)buf, 0x40 + (i & 63), sizeof(buf));
	keep(malloc(100 + buf[7]));		/* @site reload_a_leaf */
}

void reload_entry(int i)
{
	reload_a_leaf(i);
	__asm__ volatile ("" ::: "memory");
}
