/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What a program will map when it starts, found from its files before it
 * runs: a #! script's interpreter, and the libraries the dynamic linker
 * will load, searched as it searches (LD_LIBRARY_PATH, the run path, the
 * system directories). The launch probes them (attach.c).
 */
#ifndef MEMSCOPE_DEPS_H
#define MEMSCOPE_DEPS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct elf_file;

/* Where one object's libraries are searched. */
struct deps_paths {
	char runpath[PATH_MAX];	/* DT_RUNPATH or DT_RPATH, $ORIGIN expanded */
	char origin[PATH_MAX];	/* the object's directory */
};

/* The search paths of ef, the object at path. */
void deps__paths(struct deps_paths *p, struct elf_file *ef, const char *path);

/* The file the dynamic linker would load for name, into out. */
bool deps__find_lib(const struct deps_paths *p, const char *name, char *out,
		    size_t len);

/*
 * A #! script runs its interpreter (the kernel's binfmt_script): its
 * path, from the first line, into interp. 0 when path is no script, 1
 * when it is one, or -errno.
 */
int deps__script_interp(const char *path, char *interp, size_t len);

/*
 * Calls cb with each name of LD_PRELOAD, in order, until cb returns
 * non-zero (returned).
 */
int deps__each_preload(int (*cb)(const char *name, void *ctx), void *ctx);

#endif
