/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * manystacks: 20000 malloc/free pairs, each at the bottom of a random path
 * of 12 calls through two functions: up to 4096 distinct call stacks, as a
 * recursive parser or tree walk makes them, from two call sites. Then one
 * block leaks from a path of 13, a stack never seen before. With
 * MANYSTACKS_HOLD set it then waits to be killed (for --live).
 */
#include "target.h"

static unsigned long long state = 88172645463325252ull;
static int leak;

static unsigned int rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

__attribute__((noinline)) static void left(int depth);
__attribute__((noinline)) static void right(int depth);

static void step(int depth)
{
	if (rnd() & 1)
		left(depth - 1);
	else
		right(depth - 1);
}

__attribute__((noinline)) static void left(int depth)
{
	void *p;

	if (depth) {
		step(depth);
		return;
	}
	p = malloc(32);			/* @site left */
	keep(p);
	if (!leak)
		free(p);
}

__attribute__((noinline)) static void right(int depth)
{
	void *p;

	if (depth) {
		step(depth);
		return;
	}
	p = malloc(48);			/* @site right */
	keep(p);
	if (!leak)
		free(p);
}

int main(int argc, char **argv)
{
	int i;

	target_wait(argc, argv);
	for (i = 0; i < opaque(20000); i++)
		step(12);
	leak = 1;
	step(13);
	if (getenv("MANYSTACKS_HOLD"))
		pause();
	return 0;
}
