/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_dlopen: dlopens libstk_dl.so (beside the executable) and calls into
 * it: 30 allocations whose chain is main, dlo_run, then the library's
 * stkdl_entry, stkdl_mid, stkdl_leaf. The library is mapped after tracing
 * began: its table is loaded when it appears, and the calls wait 300 ms
 * for that, since a stack that reaches a mapping whose table is not
 * loaded yet stops there (counted), it is not guessed.
 * gcc -O2 -g, no frame pointers; stk_dlopen.json declares the chain.
 */
#include <dlfcn.h>
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")

FN void dlo_run(void (*entry)(int))
{
	entry(opaque(30));
	NOTAIL();
}

int main(int argc, char **argv)
{
	char lib[PATH_MAX + 32];
	void (*entry)(int);
	void *h;

	target_wait(argc, argv);
	target_beside("libstk_dl.so", lib);
	h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "stk_dlopen: %s\n", dlerror());
		return 1;
	}
	*(void **)&entry = dlsym(h, "stkdl_entry");
	if (!entry) {
		fprintf(stderr, "stk_dlopen: %s\n", dlerror());
		return 1;
	}
	usleep(300 * 1000);
	dlo_run(entry);
	NOTAIL();
	return 0;
}
