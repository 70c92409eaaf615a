// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include "elfsym.h"
#include "table.h"
#include "table_cache.h"

/*
 * An entry: this head, then its rows as the walker takes them. The CRC-32
 * covers both, with crc 0. Fixed-size strings, NUL-padded.
 */
#define ENTRY_MAGIC	"MSUWTAB2"

struct entry_head {
	char magic[8];
	char tool[48];		/* the writing tool's build-id, hex */
	char key[80];		/* the object's key: another file's is refused */
	char source[64];	/* unwind_table__source */
	/* the file it was compiled from, "" if longer: table_cache__each */
	char path[256];
	__u32 fdes;
	__u32 crc;
	__u64 nr;		/* rows */
};

/* Rows in one entry at most: --unwind-rows's own bound. */
#define ENTRY_MAX_ROWS	(1ull << 26)
/* Leftovers of a writer that died between create and rename. */
#define TMP_PREFIX	".tmp."
#define TMP_STALE_SEC	3600

struct table_cache {
	int dirfd;
	char tool[48];
	__u64 max_bytes;
	pthread_mutex_t lock;	/* bytes, and one eviction at a time */
	__u64 bytes;		/* of the entries, as last counted and since */
	__u32 seq;		/* temporary names */
	struct table_cache_stats st;
};

/* The CRC-32 of head h (its crc taken as 0) and the bytes after it. */
static __u32 entry_crc(const struct entry_head *h, const void *rest,
		       size_t len)
{
	struct entry_head z = *h;
	uLong crc = crc32(0, Z_NULL, 0);
	size_t i, n;

	z.crc = 0;
	crc = crc32(crc, (const Bytef *)&z, sizeof(z));
	/* zlib takes an unsigned int of bytes: a big table in steps */
	for (i = 0; i < len; i += n) {
		n = len - i < (1u << 30) ? len - i : (1u << 30);
		crc = crc32(crc, (const Bytef *)rest + i, n);
	}
	return crc;
}

/* The file name of key: its build-id's hex, ".entry" for a program's. */
static int entry_name(const char *key, char *buf, size_t len)
{
	const char *id = key + 2, *end;
	size_t n;

	/* the build-id's hex; "s" and the file's identity's, without one */
	if (strncmp(key, "b:", 2) && strncmp(key, "s:", 2))
		return -EINVAL;
	end = strchr(id, ':');
	n = end ? (size_t)(end - id) : strlen(id);
	if (!n || n > 64 || strspn(id, "0123456789abcdef") < n ||
	    (end && strcmp(end, ":entry")))
		return -EINVAL;
	if (snprintf(buf, len, "%s%.*s%s", key[0] == 's' ? "s" : "", (int)n,
		     id, end ? ".entry" : "") >= (int)len)
		return -EINVAL;
	return 0;
}

/* Whether field (of size n) holds s and NULs after it. */
static bool field_is(const char *field, size_t n, const char *s)
{
	size_t l = strnlen(field, n);

	if (l == n || strncmp(field, s, n))
		return false;
	while (l < n)
		if (field[l++])
			return false;
	return true;
}

