/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * dwfl_module_addrinfo()'s answers, asked once per span of addresses that
 * must get the same one. libdwfl looks at every symbol of the module for
 * each address: cc1's 28,900 symbols times the 4,567 return addresses of
 * one compile took seconds. Its choice compares the address only with
 * symbol values, symbol ends and section bounds, so between two
 * neighbouring such points (and at each) the symbol it picks is the
 * same; only the offset differs. The spans are built from the module's
 * own symbol table on first use; the answers stay libdwfl's.
 */
#ifndef MEMSCOPE_ADDRSYM_H
#define MEMSCOPE_ADDRSYM_H

#include <elfutils/libdwfl.h>

struct addrsym;

/* The spans of mod's symbols; NULL without memory or a symbol table. */
struct addrsym *addrsym__new(Dwfl_Module *mod);
void addrsym__free(struct addrsym *a);

/*
 * dwfl_module_addrinfo(mod, pc, off, ...)'s name and *off, for the mod
 * a was made from; a NULL a asks libdwfl every time.
 */
const char *addrsym__name(struct addrsym *a, Dwfl_Module *mod, GElf_Addr pc,
			  GElf_Off *off);

#endif /* MEMSCOPE_ADDRSYM_H */
