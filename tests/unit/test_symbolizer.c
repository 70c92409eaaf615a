/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The symbolizer on this test process (built with -g), on libc, and on a
 * fixture program (selfalloc.debuglink: .symtab, debug info only through
 * its .gnu_debuglink) before and after it exits.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "elfsym.h"
#include "fixture.h"
#include "procmaps.h"
#include "symbolizer.h"
#include "vdso.h"

struct child {
	pid_t pid;
	int in;			/* stdin: it runs until this closes */
	__u64 malloc_addr;
	__u64 main_addr;
};

/* Hermetic and fast: never ask a debuginfod server. */
static void no_network(void)
{
	unsetenv("DEBUGINFOD_URLS");
}

TestSuite(symbolizer, .init = no_network);

enum { PROBE_LINE = __LINE__ + 1 };
static __attribute__((noinline)) int probe_target(int x)
{
	return x * 3 + 1;
}

static __attribute__((noinline)) __u64 return_address(void)
{
	return (__u64)(unsigned long)__builtin_return_address(0);
}

/* A frame as a stack has it: a return address, and the line of its call. */
static __attribute__((noinline)) __u64 call_site(int *line)
{
	__u64 ra;

	*line = __LINE__ + 1;
	ra = return_address();
	/* Code after the call keeps it a call, not a jump to return_address. */
	__asm__ volatile("" : : "r"(ra) : "memory");
	return ra;
}

/* The frame of addr that is not inlined: its function. */
static struct frame outer(struct symbolizer *s, __u64 addr)
{
	const struct frame *frames;
	unsigned n;