struct unwind_table *table_cache__parse(const void *buf, size_t len,
					const char *key, const char *tool)
{
	const struct ms_unwind_row *in;
	struct ms_unwind_row *rows;
	struct entry_head h;
	struct unwind_table *t;
	size_t i;

	if (len < sizeof(h))
		goto bad;
	memcpy(&h, buf, sizeof(h));
	/* another version of the format: another build's, not damaged */
	if (!memcmp(h.magic, ENTRY_MAGIC, sizeof(h.magic) - 1) &&
	    h.magic[sizeof(h.magic) - 1] != ENTRY_MAGIC[sizeof(h.magic) - 1]) {
		errno = ESTALE;
		return NULL;
	}
	if (memcmp(h.magic, ENTRY_MAGIC, sizeof(h.magic)) ||
	    strnlen(h.source, sizeof(h.source)) == sizeof(h.source) ||
	    strnlen(h.path, sizeof(h.path)) == sizeof(h.path) ||
	    !h.nr || h.nr > ENTRY_MAX_ROWS ||
	    len - sizeof(h) != h.nr * sizeof(*rows))
		goto bad;
	in = (const void *)((const char *)buf + sizeof(h));
	if (entry_crc(&h, in, len - sizeof(h)) != h.crc)
		goto bad;
	/* Whole, and so written by a tool: whether this one, for this file. */
	if (!field_is(h.tool, sizeof(h.tool), tool) ||
	    !field_is(h.key, sizeof(h.key), key)) {
		errno = ESTALE;
		return NULL;
	}
	rows = malloc(h.nr * sizeof(*rows));
	if (!rows)
		return NULL;
	memcpy(rows, in, h.nr * sizeof(*rows));
	/* What the walker may be given, as the compiler makes it. */
	for (i = 0; i < h.nr; i++)
		if ((i && rows[i - 1].pc >= rows[i].pc) ||
		    rows[i].cfa_type >= MS_CFA__COUNT ||
		    rows[i].rbp_type >= MS_RBP__COUNT || rows[i].pad) {
			free(rows);
			goto bad;
		}
	t = unwind_table__adopt(rows, h.nr, h.source, h.fdes);
	if (!t)
		errno = ENOMEM;
	return t;
bad:
	errno = EBADMSG;
	return NULL;
}

void *table_cache__format(const char *key, const char *tool,
			  const char *path, const struct unwind_table *t,
			  size_t *len)
{
	const struct ms_unwind_row *rows;
	struct unwind_table_stats st;
	struct entry_head h = {};
	size_t nr;
	char *buf;

	rows = unwind_table__rows(t, &nr);
	unwind_table__stats(t, &st);
	if (!nr || nr > ENTRY_MAX_ROWS || strlen(tool) >= sizeof(h.tool) ||
	    strlen(key) >= sizeof(h.key) ||
	    strlen(unwind_table__source(t)) >= sizeof(h.source)) {
		errno = EINVAL;
		return NULL;
	}
	memcpy(h.magic, ENTRY_MAGIC, sizeof(h.magic));
	strcpy(h.tool, tool);
	strcpy(h.key, key);
	strcpy(h.source, unwind_table__source(t));
	/* a file of the tool's root, for table_cache__each: not "[vdso]" */
	if (path[0] == '/' && strlen(path) < sizeof(h.path))
		strcpy(h.path, path);
	h.fdes = st.fdes;
	h.nr = nr;
	h.crc = entry_crc(&h, rows, nr * sizeof(*rows));
	*len = sizeof(h) + nr * sizeof(*rows);
	buf = malloc(*len);
	if (!buf)
		return NULL;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), rows, nr * sizeof(*rows));
	return buf;
}

