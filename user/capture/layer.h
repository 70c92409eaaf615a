/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Layers: allocating functions that may throw (operator new) and whose
 * blocks another probe can take. A uretprobe on such a function makes
 * the kernel put its trampoline where the return address was, and a
 * bad_alloc thrown through that finds no unwind information: the program
 * ends in std::terminate. A layer is probed at its entry only, and the
 * return of the C allocator it calls counts its block with the layer's
 * family and size (bpf/memscope.bpf.c, layer_take()). Decided from the
 * function's code, not its name.
 */
#ifndef MEMSCOPE_LAYER_H
#define MEMSCOPE_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct elf_file;
struct elf_func;

/* Whether a function named so (through the PLT) has this role. */
typedef bool (*layer_name_fn)(const char *name);

/*
 * Whether f, probed site_offset bytes in, is a layer: every direct call it
 * makes goes through the PLT (none into its own object's allocator code,
 * as tcmalloc's, jemalloc's and mimalloc's own operator new make) and at
 * least one calls an inner allocator (inner(): libstdc++'s operator new
 * calling malloc or aligned_alloc); or its one way out is a jump to
 * another function that may throw (throws(): operator new[] to operator
 * new), whose own probe at the same sp takes over. Jumps into its own
 * object are GCC's cold part of the function, where it throws; indirect
 * calls (the new_handler) return into it. Fills name with what counts the
 * block and *span with how far past the probe the inner calls return, in
 * MS_COOKIE_SPAN_UNIT bytes (1 for a jump). 0, or -ENOENT.
 */
int layer__of(struct elf_file *ef, const struct elf_func *f,
	      __u32 site_offset, layer_name_fn inner, layer_name_fn throws,
	      char *name, size_t len, unsigned int *span);

#endif /* MEMSCOPE_LAYER_H */
