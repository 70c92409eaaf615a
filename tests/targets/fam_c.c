// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * fam_c: the C API, and the extended API of whichever allocator is
 * preloaded (LD_PRELOAD of Debian's libjemalloc.so.2,
 * libtcmalloc_minimal.so.4 or libmimalloc.so.2; found with dlsym, so one
 * binary serves all), built without frame pointers. Still allocated at
 * exit, per marked call (check.py "fam_c_ALLOCATOR"):
 *
 *   c_leak_malloc   4 x malloc(100)                        malloc
 *   c_leak_calloc   2 x calloc(10, 10)                     malloc
 *   c_leak_realloc  1 x realloc(p, 500)                    malloc
 *   c_leak_ext      3 x 300 bytes: mallocx (jemalloc),     the allocator's
 *                   tc_malloc_skip_new_handler (tcmalloc),
 *                   mi_zalloc (mimalloc); none with glibc
 *
 * Everything else is freed through the same API, 1000 times a kind.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include "target.h"

#define N 1000

/* jemalloc */
static void *(*je_mallocx)(size_t, int);
static void *(*je_rallocx)(void *, size_t, int);
static size_t (*je_xallocx)(void *, size_t, size_t, int);
static void (*je_dallocx)(void *, int);
static void (*je_sdallocx)(void *, size_t, int);
/* tcmalloc */
static void *(*tc_alloc)(size_t);
static void (*tc_free_fn)(void *);
/* mimalloc */
static void *(*mi_zalloc_fn)(size_t);
static void *(*mi_malloc_aligned_fn)(size_t, size_t);
static void *(*mi_realloc_fn)(void *, size_t);
static void (*mi_free_fn)(void *);

static void *sym(const char *name)
{
	return dlsym(RTLD_DEFAULT, name);
}

static void find_ext(void)
{
	*(void **)&je_mallocx = sym("mallocx");
	*(void **)&je_rallocx = sym("rallocx");
	*(void **)&je_xallocx = sym("xallocx");
	*(void **)&je_dallocx = sym("dallocx");
	*(void **)&je_sdallocx = sym("sdallocx");
	*(void **)&tc_alloc = sym("tc_malloc_skip_new_handler");
	*(void **)&tc_free_fn = sym("tc_free");
	*(void **)&mi_zalloc_fn = sym("mi_zalloc");
	*(void **)&mi_malloc_aligned_fn = sym("mi_malloc_aligned");
	*(void **)&mi_realloc_fn = sym("mi_realloc");
	*(void **)&mi_free_fn = sym("mi_free");
}

__attribute__((noinline)) static void c_leak_malloc(void)
{
	for (int i = 0; i < opaque(4); i++)
		keep(malloc(opaque(100)));	/* @site c_leak_malloc */
}

__attribute__((noinline)) static void c_leak_calloc(void)
{
	for (int i = 0; i < opaque(2); i++)
		keep(calloc(opaque(10), 10));	/* @site c_leak_calloc */
}

__attribute__((noinline)) static void c_leak_realloc(void)
{
	void *p = malloc(opaque(10));

	keep(p);
	keep(realloc(p, opaque(500)));	/* @site c_leak_realloc */
}

__attribute__((noinline)) static void *ext_alloc(size_t n)
{
	if (je_mallocx)
		return je_mallocx(n, 0);
	if (tc_alloc)
		return tc_alloc(n);
	return mi_zalloc_fn(n);
}

__attribute__((noinline)) static void c_leak_ext(void)
{
	if (!je_mallocx && !tc_alloc && !mi_zalloc_fn)
		return;
	for (int i = 0; i < opaque(3); i++)
		keep(ext_alloc(opaque(300)));	/* @site c_leak_ext */
}

/* The allocator's own API, every block freed by it. */
__attribute__((noinline)) static void c_churn_ext(void)
{
	for (int i = 0; i < opaque(N); i++) {
		void *p, *q;

		if (je_mallocx) {
			p = je_mallocx(opaque(64), 0);
			keep(p);
			p = je_rallocx(p, opaque(200), 0);
			keep(p);
			je_xallocx(p, opaque(256), 0, 0);
			je_dallocx(p, 0);
			q = je_mallocx(opaque(48), 0);
			keep(q);
			je_sdallocx(q, 48, 0);
			free(je_mallocx(opaque(32), 0));
		}
		if (tc_alloc) {
			p = tc_alloc(opaque(64));
			keep(p);
			tc_free_fn(p);
			free(tc_alloc(opaque(32)));
		}
		if (mi_zalloc_fn) {
			p = mi_malloc_aligned_fn(opaque(64), 64);
			keep(p);
			p = mi_realloc_fn(p, opaque(300));
			keep(p);
			mi_free_fn(p);
			free(mi_zalloc_fn(opaque(32)));
		}
	}
}

__attribute__((noinline)) static void c_churn(void)
{
	for (int i = 0; i < opaque(N); i++) {
		void *p = malloc(opaque(64));

		keep(p);
		p = realloc(p, opaque(128));
		keep(p);
		free(p);
		free(calloc(opaque(3), 8));
	}
}

int main(int argc, char **argv)
{
	find_ext();
	target_wait(argc, argv);
	c_churn();
	c_churn_ext();
	c_leak_malloc();
	c_leak_calloc();
	c_leak_realloc();
	c_leak_ext();
	return 0;
}
