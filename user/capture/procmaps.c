/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A snapshot of /proc/PID/maps. The text is read whole and kept: paths
 * point into it, so a snapshot is two allocations however many lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "procmaps.h"

#define MAPS_READ_CHUNK 16384
#define DELETED_SUFFIX " (deleted)"

struct procmaps {
	struct procmap *maps;
	size_t count;
	char *text;
};

/* procfs files report size 0: read until EOF, growing the buffer. */
static char *read_text(const char *path)
{
	size_t len = 0, cap = 0;
	char *text = NULL, *grown;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	do {
		if (cap - len < MAPS_READ_CHUNK) {
			cap = cap ? cap * 2 : MAPS_READ_CHUNK * 2;
			grown = realloc(text, cap);
			if (!grown) {
				err = ENOMEM;
				goto free_text;
			}
			text = grown;
		}
		n = read(fd, text + len, cap - len - 1);
		if (n < 0 && errno != EINTR) {
			err = errno;
			goto free_text;
		}
		if (n > 0)
			len += n;
	} while (n);
	text[len] = '\0';
	close(fd);
	return text;

free_text:
	free(text);
	close(fd);
	errno = err;
	return NULL;
}

/* Parses one NUL-terminated line in place. */
static int parse_line(char *line, struct procmap *m)
{
	unsigned long long start, end, offset, inode;
	unsigned int major, minor;
	size_t len, slen = strlen(DELETED_SUFFIX);
	char *path;
	int pos = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end,
		   m->perms, &offset, &major, &minor, &inode, &pos) != 7 ||
	    !pos || start >= end)
		return -EINVAL;
	m->start = start;
	m->end = end;
	m->offset = offset;
	m->inode = inode;
	m->dev = makedev(major, minor);
	path = line + pos;
	len = strlen(path);
	m->deleted = len > slen && !strcmp(path + len - slen, DELETED_SUFFIX);
	if (m->deleted)
		path[len - slen] = '\0';
	m->path = *path ? path : NULL;
	return 0;
}

/* Takes text: the snapshot keeps it, paths point into it. */
static struct procmaps *parse(char *text)
{
	char *line, *next;
	struct procmaps *m;
	size_t lines = 0;
	int err = ENOMEM;

	for (line = text; *line; line++)
		lines += *line == '\n';
	m = calloc(1, sizeof(*m));
	if (!m)
		goto free_text;
	/* + 1: the last line may lack its newline */
	m->maps = calloc(lines + 1, sizeof(*m->maps));
	if (!m->maps)
		goto free_procmaps;
	err = EINVAL;
	for (line = text; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (parse_line(line, &m->maps[m->count]))
			goto free_maps;
		/* procmaps__find relies on sorted, disjoint ranges */
		if (m->count && m->maps[m->count].start <
				m->maps[m->count - 1].end)
			goto free_maps;
		m->count++;
	}
	m->text = text;
	return m;

free_maps:
	free(m->maps);
free_procmaps:
	free(m);
free_text:
	free(text);
	errno = err;
	return NULL;
}

struct procmaps *procmaps__read_file(const char *path)
{
	char *text = read_text(path);

	return text ? parse(text) : NULL;
}

int procmap_open_same(const char *path, dev_t dev, __u64 ino)
{
	char self[64];
	struct stat st;
	int pfd, fd;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	if (fstat(pfd, &st) || !S_ISREG(st.st_mode) || st.st_dev != dev ||
	    st.st_ino != ino) {
		close(pfd);
		errno = ESTALE;
		return -1;
	}
	/* The inode looked at, opened: no path is resolved again. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_CLOEXEC);
	close(pfd);
	return fd;
}

int procmap_path(int pid, const struct procmap *m, char *buf, size_t size)
{
	int n;

	if (!m->deleted && m->path && m->path[0] == '/') {
		n = snprintf(buf, size, "/proc/%d/root%s", pid, m->path);
		if (n >= 0 && (size_t)n < size && !access(buf, F_OK))
			return 0;
	}
	n = snprintf(buf, size, "/proc/%d/map_files/%llx-%llx", pid,
		     (unsigned long long)m->start, (unsigned long long)m->end);
	return n >= 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

struct procmaps *procmaps__read(int pid)
{
	struct procmaps *m;
	char path[32];
	int tries = 3;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	/*
	 * The file is one snapshot per read() only: a mapping changed
	 * between two reads (another thread of it, the tool's own worker
	 * when it reads itself) can leave lines that overlap. Read again.
	 */
	do
		m = procmaps__read_file(path);
	while (!m && errno == EINVAL && --tries);
	if (!m && errno == ENOENT)
		errno = ESRCH;
	/* A zombie's maps read empty: its address space is already gone. */
	if (m && !m->count) {
		procmaps__free(m);
		errno = ESRCH;
		return NULL;
	}
	return m;
}

void procmaps__free(struct procmaps *m)
{
	if (!m)
		return;
	free(m->maps);
	free(m->text);
	free(m);
}

size_t procmaps__count(const struct procmaps *m)
{
	return m->count;
}

const struct procmap *procmaps__get(const struct procmaps *m, size_t i)
{
	return i < m->count ? &m->maps[i] : NULL;
}

static int cmp_addr_map(const void *key, const void *elem)
{
	const struct procmap *m = elem;
	__u64 addr = *(const __u64 *)key;

	if (addr < m->start)
		return -1;
	return addr >= m->end;
}

const struct procmap *procmaps__find(const struct procmaps *m, __u64 addr)
{
	return bsearch(&addr, m->maps, m->count, sizeof(*m->maps),
		       cmp_addr_map);
}

int procmap_fd_path(int fd, const char *root, char *out, size_t len)
{
	char link[64], path[PATH_MAX], rootpath[PATH_MAX];
	const char *p = path;
	size_t rl;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || path[0] != '/')
		return -ENOENT;
	path[n] = '\0';
	if (realpath(root, rootpath)) {
		rl = strlen(rootpath);
		if (rl > 1 && !strncmp(path, rootpath, rl) && path[rl] == '/')
			p = path + rl;
	}
	if (strlen(p) >= len)
		return -ENAMETOOLONG;
	strcpy(out, p);
	return 0;
}
