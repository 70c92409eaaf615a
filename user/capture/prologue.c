/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Probe placement on x86-64: a small length decoder for what compilers put
 * at the top of a function, and a scan for the first cheap, safe site.
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
 * is_prefix_bad() makes registration fail on cs/ds/es/ss and lock prefixes:
 * the decoder does not know them, so such an instruction is never a site.
 */
#include <string.h>

#include "prologue.h"

/* A bounded straight-line prefix: beyond it, the CFG is not ours to guess. */
#define SCAN_BYTES	32
#define SCAN_INSNS	8
#define MAX_INSN_LEN	15

#define REX_W		0x8
#define REX_R		0x4
#define REX_B		0x1

enum gpr { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9 };

#define GPR(r)		(1u << (r))
#define ARG_REGS	(GPR(RDI) | GPR(RSI) | GPR(RDX) | GPR(RCX) | \
			 GPR(R8) | GPR(R9))
#define MODRM_DIGIT(b)	(((b) >> 3) & 7)

struct insn {
	size_t len;
	unsigned int writes;	/* GPR() mask */
	bool emulated;
	bool site;		/* push or nop, the measured cheap sites */
	bool stack;		/* moves rsp or stores through it */
	bool leaves;		/* jmp, call: ends the straight line */
	bool cond;		/* conditional branch */
	bool jz;
};

struct prefixes {
	bool opsize;		/* 0x66 */
	bool seg;		/* fs, gs */
	unsigned char rep;	/* 0xf2, 0xf3 */
	unsigned char rex;
};

struct cursor {
	const unsigned char *code;
	size_t len;
	size_t pos;
};

enum dest { DEST_NONE, DEST_REG, DEST_RM };

static bool fetch(struct cursor *c, unsigned char *b)
{
	if (c->pos >= c->len)
		return false;
	*b = c->code[c->pos++];
	return true;
}

static bool peek(const struct cursor *c, unsigned char *b)
{
	if (c->pos >= c->len)
		return false;
	*b = c->code[c->pos];
	return true;
}

static bool skip(struct cursor *c, size_t n)
{
	if (c->len - c->pos < n)
		return false;
	c->pos += n;
	return true;
}

/*
 * Without any REX prefix, byte registers 4-7 are ah, ch, dh, bh: writing
 * "dil" is then really writing bh, which is no argument register.
 */
static unsigned int gpr_bit(unsigned int reg, bool byte, unsigned char rex)
{
	if (byte && !rex && reg >= 4)
		reg -= 4;
	return GPR(reg);
}

/* ModRM, SIB and displacement of an instruction that reads or writes dest. */
static bool modrm_op(struct cursor *c, const struct prefixes *p,
		     struct insn *in, enum dest dest, bool byte, size_t imm)
{
	unsigned int mod, reg, rm, base;
	unsigned char b, sib;
	bool rsp_base = false;
	size_t disp;

	if (!fetch(c, &b))
		return false;
	mod = b >> 6;
	reg = MODRM_DIGIT(b) | (p->rex & REX_R ? 8 : 0);
	rm = (b & 7) | (p->rex & REX_B ? 8 : 0);
	if (mod != 3) {
		disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
		if ((b & 7) == 4) {
			if (!fetch(c, &sib))
				return false;
			base = (sib & 7) | (p->rex & REX_B ? 8 : 0);
			if ((sib & 7) == 5 && mod == 0)
				disp = 4;	/* no base, disp32 */
			else
				rsp_base = base == RSP;
		} else if ((b & 7) == 5 && mod == 0) {
			disp = 4;		/* rip-relative */
		}
		if (!skip(c, disp))
			return false;
	}

	if (dest == DEST_REG)
		in->writes |= gpr_bit(reg, byte, p->rex);
	else if (dest == DEST_RM && mod == 3)
		in->writes |= gpr_bit(rm, byte, p->rex);
	else if (dest == DEST_RM && rsp_base)
		in->stack = true;
	return skip(c, imm);
}

