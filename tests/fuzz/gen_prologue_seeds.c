/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Writes the prologue fuzzer's seeds into DIR: the code of real allocator
 * functions (glibc, libstdc++ and the allocators scripts/install-deps.sh
 * installs), as the probe placement reads it (elf_file__func_code).
 *
 *   gen_prologue_seeds DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "elfsym.h"
#include "files.h"
#include "prologue.h"

#define LIBDIR "/usr/lib/x86_64-linux-gnu/"

static const struct {
	const char *lib;
	const char *funcs[6];
} seeds[] = {
	{ LIBDIR "libc.so.6",
	  { "malloc", "free", "realloc", "calloc", "posix_memalign",
	    "reallocarray" } },
	{ LIBDIR "libstdc++.so.6", { "_Znwm", "_ZdlPv", "_ZnwmRKSt9nothrow_t" } },
	{ LIBDIR "libjemalloc.so.2", { "malloc", "free", "realloc" } },
	{ LIBDIR "libtcmalloc_minimal.so.4", { "malloc", "free", "_Znwm" } },
	{ LIBDIR "libmimalloc.so.2", { "mi_malloc", "mi_free", "realloc" } },
};

int main(int argc, char **argv)
{
	char name[256];
	struct elf_func fn;
	struct elf_file *f;
	const char *base;
	size_t i, k;
	void *code;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (i = 0; i < sizeof(seeds) / sizeof(*seeds); i++) {
		f = elf_file__open(seeds[i].lib);
		if (!f) {
			fprintf(stderr, "gen_prologue_seeds: %s: %s (scripts/install-deps.sh installs it)\n",
				seeds[i].lib, strerror(errno));
			return 1;
		}
		base = strrchr(seeds[i].lib, '/') + 1;
		for (k = 0; k < 6 && seeds[i].funcs[k]; k++) {
			if (elf_file__find_func(f, seeds[i].funcs[k], &fn)) {
				fprintf(stderr, "gen_prologue_seeds: %s has no %s\n",
					seeds[i].lib, seeds[i].funcs[k]);
				return 1;
			}
			code = elf_file__func_code(f, &fn, PROLOGUE_MAX_BYTES);
			if (!code) {
				fprintf(stderr, "gen_prologue_seeds: %s %s: %s\n",
					seeds[i].lib, seeds[i].funcs[k],
					strerror(errno));
				return 1;
			}
			snprintf(name, sizeof(name), "%s-%s", base,
				 seeds[i].funcs[k]);
			if (write_seed(argv[1], name, code, fn.size))
				return 1;
			free(code);
		}
		elf_file__free(f);
	}
	return 0;
}
