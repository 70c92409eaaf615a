/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * addrsym answers what dwfl_module_addrinfo() answers, name and offset,
 * at every address that could tell them apart: each symbol's value and
 * end and their neighbours, the middle of each symbol, each section's
 * bounds, and a walk through the code, in an order that asks each span
 * from several of its addresses. On the fixtures (aliases, symbol
 * versions, an IFUNC, symbols only in a .gnu_debuglink file, a static
 * build), this test program, libc, libstdc++ and cc1 (28,000 symbols:
 * sampled).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gelf.h>

#include "addrsym.h"
#include "fixture.h"

/*
 * The .gnu_debuglink file beside the module, and nothing else: libdwfl's
 * standard lookup would start a debuginfod client.
 */
static int debuglink_beside(Dwfl_Module *mod, void **userdata,
			    const char *modname, Dwarf_Addr base,
			    const char *file_name, const char *debuglink,
			    GElf_Word crc, char **debuginfo_file_name)
{
	char path[4096];
	const char *slash = strrchr(file_name, '/');
	int len = slash ? (int)(slash - file_name) : 1;
	int fd;

	(void)mod, (void)userdata, (void)modname, (void)base, (void)crc;
	if (!debuglink)
		return -1;
	snprintf(path, sizeof(path), "%.*s/%s", len, slash ? file_name : ".",
		 debuglink);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		*debuginfo_file_name = strdup(path);
	return fd;
}

/* As the symbolizer reports a module: its file, opened here. */
static const Dwfl_Callbacks callbacks = {
	.find_debuginfo = debuglink_beside,
	.section_address = dwfl_offline_section_address,
};

TestSuite(addrsym, .timeout = 120);

struct probe {
	Dwfl_Module *mod;
	struct addrsym *a;
	const char *path;
	size_t asked;
};

static void same(struct probe *p, GElf_Addr pc)
{
	GElf_Off want_off = 0, got_off = 0;
	const char *want, *got;
	GElf_Sym sym;

	want = dwfl_module_addrinfo(p->mod, pc, &want_off, &sym, NULL, NULL,
				    NULL);
	got = addrsym__name(p->a, p->mod, pc, &got_off);
	p->asked++;
	cr_assert(want == got, "%s at %#llx: libdwfl says %s, addrsym %s",
		  p->path, (unsigned long long)pc, want ? want : "(none)",
		  got ? got : "(none)");
	if (want)
		cr_assert_eq(got_off, want_off,
			     "%s at %#llx (%s): offset %#llx, libdwfl %#llx",
			     p->path, (unsigned long long)pc, want,
			     (unsigned long long)got_off,
			     (unsigned long long)want_off);
}

/* v and its neighbours, the points where an answer may turn. */
static void around(struct probe *p, GElf_Addr v)
{
	same(p, v + 1);
	same(p, v);
	same(p, v - 1);
}

/*
 * At most max_syms symbols (spread evenly), every section, and steps
 * through each code section: libdwfl's own answer costs a pass over all
 * symbols, so the big objects are sampled.
 */