static bool decode_0f(struct cursor *c, const struct prefixes *p,
		      struct insn *in)
{
	unsigned char op, b;

	if (!fetch(c, &op))
		return false;
	if (op == 0x1e) {
		/* endbr64: no effect at all, but single-stepped */
		return p->rep == 0xf3 && !p->opsize && !p->seg && !p->rex &&
		       fetch(c, &b) && b == 0xfa;
	}
	if (p->rep || p->seg || p->rex)
		return false;
	if (op == 0x1f) {
		if (!peek(c, &b) || MODRM_DIGIT(b) != 0)
			return false;
		in->emulated = in->site = true;
		return modrm_op(c, p, in, DEST_NONE, false, 0);
	}
	if (op >= 0x80 && op <= 0x8f && !p->opsize) {
		in->emulated = in->cond = true;
		in->jz = op == 0x84;
		return skip(c, 4);
	}
	return false;
}

/*
 * Only the forms listed here are known; anything else ends the scan. A
 * prefix is accepted only where its meaning is modelled: no rep forms but
 * endbr64, no 16-bit stack operations or branches.
 */
static bool decode_op(struct cursor *c, const struct prefixes *p,
		      unsigned char op, struct insn *in)
{
	size_t immz = p->opsize ? 2 : 4;
	bool legacy = p->opsize || p->seg;
	unsigned char b;

	if (op == 0x0f)
		return decode_0f(c, p, in);
	if (p->rep)
		return false;

	switch (op) {
	case 0x01:	/* add */
	case 0x29:	/* sub */
	case 0x31:	/* xor */
	case 0x89:	/* mov */
		return modrm_op(c, p, in, DEST_RM, false, 0);
	case 0x88:
		return modrm_op(c, p, in, DEST_RM, true, 0);
	case 0x03:
	case 0x2b:
	case 0x33:
	case 0x8b:
		return modrm_op(c, p, in, DEST_REG, false, 0);
	case 0x8a:
		return modrm_op(c, p, in, DEST_REG, true, 0);
	case 0x8d:	/* lea of a register operand is #UD */
		if (!peek(c, &b) || b >> 6 == 3)
			return false;
		return modrm_op(c, p, in, DEST_REG, false, 0);
	case 0x39:	/* cmp */
	case 0x3b:
	case 0x85:	/* test */
		return modrm_op(c, p, in, DEST_NONE, false, 0);
	case 0x84:
		return modrm_op(c, p, in, DEST_NONE, true, 0);
	case 0x80:	/* group 1: /7 is cmp, the seven others write */
	case 0x81:
	case 0x83:
		if (!peek(c, &b))
			return false;
		return modrm_op(c, p, in,
				MODRM_DIGIT(b) == 7 ? DEST_NONE : DEST_RM,
				op == 0x80, op == 0x81 ? immz : 1);
	case 0xc6:	/* mov imm: only /0 is a mov */
	case 0xc7:
		if (!peek(c, &b) || MODRM_DIGIT(b) != 0)
			return false;
		return modrm_op(c, p, in, DEST_RM, op == 0xc6,
				op == 0xc7 ? immz : 1);
	case 0xa9:	/* test imm, %eax */
		return skip(c, immz);
	case 0xb8 ... 0xbf:	/* mov imm, reg; movabs with REX.W */
		in->writes = GPR((op & 7) | (p->rex & REX_B ? 8 : 0));
		return skip(c, p->rex & REX_W ? 8 : immz);
	case 0x50 ... 0x57:
		if (legacy)
			return false;
		in->stack = true;
		in->emulated = in->site = !p->rex || p->rex == 0x41;
		return true;
	case 0x58 ... 0x5f:
		if (legacy)
			return false;
		in->writes = GPR((op & 7) | (p->rex & REX_B ? 8 : 0));
		in->stack = true;
		return true;
	case 0x90:	/* with REX.B this is xchg, not a nop */
		if (p->seg || p->rex)
			return false;
		in->emulated = in->site = true;
		return true;
	case 0x70 ... 0x7f:
		if (legacy || p->rex)
			return false;
		in->emulated = in->cond = true;
		in->jz = op == 0x74;
		return skip(c, 1);
	case 0xe8:
	case 0xe9:
	case 0xeb:
		if (legacy || p->rex)
			return false;
		in->stack = op == 0xe8;
		in->emulated = in->leaves = true;
		return skip(c, op == 0xeb ? 1 : 4);
	default:
		return false;
	}
}