void table_cache__file_key(const struct stat *st, bool entry, char *buf,
			   size_t len)
{
	__u64 times[4] = {
		st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
	};

	snprintf(buf, len, "s:%016llx%016llx%016llx%08x%s",
		 (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_size,
		 tab_hash_mem(times, sizeof(times)), entry ? ":entry" : "");
}

void table_cache__seal(void *buf, size_t len)
{
	struct entry_head h;

	if (len < sizeof(h))
		return;
	memcpy(&h, buf, sizeof(h));
	h.crc = entry_crc(&h, (char *)buf + sizeof(h), len - sizeof(h));
	memcpy(buf, &h, sizeof(h));
}

/* The tool's own build-id: an entry of another build is not taken. */
static int tool_id(char *buf, size_t len)
{
	struct elf_file *f = elf_file__open("/proc/self/exe");
	int err;

	if (!f)
		return -errno;
	err = elf_file__build_id(f, buf, len);
	elf_file__free(f);
	return err == -ENOENT ? -ENOTSUP : err;
}

struct dent {
	char name[NAME_MAX + 1];
	__u64 bytes;
	struct timespec mtime;
};

static int dent_older(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return (x->mtime.tv_nsec > y->mtime.tv_nsec) -
	       (x->mtime.tv_nsec < y->mtime.tv_nsec);
}

/*
 * The entries, in *out (malloc'd, *nr of them); temporary files a writer
 * left an hour ago or more are removed, younger ones left out. 0 or
 * -errno.
 */
static int list_entries(struct table_cache *c, struct dent **out, size_t *nr)
{
	struct dent *d = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	struct stat st;
	DIR *dir;
	int fd;

	fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd < 0 ? NULL : fdopendir(fd);
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((e = readdir(dir))) {
		if (fstatat(c->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (!strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX))) {
			if (st.st_mtime + TMP_STALE_SEC < time(NULL))
				unlinkat(c->dirfd, e->d_name, 0);
			continue;
		}
		if (tab_grow((void **)&d, &cap, n + 1, sizeof(*d)))
			continue;
		snprintf(d[n].name, sizeof(d[n].name), "%s", e->d_name);
		d[n].bytes = st.st_size;
		d[n].mtime = st.st_mtim;
		n++;
	}
	closedir(dir);
	*out = d;
	*nr = n;
	return 0;
}

/*
 * Counts the entries' bytes; past the bound the least recently used go
 * until three quarters of it are left, so that one is not done per
 * write. Under c->lock.
 */
static void evict(struct table_cache *c)
{
	struct dent *d;
	size_t nr, i;

	if (list_entries(c, &d, &nr))
		return;
	c->bytes = 0;
	for (i = 0; i < nr; i++)
		c->bytes += d[i].bytes;
	if (c->bytes > c->max_bytes && nr) {
		qsort(d, nr, sizeof(*d), dent_older);
		for (i = 0; i < nr && c->bytes > c->max_bytes / 4 * 3; i++) {
			if (unlinkat(c->dirfd, d[i].name, 0))
				continue;
			c->bytes -= d[i].bytes;
			__atomic_add_fetch(&c->st.evicted, 1, __ATOMIC_RELAXED);
		}
	}
	free(d);
}

struct table_cache *table_cache__new(const char *dir, __u64 max_bytes)
{
	struct table_cache *c = calloc(1, sizeof(*c));
	struct stat st;
	int err;

	if (!c)
		return NULL;
	c->max_bytes = max_bytes;
	err = tool_id(c->tool, sizeof(c->tool));
	if (err)
		goto free;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		goto free;
	}
	/* A link there could point a root process anywhere: not followed. */
	c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->dirfd < 0) {
		err = -errno;
		goto free;
	}
	if (fstat(c->dirfd, &st) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		err = -EPERM;
		goto close;
	}
	pthread_mutex_init(&c->lock, NULL);
	evict(c);
	return c;
close:
	close(c->dirfd);
free:
	free(c);
	errno = -err;
	return NULL;
}

