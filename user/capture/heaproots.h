/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The roots of a heap scan, taken from a live process: every thread
 * stopped briefly (PTRACE_SEIZE and PTRACE_INTERRUPT, or already stopped
 * by its tracer), its registers and its stack from the stack pointer up
 * copied, then let go; the writable segments listed, to be read later
 * with process_vm_readv like the blocks (heaproots__read). What the
 * target holds is hostile: every length is checked, every read bounded.
 */
#ifndef MEMSCOPE_HEAPROOTS_H
#define MEMSCOPE_HEAPROOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct heaproots;

enum heaproots_how {
	/* the process runs and nobody traces it: seize, interrupt, detach */
	HEAPROOTS_SEIZE,
	/* the caller traces it and holds it stopped (at its exit): the
	 * threads in a ptrace stop are read, none is resumed */
	HEAPROOTS_STOPPED,
};

/* A copy: a thread's registers (addr 0) or its stack from sp. */
struct heaproots_buf {
	__u64 addr;
	const void *data;
	size_t len;
};

/* A writable segment to read as a root. */
struct heaproots_range {
	__u64 addr;
	__u64 len;
	bool anon;		/* no file: the allocator's arena, maybe */
};

struct heaproots_info {
	__u64 pause_ns;		/* first stop to last let go */
	__u32 threads;		/* stopped and copied */
	__u32 missed;		/* threads that could not be stopped or read */
	__u64 stack_bytes;	/* copied */
};

/*
 * Stops and copies now. NULL with errno set: ESRCH (gone), EPERM (traced
 * by another: a debugger), ENOTSUP (an architecture without the code).
 */
struct heaproots *heaproots__take(int pid, enum heaproots_how how);
void heaproots__free(struct heaproots *r);

const struct heaproots_info *heaproots__info(const struct heaproots *r);
size_t heaproots__bufs(const struct heaproots *r,
		       const struct heaproots_buf **out);
size_t heaproots__ranges(const struct heaproots *r,
			 const struct heaproots_range **out);

/*
 * Reads [addr, addr + len) of the process (ctx: the heaproots): the
 * bytes read, fewer at an unmapped page, or -errno.
 */
long heaproots__read(void *ctx, __u64 addr, void *buf, size_t len);

#endif /* MEMSCOPE_HEAPROOTS_H */
