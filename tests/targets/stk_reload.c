/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_reload: a plugin host that never stops reloading. It dlopens
 * libstk_reload_a.so, calls it, dlcloses it, then does the same with
 * libstk_reload_b.so, which the loader maps at the same address, and so
 * on until SIGUSR1. A tracer attached with -p finds the process's
 * executable mappings changing all the time: a walk must never apply one
 * plugin's unwind rows to the other's code.
 *
 * Prints "ready <pid>" at once. gcc -O2 -g, no frame pointers.
 */
#include <dlfcn.h>
#include <signal.h>
#include "target.h"

static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

__attribute__((noinline)) static void reload_run(const char *lib)
{
	void (*entry)(int);
	void *h;
	int i;

	h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "stk_reload: %s\n", dlerror());
		exit(1);
	}
	*(void **)&entry = dlsym(h, "reload_entry");
	if (!entry) {
		fprintf(stderr, "stk_reload: %s\n", dlerror());
		exit(1);
	}
	for (i = 0; i < opaque(500); i++)
		entry(i);
	dlclose(h);
	__asm__ volatile ("" ::: "memory");
}

int main(void)
{
	char a[PATH_MAX + 32], b[PATH_MAX + 32];
	int r;

	signal(SIGUSR1, on_usr1);
	target_beside("libstk_reload_a.so", a);
	target_beside("libstk_reload_b.so", b);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (r = 0; !stop; r++)
		reload_run(r & 1 ? b : a);
	return 0;
}
