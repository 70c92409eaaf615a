/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * dwfl_module_addrinfo() once per span (addrsym.h).
 *
 * libdwfl's choice for an address (the closest sized symbol containing
 * it, by binding; else a sizeless one in the same section, above every
 * symbol's end below the address) compares the address with a symbol's
 * value (as resolved, and st_value adjusted by its file's bias), with
 * that value plus its size, and with section bounds, and with nothing
 * else. Every such point is a bound here, whether libdwfl would take the
 * symbol or not: more bounds only split spans. A span is an address equal
 * to a bound, or the addresses strictly between two neighbouring bounds.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <gelf.h>

#include "addrsym.h"
#include "table.h"

/* A module's files with symbols: its own, its debug file, .gnu_debugdata. */
#define FILES_MAX	4
/*
 * Past this many symbols (a file from the traced process is hostile
 * input: it may claim any number) there are no spans, and libdwfl is
 * asked every time: the bounds take 16 bytes a symbol, 64 MiB here.
 */
#define SYMS_MAX	(1 << 22)

struct answer {
	__u64 key;		/* span: 2 * bounds below or at + at one */
	const char *name;	/* libdwfl's, NULL none */
	__u64 value;		/* the address its offset counts from */
};

struct addrsym {
	__u64 *bounds;		/* sorted, distinct */
	size_t n;
	size_t cap;
	struct tab_keyed answers;
};

struct file {
	Elf *elf;
	GElf_Addr bias;
};

static int bound_add(struct addrsym *a, __u64 v)
{
	int err = tab_grow((void **)&a->bounds, &a->cap, a->n + 1,
			   sizeof(*a->bounds));

	if (!err)
		a->bounds[a->n++] = v;
	return err;
}

static int file_add(struct file *files, size_t *nr, Elf *elf, GElf_Addr bias)
{
	size_t i;

	for (i = 0; i < *nr; i++)
		if (files[i].elf == elf && files[i].bias == bias)
			return 0;
	/* No module has more: refuse rather than miss a file's sections. */
	if (*nr == FILES_MAX)
		return -E2BIG;
	files[*nr].elf = elf;
	files[(*nr)++].bias = bias;
	return 0;
}

/* Each section's bounds in the module's addresses: where sections change. */
static int section_bounds(struct addrsym *a, const struct file *f)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr mem, *sh;
	int err;

	while ((scn = elf_nextscn(f->elf, scn))) {
		sh = gelf_getshdr(scn, &mem);
		if (!sh)
			continue;
		err = bound_add(a, sh->sh_addr + f->bias);
		if (!err)
			err = bound_add(a, sh->sh_addr + sh->sh_size + f->bias);
		if (err)
			return err;
	}
	return 0;
}

static int cmp_u64(const void *x, const void *y)
{
	__u64 a = *(const __u64 *)x, b = *(const __u64 *)y;

	return a < b ? -1 : a > b;
}

static int spans_build(struct addrsym *a, Dwfl_Module *mod)
{
	struct file files[FILES_MAX];
	size_t nr_files = 0, i, k;
	GElf_Addr addr, bias;
	GElf_Word shndx;
	GElf_Sym sym;
	Elf *elf;
	int n, err;

	n = dwfl_module_getsymtab(mod);
	if (n < 0)
		return -ENOENT;
	if (n > SYMS_MAX)
		return -E2BIG;
	elf = dwfl_module_getelf(mod, &bias);
	if (!elf)
		return -ENOENT;
	err = file_add(files, &nr_files, elf, bias);
	for (i = 0; !err && i < (size_t)n; i++) {
		if (!dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, &elf,
					     &bias))
			continue;
		err = bound_add(a, addr);
		if (!err)
			err = bound_add(a, addr + sym.st_size);
		/* Its value adjusted by its file's bias, when that is another. */
		if (!err && sym.st_value + bias != addr) {
			err = bound_add(a, sym.st_value + bias);
			if (!err)
				err = bound_add(a, sym.st_value + bias +
						   sym.st_size);
		}
		if (!err && elf)
			err = file_add(files, &nr_files, elf, bias);
	}
	for (i = 0; !err && i < nr_files; i++)
		err = section_bounds(a, &files[i]);
	if (err)
		return err;
	qsort(a->bounds, a->n, sizeof(*a->bounds), cmp_u64);
	for (i = k = 0; i < a->n; i++)
		if (!k || a->bounds[k - 1] != a->bounds[i])
			a->bounds[k++] = a->bounds[i];
	a->n = k;
	return 0;
}

struct addrsym *addrsym__new(Dwfl_Module *mod)
{
	struct addrsym *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return NULL;
	err = tab_keyed_init(&a->answers, sizeof(struct answer),
			     offsetof(struct answer, key), 0);
	if (!err)
		err = spans_build(a, mod);
	if (err) {
		addrsym__free(a);
		errno = -err;
		return NULL;
	}
	return a;
}

void addrsym__free(struct addrsym *a)
{
	if (!a)
		return;
	tab_keyed_fini(&a->answers);
	free(a->bounds);
	free(a);
}

/* The span of pc: twice the bounds at or below it, plus one at a bound. */
static __u64 span_of(const struct addrsym *a, GElf_Addr pc)
{
	size_t lo = 0, hi = a->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (a->bounds[mid] <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 2 * (__u64)lo + (lo && a->bounds[lo - 1] == pc);
}

const char *addrsym__name(struct addrsym *a, Dwfl_Module *mod, GElf_Addr pc,
			  GElf_Off *off)
{
	const struct answer *got;
	struct answer *ans;
	const char *name;
	GElf_Sym sym;
	__u64 key;

	if (!a)
		return dwfl_module_addrinfo(mod, pc, off, &sym, NULL, NULL,
					    NULL);
	key = span_of(a, pc);
	got = tab_keyed_get(&a->answers, key);
	if (got) {
		*off = pc - got->value;
		return got->name;
	}
	/* libdwfl leaves it as it was when it finds no symbol table. */
	*off = 0;
	name = dwfl_module_addrinfo(mod, pc, off, &sym, NULL, NULL, NULL);
	/* Not kept without memory: asked again next time. */
	if (!tab_keyed_reserve(&a->answers)) {
		ans = tab_keyed_add(&a->answers, key);
		ans->name = name;
		ans->value = pc - *off;
	}
	return name;
}
