/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The CFI compiler. FDEs are enumerated from the raw section with
 * dwarf_next_cfi (their pc ranges decoded here, the one thing libdw does
 * not hand out), then each FDE is walked row by row with libdw's own CFA
 * interpreter: dwarf_cfi_addrframe(pc) gives the row holding pc and where
 * it ends, which is where the next one starts. Each row is mapped to the
 * handful of rules the BPF walker applies (events.h); anything else
 * becomes MS_CFA_UNSUPPORTED, so the walk stops there rather than guess.
 *
 * Everything read comes from a file a traced process chose: sizes,
 * counts, encodings and the work spent interpreting are all bounded.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>

#include "debuginfo.h"
#include "elfsym.h"
#include "gopclntab.h"
#include "procmaps.h"
#include "prologue.h"
#include "unwind_go.h"
#include "table.h"
#include "unwind_table.h"

/* x86-64 DWARF register numbers */
#define REG_RBP		6
#define REG_RSP		7
#define REG_RIP		16

/*
 * Limits against a hostile file. Debian's largest common objects stay
 * far below them (libc: ~3,700 FDEs, ~24k rows); Debian's chromium, whose
 * rules come from its frame pointers, has 3.9M rows.
 */
#define UNWIND_MAX_FDES		(1u << 21)
#define UNWIND_MAX_ROWS		(1u << 23)
/*
 * libdw interprets an FDE's program from its start for every row asked
 * for, so a crafted FDE with a million rows costs a million squared.
 * Bytes of CFA program interpreted, over the whole object: in proportion
 * to its CFI section, between a floor and a ceiling (~0.4 and ~3 s of
 * libdw here). Real objects stay far below the proportion: per byte of
 * .eh_frame, Debian's libc 10, LLVM 22 13, rustc 1.95's librustc_driver
 * (BOLTed, 6 MiB) 47, Debian's cc1plus 86; the last two passed the old
 * fixed bound of 2^28, or nearly.
 */
#define UNWIND_WORK_PER_BYTE	256
#define UNWIND_MIN_WORK		(1ull << 28)
#define UNWIND_MAX_WORK		(1ull << 31)
/*
 * libdw grows a frame's register array to the highest register number a
 * program names, and zeroes it: one DW_CFA_offset_extended of register
 * 2^27 costs gigabytes. x86-64's DWARF numbers stop below 128 (k7 is
 * 125). Expressions: the PLT's is 12 bytes, glibc's signal frame's 5.
 */
#define UNWIND_MAX_REG		128
#define UNWIND_MAX_EXPR		64
/* Largest CFI section decompressed from a SHF_COMPRESSED debug file. */
#define UNWIND_MAX_SECTION	(256ull << 20)
/* All compressed sections of a file libdw opens for .debug_frame. */
#define UNWIND_MAX_DWARF	(1ull << 30)
/* Executable segments an object may have. */
#define UNWIND_MAX_SEGS		16

struct unwind_table {
	struct ms_unwind_row *rows;
	size_t nr;
	size_t cap;
	struct unwind_table_stats stats;
	char source[64];
	/*
	 * The rows are the object's alone: its own CFI, or the debug file
	 * the search found. Not so when neither had CFI: a debug file
	 * installed later would give other rows (unwind_table__whole).
	 */
	bool whole;
	unsigned int fp_shares;	/* unwind_table__fp_shares */
};

struct seg {
	__u64 start;
	__u64 end;
	__u64 off;		/* in the file */
	__u64 filesz;
};

struct fde {
	__u64 start;
	__u64 end;
	__u64 len;		/* bytes of CFA program: the cost of a row */
	bool refused;		/* a program past our bounds: not run */
};

struct cie {
	__u64 off;		/* section offset */
	__u8 enc;		/* DW_EH_PE_* of the FDE's pc range */
	bool usable;		/* encoding understood */
	bool program_ok;	/* initial program in our bounds */
	bool has_z;		/* FDEs carry sized augmentation data */
};

/*
 * The pc range of an FDE whose program we refused. libdw, asked for a pc
 * it covers, may pick it over the FDE we compile there and run its
 * program (a register number in the hundreds of millions is a register
 * array of gigabytes): such a pc is never handed to libdw.
 */
struct bad_range {
	__u64 start;
	__u64 end;
};

/* One object's state while compiling. */
struct build {
	struct unwind_table *t;
	struct seg segs[UNWIND_MAX_SEGS];
	unsigned int nr_segs;
	struct fde *fdes;
	size_t nr_fdes, cap_fdes;
	struct cie *cies;
	size_t nr_cies, cap_cies;
	struct bad_range *bad;
	size_t nr_bad, cap_bad;
	/*
	 * An FDE of a CIE whose encoding we do not read: libdw may, and its
	 * range is unknown to us. No pc of the object goes to libdw then.
	 */
	bool poisoned;
	__u64 work;
	__u64 max_work;		/* the budget of work, by the section's size */
	const bool *cancel;	/* unwind_table__build_until's */
	/* .eh_frame's own rows, where .debug_frame's were merged in */
	struct unwind_table *eh;
	bool eh_only;		/* t's rows are .eh_frame's alone */
};

/* Whether the caller gave this compile up (unwind_table__build_until). */
static bool cancelled(const struct build *b)
{
	return b->cancel && __atomic_load_n(b->cancel, __ATOMIC_RELAXED);
}

/* The segment of segs holding pc, -1 when none does. */
static int segs_find(const struct seg *segs, unsigned int nr, __u64 pc)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (pc >= segs[i].start && pc < segs[i].end)
			return i;
	return -1;
}

static int seg_find(const struct build *b, __u64 pc)
{
	return segs_find(b->segs, b->nr_segs, pc);
}

/* A PT_LOAD segment as the rows and reads take it. */
static struct seg seg_of(const GElf_Phdr *ph)
{
	return (struct seg){
		.start = ph->p_vaddr,
		.end = ph->p_vaddr + ph->p_memsz,
		.off = ph->p_offset,
		.filesz = ph->p_filesz < ph->p_memsz ? ph->p_filesz :
						       ph->p_memsz,
	};
}

/*
 * The executable PT_LOAD segments: rows only ever describe code in them,
 * and they must fit the rows' 32-bit pc.
 */
static int read_segments(Elf *elf, struct build *b)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph))
			return -EINVAL;
		if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) ||
		    !ph.p_memsz)
			continue;
		/* the gap row after the last FDE sits at the segment's end */
		if (ph.p_vaddr > UINT32_MAX ||
		    ph.p_memsz > (__u64)UINT32_MAX - ph.p_vaddr)
			return -EFBIG;
		if (b->nr_segs == UNWIND_MAX_SEGS)
			return -EINVAL;
		b->segs[b->nr_segs++] = seg_of(&ph);
	}
	return b->nr_segs ? 0 : -ENOENT;
}

static bool is_x86_64(Elf *elf)
{
	GElf_Ehdr eh;

	return elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh) &&
	       eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh.e_ident[EI_DATA] == ELFDATA2LSB &&
	       eh.e_machine == EM_X86_64;
}

/*
 * A section's bytes, decompressed if it is SHF_COMPRESSED (Debian's debug
 * files are), refusing what would inflate past UNWIND_MAX_SECTION. NULL
 * for a section without bytes in the file (.eh_frame of a debug file).
 */
static Elf_Data *section_data(Elf_Scn *scn, const GElf_Shdr *sh)
{
	GElf_Chdr ch;
	Elf_Data *d;

	if (sh->sh_type == SHT_NOBITS || !sh->sh_size)
		return NULL;
	if (sh->sh_flags & SHF_COMPRESSED) {
		if (!gelf_getchdr(scn, &ch) || ch.ch_size > UNWIND_MAX_SECTION ||
		    elf_compress(scn, 0, 0) < 0)
			return NULL;
	}
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || !d->d_size)
		return NULL;
	return d;
}

static bool read_uleb(const __u8 **p, const __u8 *end, __u64 *v)
{
	unsigned int shift = 0;
	__u8 byte;

	*v = 0;
	do {
		if (*p >= end || shift > 63)
			return false;
		byte = *(*p)++;
		*v |= (__u64)(byte & 0x7f) << shift;
		shift += 7;
	} while (byte & 0x80);
	return true;
}

static bool read_sleb(const __u8 **p, const __u8 *end, __s64 *v)
{
	unsigned int shift = 0;
	__u64 u = 0;
	__u8 byte;

	do {
		if (*p >= end || shift > 63)
			return false;
		byte = *(*p)++;
		u |= (__u64)(byte & 0x7f) << shift;
		shift += 7;
	} while (byte & 0x80);
	if (shift < 64 && (byte & 0x40))
		u |= ~0ull << shift;
	*v = (__s64)u;
	return true;
}

/*
 * Reads one value of a DW_EH_PE_* encoding at *p. field is the ELF
 * address of the value itself, for pc-relative encodings; only absolute
 * and pc-relative applications exist for FDE ranges on x86-64.
 */
