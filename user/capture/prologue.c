/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Probe placement on x86-64: decode the whole function with Capstone,
 * whose detail mode gives each instruction's branch target and the
 * registers it reads and writes, then walk the straight path from the
 * entry to the first instruction the kernel emulates.
 *
 * What the kernel emulates (arch/x86/kernel/uprobes.c,
 * arch_uprobe_analyze_insn()), everything else being single-stepped out of
 * line, endbr64 included:
 *  - branch_setup_xol_ops(): jmp rel8/rel32, call rel32, jcc rel8/rel32, but
 *    it refuses the probe outright when a branch has a 0x66 prefix;
 *  - push_setup_xol_ops(): push 0x50-0x57 with no prefix at all or exactly
 *    REX 0x41 (r8-r15); any other prefix falls back to single-stepping;
 *  - nops: 0x90 for long (its "prefix* + nop" case); since 6.16
 *    (610f6e14c29d "uprobes/x86: Add support to emulate NOP instructions")
 *    also the multi-byte x86_nops[] (0f 1f /0, 66 0f 1f /0, 66 90), which
 *    later kernels widen to insn_is_nop(). That one rejects "41 90"
 *    (xchg %r8d,%eax) and pause (f3 90), and so do we. Before 6.16 the
 *    multi-byte forms were single-stepped.
 * is_prefix_bad() makes registration fail on cs/ds/es/ss and lock prefixes,
 * so such an instruction is never a site. Branches are taken as emulated
 * only without any prefix: that is what was measured.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>
#include <linux/types.h>

#include "events.h"
#include "prologue.h"
#include "table.h"

#define MAX_INSN_LEN	15
#define NR_ARGS		3
/* What insn_writes() says of an instruction that moves rsp or *rsp. */
#define NEED_RSP	PROLOGUE_RET_AT_SP

static const struct {
	const char *key;
	const char *text;
} reasons[NR_PROLOGUE_REASONS] = {
#define PROLOGUE_REASON_ROW(id, k, t)	[PROLOGUE_##id] = { k, t },
	PROLOGUE_REASONS(PROLOGUE_REASON_ROW)
#undef PROLOGUE_REASON_ROW
};

const char *prologue__reason_key(enum prologue_reason r)
{
	return (unsigned int)r < NR_PROLOGUE_REASONS ? reasons[r].key : "?";
}

const char *prologue__reason_text(enum prologue_reason r)
{
	return (unsigned int)r < NR_PROLOGUE_REASONS ? reasons[r].text : "?";
}

/* The kernel's rules above, on the bytes of one decoded instruction. */
static bool emulated_bytes(const unsigned char *b, size_t n)
{
	bool opsize = false, other = false;
	unsigned char rex = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (b[i]) {
		case 0x66:
			opsize = true;
			continue;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
		case 0xf0:
			return false;	/* is_prefix_bad(): no probe at all */
		case 0x64:
		case 0x65:
		case 0x67:
		case 0xf2:
		case 0xf3:
			other = true;
			continue;
		}
		break;
	}
	if (i < n && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i >= n)
		return false;

	switch (b[i]) {
	case 0x50 ... 0x57:
		return !opsize && !other && (!rex || rex == 0x41);
	case 0x90:	/* with REX.B this is xchg, not a nop */
		return !other && !rex;
	case 0x70 ... 0x7f:
	case 0xe8:
	case 0xe9:
	case 0xeb:
		return !opsize && !other && !rex;
	case 0x0f:
		if (i + 1 >= n || other || rex)
			return false;
		if (b[i + 1] >= 0x80 && b[i + 1] <= 0x8f)
			return !opsize;
		/* nopl/nopw: 0f 1f with ModRM.reg 0 */
		return b[i + 1] == 0x1f && i + 2 < n &&
		       ((b[i + 2] >> 3) & 7) == 0;
	default:
		return false;
	}
}

/*
 * The general-purpose register r is part of, as an enum ms_arg_reg (0:
 * none of those, e.g. rsp, rbp, rip). Only a 64-bit register is the
 * whole of it: *whole says so.
 */
static unsigned int reg_gpr(uint16_t r, bool *whole)
{
	static const struct {
		uint16_t r64, r32, r16, r8;
		unsigned int gpr;
	} gprs[] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, MS_REG_RAX },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, MS_REG_RBX },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, MS_REG_RCX },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, MS_REG_RDX },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, MS_REG_RSI },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, MS_REG_RDI },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, MS_REG_R8 },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, MS_REG_R9 },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B,
		  MS_REG_R10 },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B,
		  MS_REG_R11 },
		{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B,
		  MS_REG_R12 },
		{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B,
		  MS_REG_R13 },
		{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B,
		  MS_REG_R14 },
		{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B,
		  MS_REG_R15 },
	};
	size_t i;

	*whole = false;
	if (r == X86_REG_AH || r == X86_REG_BH || r == X86_REG_CH ||
	    r == X86_REG_DH)
		return r == X86_REG_AH ? MS_REG_RAX : r == X86_REG_BH ?
		       MS_REG_RBX : r == X86_REG_CH ? MS_REG_RCX : MS_REG_RDX;
	for (i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++) {
		if (r == gprs[i].r64)
			*whole = true;
		if (r == gprs[i].r64 || r == gprs[i].r32 ||
		    r == gprs[i].r16 || r == gprs[i].r8)
			return gprs[i].gpr;
	}
	return 0;
}

static bool is_rsp(uint16_t r)
{
	return r == X86_REG_RSP || r == X86_REG_ESP || r == X86_REG_SP ||
	       r == X86_REG_SPL;
}

/*
 * The registers in writes (explicitly or not): the general ones into
 * *gprs (1 << enum ms_arg_reg), and whether rsp and rbp (or part of
 * them). -1 when Capstone cannot say, everything then said written.
 */
static int regs_written(csh cs, const cs_insn *in, unsigned int *gprs,
			bool *rsp, bool *rbp)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr, i;
	bool whole;

	*rsp = *rbp = false;
	*gprs = 0;
	if (cs_regs_access(cs, in, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
		*rsp = *rbp = true;
		*gprs = ~0u;
		return -1;
	}
	for (i = 0; i < nwr; i++) {
		*rsp |= is_rsp(wr[i]);
		*rbp |= wr[i] == X86_REG_RBP || wr[i] == X86_REG_EBP ||
			wr[i] == X86_REG_BP || wr[i] == X86_REG_BPL;
		*gprs |= 1u << reg_gpr(wr[i], &whole);
	}
	return 0;
}