	n = symbolizer__resolve(s, addr, &frames);
	cr_assert(n >= 1, "%#llx resolved to no frame", addr);
	cr_assert(!frames[n - 1].inlined, "%#llx: the last frame is inlined",
		  addr);
	return frames[n - 1];
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static struct symbolizer *cover_one(int pid, __u64 addr)
{
	struct symbolizer *s = symbolizer__new(pid, NULL);
	int err;

	cr_assert(s, "symbolizer__new(%d): %s", pid, strerror(errno));
	err = symbolizer__cover(s, &addr, 1);
	cr_assert_eq(err, 0, "cover(%#llx) in pid %d: %s", addr, pid,
		     strerror(-err));
	return s;
}

static __u64 vaddr_of(const char *path, const char *name)
{
	struct elf_file *f = elf_file__open(path);
	struct elf_func fn;
	int err;

	cr_assert(f, "open %s: %s", path, strerror(errno));
	err = elf_file__find_func(f, name, &fn);
	cr_assert_eq(err, 0, "%s in %s: %s", name, path, strerror(-err));
	elf_file__free(f);
	return fn.vaddr;
}

/* Runs selfalloc (or a copy) that prints two of its addresses, then waits. */
static void spawn(const char *path, struct child *c)
{
	int in[2], out[2];
	FILE *f;

	cr_assert(!pipe(in) && !pipe(out), "pipe: %s", strerror(errno));
	c->pid = fork();
	cr_assert(c->pid >= 0, "fork: %s", strerror(errno));
	if (!c->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	f = fdopen(out[0], "r");
	cr_assert(f, "fdopen: %s", strerror(errno));
	cr_assert_eq(fscanf(f, "%llx %llx", &c->malloc_addr, &c->main_addr), 2,
		     "%s printed no addresses (built? run make unit)", path);
	fclose(f);
}

static void reap(struct child *c)
{
	close(c->in);
	kill(c->pid, SIGKILL);
	cr_assert_eq(waitpid(c->pid, NULL, 0), c->pid, "waitpid: %s",
		     strerror(errno));
}

Test(symbolizer, own_function_with_line)
{
	__u64 addr = (__u64)(unsigned long)&probe_target + 1;
	struct symbolizer *s = cover_one(getpid(), addr);
	char exe[PATH_MAX];
	struct frame fr;
	__u64 vaddr;

	cr_assert(realpath("/proc/self/exe", exe), "realpath: %s",
		  strerror(errno));
	vaddr = vaddr_of(exe, "probe_target");
	fr = outer(s, addr);
	cr_expect_eq(fr.addr, addr, "addr %#llx, asked %#llx", fr.addr, addr);
	cr_expect_str_eq(fr.function ?: "(null)", "probe_target",
			 "function %s", fr.function);
	cr_expect(ends_with(fr.file, "test_symbolizer.c"), "file %s", fr.file);
	cr_expect(fr.line >= PROBE_LINE && fr.line <= PROBE_LINE + 2,
		  "line %d, want %d..%d", fr.line, PROBE_LINE, PROBE_LINE + 2);
	cr_expect_str_eq(fr.object ?: "(null)", exe, "object %s", fr.object);
	cr_expect_eq(fr.object_offset, vaddr + 1,
		     "object_offset %#llx, want ELF vaddr %#llx + 1",
		     fr.object_offset, vaddr);
	symbolizer__free(s);
}

Test(symbolizer, return_address_gives_call_line)
{
	struct symbolizer *s;
	struct frame fr;
	__u64 ra;
	int line;

	ra = call_site(&line);
	s = cover_one(getpid(), ra);
	fr = outer(s, ra);
	cr_expect_str_eq(fr.function ?: "(null)", "call_site", "function %s",
			 fr.function);
	cr_expect_eq(fr.line, line, "line %d, want the call's line %d",
		     fr.line, line);
	symbolizer__free(s);
}

Test(symbolizer, libc_function)
{
	struct symbolizer *s;
	struct frame fr;
	void *libc, *fn;
	__u64 addr;

	/* By handle: the sanitizer's malloc would shadow libc's by name. */
	libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	cr_assert(libc, "libc.so.6 not loaded: %s", dlerror());
	fn = dlsym(libc, "malloc");
	cr_assert(fn, "dlsym malloc: %s", dlerror());
	addr = (__u64)(unsigned long)fn + 1;
	s = cover_one(getpid(), addr);
	fr = outer(s, addr);
	cr_expect(fr.function && (!strcmp(fr.function, "malloc") ||
				  !strcmp(fr.function, "__libc_malloc")),
		  "libc's malloc resolved as %s", fr.function);
	cr_assert(fr.object && strstr(fr.object, "libc.so"), "object %s",
		  fr.object);
	cr_expect_eq(fr.object_offset, vaddr_of(fr.object, "malloc") + 1,
		     "object_offset %#llx, not malloc's vaddr + 1",
		     fr.object_offset);
	dlclose(libc);
	symbolizer__free(s);
}

/*
 * A zombie's maps read empty: it is gone, said so, so that its stacks are
 * named from what the kernel walked through (they were taken for a read
 * that found nothing, and the frames past its first maps went unnamed).
 */
Test(symbolizer, zombie_is_gone)
{
	struct symbolizer *s;
	__u64 addr = 0x401000;
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (!pid)
		_exit(0);
	/* exited, not reaped: a zombie until waited for */
	for (int i = 0; i < 200; i++) {
		char path[64], state = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (f && fscanf(f, "%*d %*s %c", &state) == 1 && state == 'Z') {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		usleep(10000);
	}
	s = symbolizer__new(pid, NULL);
	cr_assert_not_null(s);
	cr_expect_eq(symbolizer__cover(s, &addr, 1), -ESRCH,
		     "a zombie's maps taken for a read");
	cr_expect(symbolizer__blind(s), "knows no mapping");
	symbolizer__free(s);
	waitpid(pid, NULL, 0);
}

static __u32 now_gen;

static __u32 image_now(void *ctx, int pid)
{
	(void)ctx;
	(void)pid;
	return now_gen;
}

/*
 * An image the process ran before (it exec'd: the kernel numbers another
 * now, or none while an exec replaces its mappings): its maps, read first
 * then, are not taken, and it is gone to the caller; once its own, read.
 */
Test(symbolizer, later_image_is_gone)
{
	__u64 addr = (__u64)(unsigned long)&now_gen;
	struct symbolizer *s;
	__u32 other[] = { 3, 0 };
	unsigned i;

	for (i = 0; i < 2; i++) {
		s = symbolizer__new(getpid(), NULL);
		cr_assert_not_null(s);
		symbolizer__image_is(s, 2, image_now, NULL);
		now_gen = other[i];
		cr_expect_eq(symbolizer__cover(s, &addr, 1), -ESRCH,
			     "maps read under image %u taken for image 2's",
			     other[i]);
		cr_expect(symbolizer__blind(s), "knows a mapping");
		now_gen = 2;
		cr_expect_eq(symbolizer__refresh(s), -ESRCH,
			     "an ended image read again");
		symbolizer__free(s);
	}

	s = symbolizer__new(getpid(), NULL);
	cr_assert_not_null(s);
	symbolizer__image_is(s, 2, image_now, NULL);
	cr_expect_eq(symbolizer__cover(s, &addr, 1), 0, "its own image's "
		     "maps not read");
	cr_expect(!symbolizer__blind(s), "knows no mapping");
	symbolizer__free(s);
}

Test(symbolizer, unknown_addresses)
{
	static const __u64 addrs[] = { 0, 0x10, 0xffffffffffffffffULL };
	struct symbolizer *s = cover_one(getpid(), 0x10);
	char *heap = malloc(64);
	struct frame fr;
	__u64 addr = (__u64)(unsigned long)heap;
	size_t i;

	cr_expect_eq(symbolizer__cover(s, &addr, 1), 0, "cover of a heap "
		     "address failed");
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		fr = outer(s, addrs[i]);
		cr_expect(fr.addr == addrs[i] && !fr.function && !fr.object &&
			  !fr.file && !fr.line,
			  "%#llx resolved to %s in %s", addrs[i], fr.function,
			  fr.object);
	}
	fr = outer(s, addr);
	cr_expect(!fr.function && !fr.object, "heap %#llx resolved to %s in %s",
		  addr, fr.function, fr.object);
	free(heap);
	symbolizer__free(s);
}

Test(symbolizer, resolve_before_cover_is_not_remembered)
{
	__u64 addr = (__u64)(unsigned long)&probe_target + 1;
	struct symbolizer *s = symbolizer__new(getpid(), NULL);
	struct frame fr;

	cr_assert(s, "symbolizer__new: %s", strerror(errno));
	fr = outer(s, addr);
	cr_expect(!fr.function && !fr.object, "resolved with no maps read");
	cr_assert_eq(symbolizer__cover(s, &addr, 1), 0, "cover failed");
	fr = outer(s, addr);
	cr_expect_str_eq(fr.function ?: "(null)", "probe_target",
			 "function %s after cover", fr.function);
	symbolizer__free(s);
}

Test(symbolizer, repeated_frames_share_strings)
{
	__u64 addr = (__u64)(unsigned long)&probe_target + 1;
	struct symbolizer *s = cover_one(getpid(), addr);
	struct frame a, b, c;

	a = outer(s, addr);
	b = outer(s, addr);
	c = outer(s, addr + 1);
	cr_expect(a.function && a.function == b.function &&
		  a.function == c.function && a.file == c.file &&
		  a.object == c.object,
		  "strings not shared: %p %p %p", (void *)a.function,
		  (void *)b.function, (void *)c.function);
	cr_expect_eq(c.addr, addr + 1, "addr %#llx", c.addr);
	symbolizer__free(s);
}

Test(symbolizer, works_after_the_process_is_gone)
{
	struct symbolizer *s;
	struct frame fr;
	struct child c;
	__u64 addrs[2];

	spawn(fixture("selfalloc.debuglink"), &c);
	addrs[0] = c.malloc_addr + 1;
	addrs[1] = c.main_addr + 1;
	s = symbolizer__new(c.pid, NULL);
	cr_assert(s, "symbolizer__new: %s", strerror(errno));
	cr_assert_eq(symbolizer__cover(s, addrs, 2), 0, "cover pid %d failed",
		     c.pid);
	reap(&c);

	fr = outer(s, addrs[0]);
	cr_expect_str_eq(fr.function ?: "(null)", "malloc",
			 "the fixture's malloc resolved as %s", fr.function);
	cr_expect(ends_with(fr.object, "/selfalloc.debuglink"), "object %s",
		  fr.object);
	cr_expect(ends_with(fr.file, "selfalloc.c") && fr.line > 0,
		  "no line through .gnu_debuglink: %s:%d", fr.file, fr.line);
	fr = outer(s, addrs[1]);
	cr_expect_str_eq(fr.function ?: "(null)", "main", "main resolved as %s",
			 fr.function);
	cr_expect_eq(symbolizer__cover(s, addrs, 2), 0,
		     "cover of known addresses read the maps again");
	symbolizer__free(s);
}

/* A program deleted while it runs, as after a package upgrade. */
Test(symbolizer, deleted_program)
{
	char path[] = "/tmp/symbolizer-test-XXXXXX";
	struct symbolizer *s;
	struct frame fr;
	struct child c;
	char buf[65536];
	int in, out;
	ssize_t n;
	__u64 addr;

	if (geteuid())
		cr_skip_test("deleted files are reachable by root only");
	in = open(fixture("selfalloc"), O_RDONLY);
	cr_assert(in >= 0, "open %s: %s", fixture("selfalloc"),
		  strerror(errno));
	out = mkstemp(path);
	cr_assert(out >= 0, "mkstemp: %s", strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, n), n, "copy to %s", path);
	fchmod(out, 0700);
	close(out);
	close(in);
	spawn(path, &c);
	unlink(path);

	addr = c.malloc_addr + 1;
	s = symbolizer__new(c.pid, NULL);
	cr_assert(s, "symbolizer__new: %s", strerror(errno));
	cr_assert_eq(symbolizer__cover(s, &addr, 1), 0, "cover failed");
	reap(&c);
	fr = outer(s, addr);
	cr_expect_str_eq(fr.function ?: "(null)", "malloc",
			 "a deleted program's malloc resolved as %s",
			 fr.function);
	cr_expect_str_eq(fr.object ?: "(null)", path, "object %s", fr.object);
	symbolizer__free(s);
}

/*
 * A library unloaded stays known (stacks taken before still point into
 * it), and loaded again at its place it is still the same code; another
 * file loaded over the same range makes those addresses either's: named
 * by neither (reused), cached results neither.
 */
Test(symbolizer, unmapped_then_replaced_library)
{
	const __u64 unknown = 0x10;
	struct symbolizer *s;
	int i;
	struct frame fr;
	const char *name;
	void *lib;
	__u64 addr;

	lib = dlopen(fixture("libvers"), RTLD_NOW | RTLD_LOCAL);
	cr_assert(lib, "dlopen libvers: %s", dlerror());
	addr = (__u64)(unsigned long)dlsym(lib, "my_malloc") + 1;
	s = cover_one(getpid(), addr);
	fr = outer(s, addr);
	cr_assert(fr.function, "libvers's my_malloc not resolved");
	name = fr.function;

	cr_assert_eq(dlclose(lib), 0, "dlclose: %s", dlerror());
	cr_assert_eq(symbolizer__cover(s, &unknown, 1), 0, "cover failed");
	/* A neighbour: a fresh lookup, not the cached answer. */
	fr = outer(s, addr + 1);
	cr_expect(fr.function == name && ends_with(fr.object, "/libvers"),
		  "after dlclose: %s in %s", fr.function, fr.object);

	/* The fixture's fixed base puts each load where the first was. */
	lib = dlopen(fixture("libvers"), RTLD_NOW | RTLD_LOCAL);
	cr_assert(lib, "dlopen libvers again: %s", dlerror());
	cr_assert_eq(symbolizer__cover(s, &unknown, 1), 0, "cover failed");
	fr = outer(s, addr);
	cr_expect(fr.function == name && ends_with(fr.object, "/libvers"),
		  "the same file loaded again: %s in %s", fr.function,
		  fr.object);
	cr_assert_eq(dlclose(lib), 0, "dlclose: %s", dlerror());

	lib = dlopen(fixture("libvers.stripped"), RTLD_NOW | RTLD_LOCAL);
	cr_assert(lib, "dlopen libvers.stripped: %s", dlerror());
	cr_assert_eq((__u64)(unsigned long)dlsym(lib, "my_malloc") + 1, addr,
		     "libvers.stripped not loaded where libvers was");
	cr_assert_eq(symbolizer__cover(s, &unknown, 1), 0, "cover failed");
	fr = outer(s, addr);
	cr_expect(!fr.function && fr.object &&
		  !strcmp(fr.object, SYMBOLIZER_REUSED) &&
		  fr.object_offset == addr,
		  "an address two files held in turn: expected %s+0x%llx, "
		  "got %s in %s+0x%llx", SYMBOLIZER_REUSED,
		  (unsigned long long)addr, fr.function, fr.object,
		  (unsigned long long)fr.object_offset);
	dlclose(lib);

	/*
	 * A host swapping the two all day: one reused range, not one a read
	 * (more reads than REUSED_MAX), and the reads go on.
	 */
	for (i = 0; i < 4200; i++) {
		lib = dlopen(fixture(i & 1 ? "libvers.stripped" : "libvers"),
			     RTLD_NOW | RTLD_LOCAL);
		cr_assert(lib, "dlopen: %s", dlerror());
		cr_assert_eq(symbolizer__refresh(s), 0,
			     "maps read %d after as many swaps failed", i);
		dlclose(lib);
	}
	symbolizer__free(s);
}

/* The pid of a child that has exited and been reaped. */
static pid_t gone_pid(void)
{
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (!pid)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid, "waitpid: %s",
		     strerror(errno));
	return pid;
}

