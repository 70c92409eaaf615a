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
	FILE *f;		/* over fd, through out_io */
	int fd;
	int err;		/* the first failed write's errno: a full disk
				 * says ENOSPC, not stdio's bare error flag */
	char *path;
	char *tmp;		/* NULL: writing to path directly */
};

static ssize_t out_write(void *cookie, const char *buf, size_t len)
{
	struct outfile *o = cookie;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(o->fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		/* Short, as fopencookie(3) asks: never negative. */
		if (n <= 0) {
			if (!o->err)
				o->err = n < 0 ? errno : EIO;
			return done;
		}
		done += n;
	}
	return done;
}

static int out_seek(void *cookie, off64_t *off, int whence)
{
	struct outfile *o = cookie;
	off_t at = lseek(o->fd, *off, whence);

	if (at < 0)
		return -1;
	*off = at;
	return 0;
}

static const cookie_io_functions_t out_io = {
	.write = out_write,
	.seek = out_seek,
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

	o->fd = fd;
	o->f = fopencookie(o, "w", out_io);
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
static int truncate_in_place(FILE *f, int fd)
{
	struct stat st;
	off_t end;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return 0;
	end = ftello(f);
	return end < 0 ? -1 : ftruncate(fd, end);
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

	if (fflush(o->f) || ferror(o->f))
		err = -(o->err ? o->err : EIO);
	else if (o->tmp && fsync(o->fd))
		err = -errno;
	else if (!o->tmp && truncate_in_place(o->f, o->fd))
		err = -errno;
	if (fclose(o->f) && !err)
		err = -errno;
	if (close(o->fd) && !err)
		err = -errno;
	if (!err && o->tmp && rename(o->tmp, o->path))
		err = -errno;
	release(o, err != 0);
	return err;
}

int outfile__abort(struct outfile *o, int err)
{
	if (!o)
		return err;
	if (o->err)
		err = -o->err;
	fclose(o->f);
	close(o->fd);
	release(o, true);
	return err;
}
