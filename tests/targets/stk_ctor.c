/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_ctor: linked with libstk_ctor.so, whose constructor allocates 12
 * blocks before main runs (see there); main itself allocates nothing.
 * gcc -O2 -g, no frame pointers; stk_ctor.json declares the chain.
 */
#include "target.h"

extern void *ctorlib_sink[12];

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	return ctorlib_sink[11] == NULL;
}
