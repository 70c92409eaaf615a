// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * reach_cxx: the heap scan's C++ case (tests/integration/reach_truth.py):
 *
 *   site        blocks  class
 *   sp_cycle         6  3 definitely, 3 indirectly lost: three leaked
 *                       cycles of two shared_ptr nodes (make_shared: one
 *                       block each, its control block first)
 *   sp_held          3  still reachable: a global points to a
 *                       shared_ptr on the heap, which holds a node,
 *                       which holds the other (exit() runs no
 *                       destructor of a heap object)
 */
#include <memory>
#include "target.h"

struct node {
	std::shared_ptr<node> other;
	char pad[32];
};

std::shared_ptr<node> *held;

__attribute__((noinline)) static void sp_cycle()
{
	for (int i = 0; i < opaque(3); i++) {
		auto a = std::make_shared<node>();	// @site sp_cycle
		auto b = std::make_shared<node>();	// @site sp_cycle
		a->other = b;
		b->other = a;
	}
}

__attribute__((noinline)) static void sp_held()
{
	held = new std::shared_ptr<node>;			// @site sp_held
	*held = std::make_shared<node>();			// @site sp_held
	(*held)->other = std::make_shared<node>();		// @site sp_held
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	sp_cycle();
	sp_held();
	exit(0);
}
