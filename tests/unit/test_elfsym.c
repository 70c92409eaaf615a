/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * elfsym against the fixtures of tests/fixtures/: libvers (my_alloc@V_1,
 * my_alloc@@V_2, aliases, an IFUNC, a non-zero base) and selfalloc (a
 * program with its own malloc, also built static and stripped).
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "elfsym.h"
#include "fixture.h"

static struct elf_file *open_fixture(const char *name)
{
	struct elf_file *f = elf_file__open(fixture(name));

	cr_assert(f, "cannot open fixture %s: %s (run make unit first)",
		  fixture(name), strerror(errno));
	return f;
}

static struct elf_func find(struct elf_file *f, const char *file,
			    const char *name)
{
	struct elf_func fn;
	int err;

	err = elf_file__find_func(f, name, &fn);
	cr_assert_eq(err, 0, "%s: %s not found: %s", file, name,
		     strerror(-err));
	return fn;
}

Test(elfsym, versioned_name_finds_default_version)
{
	struct elf_file *f = open_fixture("libvers");
	struct elf_func fn, v1, v2;

	fn = find(f, "libvers", "my_alloc");
	v1 = find(f, "libvers", "my_alloc_v1");
	v2 = find(f, "libvers", "my_alloc_v2");
	cr_expect_eq(fn.vaddr, v2.vaddr,
		     "my_alloc at %#llx, want @@V_2's %#llx (@V_1's is %#llx)",
		     fn.vaddr, v2.vaddr, v1.vaddr);
	cr_expect_neq(v1.vaddr, v2.vaddr, "fixture: both versions at %#llx",
		      v1.vaddr);
	cr_expect_neq(fn.size, 0, "my_alloc has no size");
	elf_file__free(f);
}

Test(elfsym, stripped_library_uses_dynsym_versions)
{
	struct elf_file *full = open_fixture("libvers");
	struct elf_file *f = open_fixture("libvers.stripped");
	struct elf_func fn, want;

	want = find(full, "libvers", "my_alloc_v2");
	fn = find(f, "libvers.stripped", "my_alloc");
	cr_expect_eq(fn.vaddr, want.vaddr,
		     "stripped my_alloc at %#llx, want the @@V_2 one at %#llx",
		     fn.vaddr, want.vaddr);
	cr_expect_eq(fn.file_offset, want.file_offset,
		     "stripped my_alloc at offset %#llx, want %#llx",
		     fn.file_offset, want.file_offset);
	cr_expect_eq(elf_file__find_func(f, "my_alloc_v2", &fn), -ENOENT,
		     "a .symtab-only name found in a stripped file");
	cr_expect_eq(elf_file__has_symbols(f), 1,
		     "stripped library: .dynsym not seen");
	elf_file__free(f);
	elf_file__free(full);
}

Test(elfsym, aliases_share_one_offset)
{
	static const char *const names[] = {
		"my_malloc", "my_malloc_weak", "my_alloc", "my_alloc_v2",
	};
	struct elf_file *f = open_fixture("libvers");
	struct elf_func fn, first;
	size_t i;

	first = find(f, "libvers", names[0]);
	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		fn = find(f, "libvers", names[i]);
		cr_expect_eq(fn.file_offset, first.file_offset,
			     "%s at offset %#llx, %s at %#llx", names[i],
			     fn.file_offset, names[0], first.file_offset);
	}
	elf_file__free(f);
}

Test(elfsym, ifunc_is_found)
{
	struct elf_file *f = open_fixture("libvers");
	struct elf_func fn, resolver;

	fn = find(f, "libvers", "my_ifunc");
	resolver = find(f, "libvers", "resolve_my_ifunc");
	cr_expect_eq(fn.vaddr, resolver.vaddr,
		     "IFUNC my_ifunc at %#llx, its resolver at %#llx",
		     fn.vaddr, resolver.vaddr);
	elf_file__free(f);
}

Test(elfsym, names_match_whole_up_to_version)
{
	static const char *const absent[] = {
		"my_all", "my_alloc_", "malloc", "",
	};
	struct elf_file *f = open_fixture("libvers");
	struct elf_func fn;
	size_t i;

	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		cr_expect_eq(elf_file__find_func(f, absent[i], &fn), -ENOENT,
			     "\"%s\" should not match", absent[i]);
	elf_file__free(f);
}

/*
 * The loader maps the file, so the bytes of a loaded function are the
 * bytes at its file offset. libvers has a non-zero base: a vaddr used as
 * an offset points past the end of the file.
 */