/*
 * What an instruction changes that placement cares about: the general
 * registers it writes (explicitly or not; 1 << enum ms_arg_reg) into
 * *gprs, and as the return value whether it writes rsp or stores through
 * it (it may overwrite the return address): NEED_RSP. -1 when Capstone
 * cannot say.
 */
static int insn_writes(csh cs, const cs_insn *in, unsigned int *gprs)
{
	const cs_x86 *x = &in->detail->x86;
	bool rsp, rbp;
	uint8_t i;
	int w;

	if (regs_written(cs, in, gprs, &rsp, &rbp))
		return -1;
	w = rsp ? NEED_RSP : 0;
	for (i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM &&
		    (x->operands[i].access & CS_AC_WRITE) &&
		    is_rsp(x->operands[i].mem.base))
			w |= NEED_RSP;
	return w;
}

/* Capstone 4's cs_free() reads the array it frees: NULL is not one. */
static void insn_free(cs_insn *in)
{
	if (in)
		cs_free(in, 1);
}

/*
 * A decoder that gives instruction details, with one instruction to
 * decode into: 0, or -ENOMEM with nothing left open. decoder_close() ends
 * it.
 */
static int decoder_open(csh *cs, cs_insn **in)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, cs) != CS_ERR_OK)
		return -ENOMEM;
	if (cs_option(*cs, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK ||
	    !(*in = cs_malloc(*cs))) {
		cs_close(cs);
		return -ENOMEM;
	}
	return 0;
}

static void decoder_close(csh *cs, cs_insn *in)
{
	insn_free(in);
	cs_close(cs);
}

static bool is_branch(csh cs, const cs_insn *in)
{
	return cs_insn_group(cs, in, CS_GRP_JUMP) ||
	       cs_insn_group(cs, in, CS_GRP_CALL);
}

/* A direct branch's target, as an offset into the function (base 0). */
static bool branch_target(csh cs, const cs_insn *in, uint64_t *to)
{
	const cs_x86 *x = &in->detail->x86;

	if (!is_branch(cs, in) || x->op_count != 1 ||
	    x->operands[0].type != X86_OP_IMM)
		return false;
	*to = (uint64_t)x->operands[0].imm;
	return true;
}

/* Instructions execution never falls through: jumps, returns, traps. */
static bool no_fallthrough(csh cs, const cs_insn *in)
{
	return in->id == X86_INS_JMP || in->id == X86_INS_UD2 ||
	       in->id == X86_INS_HLT || cs_insn_group(cs, in, CS_GRP_RET);
}

/* Instructions after which the straight path does not go on. */
static bool ends_path(csh cs, const cs_insn *in)
{
	return no_fallthrough(cs, in) || in->id == X86_INS_CALL ||
	       cs_insn_group(cs, in, CS_GRP_INT) ||
	       cs_insn_group(cs, in, CS_GRP_IRET) ||
	       cs_insn_group(cs, in, CS_GRP_PRIVILEGE);
}

/*
 * mov %src,%dst between 64-bit general registers: dst then holds what src
 * held. 0 when the instruction is not one.
 */
static bool is_copy(const cs_insn *in, unsigned int *dst, unsigned int *src)
{
	const cs_x86 *x = &in->detail->x86;
	bool wd, ws;

	if (in->id != X86_INS_MOV || x->op_count != 2 ||
	    x->operands[0].type != X86_OP_REG ||
	    x->operands[1].type != X86_OP_REG)
		return false;
	*dst = reg_gpr(x->operands[0].reg, &wd);
	*src = reg_gpr(x->operands[1].reg, &ws);
	return wd && ws && *dst && *src;
}

static bool is_null_test(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	return in->id == X86_INS_TEST && x->op_count == 2 &&
	       x->operands[0].type == X86_OP_REG &&
	       x->operands[1].type == X86_OP_REG &&
	       x->operands[0].reg == X86_REG_RDI &&
	       x->operands[1].reg == X86_REG_RDI;
}

struct walk {
	csh cs;
	cs_insn *in;
	const unsigned char *code;
	size_t len;
	/* one bit per byte of the function: some branch of it lands there */
	unsigned char *landed;
	/* at the site: the registers holding each argument's entry value */
	unsigned int holders[NR_ARGS];
};

/* Whether a branch of the function lands in (from, to]. */
static bool landed_in(const struct walk *w, size_t from, size_t to)
{
	size_t b;

	for (b = from + 1; b <= to && b < w->len; b++)
		if (w->landed[b / 8] & (1u << (b % 8)))
			return true;
	return false;
}

/*
 * Every direct branch target inside the function, by decoding it all from
 * the entry. An indirect branch's targets are unknown: compilers use them
 * for switch tables, whose cases are never the entry's straight path
 * (the switch is reached from it), and for tail calls, which leave.
 */
static enum prologue_reason mark_targets(struct walk *w)
{
	const uint8_t *p = w->code;
	size_t left = w->len;
	uint64_t addr = 0, to;

	while (left) {
		if (!cs_disasm_iter(w->cs, &p, &left, &addr, w->in))
			return PROLOGUE_UNDECODABLE;
		if (branch_target(w->cs, w->in, &to) && to < w->len)
			w->landed[to / 8] |= 1u << (to % 8);
	}
	return PROLOGUE_NONE;
}

/*
 * Walks the straight path from the entry. An instruction is the site when
 * the kernel emulates it: the walk only got there past instructions that
 * leave what the probe reads in place, every call got there (no
 * conditional branch but a skippable NULL check, no branch into the bytes
 * walked), and the probe fires before the site itself runs. On success
 * *site is its offset; else the reason the walk stopped.
 */