Test(symbolizer, cover_of_dead_process)
{
	__u64 addr = (__u64)(unsigned long)&probe_target + 1;
	struct symbolizer *s;
	pid_t pid;
	int err;

	pid = gone_pid();
	s = symbolizer__new(pid, NULL);
	cr_assert(s, "symbolizer__new: %s", strerror(errno));
	cr_expect_not(symbolizer__blind(s), "blind before any read");
	err = symbolizer__cover(s, &addr, 1);
	cr_expect_eq(err, -ESRCH, "cover of dead pid %d: %d (%s)", pid, err,
		     strerror(-err));
	cr_expect(symbolizer__blind(s), "a dead pid's symbolizer knows no map");
	symbolizer__free(s);
}

/*
 * A zombie's maps read as empty: gone, and blind all the same; a live
 * process's are not.
 */
Test(symbolizer, zombie_is_blind)
{
	__u64 addr = (__u64)(unsigned long)&probe_target + 1;
	struct symbolizer *s, *self;
	char state[64], path[64];
	pid_t pid;
	FILE *f;
	int i;

	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (!pid)
		_exit(0);
	/* until it is a zombie: its stat says Z */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (i = 0; i < 1000; i++) {
		f = fopen(path, "r");
		cr_assert(f, "%s: %s", path, strerror(errno));
		cr_assert(fgets(state, sizeof(state), f), "%s empty", path);
		fclose(f);
		if (strstr(state, ") Z "))
			break;
		usleep(1000);
	}
	cr_assert(strstr(state, ") Z "), "pid %d never a zombie: %s", pid, state);
	s = symbolizer__new(pid, NULL);
	cr_assert(s, "symbolizer__new: %s", strerror(errno));
	cr_expect_eq(symbolizer__cover(s, &addr, 1), -ESRCH,
		     "a zombie's maps are gone");
	cr_expect(symbolizer__blind(s), "a zombie's symbolizer knows no map");
	cr_assert_eq(waitpid(pid, NULL, 0), pid, "waitpid: %s",
		     strerror(errno));
	self = symbolizer__new(getpid(), NULL);
	cr_assert(self, "symbolizer__new: %s", strerror(errno));
	cr_expect_eq(symbolizer__cover(self, &addr, 1), 0, "own maps");
	cr_expect_not(symbolizer__blind(self), "own maps known");
	symbolizer__free(self);
	symbolizer__free(s);
}

