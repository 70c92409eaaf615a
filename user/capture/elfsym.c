/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * ELF function lookup for probe placement, with libelf. The whole file is
 * mapped once (ELF_C_READ_MMAP), so lookups cost no syscalls; code bytes
 * are read with pread (elf_file__read says why).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/libdwelf.h>

#include "elfsym.h"
#include "table.h"

/* glibc's <elf.h> lacks it: a .gnu.version entry of a non-default version */
#define VERSYM_HIDDEN 0x8000

/*
 * A symbol table's defined functions by name, made at its first lookup:
 * placement looks up ~100 allocator names in every object, and a scan of
 * the table per name (node's 185,000 symbols) held the drain for most of
 * a second, long enough for the ring to overflow.
 */
struct sym_names {
	bool built;
	struct tab_index ix;	/* hash of the name before any '@' */
	struct tab_array funcs;	/* __u32: index in the symbol table */
	struct tab_array rust;	/* __u32: those mangled by Rust's v0 */
};

enum { NAMES_DYNSYM, NAMES_SYMTAB, NR_NAMES };

struct elf_file {
	int fd;
	Elf *elf;
	Elf_Scn *dynsym;
	Elf_Scn *symtab;
	/* .dynsym names carry no @VERSION: .gnu.version tells hidden ones */
	Elf_Data *versym;
	struct sym_names names[NR_NAMES];
};

/* Walks the defined functions of one symbol table. */
struct func_iter {
	Elf *elf;
	Elf_Data *data;
	Elf_Data *versym;	/* only for .dynsym */
	GElf_Word strtab;
	size_t count;
	size_t next;
	size_t index;		/* of the function just returned */
};

/*
 * A PT_LOAD maps [p_offset, p_offset + p_filesz) of the file to
 * [p_vaddr, p_vaddr + p_filesz): one walk serves both directions.
 */