static enum prologue_reason walk_path(struct walk *w, unsigned int needs,
				      size_t *site)
{
	static const unsigned int abi[NR_ARGS] = {
		MS_REG_RDI, MS_REG_RSI, MS_REG_RDX,
	};
	const uint8_t *p = w->code;
	size_t left = w->len, off = 0, fallback = 0;
	bool null_tested = false, have_fallback = false;
	enum prologue_reason why = PROLOGUE_PATH_ENDS;
	/* the registers holding each argument's entry value */
	unsigned int holders[NR_ARGS], gprs, dst, src, i;
	uint64_t addr = 0;
	int wr;

	for (i = 0; i < NR_ARGS; i++)
		holders[i] = 1u << abi[i];

	while (left) {
		if (!cs_disasm_iter(w->cs, &p, &left, &addr, w->in)) {
			why = PROLOGUE_UNDECODABLE;
			break;
		}
		if (emulated_bytes(w->in->bytes, w->in->size)) {
			/*
			 * The NULL check's je only lets free(NULL) out: go on
			 * to a site non-NULL calls alone reach, keeping the je
			 * in case the walk finds none.
			 */
			if (!(null_tested && w->in->id == X86_INS_JE &&
			      (needs & PROLOGUE_SKIP_NULL_CHECK))) {
				*site = off;
				memcpy(w->holders, holders, sizeof(holders));
				return PROLOGUE_NONE;
			}
			fallback = off;
			have_fallback = true;
			memcpy(w->holders, holders, sizeof(holders));
		} else {
			if (ends_path(w->cs, w->in))
				break;
			if (is_branch(w->cs, w->in)) {
				why = PROLOGUE_CONDITIONAL;
				break;
			}
			wr = insn_writes(w->cs, w->in, &gprs);
			if (wr < 0) {
				why = PROLOGUE_UNDECODABLE;
				break;
			}
			if ((wr & NEED_RSP) && (needs & PROLOGUE_RET_AT_SP)) {
				why = PROLOGUE_STACK_CHANGED;
				break;
			}
			if ((needs & PROLOGUE_RCX) &&
			    (gprs & 1u << MS_REG_RCX)) {
				why = PROLOGUE_ARG_WRITTEN;
				break;
			}
			/* a copy adds its destination; any write removes it */
			for (i = 0; i < NR_ARGS; i++) {
				if (is_copy(w->in, &dst, &src) &&
				    (holders[i] & 1u << src))
					holders[i] |= 1u << dst;
				else
					holders[i] &= ~gprs;
				if (!holders[i] && (needs & 1u << i)) {
					why = PROLOGUE_ARG_WRITTEN;
					break;
				}
			}
			if (why == PROLOGUE_ARG_WRITTEN)
				break;
			null_tested = is_null_test(w->in) &&
				      (holders[0] & 1u << MS_REG_RDI);
		}
		/*
		 * The walk skips these bytes now: a branch landing in them,
		 * or on the next instruction, reaches it without a call.
		 */
		if (landed_in(w, off, off + w->in->size)) {
			why = PROLOGUE_BRANCH_TARGET;
			break;
		}
		off += w->in->size;
	}
	if (!have_fallback)
		return why;
	*site = fallback;
	return PROLOGUE_NONE;
}

/* Each argument from its own register while it holds it, else a copy. */
static void set_arg_regs(struct prologue_site *out,
			 const unsigned int *holders)
{
	static const unsigned int abi[NR_ARGS] = {
		MS_REG_RDI, MS_REG_RSI, MS_REG_RDX,
	};
	unsigned int i, r;

	for (i = 0; i < NR_ARGS; i++) {
		out->arg_reg[i] = MS_REG_ABI;
		if (!holders[i] || holders[i] & 1u << abi[i])
			continue;
		for (r = MS_REG_RAX; r <= MS_REG_R15; r++)
			if (holders[i] & 1u << r)
				break;
		out->arg_reg[i] = r;
	}
}

int prologue__place(const unsigned char *code, size_t len, unsigned int needs,
		    struct prologue_site *out)
{
	struct walk w = { .code = code, .len = len };
	size_t site = 0;
	int err = 0;

	out->offset = 0;
	out->emulated = false;
	memset(out->arg_reg, MS_REG_ABI, sizeof(out->arg_reg));
	if (!code || !len) {
		out->reason = PROLOGUE_NO_CODE;
		return 0;
	}
	out->emulated = prologue__emulated(code, len);
	out->reason = out->emulated ? PROLOGUE_NONE : PROLOGUE_TOO_LARGE;
	if (out->emulated || len > PROLOGUE_MAX_BYTES)
		return 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &w.cs) != CS_ERR_OK)
		return -ENOMEM;
	w.landed = calloc(len / 8 + 1, 1);
	if (cs_option(w.cs, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK ||
	    !w.landed || !(w.in = cs_malloc(w.cs))) {
		err = -ENOMEM;
		out->reason = PROLOGUE_UNDECODABLE;
		goto out_close;
	}
	out->reason = mark_targets(&w);
	if (out->reason == PROLOGUE_NONE)
		out->reason = walk_path(&w, needs, &site);
	if (out->reason == PROLOGUE_NONE) {
		out->offset = site;
		out->emulated = true;
		set_arg_regs(out, w.holders);
	}
	cs_free(w.in, 1);
out_close:
	free(w.landed);
	cs_close(&w.cs);
	return err;
}

/*
 * Every branch out of a function, on every path its own control flow
 * reaches from the entry (an exception's landing pad is not among them,
 * and is entered only when the place called threw, having allocated
 * nothing): leave() is told each direct call or jump that lands outside
 * its len bytes, with the offset its call returns to. An indirect call
 * (a handler the program installed) returns into the function, and is
 * told as a call to PROLOGUE_INDIRECT; an indirect jump, a system call,
 * undecodable bytes or falling off the end fail: the function could then
 * go anywhere. 0, -ENOENT (failed, or leave() refused), -ENOMEM.
 */
typedef bool (*leave_fn)(void *ctx, __s64 to, bool call, size_t ret);

static int exits_walk(const unsigned char *code, size_t len, leave_fn leave,
		      void *ctx)
{
	unsigned char *seen = NULL;
	size_t *todo = NULL, nr_todo = 0, off, left;
	int err = -ENOENT;
	const uint8_t *p;
	uint64_t addr, to;
	cs_insn *in = NULL;
	bool ended;
	csh cs;

	if (!code || !len || len > PROLOGUE_MAX_BYTES)
		return -ENOENT;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	seen = calloc(len / 8 + 1, 1);
	todo = malloc(len * sizeof(*todo));
	if (cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK || !seen ||
	    !todo || !(in = cs_malloc(cs))) {
		err = -ENOMEM;
		goto out;
	}
	todo[nr_todo++] = 0;
	while (nr_todo) {
		off = todo[--nr_todo];
		ended = false;
		while (!ended && off < len &&
		       !(seen[off / 8] & 1u << (off % 8))) {
			seen[off / 8] |= 1u << (off % 8);
			p = code + off;
			left = len - off;
			addr = off;
			if (!cs_disasm_iter(cs, &p, &left, &addr, in) ||
			    in->id == X86_INS_SYSCALL ||
			    in->id == X86_INS_SYSENTER ||
			    cs_insn_group(cs, in, CS_GRP_INT))
				goto out;
			off = addr;
			ended = no_fallthrough(cs, in);
			if (!is_branch(cs, in))
				continue;
			if (!branch_target(cs, in, &to)) {
				/* an indirect jump may go anywhere */
				if (in->id != X86_INS_CALL ||
				    !leave(ctx, PROLOGUE_INDIRECT, true, off))
					goto out;
				continue;
			}
			if (to >= len) {
				if (!leave(ctx, (__s64)to,
					   in->id == X86_INS_CALL, off))
					goto out;
			} else if (nr_todo < len) {
				todo[nr_todo++] = to;
			}
		}
		/* falling off the end runs into whatever follows */
		if (!ended && off >= len)
			goto out;
	}
	err = 0;
out:
	insn_free(in);
	free(todo);
	free(seen);
	cs_close(&cs);
	return err;
}

