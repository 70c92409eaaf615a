/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_dlthread: a second thread dlopens libstk_dl.so (beside the
 * executable) and calls into it at once: 30 allocations whose chain is
 * dlt_thread, dlt_run, then the library's stkdl_entry, stkdl_mid,
 * stkdl_leaf. No pause between the mapping and the calls: under -- CMD
 * the tool holds whichever thread made the mapping until the library's
 * table is loaded, so no stack may stop at it as not loaded.
 * gcc -O2 -g, no frame pointers; stk_dlthread.json declares the chain.
 */
#include <dlfcn.h>
#include <pthread.h>
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")

FN void dlt_run(void (*entry)(int))
{
	entry(opaque(30));
	NOTAIL();
}

FN void *dlt_thread(void *lib)
{
	void (*entry)(int);
	void *h;

	h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "stk_dlthread: %s\n", dlerror());
		exit(1);
	}
	*(void **)&entry = dlsym(h, "stkdl_entry");
	if (!entry) {
		fprintf(stderr, "stk_dlthread: %s\n", dlerror());
		exit(1);
	}
	dlt_run(entry);
	NOTAIL();
	return NULL;
}

int main(int argc, char **argv)
{
	char lib[PATH_MAX + 32];
	pthread_t thr;
	int err;

	target_wait(argc, argv);
	target_beside("libstk_dl.so", lib);
	err = pthread_create(&thr, NULL, dlt_thread, lib);
	if (err) {
		fprintf(stderr, "stk_dlthread: pthread_create: %s\n",
			strerror(err));
		return 1;
	}
	pthread_join(thr, NULL);
	return 0;
}