static bool read_encoded(const __u8 **p, const __u8 *end, __u8 enc,
			 __u64 field, __u64 *v)
{
	size_t avail = end - *p;
	__s64 s;
	__u64 u;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		if (avail < 8)
			return false;
		memcpy(&u, *p, 8);
		*p += 8;
		break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4: {
		__u32 v32;

		if (avail < 4)
			return false;
		memcpy(&v32, *p, 4);
		*p += 4;
		u = (enc & 0x0f) == DW_EH_PE_sdata4 ? (__u64)(__s64)(__s32)v32 :
						       v32;
		break;
	}
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2: {
		__u16 v16;

		if (avail < 2)
			return false;
		memcpy(&v16, *p, 2);
		*p += 2;
		u = (enc & 0x0f) == DW_EH_PE_sdata2 ? (__u64)(__s64)(__s16)v16 :
						       v16;
		break;
	}
	case DW_EH_PE_uleb128:
		if (!read_uleb(p, end, &u))
			return false;
		break;
	case DW_EH_PE_sleb128:
		if (!read_sleb(p, end, &s))
			return false;
		u = s;
		break;
	default:
		return false;
	}
	/* a pointer to the value: never a pc range */
	if (enc & DW_EH_PE_indirect)
		return false;
	switch (enc & 0x70) {
	case DW_EH_PE_absptr:
		break;
	case DW_EH_PE_pcrel:
		u += field;
		break;
	default:
		return false;
	}
	*v = u;
	return true;
}

static bool skip_reg(const __u8 **p, const __u8 *end)
{
	__u64 reg;

	return read_uleb(p, end, &reg) && reg < UNWIND_MAX_REG;
}

static bool skip_block(const __u8 **p, const __u8 *end)
{
	__u64 len;

	if (!read_uleb(p, end, &len) || len > UNWIND_MAX_EXPR ||
	    len > (__u64)(end - *p))
		return false;
	*p += len;
	return true;
}

/*
 * Checks a CFA program before libdw runs it: every instruction known and
 * whole, every register number and expression within our bounds. This
 * reads operands only to step over them; libdw alone interprets them.
 * enc is the CIE's pointer encoding, which DW_CFA_set_loc uses.
 */