static int pt_load_translate(Elf *elf, __u64 addr, bool from_offset,
			     __u64 *out)
{
	GElf_Phdr ph;
	__u64 from, to;
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return -ENOENT;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		from = from_offset ? ph.p_offset : ph.p_vaddr;
		to = from_offset ? ph.p_vaddr : ph.p_offset;
		if (addr >= from && addr - from < ph.p_filesz) {
			*out = addr - from + to;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_offset_to_vaddr(struct Elf *elf, __u64 offset, __u64 *vaddr)
{
	return pt_load_translate(elf, offset, true, vaddr);
}

Elf_Scn *elf_section_by_name(Elf *elf, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	const char *s;
	size_t strndx;

	if (elf_getshdrstrndx(elf, &strndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, sh))
			continue;
		s = elf_strptr(elf, strndx, sh->sh_name);
		if (s && !strcmp(s, name))
			return scn;
	}
	return NULL;
}

static void func_iter_init(struct func_iter *it, struct elf_file *f,
			   Elf_Scn *scn)
{
	GElf_Shdr sh;

	memset(it, 0, sizeof(*it));
	if (!scn || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return;
	it->elf = f->elf;
	it->data = elf_getdata(scn, NULL);
	it->versym = scn == f->dynsym ? f->versym : NULL;
	it->strtab = sh.sh_link;
	it->count = it->data ? sh.sh_size / sh.sh_entsize : 0;
}

/* Symbol index, if it is a defined function with a name. */
static bool func_iter_at(struct func_iter *it, size_t index, GElf_Sym *sym,
			 const char **name)
{
	int type;

	it->index = index;
	if (index >= it->count || !gelf_getsym(it->data, index, sym))
		return false;
	type = GELF_ST_TYPE(sym->st_info);
	if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
	    sym->st_shndx == SHN_UNDEF)
		return false;
	*name = elf_strptr(it->elf, it->strtab, sym->st_name);
	return *name;
}

static bool func_iter_next(struct func_iter *it, GElf_Sym *sym,
			   const char **name)
{
	while (it->next < it->count)
		if (func_iter_at(it, it->next++, sym, name))
			return true;
	return false;
}

/*
 * Among several definitions of one name the probe belongs on the one a
 * new caller binds to: the default version, then one with a known size.
 * version is the "@..." suffix of a .symtab name, or NULL.
 */
static int func_rank(const struct func_iter *it, const GElf_Sym *sym,
		     const char *version)
{
	bool is_default = true;
	GElf_Versym v;

	if (version)
		is_default = version[1] == '@';
	else if (it->versym && gelf_getversym(it->versym, it->index, &v))
		is_default = !(v & VERSYM_HIDDEN);
	return (is_default ? 2 : 0) + (sym->st_size ? 1 : 0);
}

static void names_fini(struct sym_names *n)
{
	tab_index_fini(&n->ix);
	tab_array_fini(&n->funcs);
	tab_array_fini(&n->rust);
	n->built = false;
}

/* One pass over the table; a failure leaves n unbuilt. 0 or -ENOMEM. */
static int names_build(struct elf_file *f, Elf_Scn *scn, struct sym_names *n)
{
	struct func_iter it;
	const char *name;
	bool rust;
	GElf_Sym sym;
	int err;

	tab_array_init(&n->funcs, sizeof(__u32), 0);
	tab_array_init(&n->rust, sizeof(__u32), 0);
	err = tab_index_init(&n->ix, 1024);
	if (err)
		return err;
	func_iter_init(&it, f, scn);
	while (func_iter_next(&it, &sym, &name)) {
		if (it.index > UINT32_MAX)
			break;
		rust = !strncmp(name, "_RNv", 4);
		err = tab_array_reserve(&n->funcs, 1) ?:
		      tab_index_reserve(&n->ix) ?:
		      (rust ? tab_array_reserve(&n->rust, 1) : 0);
		if (err) {
			names_fini(n);
			return err == -ENOSPC ? -ENOMEM : err;
		}
		tab_index_insert(&n->ix, tab_hash_mem(name, strcspn(name, "@")),
				 n->funcs.nr);
		*(__u32 *)tab_array_push(&n->funcs) = it.index;
		if (rust)
			*(__u32 *)tab_array_push(&n->rust) = it.index;
	}
	n->built = true;
	return 0;
}

/* The names of table t of f, built at the first call. NULL: *err. */
static struct sym_names *names_get(struct elf_file *f, int t,
				   struct func_iter *it, int *err)
{
	Elf_Scn *scn = t == NAMES_DYNSYM ? f->dynsym : f->symtab;
	struct sym_names *n = &f->names[t];

	*err = 0;
	if (!scn)
		return NULL;
	if (!n->built) {
		*err = names_build(f, scn, n);
		if (*err)
			return NULL;
	}
	func_iter_init(it, f, scn);
	return n;
}

/* The best definition of a name found so far (func_rank). */
struct func_pick {
	const char *name;
	size_t len;
	int rank;		/* -1: none yet */
	size_t index;
	GElf_Sym sym;
};

/* The function it just gave (sym, named sname), if it defines p's name. */
static void pick_consider(struct func_pick *p, const struct func_iter *it,
			  const GElf_Sym *sym, const char *sname)
{
	const char *rest = sname + p->len;
	int rank;

	if (strncmp(sname, p->name, p->len) || (*rest && *rest != '@'))
		return;
	rank = func_rank(it, sym, *rest ? rest : NULL);
	/* the table's order breaks ties, not the index's */
	if (rank > p->rank || (rank == p->rank && it->index < p->index)) {
		p->rank = rank;
		p->index = it->index;
		p->sym = *sym;
	}
}

/*
 * Table t's definitions of p's name, through its name index (built at the
 * first lookup), or for a single lookup by a pass over the table, which
 * costs less than the index. 0, or -ENOMEM.
 */
static int pick_in_table(struct elf_file *f, int t, struct func_pick *p,
			 bool indexed)
{
	Elf_Scn *scn = t == NAMES_DYNSYM ? f->dynsym : f->symtab;
	__u32 hash = tab_hash_mem(p->name, p->len);
	struct func_iter it;
	struct sym_names *n;
	const char *sname;
	GElf_Sym sym;
	size_t i, index;
	int err;

	if (!indexed) {
		func_iter_init(&it, f, scn);
		while (func_iter_next(&it, &sym, &sname))
			pick_consider(p, &it, &sym, sname);
		return 0;
	}
	n = names_get(f, t, &it, &err);
	if (!n)
		return err;
	tab_index_for_run(&n->ix, hash, i) {
		if (n->ix.slots[i].hash != hash)
			continue;
		index = *(__u32 *)tab_array_at(&n->funcs,
					       tab_index_pos(&n->ix, i));
		if (func_iter_at(&it, index, &sym, &sname))
			pick_consider(p, &it, &sym, sname);
	}
	return 0;
}

static void find_tables(struct elf_file *f)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNSYM)
			f->dynsym = scn;
		else if (sh.sh_type == SHT_SYMTAB)
			f->symtab = scn;
		else if (sh.sh_type == SHT_GNU_versym)
			f->versym = elf_getdata(scn, NULL);
	}
}

