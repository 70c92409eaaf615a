// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include "deps.h"
#include "elfsym.h"

/* The dynamic linker's default directories, after the environment's. */
#define SYSTEM_LIB_DIRS	"/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:" \
			"/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu:" \
			"/lib64:/usr/lib64:/lib:/usr/lib"

/* Finds name in the directories of a ':'-separated list. */
static bool search_dirs(const char *list, const char *name, char *out,
			size_t len)
{
	const char *p = list, *end;

	while (p && *p) {
		end = strchrnul(p, ':');
		if (end > p) {
			snprintf(out, len, "%.*s/%s", (int)(end - p), p, name);
			if (!access(out, R_OK))
				return true;
		}
		p = *end ? end + 1 : NULL;
	}
	return false;
}

/* LD_LIBRARY_PATH, the object's run path, then the system directories. */
bool deps__find_lib(const struct deps_paths *p, const char *name, char *out,
		    size_t len)
{
	const char *env = getenv("LD_LIBRARY_PATH");

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return !access(out, R_OK);
	}
	return (env && search_dirs(env, name, out, len)) ||
	       (p->runpath[0] && search_dirs(p->runpath, name, out, len)) ||
	       search_dirs(SYSTEM_LIB_DIRS, name, out, len);
}

/* DT_RUNPATH/DT_RPATH: kept with $ORIGIN replaced by the object's dir. */
static int note_runpath(const char *s, void *ctx)
{
	struct deps_paths *p = ctx;
	const char *o = strstr(s, "$ORIGIN");
	size_t n;

	if (p->runpath[0])
		return 0;
	if (o)
		n = snprintf(p->runpath, sizeof(p->runpath), "%.*s%s%s",
			     (int)(o - s), s, p->origin,
			     o + strlen("$ORIGIN"));
	else
		n = snprintf(p->runpath, sizeof(p->runpath), "%s", s);
	/* A run path too long to keep is not searched, rather than cut. */
	if (n >= sizeof(p->runpath))
		p->runpath[0] = 0;
	return 0;
}

void deps__paths(struct deps_paths *p, struct elf_file *ef, const char *path)
{
	const char *slash = strrchr(path, '/');

	p->runpath[0] = 0;
	snprintf(p->origin, sizeof(p->origin), "%.*s",
		 slash ? (int)(slash - path) : 1, slash ? path : ".");
	elf_file__dynamic_strs(ef, DT_RUNPATH, note_runpath, p);
	elf_file__dynamic_strs(ef, DT_RPATH, note_runpath, p);
}

int deps__script_interp(const char *path, char *interp, size_t len)
{
	char line[256];
	size_t n, i = 2;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = 0;
	if (n < 2 || line[0] != '#' || line[1] != '!')
		return 0;
	while (line[i] == ' ' || line[i] == '\t')
		i++;
	n = strcspn(line + i, " \t\n");
	if (!n || n >= len)
		return -ENOEXEC;
	memcpy(interp, line + i, n);
	interp[n] = 0;
	return 1;
}

int deps__each_preload(int (*cb)(const char *name, void *ctx), void *ctx)
{
	char *preload, *tok, *save = NULL;
	int r = 0;

	preload = getenv("LD_PRELOAD") ? strdup(getenv("LD_PRELOAD")) : NULL;
	for (tok = preload ? strtok_r(preload, ": ", &save) : NULL;
	     tok && !r; tok = strtok_r(NULL, ": ", &save))
		r = cb(tok, ctx);
	free(preload);
	return r;
}