static bool program_ok(const __u8 *p, const __u8 *end, __u8 enc)
{
	__u64 u, ignored;
	__s64 s;
	__u8 op;

	while (p < end) {
		op = *p++;
		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
		case DW_CFA_restore:
			continue;
		case DW_CFA_offset:
			if (!read_uleb(&p, end, &u))
				return false;
			continue;
		}
		switch (op) {
		case DW_CFA_nop:
		case DW_CFA_remember_state:
		case DW_CFA_restore_state:
			break;
		case DW_CFA_set_loc:
			/* only its length matters: pretend it is absolute */
			if (!read_encoded(&p, end, enc & 0x0f, 0, &ignored))
				return false;
			break;
		case DW_CFA_advance_loc1:
		case DW_CFA_advance_loc2:
		case DW_CFA_advance_loc4:
			u = op == DW_CFA_advance_loc1 ? 1 :
			    op == DW_CFA_advance_loc2 ? 2 : 4;
			if ((__u64)(end - p) < u)
				return false;
			p += u;
			break;
		case DW_CFA_restore_extended:
		case DW_CFA_undefined:
		case DW_CFA_same_value:
		case DW_CFA_def_cfa_register:
			if (!skip_reg(&p, end))
				return false;
			break;
		case DW_CFA_offset_extended:
		case DW_CFA_register:
		case DW_CFA_def_cfa:
		case DW_CFA_val_offset:
		case DW_CFA_GNU_negative_offset_extended:
			if (!skip_reg(&p, end) || !read_uleb(&p, end, &u) ||
			    (op == DW_CFA_register && u >= UNWIND_MAX_REG))
				return false;
			break;
		case DW_CFA_offset_extended_sf:
		case DW_CFA_def_cfa_sf:
		case DW_CFA_val_offset_sf:
			if (!skip_reg(&p, end) || !read_sleb(&p, end, &s))
				return false;
			break;
		case DW_CFA_def_cfa_offset:
		case DW_CFA_GNU_args_size:
			if (!read_uleb(&p, end, &u))
				return false;
			break;
		case DW_CFA_def_cfa_offset_sf:
			if (!read_sleb(&p, end, &s))
				return false;
			break;
		case DW_CFA_def_cfa_expression:
			if (!skip_block(&p, end))
				return false;
			break;
		case DW_CFA_expression:
		case DW_CFA_val_expression:
			if (!skip_reg(&p, end) || !skip_block(&p, end))
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

/*
 * The encoding of FDE pc ranges a CIE gives: the 'R' of its augmentation
 * ("zR", "zPLR", "zRS"...); .debug_frame and CIEs without 'z' ("", "S")
 * use plain 8-byte addresses. An augmentation this does not know, or an
 * initial program past our bounds, makes every FDE of the CIE unreadable,
 * not guessed.
 */
static void parse_cie(const Dwarf_CIE *c, bool eh, struct cie *out)
{
	const __u8 *p = c->augmentation_data;
	const __u8 *end = p ? p + c->augmentation_data_size : NULL;
	const char *a = c->augmentation;
	__u64 ignored;

	out->enc = DW_EH_PE_absptr;
	out->usable = true;
	out->program_ok = true;
	out->has_z = a && a[0] == 'z';
	if (!a)
		goto program;
	/* without 'z' only letters that carry no data can be read past */
	if (a[0] != 'z') {
		if (strspn(a, "S") != strlen(a))
			goto bad;
		goto program;
	}
	if (!p)
		goto bad;
	for (a++; *a; a++) {
		switch (*a) {
		case 'L':
			if (p >= end)
				goto bad;
			p++;
			break;
		case 'R':
			if (p >= end)
				goto bad;
			out->enc = *p++;
			break;
		case 'P': {
			__u8 penc;

			if (p >= end)
				goto bad;
			penc = *p++;
			/* only its length matters: pretend it is absolute */
			if (!read_encoded(&p, end, penc & 0x0f, 0, &ignored))
				goto bad;
			break;
		}
		case 'S':
		case 'B':
		case 'G':
			break;
		default:
			goto bad;
		}
	}
	if (!eh && out->enc != DW_EH_PE_absptr)
		goto bad;
program:
	/*
	 * libdw sizes a frame's register array by the largest register
	 * number it meets, the return address's included.
	 */
	out->program_ok = c->return_address_register < UNWIND_MAX_REG &&
			  program_ok(c->initial_instructions,
				     c->initial_instructions_end, out->enc);
	return;
bad:
	out->usable = false;
}

/* After an FDE's pc range: its augmentation data, then its program. */
static bool fde_program_ok(const struct cie *c, const __u8 *p,
			   const __u8 *end)
{
	__u64 len;

	if (c->has_z) {
		if (!read_uleb(&p, end, &len) || len > (__u64)(end - p))
			return false;
		p += len;
	}
	return program_ok(p, end, c->enc);
}

static int bad_add(struct build *b, __u64 start, __u64 range)
{
	struct bad_range *r;

	if (b->nr_bad == UNWIND_MAX_FDES)
		return -EFBIG;
	if (tab_grow((void **)&b->bad, &b->cap_bad, b->nr_bad + 1,
		     sizeof(*b->bad)))
		return -ENOMEM;
	r = b->bad;
	r[b->nr_bad].start = start;
	r[b->nr_bad].end = range > UINT64_MAX - start ? UINT64_MAX :
						       start + range;
	b->nr_bad++;
	return 0;
}

/* Whether libdw may run a refused program for pc (struct bad_range). */
static bool bad_at(struct build *b, __u64 pc)
{
	size_t i;

	if (b->poisoned)
		return true;
	b->work += b->nr_bad;
	for (i = 0; i < b->nr_bad; i++)
		if (pc >= b->bad[i].start && pc < b->bad[i].end)
			return true;
	return false;
}

static int cie_cmp(const void *a, const void *b)
{
	const struct cie *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static const struct cie *cie_find(const struct build *b, __u64 off)
{
	struct cie key = { .off = off };

	if (!b->nr_cies)
		return NULL;
	return bsearch(&key, b->cies, b->nr_cies, sizeof(key), cie_cmp);
}

static int fde_cmp(const void *a, const void *b)
{
	const struct fde *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* of two FDEs at one pc, the longer one first: it is kept */
	return x->end > y->end ? -1 : x->end < y->end;
}

/*
 * Walks the section twice with dwarf_next_cfi: the CIEs first (an FDE may
 * name a CIE placed after it), then the FDEs, keeping the ranges that
 * start in an executable segment (clipped to it). An entry libdw cannot
 * skip ends the walk: what was read before it stands on its own.
 */
static int enumerate(struct build *b, Elf *elf, Elf_Data *data, __u64 addr,
		     bool eh)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf,
									 NULL);
	const __u8 *base = data->d_buf;
	Dwarf_Off off, next;
	Dwarf_CFI_Entry e;
	int pass, rc, err;

	b->nr_cies = 0;
	b->nr_fdes = 0;
	b->max_work = data->d_size > UNWIND_MAX_WORK / UNWIND_WORK_PER_BYTE ?
		      UNWIND_MAX_WORK : data->d_size * UNWIND_WORK_PER_BYTE;
	if (b->max_work < UNWIND_MIN_WORK)
		b->max_work = UNWIND_MIN_WORK;
	b->nr_bad = 0;
	b->poisoned = false;
	for (pass = 0; pass < 2; pass++) {
		for (off = 0; off < data->d_size; off = next) {
			/* a failed entry libdw cannot skip leaves next alone */
			next = off;
			rc = dwarf_next_cfi(ident, data, eh, off, &next, &e);
			if (rc > 0)
				break;
			if (rc < 0) {
				if (next == (Dwarf_Off)-1 || next <= off)
					break;
				continue;
			}
			if (next <= off)
				break;
			if (dwarf_cfi_cie_p(&e)) {
				struct cie *c;

				if (pass)
					continue;
				if (b->nr_cies == UNWIND_MAX_FDES)
					return -EFBIG;
				if (tab_grow((void **)&b->cies, &b->cap_cies,
					     b->nr_cies + 1, sizeof(*b->cies)))
					return -ENOMEM;
				c = &b->cies[b->nr_cies++];
				c->off = off;
				parse_cie(&e.cie, eh, c);
				continue;
			}
			if (!pass)
				continue;

			const struct cie *c = cie_find(b, e.fde.CIE_pointer);
			const __u8 *p = e.fde.start;
			__u64 start, range;
			struct fde *f;
			int s;

			if (c && !c->usable)
				b->poisoned = true;
			if (!c || !c->usable ||
			    !read_encoded(&p, e.fde.end, c->enc,
					  addr + (p - base), &start) ||
			    !read_encoded(&p, e.fde.end, c->enc & 0x0f, 0,
					  &range) || !range)
				continue;
			if (!c->program_ok || !fde_program_ok(c, p, e.fde.end)) {
				err = bad_add(b, start, range);
				if (err)
					return err;
			}
			s = seg_find(b, start);
			if (s < 0)
				continue;
			if (b->nr_fdes == UNWIND_MAX_FDES)
				return -EFBIG;
			if (tab_grow((void **)&b->fdes, &b->cap_fdes,
				     b->nr_fdes + 1, sizeof(*b->fdes)))
				return -ENOMEM;
			f = &b->fdes[b->nr_fdes++];
			f->start = start;
			f->end = range > b->segs[s].end - start ?
				 b->segs[s].end : start + range;
			f->len = e.fde.end - e.fde.start;
			f->refused = !c->program_ok ||
				     !fde_program_ok(c, p, e.fde.end);
		}
		if (!pass && b->nr_cies)
			qsort(b->cies, b->nr_cies, sizeof(*b->cies), cie_cmp);
	}
	if (!b->nr_fdes)
		return -ENOENT;
	qsort(b->fdes, b->nr_fdes, sizeof(*b->fdes), fde_cmp);
	return 0;
}

static bool fits_s32(__s64 v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/*
 * The PLT's CFA: rsp + 8, and 8 more once the stub has pushed its
 * relocation index, i.e. from byte 11 (or 10) of each 16-byte entry:
 * DW_OP_breg7 8; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_lit11;
 * DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus.
 */
static bool is_plt_expr(const Dwarf_Op *ops, size_t n, __s32 *threshold)
{
	if (n != 9 || ops[0].atom != DW_OP_breg7 || ops[0].number != 8 ||
	    ops[1].atom != DW_OP_breg16 || ops[1].number != 0 ||
	    ops[2].atom != DW_OP_lit15 || ops[3].atom != DW_OP_and ||
	    (ops[4].atom != DW_OP_lit11 && ops[4].atom != DW_OP_lit10) ||
	    ops[5].atom != DW_OP_ge || ops[6].atom != DW_OP_lit3 ||
	    ops[7].atom != DW_OP_shl || ops[8].atom != DW_OP_plus)
		return false;
	*threshold = ops[4].atom - DW_OP_lit0;
	return true;
}

/* The CFA rule; false for one the walker does not apply. */
static bool cfa_rule(Dwarf_Frame *f, struct ms_unwind_row *r)
{
	Dwarf_Op *ops;
	size_t n;
	__s64 off;

	if (dwarf_frame_cfa(f, &ops, &n) || !n)
		return false;
	/* libdw hands a register + offset rule as one DW_OP_bregx */
	if (n == 1 && ops[0].atom == DW_OP_bregx) {
		off = (__s64)ops[0].number2;
		if (!fits_s32(off))
			return false;
		if (ops[0].number == REG_RSP)
			r->cfa_type = MS_CFA_RSP;
		else if (ops[0].number == REG_RBP)
			r->cfa_type = MS_CFA_RBP;
		else
			return false;
		r->cfa_off = off;
		return true;
	}
	/* GCC's realigned frames: CFA = *(rbp + off) */
	if (n == 2 && ops[0].atom == DW_OP_breg6 &&
	    ops[1].atom == DW_OP_deref) {
		off = (__s64)ops[0].number;
		if (!fits_s32(off))
			return false;
		r->cfa_type = MS_CFA_DEREF_RBP;
		r->cfa_off = off;
		return true;
	}
	if (is_plt_expr(ops, n, &r->cfa_off)) {
		r->cfa_type = MS_CFA_PLT;
		return true;
	}
	return false;
}

enum ra_rule { RA_AT_CFA_MINUS_8, RA_UNDEFINED, RA_OTHER };

/*
 * Where the return address is. dwarf_frame_register says "undefined"
 * with no ops and ops pointing at ops_mem, "same value" with no ops and
 * a NULL ops; offset(N) is DW_OP_call_frame_cfa; DW_OP_plus_uconst N.
 */
static enum ra_rule ra_rule(Dwarf_Frame *f)
{
	Dwarf_Op mem[3], *ops;
	size_t n;

	if (dwarf_frame_register(f, REG_RIP, mem, &ops, &n))
		return RA_OTHER;
	if (!n)
		return ops == mem ? RA_UNDEFINED : RA_OTHER;
	if (n == 2 && ops[0].atom == DW_OP_call_frame_cfa &&
	    ops[1].atom == DW_OP_plus_uconst && (__s64)ops[1].number == -8)
		return RA_AT_CFA_MINUS_8;
	return RA_OTHER;
}

/*
 * Where the caller's rbp is. An expression rule reaches us with the CFA
 * push the DWARF spec puts before it, as DW_OP_call_frame_cfa.
 */
static void rbp_rule(Dwarf_Frame *f, struct ms_unwind_row *r)
{
	Dwarf_Op mem[3], *ops;
	size_t n;
	__s64 off;

	r->rbp_type = MS_RBP_UNDEFINED;
	r->rbp_off = 0;
	if (dwarf_frame_register(f, REG_RBP, mem, &ops, &n))
		return;
	if (!n) {
		if (!ops)
			r->rbp_type = MS_RBP_SAME;
		return;
	}
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return;
	if (n == 1) {
		r->rbp_type = MS_RBP_CFA;
		return;
	}
	if (n != 2)
		return;
	if (ops[1].atom == DW_OP_plus_uconst)
		off = (__s64)ops[1].number;
	else if (ops[1].atom == DW_OP_breg6)
		off = (__s64)ops[1].number;
	else
		return;
	if (!fits_s32(off))
		return;
	r->rbp_type = ops[1].atom == DW_OP_breg6 ? MS_RBP_AT_RBP : MS_RBP_CFA;
	r->rbp_off = off;
}

/*
 * One row from libdw's frame state. Rows that end or replace the walk
 * (undefined, signal, unsupported) carry no offsets, so equal ones merge.
 */
static void make_row(Dwarf_Frame *f, bool signalp, int ra_reg,
		     struct ms_unwind_row *r)
{
	enum ra_rule ra;

	memset(r, 0, sizeof(*r));
	if (signalp) {
		r->cfa_type = MS_CFA_SIGNAL;
		return;
	}
	if (ra_reg != REG_RIP) {
		r->cfa_type = MS_CFA_UNSUPPORTED;
		return;
	}
	ra = ra_rule(f);
	if (ra == RA_UNDEFINED) {
		r->cfa_type = MS_CFA_UNDEFINED;
		return;
	}
	if (ra != RA_AT_CFA_MINUS_8 || !cfa_rule(f, r)) {
		r->cfa_type = MS_CFA_UNSUPPORTED;
		r->cfa_off = 0;
		return;
	}
	rbp_rule(f, r);
}

static bool row_same_rule(const struct ms_unwind_row *a,
			  const struct ms_unwind_row *b)
{
	return a->cfa_type == b->cfa_type && a->cfa_off == b->cfa_off &&
	       a->rbp_type == b->rbp_type && a->rbp_off == b->rbp_off;
}

/* Appends a row, merged into the last one when its rule is the same. */
static int push_row(struct unwind_table *t, const struct ms_unwind_row *r)
{
	struct ms_unwind_row *rows;

	if (t->nr && row_same_rule(&t->rows[t->nr - 1], r))
		return 0;
	if (t->nr == UNWIND_MAX_ROWS)
		return -EFBIG;
	if (t->nr == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4096;
		rows = reallocarray(t->rows, t->cap, sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		t->rows = rows;
	}
	t->rows[t->nr++] = *r;
	return 0;
}

static int push_rule(struct unwind_table *t, __u64 pc, enum ms_cfa_type type)
{
	struct ms_unwind_row r = { .pc = pc, .cfa_type = type };

	return push_row(t, &r);
}

/*
 * The rows of one FDE, clipped to [start, end). A pc libdw cannot give a
 * row for, inside a range the FDE claims, makes the rest of the FDE
 * unsupported: there is CFI, and it is not one we can apply. So does a
 * program program_ok refused.
 */
static int compile_fde(struct build *b, Dwarf_CFI *cfi, const struct fde *fd,
		       __u64 end)
{
	struct ms_unwind_row r;
	Dwarf_Addr rs, re;
	Dwarf_Frame *f;
	__u64 pc = fd->start;
	bool signalp;
	int ra, err;

	if (fd->refused)
		return push_rule(b->t, pc, MS_CFA_UNSUPPORTED);
	while (pc < end) {
		if (cancelled(b))
			return -ECANCELED;
		b->work += fd->len + 1;
		if (bad_at(b, pc) || b->work > b->max_work)
			return b->work > b->max_work ? -EFBIG :
				push_rule(b->t, pc, MS_CFA_UNSUPPORTED);
		if (dwarf_cfi_addrframe(cfi, pc, &f))
			return push_rule(b->t, pc, MS_CFA_UNSUPPORTED);
		/*
		 * A row from before this FDE is another FDE's, one libdw
		 * chose for an overlap: not this FDE's rule to apply.
		 */
		ra = dwarf_frame_info(f, &rs, &re, &signalp);
		if (ra < 0 || rs < fd->start || rs > pc || re <= pc) {
			free(f);
			return push_rule(b->t, pc, MS_CFA_UNSUPPORTED);
		}
		make_row(f, signalp, ra, &r);
		free(f);
		r.pc = pc;
		err = push_row(b->t, &r);
		if (err)
			return err;
		pc = re < end ? re : end;
	}
	return 0;
}

/*
 * All FDEs in pc order. Where two overlap, the later-starting one holds
 * inside its range and the earlier one stops where it starts: a rule is
 * never applied to code its FDE does not describe. The end of an FDE
 * that the next one does not start at is a gap: no unwind information.
 */
static int compile(struct build *b, Dwarf_CFI *cfi)
{
	__u64 end, next;
	size_t i, j;
	int err;

	for (i = 0; i < b->nr_fdes; i = j) {
		const struct fde *fd = &b->fdes[i];

		/* of FDEs starting at one pc, fde_cmp put the longest first */
		for (j = i + 1; j < b->nr_fdes; j++)
			if (b->fdes[j].start != fd->start)
				break;
		next = j < b->nr_fdes ? b->fdes[j].start : UINT64_MAX;
		end = fd->end < next ? fd->end : next;
		b->t->stats.fdes++;
		err = compile_fde(b, cfi, fd, end);
		if (err)
			return err;
		if (end != next) {
			err = push_rule(b->t, end, MS_CFA_NO_INFO);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * The CFI of one ELF (the object or its debug file): .eh_frame, else
 * .debug_frame. -ENOENT when it has neither.
 */
static int compile_eh_frame(struct build *b, Elf *elf, bool separate)
{
	Dwarf_CFI *cfi;
	Elf_Data *data;
	GElf_Shdr sh;
	Elf_Scn *scn;
	int err;

	scn = elf_section_by_name(elf, ".eh_frame", &sh);
	data = scn ? section_data(scn, &sh) : NULL;
	if (!data)
		return -ENOENT;
	err = enumerate(b, elf, data, sh.sh_addr, true);
	if (err)
		return err;
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi)
		return -EINVAL;
	err = compile(b, cfi);
	dwarf_cfi_end(cfi);
	snprintf(b->t->source, sizeof(b->t->source), ".eh_frame%s",
		 separate ? " (separate debug file)" : "");
	return err;
}

/*
 * dwarf_begin_elf inflates every compressed debug section at once, to
 * the size each one claims: a few KiB of zlib can claim gigabytes. The
 * claims are added up before libdw sees the file.
 */
static bool debug_sections_fit(Elf *elf)
{
	__u64 total = 0, size;
	Elf_Scn *scn = NULL;
	const char *name;
	size_t strndx;
	GElf_Chdr ch;
	GElf_Shdr sh;
	Elf_Data *d;

	if (elf_getshdrstrndx(elf, &strndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			return false;
		name = elf_strptr(elf, strndx, sh.sh_name);
		if (sh.sh_flags & SHF_COMPRESSED) {
			if (!gelf_getchdr(scn, &ch))
				return false;
			size = ch.ch_size;
		} else if (name && !strncmp(name, ".zdebug", 7)) {
			/* "ZLIB", then the size, big-endian */
			d = elf_rawdata(scn, NULL);
			if (!d || d->d_size < 12 || memcmp(d->d_buf, "ZLIB", 4))
				return false;
			memcpy(&size, (const char *)d->d_buf + 4, sizeof(size));
			size = be64toh(size);
		} else {
			continue;
		}
		if (size > UNWIND_MAX_DWARF - total)
			return false;
		total += size;
	}
	return true;
}

static int compile_debug_frame(struct build *b, Elf *elf, bool separate)
{
	Dwarf_CFI *cfi;
	Elf_Data *data;
	GElf_Shdr sh;
	Elf_Scn *scn;
	Dwarf *dw;
	int err;

	if (!elf_section_by_name(elf, ".debug_frame", &sh))
		return -ENOENT;
	if (!debug_sections_fit(elf))
		return -EFBIG;
	/* libdw decompresses the debug sections it opens, in this Elf */
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return -EINVAL;
	err = -EINVAL;
	cfi = dwarf_getcfi(dw);
	scn = elf_section_by_name(elf, ".debug_frame", &sh);
	data = scn ? section_data(scn, &sh) : NULL;
	if (!cfi || !data)
		goto end_dwarf;
	err = enumerate(b, elf, data, sh.sh_addr, false);
	if (err)
		goto end_dwarf;
	err = compile(b, cfi);
	snprintf(b->t->source, sizeof(b->t->source), ".debug_frame%s",
		 separate ? " (separate debug file)" : "");
end_dwarf:
	dwarf_end(dw);
	return err;
}

static void swap_rows(struct unwind_table *a, struct unwind_table *b)
{
	struct ms_unwind_row *rows = a->rows;
	size_t nr = a->nr, cap = a->cap;

	a->rows = b->rows;
	a->nr = b->nr;
	a->cap = b->cap;
	b->rows = rows;
	b->nr = nr;
	b->cap = cap;
}

/*
 * b->t takes the rows merged into both; .eh_frame's own, which b->t held,
 * are kept in b->eh for what they describe (both is taken).
 */
static void eh_keep(struct build *b, struct unwind_table *both)
{
	swap_rows(b->t, both);
	unwind_table__free(b->eh);
	b->eh = both;
	b->eh_only = false;
}

/*
 * Into out: a's rules where a has one, b's in a's gaps (before a's first
 * row, and where a says NO_INFO); equal neighbours merged.
 */
static int rows_merge(struct unwind_table *out, const struct unwind_table *a,
		      const struct unwind_table *b)
{
	const struct ms_unwind_row none = { .cfa_type = MS_CFA_NO_INFO };
	const struct ms_unwind_row *ra = NULL, *rb = NULL;
	struct ms_unwind_row r;
	size_t i = 0, j = 0;
	__u32 pc;
	int err;

	while (i < a->nr || j < b->nr) {
		if (j == b->nr || (i < a->nr && a->rows[i].pc <= b->rows[j].pc))
			pc = a->rows[i].pc;
		else
			pc = b->rows[j].pc;
		while (i < a->nr && a->rows[i].pc == pc)
			ra = &a->rows[i++];
		while (j < b->nr && b->rows[j].pc == pc)
			rb = &b->rows[j++];
		r = ra && ra->cfa_type != MS_CFA_NO_INFO ? *ra :
		    rb ? *rb : none;
		r.pc = pc;
		err = push_row(out, &r);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The CFI of one ELF (the object or its debug file): .eh_frame, and
 * .debug_frame for code .eh_frame does not describe (a Go program's own
 * code, whose C parts are in .eh_frame), else .debug_frame alone.
 * -ENOENT when neither describes any of the object's code; nothing is
 * compiled then.
 */
static int compile_elf(struct build *b, Elf *elf, bool separate)
{
	struct unwind_table *eh = b->t, *dbg, *both;
	GElf_Shdr sh;
	int err;

	err = compile_eh_frame(b, elf, separate);
	if (err == -ENOENT)
		return compile_debug_frame(b, elf, separate);
	b->eh_only = !err;
	if (err || !elf_section_by_name(elf, ".debug_frame", &sh))
		return err;
	dbg = calloc(1, sizeof(*dbg));
	both = calloc(1, sizeof(*both));
	err = -ENOMEM;
	if (!dbg || !both)
		goto free;
	b->t = dbg;
	err = compile_debug_frame(b, elf, separate);
	b->t = eh;
	/* .eh_frame's rows stand whatever .debug_frame holds */
	if (err) {
		err = err == -ENOMEM ? err : 0;
		goto free;
	}
	err = rows_merge(both, eh, dbg);
	if (err)
		goto free;
	eh_keep(b, both);
	both = NULL;
	eh->stats.fdes += dbg->stats.fdes;
	snprintf(eh->source, sizeof(eh->source), ".eh_frame + .debug_frame%s",
		 separate ? " (separate)" : "");
free:
	unwind_table__free(dbg);
	unwind_table__free(both);
	return err;
}

static bool same_build_id(Elf *a, Elf *b)
{
	const void *ida, *idb;
	ssize_t na, nb;

	na = dwelf_elf_gnu_build_id(a, &ida);
	nb = dwelf_elf_gnu_build_id(b, &idb);
	return na > 0 && na == nb && !memcmp(ida, idb, na);
}

/* What compile_candidate compiles into, and for which object. */
struct separate {
	struct build *b;
	Elf *obj;
};

/*
 * Compiles a debug file the search found (its build-id or its link's CRC
 * checked): if the object has a build-id the file must have the same one
 * (as gdb checks a linked file), and it must hold CFI libdw can read;
 * else -ENOENT, and the search tries the next candidate.
 */
static int compile_candidate(int fd, const char *path, void *arg)
{
	struct separate *sep = arg;
	const void *id;
	int err = -ENOENT;
	Elf *elf;

	(void)path;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		goto close_fd;
	if (!is_x86_64(elf))
		goto end_elf;
	if (dwelf_elf_gnu_build_id(sep->obj, &id) > 0 &&
	    !same_build_id(sep->obj, elf))
		goto end_elf;
	err = compile_elf(sep->b, elf, true);
	/* nothing was compiled from a file libdw could not read */
	if (err == -EINVAL)
		err = -ENOENT;
end_elf:
	elf_end(elf);
close_fd:
	close(fd);
	return err;
}

/*
 * .gnu_debuglink: a file name (no directory), padding to 4 bytes, and the
 * CRC-32 of the debug file.
 */
static int read_debuglink(Elf *elf, char *name, size_t len, __u32 *crc)
{
	Elf_Data *d;
	GElf_Shdr sh;
	Elf_Scn *scn;
	size_t n, at;

	scn = elf_section_by_name(elf, ".gnu_debuglink", &sh);
	d = scn ? section_data(scn, &sh) : NULL;
	if (!d)
		return -ENOENT;
	n = strnlen(d->d_buf, d->d_size);
	at = (n + 4) & ~(size_t)3;
	if (!n || n >= len || at + 4 > d->d_size)
		return -EINVAL;
	memcpy(name, d->d_buf, n + 1);
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	memcpy(crc, (const char *)d->d_buf + at, 4);
	return 0;
}

/*
 * The debug file the way gdb finds it: by build-id under
 * /usr/lib/debug/.build-id, then the .gnu_debuglink name next to the
 * object, in its .debug/, and under /usr/lib/debug/<its dir>.
 */
static int compile_separate(struct build *b, Elf *obj, int fd,
			    const char *root)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	struct separate sep = { .b = b, .obj = obj };
	struct debuginfo_query q = {};
	const void *id;
	ssize_t n;
	int err;

	q.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (q.root_fd < 0)
		return -errno;
	n = dwelf_elf_gnu_build_id(obj, &id);
	if (n > 0) {
		q.build_id = id;
		q.build_id_len = n;
	}
	if (!read_debuglink(obj, name, sizeof(name), &q.crc) &&
	    !procmap_fd_path(fd, root, path, sizeof(path))) {
		q.debuglink = name;
		q.path = path;
	}
	err = debuginfo_search(&q, compile_candidate, &sep);
	close(q.root_fd);
	return err;
}

/* Entry code longer than this is not taken for an entry stub. */
#define ENTRY_MAX_BYTES		256

/* The index of the last row at or below pc, -1 when none is. */
static ssize_t row_at(const struct unwind_table *t, __u64 pc)
{
	size_t lo = 0, hi = t->nr, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

/*
 * The rows again with [start, end) under r alone: the rows inside go,
 * and what held at end (no information if nothing) holds on from end,
 * unless a row starts there; equal neighbours merged as push_row() merges
 * them.
 */
static int rows_splice(struct unwind_table *t, __u64 start, __u64 end,
		       const struct ms_unwind_row *r)
{
	struct ms_unwind_row *old = t->rows, u = *r, after = {
		.cfa_type = MS_CFA_NO_INFO,
	};
	ssize_t at = row_at(t, end);
	size_t n = t->nr, k = 0;
	int err = 0;

	if (at >= 0)
		after = old[at];
	after.pc = end;
	u.pc = start;
	t->rows = NULL;
	t->nr = t->cap = 0;
	for (; k < n && old[k].pc < start && !err; k++)
		err = push_row(t, &old[k]);
	if (!err)
		err = push_row(t, &u);
	for (; k < n && old[k].pc < end; k++)
		;
	if (!err && (k == n || old[k].pc != end))
		err = push_row(t, &after);
	for (; k < n && !err; k++)
		err = push_row(t, &old[k]);
	free(old);
	return err;
}

/*
 * Up to len bytes of the file at ELF address addr in segment sg (fewer
 * where its file bytes end): how many were read, 0 on failure.
 */
static size_t seg_read(const struct seg *sg, int fd, __u64 addr, void *buf,
		       size_t len)
{
	if (addr < sg->start || addr - sg->start >= sg->filesz)
		return 0;
	if (len > sg->filesz - (addr - sg->start))
		len = sg->filesz - (addr - sg->start);
	if (pread(fd, buf, len, sg->off + (addr - sg->start)) != (ssize_t)len)
		return 0;
	return len;
}

struct code_reader {
	const struct build *b;
	int fd;
};

/* go_object.code: all len bytes at addr, within one segment. */
static int code_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	const struct code_reader *c = ctx;
	int s = seg_find(c->b, addr);

	if (s < 0 || seg_read(&c->b->segs[s], c->fd, addr, buf, len) != len)
		return -EIO;
	return 0;
}

/* go_object.eh_frame: addr has a row from .eh_frame. */
static bool eh_described(void *ctx, __u64 addr)
{
	const struct code_reader *c = ctx;
	const struct unwind_table *eh = c->b->eh_only ? c->b->t : c->b->eh;
	ssize_t i;

	if (!eh)
		return false;
	i = row_at(eh, addr);
	return i >= 0 && eh->rows[i].cfa_type != MS_CFA_NO_INFO;
}

/* What -v says the rows came from gains what: "A + what", or "what". */
static void source_add(struct unwind_table *t, const char *what)
{
	size_t len = strlen(t->source);

	snprintf(t->source + len, sizeof(t->source) - len, "%s%s",
		 len ? " + " : "", what);
}

/* go_table_rows' state: where the last run pushed ended (0: none). */
struct go_rows {
	struct unwind_table *t;
	__u64 end;
};

/* Code from pc on has no rule (unless a run starts there). */
static int go_gap(struct go_rows *g, __u64 pc)
{
	return pc ? push_rule(g->t, pc, MS_CFA_NO_INFO) : 0;
}

/* gopcln__pcsp's fn: one run of a function's stack-pointer delta. */
static int go_run(void *ctx, __u64 from, __u64 to, __s32 sp)
{
	struct go_rows *g = ctx;
	struct ms_unwind_row r = {
		.pc = from, .cfa_type = MS_CFA_RSP, .rbp_type = MS_RBP_SAME,
	};
	int err;

	if (sp > INT32_MAX - 8)
		return -EINVAL;
	r.cfa_off = sp + 8;
	if (g->end < from) {
		err = go_gap(g, g->end);
		if (err)
			return err;
	}
	g->end = to;
	return push_row(g->t, &r);
}

/*
 * A stripped Go program (no .symtab, no .debug_frame: -ldflags=-s -w):
 * its Go functions' rows from Go's own function table, the stack-pointer
 * deltas the runtime itself unwinds with, where .eh_frame (its C code)
 * has none; the rules Go's .debug_frame would give (the CFA is rsp plus
 * the delta and the return address, the return address at CFA - 8). A
 * function whose table is malformed, out of order or outside the code
 * has no rule.
 */
static int go_table_rows(struct build *b, const struct gopcln *pcln)
{
	struct unwind_table *eh = b->t, *go, *both;
	size_t i, n = gopcln__nr_funcs(pcln), mark;
	struct gopcln_func f;
	struct go_rows g;
	__u64 end;
	int err = -ENOMEM;

	go = calloc(1, sizeof(*go));
	both = calloc(1, sizeof(*both));
	if (!go || !both)
		goto free;
	g = (struct go_rows){ .t = go };
	err = 0;
	for (i = 0; i < n && !err; i++) {
		if (gopcln__func(pcln, i, &f) || f.start < g.end ||
		    f.end > UINT32_MAX || seg_find(b, f.start) < 0 ||
		    seg_find(b, f.end - 1) != seg_find(b, f.start))
			continue;
		mark = go->nr;
		end = g.end;
		err = gopcln__pcsp(pcln, i, go_run, &g);
		if (err != -EINVAL)
			continue;
		/* its rows go, and no rule of another holds over it */
		go->nr = mark;
		err = go_gap(&g, end < f.start ? end : f.start);
		g.end = f.start;
	}
	if (!err)
		err = go_gap(&g, g.end);
	if (!err && go->nr)
		err = rows_merge(both, eh, go);
	if (err || !go->nr)
		goto free;
	eh_keep(b, both);
	both = NULL;
	source_add(eh, ".gopclntab");
free:
	unwind_table__free(go);
	unwind_table__free(both);
	return err;
}

/*
 * A Go program's runtime functions that switch stacks, and the bottoms of
 * its stacks, under the rules unwind_go.c gives them.
 */
static int go_rules(struct build *b, Elf *elf, int fd,
		    const struct gopcln *pcln)
{
	struct code_reader c = { .b = b, .fd = fd };
	struct go_object obj = {
		.pcln = pcln, .code = code_read, .eh_frame = eh_described,
		.ctx = &c,
	};
	struct go_rule *rules;
	size_t nr, i;
	int err;

	err = unwind_go__rules(elf, &obj, &rules, &nr);
	for (i = 0; i < nr && !err; i++) {
		if (rules[i].start >= rules[i].end ||
		    rules[i].end > UINT32_MAX)
			continue;
		err = rows_splice(b->t, rules[i].start, rules[i].end,
				  &rules[i].row);
	}
	free(rules);
	if (!err && nr)
		source_add(b->t, "Go runtime");
	return err;
}

/* makecontext longer than this is not decoded; glibc's is ~600 bytes. */
#define CONTEXT_MAX_BYTES	4096
/* The rip-relative leas of makecontext looked at, at most. */
#define CONTEXT_MAX_LEAS	16

/*
 * The bottom of a stack makecontext made (a coroutine's: QEMU's, a game
 * server's). The function given to makecontext starts with, as its
 * return address, the start of a function of the same object that was
 * never called (glibc's __start_context, which goes on to uc_link or
 * exits): written there, so the walker's look-up of the caller's rule at
 * pc - 1 lands before that function, in padding no FDE describes, and
 * every coroutine stack stopped as no_info. That byte gets the rule of an
 * outermost frame: such stacks end there, whole. The function is found
 * the way makecontext finds it, by a rip-relative lea in makecontext's
 * code (a static function: no name to look for without debug
 * information) that names the first byte of an FDE with no rule in the
 * byte before it. No call returns there: a return address follows its
 * call, in code an FDE describes, so no real caller loses a rule.
 */
static int context_rule(struct build *b, Elf *elf, int fd)
{
	static const struct ms_unwind_row outermost = {
		.cfa_type = MS_CFA_UNDEFINED,
	};
	__s64 leas[CONTEXT_MAX_LEAS];
	struct unwind_table *t = b->t;
	unsigned char *code;
	struct elf_func fn;
	size_t nr, i;
	ssize_t at, before;
	__u64 start;
	int s, err;

	if (elf_find_func(elf, "makecontext", &fn) || !fn.size ||
	    fn.size > CONTEXT_MAX_BYTES || (s = seg_find(b, fn.vaddr)) < 0)
		return 0;
	code = malloc(fn.size);
	if (!code)
		return -ENOMEM;
	err = 0;
	if (seg_read(&b->segs[s], fd, fn.vaddr, code, fn.size) != fn.size ||
	    prologue__rip_leas(code, fn.size, leas, CONTEXT_MAX_LEAS, &nr))
		nr = 0;
	free(code);
	for (i = 0; i < nr && !err; i++) {
		start = fn.vaddr + leas[i];
		at = row_at(t, start);
		if (!start || at < 0 || t->rows[at].pc != start ||
		    t->rows[at].cfa_type == MS_CFA_NO_INFO)
			continue;
		before = row_at(t, start - 1);
		if (before >= 0 && t->rows[before].cfa_type != MS_CFA_NO_INFO)
			continue;
		err = rows_splice(t, start - 1, start, &outermost);
	}
	return err;
}

/*
 * The entry point (e_entry) of an object processes start in (the caller
 * knows it from a process's auxv: the program, or its interpreter), in
 * code no FDE describes: the dynamic loader's _start and _dl_start_user
 * (glibc's RTLD_START has no CFI), a program's _start built without CFI.
 * Nothing calls an entry point, so a frame there is the outermost one,
 * as in a _start whose CFI says so with an undefined return address: the
 * straight run of code from the entry point to its first jump or return
 * gets that rule. The stacks of what the loader runs before the program
 * (libraries' constructors, its own mappings) then end there instead of
 * stopping for want of CFI. Only code wholly inside the gap: no FDE's
 * rule is ever replaced, and what the decoder cannot follow keeps no
 * rule. (A shared library's e_entry is often only where its .text
 * begins, crtstuff's deregister_tm_clones, which has callers and no CFI:
 * not an entry object.)
 */
static int entry_rule(struct build *b, Elf *elf, int fd)
{
	static const struct ms_unwind_row outermost = {
		.cfa_type = MS_CFA_UNDEFINED,
	};
	unsigned char code[ENTRY_MAX_BYTES];
	struct unwind_table *t = b->t;
	__u64 entry, gap_end, len;
	const struct seg *sg;
	GElf_Ehdr eh;
	size_t run;
	ssize_t i;
	int s, err;

	if (!gelf_getehdr(elf, &eh) || !eh.e_entry)
		return 0;
	entry = eh.e_entry;
	s = seg_find(b, entry);
	if (s < 0)
		return 0;
	sg = &b->segs[s];
	i = row_at(t, entry);
	if (i >= 0 && t->rows[i].cfa_type != MS_CFA_NO_INFO)
		return 0;
	gap_end = (size_t)(i + 1) < t->nr && t->rows[i + 1].pc < sg->end ?
		  t->rows[i + 1].pc : sg->end;
	len = gap_end - entry;
	if (len > ENTRY_MAX_BYTES)
		len = ENTRY_MAX_BYTES;
	len = seg_read(sg, fd, entry, code, len);
	if (!len)
		return 0;
	err = prologue__straight(code, len, &run);
	if (err)
		return err == -ENOMEM ? err : 0;
	return rows_splice(t, entry, entry + run, &outermost);
}

/* Code read at a time for prologue_fp__scan. */
#define FP_CHUNK		(1u << 20)

/*
 * fp_rows' rows, how many of them have a rule, and the object's loaded
 * segments, executable or not (a switch's table of jumps is read-only
 * data, or inside the code).
 */
struct fp_table {
	struct unwind_table t;
	size_t rules;
	int fd;
	struct seg loads[UNWIND_MAX_SEGS];
	unsigned int nr_loads;
};

/* prologue_fp_emit: a rule of frame-pointer code as a row. */
static int fp_emit(void *ctx, __u64 pc, enum prologue_fp_rule rule,
		   __s32 cfa)
{
	struct ms_unwind_row r = { .pc = pc, .cfa_type = MS_CFA_NO_INFO };
	struct fp_table *fp = ctx;

	switch (rule) {
	case PROLOGUE_FP_NONE:
		break;
	case PROLOGUE_FP_ENTRY:
		r.cfa_type = MS_CFA_RSP;
		r.cfa_off = 8;
		break;
	case PROLOGUE_FP_PUSHED:
	case PROLOGUE_FP_FRAME:
		/* rbp pushed below the return address: at CFA - 16 */
		r.cfa_type = rule == PROLOGUE_FP_FRAME ? MS_CFA_RBP :
							 MS_CFA_RSP;
		r.cfa_off = 16;
		r.rbp_type = MS_RBP_CFA;
		r.rbp_off = -16;
		break;
	case PROLOGUE_FP_FRAME_RA:
		r.cfa_type = MS_CFA_RBP_RA;
		r.cfa_off = cfa;
		r.rbp_type = MS_RBP_CFA;
		r.rbp_off = -cfa;
		break;
	}
	/* segments out of order or overlapping (a crafted file): malformed */
	if (fp->t.nr && pc <= fp->t.rows[fp->t.nr - 1].pc)
		return -EINVAL;
	fp->rules += rule != PROLOGUE_FP_NONE;
	return push_row(&fp->t, &r);
}

/* prologue_fp_read: all len bytes at addr, within one loaded segment. */
static int fp_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	const struct fp_table *fp = ctx;
	int i = segs_find(fp->loads, fp->nr_loads, addr);

	if (i < 0 || seg_read(&fp->loads[i], fp->fd, addr, buf, len) != len)
		return -EIO;
	return 0;
}

/* The PT_LOAD segments, as read_segments() takes the executable ones. */
static void fp_loads(Elf *elf, struct fp_table *fp)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return;
	for (i = 0; i < n && fp->nr_loads < UNWIND_MAX_SEGS; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD ||
		    ph.p_memsz > UINT64_MAX - ph.p_vaddr)
			continue;
		fp->loads[fp->nr_loads++] = seg_of(&ph);
	}
}

/* One gap of the rows, [start, end), through the scanner. */
static int fp_gap(const struct build *b, struct prologue_fp *s,
		  const struct seg *sg, int fd, unsigned char *buf,
		  __u64 start, __u64 end)
{
	size_t have = 0, got, used;
	__u64 at = start;
	bool last;
	int err;

	if (end > sg->start + sg->filesz)
		end = sg->start + sg->filesz;
	while (at < end) {
		if (cancelled(b))
			return -ECANCELED;
		got = seg_read(sg, fd, at + have, buf + have,
			       (size_t)(end - at - have < FP_CHUNK - have ?
					end - at - have : FP_CHUNK - have));
		have += got;
		/* what cannot be read keeps no rule */
		last = !got || at + have == end;
		err = prologue_fp__scan(s, buf, have, at, last, &used);
		if (err)
			return err;
		memmove(buf, buf + used, have - used);
		have -= used;
		at += used;
		if (last)
			break;
	}
	return 0;
}

/*
 * The code of an object, by its sections: an executable segment may hold
 * much more than code (gold puts the symbol and relocation tables,
 * .rodata and .eh_frame in libLLVM's one R E segment: 52 of its 99 MB,
 * decoded as code for nothing, 7 s of its 8 s compile). Section headers
 * only narrow the scan: without them, or with more code sections than
 * CODE_MAX_RANGES, nr is 0 and the segments are scanned whole.
 */
#define CODE_MAX_RANGES		32

struct code_ranges {
	__u64 start[CODE_MAX_RANGES];
	__u64 end[CODE_MAX_RANGES];
	unsigned int nr;
};

static void code_ranges_read(Elf *elf, struct code_ranges *c)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	unsigned int i, n;

	c->nr = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh)) {
			c->nr = 0;
			return;
		}
		if ((sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) !=
		    (SHF_ALLOC | SHF_EXECINSTR) || sh.sh_type == SHT_NOBITS ||
		    !sh.sh_size || sh.sh_size > UINT64_MAX - sh.sh_addr)
			continue;
		if (c->nr == CODE_MAX_RANGES) {
			c->nr = 0;
			return;
		}
		/* in address order, as fp_gaps walks them */
		for (i = c->nr; i > 0 && c->start[i - 1] > sh.sh_addr; i--) {
			c->start[i] = c->start[i - 1];
			c->end[i] = c->end[i - 1];
		}
		c->start[i] = sh.sh_addr;
		c->end[i] = sh.sh_addr + sh.sh_size;
		c->nr++;
	}
	/* overlapping headers (a hostile file) would scan code twice */
	for (i = 1, n = 0; i < c->nr; i++) {
		if (c->start[i] < c->end[n]) {
			if (c->end[i] > c->end[n])
				c->end[n] = c->end[i];
			continue;
		}
		n++;
		c->start[n] = c->start[i];
		c->end[n] = c->end[i];
	}
	if (c->nr)
		c->nr = n + 1;
}