struct elf_file *elf_file__open(const char *path)
{
	struct elf_file *f;
	GElf_Ehdr eh;
	int err;

	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		err = errno;
		goto free_file;
	}
	elf_version(EV_CURRENT);
	f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (!f->elf) {
		err = EIO;
		goto close_fd;
	}
	/* A script or a data file is not an error of ours: say what it is. */
	if (elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &eh)) {
		err = ENOEXEC;
		goto end_elf;
	}
	find_tables(f);
	return f;

end_elf:
	elf_end(f->elf);
close_fd:
	close(f->fd);
free_file:
	free(f);
	errno = err;
	return NULL;
}

const char *elf_ident_foreign(const unsigned char *hdr, size_t len,
			      char *buf, size_t size)
{
	unsigned machine;

	if (len < ELF_IDENT_LEN || memcmp(hdr, ELFMAG, SELFMAG) ||
	    (hdr[EI_DATA] != ELFDATA2LSB && hdr[EI_DATA] != ELFDATA2MSB))
		return NULL;
	machine = hdr[EI_DATA] == ELFDATA2LSB ?
		  hdr[EI_NIDENT + 2] | hdr[EI_NIDENT + 3] << 8 :
		  hdr[EI_NIDENT + 2] << 8 | hdr[EI_NIDENT + 3];
	if (hdr[EI_CLASS] == ELFCLASS64 && machine == EM_X86_64)
		return NULL;
	if (machine == EM_386 || machine == EM_X86_64)
		snprintf(buf, size, "a 32-bit (%s) program",
			 machine == EM_386 ? "i386" : "x32");
	else
		snprintf(buf, size, "an ELF for machine %u", machine);
	return buf;
}

