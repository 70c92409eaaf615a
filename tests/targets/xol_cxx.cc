// SPDX-License-Identifier: (MIT OR Apache-2.0)
//
// xol_cxx: the xol target's C++ side: every variant of operator new and
// delete libstdc++ defines (plain, array, nothrow, aligned, sized), ROUNDS
// times each, then "done".
#include <new>
#include "target.h"

#define ROUNDS	200

struct alignas(64) Wide {
	char b[96];
};

int main(int argc, char **argv)
{
	int i;

	target_wait(argc, argv);
	for (i = 0; i < opaque(ROUNDS); i++) {
		int *one = new int(i);
		keep(one);
		delete one;				// sized delete
		char *arr = new char[32 + i];
		keep(arr);
		delete[] arr;
		int *nt = new (std::nothrow) int(i);
		keep(nt);
		delete nt;
		Wide *w = new Wide;			// aligned new
		keep(w);
		delete w;				// sized aligned delete
		Wide *wa = new Wide[2];
		keep(wa);
		delete[] wa;
		void *raw = ::operator new(40);
		keep(raw);
		::operator delete(raw);			// unsized delete
	}
	keep(nullptr);
	printf("done\n");
	return 0;
}
