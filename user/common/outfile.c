/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Whole-or-nothing output files: write into "<dest>.XXXXXX" beside the
 * destination (same file system, so rename is atomic), rename on commit.
 *
 * A destination that exists and is not a regular file is written in place
 * instead: renaming over a symlink (/dev/stdout), a device or a FIFO
 * would replace that node rather than write to what it stands for, and
 * as root that breaks the system. It is truncated only on commit, so an
 * abort right after opening leaves it as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include "outfile.h"

#define OUTFILE_SUFFIX		".XXXXXX"
/* Collisions need another writer racing on the same name: a few suffices. */
#define OUTFILE_TRIES		16

struct outfile {
	FILE *f;
	char *path;
	char *tmp;		/* NULL: writing to path directly */
};

/*
 * Like mkstemp, but created with mode 0644 so the kernel applies the
 * umask: reading the umask from userspace is not thread safe.
 */
static int open_temp(char *tmpl)
{
	static const char chars[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char *x = tmpl + strlen(tmpl) - (sizeof(OUTFILE_SUFFIX) - 2);
	unsigned char rnd[sizeof(OUTFILE_SUFFIX) - 2];
	size_t i;
	int try, fd;

	for (try = 0; try < OUTFILE_TRIES; try++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		for (i = 0; i < sizeof(rnd); i++)
			x[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		fd = open(tmpl, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

struct outfile *outfile__new(const char *path)
{
	struct outfile *o;
	struct stat st;
	int fd, err;

	if (!path || !*path) {
		errno = EINVAL;
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->path = strdup(path);
	if (!o->path)
		goto err_free;

	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			goto err_free;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	} else if (asprintf(&o->tmp, "%s" OUTFILE_SUFFIX, path) >= 0) {
		fd = open_temp(o->tmp);
	} else {
		o->tmp = NULL;
		fd = -1;
	}
	/* No file was created: the temporary name may be someone else's. */
	if (fd < 0)
		goto err_free;

	o->f = fdopen(fd, "w");
	if (!o->f)
		goto err_close;
	return o;

err_close:
	err = errno;
	close(fd);
	if (o->tmp)
		unlink(o->tmp);
	errno = err;
err_free:
	err = errno;
	free(o->tmp);
	free(o->path);
	free(o);
	errno = err;
	return NULL;
}

FILE *outfile__stream(struct outfile *o)
{
	return o->f;
}

/* In place: cut what an older, longer file had beyond what we wrote. */
static int truncate_in_place(FILE *f)
{
	struct stat st;
	off_t end;

	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode))
		return 0;
	end = ftello(f);
	return end < 0 ? -1 : ftruncate(fileno(f), end);
}

static void release(struct outfile *o, bool remove_tmp)
{
	if (o->tmp && remove_tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	free(o);
}

int outfile__commit(struct outfile *o)
{
	int err = 0;

	/* A stdio error without a failing flush leaves errno meaningless. */
	if (fflush(o->f))
		err = -errno;
	else if (ferror(o->f))
		err = -EIO;
	else if (o->tmp && fsync(fileno(o->f)))
		err = -errno;
	else if (!o->tmp && truncate_in_place(o->f))
		err = -errno;
	if (fclose(o->f) && !err)
		err = -errno;
	if (!err && o->tmp && rename(o->tmp, o->path))
		err = -errno;
	release(o, err != 0);
	return err;
}

void outfile__abort(struct outfile *o)
{
	if (!o)
		return;
	fclose(o->f);
	release(o, true);
}
