/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Probe placement. A uprobe on an instruction the kernel can emulate
 * (push, nop, jmp, call, jcc) costs one trap; on anything else it is
 * single-stepped out of line, ~15x dearer here. This decodes a whole
 * function (x86-64, Capstone) and finds the first emulated instruction
 * every call reaches with what the probe reads still in place.
 */
#ifndef MEMSCOPE_PROLOGUE_H
#define MEMSCOPE_PROLOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

/* Functions longer than this are not decoded: their probe stays at +0. */
#define PROLOGUE_MAX_BYTES	(256 * 1024)

enum prologue_need {
	/*
	 * Arguments the probe reads (the first, second, third): as they were
	 * at entry, in their register or in one they were copied to.
	 */
	PROLOGUE_RDI = 1 << 0,
	PROLOGUE_RSI = 1 << 1,
	PROLOGUE_RDX = 1 << 2,
	/* *sp must still be the return address (uretprobe, entry stacks). */
	PROLOGUE_RET_AT_SP = 1 << 3,
	/*
	 * Only calls with a non-NULL first argument matter (free-like): a
	 * leading "test %rdi,%rdi; je" early exit may be skipped.
	 */
	PROLOGUE_SKIP_NULL_CHECK = 1 << 4,
	/*
	 * The fourth argument (__rust_realloc's new size), read from rcx
	 * itself: the attach cookie has no room to name a copy of it.
	 */
	PROLOGUE_RCX = 1 << 5,
};

/*
 * Why a probe is single-stepped: what stopped the walk from the entry
 * before it reached an emulated instruction it could use. Stored in
 * recordings: add values at the end only.
 */
#define PROLOGUE_REASONS(X)						\
	X(NONE, "none", "emulated")					\
	X(NO_CODE, "no_code", "the function's size or bytes are unknown")	\
	X(TOO_LARGE, "too_large", "the function is too large to decode")	\
	X(UNDECODABLE, "undecodable", "an instruction of the function cannot be decoded") \
	X(ARG_WRITTEN, "arg_written", "an argument register the probe reads is written first") \
	X(STACK_CHANGED, "stack_changed", "the stack pointer or return address changes first") \
	X(BRANCH_TARGET, "branch_target", "a branch in the function lands before the next emulated instruction") \
	X(CONDITIONAL, "conditional", "a conditional branch lets calls bypass the next emulated instruction") \
	X(PATH_ENDS, "path_ends", "the straight path returns or jumps indirectly first")

enum prologue_reason {
#define PROLOGUE_REASON_ENUM(id, key, text)	PROLOGUE_##id,
	PROLOGUE_REASONS(PROLOGUE_REASON_ENUM)
#undef PROLOGUE_REASON_ENUM
	NR_PROLOGUE_REASONS,
};

struct prologue_site {
	__u32 offset;		/* bytes into the function */
	bool emulated;		/* the instruction there is emulated */
	/* PROLOGUE_NONE when emulated, else why no emulated site is safe */
	enum prologue_reason reason;
	/*
	 * enum ms_arg_reg (bpf/events.h): where each of the first three
	 * arguments is at offset; MS_REG_ABI where it never moved.
	 */
	__u8 arg_reg[3];
};

/*
 * code: the whole function, len bytes (its ELF symbol size). Always fills
 * out: offset 0 (emulated or not) with the reason when no safe emulated
 * site exists. 0, or -ENOMEM (out still says offset 0).
 */
int prologue__place(const unsigned char *code, size_t len, unsigned int needs,
		    struct prologue_site *out);

/*
 * Where a function goes when it leaves for other code, if it only ever
 * goes to one place: every call and jump out of its len bytes of code is
 * direct and lands on target (an offset from the function's start, below
 * 0 or at len and beyond), and it makes no system call. Such a function
 * (reallocarray jumping to realloc, operator new(size_t, nothrow_t)
 * calling operator new) allocates nothing but through that place. *calls
 * says whether it calls it, so that its frame stands first in the stacks
 * taken there (a jump leaves none). 0, -ENOENT when it leaves otherwise
 * or not at all, -ENOMEM.
 */
int prologue__exit(const unsigned char *code, size_t len, __s64 *target,
		   bool *calls);

/* A branch out of a function, as prologue__exits() tells it. */
struct prologue_exit {
	/* offset from the function's start, or PROLOGUE_INDIRECT */
	__s64 target;
	bool calls;		/* a call, which returns to ret */
	size_t ret;		/* the offset the call returns to */
};

/* An indirect call's target: whatever it holds at run time. */
#define PROLOGUE_INDIRECT	INT64_MIN

/*
 * Every call and jump out of a function's len bytes, on every path its
 * own control flow reaches, up to max into out (*nr of them), each as
 * often as the code has it: what a layer that may throw calls, and where
 * each call returns (attach.c, layer_of()). Indirect calls are told as
 * PROLOGUE_INDIRECT; an indirect jump or a system call fails. 0, -ENOENT
 * (also past max), -ENOMEM.
 */
