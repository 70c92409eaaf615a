/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The symbol dwfl_module_addrinfo() names at an address, from the
 * module's symbols sorted once (addrsym.h says why). Its rule, checked
 * address by address against libdwfl (tests/unit/test_addrsym.c):
 *  - a symbol counts when it has a name, is defined, is no section, file
 *    or TLS symbol, and its value (as libdwfl resolves it, the file's
 *    bias added) is at or below the address;
 *  - the global symbols are searched first; the local ones only when no
 *    global one was chosen, nor a sizeless global sits at the address;
 *  - taken in table order, a sized symbol containing the address
 *    replaces the one chosen when it starts higher or binds stronger
 *    (global, weak, local, other), or starts at the same value and is
 *    shorter without binding weaker;
 *  - when no sized one contains it, a sizeless one (an assembly label):
 *    the last in table order that lies in the address's section (as
 *    libdwfl's search over the main file's allocated sections finds it,
 *    a section's end inside it) and starts at or above the end of every
 *    counted symbol before it; and it must still start at or above the
 *    end of every counted symbol once all were seen.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <gelf.h>

#include "addrsym.h"
#include "table.h"

/* A module's files with symbols: its own, its debug file, .gnu_debugdata. */
#define FILES_MAX	4
/*
 * Past this many symbols (a file from the traced process is hostile
 * input, though its table must hold them: 24 bytes each) libdwfl is
 * asked every time: 44 bytes a symbol here, 176 MiB.
 */
#define SYMS_MAX	(1 << 22)

struct asym {
	__u64 value;		/* as libdwfl resolves it, the bias added */
	__u64 size;
	__u32 index;		/* libdwfl's, as dwfl_module_getsym_info's */
	__u32 shndx;
	__u8 bind;		/* bind_rank() */
};

/* The globals, or the locals: libdwfl searches them apart. */
struct pass {
	struct asym *syms;	/* in table order */
	size_t n, cap;
	__u32 *by_value;	/* positions in syms, by value then index */
	/* the highest end of by_value[0..i], saturated (a wrap is no end) */
	__u64 *max_end;
};

/* A SHF_ALLOC section of the module's main file, in module addresses. */
struct section {
	__u64 start;
	__u64 end;
	__u32 ndx;
};

struct addrsym {
	struct pass pass[2];
	struct section *scns;	/* by start, end, then index (as libdwfl) */
	size_t nr_scns;
	const struct asym **cands;	/* scratch: one query's candidates */
	size_t cap_cands;
};

/* Higher binds stronger. */
static __u8 bind_rank(const GElf_Sym *sym)
{
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
		return 3;
	case STB_WEAK:
		return 2;
	case STB_LOCAL:
		return 1;
	default:
		return 0;
	}
}

static int cmp_section(const void *x, const void *y)
{
	const struct section *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	return a->ndx < b->ndx ? -1 : a->ndx > b->ndx;
}

/* The main file's allocated sections: where a sizeless symbol may count. */
static int sections_read(struct addrsym *a, Elf *elf, GElf_Addr bias)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr mem, *sh;
	size_t cap = 0;
	int err;

	while ((scn = elf_nextscn(elf, scn))) {
		sh = gelf_getshdr(scn, &mem);
		if (!sh)
			return -EINVAL;
		if (!(sh->sh_flags & SHF_ALLOC))
			continue;
		err = tab_grow((void **)&a->scns, &cap, a->nr_scns + 1,
			       sizeof(*a->scns));
		if (err)
			return err;
		a->scns[a->nr_scns++] = (struct section){
			.start = sh->sh_addr + bias,
			.end = sh->sh_addr + bias + sh->sh_size,
			.ndx = elf_ndxscn(scn),
		};
	}
	qsort(a->scns, a->nr_scns, sizeof(*a->scns), cmp_section);
	return 0;
}

/*
 * The section libdwfl finds addr in: a binary search taking a section's
 * end as inside it unless the next one starts there; SHN_UNDEF for none.
 * (The same search, step for step: sections may overlap.)
 */
