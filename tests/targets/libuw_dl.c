/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* dlopen()ed by uw_chain: frames in an object mapped after the attach. */
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *uw_sink;

static NOINLINE void *uw_dl_inner(size_t n)
{
	void *p = malloc(n);

	__atomic_store_n(&uw_sink, p, __ATOMIC_RELAXED);
	return p;
}

void *uw_dl_alloc(size_t n)
{
	volatile char pad[40];
	void *p;

	pad[0] = 1;
	p = uw_dl_inner(n + pad[0] * 0);
	__atomic_store_n(&uw_sink, p, __ATOMIC_RELAXED);
	return p;
}

/*
 * uw_chain protect maps this file by hand and calls this copy, which no
 * loader relocated: it uses no global, no PLT, only the allocator it is
 * handed.
 */
static NOINLINE void *uw_ml_inner(void *(*alloc)(size_t), size_t n)
{
	volatile char pad[24];
	void *p = alloc(n);

	pad[0] = 1;
	return pad[0] ? p : NULL;
}

void *uw_ml_loaded(void *(*alloc)(size_t), size_t n)
{
	volatile long pad[5];
	void *p;

	pad[2] = 1;
	p = uw_ml_inner(alloc, n + pad[2] * 0);
	pad[1] = 1;
	return pad[1] ? p : NULL;
}