int prologue__exits(const unsigned char *code, size_t len,
		    struct prologue_exit *out, size_t max, size_t *nr);

/*
 * The straight run of code from its start: the bytes up to and including
 * the first instruction after which execution does not fall through (a
 * jump, a return, hlt, ud2); a call falls through, as it returns. What
 * the unwind table takes for an entry point's code (unwind_table.c).
 * 0 with *end set, -ENOENT when len runs out or an instruction cannot be
 * decoded first, -ENOMEM.
 */
int prologue__straight(const unsigned char *code, size_t len, size_t *end);

/*
 * The addresses a function's len bytes load with a rip-relative lea
 * (lea sym(%rip), %reg), as offsets from the function's start, up to max
 * into out (*nr of them), in code order: makecontext names so the
 * function it writes as the return address at the bottom of a context's
 * stack (unwind_table.c). 0, -ENOENT when an instruction cannot be
 * decoded, -ENOMEM.
 */
int prologue__rip_leas(const unsigned char *code, size_t len, __s64 *out,
		       size_t max, size_t *nr);

/*
 * Frame-pointer code that no CFI describes: a build with frame pointers
 * and without unwind tables (Chromium: -fno-omit-frame-pointer
 * -fno-asynchronous-unwind-tables; 225 MB of code, 0.4 MB of .eh_frame).
 * The code is decoded in address order, and a frame pointer is only
 * believed where the code shows it: from a function's "[endbr64] push
 * %rbp; mov %rsp,%rbp" on, the CFA is rbp + 16 until rbp is popped (pop
 * %rbp, leave) or written otherwise; after the pop, rsp + 8 until the
 * return or the tail call. Past a return, a jump, a trap or padding the
 * code is another block or another function: it keeps the frame only
 * where the function's own jumps show it is the body (a jump made with
 * the frame set lands there, a switch's table of jumps made so names it,
 * it jumps into the kept body, or it lies between two kept parts), else
 * it has no rule until the next such
 * prologue. A function without that prologue (a leaf, hand-written
 * assembly, one whose rsp moved before it: GCC's DRAP) gets none, but
 * for one that begins, after padding, by popping its return address,
 * pushes what it passes on and that address again, then makes its frame
 * (V8's API-call builtins): there the CFA is known from what was pushed,
 * and the return address is at rbp + 8 (PROLOGUE_FP_FRAME_RA; its
 * prologue and epilogue get none). emit(ctx, pc, rule, cfa) is called
 * where the rule changes, in pc order.
 */
enum prologue_fp_rule {
	PROLOGUE_FP_NONE,	/* no rule: the walk stops */
	PROLOGUE_FP_ENTRY,	/* CFA = rsp + 8, rbp unchanged */
	PROLOGUE_FP_PUSHED,	/* CFA = rsp + 16, rbp saved at CFA - 16 */
	PROLOGUE_FP_FRAME,	/* CFA = rbp + 16, rbp saved at CFA - 16 */
	PROLOGUE_FP_FRAME_RA,	/* CFA = rbp + cfa, the return address at
				 * rbp + 8, rbp saved at rbp */
};

/* cfa: PROLOGUE_FP_FRAME_RA's offset from rbp, 0 for the others */
typedef int (*prologue_fp_emit)(void *ctx, __u64 pc,
				enum prologue_fp_rule rule, __s32 cfa);
/*
 * len bytes of the object at address addr (a switch's table of jumps,
 * in the code or in read-only data): 0, or -errno when they are not all
 * in its file.
 */
typedef int (*prologue_fp_read)(void *ctx, __u64 addr, void *buf,
				size_t len);

struct prologue_fp;

struct prologue_fp *prologue_fp__new(prologue_fp_emit emit,
				     prologue_fp_read read, void *ctx);
void prologue_fp__free(struct prologue_fp *s);

/*
 * Decodes code, len bytes at address addr, going on from where the last
 * call stopped when addr is that place (else it starts a new run of code,
 * with no rule). Decoding stops where fewer bytes are left than an
 * instruction and its look-ahead may need, unless last: *used says how
 * many bytes were taken; the caller passes the rest again with what
 * follows. With last, the rule ends at addr + len. Bytes that are no
 * instruction are passed over, with no rule. 0, or emit's error, or
 * -ENOMEM.
 */
int prologue_fp__scan(struct prologue_fp *s, const unsigned char *code,
		      size_t len, __u64 addr, bool last, size_t *used);

/* Whether the kernel emulates the instruction at code (x86-64 rules). */
bool prologue__emulated(const unsigned char *code, size_t len);

/* The reason's JSON key ("arg_written") and its sentence for -v. */
const char *prologue__reason_key(enum prologue_reason r);
const char *prologue__reason_text(enum prologue_reason r);

#endif /* MEMSCOPE_PROLOGUE_H */
