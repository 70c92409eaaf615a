/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * dwfl_module_addrinfo()'s answer, name and offset, without its cost:
 * libdwfl looks at every symbol of the module for each address (node's
 * 185,000 took 1.3 ms an address, and a recording, which names each new
 * stack on the drain's thread, lost 60 % of node's records to it). The
 * module's symbols are read once, sorted by value with a running
 * greatest end; an address takes a binary search and a walk back over
 * the symbols that may still hold it, then libdwfl's own rule (addrsym.c)
 * among them. The unit test holds the answers to libdwfl's.
 */
#ifndef MEMSCOPE_ADDRSYM_H
#define MEMSCOPE_ADDRSYM_H

#include <elfutils/libdwfl.h>

struct addrsym;

/*
 * mod's symbols, sorted; NULL without memory or a symbol table, for a
 * relocatable file, or past 4M symbols (libdwfl is asked then).
 */
struct addrsym *addrsym__new(Dwfl_Module *mod);
void addrsym__free(struct addrsym *a);

/*
 * dwfl_module_addrinfo(mod, pc, off, ...)'s name and *off, for the mod
 * a was made from; a NULL a asks libdwfl every time.
 */
const char *addrsym__name(struct addrsym *a, Dwfl_Module *mod, GElf_Addr pc,
			  GElf_Off *off);

#endif /* MEMSCOPE_ADDRSYM_H */
