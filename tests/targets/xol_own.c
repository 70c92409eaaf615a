/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * xol_own: a malloc of its own whose probe the kernel must single-step,
 * the positive control of the no-single-step test (tests/integration/
 * xol.sh): without one, an empty "[uprobes]" area could as well mean a
 * count that sees nothing. The executable's malloc moves the stack
 * pointer before its first emulated instruction, where the return probe
 * could no longer find the return address, and leaves for glibc's
 * __libc_malloc, which is no allocator name placement could hand the
 * call to: no emulated site, and no function it only forwards to.
 */
#include <stdio.h>
#include <stdlib.h>
#include "target.h"

#define ROUNDS	100

__asm__(".globl malloc\n"
	".type malloc, @function\n"
	"malloc:\n"
	"	sub $8, %rsp\n"
	"	add $8, %rsp\n"
	"	jmp __libc_malloc@PLT\n"
	".size malloc, .-malloc\n");

int main(int argc, char **argv)
{
	void *p;
	int i;

	target_wait(argc, argv);
	for (i = 0; i < opaque(ROUNDS); i++) {
		p = malloc(40 + i);
		keep(p);
		free(p);
	}
	printf("done\n");
	return 0;
}
