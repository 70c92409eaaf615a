/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Go runtime's stack switches, as rows (unwind_go.h). The functions are
 * found by their symbols in .symtab, or where a stripped program has none
 * in Go's own function table (gopclntab.h). Since Go 1.17 an assembly
 * function's own symbol is NAME.abi0 and NAME, if there is one, is an
 * ordinary Go wrapper: the .abi0 one is taken when it exists (the
 * function table names both NAME and marks the assembly one).
 *
 * asmcgocall (runtime/asm_amd64.s) calls the C function with CALL AX on
 * the system stack, having saved below it either the goroutine's g and
 * its depth on the goroutine stack (g.stack.hi - rsp), or, already on
 * the system stack, rsp itself; after the call it loads them back:
 *
 *	mov D1(%rsp),%rdi; mov 8(%rdi),%rsi; sub D2(%rsp),%rsi; ...;
 *	mov %rsi,%rsp; ...; ret				(MS_CFA_GO_STACK)
 *	mov D(%rsp),%rsi; mov %rsi,%rsp; ...; ret	(MS_CFA_DEREF_RSP)
 *
 * (the ... touching neither rsp nor the register it comes from). The
 * offsets come from the code, not from a Go version: a return whose
 * epilogue is neither keeps the stop.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>

#include "gopclntab.h"
#include "table.h"
#include "unwind_go.h"

/* asmcgocall is ~180 bytes; the rest of a larger symbol is not read. */
#define GO_CODE_MAX	4096
/* Instructions from the loads to the rsp they make. */
#define GO_EPILOGUE_MAX	8

enum go_kind {
	GO_END,		/* a stack's bottom: the outermost frame */
	GO_STOP,	/* switches stacks: the walk stops */
	GO_CGOCALL,	/* a stop, but where it returns from C */
};

/* runtime.goexit first: a Go program has it. */
static const struct {
	const char *name;
	enum go_kind kind;
} go_funcs[] = {
	{ "runtime.goexit", GO_END },
	{ "runtime.mstart", GO_END },
	{ "runtime.rt0_go", GO_END },
	{ "runtime.asmcgocall", GO_CGOCALL },
	{ "runtime.asmcgocall_no_g", GO_STOP },
	{ "runtime.systemstack", GO_STOP },
	{ "runtime.systemstack_switch", GO_STOP },
	{ "runtime.mcall", GO_STOP },
	{ "runtime.morestack", GO_STOP },
	{ "runtime.morestack_noctxt", GO_STOP },
	{ "runtime.cgocallback", GO_STOP },
	{ "runtime.gogo", GO_STOP },
	{ "gogo", GO_STOP },
	{ "gosave_systemstack_switch", GO_STOP },
	{ "runtime.sigtramp", GO_STOP },
	{ "runtime.cgoSigtramp", GO_STOP },
};

#define NR_GO_FUNCS	(sizeof(go_funcs) / sizeof(go_funcs[0]))

/* Where each listed function is: [0] its own name, [1] NAME.abi0. */
struct go_sym {
	__u64 start;
	__u64 size;
};

struct rules {
	struct go_rule *v;
	size_t nr;
	size_t cap;
};

static int rule_add(struct rules *r, __u64 start, __u64 end, __u8 type,
		    __s32 cfa_off, __s32 rbp_off)
{
	int err = tab_grow((void **)&r->v, &r->cap, r->nr + 1, sizeof(*r->v));

	if (err)
		return err;
	r->v[r->nr++] = (struct go_rule){
		.start = start, .end = end,
		.row = { .cfa_type = type, .cfa_off = cfa_off,
			 .rbp_off = rbp_off, .rbp_type = MS_RBP_SAME },
	};
	return 0;
}

/* A function of the program, from .symtab or from Go's table. */
struct go_func {
	__u64 start;
	__u64 size;
	const char *name;	/* NULL when it has none */
	bool is_asm;		/* the table says assembly: NAME.abi0 */
};

typedef int (*go_func_fn)(void *ctx, const struct go_func *fn);

