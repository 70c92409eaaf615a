/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Reports are written whole or not at all: into a temporary file beside
 * the destination, renamed over it only once everything is flushed.
 */
#ifndef MEMSCOPE_OUTFILE_H
#define MEMSCOPE_OUTFILE_H

#include <stdio.h>

struct outfile;

/* NULL with errno set when the directory is not writable. */
struct outfile *outfile__new(const char *path);
FILE *outfile__stream(struct outfile *o);
/* Flushes, syncs and renames; on any error removes the temporary. Frees o. */
int outfile__commit(struct outfile *o);
/*
 * Removes the temporary. Frees o. Returns the error of the first write
 * that failed (-ENOSPC on a full disk), else err: a writer that saw only
 * stdio's error flag (-EIO) passes that, and the user reads the cause.
 */
int outfile__abort(struct outfile *o, int err);

#endif /* MEMSCOPE_OUTFILE_H */
