// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * fam_cxx: every operator new and delete libstdc++ exports, used rightly,
 * built as production C++ is (g++ -O2: no frame pointers). What is still
 * allocated at exit, per marked call (check.py "fam_cxx"):
 *
 *   cxx_leak_new       3 x new Obj (24 bytes)           family new
 *   cxx_leak_array     2 x new char[100]                family new[]
 *   cxx_leak_nothrow   1 x new (nothrow) Obj            family new
 *   cxx_leak_nothrow_array    new (nothrow) char[70]    family new[]
 *   cxx_leak_nothrow_aligned  new (nothrow) Aligned (64) family new
 *   cxx_leak_nothrow_aligned_array  new (nothrow) Aligned[3] (192) new[]
 *   cxx_leak_aligned   1 x new Aligned (64, align 64)   family new
 *   cxx_leak_aligned_array  new Aligned[2] (128)        family new[]
 *   cxx_leak_malloc    1 x malloc(333)                  family malloc
 *
 * Everything else is freed by its matching delete (scalar, sized,
 * aligned, sized aligned, nothrow; array forms), 100 times each: a block
 * counted twice (operator new and the malloc under it) would leave more,
 * a delete counted twice or mismatched would show as an anomaly. The
 * nothrow news are wrappers that call operator new, left unprobed: their
 * blocks' sites must still be these functions, not libstdc++'s.
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

#define N 100

__attribute__((noinline)) static void cxx_leak_new(void)
{
	for (int i = 0; i < opaque(3); i++)
		keep(new Obj());	/* @site cxx_leak_new */
}

__attribute__((noinline)) static void cxx_leak_array(void)
{
	for (int i = 0; i < opaque(2); i++)
		keep(new char[opaque(100)]);	/* @site cxx_leak_array */
}

__attribute__((noinline)) static void cxx_leak_nothrow(void)
{
	keep(new (std::nothrow) Obj());	/* @site cxx_leak_nothrow */
}

__attribute__((noinline)) static void cxx_leak_nothrow_array(void)
{
	keep(new (std::nothrow) char[opaque(70)]);	/* @site cxx_leak_nothrow_array */
}

__attribute__((noinline)) static void cxx_leak_nothrow_aligned(void)
{
	keep(new (std::nothrow) Aligned());	/* @site cxx_leak_nothrow_aligned */
}

__attribute__((noinline)) static void cxx_leak_nothrow_aligned_array(void)
{
	keep(new (std::nothrow) Aligned[opaque(3)]);	/* @site cxx_leak_nothrow_aligned_array */
}

__attribute__((noinline)) static void cxx_leak_aligned(void)
{
	keep(new Aligned());	/* @site cxx_leak_aligned */
}

__attribute__((noinline)) static void cxx_leak_aligned_array(void)
{
	keep(new Aligned[opaque(2)]);	/* @site cxx_leak_aligned_array */
}

__attribute__((noinline)) static void cxx_leak_malloc(void)
{
	keep(malloc(opaque(333)));	/* @site cxx_leak_malloc */
}

/* Each variant allocated and freed by its own delete, N times. */
__attribute__((noinline)) static void cxx_balanced(void)
{
	for (int i = 0; i < opaque(N); i++) {
		Obj *o = new Obj();
		Obj *on = new (std::nothrow) Obj();
		char *a = new char[opaque(50)];
		char *an = new (std::nothrow) char[opaque(50)];
		Aligned *al = new Aligned();
		Aligned *ala = new Aligned[opaque(3)];
		void *raw = ::operator new(opaque(40));
		void *rawa = ::operator new(opaque(40), std::align_val_t(32));
		void *rawan = ::operator new(opaque(40), std::align_val_t(32),
					     std::nothrow);
		void *rawarr = ::operator new[](opaque(40), std::nothrow);
		void *rawarra = ::operator new[](opaque(40),
						 std::align_val_t(32));

		keep(o);
		keep(on);
		keep(a);
		keep(an);
		keep(al);
		keep(ala);
		delete o;			/* sized: _ZdlPvm */
		::operator delete(on, std::nothrow);
		delete[] a;
		::operator delete[](an, std::nothrow);
		delete al;			/* sized aligned */
		delete[] ala;			/* aligned array */
		::operator delete(raw);
		::operator delete(rawa, std::align_val_t(32));
		::operator delete(rawan, std::align_val_t(32), std::nothrow);
		::operator delete[](rawarr, opaque(40));
		::operator delete[](rawarra, std::align_val_t(32));
		free(malloc(opaque(16)));
	}
}

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	cxx_balanced();
	cxx_leak_new();
	cxx_leak_array();
	cxx_leak_nothrow();
	cxx_leak_nothrow_array();
	cxx_leak_nothrow_aligned();
	cxx_leak_nothrow_aligned_array();
	cxx_leak_aligned();
	cxx_leak_aligned_array();
	cxx_leak_malloc();
	return 0;
}