/* for_each_func over .symtab's functions with a size: 1 if it has any. */
static int symtab_funcs(Elf *elf, go_func_fn fn, void *ctx, int *ret)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Sym sym;
	size_t i, n;
	int any = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		n = data->d_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			if (!gelf_getsym(data, i, &sym) || !sym.st_size ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    sym.st_value + sym.st_size < sym.st_value)
				continue;
			any = 1;
			*ret = fn(ctx, &(struct go_func){
				.start = sym.st_value, .size = sym.st_size,
				.name = elf_strptr(elf, sh.sh_link,
						   sym.st_name),
			});
			if (*ret)
				return 1;
		}
	}
	return any;
}

/*
 * Calls fn with each function of elf's .symtab that has a size, or where
 * it has none (a stripped program), of Go's function table, until fn
 * returns non-zero: that, or 0.
 */
static int for_each_func(Elf *elf, const struct gopcln *pcln, go_func_fn fn,
			 void *ctx)
{
	struct gopcln_func f;
	size_t i, n;
	int ret = 0;

	if (symtab_funcs(elf, fn, ctx, &ret) || !pcln)
		return ret;
	n = gopcln__nr_funcs(pcln);
	for (i = 0; i < n && !ret; i++) {
		if (gopcln__func(pcln, i, &f))
			continue;
		ret = fn(ctx, &(struct go_func){
			.start = f.start, .size = f.end - f.start,
			.name = f.name, .is_asm = f.is_asm,
		});
	}
	return ret;
}

/* for_each_func's fn: where a listed function is. */
static int sym_note(void *ctx, const struct go_func *fn)
{
	struct go_sym (*syms)[2] = ctx;
	const char *name = fn->name;
	size_t j, len;

	for (j = 0; name && j < NR_GO_FUNCS; j++) {
		len = strlen(go_funcs[j].name);
		if (strncmp(name, go_funcs[j].name, len))
			continue;
		if (!name[len])
			syms[j][fn->is_asm] = (struct go_sym){ fn->start,
							       fn->size };
		else if (!strcmp(name + len, ".abi0"))
			syms[j][1] = (struct go_sym){ fn->start, fn->size };
	}
	return 0;
}

/*
 * The listed functions' symbols; false when the object is no Go program
 * (no runtime.goexit: a C program's own function called gogo is not the
 * runtime's).
 */
static bool find_syms(Elf *elf, const struct gopcln *pcln,
		      struct go_sym (*syms)[2])
{
	for_each_func(elf, pcln, sym_note, syms);
	/* go_funcs[0] is runtime.goexit */
	return syms[0][0].size || syms[0][1].size;
}

static bool mem_at_rsp(const cs_x86_op *op, __s64 *disp)
{
	if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RSP ||
	    op->mem.index != X86_REG_INVALID || op->mem.segment !=
	    X86_REG_INVALID || op->mem.disp < 0 || op->mem.disp > 4096)
		return false;
	*disp = op->mem.disp;
	return true;
}

/* A two-operand instruction id, dst register, src operand. */
static bool insn_is(const cs_insn *in, unsigned int id, x86_reg *dst,
		    const cs_x86_op **src)
{
	const cs_x86 *x = &in->detail->x86;

	if (in->id != id || x->op_count != 2 ||
	    x->operands[0].type != X86_OP_REG || x->operands[0].size != 8)
		return false;
	*dst = x->operands[0].reg;
	*src = &x->operands[1];
	return true;
}

/*
 * Whether the code from here reaches a ret with rsp left alone (it
 * holds the caller's return address the rules read at rsp + 0).
 */
