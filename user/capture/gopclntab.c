/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Go's function table (gopclntab.h), as runtime/symtab.go lays it out
 * since Go 1.18: a header (pcHeader), then, at offsets it gives, the
 * function names, the pc-value tables and the function table: nfunc + 1
 * pairs of 32-bit offsets (entry from textStart, _func record from the
 * table's start), the last entry only the end of the last function. A
 * _func record starts with entryOff, nameOff, args, deferreturn and pcsp,
 * the offset of its stack-pointer table in the pc-value tables: the same
 * in every version since. A pc-value table is pairs of varints (a value
 * delta, zigzag-coded, then a pc delta in instruction quanta), the value
 * starting at -1, each pair the value up to the pc it reaches.
 */
#include <endian.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "elfsym.h"
#include "gopclntab.h"

#define GO118_MAGIC	0xfffffff0u
#define GO120_MAGIC	0xfffffff1u
#define HDR_SIZE	72	/* magic..pclnOffset, 64-bit */
/* Offsets in a _func record: its pc-value tables, its compilation unit */
#define FUNC_PCSP	16
#define FUNC_PCFILE	20
#define FUNC_PCLN	24
#define FUNC_NPCDATA	28
#define FUNC_CU		32
/* table_of()'s field of pcdata table k: PCDATA + k */
#define PCDATA		0x100
/* The pcdata table of inlined calls' indices in the inline tree. */
#define PCDATA_INLTREE	2
/* Offset of flag: Go 1.20 put startLine before funcID and flag. */
#define FUNC_FLAG_118	37
#define FUNC_FLAG_120	41
#define FUNC_FLAG_ASM	(1u << 2)
/* Larger tables are not Go's (a big program's is tens of MiB). */
#define MAX_TABLE	(1u << 30)

struct gopcln {
	__u8 *data;
	size_t size;
	__u64 text;		/* textStart */
	__u64 nfunc;
	__u8 quantum;		/* minLC: 1 on x86-64 */
	unsigned int flag_at;	/* offset of flag in a _func record */
	size_t names;		/* funcnametab */
	size_t cutab;		/* per unit: its files in filetab */
	size_t filetab;
	size_t pctab;
	size_t functab;		/* pclntable: the function table */
};

static __u32 get32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static __u64 get64(const __u8 *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* [off, off + len) lies in the table. */
static bool in_table(const struct gopcln *p, __u64 off, __u64 len)
{
	return off <= p->size && len <= p->size - off;
}

static int header_read(struct gopcln *p)
{
	const __u8 *h = p->data;
	__u32 magic;

	if (p->size < HDR_SIZE)
		return -EINVAL;
	magic = get32(h);
	if (magic != GO118_MAGIC && magic != GO120_MAGIC)
		return -ENOENT;
	/* pad1, pad2 zero; 8-byte pointers; a quantum the runtime knows */
	if (h[4] || h[5] || h[7] != 8 || !h[6] || h[6] > 4)
		return -ENOENT;
	p->quantum = h[6];
	p->flag_at = magic == GO118_MAGIC ? FUNC_FLAG_118 : FUNC_FLAG_120;
	p->nfunc = get64(h + 8);
	p->text = get64(h + 24);
	p->names = get64(h + 32);
	p->cutab = get64(h + 40);
	p->filetab = get64(h + 48);
	p->pctab = get64(h + 56);
	p->functab = get64(h + 64);
	/* nfunc + 1 pairs of 32-bit offsets */
	if (!p->nfunc || p->nfunc > p->size / 8 ||
	    !in_table(p, p->functab, (p->nfunc + 1) * 8) ||
	    p->names >= p->size || p->pctab >= p->size)
		return -EINVAL;
	return 0;
}

struct gopcln *gopcln__new(Elf *elf)
{
	struct gopcln *p;
	Elf_Data *d;
	GElf_Shdr sh;
	Elf_Scn *scn;
	int err;

	scn = elf_section_by_name(elf, ".gopclntab", &sh);
	d = scn && sh.sh_type == SHT_PROGBITS && sh.sh_size <= MAX_TABLE ?
	    elf_getdata(scn, NULL) : NULL;
	if (!d || !d->d_buf || d->d_size < HDR_SIZE) {
		errno = ENOENT;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->data = malloc(d->d_size))) {
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(p->data, d->d_buf, d->d_size);
	p->size = d->d_size;
	err = header_read(p);
	if (err) {
		gopcln__free(p);
		errno = -err;
		return NULL;
	}
	return p;
}

void gopcln__free(struct gopcln *p)
{
	if (!p)
		return;
	free(p->data);
	free(p);
}

size_t gopcln__nr_funcs(const struct gopcln *p)
{
	return p->nfunc;
}

/* Entry i of the function table: entry offset, record offset. */
static void functab_at(const struct gopcln *p, size_t i, __u32 *entry,
		       __u32 *rec)
{
	const __u8 *e = p->data + p->functab + i * 8;

	*entry = get32(e);
	*rec = get32(e + 4);
}

/* Function i's _func record, up to its flag; NULL if out of bounds. */
static const __u8 *record_at(const struct gopcln *p, size_t i)
{
	__u32 entry, rec;

	functab_at(p, i, &entry, &rec);
	if (!in_table(p, p->functab + (__u64)rec, p->flag_at + 1))
		return NULL;
	return p->data + p->functab + rec;
}

/* A NUL-terminated name at off in funcnametab; NULL if it runs out. */
static const char *name_at(const struct gopcln *p, __s32 off)
{
	__u64 at = p->names + (__u64)(__s64)off;

	if (off < 0 || at >= p->size ||
	    !memchr(p->data + at, '\0', p->size - at))
		return NULL;
	return (const char *)p->data + at;
}

int gopcln__func(const struct gopcln *p, size_t i, struct gopcln_func *out)
{
	__u32 entry, next, rec;
	const __u8 *r;

	if (i >= p->nfunc)
		return -EINVAL;
	functab_at(p, i, &entry, &rec);
	functab_at(p, i + 1, &next, &rec);
	r = record_at(p, i);
	if (next <= entry || !r)
		return -EINVAL;
	out->start = p->text + entry;
	out->end = p->text + next;
	out->name = name_at(p, (__s32)get32(r + 4));
	out->is_asm = r[p->flag_at] & FUNC_FLAG_ASM;
	return 0;
}

ssize_t gopcln__find(const struct gopcln *p, __u64 pc)
{
	size_t lo = 0, hi = p->nfunc, mid;
	__u32 entry, rec;

	if (pc < p->text || pc - p->text > UINT32_MAX)
		return -1;
	/* the last entry at or below pc, by the table's order */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		functab_at(p, mid, &entry, &rec);
		if (entry <= pc - p->text)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	functab_at(p, lo, &entry, &rec);
	return pc - p->text < entry ? (ssize_t)lo - 1 : -1;
}

/* A varint at *at, below end: false when it runs out or overflows. */
static bool varint(const struct gopcln *p, size_t *at, size_t end, __u32 *v)
{
	unsigned int shift;
	__u8 b;

	*v = 0;
	for (shift = 0; shift < 35; shift += 7) {
		if (*at >= end)
			return false;
		b = p->data[(*at)++];
		*v |= (__u32)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return shift < 28 || b < 0x10;
	}
	return false;
}

typedef int (*pcvalue_fn)(void *ctx, __u64 from, __u64 to, __s32 v);

/*
 * The offset in pctab of function i's table at field of its record, or
 * (field PCDATA + k) of its k-th pcdata table; 0: it has none.
 */
static __u32 table_of(const struct gopcln *p, size_t i, unsigned int field)
{
	const __u8 *r = record_at(p, i);
	__u64 at;

	if (!r)
		return 0;
	if (field < PCDATA) {
		at = (__u64)(r - p->data) + field;
	} else {
		/* after the fixed part (nfuncdata is its last byte) */
		if (field - PCDATA >= get32(r + FUNC_NPCDATA))
			return 0;
		at = (__u64)(r - p->data) + p->flag_at + 3 +
		     (__u64)(field - PCDATA) * 4;
	}
	return in_table(p, at, 4) ? get32(p->data + at) : 0;
}

/*
 * Function i's pc-value table at field (table_of()): fn(ctx, from, to,
 * value) for each run, as gopcln__pcsp() says. Values below min are
 * malformed.
 */
static int pcvalue_walk(const struct gopcln *p, size_t i, unsigned int field,
			__s32 min, pcvalue_fn fn, void *ctx)
{
	struct gopcln_func f;
	__u32 vdelta, pcdelta;
	size_t at, end = p->size;
	__u64 pc, to;
	__s32 v = -1;
	bool first = true;
	int ret;

	if (gopcln__func(p, i, &f))
		return -EINVAL;
	at = p->pctab + (__u64)table_of(p, i, field);
	if (at >= end || at <= p->pctab)
		return -EINVAL;
	pc = f.start;
	while (pc < f.end) {
		if (!varint(p, &at, end, &vdelta))
			return -EINVAL;
		/*
		 * A zero delta ends the table, except as its first value:
		 * the function's padding, if any, is in no run.
		 */
		if (!vdelta && !first)
			return 0;
		first = false;
		v += (__s32)(-(vdelta & 1) ^ (vdelta >> 1));
		if (!varint(p, &at, end, &pcdelta))
			return -EINVAL;
		to = pc + (__u64)pcdelta * p->quantum;
		if (to > f.end || v < min)
			return -EINVAL;
		if (to > pc) {
			ret = fn(ctx, pc, to, v);
			if (ret)
				return ret;
		}
		pc = to;
	}
	return 0;
}

int gopcln__pcsp(const struct gopcln *p, size_t i,
		 int (*fn)(void *ctx, __u64 from, __u64 to, __s32 sp),
		 void *ctx)
{
	return pcvalue_walk(p, i, FUNC_PCSP, 0, fn, ctx);
}

/* pcvalue_walk's fn for one pc: its run's value, and stop. */
struct value_at {
	__u64 pc;
	__s32 v;
};

static int value_note(void *ctx, __u64 from, __u64 to, __s32 v)
{
	struct value_at *w = ctx;

	if (w->pc < from || w->pc >= to)
		return 0;
	w->v = v;
	return 1;
}

/* The value at pc of function i's table at field: 0, or -ENOENT. */
static int value_at(const struct gopcln *p, size_t i, unsigned int field,
		    __s32 min, __u64 pc, __s32 *v)
{
	struct value_at w = { .pc = pc };

	if (pcvalue_walk(p, i, field, min, value_note, &w) != 1)
		return -ENOENT;
	*v = w.v;
	return 0;
}

int gopcln__line(const struct gopcln *p, size_t i, __u64 pc,
		 const char **file, int *line)
{
	__s32 fileno, lineno, inl = -1;
	__u64 at;
	__u32 off;

	/*
	 * Inside an inlined call the file and line are the callee's, which
	 * the function's name is not: said for neither, not paired wrong.
	 */
	if (table_of(p, i, PCDATA + PCDATA_INLTREE) &&
	    value_at(p, i, PCDATA + PCDATA_INLTREE, -1, pc, &inl))
		return -ENOENT;
	if (inl >= 0 || value_at(p, i, FUNC_PCFILE, 0, pc, &fileno) ||
	    value_at(p, i, FUNC_PCLN, 0, pc, &lineno))
		return -ENOENT;
	/* the unit's table of its files' names, then the name */
	at = p->cutab + ((__u64)get32(record_at(p, i) + FUNC_CU) +
			 (__u64)fileno) * 4;
	if (!in_table(p, at, 4))
		return -ENOENT;
	off = get32(p->data + at);
	at = p->filetab + (__u64)off;
	if (off == UINT32_MAX || at >= p->size ||
	    !memchr(p->data + at, '\0', p->size - at))
		return -ENOENT;
	*file = (const char *)p->data + at;
	*line = lineno;
	return 0;
}