/*
 * A process gone before its maps were read: a mapping the kernel told of
 * names its addresses, the file opened by its path here when it is the
 * same file; another file under that path is not taken.
 */
Test(symbolizer, added_map_of_a_gone_process)
{
	__u64 addr = (__u64)(unsigned long)&probe_target + 1;
	struct procmaps *self = procmaps__read(getpid());
	const struct procmap *m;
	struct symbolizer *s, *other;
	struct procmap wrong;
	struct frame fr;
	pid_t pid;

	cr_assert(self, "own maps: %s", strerror(errno));
	m = procmaps__find(self, addr);
	cr_assert(m && m->path, "no mapping of probe_target");
	pid = gone_pid();
	s = symbolizer__new(pid, NULL);
	other = symbolizer__new(pid, NULL);
	cr_assert(s && other, "symbolizer__new: %s", strerror(errno));
	cr_expect_eq(symbolizer__cover(s, &addr, 1), -ESRCH, "gone");
	cr_expect(symbolizer__blind(s), "blind");
	cr_assert_eq(symbolizer__add_map(s, m), 0);
	cr_expect_not(symbolizer__blind(s), "a mapping known");
	fr = outer(s, addr);
	cr_expect_str_eq(fr.function ?: "(null)", "probe_target",
			 "resolved as %s", fr.function);
	/* the same path, another inode: not this file */
	wrong = *m;
	wrong.inode = m->inode + 1;
	cr_assert_eq(symbolizer__add_map(other, &wrong), 0);
	fr = outer(other, addr);
	cr_expect_null(fr.function, "another file's names: %s", fr.function);
	cr_expect(fr.object && ends_with(fr.object, m->path),
		  "object %s", fr.object);
	/* a mapping overlapping a known one is not taken */
	wrong.inode = m->inode;
	cr_assert_eq(symbolizer__add_map(other, &wrong), 0);
	fr = outer(other, addr);
	cr_expect_null(fr.function, "the known mapping kept: %s",
		       fr.function);
	symbolizer__free(other);
	symbolizer__free(s);
	procmaps__free(self);
}