Test(elfsym, file_offset_holds_the_loaded_code)
{
	static const struct {
		const char *name, *version;
	} funcs[] = {
		{ "my_alloc", "V_2" },
		{ "my_alloc", "V_1" },
		{ "my_malloc", "V_2" },
	};
	struct elf_file *f = open_fixture("libvers");
	unsigned char code[64];
	struct elf_func fn;
	const char *sym;
	void *lib, *mem;
	size_t i;
	int err;

	lib = dlopen(fixture("libvers"), RTLD_NOW | RTLD_LOCAL);
	cr_assert(lib, "dlopen libvers: %s", dlerror());
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		mem = dlvsym(lib, funcs[i].name, funcs[i].version);
		cr_assert(mem, "dlvsym %s@%s: %s", funcs[i].name,
			  funcs[i].version, dlerror());
		sym = !strcmp(funcs[i].version, "V_1") ? "my_alloc_v1" :
							   funcs[i].name;
		fn = find(f, "libvers", sym);
		cr_assert(fn.size && fn.size <= sizeof(code),
			  "%s: size %llu", sym, fn.size);
		cr_expect_neq(fn.file_offset, fn.vaddr,
			      "fixture: %s at the same vaddr and offset", sym);
		err = elf_file__read(f, fn.file_offset, code, fn.size);
		cr_assert_eq(err, 0, "read %s at %#llx: %s", sym,
			     fn.file_offset, strerror(-err));
		cr_expect(!memcmp(code, mem, fn.size),
			  "bytes at offset %#llx are not %s@%s as loaded",
			  fn.file_offset, funcs[i].name, funcs[i].version);
	}
	dlclose(lib);
	elf_file__free(f);
}

Test(elfsym, read_checks_bounds)
{
	struct elf_file *f = open_fixture("libvers");
	char magic[4];
	int err;

	err = elf_file__read(f, 0, magic, sizeof(magic));
	cr_assert_eq(err, 0, "read at 0: %s", strerror(-err));
	cr_expect(!memcmp(magic, "\177ELF", 4), "no ELF magic at offset 0");
	cr_expect_eq(elf_file__read(f, 1ULL << 40, magic, 1), -ERANGE,
		     "read past the end did not fail with -ERANGE");
	cr_expect_eq(elf_file__read(f, 0, magic, (size_t)-1), -ERANGE,
		     "oversized read did not fail with -ERANGE");
	elf_file__free(f);
}

Test(elfsym, program_with_own_malloc)
{
	struct elf_file *dyn = open_fixture("selfalloc");
	struct elf_file *stat = open_fixture("selfalloc.static");
	struct elf_file *dyn_stripped = open_fixture("selfalloc.stripped");
	struct elf_func fn;

	find(dyn, "selfalloc", "malloc");
	/* libc calls malloc, so the linker exports the program's own */
	find(dyn_stripped, "selfalloc.stripped", "malloc");
	cr_expect_eq(elf_file__find_func(dyn_stripped, "main", &fn), -ENOENT,
		     "main found in a stripped program");

	fn = find(stat, "selfalloc.static", "malloc");
	cr_expect_neq(fn.file_offset, fn.vaddr,
		      "static (non-PIE) malloc: offset equals vaddr %#llx",
		      fn.vaddr);
	cr_expect_eq(elf_file__has_symbols(stat), 1, "static: no symbols");
	elf_file__free(dyn_stripped);
	elf_file__free(stat);
	elf_file__free(dyn);
}

Test(elfsym, stripped_static_program_has_nothing)
{
	struct elf_file *f = open_fixture("selfalloc.static.stripped");
	struct elf_func fn;

	cr_expect_eq(elf_file__has_symbols(f), 0, "symbols in a stripped "
		     "static program");
	cr_expect_eq(elf_file__find_func(f, "malloc", &fn), -ENOENT,
		     "malloc found in a stripped static program");
	elf_file__free(f);
}

