/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The CFI walker's own target, built as production code is: -O2, no
 * frame pointers (Makefile). One mode per run, then the optional --wait:
 *
 *   chain      main -> uw_a -> uw_b -> uw_c -> uw_d -> malloc, 8 blocks kept
 *   deep N     uw_rec N levels deep, then malloc (the depth limit)
 *   jit [MAP]  malloc called from anonymous executable memory (no mapping);
 *              with MAP, the code named in /tmp/perf-PID.map as a JIT
 *              runtime names it: named (one entry, among others and a
 *              line that is none), reused (a second entry of another name
 *              over the call: code made again at the same place), foreign
 *              (named, but the file is another user's), link (the map is
 *              a symbolic link to the named map), stale (named, but last
 *              written an hour before: another process's of the same pid)
 *   jit-fp [MAP]  the same from code that makes a frame (push %rbp;
 *              mov %rsp,%rbp), as V8's code does
 *   dlopen LIB dlopen()s LIB, then its uw_dl_alloc() allocates (chain kept)
 *   protect LIB  the chain with an anonymous page turned executable and
 *              back around each allocation (a JIT's way), then LIB mapped
 *              by hand, made executable by mprotect (a loader's way) and
 *              its uw_ml_loaded() called there (4 blocks kept)
 *   protect-whole LIB  the same with all of LIB mapped at once from its
 *              start (by hand: no loader maps a file so)
 *   split      the chain, after a page of the program's code is made
 *              read-only: its code in two executable mappings
 *
 * Each uw_* function keeps a frame of its own (a local the callee sees,
 * a call that is not in tail position), so the chain is what the CFI must
 * recover without a frame pointer.
 */
#define _GNU_SOURCE	/* dladdr */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>
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

/* The perf map of the code at mem, as kind says (see the modes above). */
static void jit_map(const unsigned char *mem, size_t len, const char *kind)
{
	struct timeval stale[2] = { { time(NULL) - 3600, 0 },
				    { time(NULL) - 3600, 0 } };
	char path[64], link[80];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	if (!strcmp(kind, "link")) {
		snprintf(link, sizeof(link), "%s.target", path);
		if (symlink(link, path)) {
			perror(path);
			exit(1);
		}
	}
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "%lx 10 JIT:before\nnot an entry\n", (unsigned long)mem - 64);
	fprintf(f, "0x%lx 0x%zx JIT:uw_jit_fn t.js:1\n", (unsigned long)mem, len);
	/* the call ends at +18: an entry over it from code made before */
	if (!strcmp(kind, "reused"))
		fprintf(f, "%lx 4 JIT:older\n", (unsigned long)mem + 16);
	fprintf(f, "%lx 8 JIT:after\n", (unsigned long)mem + 256);
	if (fclose(f) ||
	    (!strcmp(kind, "foreign") && chown(path, 65534, 65534)) ||
	    (!strcmp(kind, "stale") && utimes(path, stale))) {
		perror(path);
		exit(1);
	}
}

/*
 * push %rbx; movabs $malloc, %rax; mov $64, %edi; call *%rax;
 * pop %rbx; ret. With fp, a frame as V8 makes one: push %rbp;
 * mov %rsp,%rbp; ...; pop %rbp; ret.
 */
static void *jit_call(const char *map, bool fp)
{
	unsigned char plain[] = {
		0x53, 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
		0xbf, 0x40, 0, 0, 0, 0xff, 0xd0, 0x5b, 0xc3,
	};
	unsigned char framed[] = {
		0x55, 0x48, 0x89, 0xe5, 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
		0xbf, 0x40, 0, 0, 0, 0xff, 0xd0, 0x5d, 0xc3,
	};
	unsigned char *code = fp ? framed : plain;
	size_t len = fp ? sizeof(framed) : sizeof(plain);
	void *(*m)(size_t) = malloc;
	void *(*fn)(void);
	unsigned char *mem;

	memcpy(code + (fp ? 6 : 3), &m, sizeof(m));
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memcpy(mem, code, len);
	if (map)
		jit_map(mem, len, map);
	fn = (void *(*)(void))mem;
	return fn();
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Never run: a page of code of its own, which split makes read-only, so
 * that the program's code is in two executable mappings. The page holds
 * nothing else.
 */
void uw_page_apart(void);
__asm__(".pushsection .text\n"
	".balign 4096\n"
	".globl uw_page_apart\n"
	".type uw_page_apart, @function\n"
	"uw_page_apart:\n"
	"	ret\n"
	".balign 4096\n"
	".popsection\n");

static void *map_or_die(size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static void protect_or_die(void *p, size_t len, int prot)
{
	if (mprotect(p, len, prot)) {
		perror("mprotect");
		exit(1);
	}
}

/* The executable segment of the object named path (dl_iterate_phdr). */
struct text_seg {
	const char *path;
	ElfW(Off) offset;
	ElfW(Addr) vaddr;
	ElfW(Xword) size;
};

static int text_find(struct dl_phdr_info *info, size_t len, void *data)
{
	struct text_seg *t = data;
	int i;

	(void)len;
	if (strcmp(info->dlpi_name, t->path))
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			t->offset = ph->p_offset;
			t->vaddr = ph->p_vaddr;
			t->size = ph->p_filesz;
			return 1;
		}
	}
	return 0;
}

static NOINLINE void protect(const char *lib, bool whole)
{
	void *(*loaded)(void *(*)(size_t), size_t);
	struct text_seg t = { 0 };
	char *page, *base;
	Dl_info info;
	size_t skip;
	off_t size;
	void *h, *f;
	int fd, i;

	page = map_or_die(4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 0; i < opaque(8); i++) {
		protect_or_die(page, 4096, PROT_READ | PROT_EXEC);
		keep(uw_a(100));
		protect_or_die(page, 4096, PROT_READ | PROT_WRITE);
	}
	/* Where the function and its segment are, from the loader's copy. */
	h = dlopen(lib, RTLD_NOW);
	f = h ? dlsym(h, "uw_ml_loaded") : NULL;
	if (!f || !dladdr(f, &info)) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(1);
	}
	t.path = info.dli_fname;
	fd = open(lib, O_RDONLY);
	if (fd < 0 || !dl_iterate_phdr(text_find, &t)) {
		perror(lib);
		exit(1);
	}
	/*
	 * A loader's way: the segment mapped readable, then executable. Or
	 * the whole file at once, from its start.
	 */
	skip = whole ? t.offset : t.offset & 4095;
	size = whole ? lseek(fd, 0, SEEK_END) : (off_t)(skip + t.size);
	base = map_or_die(size, PROT_READ, MAP_PRIVATE, fd, t.offset - skip);
	protect_or_die(base, size, PROT_READ | PROT_EXEC);
	loaded = (void *(*)(void *(*)(size_t), size_t))
		 (base + skip + ((char *)f - (char *)info.dli_fbase - t.vaddr));
	/* -p: the tool reloads on the kernel's wakeup, within ms. */
	pause_ms(200);
	for (i = 0; i < opaque(4); i++)
		keep(loaded(malloc, 300));
	/* -p: still mapped when its frames are named, at the next drain. */
	pause_ms(200);
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
		keep(jit_call(argc > 2 ? argv[2] : NULL, false));
	} else if (!strcmp(mode, "jit-fp")) {
		keep(jit_call(argc > 2 ? argv[2] : NULL, true));
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
	} else if (!strcmp(mode, "protect") && argc > 2) {
		protect(argv[2], false);
	} else if (!strcmp(mode, "protect-whole") && argc > 2) {
		protect(argv[2], true);
	} else if (!strcmp(mode, "split")) {
		protect_or_die((void *)((uintptr_t)uw_page_apart & ~4095ul),
			       4096, PROT_READ);
		/* -p: the tool reads the maps again on the kernel's wakeup */
		pause_ms(200);
		for (i = 0; i < opaque(8); i++)
			keep(uw_a(100));
	} else {
		fprintf(stderr, "usage: %s chain|deep N|jit[-fp] [MAP]|dlopen LIB|protect[-whole] LIB|split [--wait]\n",
			argv[0]);
		return 2;
	}
	return 0;
}