const char *elf_path_foreign(const char *path, char *buf, size_t size)
{
	unsigned char hdr[ELF_IDENT_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n = fd < 0 ? -1 : pread(fd, hdr, sizeof(hdr), 0);

	if (fd >= 0)
		close(fd);
	return elf_ident_foreign(hdr, n > 0 ? (size_t)n : 0, buf, size);
}

void elf_file__free(struct elf_file *f)
{
	int t;

	if (!f)
		return;
	for (t = 0; t < NR_NAMES; t++)
		names_fini(&f->names[t]);
	elf_end(f->elf);
	close(f->fd);
	free(f);
}

/* A function symbol found: where its code is in the file. */
static int func_out(struct elf_file *f, const GElf_Sym *sym,
		    struct elf_func *out)
{
	__u64 offset;

	if (pt_load_translate(f->elf, sym->st_value, false, &offset))
		return -ENOENT;
	out->vaddr = sym->st_value;
	out->size = sym->st_size;
	out->file_offset = offset;
	return 0;
}

/*
 * The function named name: in .dynsym, else in .symtab (indexed: as
 * pick_in_table). 0 or -errno.
 */
static int find_func_sym(struct elf_file *f, const char *name,
			 GElf_Sym *sym, bool indexed)
{
	struct func_pick p = { .name = name, .len = strlen(name), .rank = -1 };
	int err = pick_in_table(f, NAMES_DYNSYM, &p, indexed);

	if (!err && p.rank < 0)
		err = pick_in_table(f, NAMES_SYMTAB, &p, indexed);
	if (err)
		return err;
	if (p.rank < 0)
		return -ENOENT;
	*sym = p.sym;
	return 0;
}

int elf_file__find_func(struct elf_file *f, const char *name,
			struct elf_func *out)
{
	GElf_Sym sym;
	int err = find_func_sym(f, name, &sym, true);

	return err ?: func_out(f, &sym, out);
}

int elf_find_func(Elf *elf, const char *name, struct elf_func *out)
{
	struct elf_file f = { .fd = -1, .elf = elf };
	GElf_Sym sym;
	int err;

	find_tables(&f);
	err = find_func_sym(&f, name, &sym, false);
	if (err)
		return err;
	*out = (struct elf_func){ .vaddr = sym.st_value,
				  .size = sym.st_size };
	return 0;
}

/*
 * A Rust v0 symbol whose last path component is the identifier ident:
 * "_RNv" ... "<len>_<ident>" (the '_' separates a length from an
 * identifier that starts with '_' or a digit). The crate's hash before it
 * changes with every build, so only the end is compared; a digit before
 * the length would make it another, longer length.
 */
static bool rust_v0_is(const char *sname, const char *ident)
{
	size_t n = strlen(sname), il = strlen(ident);
	char want[32];
	int wl;

	if (strncmp(sname, "_RNv", 4))
		return false;
	wl = snprintf(want, sizeof(want), "%zu%s", il,
		      ident[0] == '_' || (ident[0] >= '0' && ident[0] <= '9') ?
		      "_" : "");
	if (wl < 0 || (size_t)wl >= sizeof(want) || n < 4 + wl + il)
		return false;
	if (strcmp(sname + n - il, ident) ||
	    strncmp(sname + n - il - wl, want, wl))
		return false;
	return !(sname[n - il - wl - 1] >= '0' && sname[n - il - wl - 1] <= '9');
}

/* 1 with *out, the table's first such function; 0, or -ENOMEM. */
static int find_rust_in_table(struct elf_file *f, int t, const char *ident,
			      GElf_Sym *out)
{
	struct sym_names *n;
	struct func_iter it;
	const char *sname;
	size_t i;
	int err;

	n = names_get(f, t, &it, &err);
	for (i = 0; n && i < n->rust.nr; i++)
		if (func_iter_at(&it, *(__u32 *)tab_array_at(&n->rust, i),
				 out, &sname) && rust_v0_is(sname, ident))
			return 1;
	return err;
}

int elf_file__find_rust_func(struct elf_file *f, const char *ident,
			     struct elf_func *out)
{
	GElf_Sym sym;
	int found = find_rust_in_table(f, NAMES_DYNSYM, ident, &sym);

	if (!found)
		found = find_rust_in_table(f, NAMES_SYMTAB, ident, &sym);
	if (found <= 0)
		return found ?: -ENOENT;
	return func_out(f, &sym, out);
}

int elf_file__read(struct elf_file *f, __u64 file_offset, void *buf,
		   size_t len)
{
	size_t size, done = 0;
	ssize_t n;

	if (!elf_rawfile(f->elf, &size))
		return -EIO;
	if (file_offset > size || len > size - file_offset)
		return -ERANGE;
	/*
	 * Code is read from the file, not from the mapping: a uprobe
	 * registered without a pid filter (ours with -a, bpftrace's, a
	 * second memscope-bpf's) puts its int3 into every mapping of the
	 * file that may execute, a private read-only one like libelf's
	 * included, and placement would decode the breakpoint.
	 */
	while (done < len) {
		n = pread(f->fd, (char *)buf + done, len - done,
			  (off_t)(file_offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

void *elf_file__func_code(struct elf_file *f, const struct elf_func *fn,
			  size_t max)
{
	void *code;
	int err;

	if (!fn->size || fn->size > max) {
		errno = ENOENT;
		return NULL;
	}
	code = malloc(fn->size);
	if (!code)
		return NULL;
	err = elf_file__read(f, fn->file_offset, code, fn->size);
	if (err) {
		free(code);
		errno = -err;
		return NULL;
	}
	return code;
}

/*
 * The GOT slot a PLT stub jumps through: "jmp *disp(%rip)", after an
 * endbr64 and a bnd prefix where the linker put them (.plt.sec, .plt.got
 * and the lazy stubs of .plt all start so). 0, or -ENOENT for any other
 * bytes.
 */
static int plt_stub_slot(const unsigned char *b, size_t n, __u64 vaddr,
			 __u64 *slot)
{
	static const unsigned char endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	size_t i = 0;
	__s32 disp;

	if (n >= sizeof(endbr64) && !memcmp(b, endbr64, sizeof(endbr64)))
		i = sizeof(endbr64);
	if (i < n && b[i] == 0xf2)	/* bnd */
		i++;
	if (n < i + 6 || b[i] != 0xff || b[i + 1] != 0x25)
		return -ENOENT;
	memcpy(&disp, b + i + 2, sizeof(disp));
	*slot = vaddr + i + 6 + (__s64)disp;
	return 0;
}

/* The name of the symbol a GOT slot is bound to by its relocation. */
static int got_slot_name(struct elf_file *f, __u64 slot, char *buf,
			 size_t len)
{
	Elf_Scn *scn = NULL;
	const char *name;
	GElf_Shdr sh, symsh;
	GElf_Rela rela;
	GElf_Sym sym;
	Elf_Data *data, *syms;
	size_t i, n;
	int type;

	while ((scn = elf_nextscn(f->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		n = data ? sh.sh_size / sh.sh_entsize : 0;
		for (i = 0; i < n; i++) {
			if (!gelf_getrela(data, i, &rela) ||
			    rela.r_offset != slot)
				continue;
			type = GELF_R_TYPE(rela.r_info);
			if (type != R_X86_64_JUMP_SLOT &&
			    type != R_X86_64_GLOB_DAT)
				return -ENOENT;
			syms = elf_getdata(elf_getscn(f->elf, sh.sh_link), NULL);
			if (!syms ||
			    !gelf_getshdr(elf_getscn(f->elf, sh.sh_link), &symsh) ||
			    !gelf_getsym(syms, GELF_R_SYM(rela.r_info), &sym))
				return -ENOENT;
			name = elf_strptr(f->elf, symsh.sh_link, sym.st_name);
			if (!name || !*name || strlen(name) >= len)
				return -ENOENT;
			strcpy(buf, name);
			return 0;
		}
	}
	return -ENOENT;
}

int elf_file__plt_import(struct elf_file *f, __u64 vaddr, char *buf,
			 size_t len)
{
	unsigned char code[16];
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	__u64 off, slot;
	size_t n;

	while ((scn = elf_nextscn(f->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || vaddr < sh.sh_addr ||
		    vaddr - sh.sh_addr >= sh.sh_size)
			continue;
		off = vaddr - sh.sh_addr;
		n = sh.sh_size - off < sizeof(code) ? sh.sh_size - off :
						      sizeof(code);
		if (elf_file__read(f, sh.sh_offset + off, code, n) ||
		    plt_stub_slot(code, n, vaddr, &slot))
			return -ENOENT;
		return got_slot_name(f, slot, buf, len);
	}
	return -ENOENT;
}

int elf_file__build_id(struct elf_file *f, char *buf, size_t len)
{
	const unsigned char *id;
	ssize_t n, i;

	n = dwelf_elf_gnu_build_id(f->elf, (const void **)&id);
	if (n < 0)
		return -EIO;
	if (n == 0)
		return -ENOENT;
	if (len < (size_t)n * 2 + 1)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		sprintf(buf + i * 2, "%02x", id[i]);
	return 0;
}

int elf_file__fd(const struct elf_file *f)
{
	return f->fd;
}

int elf_file__segments(struct elf_file *f, struct elf_segment *out,
		       size_t max)
{
	GElf_Phdr ph;
	size_t i, n, nr = 0;

	if (elf_getphdrnum(f->elf, &n))
		return -EINVAL;
	for (i = 0; i < n && nr < max; i++) {
		if (!gelf_getphdr(f->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		out[nr].offset = ph.p_offset;
		out[nr].vaddr = ph.p_vaddr;
		out[nr].filesz = ph.p_filesz;
		out[nr].flags = ph.p_flags;
		nr++;
	}
	return nr;
}

int elf_file__has_symbols(struct elf_file *f)
{
	struct func_iter dyn, tab;
	const char *name;
	GElf_Sym sym;

	func_iter_init(&dyn, f, f->dynsym);
	func_iter_init(&tab, f, f->symtab);
	return func_iter_next(&dyn, &sym, &name) ||
	       func_iter_next(&tab, &sym, &name);
}

int elf_file__is_dynamic(struct elf_file *f)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(f->elf, &n))
		return 0;
	for (i = 0; i < n; i++)
		if (gelf_getphdr(f->elf, i, &ph) && ph.p_type == PT_INTERP)
			return 1;
	return 0;
}

int elf_file__interp(struct elf_file *f, char *buf, size_t size)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(f->elf, &n))
		return -ENOENT;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(f->elf, i, &ph) || ph.p_type != PT_INTERP)
			continue;
		/* The path and its NUL, read whole, else nothing. */
		if (ph.p_filesz < 2 || ph.p_filesz > size ||
		    pread(f->fd, buf, ph.p_filesz, ph.p_offset) !=
			    (ssize_t)ph.p_filesz ||
		    buf[ph.p_filesz - 1] || strlen(buf) != ph.p_filesz - 1)
			return -ENOENT;
		return 0;
	}
	return -ENOENT;
}

/*
 * SystemTap SDT notes (.note.stapsdt, type 3, owner "stapsdt"): the
 * descriptor holds three addresses (site, .stapsdt.base, semaphore), then
 * "provider\0name\0args\0".
 */
#define NT_STAPSDT	3

bool elf_file__is_go(struct elf_file *f)
{
	GElf_Shdr sh;

	return elf_section_by_name(f->elf, ".gopclntab", &sh) != NULL;
}

int elf_file__has_usdt(struct elf_file *f, const char *provider)
{
	size_t shstrndx, off, noff, doff, plen = strlen(provider);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Nhdr nh;
	Elf_Data *d;

	if (elf_getshdrstrndx(f->elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(f->elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		name = elf_strptr(f->elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".note.stapsdt"))
			continue;
		d = elf_getdata(scn, NULL);
		for (off = 0; d && (off = gelf_getnote(d, off, &nh, &noff,
							 &doff)) > 0;) {
			const char *desc = (const char *)d->d_buf + doff;
			size_t addrs = 3 * (elf_getident(f->elf, NULL)[EI_CLASS] ==
					    ELFCLASS32 ? 4 : 8);

			if (nh.n_type != NT_STAPSDT || nh.n_descsz <= addrs)
				continue;
			if (nh.n_descsz - addrs > plen &&
			    !memcmp(desc + addrs, provider, plen + 1))
				return 1;
		}
	}
	return 0;
}

int elf_file__dynamic_strs(struct elf_file *f, __s64 tag,
			   int (*cb)(const char *s, void *ctx), void *ctx)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Dyn dyn;
	Elf_Data *d;
	size_t i;
	int err;

	while ((scn = elf_nextscn(f->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		d = elf_getdata(scn, NULL);
		for (i = 0; d && sh.sh_entsize &&
			    i < sh.sh_size / sh.sh_entsize; i++) {
			const char *s;

			if (!gelf_getdyn(d, i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != tag)
				continue;
			s = elf_strptr(f->elf, sh.sh_link, dyn.d_un.d_val);
			if (s) {
				err = cb(s, ctx);
				if (err)
					return err;
			}
		}
	}
	return 0;
}