Test(symbolizer, bad_pid)
{
	errno = 0;
	cr_expect_null(symbolizer__new(0, NULL), "pid 0 accepted");
	cr_expect_eq(errno, EINVAL, "errno %d (%s)", errno, strerror(errno));
}

Test(symbolizer, free_closes_every_descriptor)
{
	__u64 addrs[2] = { (__u64)(unsigned long)&probe_target + 1 };
	struct symbolizer *s;
	void *libc;
	int fds;

	libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	cr_assert(libc, "libc.so.6 not loaded: %s", dlerror());
	addrs[1] = (__u64)(unsigned long)dlsym(libc, "malloc") + 1;
	/* The vDSO's image is opened once for the tool's life, not per use. */
	vdso__path(0);
	fds = count_fds();
	s = symbolizer__new(getpid(), NULL);
	cr_assert(s, "symbolizer__new: %s", strerror(errno));
	cr_assert_eq(symbolizer__cover(s, addrs, 2), 0, "cover failed");
	outer(s, addrs[0]);
	outer(s, addrs[1]);
	cr_expect_gt(count_fds(), fds, "no descriptor kept for the objects");
	symbolizer__free(s);
	cr_expect_eq(count_fds(), fds, "symbolizer__free leaked descriptors");
	dlclose(libc);
}