static __u32 section_of(const struct addrsym *a, __u64 addr)
{
	size_t l = 0, u = a->nr_scns, i;

	while (l < u) {
		i = (l + u) / 2;
		if (addr < a->scns[i].start) {
			u = i;
		} else if (addr > a->scns[i].end) {
			l = i + 1;
		} else {
			if (addr == a->scns[i].end && i + 1 < a->nr_scns &&
			    addr == a->scns[i + 1].start)
				i++;
			return a->scns[i].ndx;
		}
	}
	return SHN_UNDEF;
}

static int sym_add(struct pass *p, const struct asym *s)
{
	int err = tab_grow((void **)&p->syms, &p->cap, p->n + 1,
			   sizeof(*p->syms));

	if (err)
		return err;
	p->syms[p->n++] = *s;
	return 0;
}

static int cmp_value(const void *x, const void *y, void *arg)
{
	const struct pass *p = arg;
	const struct asym *a = &p->syms[*(const __u32 *)x];
	const struct asym *b = &p->syms[*(const __u32 *)y];

	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int pass_sort(struct pass *p)
{
	__u64 end, max = 0;
	const struct asym *s;
	size_t i;

	if (!p->n)
		return 0;
	p->by_value = calloc(p->n, sizeof(*p->by_value));
	p->max_end = calloc(p->n, sizeof(*p->max_end));
	if (!p->by_value || !p->max_end)
		return -ENOMEM;
	for (i = 0; i < p->n; i++)
		p->by_value[i] = i;
	qsort_r(p->by_value, p->n, sizeof(*p->by_value), cmp_value, p);
	for (i = 0; i < p->n; i++) {
		s = &p->syms[p->by_value[i]];
		end = s->value + s->size;
		if (end < s->value)
			end = UINT64_MAX;
		if (end > max)
			max = end;
		p->max_end[i] = max;
	}
	return 0;
}

static int syms_read(struct addrsym *a, Dwfl_Module *mod)
{
	int n, i, first_global, type, err;
	GElf_Addr value, bias;
	const char *name;
	GElf_Word shndx;
	GElf_Ehdr ehdr;
	GElf_Sym sym;
	Elf *elf;

	n = dwfl_module_getsymtab(mod);
	if (n < 0)
		return -ENOENT;
	if (n > SYMS_MAX)
		return -E2BIG;
	first_global = dwfl_module_getsymtab_first_global(mod);
	elf = dwfl_module_getelf(mod, &bias);
	/* A relocatable file's values are by section: libdwfl's own case. */
	if (first_global < 0 || !elf || !gelf_getehdr(elf, &ehdr) ||
	    ehdr.e_type == ET_REL)
		return -ENOTSUP;
	err = sections_read(a, elf, bias);
	if (err)
		return err;
	for (i = 1; i < n; i++) {
		name = dwfl_module_getsym_info(mod, i, &sym, &value, &shndx,
					       &elf, &bias);
		type = GELF_ST_TYPE(sym.st_info);
		if (!name || !name[0] || sym.st_shndx == SHN_UNDEF ||
		    type == STT_SECTION || type == STT_FILE || type == STT_TLS)
			continue;
		err = sym_add(&a->pass[i < first_global], &(struct asym){
			.value = value, .size = sym.st_size, .index = i,
			.shndx = shndx, .bind = bind_rank(&sym),
		});
		if (err)
			return err;
	}
	err = pass_sort(&a->pass[0]);
	return err ?: pass_sort(&a->pass[1]);
}

struct addrsym *addrsym__new(Dwfl_Module *mod)
{
	struct addrsym *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return NULL;
	err = syms_read(a, mod);
	if (err) {
		addrsym__free(a);
		errno = -err;
		return NULL;
	}
	return a;
}

void addrsym__free(struct addrsym *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < 2; i++) {
		free(a->pass[i].syms);
		free(a->pass[i].by_value);
		free(a->pass[i].max_end);
	}
	free(a->scns);
	free(a->cands);
	free(a);
}

struct choice {
	const struct asym *closest;	/* sized, containing pc */
	const struct asym *sizeless;
	__u64 min_label;
	__u32 pc_scn;			/* 0: not looked up yet */
};

