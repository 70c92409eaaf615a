/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * anon: anonymous memory from known call sites, built without frame
 * pointers. In pages (4096 bytes), the program's anonymous memory, with
 * each step's live total:
 *
 *   anon_map_a     maps 16                                        16
 *                  munmaps its head 2, tail 2, a middle page       11
 *   anon_map_b     maps 8, munmaps the top 4                       15
 *   anon_grow      mremaps those 4 to 8 in place (the result is
 *                  the mremap call's, as a realloc's block is)     19
 *   anon_reserve   maps 12 PROT_NONE (reserved, not live: 12)     19
 *                  and opens its first 3 with mprotect, as glibc
 *                  opens a thread arena (reserved 9)               22
 *   anon_move      mremaps the 8 onto the 12 (MAYMOVE | FIXED),
 *                  growing them to 12 (reserved 0)                 23
 *   anon_fixed     maps 2 MAP_FIXED in the middle of those         23
 *   anon_file      maps a file (not counted), and a file page
 *                  MAP_FIXED over anon_map_a's memory              22
 *   anon_malloc    malloc(1 MiB): glibc mmaps it inside malloc,
 *                  libc's arena, not the program's; the heap
 *                  counts the block once (1048576 bytes)
 *   anon_sbrk      grows the break 3 pages, then shrinks it 1      24
 *   anon_guard     maps 4                                          28 peak
 *                  and makes the first a guard page (PROT_NONE),
 *                  as a thread stack has (reserved 1)              27
 *
 * Live at the end, by site: anon_map_a 10 pages in 2 ranges, anon_move
 * 10 in 2, anon_guard 3 in 1 (and 1 reserved), anon_fixed 2 in 1,
 * anon_sbrk 2 in 1, the rest 0; 27 pages in 7 ranges, 1 reserved, the
 * peak 28 pages. Each site made one mapping call. With --wait nothing
 * before the handshake is traced, so these are the totals; launched,
 * the loader's mappings come on top.
 *
 * anon --exec [--wait] then execs itself as `anon --child`, which maps 5
 * pages from anon_child 200 ms later and exits: the exec unmapped everything above,
 * so only anon_child's 5 pages (and the new image's loader's) are live.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <time.h>
#include <sys/mman.h>
#include "target.h"

#define PG		4096ul
#define ANON_FLAGS	(MAP_PRIVATE | MAP_ANONYMOUS)

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static char *map_anon(size_t pages, int prot)
{
	char *p = mmap(NULL, pages * PG, prot, ANON_FLAGS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static void unmap(char *p, size_t pages)
{
	if (munmap(p, pages * PG))
		die("munmap");
}

__attribute__((noinline)) static char *anon_map_a(void)
{
	char *p = map_anon(16, PROT_READ | PROT_WRITE);	/* @site anon_map_a */

	unmap(p, 2);
	unmap(p + 14 * PG, 2);
	unmap(p + 7 * PG, 1);
	return p;
}

__attribute__((noinline)) static char *anon_map_b(void)
{
	char *q = map_anon(8, PROT_READ | PROT_WRITE);	/* @site anon_map_b */

	unmap(q + 4 * PG, 4);
	return q;
}

__attribute__((noinline)) static char *anon_grow(char *q)
{
	/* No MREMAP_MAYMOVE: in place, into the 4 pages just unmapped. */
	char *r = mremap(q, 4 * PG, 8 * PG, 0);		/* @site anon_grow */

	if (r != q)
		die("mremap in place");
	return r;
}

static void protect(char *p, size_t pages, int prot)
{
	if (mprotect(p, pages * PG, prot))
		die("mprotect");
}

__attribute__((noinline)) static char *anon_reserve(void)
{
	char *d = map_anon(12, PROT_NONE);		/* @site anon_reserve */

	protect(d, 3, PROT_READ | PROT_WRITE);
	return d;
}

__attribute__((noinline)) static char *anon_move(char *r, char *dst)
{
	char *m = mremap(r, 8 * PG, 12 * PG,		/* @site anon_move */
			 MREMAP_MAYMOVE | MREMAP_FIXED, dst);

	if (m != dst)
		die("mremap onto the reserve");
	return m;
}

__attribute__((noinline)) static void anon_fixed(char *m)
{
	if (mmap(m + 4 * PG, 2 * PG, PROT_READ | PROT_WRITE,	/* @site anon_fixed */
		 ANON_FLAGS | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap fixed");
}

__attribute__((noinline)) static void anon_file(char *p, const char *self)
{
	int fd = open(self, O_RDONLY);

	if (fd < 0)
		die("open");
	if (mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ||
	    mmap(p + 2 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd,
		 0) == MAP_FAILED)
		die("mmap file");
	close(fd);
}

__attribute__((noinline)) static void anon_malloc(void)
{
	void *b = malloc(1 << 20);			/* @site anon_malloc */

	touch(b, 1 << 20);
	keep(b);
}

__attribute__((noinline)) static void anon_sbrk(void)
{
	if (sbrk(3 * PG) == (void *)-1)			/* @site anon_sbrk */
		die("sbrk");
	if (sbrk(-(long)PG) == (void *)-1)
		die("sbrk shrink");
}

__attribute__((noinline)) static void anon_guard(void)
{
	char *g = map_anon(4, PROT_READ | PROT_WRITE);	/* @site anon_guard */

	protect(g, 1, PROT_NONE);
}

__attribute__((noinline)) static void anon_child(void)
{
	keep(map_anon(5, PROT_READ | PROT_WRITE));	/* @site anon_child */
}

int main(int argc, char **argv)
{
	char *const child[] = { argv[0], "--child", NULL };
	char *p, *q, *r, *dst, *m;
	bool exec = false;

	if (argc == 2 && !strcmp(argv[1], "--child")) {
		/*
		 * Traced with -p, the tool loads the new image's unwind
		 * tables when the kernel wakes it at the exec: within a few
		 * ms; the stack of anon_child must reach them.
		 */
		nanosleep(&(struct timespec){ .tv_nsec = 200000000 }, NULL);
		anon_child();
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--exec")) {
		exec = true;
		argc--;
		argv++;
	}
	target_wait(argc, argv);

	p = anon_map_a();
	q = anon_map_b();
	r = anon_grow(q);
	dst = anon_reserve();
	m = anon_move(r, dst);
	anon_fixed(m);
	anon_file(p, "/proc/self/exe");
	anon_malloc();
	anon_sbrk();
	anon_guard();
	if (exec) {
		execv("/proc/self/exe", child);
		die("execv");
	}
	return 0;
}