/*
 * libinline (built at -O2): one return address in inl_outer stands for
 * leaf, inlined into middle, inlined into inl_outer, each at the line of
 * its call.
 */
static void expect_inlined_chain(const char *name)
{
	static const char *const names[] = { "leaf", "middle", "inl_outer" };
	void *(*outer_fn)(size_t);
	const struct frame *fr;
	struct symbolizer *s;
	const int *lines;
	void **ra;
	void *lib;
	__u64 addr;
	unsigned n, i;

	lib = dlopen(fixture(name), RTLD_NOW | RTLD_LOCAL);
	cr_assert(lib, "dlopen %s: %s", name, dlerror());
	outer_fn = (void *(*)(size_t))dlsym(lib, "inl_outer");
	ra = dlsym(lib, "inl_ra");
	lines = dlsym(lib, "inl_lines");
	cr_assert(outer_fn && ra && lines, "%s lacks its symbols", name);
	outer_fn(1);
	addr = (__u64)(unsigned long)*ra;
	s = cover_one(getpid(), addr);
	n = symbolizer__resolve(s, addr, &fr);
	cr_assert_eq(n, 3, "%s: %u frames at %#llx, want leaf, middle, "
		     "inl_outer", name, n, addr);
	for (i = 0; i < n; i++) {
		cr_expect_str_eq(fr[i].function ?: "(null)", names[i],
				 "%s frame %u: %s, want %s", name, i,
				 fr[i].function, names[i]);
		cr_expect(ends_with(fr[i].file, "libinline.c"),
			  "%s frame %u: file %s", name, i, fr[i].file);
		cr_expect_eq(fr[i].line, lines[i], "%s frame %u (%s): line %d, "
			     "want %d", name, i, names[i], fr[i].line,
			     lines[i]);
		cr_expect_eq(fr[i].inlined, i < 2, "%s frame %u: inlined %d",
			     name, i, fr[i].inlined);
		cr_expect_eq(fr[i].addr, addr, "%s frame %u: addr %#llx", name,
			     i, fr[i].addr);
		cr_expect(ends_with(fr[i].object, name),
			  "%s frame %u: object %s", name, i, fr[i].object);
	}
	/* cached: the same frames again */
	cr_expect_eq(symbolizer__resolve(s, addr, &fr), 3, "cached expansion");
	symbolizer__free(s);
	dlclose(lib);
}

Test(symbolizer, inlined_chain_expanded)
{
	expect_inlined_chain("libinline");
}

/* The same through .gnu_debuglink to a file whose DIEs are in a dwz file. */
Test(symbolizer, inlined_chain_through_dwz_debug_file)
{
	expect_inlined_chain("libinline.dwzlink");
}

/*
 * GCC's copies of a function (scale.constprop.0, the cold part check.cold)
 * are named as the source names the function, the symbol kept as the
 * linkage name.
 */
Test(symbolizer, compiler_copies_named_as_their_function)
{
	static const char *const want[][2] = {
		{ "scale", "scale.constprop.0" }, { "check", "check.cold" },
	};
	int (*run)(int);
	void *const *ra;
	struct symbolizer *s;
	struct frame fr;
	void *lib;
	__u64 addr;
	size_t i;

	lib = dlopen(fixture("libclones"), RTLD_NOW | RTLD_LOCAL);
	cr_assert(lib, "dlopen libclones: %s", dlerror());
	run = (int (*)(int))dlsym(lib, "clones_run");
	ra = dlsym(lib, "clones_ra");
	cr_assert(run && ra, "libclones lacks clones_run or clones_ra");
	run(1);
	for (i = 0; i < 2; i++) {
		addr = (__u64)(unsigned long)ra[i];
		cr_assert(addr, "%s: no return address kept", want[i][0]);
		s = cover_one(getpid(), addr);
		fr = outer(s, addr);
		cr_expect_str_eq(fr.function ?: "(null)", want[i][0],
				 "%s shown as %s", want[i][1], fr.function);
		cr_expect_str_eq(fr.mangled ?: "(null)", want[i][1],
				 "%s: linkage name %s", want[i][0], fr.mangled);
		symbolizer__free(s);
	}
	dlclose(lib);
}

/*
 * A static function of an object without .symtab, named from the separate
 * debug file's; the object stripped of both is object+offset.
 */
