/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Separate debug information, found the way gdb finds it: by build-id
 * under /usr/lib/debug/.build-id, then by .gnu_debuglink beside the object,
 * in its .debug/ and under /usr/lib/debug; dwz alternate files by
 * .gnu_debugaltlink; and from debuginfod servers when DEBUGINFOD_URLS is
 * set. Every path resolves inside the target's root directory (a file
 * descriptor of /proc/PID/root), symlinks included, so a process in
 * another mount namespace gets its own files, and the lookup still works
 * after the process has exited. A build-id not found there is looked up in
 * this tool's root as well: it names one build, whatever root holds it.
 */
#ifndef MEMSCOPE_DEBUGINFO_H
#define MEMSCOPE_DEBUGINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct Elf;
struct debuginfod_client;

/* Where /usr/lib/debug is, inside the root. */
#define DEBUGINFO_DIR		"/usr/lib/debug"
/* A GNU build-id is 20 bytes (sha1) here; anything over this is hostile. */
#define DEBUGINFO_ID_MAX	64
/* Largest debug file a .gnu_debuglink CRC is taken of (it reads it all). */
#define DEBUGINFO_MAX_FILE	(4ll << 30)

/* What is known of the object whose debug information is wanted. */
struct debuginfo_query {
	int root_fd;			/* the target's root directory */
	const char *path;		/* the object, as the target names it */
	const unsigned char *build_id;	/* NULL when it has none */
	size_t build_id_len;
	const char *debuglink;		/* .gnu_debuglink's name, or NULL */
	__u32 crc;			/* .gnu_debuglink's CRC32 */
};

/*
 * Opens path (as the target names it) inside the target's root: symlinks
 * and ".." stay in it, magic links are refused, and only a regular file
 * opens (the open of a FIFO the target planted there would block us).
 * no_symlinks: no symbolic link on the way either (a file the target
 * writes itself, which must not lead to another). A descriptor, or
 * -errno (-EINVAL: not a regular file, -ELOOP: a link).
 */
int debuginfo_open(int root_fd, const char *path, bool no_symlinks);

/*
 * What a search does with a candidate that is the object's debug file by
 * its build-id or CRC: it owns fd, and returns 0 (found: the search ends),
 * -ENOENT (not what the caller needs, say no CFI in it: the next
 * candidate is tried) or another -errno (the search ends with it). path
 * is the file as the target names it, valid during the call.
 */
typedef int (*debuginfo_accept_fn)(int fd, const char *path, void *arg);

/*
 * Offers the object's debug files to accept in gdb's order: by build-id,
 * then by .gnu_debuglink beside the object, in its .debug/ and under
 * DEBUGINFO_DIR. 0 once accept took one, -ENOENT when none was taken, or
 * -errno.
 */
int debuginfo_search(const struct debuginfo_query *q,
		     debuginfo_accept_fn accept, void *arg);

/*
 * The first of those files: returns its descriptor and sets *found to its
 * path as the target names it (malloc'd); -ENOENT when there is none, or
 * -errno.
 */
int debuginfo_find(const struct debuginfo_query *q, char **found);

/*
 * Opens the dwz alternate file a debug file (debug_path, as the target
 * names it) refers to: by its build-id, then by its name (relative to the
 * debug file's directory when not absolute). The build-id must match.
 * Descriptor and *found as debuginfo_find.
 */
int debuginfo_find_alt(int root_fd, const char *debug_path,
		       const char *altname, const unsigned char *id,
		       size_t id_len, char **found);

/*
 * The name and build-id in elf's .gnu_debugaltlink, bounds-checked. 0, or
 * -ENOENT when it has none or it is malformed.
 */
int debuginfo_altlink(struct Elf *elf, const char **name,
		      const unsigned char **id, size_t *id_len);

/*
 * Asks the debuginfod servers of DEBUGINFOD_URLS for the debug file of
 * this build-id; *client is made on first use (debuginfod_end frees it).
 * Descriptor and *found (the cached file) as debuginfo_find; -ENOENT
 * without DEBUGINFOD_URLS.
 */
int debuginfo_fetch(struct debuginfod_client **client,
		    const unsigned char *id, size_t id_len, char **found);

#endif /* MEMSCOPE_DEBUGINFO_H */
