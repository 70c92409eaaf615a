// SPDX-License-Identifier: (MIT OR Apache-2.0)
// C++ at -O2, without frame pointers, as production code is built: what
// t_names checks in the report. Pool<long>::take is inlined into
// Basket::fill, which calls malloc itself, so the immediate caller (the
// frame captured without any unwinding) stands for two frames: take at
// its malloc line, inlined, then fill at the line that calls take. A
// string's buffer is allocated (operator new, the block's family) by
// libstdc++'s basic_string::_M_construct, named from its .dynsym.
// The lines are marked @line NAME for the test.
#include <cstdio>
#include <cstdlib>
#include <string>

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
static std::string *keep_str;

int main()
{
	keep = new shop::Basket;
	keep->fill(100);
	keep_str = new std::string(100, 'x');
	std::printf("%ld %zu\n", keep->items[99], keep_str->size());
	return 0;
}