Test(symbolizer, static_function_from_the_debug_files_symtab)
{
	static const char *const names[] = {
		"libinline.nosymtab", "libinline.stripped",
	};
	void *(*const *fn)(size_t);
	struct symbolizer *s;
	struct frame fr;
	void *lib;
	__u64 addr;
	size_t i;

	for (i = 0; i < 2; i++) {
		lib = dlopen(fixture(names[i]), RTLD_NOW | RTLD_LOCAL);
		cr_assert(lib, "dlopen %s: %s", names[i], dlerror());
		fn = dlsym(lib, "inl_static_ptr");
		cr_assert(fn, "%s lacks inl_static_ptr", names[i]);
		addr = (__u64)(unsigned long)*fn + 1;
		s = cover_one(getpid(), addr);
		fr = outer(s, addr);
		if (!i)
			cr_expect_str_eq(fr.function ?: "(null)", "inl_static",
					 "%s: static function named %s",
					 names[i], fr.function);
		else
			cr_expect(!fr.function && ends_with(fr.object, names[i])
				  && fr.object_offset,
				  "%s: %s in %s+%#llx, want object+offset",
				  names[i], fr.function, fr.object,
				  fr.object_offset);
		symbolizer__free(s);
		dlclose(lib);
	}
}

static void expect_name(const char *raw, const char *want)
{
	char *got = symbol_display_name(raw);

	cr_assert(got, "symbol_display_name(%s): out of memory", raw);
	cr_expect_str_eq(got, want, "%s shown as \"%s\", want \"%s\"", raw,
			 got, want);
	free(got);
}

Test(symbolizer, names_demangled)
{
	/* C++ (Itanium) */
	expect_name("_Znwm", "operator new(unsigned long)");
	expect_name("_ZNSt6vectorIiSaIiEE9push_backERKi",
		    "std::vector<int, std::allocator<int> >::push_back(int "
		    "const&)");
	/* Rust legacy: the ::h<hash> goes */
	expect_name("_ZN7gt_rust9make_node17h0123456789abcdefE",
		    "gt_rust::make_node");
	/* Rust v0 */
	expect_name("_RNvCsbmNqQUJIY6D_4core3foo", "core::foo");
	expect_name("_RNvNtCs1234_7mycrate4util4make", "mycrate::util::make");
	/* C, and what only looks mangled, stays as it is */
	expect_name("main", "main");
	expect_name("_start", "_start");
	expect_name("_Z", "_Z");
	/* a name the demangler reads as empty is shown as it is (fuzzer) */
	expect_name("_RC0", "_RC0");
}

Test(symbolizer, versions_cut)
{
	expect_name("pthread_getattr_np@@GLIBC_2.32", "pthread_getattr_np");
	expect_name("memcpy@GLIBC_2.2.5", "memcpy");
	expect_name("_Znwm@@GLIBCXX_3.4", "operator new(unsigned long)");
	expect_name("@@", "");
}

/*
 * A unit of debug information that .debug_aranges does not list (a cgo
 * program's Go code is in none of the C compiler's): libdwfl hands its
 * addresses to the unit before it, whose last line they then got. Its
 * function gets its own file and line.
 */
Test(symbolizer, unit_missing_from_aranges)
{
	struct symbolizer *s;
	struct frame fr;
	struct child c;

	spawn(fixture("noaranges"), &c);
	s = cover_one(c.pid, c.malloc_addr + 1);
	fr = outer(s, c.malloc_addr + 1);
	cr_expect_str_eq(fr.function ?: "(null)", "noaranges_fn",
			 "resolved as %s", fr.function);
	cr_expect(ends_with(fr.file, "noaranges/unit.c") && fr.line == 8,
		  "noaranges_fn at %s:%d, want its own unit.c:8", fr.file,
		  fr.line);
	symbolizer__free(s);
	reap(&c);
}

/*
 * Symbolizers of several processes share each file: it is opened and its
 * DWARF read once (a system-wide trace has every process map libc), and
 * each still names its addresses, also once the one that read it first
 * is gone.
 */
