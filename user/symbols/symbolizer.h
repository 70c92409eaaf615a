/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Lazy symbolization of user addresses of one process, cached per object
 * (device + inode) and offset. An open descriptor of every executable
 * object it has seen mapped is kept (once for all the symbolizers that
 * share a struct sym_files), so it still works after the target has
 * exited; objects are opened through /proc/PID/root so a process in
 * another mount namespace resolves against its own files.
 */
#ifndef MEMSCOPE_SYMBOLIZER_H
#define MEMSCOPE_SYMBOLIZER_H

#include <stdbool.h>
#include <linux/types.h>
#include "frame.h"
#include "procmaps.h"

struct symbolizer;
struct sym_files;

/*
 * The files symbolizers share: each file's symbols and DWARF are read
 * once, whichever process maps it. Freed after every symbolizer made
 * with it. NULL + errno.
 */
struct sym_files *sym_files__new(void);
void sym_files__free(struct sym_files *files);

/*
 * Does not read anything yet: the first cover() does. files: shared with
 * other symbolizers, or NULL for its own. NULL + errno.
 */
struct symbolizer *symbolizer__new(int pid, struct sym_files *files);
void symbolizer__free(struct symbolizer *s);

/*
 * Makes sure the mappings that contain these addresses are known, reading
 * /proc/PID/maps again (and opening new objects) when one is not. Call it
 * while the target is alive, for every new stack. 0, or -errno when the
 * maps cannot be read (e.g. -ESRCH: the process is gone).
 */
int symbolizer__cover(struct symbolizer *s, const __u64 *addrs, unsigned n);

/*
 * Reads /proc/PID/maps again now, keeping the mappings gone since: for an
 * object mapped while tracing (dlopen) whose process may exit before its
 * first stack is drained. 0 or -errno, as cover().
 */
int symbolizer__refresh(struct symbolizer *s);

/*
 * Whether the symbolizer has read the maps of the program it names (a
 * launched command's fork, before its exec, is not one): from then on it
 * reads them only while the process runs that program.
 */
bool symbolizer__knows_program(const struct symbolizer *s);

/*
 * Before its first read: s names the image the kernel numbers gen of its
 * process, and now(ctx, pid) tells which one the process runs (0: none).
 * Maps read once it runs another are not taken, the first read's included
 * (the drain reads a process's maps after the fact: a shell's fork that
 * had exec'd sed, an exec'd sh that had exec'd true, had their frames
 * named after nothing); from then on cover() and refresh() say -ESRCH, as
 * for a process gone, and know what they knew.
 */
void symbolizer__image_is(struct symbolizer *s, __u32 gen,
			  __u32 (*now)(void *ctx, int pid), void *ctx);

/*
 * One executable mapping of the process told by other means than its
 * maps (the kernel's walk, for a process gone before they were read):
 * kept unless a known one overlaps it; its file opened through the
 * process's root, else by its path here if that is the same file (dev and
 * inode). 0 or -ENOMEM.
 */
int symbolizer__add_map(struct symbolizer *s, const struct procmap *e);

/*
 * Whether it has read the maps, or tried, and knows no executable mapping:
 * the process was gone before its first stack was drained (a zombie's maps
 * are empty). Its addresses can be named only from where they came from.
 */
bool symbolizer__blind(const struct symbolizer *s);

/*
 * Resolves addr, a return address (the lookup uses addr - 1 so the call
 * instruction's line is found), into its frames: the calls inlined there,
 * innermost first, then their function (see frame.h). A frame_resolve_fn:
 * returns how many (at least 1), *out valid until the next call; strings
 * stay valid until free. A frame's function is NULL when nothing is known.
 * Cached per object and offset.
 */
unsigned symbolizer__resolve(struct symbolizer *s, __u64 addr,
			     const struct frame **out);
/*
 * The object of an address where the process's maps showed different
 * code in turn (a library unloaded and another loaded at its place), at
 * the address itself as offset: the frame is not named, since the stack
 * may have been taken in either.
 */
#define SYMBOLIZER_REUSED	"[address reused by other code]"


/*
 * The name a person reads for a symbol or linkage name: no symbol version
 * (pthread_getattr_np@@GLIBC_2.32 is pthread_getattr_np), C++ and Rust
 * (legacy and v0) demangled, a Rust legacy name without its ::h<hash>.
 * Malloc'd; NULL without memory.
 */
char *symbol_display_name(const char *raw);

#endif /* MEMSCOPE_SYMBOLIZER_H */
