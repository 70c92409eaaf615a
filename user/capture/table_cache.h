/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Compiled unwind tables kept on disk by the object's build-id, so that a
 * program's next trace (or the next process under -a) has its table at
 * once instead of after its compile (node 0.5 s, an LLVM 2.4 s, chromium
 * 22 s), during which its stacks stop as not_loaded.
 *
 * An entry is valid only for the tool that wrote it (the tool's own
 * build-id is in it: a rebuilt compiler writes it again), is checked
 * whole before use (a CRC-32, rows in order, known rules), and is written
 * under another name and renamed, so a reader never sees half of one. The
 * directory must be the tool's user's and writable by no one else: the
 * rows steer a root process's reads of other processes' stacks.
 */
#ifndef MEMSCOPE_TABLE_CACHE_H
#define MEMSCOPE_TABLE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <linux/types.h>
#include "unwind_table.h"

struct table_cache;

/* Where tables are kept without --table-cache. */
#define TABLE_CACHE_DIR		"/var/cache/memscope-bpf"
/* At most this many bytes of entries: the least recently used go first. */
#define TABLE_CACHE_BYTES	(512ull << 20)

/*
 * The cache in dir, made (mode 0700) when missing, its parent not. NULL
 * with errno: EPERM (dir is not the tool's user's, or others may write
 * it), ENOTSUP (the tool has no build-id to tell its entries by), or
 * what opening or making it said.
 */
struct table_cache *table_cache__new(const char *dir, __u64 max_bytes);
void table_cache__free(struct table_cache *c);

/*
 * The table kept for the object of key, or NULL: none kept, one of another
 * build of the tool, or a damaged one (removed). Any thread. A key is
 * "b:" and the object's build-id in hex, or, for a file without one, "s:"
 * and the hex of its identity (table_cache__file_key), either with
 * ":entry" for a program's table.
 */
struct unwind_table *table_cache__get(struct table_cache *c, const char *key);

/*
 * Keeps t for key (a key table_cache__get takes), compiled from the file
 * at path, when its rows are the object's alone (unwind_table__whole).
 * 1 when kept, 0 when not (rows of another source, a key without an
 * identity of the object), or -errno. Any thread.
 */
int table_cache__put(struct table_cache *c, const char *key,
		     const char *path, const struct unwind_table *t);

/*
 * The key of an object without a build-id: its file's device, inode and
 * size, and a hash of its modification and change times (a write changes
 * the change time, which no user sets), as "s:<hex>[:entry]".
 */
void table_cache__file_key(const struct stat *st, bool entry, char *buf,
			   size_t len);

/*
 * fn for each entry of this build of the tool, the most recently used
 * first, with its key, the path of the file it was compiled from (as the
 * tool opened it; entries of longer paths are left out) and its rows as
 * its size says, until fn
 * returns non-zero. Not checked: the file at path may be another now, and
 * the entry is checked by table_cache__get. 0, fn's negative value, or
 * -errno.
 */
int table_cache__each(struct table_cache *c,
		      int (*fn)(void *ctx, const char *key, const char *path,
				size_t rows),
		      void *ctx);

/*
 * Key's entry was used now (its object mapped by a traced process): the
 * last to go for room, the first table_cache__each() gives.
 */
void table_cache__touch(struct table_cache *c, const char *key);

struct table_cache_stats {
	__u32 read;		/* tables taken from the cache */
	__u32 written;
	__u32 other_build;	/* entries of another build of the tool */
	__u32 damaged;		/* entries that failed the checks: removed */
	__u32 evicted;		/* for room */
};
void table_cache__stats(const struct table_cache *c,
			struct table_cache_stats *out);

/*
 * An entry's bytes back into a table, checked: for table_cache__get and
 * the fuzzer. tool is the writing tool's build-id (hex). NULL with errno
 * EBADMSG (damaged), ESTALE (another tool's, or another object's), ENOMEM.
 */
struct unwind_table *table_cache__parse(const void *buf, size_t len,
					const char *key, const char *tool);
/*
 * An entry for key and tool, as table_cache__put writes it (malloc'd,
 * *len bytes): for tests and the fuzzer's seeds. NULL with errno.
 */
void *table_cache__format(const char *key, const char *tool,
			  const char *path, const struct unwind_table *t,
			  size_t *len);

/*
 * Sets the CRC-32 of an entry's bytes: for the fuzzer, whose changes would
 * hardly ever get past it to the checks behind.
 */
void table_cache__seal(void *buf, size_t len);

#endif /* MEMSCOPE_TABLE_CACHE_H */
