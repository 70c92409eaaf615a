/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The CFI walker's own target, built as production code is: -O2, no
 * frame pointers (Makefile). One mode per run, then the optional --wait:
 *
 *   chain      main -> uw_a -> uw_b -> uw_c -> uw_d -> malloc, 8 blocks kept
 *   deep N     uw_rec N levels deep, then malloc (the depth limit)
 *   jit        malloc called from anonymous executable memory (no mapping)
 *   dlopen LIB dlopen()s LIB, then its uw_dl_alloc() allocates (chain kept)
 *
 * Each uw_* function keeps a frame of its own (a local the callee sees,
 * a call that is not in tail position), so the chain is what the CFI must
 * recover without a frame pointer.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include "target.h"

#define NOINLINE __attribute__((noinline))

static NOINLINE void *uw_d(size_t n)
{
	void *p = malloc(n);	/* @site uw_chain */

	touch(p, n);
	return p;
}

/* volatile locals: frames of different sizes, and no tail calls. */
static NOINLINE void *uw_c(size_t n)
{
	volatile char pad[24];
	void *p;

	pad[0] = (char)n;
	p = uw_d(n + pad[0] * 0);
	keep(p);
	return p;
}

static NOINLINE void *uw_b(size_t n)
{
	volatile long pad[9];
	void *p;

	pad[3] = (long)n;
	p = uw_c((size_t)pad[3]);
	keep(p);
	return p;
}

static NOINLINE void *uw_a(size_t n)
{
	void *p = uw_b(n);

	keep(p);
	return p;
}

static NOINLINE void *uw_rec(int depth)
{
	volatile int here = depth;
	void *p;

	p = depth ? uw_rec(depth - 1) : malloc(48);
	keep(p);
	return (void *)((uintptr_t)p + (here & 0));
}

/*
 * push %rbx; movabs $malloc, %rax; mov $64, %edi; call *%rax;
 * pop %rbx; ret
 */
static void *jit_call(void)
{
	unsigned char code[] = {
		0x53, 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
		0xbf, 0x40, 0, 0, 0, 0xff, 0xd0, 0x5b, 0xc3,
	};
	void *(*fn)(void);
	void *(*m)(size_t) = malloc;
	unsigned char *mem;

	memcpy(code + 3, &m, sizeof(m));
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memcpy(mem, code, sizeof(code));
	fn = (void *(*)(void))mem;
	return fn();
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000 };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	char *wait_argv[] = { argv[0], "--wait", NULL };
	const char *mode;
	int i;

	if (argc > 1 && !strcmp(argv[argc - 1], "--wait")) {
		argc--;
		target_wait(2, wait_argv);
	}
	mode = argc > 1 ? argv[1] : "chain";
	if (!strcmp(mode, "chain")) {
		for (i = 0; i < opaque(8); i++)
			keep(uw_a(100));
	} else if (!strcmp(mode, "deep") && argc > 2) {
		keep(uw_rec(atoi(argv[2])));
	} else if (!strcmp(mode, "jit")) {
		keep(jit_call());
	} else if (!strcmp(mode, "dlopen") && argc > 2) {
		void *h = dlopen(argv[2], RTLD_NOW);
		void *(*f)(size_t);

		if (!h) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			return 1;
		}
		f = (void *(*)(size_t))dlsym(h, "uw_dl_alloc");
		if (!f)
			return 1;
		/* -p: the tool reloads on the kernel's wakeup, within ms. */
		pause_ms(200);
		for (i = 0; i < opaque(4); i++)
			keep(f(200));
		/* -p: the library must still be mapped when its frames are
		 * symbolized, at the tool's next drain. */
		pause_ms(200);
	} else {
		fprintf(stderr, "usage: %s chain|deep N|jit|dlopen LIB [--wait]\n",
			argv[0]);
		return 2;
	}
	return 0;
}
