// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * fam_cxx_throw: operator new failing, as a program sees it when memory
 * runs out or a size is absurd. Each throwing operator new (new, new[],
 * aligned new, aligned new[]) throws std::bad_alloc into a catch here;
 * each nothrow new fails (it catches that same exception inside
 * libstdc++) and returns NULL. Tracing must not change any of it: a
 * return probe on a function an exception leaves ends the program in
 * std::terminate. The exit status says what the program saw: 0 when
 * every failure came back as it should. Built as production C++ is
 * (g++ -O2: no frame pointers). Then, per marked call, still allocated
 * at exit (check.py "fam_cxx_throw"):
 *
 *   throw_leak_new             new Obj (24 bytes)          family new
 *   throw_leak_array           new char[100]               family new[]
 *   throw_leak_aligned         new Aligned (64)            family new
 *   throw_leak_aligned_array   new Aligned[2] (128)        family new[]
 *   throw_leak_nothrow         new (nothrow) Obj (24)      family new
 *   throw_leak_nothrow_array   new (nothrow) char[70]      family new[]
 *
 * Each leak follows a failure on the same thread, so a layer's state left
 * by the throw must not reach them, nor the exception's own allocation
 * (__cxa_allocate_exception's malloc, freed by free: an anomaly if it
 * were counted as new).
 */
#include <cstdlib>
#include <new>
#include "target.h"

struct Obj {
	long a, b, c;
};

struct alignas(64) Aligned {
	char b[64];
};

/* More than any machine has: malloc fails, operator new throws. */
static volatile size_t huge = 1ul << 62;

static int failures_seen;

__attribute__((noinline)) static void fail_new(void)
{
	try {
		keep(::operator new(huge));
	} catch (const std::bad_alloc &) {
		failures_seen++;
	}
}

__attribute__((noinline)) static void fail_array(void)
{
	try {
		keep(new char[huge]);
	} catch (const std::bad_alloc &) {
		failures_seen++;
	}
}

__attribute__((noinline)) static void fail_aligned(void)
{
	try {
		keep(::operator new(huge, std::align_val_t(64)));
	} catch (const std::bad_alloc &) {
		failures_seen++;
	}
}

__attribute__((noinline)) static void fail_aligned_array(void)
{
	try {
		keep(::operator new[](huge, std::align_val_t(64)));
	} catch (const std::bad_alloc &) {
		failures_seen++;
	}
}

__attribute__((noinline)) static void fail_nothrow(void)
{
	if (!::operator new(huge, std::nothrow))
		failures_seen++;
	if (!new (std::nothrow) char[huge])
		failures_seen++;
	if (!::operator new(huge, std::align_val_t(64), std::nothrow))
		failures_seen++;
}

__attribute__((noinline)) static void throw_leak_new(void)
{
	keep(new Obj());	/* @site throw_leak_new */
}

__attribute__((noinline)) static void throw_leak_array(void)
{
	keep(new char[opaque(100)]);	/* @site throw_leak_array */
}

__attribute__((noinline)) static void throw_leak_aligned(void)
{
	keep(new Aligned());	/* @site throw_leak_aligned */
}

__attribute__((noinline)) static void throw_leak_aligned_array(void)
{
	keep(new Aligned[opaque(2)]);	/* @site throw_leak_aligned_array */
}

__attribute__((noinline)) static void throw_leak_nothrow(void)
{
	keep(new (std::nothrow) Obj());	/* @site throw_leak_nothrow */
}

__attribute__((noinline)) static void throw_leak_nothrow_array(void)
{
	keep(new (std::nothrow) char[opaque(70)]);	/* @site throw_leak_nothrow_array */
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	fail_new();
	throw_leak_new();
	fail_array();
	throw_leak_array();
	fail_aligned();
	throw_leak_aligned();
	fail_aligned_array();
	throw_leak_aligned_array();
	fail_nothrow();
	throw_leak_nothrow();
	throw_leak_nothrow_array();
	return failures_seen == 7 ? 0 : 1;
}