/* Whether a sizeless s is in pc's section, as libdwfl judges it. */
static bool same_section(const struct addrsym *a, struct choice *c,
			 const struct asym *s, GElf_Addr pc)
{
	if (s->shndx >= SHN_LORESERVE)
		return s->value == pc;
	if (c->pc_scn == SHN_UNDEF)
		c->pc_scn = section_of(a, pc);
	return c->pc_scn == section_of(a, s->value);
}

static int cmp_position(const void *x, const void *y)
{
	const struct asym *a = *(const struct asym *const *)x;
	const struct asym *b = *(const struct asym *const *)y;

	return a < b ? -1 : a > b;
}

/* Whether s, later in the table, takes the sized closest's place. */
static bool closer(const struct asym *best, const struct asym *s)
{
	if (!best || best->value < s->value || best->bind < s->bind)
		return true;
	/* the same start: the shorter, unless it binds weaker */
	return best->value == s->value &&
	       ((best->size > s->size && best->bind <= s->bind) ||
		(best->size >= s->size && best->bind < s->bind));
}

static int pass_search(struct addrsym *a, const struct pass *p, GElf_Addr pc,
		       struct choice *c)
{
	size_t lo = 0, hi = p->n, mid, nr = 0, i;
	const struct asym *s;
	int err;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->syms[p->by_value[mid]].value <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/*
	 * The sized symbols holding pc: back from it while a symbol so far
	 * down still ends above it; then weighed in table order.
	 */
	for (i = lo; i-- && p->max_end[i] > pc;) {
		s = &p->syms[p->by_value[i]];
		if (!s->size || pc - s->value >= s->size)
			continue;
		err = tab_grow((void **)&a->cands, &a->cap_cands, nr + 1,
			       sizeof(*a->cands));
		if (err)
			return err;
		a->cands[nr++] = s;
	}
	if (nr > 1)
		qsort(a->cands, nr, sizeof(*a->cands), cmp_position);
	for (i = 0; i < nr; i++)
		if (closer(c->closest, a->cands[i]))
			c->closest = a->cands[i];
	if (c->closest || !lo)
		return 0;
	/*
	 * None holds pc, so every symbol below it ends at or below it, and
	 * a label is taken only at or above the end of all those libdwfl
	 * saw: at their greatest end, the last such value by_value holds.
	 * Of the labels there in pc's section, the table's last one wins
	 * (one later in the table at a lower value would have been refused
	 * for starting below an end seen before it).
	 */
	if (p->max_end[lo - 1] < c->min_label)
		return 0;
	if (p->max_end[lo - 1] > c->min_label) {
		c->min_label = p->max_end[lo - 1];
		c->sizeless = NULL;
	}
	for (i = lo; i-- && p->syms[p->by_value[i]].value == c->min_label;) {
		s = &p->syms[p->by_value[i]];
		if (!s->size && same_section(a, c, s, pc)) {
			c->sizeless = s;
			break;
		}
	}
	return 0;
}

const char *addrsym__name(struct addrsym *a, Dwfl_Module *mod, GElf_Addr pc,
			  GElf_Off *off)
{
	struct choice c = { .pc_scn = SHN_UNDEF };
	GElf_Addr value, bias;
	GElf_Word shndx;
	GElf_Sym sym;
	Elf *elf;

	if (!a)
		return dwfl_module_addrinfo(mod, pc, off, &sym, NULL, NULL,
					    NULL);
	if (pass_search(a, &a->pass[0], pc, &c))
		goto ask;
	if (!c.closest && (!c.sizeless || c.sizeless->value != pc) &&
	    pass_search(a, &a->pass[1], pc, &c))
		goto ask;
	if (!c.closest)
		c.closest = c.sizeless;
	*off = 0;
	if (!c.closest)
		return NULL;
	*off = pc - c.closest->value;
	return dwfl_module_getsym_info(mod, c.closest->index, &sym, &value,
				       &shndx, &elf, &bias);
ask:
	/* No memory for the candidates: libdwfl's own search. */
	return dwfl_module_addrinfo(mod, pc, off, &sym, NULL, NULL, NULL);
}