/*
 * What the scan for frame-pointer code reads: the gaps of the rows, cut
 * to the code, each with its segment.
 */
struct fp_piece {
	const struct seg *sg;
	__u64 start;
	__u64 end;
};

struct fp_pieces {
	struct fp_piece *p;
	size_t nr;
	size_t cap;
	__u64 bytes;
};

static int piece_add(struct fp_pieces *ps, const struct seg *sg, __u64 start,
		     __u64 end)
{
	int err;

	if (end > sg->start + sg->filesz)
		end = sg->start + sg->filesz;
	if (start >= end)
		return 0;
	err = tab_grow((void **)&ps->p, &ps->cap, ps->nr + 1, sizeof(*ps->p));
	if (err)
		return err;
	ps->p[ps->nr++] = (struct fp_piece){ sg, start, end };
	ps->bytes += end - start;
	return 0;
}

/* Each gap of the rows in the executable segments' code, in order. */
static int fp_gaps(const struct build *b, const struct code_ranges *c,
		   struct fp_pieces *ps)
{
	const struct unwind_table *t = b->t;
	__u64 pc, next, end, from, to;
	unsigned int i, k;
	ssize_t r;
	int err = 0;

	for (i = 0; i < b->nr_segs && !err; i++) {
		const struct seg *sg = &b->segs[i];

		end = sg->start + sg->filesz;
		for (pc = sg->start; pc < end && !err; pc = next) {
			r = row_at(t, pc);
			next = (size_t)(r + 1) < t->nr ? t->rows[r + 1].pc :
			       end;
			if (next > end || next <= pc)
				next = end;
			if (r >= 0 && t->rows[r].cfa_type != MS_CFA_NO_INFO)
				continue;
			if (!c->nr) {
				err = piece_add(ps, sg, pc, next);
				continue;
			}
			for (k = 0; k < c->nr && !err; k++) {
				from = c->start[k] > pc ? c->start[k] : pc;
				to = c->end[k] < next ? c->end[k] : next;
				if (from < to)
					err = piece_add(ps, sg, from, to);
			}
		}
	}
	return err;
}

