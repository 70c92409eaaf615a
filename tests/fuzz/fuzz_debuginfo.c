/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: the search for separate debug information
 * (user/capture/debuginfo.c) with names a traced process chose: the path
 * it maps an object by, the object's .gnu_debuglink name and CRC, its
 * build-id, and a debug file's .gnu_debugaltlink. The input is split at
 * its first two NULs into the path and the link name; the rest is the
 * build-id (its first 4 bytes also the CRC), and the whole input is
 * also read as an ELF file for its .gnu_debugaltlink.
 *
 * The target's root is an empty directory, so every lookup must come
 * back empty but one: this tool's own debug file of the build-id asked
 * for (the search looks there after the root), which must be that
 * build's. Any other file offered or opened means a path left the root
 * (the seeds carry build-ids of debug files this machine has under
 * /usr/lib/debug, so an escape would find them). That, a crash, a
 * sanitizer report or a hang fails `make fuzz`.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>

#include "debuginfo.h"

/*
 * Is path, opened as fd, this tool's debug file of build-id id: its name
 * under /usr/lib/debug/.build-id, and that build-id inside?
 */
static bool own_build_id_file(int fd, const char *path, const uint8_t *id,
			      size_t len)
{
	char want[2 * DEBUGINFO_ID_MAX + 64];
	const void *bits;
	bool same = false;
	size_t i, n;
	ssize_t got;
	Elf *elf;

	if (!id || len < 2 || len > DEBUGINFO_ID_MAX)
		return false;
	n = snprintf(want, sizeof(want), "/usr/lib/debug/.build-id/%02x/",
		     id[0]);
	for (i = 1; i < len; i++)
		n += snprintf(want + n, sizeof(want) - n, "%02x", id[i]);
	snprintf(want + n, sizeof(want) - n, ".debug");
	if (strcmp(path, want))
		return false;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	got = elf ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
	same = got > 0 && (size_t)got == len && !memcmp(bits, id, len);
	elf_end(elf);
	return same;
}

static int offered(int fd, const char *path, void *arg)
{
	const struct debuginfo_query *q = arg;

	if (!own_build_id_file(fd, path, q->build_id, q->build_id_len)) {
		fprintf(stderr, "fuzz_debuginfo: %s offered from an empty root\n",
			path);
		abort();
	}
	close(fd);
	return 0;
}

static char dir[] = "/tmp/fuzz-debuginfo.XXXXXX";

static void remove_root(void)
{
	rmdir(dir);
}

static int empty_root(void)
{
	int fd;

	if (!mkdtemp(dir) || atexit(remove_root))
		abort();
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	return fd;
}

static void altlink(const uint8_t *data, size_t size)
{
	const unsigned char *id;
	const char *name;
	size_t id_len;
	char *copy;
	Elf *elf;

	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	elf = elf_memory(copy, size);
	if (elf && !debuginfo_altlink(elf, &name, &id, &id_len)) {
		/* the name ends right before the id; both are read whole */
		if (!id_len || id_len > DEBUGINFO_ID_MAX ||
		    (const char *)id != name + strlen(name) + 1 ||
		    !memchr(id, id[id_len - 1], id_len))
			abort();
	}
	elf_end(elf);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int root = -1;
	struct debuginfo_query q;
	const uint8_t *link, *id, *end = data + size;
	char path[4096], name[4096], *found = NULL;
	size_t n;
	int fd;

	if (root < 0) {
		elf_version(EV_CURRENT);
		root = empty_root();
	}
	altlink(data, size);

	link = memchr(data, 0, size);
	if (!link)
		return 0;
	link++;
	id = memchr(link, 0, end - link);
	if (!id)
		return 0;
	id++;
	n = (size_t)(link - 1 - data);
	if (n >= sizeof(path))
		n = sizeof(path) - 1;
	memcpy(path, data, n);
	path[n] = 0;
	n = (size_t)(id - 1 - link);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, link, n);
	name[n] = 0;

	memset(&q, 0, sizeof(q));
	q.root_fd = root;
	q.path = path;
	q.build_id = end > id ? id : NULL;
	q.build_id_len = end - id;
	q.debuglink = name[0] ? name : NULL;
	if (end - id >= 4)
		memcpy(&q.crc, id, 4);
	debuginfo_search(&q, offered, &q);
	fd = debuginfo_find_alt(root, path, name, q.build_id, q.build_id_len,
				&found);
	if (fd >= 0) {
		if (!own_build_id_file(fd, found, q.build_id, q.build_id_len)) {
			fprintf(stderr, "fuzz_debuginfo: %s opened from an empty root\n",
				found);
			abort();
		}
		close(fd);
		free(found);
	}
	return 0;
}
