/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: any bytes as the /proc files of a traced process
 * that it writes itself: /proc/PID/maps (the names of the files it maps
 * are its own to choose), stat, status and cmdline (its name and its
 * memory), and auxv (where it started). Each input goes through every
 * parser. A crash, a sanitizer report or a hang fails `make fuzz`, as
 * does an answer the input cannot make: a mapping that does not contain
 * its own start, a name or command not terminated within its buffer, an
 * entry point from an auxv said to have none.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "elfsym.h"
#include "perfmap.h"
#include "procinfo_read.h"
#include "procmaps.h"

static void check_str(const char *buf, size_t len)
{
	if (!memchr(buf, 0, len))
		abort();
}

static void maps(const char *path)
{
	const struct procmap *e;
	struct procmaps *m;
	size_t i, n;

	m = procmaps__read_file(path);
	if (!m)
		return;
	n = procmaps__count(m);
	for (i = 0; i < n; i++) {
		e = procmaps__get(m, i);
		check_str(e->perms, sizeof(e->perms));
		if (e->path)
			(void)strlen(e->path);
		if (e->start < e->end && !procmaps__find(m, e->start))
			abort();
		procmaps__find(m, e->end);
	}
	procmaps__free(m);
}

/* Any name found is one of the map's, a string within its text. */
static void perf_map(const uint8_t *data, size_t size)
{
	struct perfmap *pm = perfmap__parse((const char *)data, size);
	const char *name;
	__u64 addr = 0;
	bool reused;

	if (!pm)
		return;
	if (size)
		memcpy(&addr, data, size < sizeof(addr) ? size : sizeof(addr));
	name = perfmap__find(pm, addr, &reused);
	if (name && (reused || !strlen(name)))
		abort();
	perfmap__find(pm, 0x1000, &reused);
	perfmap__free(pm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procinfo pi;
	__u64 entry, interp;
	char kind[64];
	__u32 tgid;
	const char *path;

	input_file(data, size, &path);
	maps(path);
	perf_map(data, size);

	memset(&pi, 0, sizeof(pi));
	procinfo_parse_stat((const char *)data, size, 100, &pi);
	check_str(pi.comm, sizeof(pi.comm));
	procinfo_parse_status((const char *)data, size, &pi);
	procinfo_parse_cmdline((const char *)data, size, &pi);
	procinfo_parse_tgid((const char *)data, size, &tgid);
	procinfo_parse_tracer((const char *)data, size, &tgid);
	procinfo_parse_state((const char *)data, size, kind);
	check_str(pi.command, sizeof(pi.command));
	/* auxv: an entry point is found or not, nothing is read past size */
	if (procinfo_parse_auxv(data, size, &entry, &interp) && entry)
		abort();
	/* /proc/PID/exe's first bytes, as procinfo_read takes them */
	if (elf_ident_foreign(data, size < ELF_IDENT_LEN ? size : ELF_IDENT_LEN,
			      kind, sizeof(kind)))
		check_str(kind, sizeof(kind));
	return 0;
}