/*
 * The scan over many threads. Chromium's 225 MB of code took 23 s on one:
 * Capstone's decoding is most of it. Its pieces are few and huge (its
 * largest gaps of CFI are 97, 70 and 40 MB), so the code is cut where a
 * function begins after int3 padding, as clang pads: a 16-byte aligned
 * "[endbr64] push %rbp; mov %rsp,%rbp" after an int3. There the scan
 * ends a run and starts a function whatever came before (prologue.h), so
 * each share scans as the whole would; where no such place is found
 * within FP_SPLIT_LOOK of a cut, the share goes on to the next.
 */
#define FP_PAR_MIN		(16ull << 20)
#define FP_PAR_MAX		4
#define FP_SPLIT_LOOK		(1u << 20)

struct fp_share {
	const struct build *b;
	const struct fp_pieces *ps;
	size_t first, last;		/* pieces [first, last] */
	__u64 from, to;			/* from in the first, to in the last */
	struct fp_table fp;
	int err;
};

static void *fp_share_scan(void *arg)
{
	struct fp_share *sh = arg;
	struct prologue_fp *s;
	unsigned char *buf;
	size_t i;

	buf = malloc(FP_CHUNK);
	s = buf ? prologue_fp__new(fp_emit, fp_read, &sh->fp) : NULL;
	sh->err = s ? 0 : -ENOMEM;
	for (i = sh->first; i <= sh->last && !sh->err; i++) {
		const struct fp_piece *p = &sh->ps->p[i];

		sh->err = fp_gap(sh->b, s, p->sg, sh->fp.fd, buf,
				 i == sh->first ? sh->from : p->start,
				 i == sh->last ? sh->to : p->end);
	}
	prologue_fp__free(s);
	free(buf);
	return NULL;
}