struct one_exit {
	__s64 target;
	bool found, calls;
};

/* A place the function leaves for: the first, or the same again. */
static bool leave_to(void *ctx, __s64 to, bool call, size_t ret)
{
	struct one_exit *x = ctx;

	(void)ret;
	if (to == PROLOGUE_INDIRECT || (x->found && to != x->target))
		return false;
	x->target = to;
	x->found = true;
	x->calls |= call;
	return true;
}

int prologue__exit(const unsigned char *code, size_t len, __s64 *target,
		   bool *calls)
{
	struct one_exit x = {};
	int err = exits_walk(code, len, leave_to, &x);

	*calls = x.calls;
	*target = x.target;
	if (err)
		return err;
	return x.found ? 0 : -ENOENT;
}

struct all_exits {
	struct prologue_exit *out;
	size_t max, nr;
};

static bool leave_note(void *ctx, __s64 to, bool call, size_t ret)
{
	struct all_exits *x = ctx;

	if (x->nr == x->max)
		return false;
	x->out[x->nr++] = (struct prologue_exit){
		.target = to, .calls = call, .ret = call ? ret : 0,
	};
	return true;
}

int prologue__exits(const unsigned char *code, size_t len,
		    struct prologue_exit *out, size_t max, size_t *nr)
{
	struct all_exits x = { .out = out, .max = max };
	int err = exits_walk(code, len, leave_note, &x);

	*nr = err ? 0 : x.nr;
	return err;
}

/*
 * Decodes code from its start, one instruction after another, giving each
 * to fn(ctx, cs, in, next) (next: the offset after it) until fn returns
 * non-zero: 1 when fn stopped, 0 when every byte was decoded, -ENOENT
 * when an instruction could not be (or cut by len), -ENOMEM.
 */
static int linear_walk(const unsigned char *code, size_t len,
		       bool (*fn)(void *ctx, csh cs, const cs_insn *in,
				  size_t next),
		       void *ctx)
{
	const uint8_t *p = code;
	uint64_t addr = 0;
	size_t left = len;
	cs_insn *in;
	csh cs;
	int err;

	if (!code || !len || len > PROLOGUE_MAX_BYTES)
		return -ENOENT;
	err = decoder_open(&cs, &in);
	if (err)
		return err;
	while (left && !err) {
		if (!cs_disasm_iter(cs, &p, &left, &addr, in))
			err = -ENOENT;
		else if (fn(ctx, cs, in, addr))
			err = 1;
	}
	decoder_close(&cs, in);
	return err;
}

/* linear_walk's fn: the first instruction not falling through ends. */
static bool straight_end(void *ctx, csh cs, const cs_insn *in, size_t next)
{
	size_t *end = ctx;

	if (!no_fallthrough(cs, in) && in->id != X86_INS_LJMP &&
	    !cs_insn_group(cs, in, CS_GRP_IRET))
		return false;
	*end = next;
	return true;
}

int prologue__straight(const unsigned char *code, size_t len, size_t *end)
{
	int err = linear_walk(code, len, straight_end, end);

	return err == 1 ? 0 : err == -ENOMEM ? err : -ENOENT;
}

struct rip_leas {
	__s64 *out;
	size_t max, nr;
};

/* linear_walk's fn: each rip-relative lea's address, up to max. */
static bool rip_lea(void *ctx, csh cs, const cs_insn *in, size_t next)
{
	struct rip_leas *l = ctx;
	const cs_x86_op *src;

	(void)cs;
	if (in->id != X86_INS_LEA || in->detail->x86.op_count != 2)
		return false;
	src = &in->detail->x86.operands[1];
	if (src->type == X86_OP_MEM && src->mem.base == X86_REG_RIP &&
	    src->mem.index == X86_REG_INVALID)
		l->out[l->nr++] = (__s64)next + src->mem.disp;
	return l->nr == l->max;
}

int prologue__rip_leas(const unsigned char *code, size_t len, __s64 *out,
		       size_t max, size_t *nr)
{
	struct rip_leas l = { .out = out, .max = max };
	int err = max ? linear_walk(code, len, rip_lea, &l) : 0;

	*nr = l.nr;
	return err < 0 ? err : 0;
}

/* Look-ahead of a prologue: endbr64, push %rbp, 3 instructions, the mov. */
#define FP_PROLOGUE_MAX		(4 + 1 + 4 * MAX_INSN_LEN)
/* Bytes kept back at a chunk's end, unless it is the last. */
#define FP_KEEP			(MAX_INSN_LEN + FP_PROLOGUE_MAX)
/*
 * Code after a prologue taken for its function's, at most: where no new
 * prologue comes (code without frame pointers after one function that
 * keeps one), what is held for the function stays bounded.
 */
#define FP_MAX_FUNC		(1u << 20)
/*
 * Rounds of fp_resolve's fixed point, at most. Each round's findings
 * follow from the last's, so stopping short keeps fewer runs, none
 * wrongly: real code settles in a few rounds, and code made to take a
 * round per run costs rounds times its jumps, bounded.
 */
#define FP_MAX_ROUNDS		32
/* Cases of a switch's table read, at most. */
#define FP_MAX_CASES		4096
#define FP_NONE			UINT64_MAX

enum fp_state {
	FP_FRAME,	/* rbp is the frame's */
	FP_EPILOGUE,	/* rbp popped: rsp points at the return address */
	FP_DEAD,	/* rbp written otherwise: no rule */
};

/*
 * A run of a function's code that execution does not fall into from the
 * run before it (it follows a jump, a return, a trap or a write to rbp):
 * it keeps the frame only from where a jump made with the frame set lands
 * (from), the first run, at the prologue, from its start.
 */
struct fp_run {
	__u64 start;
	__u64 from;		/* FP_NONE: no such jump lands in it */
	bool dead;		/* after a write to rbp, or padding */
};

