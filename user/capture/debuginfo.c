/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Separate debug information, looked up the way gdb does (see its manual,
 * "Separate Debug Files"), inside the target's root directory (and by
 * build-id in this tool's too).
 *
 * A candidate is accepted only when it is the right file: the build-id
 * must match for a file found by build-id (or for a dwz alternate file),
 * the CRC32 of .gnu_debuglink for a file found by that name. A stale debug
 * file left by an upgrade would otherwise name the wrong functions.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <elfutils/debuginfod.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include <zlib.h>

#include "debuginfo.h"

#define CRC_CHUNK	(64 * 1024)

int debuginfo_open(int root_fd, const char *path, bool no_symlinks)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
			   (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
	};
	struct stat st;
	int fd;

	while (*path == '/')
		path++;
	fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* 0 when the file's GNU build-id is id, -ENOENT when not (or unreadable). */
static int check_build_id(int fd, const unsigned char *id, size_t id_len)
{
	const void *bits;
	ssize_t n;
	Elf *elf;
	int err = -ENOENT;

	/* Read, not mapped: a file truncated under us fails a read. */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOENT;
	n = dwelf_elf_gnu_build_id(elf, &bits);
	if (n > 0 && (size_t)n == id_len && !memcmp(bits, id, id_len))
		err = 0;
	elf_end(elf);
	return err;
}

/* 0 when the whole file's CRC32 (zlib's, as binutils writes it) is crc. */
static int check_crc(int fd, __u32 crc)
{
	uLong sum = crc32(0, NULL, 0);
	unsigned char *buf;
	struct stat st;
	off_t off = 0;
	ssize_t n;
	int err;

	/* It reads the whole file: a huge one would stall us. */
	if (fstat(fd, &st) || st.st_size > DEBUGINFO_MAX_FILE)
		return -ENOENT;
	buf = malloc(CRC_CHUNK);
	if (!buf)
		return -ENOMEM;
	while ((n = pread(fd, buf, CRC_CHUNK, off)) > 0) {
		sum = crc32(sum, buf, n);
		off += n;
	}
	err = n < 0 ? -errno : sum == crc ? 0 : -ENOENT;
	free(buf);
	return err;
}

/*
 * One candidate (path, malloc'd, freed here; NULL: out of memory):
 * opened inside the root and checked to be the object's, by build-id when
 * id is set, else by the link's CRC; then it is accept's. A file that is
 * not there, not openable or not the object's is -ENOENT: the next is
 * tried.
 */
static int offer(int root_fd, char *path, const unsigned char *id,
		 size_t id_len, __u32 crc, debuginfo_accept_fn accept,
		 void *arg)
{
	int fd, err;

	if (!path)
		return -ENOMEM;
	fd = debuginfo_open(root_fd, path, false);
	if (fd < 0) {
		free(path);
		return -ENOENT;
	}
	err = id ? check_build_id(fd, id, id_len) : check_crc(fd, crc);
	if (err) {
		close(fd);
		free(path);
		return err == -ENOMEM ? err : -ENOENT;
	}
	err = accept(fd, path, arg);
	free(path);
	return err;
}

/* DEBUGINFO_DIR/.build-id/xx/rest.debug; NULL without memory. */
static char *build_id_path(const unsigned char *id, size_t id_len)
{
	static const char prefix[] = DEBUGINFO_DIR "/.build-id/";
	char *path, *p;
	size_t i;

	path = malloc(sizeof(prefix) + 2 * id_len + sizeof("/.debug"));
	if (!path)
		return NULL;
	p = path + sprintf(path, "%s%02x/", prefix, id[0]);
	for (i = 1; i < id_len; i++)
		p += sprintf(p, "%02x", id[i]);
	strcpy(p, ".debug");
	return path;
}

