/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The loader of the BPF stack walker's tables (events.h, "Unwinding
 * without frame pointers"): for each executable mapping of the target,
 * the rows of its object, compiled once per build-id by unwind_table and
 * shared by every process that maps it, and the process's mappings with
 * the bias that turns a runtime pc into the object's ELF address.
 */
#ifndef MEMSCOPE_UNWIND_H
#define MEMSCOPE_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "events.h"
#include "elfsym.h"

struct table_cache;

struct procmap;
struct row_store;
struct unwinder;

struct unwinder_opts {
	int pid;		/* unwinder__reload()'s process */
	/* tables kept across runs, by build-id; NULL: none (not owned) */
	struct table_cache *cache;
	/* the BPF side: rows, objects, maps */
	struct row_store *rows;
	int objs_fd;
	__u32 objs_cap;
	int maps_fd;
	int files_fd;		/* the walker's tables by file */
	int vmas_fd;		/* file mappings by image, for names */
	__u32 vmas_cap;
	/*
	 * Where the image generation of a process is read, written with its
	 * maps: a set's procs map, else (-1) the one target's, at one_gen.
	 */
	int procs_fd;
	const __u32 *one_gen;
	const __u32 *one_exec_begun;	/* ms_image_now() of the one target */
	const __u64 *one_seq;	/* ms_proc_maps.seq of the one target */
	/*
	 * The one target's executable pages as the kernel last saw them
	 * (exec_vm_seen), 0 until it first did: set from the first maps
	 * read, so the target's first mapping after the attach is not
	 * taken for a change of its code.
	 */
	__u64 *one_exec_vm;
	/* .bss: memo generation, and executable-mapping changes seen */
	__u32 *gen;
	__u64 *changed;
	/*
	 * Compile new objects on a worker thread (a set outside launch
	 * mode: a huge object must not stall the drain). Until its table is
	 * in, an object's pcs stop as not_loaded; unwinder__poll() loads
	 * what the worker finished and reads the waiting processes' maps
	 * again. Without it every table is compiled before reload returns.
	 */
	bool async;
	/* --jit-frame-pointers: anonymous code gets MS_MAPF_FRAME_PTR */
	bool jit_frame_ptrs;
};

struct unwinder *unwinder__new(const struct unwinder_opts *o);
void unwinder__free(struct unwinder *u);

/*
 * Reads the target's executable mappings now, loads the tables of the
 * objects not loaded yet and writes the process's maps. 0, or -errno
 * (-ESRCH: the target is gone).
 */
int unwinder__reload(struct unwinder *u);

/*
 * The same for process pid of a traced set: the objects are shared by
 * every process, the mappings are its own. 0 or -errno.
 */
int unwinder__reload_pid(struct unwinder *u, int pid);
/*
 * Process pid exec'd the file the kernel names dev and ino (its exec
 * record): its maps reads take that file for its program where its auxv
 * cannot be read. Forgotten with the process (unwinder__gone()).
 */
void unwinder__exec_note(struct unwinder *u, int pid, __u64 dev, __u64 ino);
/*
 * Process pid exec'd path, the file the kernel names dev and ino (its exec
 * record): its table as a program's, compiled if new, so that the next
 * process to run it unwinds through it from its first allocation, though
 * this one may be gone before its maps can be read. The file is opened
 * through the process's root, or this tool's once it is gone, and taken
 * only if it is that file. 0 or -errno (-ESTALE: another file).
 */
int unwinder__exec_file(struct unwinder *u, int pid, const char *path,
			__u64 dev, __u64 ino);
/*
 * The file mappings the kernel walked through for pid's image gen (its
 * exec generation, 1 at its start) and those read of its maps (events.h,
 * struct ms_image_vmas): each as a procmap, with the path of the file as
 * it was read, to fn; those of a file never read are left out. How many
 * were given, or -errno (-ENOENT: none kept).
 */
int unwinder__image_vmas(const struct unwinder *u, __u32 pid, __u32 gen,
			 int (*fn)(void *ctx, const struct procmap *m),
			 void *ctx);
/*
 * Process pid exited: the objects it mapped no longer need their tables
 * for it (unwinder__forget() drops them too, later, with its maps).
 */
void unwinder__gone(struct unwinder *u, int pid);
/* Process pid is gone: its mappings leave the walker's map. */
void unwinder__forget(struct unwinder *u, int pid);

/*
 * async: loads the tables the worker finished and reloads the processes
 * that map them. The number of objects still compiling.
 */
size_t unwinder__poll(struct unwinder *u);
/*
 * async: waits for the worker to finish every object queued, then loads
 * them as unwinder__poll() does (the processes found at start: their
 * tables are in before tracing is said to have begun).
 */
void unwinder__flush(struct unwinder *u);
/* async: does pid map an object still compiling? */
bool unwinder__waits(const struct unwinder *u, int pid);

/* The kernel saw the target's executable mappings change since. */
bool unwinder__stale(const struct unwinder *u);

struct unwinder_stats {
	__u32 objects;		/* objects seen */
	__u32 rows;		/* rows loaded */
	__u32 rows_cap;
	__u32 no_table;		/* objects left without a table: rows full */
	__u32 released;		/* tables released for room: none mapped them */
	__u32 given_up;		/* compiles given up: none mapped them */
	__u32 preloaded;	/* tables kept, loaded at the start */
	__u32 preload_rows;
	__u32 maps_dropped;	/* mappings past MS_PROC_MAPS */
	__u64 kernel_bytes;	/* rows, objects, maps, files, image vmas */
};

void unwinder__stats(const struct unwinder *u, struct unwinder_stats *out);

/*
 * fn(ctx, path) for each table kept from an earlier run that the start
 * loaded (its file at path still the object it was compiled from), the
 * most recently used first.
 */
void unwinder__each_preloaded(const struct unwinder *u,
			      void (*fn)(void *ctx, const char *path),
			      void *ctx);

/* -v: per object, whether its table loaded, its source and its rows. */
void unwinder__print(const struct unwinder *u, FILE *f, const char *who);

/* Pure logic, exposed for the unit tests. */

/*
 * The executable PT_LOADs of segs, in file order, into out (at most
 * MS_FILE_SEGS: ms_file_bias() finds a mapping's bias from them). How many.
 */
__u32 unwind_file_segs(const struct elf_segment *segs, size_t nr,
		       struct ms_file_seg *out);

/*
 * Sorts nr mappings by start into out, at most MS_PROC_MAPS of them (the
 * lowest). Returns how many did not fit, or -EINVAL when two overlap.
 */
int unwind_maps_build(struct ms_proc_maps *out, struct ms_proc_map *maps,
		      size_t nr);

/*
 * Adds to into the mappings of kept (an image's image_vmas entry) it does
 * not hold (by start), while it has room: a read of the maps adds to what
 * the walker and earlier reads kept, never takes it away. A bad nr in
 * either is taken as MS_IMAGE_VMAS.
 */
void unwind_vmas_merge(struct ms_image_vmas *into,
		       const struct ms_image_vmas *kept);

#endif /* MEMSCOPE_UNWIND_H */