/* A rule the run gives from pc, if the run's start keeps the frame. */
struct fp_row {
	__u64 pc;
	__u32 run;
	enum prologue_fp_rule rule;
};

/* A direct jump made with the frame set, at pc in run, to target. */
struct fp_jump {
	__u64 pc;
	__u64 target;
	__u32 run;
};

#define FP_VEC(type, name)	type *name; size_t nr_##name, cap_##name

/*
 * A switch through a table of 32-bit offsets from the table, as compilers
 * emit it, followed instruction by instruction in the current run:
 *	cmp $max,%idx; ja default	(or jae: the bound)
 *	lea table(%rip),%base		(or before the cmp)
 *	movslq (%base,%idx,4),%dst
 *	add %base,%dst
 *	jmp *%dst
 * Each register an enum ms_arg_reg (0: none yet).
 */
struct fp_switch {
	unsigned int cmp_reg;	/* the last instruction was cmp $imm,%reg */
	__s64 cmp_imm;
	unsigned int idx;	/* the index, its bound known from the jcc */
	__u64 cases;
	unsigned int base;	/* holds the table's address */
	__u64 table;
	unsigned int dst;	/* an entry loaded, then the table added */
	bool added;
};

struct fp_ra {
	bool ok;		/* the code since padding shows where it is */
	unsigned int reg;	/* enum ms_arg_reg it was popped into */
	bool in_reg;		/* and the register still holds it */
	bool top;		/* it was the last push: at rsp */
	int below;		/* bytes rsp is below the entry's */
	unsigned int insns;
};

struct prologue_fp {
	csh cs;
	cs_insn *in;
	prologue_fp_emit emit;
	void *ctx;
	enum prologue_fp_rule rule;	/* the last one emitted */
	__s32 rule_cfa;
	bool held;			/* fp_rule() holds one back */
	__u64 held_pc;
	enum prologue_fp_rule held_rule;
	__s32 held_cfa;
	__u64 next;			/* where the last scan stopped */
	/* the function decoded since its prologue (in_func) */
	bool in_func;
	__u64 func_start;
	enum fp_state state;
	bool run_ends;			/* the last instruction left the run */
	bool run_dead;			/* ... and rbp is no longer the frame's */
	bool moved_sp;			/* rsp moved since a call or a jump */
	/*
	 * The return address popped by a function's first instruction
	 * after padding and pushed again (V8's API-call builtins): where
	 * it is since, while the straight code before a prologue shows it.
	 */
	struct fp_ra ra;
	__s32 func_ra_cfa;		/* the function's: 0, a plain frame */
	enum prologue_fp_rule run_rule;	/* the rule last held for the run */
	struct fp_switch sw;		/* of the current run */
	prologue_fp_read read;
	FP_VEC(struct fp_run, runs);
	FP_VEC(struct fp_row, rows);
	FP_VEC(struct fp_jump, jumps);
};

