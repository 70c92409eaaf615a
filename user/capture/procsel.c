// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "procsel.h"

#define CGROUP2_MAGIC	0x63677270

static bool on_cgroup2(const char *path, dev_t *dev)
{
	struct statfs fs;
	struct stat st;

	if (statfs(path, &fs) || fs.f_type != CGROUP2_MAGIC || stat(path, &st))
		return false;
	*dev = st.st_dev;
	return true;
}

int procsel_cgroup(const char *dir, __u64 *id, __u32 *level, char *rel,
		   size_t rel_len)
{
	char path[PATH_MAX], up[PATH_MAX];
	struct stat st;
	dev_t dev, pdev;
	const char *p;
	char *slash;
	__u32 n;

	if (!realpath(dir, path))
		return -errno;
	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!on_cgroup2(path, &dev))
		return -EMEDIUMTYPE;
	/* Up to the mount's root: the last directory on the same cgroup2. */
	snprintf(up, sizeof(up), "%s", path);
	*level = 0;
	for (;;) {
		slash = strrchr(up, '/');
		if (!slash || slash == up)
			break;
		*slash = 0;
		if (!on_cgroup2(up, &pdev) || pdev != dev) {
			*slash = '/';
			break;
		}
		(*level)++;
	}
	/* Its cgroup path: the last `level` components of path. */
	p = path + strlen(path);
	for (n = *level; n && p > path; ) {
		p--;
		if (*p == '/')
			n--;
	}
	snprintf(rel, rel_len, "%s", *level ? p : "/");
	*id = st.st_ino;
	return 0;
}

bool procsel_cgroup_match(const char *buf, size_t len, const char *rel)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t n = strlen(rel);

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		if (nl - p < 3 || memcmp(p, "0::", 3))
			continue;
		p += 3;
		if (!strcmp(rel, "/"))
			return true;
		return (size_t)(nl - p) >= n && !memcmp(p, rel, n) &&
		       ((size_t)(nl - p) == n || p[n] == '/');
	}
	return false;
}

/* A small /proc file, NUL-terminated; bytes read or -errno. */
static ssize_t read_small(int pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

static bool takes(const struct procsel *sel, int pid)
{
	char buf[4096], exe[64], link[8];
	ssize_t n;
	size_t i;

	if (pid == sel->self)
		return false;
	/* A kernel thread has no executable: nothing to trace. */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (readlink(exe, link, sizeof(link)) < 0 && errno == ENOENT)
		return false;
	if (sel->nr_comms) {
		n = read_small(pid, "comm", buf, sizeof(buf));
		if (n <= 0)
			return false;
		if (buf[n - 1] == '\n')
			buf[n - 1] = 0;
		for (i = 0; i < sel->nr_comms; i++)
			if (!strcmp(buf, sel->comms[i]))
				break;
		if (i == sel->nr_comms && !sel->cgroup)
			return false;
		if (i < sel->nr_comms)
			return true;
	}
	if (sel->cgroup) {
		n = read_small(pid, "cgroup", buf, sizeof(buf));
		return n > 0 && procsel_cgroup_match(buf, n, sel->cgroup);
	}
	return sel->all;
}

int procsel_scan(const struct procsel *sel, int (*cb)(int pid, void *ctx),
		 void *ctx)
{
	struct dirent *d;
	DIR *dir = opendir("/proc");
	int err = 0;
	long pid;
	char *end;

	if (!dir)
		return -errno;
	while (!err && (d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX)
			continue;
		if (takes(sel, pid))
			err = cb(pid, ctx);
	}
	closedir(dir);
	return err;
}
