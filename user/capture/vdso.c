// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include "procmaps.h"
#include "vdso.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int image_err = ENOENT;
static __u64 image_size;
static char image_path[32];

/* Copies the tool's own [vdso] mapping, whole, into a sealed memfd. */
static void image_init(void)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	const struct procmap *m = NULL;
	struct procmaps *pm;
	size_t i;
	int fd;

	if (!base)
		return;
	pm = procmaps__read(getpid());
	if (!pm) {
		image_err = errno;
		return;
	}
	for (i = 0; i < procmaps__count(pm); i++) {
		m = procmaps__get(pm, i);
		if (m->start == base && m->path && vdso__is(m->path))
			break;
	}
	if (i == procmaps__count(pm))
		goto out;
	fd = memfd_create("memscope-vdso", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		image_err = errno;
		goto out;
	}
	if (write(fd, (const void *)base, m->end - m->start) !=
	    (ssize_t)(m->end - m->start) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_WRITE | F_SEAL_SEAL)) {
		image_err = errno ? errno : EIO;
		close(fd);
		goto out;
	}
	/* Kept open for the tool's life: this path is what readers open. */
	snprintf(image_path, sizeof(image_path), "/proc/self/fd/%d", fd);
	image_size = m->end - m->start;
	image_err = 0;
out:
	procmaps__free(pm);
}

bool vdso__is(const char *path)
{
	return !strcmp(path, "[vdso]");
}

const char *vdso__path(__u64 size)
{
	pthread_once(&once, image_init);
	if (image_err) {
		errno = image_err;
		return NULL;
	}
	if (size != image_size) {
		errno = ESTALE;
		return NULL;
	}
	return image_path;
}