/* The first place after at, in p, where a share may begin; 0: none near. */
static __u64 fp_split_at(const struct fp_piece *p, int fd, __u64 at,
			 unsigned char *buf)
{
	static const unsigned char frame[] = { 0x55, 0x48, 0x89, 0xe5 };
	static const unsigned char endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	__u64 a, end = p->end - at > FP_SPLIT_LOOK ? at + FP_SPLIT_LOOK :
						      p->end;
	size_t n, i;

	/* after at: a share is never empty */
	a = (at + 1 + 15) & ~15ull;
	if (a >= end)
		return 0;
	n = seg_read(p->sg, fd, a - 1, buf, end - a + 1);
	for (i = 0; i + 1 + 8 <= n; i += 16) {
		const unsigned char *c = buf + i + 1;

		if (buf[i] != 0xcc)
			continue;
		if (!memcmp(c, frame, 4) ||
		    (!memcmp(c, endbr, 4) && !memcmp(c + 4, frame, 4)))
			return a + i;
	}
	return 0;
}

/* Shares of about equal bytes, cut at fp_split_at; how many. */
static unsigned int fp_shares(const struct fp_pieces *ps, int fd,
			      struct fp_share *sh, unsigned int want,
			      unsigned char *buf)
{
	__u64 done = 0, goal, cut, at;
	unsigned int n = 0;
	size_t i;

	sh[0].first = 0;
	sh[0].from = ps->p[0].start;
	for (i = 0; i < ps->nr && n + 1 < want; i++) {
		const struct fp_piece *p = &ps->p[i];

		at = p->start;
		while (n + 1 < want) {
			goal = ps->bytes / want * (n + 1);
			if (done + (p->end - at) <= goal)
				break;
			/* past the goal already: the first place here */
			cut = fp_split_at(p, fd, done >= goal ? at :
					  at + (goal - done), buf);
			if (!cut)
				break;
			sh[n].last = i;
			sh[n].to = cut;
			n++;
			sh[n].first = i;
			sh[n].from = cut;
			done += cut - at;
			at = cut;
		}
		done += p->end - at;
	}
	sh[n].last = ps->nr - 1;
	sh[n].to = ps->p[ps->nr - 1].end;
	return n + 1;
}