Test(symbolizer, processes_share_files)
{
	__u64 addr = (__u64)(unsigned long)&probe_target + 1;
	struct sym_files *files = sym_files__new();
	struct symbolizer *a, *b;
	struct frame fa, fb;
	int fds;

	cr_assert(files, "sym_files__new: %s", strerror(errno));
	a = symbolizer__new(getpid(), files);
	b = symbolizer__new(getpid(), files);
	cr_assert(a && b, "symbolizer__new: %s", strerror(errno));
	cr_assert_eq(symbolizer__cover(a, &addr, 1), 0);
	fa = outer(a, addr);
	fds = count_fds();
	cr_assert_eq(symbolizer__cover(b, &addr, 1), 0);
	/* b's root (one descriptor) and no file of its own */
	cr_expect_leq(count_fds(), fds + 1,
		      "the second process's objects opened again: %d -> %d",
		      fds, count_fds());
	cr_expect_str_eq(fa.function ?: "(null)", "probe_target");
	symbolizer__free(a);
	fb = outer(b, addr);
	cr_expect_str_eq(fb.function ?: "(null)", "probe_target");
	cr_expect(ends_with(fb.file, "test_symbolizer.c"), "file %s", fb.file);
	symbolizer__free(b);
	sym_files__free(files);
}

/*
 * Frames are the file's: two processes mapping one file share them (one
 * copy of the names, found once), each named by its own path for the
 * object: here one runs selfalloc, the other a hard link to it.
 */
Test(symbolizer, processes_share_a_files_frames)
{
	struct sym_files *files = sym_files__new();
	struct symbolizer *s1, *s2;
	struct child c1, c2;
	struct frame f1, f2;
	char link_path[PATH_MAX + 32], prog[PATH_MAX], link_abs[PATH_MAX];
	__u64 a1, a2;

	cr_assert(files, "sym_files__new: %s", strerror(errno));
	snprintf(link_path, sizeof(link_path), "%s.link%d",
		 fixture("selfalloc"), (int)getpid());
	unlink(link_path);
	cr_assert_eq(link(fixture("selfalloc"), link_path), 0, "link %s: %s",
		     link_path, strerror(errno));
	/* as the maps name them */
	cr_assert(realpath(fixture("selfalloc"), prog) &&
		  realpath(link_path, link_abs), "realpath: %s", strerror(errno));
	spawn(prog, &c1);
	spawn(link_abs, &c2);
	unlink(link_path);
	a1 = c1.main_addr + 1;
	a2 = c2.main_addr + 1;
	s1 = symbolizer__new(c1.pid, files);
	s2 = symbolizer__new(c2.pid, files);
	cr_assert(s1 && s2, "symbolizer__new: %s", strerror(errno));
	cr_assert_eq(symbolizer__cover(s1, &a1, 1), 0, "cover in pid %d",
		     c1.pid);
	cr_assert_eq(symbolizer__cover(s2, &a2, 1), 0, "cover in pid %d",
		     c2.pid);
	reap(&c1);
	reap(&c2);
	f1 = outer(s1, a1);
	f2 = outer(s2, a2);
	cr_expect_str_eq(f1.function ?: "(null)", "main", "pid 1: %s",
			 f1.function);
	cr_expect(f1.function == f2.function && f1.file == f2.file,
		  "the file's frames not shared: %p %p", (void *)f1.function,
		  (void *)f2.function);
	cr_expect_eq(f2.addr, a2, "the second process's address");
	cr_expect_str_eq(f1.object ?: "(null)", prog, "pid 1's object");
	cr_expect_str_eq(f2.object ?: "(null)", link_abs, "pid 2's object");
	f1 = outer(s1, a1);
	cr_expect_str_eq(f1.object ?: "(null)", prog,
			 "pid 1's object again, after pid 2's answer");
	symbolizer__free(s1);
	symbolizer__free(s2);
	sym_files__free(files);
}

/*
 * The processes of one root and mount namespace share one descriptor of
 * it: -a kept one per process image and ran out after ~20,000 of them.
 * The objects are the first's too, so a second process adds none.
 */
Test(symbolizer, one_root_descriptor_for_processes_that_share_it)
{
	struct sym_files *files = sym_files__new();
	struct symbolizer *s[3];
	struct child c[3];
	int i, fds[3];
	__u64 a;

	cr_assert(files, "sym_files__new: %s", strerror(errno));
	for (i = 0; i < 3; i++)
		spawn(fixture("selfalloc"), &c[i]);
	for (i = 0; i < 3; i++) {
		a = c[i].main_addr + 1;
		s[i] = symbolizer__new(c[i].pid, files);
		cr_assert(s[i], "symbolizer__new: %s", strerror(errno));
		cr_assert_eq(symbolizer__cover(s[i], &a, 1), 0, "cover pid %d",
			     c[i].pid);
		fds[i] = count_fds();
	}
	for (i = 0; i < 3; i++)
		reap(&c[i]);
	cr_expect_eq(fds[1], fds[0], "a second process kept a descriptor");
	cr_expect_eq(fds[2], fds[0], "a third process kept a descriptor");
	for (i = 0; i < 3; i++)
		symbolizer__free(s[i]);
	sym_files__free(files);
}