static void compare(const char *path, int max_syms, int steps)
{
	struct probe p = { .path = path };
	Elf_Scn *scn = NULL;
	GElf_Shdr mem, *sh;
	GElf_Addr addr, bias, pc;
	GElf_Word shndx;
	GElf_Sym sym;
	int n, i, step;
	Dwfl *dwfl;
	Elf *elf;

	dwfl = dwfl_begin(&callbacks);
	cr_assert_not_null(dwfl);
	p.mod = dwfl_report_offline(dwfl, path, path,
				    open(path, O_RDONLY | O_CLOEXEC));
	cr_assert_not_null(p.mod, "%s: %s", path, dwfl_errmsg(-1));
	dwfl_report_end(dwfl, NULL, NULL);
	n = dwfl_module_getsymtab(p.mod);
	cr_assert_gt(n, 1, "%s: no symbol table", path);
	p.a = addrsym__new(p.mod);
	cr_assert_not_null(p.a, "%s: %s", path, strerror(errno));
	step = n > max_syms ? n / max_syms : 1;
	for (i = 1; i < n; i += step) {
		if (!dwfl_module_getsym_info(p.mod, i, &sym, &addr, &shndx,
					     &elf, &bias))
			continue;
		same(&p, addr + sym.st_size / 2);
		around(&p, addr);
		around(&p, addr + sym.st_size);
		if (sym.st_size > 2)
			around(&p, addr + sym.st_size - 1);
	}
	elf = dwfl_module_getelf(p.mod, &bias);
	cr_assert_not_null(elf);
	while ((scn = elf_nextscn(elf, scn))) {
		sh = gelf_getshdr(scn, &mem);
		if (!sh || !(sh->sh_flags & SHF_ALLOC))
			continue;
		around(&p, sh->sh_addr + bias);
		around(&p, sh->sh_addr + sh->sh_size + bias);
		/* Spans asked from inside, one address after another. */
		if (sh->sh_flags & SHF_EXECINSTR)
			for (pc = sh->sh_addr + bias;
			     pc < sh->sh_addr + bias + sh->sh_size;
			     pc += 1 + sh->sh_size / steps)
				same(&p, pc);
	}
	cr_assert_gt(p.asked, 100, "%s: only %zu addresses", path, p.asked);
	addrsym__free(p.a);
	dwfl_end(dwfl);
}

Test(addrsym, fixtures_answer_as_libdwfl)
{
	static const char *const names[] = {
		"libvers", "libvers.stripped", "selfalloc",
		"selfalloc.debuglink", "selfalloc.static",
		"libinline", "libinline.nosymtab",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		compare(fixture(names[i]), 1 << 20, 4000);
}

/* No symbols at all: no spans, and libdwfl asked (and answering none). */
Test(addrsym, no_symbols_no_spans)
{
	const char *path = fixture("selfalloc.static.stripped");
	Dwfl *dwfl = dwfl_begin(&callbacks);
	Dwfl_Module *mod;
	GElf_Off off = 1;

	cr_assert_not_null(dwfl);
	mod = dwfl_report_offline(dwfl, path, path,
				  open(path, O_RDONLY | O_CLOEXEC));
	cr_assert_not_null(mod, "%s: %s", path, dwfl_errmsg(-1));
	dwfl_report_end(dwfl, NULL, NULL);
	cr_expect_null(addrsym__new(mod), "spans without symbols");
	cr_expect_null(addrsym__name(NULL, mod, 0x401000, &off));
	dwfl_end(dwfl);
}

Test(addrsym, this_program_answers_as_libdwfl)
{
	compare("/proc/self/exe", 1 << 20, 4000);
}

Test(addrsym, system_libraries_answer_as_libdwfl)
{
	compare("/lib/x86_64-linux-gnu/libc.so.6", 1000, 1000);
	compare("/lib/x86_64-linux-gnu/libstdc++.so.6", 500, 500);
}

/* The path a shell command prints, into path. */
static void path_of(const char *cmd, char *path, size_t size)
{
	FILE *f = popen(cmd, "r");

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(path, size, f), "no path from %s", cmd);
	pclose(f);
	path[strcspn(path, "\n")] = '\0';
}

/* Big programs: the case addrsym is for. */
Test(addrsym, big_programs_answer_as_libdwfl)
{
	char path[4096];

	/* stripped C++, 28,900 symbols */
	path_of("gcc -print-prog-name=cc1", path, sizeof(path));
	compare(path, 150, 300);
	/* Debian's python3: stripped, its .dynsym only */
	path_of("readlink -f /usr/bin/python3", path, sizeof(path));
	compare(path, 150, 300);
	/* node: 185,000 symbols, .symtab and .dynsym (install-deps has it) */
	path_of("command -v node", path, sizeof(path));
	compare(path, 100, 200);
}
