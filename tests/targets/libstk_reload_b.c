/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The other plugin of stk_reload: two small frames where the first
 * plugin has one large one, at the same addresses.
 */
#include "target.h"

__attribute__((noinline)) void reload_b_leaf(int i)
{
	keep(malloc(64 + (i & 7)));		/* @site reload_b_leaf */
	__asm__ volatile ("" ::: "memory");
}

__attribute__((noinline)) void reload_b_mid(int i)
{
	reload_b_leaf(i);
	__asm__ volatile ("" ::: "memory");
}

void reload_entry(int i)
{
	reload_b_mid(i);
	__asm__ volatile ("" ::: "memory");
}
