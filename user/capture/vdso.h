/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The vDSO: code the kernel maps into every process ([vdso] in its maps),
 * with CFI and symbols but no file to open. Every x86-64 process of one
 * kernel maps the same image, so the tool's own (AT_SYSINFO_EHDR) stands
 * in for the target's, copied once into a sealed memfd that the ELF
 * readers open like any object file.
 */
#ifndef MEMSCOPE_VDSO_H
#define MEMSCOPE_VDSO_H

#include <stdbool.h>
#include <linux/types.h>

/* Whether a mapping of the target, named path, is the vDSO. */
bool vdso__is(const char *path);

/*
 * A path that opens the vDSO image, for the target's [vdso] mapping of
 * size bytes; NULL with errno set (ENOENT: the tool has no vDSO; ESTALE:
 * the target's mapping is not the tool's image, as a 32-bit target's
 * would not be).
 */
const char *vdso__path(__u64 size);

#endif /* MEMSCOPE_VDSO_H */