/* Appends val to the vector name of s: 0 or -ENOMEM. */
#define FP_PUSH(s, name, val)						\
	(tab_grow((void **)&(s)->name, &(s)->cap_##name,		\
		  (s)->nr_##name + 1, sizeof(*(s)->name)) ?:		\
	 ((s)->name[(s)->nr_##name++] = (val), 0))

struct prologue_fp *prologue_fp__new(prologue_fp_emit emit,
				     prologue_fp_read read, void *ctx)
{
	struct prologue_fp *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (decoder_open(&s->cs, &s->in)) {
		free(s);
		return NULL;
	}
	s->emit = emit;
	s->read = read;
	s->ctx = ctx;
	return s;
}

void prologue_fp__free(struct prologue_fp *s)
{
	if (!s)
		return;
	decoder_close(&s->cs, s->in);
	free(s->runs);
	free(s->rows);
	free(s->jumps);
	free(s);
}

/* The rule held back, unless it is the one in force already. */
static int fp_emit_held(struct prologue_fp *s)
{
	if (s->held_rule == s->rule && s->held_cfa == s->rule_cfa)
		return 0;
	s->rule = s->held_rule;
	s->rule_cfa = s->held_cfa;
	return s->emit(s->ctx, s->held_pc, s->held_rule, s->held_cfa);
}

/*
 * The rule from pc on (cfa: PROLOGUE_FP_FRAME_RA's). Held back one call: a
 * later rule at the same pc (a function's end is the next one's prologue)
 * replaces it, so no two rules start at one pc.
 */
static int fp_rule_cfa(struct prologue_fp *s, __u64 pc,
		       enum prologue_fp_rule r, __s32 cfa)
{
	int err = 0;

	if (!s->held || s->held_pc != pc)
		err = s->held ? fp_emit_held(s) : 0;
	s->held = true;
	s->held_pc = pc;
	s->held_rule = r;
	s->held_cfa = cfa;
	return err;
}

static int fp_rule(struct prologue_fp *s, __u64 pc, enum prologue_fp_rule r)
{
	return fp_rule_cfa(s, pc, r, 0);
}

static int fp_flush(struct prologue_fp *s)
{
	int err = s->held ? fp_emit_held(s) : 0;

	s->held = false;
	return err;
}

/* A rule of the current run from pc on, held until the function ends. */
static int fp_row(struct prologue_fp *s, __u64 pc, enum prologue_fp_rule r)
{
	struct fp_row row = { .pc = pc, .run = s->nr_runs - 1, .rule = r };

	if (r == s->run_rule)
		return 0;
	s->run_rule = r;
	return FP_PUSH(s, rows, row);
}

/* A new run at pc whose first rule is first (dead: none). */
static int fp_run(struct prologue_fp *s, __u64 pc, bool dead, __u64 from,
		  enum prologue_fp_rule first)
{
	struct fp_run run = { .start = pc, .from = from, .dead = dead };
	int err = FP_PUSH(s, runs, run);

	s->run_rule = (enum prologue_fp_rule)-1;
	s->state = dead ? FP_DEAD : FP_FRAME;
	s->run_ends = s->run_dead = false;
	memset(&s->sw, 0, sizeof(s->sw));
	return err ?: fp_row(s, pc, dead ? PROLOGUE_FP_NONE : first);
}

/* The run holding pc, -1 when none of this function does. */
static ssize_t fp_run_at(const struct prologue_fp *s, __u64 pc)
{
	size_t lo = 0, hi = s->nr_runs, mid;

	if (!s->nr_runs || pc < s->runs[0].start)
		return -1;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->runs[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

/* Whether run r keeps the frame at pc (pc in r). */
static bool fp_kept(const struct prologue_fp *s, size_t r, __u64 pc)
{
	return s->runs[r].from != FP_NONE && pc >= s->runs[r].from;
}

/*
 * A rule of the function's, as its frame is: a frame made after its return
 * address was pushed again has that rule where a plain one has its own,
 * and none in its prologue and epilogue (rsp there is not the entry's).
 */
static int fp_frame_rule(struct prologue_fp *s, __u64 pc,
			 enum prologue_fp_rule r)
{
	if (!s->func_ra_cfa || r == PROLOGUE_FP_NONE)
		return fp_rule(s, pc, r);
	if (r != PROLOGUE_FP_FRAME)
		return fp_rule(s, pc, PROLOGUE_FP_NONE);
	return fp_rule_cfa(s, pc, PROLOGUE_FP_FRAME_RA, s->func_ra_cfa);
}

/*
 * The function ends at end: which of its runs keep the frame, and from
 * where. The first does from its prologue. A jump made where a run keeps
 * it carries it to where it lands: that run keeps it from there. And a
 * run that jumps, with rbp untouched since its start, to where a run of
 * the function keeps the frame (not to the function's start: that is a
 * call made as a jump) kept it from its start: code of another function
 * never lands inside this one's body, and rbp is the same at both ends of
 * a jump (the cases of a switch, reached through a table of addresses,
 * join the rest so). A function's body is one piece of code: the runs
 * between two that keep the frame are its own and keep it from their
 * start (nothing but a jump of its own lands in them: a case of a switch,
 * a block only an indirect jump reaches). Until nothing changes (or
 * FP_MAX_ROUNDS); then the rules of each run from where it keeps the
 * frame, none elsewhere, emitted in order.
 */
static int fp_resolve(struct prologue_fp *s, __u64 end)
{
	bool changed = true;
	int rounds = 0, err = 0;
	struct fp_run *q;
	ssize_t t;
	size_t i;

	if (!s->in_func)
		return 0;
	s->in_func = false;
	while (changed && rounds++ < FP_MAX_ROUNDS) {
		changed = false;
		for (i = 0; i < s->nr_jumps; i++) {
			const struct fp_jump *j = &s->jumps[i];

			t = j->target < end ? fp_run_at(s, j->target) : -1;
			if (t < 0 || s->runs[t].dead)
				continue;
			q = &s->runs[t];
			if (fp_kept(s, j->run, j->pc) &&
			    !fp_kept(s, t, j->target)) {
				q->from = j->target;
				changed = true;
			} else if (!fp_kept(s, j->run, j->pc) &&
				   fp_kept(s, t, j->target) &&
				   j->target != s->func_start) {
				s->runs[j->run].from = s->runs[j->run].start;
				changed = true;
			}
		}
		/* the body is one piece: what lies between kept runs is in it */
		for (t = s->nr_runs - 1; t > 0 && s->runs[t].from == FP_NONE;)
			t--;
		for (i = 1; i < (size_t)t; i++) {
			q = &s->runs[i];
			if (!q->dead && q->from != q->start) {
				q->from = q->start;
				changed = true;
			}
		}
	}
	for (i = 0; i < s->nr_rows && !err; i++) {
		const struct fp_row *row = &s->rows[i];
		const struct fp_run *run = &s->runs[row->run];
		bool next_in_run = i + 1 < s->nr_rows &&
				   s->rows[i + 1].run == row->run;
		__u64 upto = next_in_run ? s->rows[i + 1].pc :
			     row->run + 1 < s->nr_runs ?
			     s->runs[row->run + 1].start : end;

		if (run->from == FP_NONE || upto <= run->from) {
			err = fp_rule(s, row->pc, PROLOGUE_FP_NONE);
			continue;
		}
		if (row->pc >= run->from) {
			err = fp_frame_rule(s, row->pc, row->rule);
			continue;
		}
		/* the row holds where the jump lands: the frame's, or none */
		err = fp_rule(s, row->pc, PROLOGUE_FP_NONE) ?:
		      fp_frame_rule(s, run->from,
				    row->rule == PROLOGUE_FP_FRAME ?
				    PROLOGUE_FP_FRAME : PROLOGUE_FP_NONE);
	}
	s->nr_runs = s->nr_rows = s->nr_jumps = 0;
	return err ?: fp_rule(s, end, PROLOGUE_FP_NONE);
}

/* Instructions a compiler schedules between push %rbp and the mov, at most. */
#define FP_PROLOGUE_BETWEEN	3

static bool is_mov_rsp_rbp(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	return in->id == X86_INS_MOV && x->op_count == 2 &&
	       x->operands[0].type == X86_OP_REG &&
	       x->operands[0].reg == X86_REG_RBP &&
	       x->operands[1].type == X86_OP_REG &&
	       x->operands[1].reg == X86_REG_RSP;
}

/*
 * "[endbr64] push %rbp; mov %rsp,%rbp" at code, with up to
 * FP_PROLOGUE_BETWEEN instructions between them that touch neither rsp
 * nor rbp nor branch (GCC schedules some there): its length, with *push
 * the offset of the push; 0 when it is not one.
 */
static size_t fp_prologue(struct prologue_fp *s, const unsigned char *code,
			  size_t len, __u64 addr, size_t *push)
{
	static const unsigned char endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	const uint8_t *p;
	unsigned int gprs;
	size_t at = 0, left;
	uint64_t a;
	bool rsp, rbp;
	int i;

	if (len >= sizeof(endbr64) && !memcmp(code, endbr64, sizeof(endbr64)))
		at = sizeof(endbr64);
	if (len < at + 4 || code[at] != 0x55)
		return 0;
	*push = at;
	p = code + at + 1;
	left = len - at - 1;
	a = addr + at + 1;
	for (i = 0; i <= FP_PROLOGUE_BETWEEN; i++) {
		if (!cs_disasm_iter(s->cs, &p, &left, &a, s->in))
			return 0;
		if (is_mov_rsp_rbp(s->in))
			return p - code;
		regs_written(s->cs, s->in, &gprs, &rsp, &rbp);
		if (rbp || rsp ||
		    ends_path(s->cs, s->in) || is_branch(s->cs, s->in))
			return 0;
	}
	return 0;
}

/*
 * A new function at its prologue, n bytes from pc with the push at push;
 * moved: rsp moved just before it (then no rule holds in it, unless the
 * return address was pushed again just before: s->ra).
 */
static int fp_function(struct prologue_fp *s, __u64 pc, size_t push,
		       size_t n, bool moved)
{
	int err = fp_resolve(s, pc);

	if (err)
		return err;
	s->in_func = true;
	s->func_start = pc;
	s->func_ra_cfa = 0;
	/* the return address pushed again, then rbp: CFA above both */
	if (moved && s->ra.ok && s->ra.top)
		s->func_ra_cfa = s->ra.below + 16;
	s->ra.ok = false;
	if (moved && !s->func_ra_cfa)
		return fp_run(s, pc, true, FP_NONE, PROLOGUE_FP_NONE);
	return fp_run(s, pc, false, pc, PROLOGUE_FP_ENTRY) ?:
	       fp_row(s, pc + push + 1, PROLOGUE_FP_PUSHED) ?:
		      fp_row(s, pc + n, PROLOGUE_FP_FRAME);
}

static bool is_pop_rbp(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	return (in->id == X86_INS_POP && x->op_count == 1 &&
		x->operands[0].type == X86_OP_REG &&
		x->operands[0].reg == X86_REG_RBP) || in->id == X86_INS_LEAVE;
}

/*
 * ud1 (0f b9 /r: clang's traps, "ud1 0x1(%eax),%eax" after a call that
 * does not return) with its ModRM operand: its length, 0 when code is not
 * one. Capstone 4 decodes it as a 2-byte ud2b without the operand, and
 * what follows out of step.
 */
static size_t ud1_len(const unsigned char *code, size_t len)
{
	size_t at = 0, n;
	unsigned char m, mod, rm;

	/* prefixes: operand and address size, REX (same ModRM forms) */
	while (at < len && at < 4 && (code[at] == 0x66 || code[at] == 0x67 ||
				      (code[at] & 0xf0) == 0x40))
		at++;
	if (len < at + 3 || code[at] != 0x0f || code[at + 1] != 0xb9)
		return 0;
	m = code[at + 2];
	mod = m >> 6;
	rm = m & 7;
	n = at + 3;
	if (mod != 3 && rm == 4) {
		if (len < n + 1)
			return 0;
		if (mod == 0 && (code[n] & 7) == 5)
			n += 4;
		n++;
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2 || (mod == 0 && rm == 5))
		n += 4;
	return n <= len ? n : 0;
}

/* The general register of operand i when it is one, else 0. */
static unsigned int op_gpr(const cs_insn *in, int i)
{
	const cs_x86 *x = &in->detail->x86;
	bool whole;

	if (i >= x->op_count || x->operands[i].type != X86_OP_REG)
		return 0;
	return reg_gpr(x->operands[i].reg, &whole);
}

/* Straight code from padding to a prologue that fp_ra_step follows. */
#define FP_RA_INSNS	32

/*
 * Where the return address is in the straight code after padding, before
 * a prologue: popped into a register by the first instruction, then
 * pushed again below what the function pushes meanwhile (V8's API-call
 * builtins). Any other change of rsp, a branch, or a longer way: not
 * known. Padding (int3) is a function's start: compilers do not pad
 * inside one with int3.
 */
static void fp_ra_step(struct prologue_fp *s, bool pad, bool rsp,
		       unsigned int gprs)
{
	const cs_x86 *x = &s->in->detail->x86;
	unsigned int reg = op_gpr(s->in, 0);
	struct fp_ra *ra = &s->ra;

	if (pad) {
		*ra = (struct fp_ra){ .ok = true };
		return;
	}
	if (!ra->ok)
		return;
	if (++ra->insns > FP_RA_INSNS || ends_path(s->cs, s->in) ||
	    is_branch(s->cs, s->in)) {
		ra->ok = false;
		return;
	}
	if (!ra->reg) {
		ra->ok = s->in->id == X86_INS_POP && reg &&
			 x->operands[0].size == 8;
		ra->reg = reg;
		ra->in_reg = true;
		ra->below = -8;
		return;
	}
	if (s->in->id == X86_INS_PUSH) {
		ra->below += 8;
		ra->top = ra->in_reg && reg == ra->reg &&
			  x->operands[0].size == 8;
		return;
	}
	if (rsp)
		ra->ok = false;
	if (gprs & (1u << ra->reg))
		ra->in_reg = false;
}

/*
 * The cases of a switch whose jump is in at pc: each a jump made with the
 * frame set (the switch's own run keeps it, or none of this does), to
 * where its table says; a table that cannot be read gives none.
 */
static int fp_cases(struct prologue_fp *s, __u64 pc)
{
	struct fp_jump j = { .pc = pc, .run = s->nr_runs - 1 };
	__s32 off[64];
	__u64 i, n;
	size_t k;
	int err = 0;

	for (i = 0; i < s->sw.cases && !err; i += n) {
		n = s->sw.cases - i < 64 ? s->sw.cases - i : 64;
		if (s->read(s->ctx, s->sw.table + 4 * i, off, 4 * n))
			return 0;
		for (k = 0; k < n && !err; k++) {
			j.target = s->sw.table +
				   (__s64)(__s32)le32toh((__u32)off[k]);
			err = FP_PUSH(s, jumps, j);
		}
	}
	return err;
}

/*
 * The switch's instructions as they come (struct fp_switch), in one run;
 * gprs, the registers in writes. Anything else that writes one of its
 * registers forgets what it held.
 */
static int fp_switch_step(struct prologue_fp *s, __u64 pc, __u64 next,
			  unsigned int gprs)
{
	const cs_insn *in = s->in;
	const cs_x86 *x = &in->detail->x86;
	struct fp_switch *w = &s->sw;
	const cs_x86_op *m = x->op_count == 2 ? &x->operands[1] : NULL;
	bool whole;
	unsigned int cmp = w->cmp_reg;

	w->cmp_reg = 0;
	if (in->id == X86_INS_CMP && op_gpr(in, 0) && m &&
	    m->type == X86_OP_IMM && m->imm >= 0 && m->imm < FP_MAX_CASES) {
		w->cmp_reg = op_gpr(in, 0);
		w->cmp_imm = m->imm;
		return 0;
	}
	if (cmp && (in->id == X86_INS_JA || in->id == X86_INS_JAE)) {
		w->idx = cmp;
		w->cases = w->cmp_imm + (in->id == X86_INS_JA);
		w->dst = 0;
		return 0;
	}
	/* the table's address may be loaded first, or hoisted before */
	if (in->id == X86_INS_LEA && m && m->type == X86_OP_MEM &&
	    m->mem.base == X86_REG_RIP && m->mem.index == X86_REG_INVALID &&
	    op_gpr(in, 0) && op_gpr(in, 0) != w->idx) {
		w->base = op_gpr(in, 0);
		w->table = next + m->mem.disp;
		w->dst = 0;
		return 0;
	}
	if (in->id == X86_INS_MOVSXD && w->base && w->idx && m &&
	    m->type == X86_OP_MEM && m->mem.scale == 4 && !m->mem.disp &&
	    reg_gpr(m->mem.base, &whole) == w->base && whole &&
	    reg_gpr(m->mem.index, &whole) == w->idx && whole &&
	    op_gpr(in, 0) && op_gpr(in, 0) != w->base) {
		w->dst = op_gpr(in, 0);
		w->added = false;
		return 0;
	}
	if (in->id == X86_INS_ADD && w->dst && op_gpr(in, 0) == w->dst &&
	    op_gpr(in, 1) == w->base) {
		w->added = true;
		return 0;
	}
	if (in->id == X86_INS_JMP && w->added && op_gpr(in, 0) == w->dst)
		return fp_cases(s, pc);
	/* mov %eax,%eax: the index zero-extended, as clang does first */
	if (in->id == X86_INS_MOV && w->idx && op_gpr(in, 0) == w->idx &&
	    op_gpr(in, 1) == w->idx)
		return 0;
	/* what a register no longer holds */
	if (w->idx && (gprs & (1u << w->idx)))
		w->idx = 0;
	if (w->base && (gprs & (1u << w->base)))
		w->base = 0;
	if (w->dst && (gprs & (1u << w->dst)))
		w->dst = 0;
	return 0;
}

/*
 * One instruction at pc, of the function's current run, which writes rbp
 * and rsp as rbp and rsp say.
 */
static int fp_insn(struct prologue_fp *s, __u64 pc, __u64 next, bool rbp,
		   bool rsp, unsigned int gprs)
{
	const cs_insn *in = s->in;
	bool stops = no_fallthrough(s->cs, in) || in->id == X86_INS_INT3;
	struct fp_jump j = { .pc = pc, .run = s->nr_runs - 1 };
	uint64_t to;
	int err = 0;

	if (s->state == FP_FRAME) {
		if (is_pop_rbp(in)) {
			s->state = FP_EPILOGUE;
			err = fp_row(s, next, PROLOGUE_FP_ENTRY);
		} else if (rbp) {
			s->run_ends = s->run_dead = true;
		} else if (in->id != X86_INS_CALL &&
			   branch_target(s->cs, in, &to) &&
			   (to < s->runs[j.run].start || to > pc)) {
			j.target = to;
			err = FP_PUSH(s, jumps, j);
		}
		if (!err && s->state == FP_FRAME)
			err = fp_switch_step(s, pc, next, gprs);
	} else if (s->state == FP_EPILOGUE && !stops &&
		   !cs_insn_group(s->cs, in, CS_GRP_JUMP) && (rsp || rbp)) {
		s->run_ends = s->run_dead = true;
	}
	if (stops)
		s->run_ends = true;
	/* int3 after int3: padding, one dead run */
	if (in->id == X86_INS_INT3 && s->state == FP_DEAD)
		s->run_ends = false;
	return err;
}

int prologue_fp__scan(struct prologue_fp *s, const unsigned char *code,
		      size_t len, __u64 addr, bool last, size_t *used)
{
	size_t at = 0, n, push, left;
	const uint8_t *p;
	uint64_t a;
	bool pad, rbp, rsp;
	unsigned int gprs;
	int err = 0;

	if (addr != s->next || !addr) {
		s->ra.ok = false;
		err = fp_resolve(s, s->next);
		if (!err)
			err = fp_rule(s, addr, PROLOGUE_FP_NONE);
	}
	while (!err && at < len && (last || len - at >= FP_KEEP)) {
		n = fp_prologue(s, code + at, len - at, addr + at, &push);
		if (n) {
			err = fp_function(s, addr + at, push, n, s->moved_sp);
			s->moved_sp = false;
			at += n;
			continue;
		}
		if (s->in_func && addr + at - s->func_start >= FP_MAX_FUNC)
			err = fp_resolve(s, addr + at);
		n = ud1_len(code + at, len - at);
		if (n) {
			/* a trap: the run ends, as after ud2 */
			s->moved_sp = false;
			s->ra.ok = false;
			if (s->in_func && s->state != FP_DEAD)
				s->run_ends = true;
			at += n;
			continue;
		}
		p = code + at;
		left = len - at;
		a = addr + at;
		if (!cs_disasm_iter(s->cs, &p, &left, &a, s->in)) {
			s->ra.ok = false;
			if (s->in_func && !err)
				err = fp_run(s, addr + at, true, FP_NONE,
					     PROLOGUE_FP_NONE);
			at++;
			continue;
		}
		pad = s->in->id == X86_INS_INT3;
		regs_written(s->cs, s->in, &gprs, &rsp, &rbp);
		fp_ra_step(s, pad, rsp, gprs);
		/*
		 * rsp moved since the last call, jump, return or trap: if a
		 * prologue comes next, rsp did not point at the return
		 * address when rbp was pushed (GCC's realignment through a
		 * copy of rsp, DRAP, pushes a copy of the return address
		 * first), so rbp + 16 is not the caller's rsp, and that
		 * function gets no rule
		 */
		s->moved_sp = s->in->id != X86_INS_CALL &&
			      !no_fallthrough(s->cs, s->in) && !pad &&
			      (s->moved_sp || rsp);
		if (s->in_func && s->run_ends && !err)
			err = fp_run(s, addr + at, s->run_dead || pad, FP_NONE,
				     PROLOGUE_FP_FRAME);
		if (s->in_func && !err)
			err = fp_insn(s, addr + at, a, rbp, rsp, gprs);
		at = p - code;
	}
	if (!err && last)
		err = fp_resolve(s, addr + len) ?:
		      fp_rule(s, addr + len, PROLOGUE_FP_NONE) ?: fp_flush(s);
	s->next = addr + at;
	*used = at;
	return err;
}

bool prologue__emulated(const unsigned char *code, size_t len)
{
	const uint8_t *p = code;
	uint64_t addr = 0;
	bool ret = false;
	cs_insn *in;
	csh cs;

	if (!code || !len)
		return false;
	if (len > MAX_INSN_LEN)
		len = MAX_INSN_LEN;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return false;
	in = cs_malloc(cs);
	if (in && cs_disasm_iter(cs, &p, &len, &addr, in))
		ret = emulated_bytes(in->bytes, in->size);
	insn_free(in);
	cs_close(&cs);
	return ret;
}