/* Share k's rows after the first k's, as one scan would have made them. */
static int fp_append(struct fp_table *into, const struct fp_table *from)
{
	struct ms_unwind_row *last;
	size_t i;
	int err;

	for (i = 0; i < from->t.nr; i++) {
		const struct ms_unwind_row *r = &from->t.rows[i];

		last = into->t.nr ? &into->t.rows[into->t.nr - 1] : NULL;
		if (last && r->pc < last->pc)
			return -EINVAL;
		if (last && r->pc == last->pc) {
			*last = *r;
			if (into->t.nr > 1 &&
			    row_same_rule(&into->t.rows[into->t.nr - 2], last))
				into->t.nr--;
			continue;
		}
		err = push_row(&into->t, r);
		if (err)
			return err;
	}
	into->rules += from->rules;
	return 0;
}

/*
 * Code with frame pointers that no CFI describes (prologue_fp__scan):
 * the rules its prologues show, in the gaps of the rows: all but a
 * little of the code of an object built without unwind tables
 * (Chromium's 225 MB of code has 0.4 MB of .eh_frame), and in others
 * what the CFI leaves out (crt code, hand-written assembly). An object
 * without any CFI (ENOENT so far) gets only these.
 */
static int fp_rows(struct build *b, Elf *elf, int fd)
{
	struct unwind_table *t = b->t, *both = NULL;
	struct fp_share sh[FP_PAR_MAX] = {};
	struct fp_pieces ps = {};
	struct code_ranges code;
	struct fp_table proto = { .fd = fd };
	unsigned char *buf = NULL;
	unsigned int i, n = 1, want = 1;
	pthread_t tid[FP_PAR_MAX];
	bool started[FP_PAR_MAX] = {};
	long cpus;
	int err;

	fp_loads(elf, &proto);
	code_ranges_read(elf, &code);
	err = fp_gaps(b, &code, &ps);
	if (err || !ps.nr)
		goto free;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (ps.bytes >= FP_PAR_MIN && cpus > 1)
		want = cpus < FP_PAR_MAX ? cpus : FP_PAR_MAX;
	if (want > 1) {
		buf = malloc(FP_SPLIT_LOOK + 16);
		if (!buf) {
			err = -ENOMEM;
			goto free;
		}
		n = fp_shares(&ps, fd, sh, want, buf);
	} else {
		sh[0].last = ps.nr - 1;
		sh[0].from = ps.p[0].start;
		sh[0].to = ps.p[ps.nr - 1].end;
	}
	for (i = 0; i < n; i++) {
		sh[i].b = b;
		sh[i].ps = &ps;
		sh[i].fp = proto;
	}
	/* share 0 on this thread; a thread that cannot start, after it */
	for (i = 1; i < n; i++)
		started[i] = !pthread_create(&tid[i], NULL, fp_share_scan,
					     &sh[i]);
	fp_share_scan(&sh[0]);
	for (i = 1; i < n; i++) {
		if (started[i])
			pthread_join(tid[i], NULL);
		else
			fp_share_scan(&sh[i]);
	}
	for (i = 0; i < n && !err; i++)
		err = sh[i].err ?: i ? fp_append(&sh[0].fp, &sh[i].fp) : 0;
	if (err || !sh[0].fp.rules)
		goto free;
	both = calloc(1, sizeof(*both));
	err = both ? rows_merge(both, t, &sh[0].fp.t) : -ENOMEM;
	if (err)
		goto free;
	eh_keep(b, both);
	both = NULL;
	source_add(b->t, "frame pointers");
	b->t->fp_shares = n;
free:
	for (i = 0; i < n; i++)
		free(sh[i].fp.t.rows);
	free(buf);
	free(ps.p);
	unwind_table__free(both);
	return err;
}