Test(elfsym, build_id)
{
	static const char *const names[] = {
		"selfalloc.stripped", "selfalloc.debug", "selfalloc.debuglink",
	};
	char want[64], id[64];
	struct elf_file *f;
	size_t i;
	int err;

	f = open_fixture("selfalloc");
	err = elf_file__build_id(f, want, sizeof(want));
	cr_assert_eq(err, 0, "selfalloc: no build-id: %s", strerror(-err));
	cr_expect_eq(strlen(want), 40, "build-id \"%s\" is not 40 digits",
		     want);
	cr_expect_eq(strspn(want, "0123456789abcdef"), strlen(want),
		     "build-id \"%s\" is not lowercase hex", want);
	cr_expect_eq(elf_file__build_id(f, id, 40), -ENOSPC,
		     "40-byte buffer accepted for a 40-digit id and its NUL");
	elf_file__free(f);

	/* Stripping and splitting keep the note: it is how they pair up. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		f = open_fixture(names[i]);
		err = elf_file__build_id(f, id, sizeof(id));
		cr_expect_eq(err, 0, "%s: no build-id: %s", names[i],
			     strerror(-err));
		cr_expect_str_eq(id, want, "%s: build-id %s, selfalloc's %s",
				 names[i], id, want);
		elf_file__free(f);
	}
}

Test(elfsym, open_errors)
{
	char path[] = "/tmp/elfsym-test-XXXXXX";
	struct elf_file *f;
	int fd, fds;

	fds = count_fds();
	errno = 0;
	f = elf_file__open(fixture("no-such-file"));
	cr_expect(!f && errno == ENOENT, "missing file: %p, errno %d (%s)",
		  (void *)f, errno, strerror(errno));

	fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, "#!/bin/sh\n", 10), 10, "write %s", path);
	close(fd);
	errno = 0;
	f = elf_file__open(path);
	cr_expect(!f && errno == ENOEXEC, "script: %p, errno %d (%s)",
		  (void *)f, errno, strerror(errno));
	unlink(path);
	cr_expect_eq(count_fds(), fds, "failed opens leaked descriptors");
}

Test(elfsym, free_closes_everything)
{
	struct elf_file *f;
	int fds, i;

	fds = count_fds();
	for (i = 0; i < 3; i++) {
		f = open_fixture("libvers");
		elf_file__free(f);
	}
	elf_file__free(NULL);
	cr_expect_eq(count_fds(), fds, "elf_file__free leaked descriptors");
}

/* An ELF header's first bytes: class, byte order and machine. */
static void header(unsigned char *h, int class, int data, unsigned machine)
{
	memset(h, 0, ELF_IDENT_LEN);
	memcpy(h, ELFMAG, SELFMAG);
	h[EI_CLASS] = class;
	h[EI_DATA] = data;
	if (data == ELFDATA2LSB) {
		h[EI_NIDENT + 2] = machine & 0xff;
		h[EI_NIDENT + 3] = machine >> 8;
	} else {
		h[EI_NIDENT + 2] = machine >> 8;
		h[EI_NIDENT + 3] = machine & 0xff;
	}
}

/*
 * What the tool refuses to trace: anything but 64-bit x86-64, said as
 * what it is; a file too short or without ELF's magic is nothing to say.
 */
Test(elfsym, foreign_programs)
{
	unsigned char h[ELF_IDENT_LEN];
	char buf[64];
	const char *got;

	header(h, ELFCLASS64, ELFDATA2LSB, EM_X86_64);
	cr_expect_null(elf_ident_foreign(h, sizeof(h), buf, sizeof(buf)));
	header(h, ELFCLASS32, ELFDATA2LSB, EM_386);
	got = elf_ident_foreign(h, sizeof(h), buf, sizeof(buf));
	cr_expect_str_eq(got ? got : "(null)", "a 32-bit (i386) program");
	header(h, ELFCLASS32, ELFDATA2LSB, EM_X86_64);
	got = elf_ident_foreign(h, sizeof(h), buf, sizeof(buf));
	cr_expect_str_eq(got ? got : "(null)", "a 32-bit (x32) program");
	header(h, ELFCLASS64, ELFDATA2LSB, EM_AARCH64);
	got = elf_ident_foreign(h, sizeof(h), buf, sizeof(buf));
	cr_expect_str_eq(got ? got : "(null)", "an ELF for machine 183");
	header(h, ELFCLASS64, ELFDATA2MSB, EM_S390);
	got = elf_ident_foreign(h, sizeof(h), buf, sizeof(buf));
	cr_expect_str_eq(got ? got : "(null)", "an ELF for machine 22");

	header(h, ELFCLASS32, ELFDATA2LSB, EM_386);
	cr_expect_null(elf_ident_foreign(h, ELF_IDENT_LEN - 1, buf,
					 sizeof(buf)), "a short read");
	h[0] = '#';
	cr_expect_null(elf_ident_foreign(h, sizeof(h), buf, sizeof(buf)),
		       "a script");

	/* and of a file: this test program is x86-64 */
	cr_expect_null(elf_path_foreign("/proc/self/exe", buf, sizeof(buf)));
	cr_expect_null(elf_path_foreign("/nonexistent", buf, sizeof(buf)));
}

/* The dynamic linker a program names (PT_INTERP); a library names none. */
Test(elfsym, interp)
{
	struct elf_file *f;
	char buf[PATH_MAX];

	f = elf_file__open("/proc/self/exe");
	cr_assert(f, "open /proc/self/exe: %s", strerror(errno));
	cr_assert_eq(elf_file__interp(f, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "/lib64/ld-linux-x86-64.so.2");
	cr_expect_eq(elf_file__interp(f, buf, 8), -ENOENT, "a short buffer");
	elf_file__free(f);

	f = elf_file__open(fixture("libvers"));
	cr_assert(f, "open libvers: %s", strerror(errno));
	cr_expect_eq(elf_file__interp(f, buf, sizeof(buf)), -ENOENT);
	elf_file__free(f);
}
