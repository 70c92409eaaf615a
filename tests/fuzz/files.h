/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Files the fuzzers and their seed generators share: the input as a file
 * a reader opens the way it opens a traced process's, and a seed written
 * whole.
 */
#ifndef MEMSCOPE_FUZZ_FILES_H
#define MEMSCOPE_FUZZ_FILES_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

/*
 * The input in a memfd, rewritten for each input: its descriptor, and in
 * *path (when not NULL) a path that opens it, /proc/self/fd/N.
 */
static inline int input_file(const uint8_t *data, size_t size,
			     const char **path)
{
	static char name[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (path)
		*path = name;
	return fd;
}

/* DIR/NAME holding len bytes of buf: 0, or 1 with a line saying why. */
static inline int write_seed(const char *dir, const char *name,
			     const void *buf, size_t len)
{
	char path[4096];
	FILE *out;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "w");
	ok = out && fwrite(buf, 1, len, out) == len;
	if (out && fclose(out))
		ok = 0;
	if (!ok)
		fprintf(stderr, "seeds: %s: %s\n", path, strerror(errno));
	return !ok;
}

#endif
