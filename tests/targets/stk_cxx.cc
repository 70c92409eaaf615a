// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * stk_cxx: C++ allocation sites with known chains, built the way
 * production C++ is (g++ -O2 -g: no frame pointers): new, new[],
 * std::vector growth, std::string growth, std::map nodes. Each reaches
 * malloc through libstdc++'s operator new, and the containers through
 * their own (inlined or instantiated) code: stk_cxx.json declares the
 * chains of this program's own functions, from main to the one whose
 * source line made the allocation (the @site line).
 */
#include <map>
#include <string>
#include <vector>
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")

namespace stk {

struct node {
	node *next;
	long payload[5];
};

FN void cxx_new(int n)
{
	for (int i = 0; i < opaque(n); i++)
		keep(new node());			/* @site cxx_new */
}

FN void cxx_new_array(int n)
{
	for (int i = 0; i < opaque(n); i++)
		keep(new int[opaque(33)]);		/* @site cxx_new_array */
}

FN void cxx_objects(void)
{
	cxx_new(40);
	cxx_new_array(30);
	NOTAIL();
}

FN size_t cxx_vector(int n)
{
	std::vector<long> v;

	for (int i = 0; i < opaque(n); i++)
		v.push_back(i);				/* @site cxx_vector */
	return v.size();
}

FN size_t cxx_string(int n)
{
	std::string s;

	for (int i = 0; i < opaque(n); i++)
		s += static_cast<char>('a' + i % 26);	/* @site cxx_string */
	return s.size();
}

FN size_t cxx_map(int n)
{
	std::map<int, long> m;

	for (int i = 0; i < opaque(n); i++)
		m[i * 7] = i;				/* @site cxx_map */
	return m.size();
}

FN void cxx_containers(void)
{
	size_t total = cxx_vector(1000) + cxx_string(2000) + cxx_map(100);

	__asm__ volatile ("" : : "r" (total));
}

FN void cxx_run(void)
{
	cxx_objects();
	cxx_containers();
	NOTAIL();
}

} // namespace stk

int main(int argc, char **argv)
{
	target_wait(argc, argv);
	stk::cxx_run();
	NOTAIL();
	return 0;
}
