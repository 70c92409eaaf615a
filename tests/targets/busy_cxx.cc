// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// busy_cxx: busy's C++ side. Allocates with new (which calls malloc) and
// frees with delete (which calls free) as fast as it can from the start,
// so a tracer attaches (-p) and detaches (-d) while calls of both layers
// are in flight. Every block is freed by its matching delete: a block new
// made while only malloc was probed, or a delete seen as a bare free,
// would show as a mismatched free, a probe left in after its partner went
// as a double one. Prints "ready <pid>" at once; exits on SIGUSR1.
#include <csignal>
#include <string>
#include "target.h"

static volatile sig_atomic_t go;

static void on_usr1(int)
{
	go = 1;
}

__attribute__((noinline)) static void busy_cxx_churn(void)
{
	std::string *v[64];
	int i;

	for (i = 0; i < opaque(64); i++) {
		v[i] = new std::string(40 + i, 'x');
		keep(v[i]);
	}
	for (i = 0; i < opaque(64); i++)
		delete v[i];
}

int main()
{
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (!go)
		busy_cxx_churn();
	keep(nullptr);
	return 0;
}
