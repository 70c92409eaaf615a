// SPDX-License-Identifier: (MIT OR Apache-2.0)
// C++ at -O2, without frame pointers, as production code is built: what
// t_names checks in the report. Pool<long>::take is inlined into
// Basket::fill, which calls malloc itself, so the immediate caller (the
// frame captured without any unwinding) stands for two frames: take at
// its malloc line, inlined, then fill at the line that calls take. A
// `new` in main is operator new's, named from libstdc++'s .dynsym.
// The lines are marked @line NAME for the test.
#include <cstdio>
#include <cstdlib>

namespace shop {
template <typename T> struct Pool {
	static inline T *take(unsigned long n)
	{
		return static_cast<T *>(std::malloc(n * sizeof(T))); // @line take
	}
};

struct Basket {
	long *items;
	__attribute__((noinline)) void fill(int n)
	{
		items = Pool<long>::take(n); // @line fill
		for (int i = 0; i < n; i++)
			items[i] = i;
	}
};
}

static shop::Basket *keep;

int main()
{
	keep = new shop::Basket;
	keep->fill(100);
	std::printf("%ld\n", keep->items[99]);
	return 0;
}
