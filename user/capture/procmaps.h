/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* A snapshot of /proc/PID/maps. */
#ifndef MEMSCOPE_PROCMAPS_H
#define MEMSCOPE_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <linux/types.h>

struct procmap {
	__u64 start;
	__u64 end;
	__u64 offset;		/* file offset of start */
	__u64 inode;
	dev_t dev;
	char perms[5];		/* "r-xp" */
	const char *path;	/* as the target sees it; NULL when anonymous */
	bool deleted;		/* path ended in " (deleted)", now cut off */
};

struct procmaps;

/*
 * A mapping's device as the kernel's BPF maps name it (events.h, struct
 * ms_file_key: the super block's dev_t is MAJOR << 20 | MINOR).
 */
static inline __u64 procmap_kernel_dev(dev_t dev)
{
	return (__u64)major(dev) << 20 | minor(dev);
}

static inline dev_t procmap_user_dev(__u64 kdev)
{
	return makedev(kdev >> 20, kdev & ((1u << 20) - 1));
}

/*
 * Opens path, in this tool's namespace, for reading, only if it is the
 * regular file dev and ino name (a mapping's or an exec's file, whose
 * process is gone): looked at through O_PATH first, so nothing else (a
 * device a symlink leads to) is ever opened. fd, or -1 with errno
 * (ESTALE: another file).
 */
int procmap_open_same(const char *path, dev_t dev, __u64 ino);

/*
 * The path of open file fd as a process whose root directory is root
 * (/proc/PID/root, or "/") names it, as its maps would: the kernel's
 * name of the file (no symbolic link), less where root is in this
 * tool's view. 0, -ENOENT (no path), or -ENAMETOOLONG.
 */
int procmap_fd_path(int fd, const char *root, char *out, size_t len);

/*
 * The path through which this tool reaches the file of pid's mapping m:
 * the target's root and the name its maps give (a process in a mount
 * namespace of its own, a container, is named from its root), when that
 * name is there; else /proc/PID/map_files/START-END, the mapping's own
 * file: a chrooted process's maps name its files from this tool's root,
 * and a deleted file (or one replaced at its name since) has no name left.
 * 0, or -ENAMETOOLONG.
 */
int procmap_path(int pid, const struct procmap *m, char *buf, size_t size);

/* Reads /proc/PID/maps now. NULL with errno set (ESRCH: no such process). */
struct procmaps *procmaps__read(int pid);
/* Same, from any file in the maps format (tests). */
struct procmaps *procmaps__read_file(const char *path);
void procmaps__free(struct procmaps *m);

size_t procmaps__count(const struct procmaps *m);
const struct procmap *procmaps__get(const struct procmaps *m, size_t i);
/* The mapping that contains addr, or NULL. */
const struct procmap *procmaps__find(const struct procmaps *m, __u64 addr);

#endif /* MEMSCOPE_PROCMAPS_H */
