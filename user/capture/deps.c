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

/*
 * LD_LIBRARY_PATH, the needing object's run path, the program's (a
 * DT_RPATH is inherited: close enough for what the callers want), then
 * the system directories.
 */
static bool find_in(const struct deps_paths *p, const struct deps_paths *prog,
		    const char *name, char *out, size_t len)
{
	const char *env = getenv("LD_LIBRARY_PATH");

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return !access(out, R_OK);
	}
	return (env && search_dirs(env, name, out, len)) ||
	       (p->runpath[0] && search_dirs(p->runpath, name, out, len)) ||
	       (prog && prog->runpath[0] &&
		search_dirs(prog->runpath, name, out, len)) ||
	       search_dirs(SYSTEM_LIB_DIRS, name, out, len);
}

bool deps__find_lib(const struct deps_paths *p, const char *name, char *out,
		    size_t len)
{
	return find_in(p, NULL, name, out, len);
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

/* The files found so far, each once: the walk's queue. */
struct deps_walk {
	char *files[DEPS_MAX];
	size_t nr;
	const struct deps_paths *from;	/* the object whose needs these are */
	const struct deps_paths *prog;
	int err;
};

static int walk_add(const char *name, void *ctx)
{
	struct deps_walk *w = ctx;
	char path[PATH_MAX];
	size_t i;

	/* One the dynamic linker would not find either is not counted. */
	if (w->nr >= DEPS_MAX ||
	    !find_in(w->from, w->prog, name, path, sizeof(path)))
		return 0;
	for (i = 0; i < w->nr; i++)
		if (!strcmp(w->files[i], path))
			return 0;
	w->files[w->nr] = strdup(path);
	if (!w->files[w->nr]) {
		w->err = -ENOMEM;
		return 1;
	}
	w->nr++;
	return 0;
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

int deps__each(const char *path,
	       int (*cb)(const char *path, struct elf_file *ef, void *ctx),
	       void *ctx)
{
	char interp[PATH_MAX];
	struct deps_paths prog, own;
	struct deps_walk w = { .from = &prog, .prog = &prog };
	struct elf_file *ef;
	size_t i;
	int r;

	/* One level, as the kernel takes: an interpreter is no script. */
	r = deps__script_interp(path, interp, sizeof(interp));
	if (r < 0)
		return r;
	if (r)
		path = interp;
	ef = elf_file__open(path);
	if (!ef)
		return -errno;
	r = cb(path, ef, ctx);
	if (r || !elf_file__is_dynamic(ef)) {
		elf_file__free(ef);
		return r;
	}
	deps__paths(&prog, ef, path);
	deps__each_preload(walk_add, &w);
	elf_file__dynamic_strs(ef, DT_NEEDED, walk_add, &w);
	elf_file__free(ef);
	/* Breadth first: each library's own needs, found from it. */
	for (i = 0; !w.err && !r && i < w.nr; i++) {
		ef = elf_file__open(w.files[i]);
		r = cb(w.files[i], ef, ctx);
		if (ef && !r) {
			deps__paths(&own, ef, w.files[i]);
			w.from = &own;
			elf_file__dynamic_strs(ef, DT_NEEDED, walk_add, &w);
		}
		elf_file__free(ef);
	}
	for (i = 0; i < w.nr; i++)
		free(w.files[i]);
	return w.err ? w.err : r;
}