void table_cache__free(struct table_cache *c)
{
	if (!c)
		return;
	close(c->dirfd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The whole of a regular file of ours, at most max bytes; NULL, errno. */
static void *read_entry(int fd, size_t max, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	char *buf;

	if (fstat(fd, &st))
		return NULL;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (__u64)st.st_size > max) {
		errno = EBADMSG;
		return NULL;
	}
	buf = malloc(st.st_size ?: 1);
	if (!buf)
		return NULL;
	while (got < (size_t)st.st_size) {
		n = pread(fd, buf + got, st.st_size - got, got);
		if (n <= 0) {
			free(buf);
			errno = n ? errno : EBADMSG;
			return NULL;
		}
		got += n;
	}
	*len = got;
	return buf;
}

struct unwind_table *table_cache__get(struct table_cache *c, const char *key)
{
	char name[NAME_MAX + 1];
	struct unwind_table *t;
	size_t len;
	void *buf;
	int fd;

	if (entry_name(key, name, sizeof(name)))
		return NULL;
	/* the directory is ours alone; still, no FIFO blocks a read */
	fd = openat(c->dirfd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = read_entry(fd, sizeof(struct entry_head) +
			 ENTRY_MAX_ROWS * sizeof(struct ms_unwind_row), &len);
	t = buf ? table_cache__parse(buf, len, key, c->tool) : NULL;
	free(buf);
	if (t) {
		/* used now: the last to go for room */
		futimens(fd, NULL);
		__atomic_add_fetch(&c->st.read, 1, __ATOMIC_RELAXED);
	} else if (errno == ESTALE) {
		__atomic_add_fetch(&c->st.other_build, 1, __ATOMIC_RELAXED);
	} else if (errno == EBADMSG) {
		unlinkat(c->dirfd, name, 0);
		__atomic_add_fetch(&c->st.damaged, 1, __ATOMIC_RELAXED);
	}
	close(fd);
	return t;
}

int table_cache__put(struct table_cache *c, const char *key,
		     const char *path, const struct unwind_table *t)
{
	char name[NAME_MAX + 1], tmp[64];
	size_t len, got = 0;
	ssize_t n;
	void *buf;
	int fd, err = 0;

	if (!unwind_table__whole(t) || entry_name(key, name, sizeof(name)))
		return 0;
	buf = table_cache__format(key, c->tool, path, t, &len);
	if (!buf)
		return errno == EINVAL ? 0 : -errno;
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%d.%u", getpid(),
		 __atomic_add_fetch(&c->seq, 1, __ATOMIC_RELAXED));
	fd = openat(c->dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto free;
	}
	while (got < len && !err) {
		n = write(fd, (char *)buf + got, len - got);
		if (n <= 0)
			err = n ? -errno : -EIO;
		else
			got += n;
	}
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(c->dirfd, tmp, c->dirfd, name))
		err = -errno;
	if (err) {
		unlinkat(c->dirfd, tmp, 0);
		goto free;
	}
	__atomic_add_fetch(&c->st.written, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&c->lock);
	c->bytes += len;
	if (c->bytes > c->max_bytes)
		evict(c);
	pthread_mutex_unlock(&c->lock);
free:
	free(buf);
	return err ?: 1;
}

/* Newest first. */
static int dent_newer(const void *a, const void *b)
{
	return dent_older(b, a);
}

int table_cache__each(struct table_cache *c,
		      int (*fn)(void *ctx, const char *key, const char *path,
				size_t rows),
		      void *ctx)
{
	char name[NAME_MAX + 1];
	struct entry_head h;
	struct dent *d;
	size_t nr, i;
	int fd, err;

	err = list_entries(c, &d, &nr);
	if (err)
		return err;
	if (nr)
		qsort(d, nr, sizeof(*d), dent_newer);
	for (i = 0; i < nr && !err; i++) {
		/*
		 * The head alone, unchecked (its CRC covers the rows): the
		 * caller takes the path for a file to check, and the table
		 * through table_cache__get, which checks it whole.
		 */
		fd = openat(c->dirfd, d[i].name,
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (pread(fd, &h, sizeof(h), 0) == sizeof(h) &&
		    !memcmp(h.magic, ENTRY_MAGIC, sizeof(h.magic)) &&
		    field_is(h.tool, sizeof(h.tool), c->tool) &&
		    memchr(h.key, 0, sizeof(h.key)) &&
		    memchr(h.path, 0, sizeof(h.path)) && h.path[0] &&
		    !entry_name(h.key, name, sizeof(name)) &&
		    !strcmp(name, d[i].name) && d[i].bytes >= sizeof(h))
			err = fn(ctx, h.key, h.path,
				 (d[i].bytes - sizeof(h)) /
				 sizeof(struct ms_unwind_row));
		close(fd);
	}
	free(d);
	return err < 0 ? err : 0;
}

void table_cache__touch(struct table_cache *c, const char *key)
{
	char name[NAME_MAX + 1];

	if (!entry_name(key, name, sizeof(name)))
		utimensat(c->dirfd, name, NULL, AT_SYMLINK_NOFOLLOW);
}

void table_cache__stats(const struct table_cache *c,
			struct table_cache_stats *out)
{
	out->read = __atomic_load_n(&c->st.read, __ATOMIC_RELAXED);
	out->written = __atomic_load_n(&c->st.written, __ATOMIC_RELAXED);
	out->other_build = __atomic_load_n(&c->st.other_build,
					   __ATOMIC_RELAXED);
	out->damaged = __atomic_load_n(&c->st.damaged, __ATOMIC_RELAXED);
	out->evicted = __atomic_load_n(&c->st.evicted, __ATOMIC_RELAXED);
}