static void count_rows(struct unwind_table *t)
{
	size_t i;

	t->stats.rows = t->nr;
	for (i = 0; i < t->nr; i++)
		t->stats.by_type[t->rows[i].cfa_type]++;
}

struct unwind_table *unwind_table__build(int fd, const char *root,
					 unsigned int flags)
{
	return unwind_table__build_until(fd, root, flags, NULL);
}

struct unwind_table *unwind_table__build_until(int fd, const char *root,
					       unsigned int flags,
					       const bool *cancel)
{
	struct ms_unwind_row *rows;
	struct gopcln *pcln = NULL;
	struct build b = { .cancel = cancel };
	Elf *elf;
	int err;

	b.t = calloc(1, sizeof(*b.t));
	if (!b.t)
		return NULL;
	elf_version(EV_CURRENT);
	/*
	 * Read, not mapped: a file the target truncates under us must
	 * fail a read, not SIGBUS the tracer.
	 */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf) {
		err = -EINVAL;
		goto free_table;
	}
	if (!is_x86_64(elf)) {
		err = -EINVAL;
		goto end_elf;
	}
	err = read_segments(elf, &b);
	if (err)
		goto end_elf;
	err = compile_elf(&b, elf, false);
	b.t->whole = !err;
	if (err == -ENOENT) {
		err = compile_separate(&b, elf, fd, root);
		b.t->whole = !err;
	}
	/* Go's table, where no .debug_frame told its functions' rules */
	if (!err || err == -ENOENT) {
		pcln = gopcln__new(elf);
		if (!pcln && errno == ENOMEM)
			err = -ENOMEM;
		else if (pcln && (err || b.eh_only))
			err = go_table_rows(&b, pcln) ?: b.t->nr ? 0 : err;
	}
	if (!err)
		err = go_rules(&b, elf, fd, pcln);
	if (!err)
		err = context_rule(&b, elf, fd);
	if (!err && (flags & UNWIND_TABLE_ENTRY))
		err = entry_rule(&b, elf, fd);
	/* not a Go program's: Go's own table told its functions' rules */
	if ((!err || err == -ENOENT) && !pcln &&
	    !(flags & UNWIND_TABLE_CFI_ONLY))
		err = fp_rows(&b, elf, fd) ?: b.t->nr ? 0 : err;
	if (err)
		goto end_elf;
	count_rows(b.t);
	/* kept for the whole session: give back what growing left over */
	rows = reallocarray(b.t->rows, b.t->nr, sizeof(*rows));
	if (rows) {
		b.t->rows = rows;
		b.t->cap = b.t->nr;
	}
	elf_end(elf);
	gopcln__free(pcln);
	free(b.fdes);
	free(b.cies);
	free(b.bad);
	unwind_table__free(b.eh);
	return b.t;

end_elf:
	gopcln__free(pcln);
	elf_end(elf);
free_table:
	free(b.fdes);
	free(b.cies);
	free(b.bad);
	unwind_table__free(b.eh);
	unwind_table__free(b.t);
	errno = -err;
	return NULL;
}

struct unwind_table *unwind_table__adopt(struct ms_unwind_row *rows,
					 size_t nr, const char *source,
					 __u32 fdes)
{
	struct unwind_table *t = calloc(1, sizeof(*t));

	if (!t) {
		free(rows);
		return NULL;
	}
	t->rows = rows;
	t->nr = t->cap = nr;
	t->whole = true;
	t->stats.fdes = fdes;
	snprintf(t->source, sizeof(t->source), "%s", source);
	count_rows(t);
	return t;
}

bool unwind_table__whole(const struct unwind_table *t)
{
	return t->whole;
}

void unwind_table__free(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

const struct ms_unwind_row *unwind_table__rows(const struct unwind_table *t,
					       size_t *nr)
{
	*nr = t->nr;
	return t->rows;
}

const char *unwind_table__source(const struct unwind_table *t)
{
	return t->source;
}

unsigned int unwind_table__fp_shares(const struct unwind_table *t)
{
	return t->fp_shares;
}

void unwind_table__stats(const struct unwind_table *t,
			 struct unwind_table_stats *out)
{
	*out = t->stats;
}
