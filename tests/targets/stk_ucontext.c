/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_ucontext: a coroutine that allocates (gcc -O2 -g, no frame
 * pointers). main makes a context with makecontext on a stack of its own
 * and switches to it 15 times; each time the coroutine allocates once,
 * from co_alloc under co_step under co_body, and switches back. The
 * coroutine's stack is co_alloc, co_step, co_body, then glibc's
 * __start_context: makecontext wrote its address as co_body's return
 * address, and nothing called it, so the stack ends there, whole (not
 * main's frames: they are on another stack). stk_ucontext.json declares
 * the chain.
 */
#include <ucontext.h>
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")
#define STEPS	15

static ucontext_t main_uc, co_uc;

FN void co_alloc(int i)
{
	keep(malloc(48 + i));			/* @site co_alloc */
}

FN void co_step(int i)
{
	co_alloc(i);
	NOTAIL();
}

FN void co_body(void)
{
	int i;

	for (i = 0; i < opaque(STEPS); i++) {
		co_step(i);
		if (swapcontext(&co_uc, &main_uc)) {
			perror("swapcontext");
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	static char stack[64 * 1024];
	int i;

	target_wait(argc, argv);
	if (getcontext(&co_uc)) {
		perror("getcontext");
		return 1;
	}
	co_uc.uc_stack.ss_sp = stack;
	co_uc.uc_stack.ss_size = sizeof(stack);
	co_uc.uc_link = &main_uc;
	makecontext(&co_uc, co_body, 0);
	/* one more switch lets co_body return, through uc_link */
	for (i = 0; i <= STEPS; i++) {
		if (swapcontext(&main_uc, &co_uc)) {
			perror("swapcontext");
			return 1;
		}
	}
	NOTAIL();
	return 0;
}
