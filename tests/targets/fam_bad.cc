// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * fam_bad: one free the allocator was not owed of each kind, each in a
 * function of its own that also allocates the block (check.py
 * "fam_bad"): frames[0] of both stacks names the function.
 *
 *   bad_new_free         new Obj freed with free()        mismatched
 *   bad_malloc_delete    malloc() freed with delete       mismatched
 *   bad_array_delete     new char[] freed with delete     mismatched
 *   bad_new_delete_array new Obj freed with delete[]      mismatched
 *   bad_double           malloc, free, free again         double
 *   bad_invalid          free of an address never allocated  invalid
 *   good_reuse           free, malloc at the same address, free: none
 *
 * Run with GLIBC_TUNABLES=glibc.malloc.tcache_count=0, so that glibc
 * lets the double free through (its fastbins check only the last free)
 * and the program ends normally. The invalid free hands glibc a fake
 * mmapped chunk, which it gives back with munmap.
 */
#include <cstdlib>
#include <new>

/* g++ sees most of these mistakes too: they are this program's point. */
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#pragma GCC diagnostic ignored "-Wuse-after-free"
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"

#include <sys/mman.h>
#include "target.h"

struct Obj {
	long a, b, c;
};

__attribute__((noinline)) static void bad_new_free(void)
{
	Obj *p = new Obj();

	keep(p);
	free(p);
	keep(nullptr);	/* no tail call: this frame frees */
}

__attribute__((noinline)) static void bad_malloc_delete(void)
{
	Obj *p = static_cast<Obj *>(malloc(sizeof(Obj)));

	keep(p);
	delete p;
	keep(nullptr);
}

__attribute__((noinline)) static void bad_array_delete(void)
{
	char *p = new char[opaque(64)];

	keep(p);
	delete p;
	keep(nullptr);
}

__attribute__((noinline)) static void bad_new_delete_array(void)
{
	Obj *p = new Obj();

	keep(p);
	delete[] p;
	keep(nullptr);
}

__attribute__((noinline)) static void bad_double(void)
{
	void *a = malloc(opaque(24)), *b = malloc(opaque(24));

	keep(a);
	keep(b);
	free(a);
	free(b);
	free(a);
	keep(nullptr);
}

/* Freed, and allocated again at the same address: its free is right. */
__attribute__((noinline)) static void good_reuse(void)
{
	void *c = malloc(opaque(40)), *d;

	keep(c);
	free(c);
	d = malloc(opaque(40));
	keep(d);
	free(d);
}

/*
 * A chunk header glibc takes for an mmapped block of two pages, so its
 * free unmaps them instead of aborting: an address no allocator made.
 */
__attribute__((noinline)) static void bad_invalid(void)
{
	size_t page = sysconf(_SC_PAGESIZE);
	char *m = static_cast<char *>(mmap(NULL, 2 * page,
					   PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));

	if (m == MAP_FAILED)
		exit(1);
	reinterpret_cast<size_t *>(m)[0] = 0;		/* prev_size */
	reinterpret_cast<size_t *>(m)[1] = 2 * page | 2;	/* IS_MMAPPED */
	free(m + 16);
	keep(nullptr);
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	bad_new_free();
	bad_malloc_delete();
	bad_array_delete();
	bad_new_delete_array();
	good_reuse();
	bad_double();
	bad_invalid();
	return 0;
}
