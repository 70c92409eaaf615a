/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * ELF function lookup for probe placement. libbpf 1.1 resolves only plain,
 * unique STT_FUNC names; this finds versioned names (malloc@@GLIBC_2.2.5),
 * weak aliases and names from .symtab as well as .dynsym, and gives the
 * file offset a uprobe needs.
 */
#ifndef MEMSCOPE_ELFSYM_H
#define MEMSCOPE_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <gelf.h>
#include <linux/types.h>

struct elf_file;

struct elf_func {
	__u64 vaddr;		/* st_value */
	__u64 size;		/* st_size, 0 if unknown */
	__u64 file_offset;	/* where the code is in the file: uprobe offset */
};

/* Opens path (may be a /proc/PID/root/... path). NULL with errno set. */
struct elf_file *elf_file__open(const char *path);
void elf_file__free(struct elf_file *f);

/* An ELF header's first bytes: e_ident, e_type and e_machine. */
#define ELF_IDENT_LEN	(EI_NIDENT + 4)

/*
 * Whether an ELF whose first len bytes are hdr is code this tool cannot
 * trace (not 64-bit x86-64): what it is ("a 32-bit (i386) program", "an
 * ELF for machine 183"), in buf; NULL when it is x86-64, or no ELF (too
 * short, no magic: nothing to say).
 */
const char *elf_ident_foreign(const unsigned char *hdr, size_t len,
			      char *buf, size_t size);
/* The same of the file at path (its first bytes only: no ELF parse). */
const char *elf_path_foreign(const char *path, char *buf, size_t size);

/*
 * Finds a defined function (STT_FUNC or STT_GNU_IFUNC, any binding) named
 * name, ignoring any @VERSION suffix; .dynsym first, then .symtab.
 * 0, or -ENOENT when the file does not define it.
 */
int elf_file__find_func(struct elf_file *f, const char *name,
			struct elf_func *out);

/*
 * Finds a defined function mangled by Rust's v0 scheme whose last path
 * component is ident, whatever the crate hash before it: rustc >= 1.87
 * exports its allocator shims so ("_RNvCs<hash>_7___rustc12___rust_alloc"
 * for __rust_alloc). 0, or -ENOENT.
 */
int elf_file__find_rust_func(struct elf_file *f, const char *ident,
			     struct elf_func *out);

/* Copies len bytes at a file offset (prologue decoding). 0 or -errno. */
int elf_file__read(struct elf_file *f, __u64 file_offset, void *buf,
		   size_t len);

/*
 * The code of fn (its symbol's size, at most max bytes), malloc'd: the
 * caller frees it. NULL with errno: ENOENT (no size, or longer than max),
 * EIO (past the file), ENOMEM.
 */
void *elf_file__func_code(struct elf_file *f, const struct elf_func *fn,
			  size_t max);

/*
 * The function a PLT stub at vaddr (an ELF address) jumps to, as named by
 * the relocation of its GOT slot (no @VERSION: .dynsym names carry none).
 * The name only: which object defines it is the dynamic linker's choice.
 * 0, or -ENOENT when vaddr holds no PLT stub; buf holds len bytes.
 */
int elf_file__plt_import(struct elf_file *f, __u64 vaddr, char *buf,
			 size_t len);

/* GNU build-id as lowercase hex into buf (>= 41 bytes); -ENOENT if none. */
int elf_file__build_id(struct elf_file *f, char *buf, size_t len);

/* The descriptor the file is open on (owned by f). */
int elf_file__fd(const struct elf_file *f);

/* A PT_LOAD: [offset, offset + filesz) of the file at vaddr. */
struct elf_segment {
	__u64 offset;
	__u64 vaddr;
	__u64 filesz;
	__u32 flags;		/* PF_X, PF_W, PF_R */
};

/* Up to max PT_LOAD segments into out, in file order; how many, or -errno. */
int elf_file__segments(struct elf_file *f, struct elf_segment *out,
		       size_t max);

/* 1 if the file has a .symtab or .dynsym with defined functions. */
int elf_file__has_symbols(struct elf_file *f);

/*
 * True for a Go program: its function table (.gopclntab), which the Go
 * runtime needs and so stays when the program is stripped.
 */
bool elf_file__is_go(struct elf_file *f);

/* 1 if the dynamic linker runs it (PT_INTERP): it allocates via libc. */
int elf_file__is_dynamic(struct elf_file *f);

/*
 * Its PT_INTERP, the dynamic linker's path, into buf: 0, or -ENOENT (none,
 * or not a NUL-terminated path that fits).
 */
int elf_file__interp(struct elf_file *f, char *buf, size_t size);

/*
 * Calls cb with each string of a dynamic entry of this tag (DT_NEEDED,
 * DT_RUNPATH...), in order, until cb returns non-zero (returned).
 */
int elf_file__dynamic_strs(struct elf_file *f, __s64 tag,
			   int (*cb)(const char *s, void *ctx), void *ctx);

/* 1 if it carries SystemTap SDT (USDT) probes of this provider. */
int elf_file__has_usdt(struct elf_file *f, const char *provider);

struct Elf;

/*
 * The ELF virtual address of a file offset, through the PT_LOAD segment
 * whose file image holds it: the symbolizer turns mapped addresses into
 * addresses its debug info knows with it. 0, or -ENOENT if none does.
 */
int elf_offset_to_vaddr(struct Elf *elf, __u64 offset, __u64 *vaddr);

/* The section named name (its header into *sh), NULL if none is. */
struct Elf_Scn *elf_section_by_name(struct Elf *elf, const char *name,
				    GElf_Shdr *sh);

/*
 * elf_file__find_func() on a libelf handle of the caller's (the unwind
 * table compiler reads its objects, never maps them): out->vaddr and
 * out->size only. 0, or -ENOENT.
 */
int elf_find_func(struct Elf *elf, const char *name, struct elf_func *out);

#endif /* MEMSCOPE_ELFSYM_H */