/* Is root_fd this tool's own root directory? */
static bool own_root(int root_fd)
{
	struct stat a, b;

	return !fstat(root_fd, &a) && !stat("/", &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/*
 * By build-id inside the target's root, then inside this tool's: a
 * build-id names one build, so the debug file the host has for it is
 * that of the copy a chroot or a container carries (gdb and perf look in
 * their own debug directory too), and the match is checked as ever.
 */
static int search_build_id(int root_fd, const unsigned char *id,
			   size_t id_len, debuginfo_accept_fn accept, void *arg)
{
	int err, own;

	/* One byte would leave no file name below the directory. */
	if (!id || id_len < 2 || id_len > DEBUGINFO_ID_MAX)
		return -ENOENT;
	err = offer(root_fd, build_id_path(id, id_len), id, id_len, 0,
		    accept, arg);
	if (err != -ENOENT || own_root(root_fd))
		return err;
	own = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (own < 0)
		return -ENOENT;
	err = offer(own, build_id_path(id, id_len), id, id_len, 0, accept,
		    arg);
	close(own);
	return err;
}

/* The directory part of an absolute path, without the final slash. */
static int dir_of(const char *path, size_t *len)
{
	const char *slash = strrchr(path, '/');

	if (path[0] != '/' || !slash)
		return -ENOENT;
	*len = slash - path;
	return 0;
}

/* A link name is a file name beside the object, never a path. */
static bool link_name_ok(const char *link)
{
	return link[0] && !strchr(link, '/') && strcmp(link, ".") &&
	       strcmp(link, "..");
}

static int search_debuglink(const struct debuginfo_query *q,
			    debuginfo_accept_fn accept, void *arg)
{
	/* gdb's order: beside the object, its .debug/, the global dir */
	static const char *const formats[] = {
		"%.*s/%s", "%.*s/.debug/%s", DEBUGINFO_DIR "%.*s/%s",
	};
	size_t i, dir_len;
	char *path;
	int err = -ENOENT;

	if (!q->debuglink || !q->path || !link_name_ok(q->debuglink) ||
	    dir_of(q->path, &dir_len))
		return -ENOENT;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (asprintf(&path, formats[i], (int)dir_len, q->path,
			     q->debuglink) < 0)
			return -ENOMEM;
		err = offer(q->root_fd, path, NULL, 0, q->crc, accept, arg);
		if (err != -ENOENT)
			break;
	}
	return err;
}

int debuginfo_search(const struct debuginfo_query *q,
		     debuginfo_accept_fn accept, void *arg)
{
	int err;

	err = search_build_id(q->root_fd, q->build_id, q->build_id_len,
			      accept, arg);
	if (err != -ENOENT)
		return err;
	return search_debuglink(q, accept, arg);
}

/* The file debuginfo_find and debuginfo_find_alt hand out. */
struct first_file {
	int fd;
	char *path;
};

static int take_first(int fd, const char *path, void *arg)
{
	struct first_file *f = arg;

	f->path = strdup(path);
	if (!f->path) {
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	return 0;
}

int debuginfo_find(const struct debuginfo_query *q, char **found)
{
	struct first_file f = { .fd = -1 };
	int err = debuginfo_search(q, take_first, &f);

	if (err)
		return err;
	*found = f.path;
	return f.fd;
}

int debuginfo_find_alt(int root_fd, const char *debug_path,
		       const char *altname, const unsigned char *id,
		       size_t id_len, char **found)
{
	struct first_file f = { .fd = -1 };
	size_t dir_len;
	char *path;
	int err, n;

	err = search_build_id(root_fd, id, id_len, take_first, &f);
	if (err != -ENOENT || !altname[0] || !id_len)
		goto out;
	if (altname[0] == '/')
		n = asprintf(&path, "%s", altname);
	else if (!dir_of(debug_path, &dir_len))
		n = asprintf(&path, "%.*s/%s", (int)dir_len, debug_path,
			     altname);
	else
		return -ENOENT;
	if (n < 0)
		return -ENOMEM;
	err = offer(root_fd, path, id, id_len, 0, take_first, &f);
out:
	if (err)
		return err;
	*found = f.path;
	return f.fd;
}

int debuginfo_altlink(Elf *elf, const char **name, const unsigned char **id,
		      size_t *id_len)
{
	Elf_Scn *scn = NULL;
	const char *sname;
	const char *end;
	GElf_Shdr shdr;
	Elf_Data *data;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		sname = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!sname || strcmp(sname, ".gnu_debugaltlink"))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || !data->d_size)
			return -ENOENT;
		/* A name ending in NUL inside the section, then the id. */
		end = memchr(data->d_buf, '\0', data->d_size);
		if (!end)
			return -ENOENT;
		*name = data->d_buf;
		*id = (const unsigned char *)end + 1;
		*id_len = data->d_size - (end + 1 - *name);
		return *id_len && *id_len <= DEBUGINFO_ID_MAX ? 0 : -ENOENT;
	}
	return -ENOENT;
}

int debuginfo_fetch(struct debuginfod_client **client,
		    const unsigned char *id, size_t id_len, char **found)
{
	const char *urls = getenv(DEBUGINFOD_URLS_ENV_VAR);
	int fd;

	if (!urls || !urls[0] || !id || !id_len || id_len > DEBUGINFO_ID_MAX)
		return -ENOENT;
	if (!*client) {
		*client = debuginfod_begin();
		if (!*client)
			return -ENOMEM;
	}
	/* A descriptor, or -errno of the servers' answer (-ENOENT: none) */
	fd = debuginfod_find_debuginfo(*client, id, (int)id_len, found);
	return fd;
}