static bool ret_follows(csh cs, cs_insn *in, const __u8 *code, size_t len,
			uint64_t addr)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr, i;
	int k;

	for (k = 0; k < GO_EPILOGUE_MAX; k++) {
		if (!cs_disasm_iter(cs, &code, &len, &addr, in))
			return false;
		if (in->id == X86_INS_RET)
			return true;
		if (cs_regs_access(cs, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
			return false;
		for (i = 0; i < nwr; i++)
			if (wr[i] == X86_REG_RSP || wr[i] == X86_REG_ESP)
				return false;
	}
	return false;
}

/*
 * The rule of the frame returned to at the end of in's call, from the
 * instructions after it (code from there, len bytes, at address addr):
 * 0 with *type and offsets set, -ENOENT when they are neither epilogue.
 */
static int epilogue(csh cs, cs_insn *in, const __u8 *code, size_t len,
		    uint64_t addr, __u8 *type, __s32 *off1, __s32 *off2)
{
	const cs_x86_op *src;
	__s64 d1, d2 = 0;
	x86_reg r1, r2, r;
	bool go_stack;
	int k;

	if (!cs_disasm_iter(cs, &code, &len, &addr, in) ||
	    !insn_is(in, X86_INS_MOV, &r1, &src) || !mem_at_rsp(src, &d1) ||
	    !cs_disasm_iter(cs, &code, &len, &addr, in))
		return -ENOENT;
	/* Already on the system stack: the caller's rsp itself. */
	if (insn_is(in, X86_INS_MOV, &r, &src) && r == X86_REG_RSP &&
	    src->type == X86_OP_REG && src->reg == r1) {
		if (!ret_follows(cs, in, code, len, addr))
			return -ENOENT;
		*type = MS_CFA_DEREF_RSP;
		*off1 = d1;
		*off2 = 0;
		return 0;
	}
	/* g in r1: its stack.hi (offset 8), less the depth saved at d2. */
	go_stack = insn_is(in, X86_INS_MOV, &r2, &src) &&
		   src->type == X86_OP_MEM && src->mem.base == r1 &&
		   src->mem.index == X86_REG_INVALID && src->mem.disp == 8 &&
		   src->mem.segment == X86_REG_INVALID &&
		   cs_disasm_iter(cs, &code, &len, &addr, in) &&
		   insn_is(in, X86_INS_SUB, &r, &src) && r == r2 &&
		   mem_at_rsp(src, &d2);
	if (!go_stack)
		return -ENOENT;
	/* Then rsp from r2, nothing writing r2 or rsp before. */
	for (k = 0; k < GO_EPILOGUE_MAX; k++) {
		cs_regs rd, wr;
		uint8_t nrd, nwr, i;

		if (!cs_disasm_iter(cs, &code, &len, &addr, in))
			return -ENOENT;
		if (insn_is(in, X86_INS_MOV, &r, &src) && r == X86_REG_RSP) {
			if (src->type != X86_OP_REG || src->reg != r2 ||
			    !ret_follows(cs, in, code, len, addr))
				return -ENOENT;
			*type = MS_CFA_GO_STACK;
			*off1 = d1;
			*off2 = d2;
			return 0;
		}
		if (cs_regs_access(cs, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
			return -ENOENT;
		for (i = 0; i < nwr; i++)
			if (wr[i] == r2 || wr[i] == X86_REG_RSP ||
			    wr[i] == X86_REG_ESP)
				return -ENOENT;
	}
	return -ENOENT;
}

/*
 * asmcgocall: a stop as a whole, and at each return from an indirect
 * call (the C function) the rule its epilogue says, as the row of the
 * call's last byte: a return address is looked up at pc - 1, and no
 * instruction starts there, so no interrupted pc takes it.
 */
static int cgocall_rules(struct rules *r, const struct go_sym *s,
			 const struct go_object *obj)
{
	size_t len = s->size < GO_CODE_MAX ? s->size : GO_CODE_MAX, left;
	__u8 code[GO_CODE_MAX], type;
	const __u8 *p = code;
	__s32 off1, off2;
	uint64_t addr = s->start, ret;
	cs_insn *in = NULL;
	csh cs;
	int err;

	err = rule_add(r, s->start, s->start + s->size, MS_CFA_UNSUPPORTED,
		       0, 0);
	if (err || obj->code(obj->ctx, s->start, code, len))
		return err;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	if (cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK ||
	    !(in = cs_malloc(cs))) {
		err = -ENOMEM;
		goto close;
	}
	left = len;
	while (cs_disasm_iter(cs, &p, &left, &addr, in)) {
		const cs_x86 *x = &in->detail->x86;

		if (in->id != X86_INS_CALL || x->op_count != 1 ||
		    x->operands[0].type != X86_OP_REG || in->size < 2)
			continue;
		ret = addr;
		if (epilogue(cs, in, p, left, ret, &type, &off1, &off2)) {
			/* in was reused: decode on from ret again */
			continue;
		}
		err = rule_add(r, ret - 1, ret, type, off1, off2);
		if (err)
			break;
	}
	cs_free(in, 1);
close:
	cs_close(&cs);
	return err;
}

/*
 * Whether an instruction (Intel syntax, as Capstone prints it) sets rsp
 * in a way Go's CFI does not follow: anything but adding or subtracting
 * a constant, or an lea from rsp itself.
 */
static bool rsp_unmodeled(const cs_insn *in)
{
	const char *m = in->mnemonic, *op = in->op_str;

	if (!strcmp(m, "leave") || (strstr(op, "rsp") && !strcmp(m, "xchg")))
		return true;
	if (!strcmp(op, "rsp"))
		return !strcmp(m, "pop");
	if (strncmp(op, "rsp, ", 5))
		return false;
	op += 5;
	if (!strcmp(m, "add") || !strcmp(m, "sub"))
		return !(op[0] >= '0' && op[0] <= '9');
	if (!strcmp(m, "lea"))
		return strncmp(op, "[rsp", 4) != 0;
	return strcmp(m, "cmp") && strcmp(m, "test");
}

/*
 * Every Go function (not described by .eh_frame) that sets rsp as its
 * CFI cannot tell: a stop from that instruction to its end. One pass
 * over .symtab; the code read a function at a time, at most
 * GO_SCAN_MAX of it.
 */
#define GO_SCAN_MAX	(1u << 20)

struct scan {
	struct rules *r;
	const struct go_object *obj;
	uint8_t *code;
	csh cs;
	cs_insn *in;
};

/* for_each_func's fn: the function's stop, if it has one. */
static int scan_func(void *ctx, const struct go_func *fn)
{
	struct scan *sc = ctx;
	size_t len = fn->size < GO_SCAN_MAX ? fn->size : GO_SCAN_MAX;
	const uint8_t *p = sc->code;
	uint64_t addr = fn->start;

	if (sc->obj->eh_frame(sc->obj->ctx, fn->start) ||
	    sc->obj->code(sc->obj->ctx, fn->start, sc->code, len))
		return 0;
	while (cs_disasm_iter(sc->cs, &p, &len, &addr, sc->in)) {
		if (rsp_unmodeled(sc->in))
			return rule_add(sc->r, sc->in->address,
					fn->start + fn->size,
					MS_CFA_UNSUPPORTED, 0, 0);
	}
	return 0;
}

static int scan_rules(struct rules *r, Elf *elf, const struct go_object *obj)
{
	struct scan sc = { .r = r, .obj = obj };
	int err = -ENOMEM;

	sc.code = malloc(GO_SCAN_MAX);
	if (!sc.code)
		return -ENOMEM;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &sc.cs) != CS_ERR_OK)
		goto free_code;
	sc.in = cs_malloc(sc.cs);
	if (sc.in) {
		err = for_each_func(elf, obj->pcln, scan_func, &sc);
		cs_free(sc.in, 1);
	}
	cs_close(&sc.cs);
free_code:
	free(sc.code);
	return err;
}

int unwind_go__rules(Elf *elf, const struct go_object *obj,
		     struct go_rule **out, size_t *nr)
{
	struct go_sym syms[NR_GO_FUNCS][2] = {};
	struct rules r = {};
	const struct go_sym *s;
	size_t j;
	int err;

	*out = NULL;
	*nr = 0;
	if (!find_syms(elf, obj->pcln, syms))
		return 0;
	/* First: the runtime's own rules below hold over these. */
	err = scan_rules(&r, elf, obj);
	for (j = 0; j < NR_GO_FUNCS && !err; j++) {
		s = syms[j][1].size ? &syms[j][1] : &syms[j][0];
		/* not in the program (for_each_func left out wrapping ones) */
		if (!s->size)
			continue;
		switch (go_funcs[j].kind) {
		case GO_END:
			err = rule_add(&r, s->start, s->start + s->size,
				       MS_CFA_UNDEFINED, 0, 0);
			break;
		case GO_STOP:
			err = rule_add(&r, s->start, s->start + s->size,
				       MS_CFA_UNSUPPORTED, 0, 0);
			break;
		case GO_CGOCALL:
			err = cgocall_rules(&r, s, obj);
			break;
		}
	}
	if (err) {
		free(r.v);
		return err;
	}
	*out = r.v;
	*nr = r.nr;
	return 0;
}