/* false when the bytes are not a complete instruction we know */
static bool decode(const unsigned char *code, size_t len, struct insn *in)
{
	struct cursor c = { .code = code, .len = len };
	struct prefixes p = { 0 };
	unsigned char op;

	memset(in, 0, sizeof(*in));
	for (;;) {
		if (c.pos >= MAX_INSN_LEN || !fetch(&c, &op))
			return false;
		if (op == 0x66)
			p.opsize = true;
		else if (op == 0xf2 || op == 0xf3)
			p.rep = op;
		else if (op == 0x64 || op == 0x65)
			p.seg = true;
		else
			break;
	}
	/* REX counts only right before the opcode */
	if (op >= 0x40 && op <= 0x4f) {
		p.rex = op;
		if (!fetch(&c, &op))
			return false;
	}
	if (!decode_op(&c, &p, op, in) || c.pos > MAX_INSN_LEN)
		return false;
	in->len = c.pos;
	if (in->writes & GPR(RSP))
		in->stack = true;
	return true;
}

static bool is_null_test(const unsigned char *code, size_t len)
{
	static const unsigned char test_rdi[] = { 0x48, 0x85, 0xff };

	return len == sizeof(test_rdi) && !memcmp(code, test_rdi, len);
}

static bool skippable(const struct insn *in, unsigned int needs,
		      bool null_tested)
{
	if (in->leaves)
		return false;
	/*
	 * A conditional branch could take some calls around the site. Not
	 * "test %rdi,%rdi; je" on an untouched rdi when only non-NULL calls
	 * matter: every one of those falls through.
	 */
	if (in->cond)
		return in->jz && null_tested &&
		       (needs & PROLOGUE_SKIP_NULL_CHECK);
	if (in->stack && (needs & PROLOGUE_RET_AT_SP))
		return false;
	return !(in->writes & ARG_REGS) || !(needs & PROLOGUE_ARGS);
}

/*
 * Sites are push and nop, and a branch where the scan would stop at it: a
 * branch is emulated as well (branch_setup_xol_ops), every call reaches
 * it, and the probe fires before it changes anything. The free-like NULL
 * check's je is stepped over instead, to the first site past it.
 */
void prologue__place(const unsigned char *code, size_t len,
		     unsigned int needs, struct prologue_site *out)
{
	unsigned int written = 0;
	bool null_tested = false;
	struct insn in;
	size_t off = 0;
	int n;

	out->offset = 0;
	out->emulated = prologue__emulated(code, len);
	for (n = 0; n < SCAN_INSNS && off < SCAN_BYTES && off < len; n++) {
		if (!decode(code + off, len - off, &in))
			return;
		if (in.site) {
			out->offset = off;
			out->emulated = true;
			return;
		}
		if (!skippable(&in, needs, null_tested)) {
			if ((in.cond || in.leaves) && in.emulated) {
				out->offset = off;
				out->emulated = true;
			}
			return;
		}
		null_tested = is_null_test(code + off, in.len) &&
			      !(written & GPR(RDI));
		written |= in.writes;
		off += in.len;
	}
}

bool prologue__emulated(const unsigned char *code, size_t len)
{
	struct insn in;

	return decode(code, len, &in) && in.emulated;
}
