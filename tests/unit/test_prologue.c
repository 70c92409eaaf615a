/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Probe placement. Every byte pattern is the whole function, copied into
 * a heap buffer of its exact size, so ASan turns any read past len into a
 * failure. Then the real functions of Debian's allocators, read from
 * their files as attach reads them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "elfsym.h"
#include "events.h"
#include "layer.h"
#include "prologue.h"

#define ARGS		(PROLOGUE_RDI | PROLOGUE_RSI | PROLOGUE_RDX)
#define RDI		PROLOGUE_RDI
#define RET_AT_SP	PROLOGUE_RET_AT_SP
#define NULL_CHECK	PROLOGUE_SKIP_NULL_CHECK
#define ALL		(ARGS | RET_AT_SP | NULL_CHECK)

static struct prologue_site place_exact(const unsigned char *code, size_t len,
					unsigned int needs)
{
	unsigned char *copy = malloc(len ? len : 1);
	struct prologue_site s;

	cr_assert_not_null(copy);
	memcpy(copy, code, len);
	/* poison, so that a field left unset cannot pass by luck */
	memset(&s, 0xa5, sizeof(s));
	prologue__place(copy, len, needs, &s);
	free(copy);
	return s;
}

static bool emulated_exact(const unsigned char *code, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);
	bool ret;

	cr_assert_not_null(copy);
	memcpy(copy, code, len);
	ret = prologue__emulated(copy, len);
	free(copy);
	return ret;
}

static const char *how(bool emulated)
{
	return emulated ? "emulated" : "single-stepped";
}

#define expect_site(needs, want_off, want_emu, ...)			\
	do {								\
		static const unsigned char code_[] = { __VA_ARGS__ };	\
		struct prologue_site s_ =				\
			place_exact(code_, sizeof(code_), (needs));	\
									\
		cr_expect(s_.offset == (want_off) &&			\
			  s_.emulated == (want_emu),			\
			  "{ %s } needs %#x: got +%u %s, want +%u %s",	\
			  #__VA_ARGS__, (unsigned int)(needs),		\
			  s_.offset, how(s_.emulated),			\
			  (unsigned int)(want_off), how(want_emu));	\
	} while (0)

/* Where no site is found: offset 0, and this reason. */
#define expect_reason(needs, want_reason, ...)				\
	do {								\
		static const unsigned char code_[] = { __VA_ARGS__ };	\
		struct prologue_site s_ =				\
			place_exact(code_, sizeof(code_), (needs));	\
									\
		cr_expect(s_.offset == 0 && !s_.emulated &&		\
			  s_.reason == (want_reason),			\
			  "{ %s } needs %#x: got +%u %s (%s), want +0 "	\
			  "single-stepped (%s)", #__VA_ARGS__,		\
			  (unsigned int)(needs), s_.offset,		\
			  how(s_.emulated),				\
			  prologue__reason_key(s_.reason),		\
			  prologue__reason_key(want_reason));		\
	} while (0)

#define expect_emulated(want, ...)					\
	do {								\
		static const unsigned char code_[] = { __VA_ARGS__ };	\
		bool got_ = emulated_exact(code_, sizeof(code_));	\
									\
		cr_expect(got_ == (want), "{ %s }: got %s, want %s",	\
			  #__VA_ARGS__, how(got_), how(want));		\
	} while (0)

Test(prologue, push_first)
{
	/* glibc 2.36 malloc: push %r12; push %rbp */
	expect_site(ALL, 0, true, 0x41, 0x54, 0x55);
	expect_site(0, 0, true, 0x41, 0x54, 0x55);
	/* push %rbp; mov %rsp,%rbp */
	expect_site(ALL, 0, true, 0x55, 0x48, 0x89, 0xe5);
}

Test(prologue, rex_push)
{
	expect_emulated(true, 0x41, 0x50);	/* push %r8 */
	expect_emulated(true, 0x41, 0x57);	/* push %r15 */
	expect_emulated(true, 0x53);		/* push %rbx */
	/* the kernel only takes REX 0x41: these are single-stepped */
	expect_emulated(false, 0x40, 0x55);
	expect_emulated(false, 0x48, 0x55);
	expect_emulated(false, 0x49, 0x54);
	/* pushw moves rsp by 2: not modelled */
	expect_emulated(false, 0x66, 0x55);
	/* a non-emulated push is no site, and it moves rsp */
	expect_site(RET_AT_SP, 0, false, 0x48, 0x55, 0x41, 0x54);
	expect_site(ARGS, 2, true, 0x48, 0x55, 0x41, 0x54);
}

Test(prologue, endbr64_then_push)
{
	/* CET builds: endbr64; push %r12 */
	expect_site(ALL, 4, true, 0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x54);
	expect_site(0, 4, true, 0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x54);
	/* endbr64 alone stays at 0, single-stepped */
	expect_site(ALL, 0, false, 0xf3, 0x0f, 0x1e, 0xfa);
	expect_emulated(false, 0xf3, 0x0f, 0x1e, 0xfa);
}

Test(prologue, free_null_check)
{
	/* glibc 2.36 free: test %rdi,%rdi; je rel32; push %rbp */
	expect_site(NULL_CHECK | ARGS, 9, true,
		    0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00,
		    0x55, 0x48, 0x8d, 0x77, 0xf0);
	expect_site(ALL, 9, true,
		    0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00,
		    0x55);
	/* without the free-like contract, the je (emulated) is the site */
	expect_site(ARGS, 3, true,
		    0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00,
		    0x55);
	/* CET: endbr64; test %rdi,%rdi; je rel8; push %rbp */
	expect_site(NULL_CHECK, 9, true,
		    0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x74, 0x10,
		    0x55);
	expect_site(0, 7, true,
		    0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x74, 0x10,
		    0x55);
}

Test(prologue, null_check_is_exact)
{
	/*
	 * Where the NULL check does not qualify, the scan stops at the
	 * branch, which every call reaches: it is the site, not the push.
	 * jne: the non-NULL calls are the ones that leave.
	 */
	expect_site(ALL, 3, true, 0x48, 0x85, 0xff, 0x75, 0x10, 0x55);
	/* test %rsi,%rsi says nothing about the first argument */
	expect_site(ALL, 3, true, 0x48, 0x85, 0xf6, 0x74, 0x10, 0x55);
	/* test %edi,%edi: a pointer with a zero low half is not NULL */
	expect_site(ALL, 2, true, 0x85, 0xff, 0x74, 0x10, 0x55);
	/* something between the test and the je */
	expect_site(NULL_CHECK, 6, true,
		    0x48, 0x85, 0xff, 0x48, 0x89, 0xc3, 0x74, 0x10, 0x55);
	/* xor %edi,%edi first: rdi no longer holds the argument */
	expect_site(NULL_CHECK, 5, true,
		    0x31, 0xff, 0x48, 0x85, 0xff, 0x74, 0x10, 0x55);
}

Test(prologue, mov_first)
{
	/* mov %rdi,%rax; ret: nothing cheap, stays at 0 */
	expect_site(ALL, 0, false, 0x48, 0x89, 0xf8, 0xc3);
	/* mov %rdi,%rbx writes no argument register */
	expect_site(ALL, 3, true, 0x48, 0x89, 0xfb, 0x55);
	/* mov %rsi,%rdi does */
	expect_site(ARGS, 0, false, 0x48, 0x89, 0xf7, 0x55);
	expect_site(RET_AT_SP, 3, true, 0x48, 0x89, 0xf7, 0x55);
	/* xor %edi,%edi and mov $0,%edx too */
	expect_reason(ARGS, PROLOGUE_ARG_WRITTEN, 0x31, 0xff, 0x55);
	expect_reason(ARGS, PROLOGUE_ARG_WRITTEN,
		      0xba, 0x00, 0x00, 0x00, 0x00, 0x55);
	/* only the registers asked for count: rdx is not rdi */
	expect_site(RDI, 5, true, 0xba, 0x00, 0x00, 0x00, 0x00, 0x55);
	/* nor do r8 and r9, which no probe reads */
	expect_site(ARGS, 6, true, 0x41, 0xb9, 0x00, 0x00, 0x00, 0x00, 0x55);
	/* cmp and test only set flags */
	expect_site(ALL, 3, true, 0x48, 0x39, 0xf7, 0x55);
	expect_site(ALL, 5, true, 0xa9, 0x01, 0x00, 0x00, 0x00, 0x55);
}

Test(prologue, byte_registers)
{
	/* without REX, byte register 7 is bh: mov %al,%bh */
	expect_site(ARGS, 2, true, 0x88, 0xc7, 0x55);
	/* with one, it is dil: mov %al,%dil */
	expect_site(ARGS, 0, false, 0x40, 0x88, 0xc7, 0x55);
	/* mov %ah,%dh writes rdx */
	expect_site(ARGS, 0, false, 0x88, 0xe6, 0x55);
}

Test(prologue, cmp_then_push)
{
	/* glibc 2.36 posix_memalign: cmpb $0,..(%rip); push %r12 */
	expect_site(ALL, 7, true,
		    0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00, 0x41, 0x54);
	/* memalign: cmpb; je; jmp: the je may leave, so it is the site */
	expect_site(ALL, 7, true,
		    0x80, 0x3d, 0x71, 0x0e, 0x14, 0x00, 0x00, 0x74, 0x07,
		    0xe9, 0x32, 0xf6, 0xff, 0xff, 0x66, 0x90);
	expect_site(0, 7, true,
		    0x80, 0x3d, 0x71, 0x0e, 0x14, 0x00, 0x00, 0x74, 0x07,
		    0xe9, 0x32, 0xf6, 0xff, 0xff, 0x66, 0x90);
}

Test(prologue, mul_clobbers_args)
{
	/* glibc 2.36 reallocarray: mov %rsi,%rax; mul %rdx; mov %rax,%rsi */
	expect_reason(ALL, PROLOGUE_ARG_WRITTEN,
		      0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x48, 0x89, 0xc6,
		      0x70, 0x05);
	/* mul writes rdx (implicitly): fine only when rdx is not read */
	expect_site(PROLOGUE_RDI, 6, true,
		    0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x55);
	expect_reason(PROLOGUE_RDX, PROLOGUE_ARG_WRITTEN,
		      0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x55);
}

Test(prologue, stack_changes)
{
	/* sub $0x18,%rsp: *sp is no longer the return address */
	expect_site(ALL, 0, false, 0x48, 0x83, 0xec, 0x18);
	expect_site(RET_AT_SP, 0, false, 0x48, 0x83, 0xec, 0x18, 0x55);
	expect_site(ARGS, 4, true, 0x48, 0x83, 0xec, 0x18, 0x55);
	/* lea -0x8(%rsp),%rsp */
	expect_site(RET_AT_SP, 0, false,
		    0x48, 0x8d, 0x64, 0x24, 0xf8, 0x55);
	/* mov %rdi,(%rsp) overwrites the return address */
	expect_site(RET_AT_SP, 0, false, 0x48, 0x89, 0x3c, 0x24, 0x55);
	expect_site(ARGS, 4, true, 0x48, 0x89, 0x3c, 0x24, 0x55);
	/* a load through rsp is harmless: mov (%rsp),%rax */
	expect_site(ALL, 4, true, 0x48, 0x8b, 0x04, 0x24, 0x55);
	/* pop */
	expect_site(RET_AT_SP, 0, false, 0x58, 0x55);
	/* the stack protector load: mov %fs:0x28,%rax */
	expect_site(ALL, 9, true,
		    0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00,
		    0x55);
}

Test(prologue, nop_forms)
{
	expect_site(ALL, 0, true, 0x0f, 0x1f, 0x44, 0x00, 0x00);
	expect_site(ALL, 0, true, 0x90, 0x48, 0x89, 0xf8);
	expect_site(ALL, 0, true, 0x66, 0x90);
	expect_emulated(true, 0x0f, 0x1f, 0x00);
	expect_emulated(true, 0x0f, 0x1f, 0x40, 0x00);
	expect_emulated(true, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00);
	expect_emulated(true, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00);
	expect_emulated(true,
			0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00);
	/* nop after a skippable insn: mov %rdi,%rbx; nopl 0(%rax) */
	expect_site(ALL, 3, true, 0x48, 0x89, 0xfb, 0x0f, 0x1f, 0x40, 0x00);
	/* pause, xchg %r8d,%eax, 0f 1f /1 and a cs-prefixed nopw are not */
	expect_emulated(false, 0xf3, 0x90);
	expect_emulated(false, 0x41, 0x90);
	expect_emulated(false, 0x0f, 0x1f, 0x48, 0x00);
	expect_emulated(false,
			0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00,
			0x00);
}

Test(prologue, branches)
{
	expect_emulated(true, 0xeb, 0x10);
	expect_emulated(true, 0xe9, 0x00, 0x01, 0x00, 0x00);
	expect_emulated(true, 0xe8, 0x00, 0x01, 0x00, 0x00);
	expect_emulated(true, 0x74, 0x10);
	expect_emulated(true, 0x7f, 0x10);
	expect_emulated(true, 0x0f, 0x84, 0x00, 0x01, 0x00, 0x00);
	/* the kernel refuses 66-prefixed branches */
	expect_emulated(false, 0x66, 0xe8, 0x00, 0x01);
	expect_emulated(false, 0x48, 0x89, 0xf8);
	/* jmp and call end the scan, and are the site where reached */
	expect_site(ALL, 0, true, 0xe9, 0x00, 0x01, 0x00, 0x00, 0x55);
	expect_site(0, 0, true, 0xe8, 0x00, 0x01, 0x00, 0x00, 0x55);
	expect_site(0, 3, true, 0x48, 0x89, 0xfb, 0xeb, 0x00, 0x55);
	expect_site(0, 0, false, 0x48, 0x89, 0xfb, 0xc3, 0x55);
}

Test(prologue, path_ends)
{
	/* ud2, hlt, ret, an indirect jmp: nothing after them is reached */
	expect_reason(0, PROLOGUE_PATH_ENDS, 0x0f, 0x0b, 0x55);
	expect_reason(0, PROLOGUE_PATH_ENDS, 0xc3, 0x55);
	expect_reason(0, PROLOGUE_PATH_ENDS, 0x48, 0x89, 0xfb, 0xff, 0xe0,
		      0x55);
	/* no emulated instruction at all */
	expect_reason(0, PROLOGUE_PATH_ENDS, 0x48, 0x89, 0xfb);
	/* cpuid writes rax, rbx, rcx, rdx: past it when rdx is not read */
	expect_site(RDI, 5, true, 0x48, 0x89, 0xfb, 0x0f, 0xa2, 0x55);
	expect_reason(ARGS, PROLOGUE_ARG_WRITTEN,
		      0x48, 0x89, 0xfb, 0x0f, 0xa2, 0x55);
	/* lock add %rax,(%rdi): walked over, never a site itself */
	expect_site(0, 4, true, 0xf0, 0x48, 0x01, 0x07, 0x55);
	expect_emulated(false, 0xf0, 0x48, 0x01, 0x07);
	/* jrcxz: a conditional branch the kernel does not emulate */
	expect_reason(0, PROLOGUE_CONDITIONAL, 0xe3, 0x10, 0x55);
}

/* The walk is not bounded by a byte count: the whole function is known. */
Test(prologue, long_straight_path)
{
	unsigned char code[3 * 200 + 1];
	struct prologue_site s;
	size_t i;

	for (i = 0; i < 200; i++)
		memcpy(code + 3 * i, "\x48\x89\xc3", 3);	/* mov %rax,%rbx */
	code[600] = 0x55;
	s = place_exact(code, sizeof(code), ALL);
	cr_expect(s.offset == 600 && s.emulated && s.reason == PROLOGUE_NONE,
		  "got +%u %s", s.offset, how(s.emulated));
}

Test(prologue, branch_into_skipped_bytes)
{
	/*
	 * mov %rdi,%rbx; mov %rax,%rcx; push %rbp; ...: a branch later in
	 * the function landing on the second mov, or on the push itself,
	 * reaches the push without a call: the push is no site.
	 */
	expect_reason(ALL, PROLOGUE_BRANCH_TARGET,
		      0x48, 0x89, 0xfb, 0x48, 0x89, 0xc1, 0x55,
		      0xeb, 0xfa);			/* jmp +3 */
	expect_reason(ALL, PROLOGUE_BRANCH_TARGET,
		      0x48, 0x89, 0xfb, 0x48, 0x89, 0xc1, 0x55,
		      0x75, 0xfd);			/* jne +6 */
	/* into the middle of an instruction walked over */
	expect_reason(ALL, PROLOGUE_BRANCH_TARGET,
		      0x48, 0x89, 0xfb, 0x48, 0x89, 0xc1, 0x55,
		      0x0f, 0x84, 0xf4, 0xff, 0xff, 0xff);	/* je +1 */
	/* to the entry is a new pass through the whole path: fine */
	expect_site(ALL, 6, true,
		    0x48, 0x89, 0xfb, 0x48, 0x89, 0xc1, 0x55,
		    0xeb, 0xf7);			/* jmp +0 */
	/* past the site, or out of the function: fine */
	expect_site(ALL, 6, true,
		    0x48, 0x89, 0xfb, 0x48, 0x89, 0xc1, 0x55,
		    0xeb, 0xfe, 0xe9, 0x00, 0x10, 0x00, 0x00);
	/* a call to an address in the skipped bytes counts too */
	expect_reason(ALL, PROLOGUE_BRANCH_TARGET,
		      0x48, 0x89, 0xfb, 0x48, 0x89, 0xc1, 0x55,
		      0xe8, 0xf7, 0xff, 0xff, 0xff);	/* call +3 */
}

Test(prologue, emulated_jcc)
{
	/*
	 * Debian's jemalloc free: mov %rdi,%rax; mov ..(%rip),%rdx;
	 * mov %rdi,%rcx; shr $0x1a,%rax; and $..,%rcx; and $0xf0,%eax;
	 * add %fs:0,%rax; add %rdx,%rax; cmp 0x1b0(%rax),%rcx; jne: rdi
	 * untouched to the jne at +0x30, every call reaches it.
	 */
	static const unsigned char je_free[] = {
		0x48, 0x89, 0xf8, 0x48, 0x8b, 0x15, 0x0e, 0x53, 0x0a, 0x00,
		0x48, 0x89, 0xf9, 0x48, 0xc1, 0xe8, 0x1a, 0x48, 0x81, 0xe1,
		0x00, 0x00, 0x00, 0xc0, 0x25, 0xf0, 0x00, 0x00, 0x00, 0x64,
		0x48, 0x03, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00, 0x48, 0x01,
		0xd0, 0x48, 0x3b, 0x88, 0xb0, 0x01, 0x00, 0x00, 0x0f, 0x85,
		0x8a, 0x00, 0x00, 0x00, 0x48, 0x89, 0xfe, 0xc3,
	};
	struct prologue_site s;

	s = place_exact(je_free, sizeof(je_free),
			PROLOGUE_RDI | PROLOGUE_SKIP_NULL_CHECK);
	cr_expect(s.offset == 0x30 && s.emulated, "got +%#x %s", s.offset,
		  how(s.emulated));
	/* a sized free also reads rdx, written at +3 */
	s = place_exact(je_free, sizeof(je_free),
			PROLOGUE_RDI | PROLOGUE_RDX);
	cr_expect(s.offset == 0 && !s.emulated &&
		  s.reason == PROLOGUE_ARG_WRITTEN, "got +%#x %s (%s)",
		  s.offset, how(s.emulated), prologue__reason_key(s.reason));
}

Test(prologue, argument_copies)
{
	/* mov %rdi,%rsi; xor %edi,%edi; push %rbp: the first is in rsi */
	static const unsigned char moved[] = {
		0x48, 0x89, 0xfe, 0x31, 0xff, 0x55,
	};
	struct prologue_site s;

	s = place_exact(moved, sizeof(moved), RDI | RET_AT_SP);
	cr_expect(s.offset == 5 && s.emulated && s.arg_reg[0] == MS_REG_RSI &&
		  s.arg_reg[1] == MS_REG_ABI, "got +%u %s, arg 1 in %u",
		  s.offset, how(s.emulated), s.arg_reg[0]);
	/* the second argument was overwritten by the copy: gone */
	expect_reason(RDI | PROLOGUE_RSI, PROLOGUE_ARG_WRITTEN,
		      0x48, 0x89, 0xfe, 0x31, 0xff, 0x55);
	/* a 32-bit mov keeps half: no copy (mov %edi,%esi) */
	expect_reason(RDI, PROLOGUE_ARG_WRITTEN, 0x89, 0xfe, 0x31, 0xff, 0x55);
	/* the copy overwritten too (xor %esi,%esi) */
	expect_reason(RDI, PROLOGUE_ARG_WRITTEN,
		      0x48, 0x89, 0xfe, 0x31, 0xff, 0x31, 0xf6, 0x55);
	/* a copy of a copy (mov %rdi,%rax; mov %rax,%r9), both kept */
	static const unsigned char chain[] = {
		0x48, 0x89, 0xf8, 0x49, 0x89, 0xc1, 0x31, 0xc0, 0x31, 0xff,
		0x55,
	};
	s = place_exact(chain, sizeof(chain), RDI);
	cr_expect(s.offset == 10 && s.emulated && s.arg_reg[0] == MS_REG_R9,
		  "got +%u %s, arg 1 in %u", s.offset, how(s.emulated),
		  s.arg_reg[0]);
	/* untouched: read where the ABI has it */
	s = place_exact(chain, 3, RDI);
	cr_expect(s.arg_reg[0] == MS_REG_ABI && s.arg_reg[1] == MS_REG_ABI &&
		  s.arg_reg[2] == MS_REG_ABI);
}

/*
 * __rust_realloc(ptr, old size, align, new size) of rustc >= 1.87 with a
 * #[global_allocator]: the shim swaps rsi and rdx, then jumps to the
 * allocator's realloc. The probe reads the pointer and the new size
 * (rcx), which must stay in rcx itself.
 */
Test(prologue, fourth_argument)
{
	/* mov %rsi,%rax; mov %rdx,%rsi; mov %rax,%rdx; jmp */
	static const unsigned char shim[] = {
		0x48, 0x89, 0xf0, 0x48, 0x89, 0xd6, 0x48, 0x89, 0xc2,
		0xe9, 0x00, 0x01, 0x00, 0x00,
	};
	struct prologue_site s;

	s = place_exact(shim, sizeof(shim), RDI | PROLOGUE_RCX | RET_AT_SP);
	cr_expect(s.offset == 9 && s.emulated && s.arg_reg[0] == MS_REG_ABI,
		  "got +%u %s (%s)", s.offset, how(s.emulated),
		  prologue__reason_key(s.reason));
	/* rcx written first (mov %rdi,%rcx), even with a copy elsewhere */
	expect_reason(RDI | PROLOGUE_RCX, PROLOGUE_ARG_WRITTEN,
		      0x48, 0x89, 0xc8, 0x48, 0x89, 0xf9, 0x55);
	/* without the need, rcx is anyone's */
	s = place_exact((const unsigned char[]){ 0x48, 0x89, 0xf9, 0x55 }, 4,
			RDI);
	cr_expect(s.offset == 3 && s.emulated, "got +%u %s", s.offset,
		  how(s.emulated));
}

Test(prologue, null_check_fallback)
{
	/*
	 * test %rdi,%rdi; je; then rdi overwritten before any site: the
	 * je, which every call reaches, is the site after all.
	 */
	expect_site(RDI | NULL_CHECK, 3, true,
		    0x48, 0x85, 0xff, 0x74, 0x10, 0x48, 0x89, 0xf7, 0x55);
}

Test(prologue, no_code)
{
	struct prologue_site s;

	memset(&s, 0xa5, sizeof(s));
	cr_assert(!prologue__place(NULL, 0, ALL, &s));
	cr_expect(s.offset == 0 && !s.emulated &&
		  s.reason == PROLOGUE_NO_CODE);
	cr_expect(!strcmp(prologue__reason_key(PROLOGUE_ARG_WRITTEN),
			  "arg_written"));
	cr_expect(!strcmp(prologue__reason_key(NR_PROLOGUE_REASONS), "?"));
}

/* Every prefix of a buffer: complete instructions only, no over-read. */
static void check_truncations(const unsigned char *code, size_t len,
			      size_t full_insn)
{
	size_t n;

	for (n = 0; n < len; n++) {
		struct prologue_site s = place_exact(code, n, ALL);

		cr_expect(s.offset == 0 || s.offset < n,
			  "len %zu: site +%u past the buffer", n, s.offset);
		if (n < full_insn)
			cr_expect(!emulated_exact(code, n) && !s.emulated,
				  "len %zu of a %zu-byte insn: emulated", n,
				  full_insn);
	}
}

Test(prologue, truncated_buffers)
{
	static const unsigned char je32[] = { 0x0f, 0x84, 0xbf, 0, 0, 0 };
	static const unsigned char nopl[] = {
		0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	static const unsigned char push[] = { 0x41, 0x54 };
	static const unsigned char free_[] = {
		0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff,
		0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55,
	};
	static const unsigned char sib[] = {
		0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00, 0x55,
	};

	check_truncations(je32, sizeof(je32), sizeof(je32));
	check_truncations(nopl, sizeof(nopl), sizeof(nopl));
	check_truncations(push, sizeof(push), sizeof(push));
	check_truncations(free_, sizeof(free_), 4);
	check_truncations(sib, sizeof(sib), sizeof(sib));
	/* the site only counts once its whole instruction is there */
	expect_site(ALL, 0, false,
		    0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff,
		    0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x41);
	expect_site(ALL, 0, false, 0x0f, 0x84, 0xbf);
	/* a cut instruction anywhere: the function's branches are unknown */
	expect_reason(ALL, PROLOGUE_UNDECODABLE,
		      0x48, 0x89, 0xfb, 0x55, 0x0f, 0x84, 0xbf);
	expect_emulated(false, 0x0f, 0x1f, 0x84, 0x00, 0x00);
	cr_expect(!prologue__emulated(NULL, 0));
}

/*
 * What attach asks for each function (alloc_fns[] and place() in attach.c):
 * the arguments the BPF programs read, the return address for a return
 * probe, and the NULL check a free may pass.
 */
#define A1		PROLOGUE_RDI
#define A2		PROLOGUE_RSI
#define A3		PROLOGUE_RDX
#define ALLOC		(ARGS | RET_AT_SP)
#define MALLOC		(A1 | RET_AT_SP)	/* valloc, pvalloc too */
#define CALLOC		(A1 | A2 | RET_AT_SP)	/* realloc too */
#define MEMALIGN	(A2 | RET_AT_SP)	/* aligned_alloc too */
#define POSIX_MEMALIGN	(A1 | A3 | RET_AT_SP)
#define FREE		(RDI | NULL_CHECK)
#define SIZED_FREE	(ARGS | NULL_CHECK)

struct real_fn {
	const char *name;
	unsigned int needs;
	unsigned int offset;
	/* PROLOGUE_NONE: emulated at offset; else single-stepped at +0 */
	enum prologue_reason reason;
	/* where the first two arguments are read (0: MS_REG_ABI) */
	unsigned char arg_reg[2];
};

struct real_lib {
	const char *path;
	/* the sites are pinned for this build; another build is skipped */
	const char *build_id;
	const struct real_fn *fns;
};

#define LIBDIR	"/usr/lib/x86_64-linux-gnu/"

/* The C API, as probed today: every function attach finds in each. */
static const struct real_fn glibc_fns[] = {
	{ "malloc", MALLOC, 0, PROLOGUE_NONE, { 0 } }, { "calloc", CALLOC, 0, PROLOGUE_NONE, { 0 } },
	{ "realloc", CALLOC, 0, PROLOGUE_NONE, { 0 } },
	/* mov %rsi,%rax; mul %rdx: the size is the product, in no register */
	{ "reallocarray", ALLOC, 0, PROLOGUE_ARG_WRITTEN, { 0 } },
	{ "free", FREE, 9, PROLOGUE_NONE, { 0 } },			/* past the NULL check */
	{ "posix_memalign", POSIX_MEMALIGN, 7, PROLOGUE_NONE, { 0 } }, { "aligned_alloc", MEMALIGN, 7, PROLOGUE_NONE, { 0 } },
	{ "memalign", MEMALIGN, 7, PROLOGUE_NONE, { 0 } }, { "valloc", MALLOC, 7, PROLOGUE_NONE, { 0 } },
	{ "pvalloc", MALLOC, 7, PROLOGUE_NONE, { 0 } },
	{ NULL, 0, 0, PROLOGUE_NONE, { 0 } },
};

static const struct real_fn jemalloc_fns[] = {
	{ "malloc", MALLOC, 7, PROLOGUE_NONE, { 0 } }, { "calloc", CALLOC, 0, PROLOGUE_NONE, { 0 } },
	{ "realloc", CALLOC, 0, PROLOGUE_NONE, { 0 } },
	{ "free", FREE, 0x30, PROLOGUE_NONE, { 0 } },			/* the jne the issue names */
	{ "posix_memalign", POSIX_MEMALIGN, 0, PROLOGUE_NONE, { 0 } }, { "aligned_alloc", MEMALIGN, 0, PROLOGUE_NONE, { 0 } },
	{ "memalign", MEMALIGN, 0, PROLOGUE_NONE, { 0 } }, { "valloc", MALLOC, 0, PROLOGUE_NONE, { 0 } },
	/* the extended API (branch families probes these) */
	{ "mallocx", ALLOC, 0, PROLOGUE_NONE, { 0 } }, { "rallocx", ALLOC, 2, PROLOGUE_NONE, { 0 } },
	{ "xallocx", ALLOC, 0, PROLOGUE_NONE, { 0 } }, { "sdallocx", SIZED_FREE, 10, PROLOGUE_NONE, { 0 } },
	{ "dallocx", FREE, 0, PROLOGUE_NONE, { 0 } },
	{ NULL, 0, 0, PROLOGUE_NONE, { 0 } },
};

static const struct real_fn tcmalloc_fns[] = {
	{ "malloc", MALLOC, 10, PROLOGUE_NONE, { 0 } }, { "calloc", CALLOC, 0, PROLOGUE_NONE, { 0 } },
	{ "realloc", CALLOC, 0, PROLOGUE_NONE, { 0 } }, { "free", FREE, 10, PROLOGUE_NONE, { 0 } },
	{ "posix_memalign", POSIX_MEMALIGN, 11, PROLOGUE_NONE, { 0 } }, { "aligned_alloc", MEMALIGN, 10, PROLOGUE_NONE, { 0 } },
	{ "memalign", MEMALIGN, 10, PROLOGUE_NONE, { 0 } }, { "valloc", MALLOC, 0, PROLOGUE_NONE, { 0 } },
	{ "pvalloc", MALLOC, 0, PROLOGUE_NONE, { 0 } },
	{ "tc_malloc", MALLOC, 10, PROLOGUE_NONE, { 0 } }, { "tc_free", FREE, 10, PROLOGUE_NONE, { 0 } },
	{ NULL, 0, 0, PROLOGUE_NONE, { 0 } },
};

/*
 * mimalloc's malloc, calloc and realloc move their arguments before their
 * first branch (mov %rdi,%rsi; mov %fs:..,%rdi): the probe reads them from
 * the copies. free copies the pointer to rcx before the NULL check.
 */
static const struct real_fn mimalloc_fns[] = {
	{ "malloc", MALLOC, 0x15, PROLOGUE_NONE, { MS_REG_RSI, 0 } },
	{ "calloc", CALLOC, 0x12, PROLOGUE_NONE, { MS_REG_RAX, 0 } },
	{ "realloc", CALLOC, 0x14, PROLOGUE_NONE, { MS_REG_RSI, MS_REG_RDX } },
	{ "reallocarray", ALLOC, 0, PROLOGUE_NONE, { 0 } },
	{ "free", FREE, 0x4c, PROLOGUE_NONE, { MS_REG_RCX, 0 } },
	{ "posix_memalign", POSIX_MEMALIGN, 0, PROLOGUE_NONE, { 0 } },
	{ "aligned_alloc", MEMALIGN, 0, PROLOGUE_NONE, { 0 } },
	{ "memalign", MEMALIGN, 0, PROLOGUE_NONE, { 0 } },
	{ "valloc", MALLOC, 0, PROLOGUE_NONE, { 0 } },
	{ "pvalloc", MALLOC, 0, PROLOGUE_NONE, { 0 } },
	{ "mi_malloc", MALLOC, 0x15, PROLOGUE_NONE, { MS_REG_RSI, 0 } },
	{ "mi_free", FREE, 0x4c, PROLOGUE_NONE, { MS_REG_RCX, 0 } },
	/* asked for all three: rsi, the second, is gone at the first branch */
	{ "malloc", ALLOC, 0, PROLOGUE_ARG_WRITTEN, { 0 } },
	{ NULL, 0, 0, PROLOGUE_NONE, { 0 } },
};

/*
 * libstdc++ (CET: endbr64 first, single-stepped, so +4 at the least).
 * The nothrow news make room on the stack before calling operator new:
 * a return probe cannot hang past that. The sized aligned deletes move
 * the alignment (rdx) over the size (rsi) before their jmp.
 */
static const struct real_fn libstdcxx_fns[] = {
	{ "_Znwm", ALLOC, 12, PROLOGUE_NONE, { 0 } }, { "_Znam", ALLOC, 4, PROLOGUE_NONE, { 0 } },
	{ "_ZnwmRKSt9nothrow_t", ALLOC, 0, PROLOGUE_STACK_CHANGED, { 0 } },
	{ "_ZnamRKSt9nothrow_t", ALLOC, 0, PROLOGUE_STACK_CHANGED, { 0 } },
	{ "_ZnwmSt11align_val_t", ALLOC, 4, PROLOGUE_NONE, { 0 } },
	{ "_ZnamSt11align_val_t", ALLOC, 4, PROLOGUE_NONE, { 0 } },
	{ "_ZnwmSt11align_val_tRKSt9nothrow_t", ALLOC, 0,
	  PROLOGUE_STACK_CHANGED, { 0 } },
	{ "_ZdlPv", FREE, 4, PROLOGUE_NONE, { 0 } }, { "_ZdaPv", FREE, 4, PROLOGUE_NONE, { 0 } },
	{ "_ZdlPvm", SIZED_FREE, 4, PROLOGUE_NONE, { 0 } }, { "_ZdaPvm", SIZED_FREE, 4, PROLOGUE_NONE, { 0 } },
	{ "_ZdlPvSt11align_val_t", SIZED_FREE, 4, PROLOGUE_NONE, { 0 } },
	{ "_ZdaPvSt11align_val_t", SIZED_FREE, 4, PROLOGUE_NONE, { 0 } },
	{ "_ZdlPvmSt11align_val_t", SIZED_FREE, 0, PROLOGUE_ARG_WRITTEN, { 0 } },
	{ "_ZdaPvmSt11align_val_t", SIZED_FREE, 0, PROLOGUE_ARG_WRITTEN, { 0 } },
	/* without the size, the jmp at +7 is safe */
	{ "_ZdlPvmSt11align_val_t", FREE, 7, PROLOGUE_NONE, { 0 } },
	{ "_ZdlPvRKSt9nothrow_t", FREE, 4, PROLOGUE_NONE, { 0 } },
	{ NULL, 0, 0, PROLOGUE_NONE, { 0 } },
};

static const struct real_lib real_libs[] = {
	{ "/lib/x86_64-linux-gnu/libc.so.6",
	  "93ac61ec5a8eb1396f9fbd350e3169a558528a40", glibc_fns },
	{ LIBDIR "libjemalloc.so.2",
	  "1d5163c246dc9cd2b4d339f2ac42efd95c6e0ae1", jemalloc_fns },
	{ LIBDIR "libtcmalloc_minimal.so.4",
	  "39dfd4a5855703fa6c2469749282f75b18a1aa66", tcmalloc_fns },
	{ LIBDIR "libmimalloc.so.2",
	  "d07f4e7dc9a039fcbe7747f416476bd65cb48e8b", mimalloc_fns },
	{ LIBDIR "libstdc++.so.6",
	  "289ee39f8c07bd4fa48102dfeeb7e6f9c76158b4", libstdcxx_fns },
};

/* The site attach would choose for name in ef: the whole function. */
static int place_real(struct elf_file *ef, const char *name,
		      unsigned int needs, struct prologue_site *s)
{
	struct elf_func f;
	unsigned char *code;
	int err;

	err = elf_file__find_func(ef, name, &f);
	if (err)
		return err;
	cr_assert(f.size && f.size <= PROLOGUE_MAX_BYTES, "%s: size %llu",
		  name, (unsigned long long)f.size);
	code = elf_file__func_code(ef, &f, PROLOGUE_MAX_BYTES);
	if (!code)
		return -errno;
	err = prologue__place(code, f.size, needs, s);
	free(code);
	return err;
}

static void check_lib(const struct real_lib *lib)
{
	struct elf_file *ef = elf_file__open(lib->path);
	const struct real_fn *fn;
	struct prologue_site s;
	char id[64];
	int err;

	cr_assert_not_null(ef, "%s: not installed (scripts/install-deps.sh)",
			   lib->path);
	if (elf_file__build_id(ef, id, sizeof(id)) ||
	    strcmp(id, lib->build_id)) {
		elf_file__free(ef);
		cr_skip_test("%s: build-id %s, the sites are pinned for %s",
			     lib->path, id, lib->build_id);
	}
	for (fn = lib->fns; fn->name; fn++) {
		err = place_real(ef, fn->name, fn->needs, &s);
		cr_expect(!err, "%s: %s: %s", lib->path, fn->name,
			  strerror(-err));
		if (err)
			continue;
		if (fn->reason == PROLOGUE_NONE)
			cr_expect(s.offset == fn->offset && s.emulated &&
				  s.reason == PROLOGUE_NONE &&
				  s.arg_reg[0] == fn->arg_reg[0] &&
				  s.arg_reg[1] == fn->arg_reg[1],
				  "%s %s needs %#x: got +%u %s (%s), arguments in %u %u, want +%u emulated, in %u %u",
				  lib->path, fn->name, fn->needs, s.offset,
				  how(s.emulated),
				  prologue__reason_key(s.reason), s.arg_reg[0],
				  s.arg_reg[1], fn->offset, fn->arg_reg[0],
				  fn->arg_reg[1]);
		else
			cr_expect(s.offset == 0 && !s.emulated &&
				  s.reason == fn->reason,
				  "%s %s needs %#x: got +%u %s (%s), want +0 single-stepped (%s)",
				  lib->path, fn->name, fn->needs, s.offset,
				  how(s.emulated),
				  prologue__reason_key(s.reason),
				  prologue__reason_key(fn->reason));
	}
	elf_file__free(ef);
}

Test(prologue, debian_glibc) { check_lib(&real_libs[0]); }
Test(prologue, debian_jemalloc) { check_lib(&real_libs[1]); }
Test(prologue, debian_tcmalloc) { check_lib(&real_libs[2]); }
Test(prologue, debian_mimalloc) { check_lib(&real_libs[3]); }
Test(prologue, debian_libstdcxx) { check_lib(&real_libs[4]); }

/* A Rust shim by its name, plain (rustc < 1.87) or mangled. */
static int place_rust(struct elf_file *ef, const char *name,
		      unsigned int needs, struct prologue_site *s)
{
	struct elf_func f;
	unsigned char *code;
	int err;

	err = elf_file__find_func(ef, name, &f);
	if (err)
		err = elf_file__find_rust_func(ef, name, &f);
	if (err)
		return err;
	code = elf_file__func_code(ef, &f, PROLOGUE_MAX_BYTES);
	if (!code)
		return -errno;
	err = prologue__place(code, f.size, needs, s);
	free(code);
	return err;
}

#define RUST_REALLOC	(RDI | PROLOGUE_RCX | RET_AT_SP)

/*
 * Rust's allocator shims in the stack targets (tests/targets/stk_rs.rs,
 * with the default allocator and with a #[global_allocator]), as Debian's
 * rustc 1.63 built them and, where the Makefile found one, a rustc >=
 * 1.87: each is emulated where it is probed. Debian's and the default
 * allocator's shims are a jmp; a global allocator's under rustc >= 1.87
 * moves arguments first (its __rust_alloc ends in its own jmp at +9, as
 * __rust_realloc does, having swapped rsi and rdx).
 */
Test(prologue, rust_shims)
{
	static const struct {
		const char *path;
		bool optional;		/* built only with a rustc >= 1.87 */
		unsigned int alloc_at, realloc_at;
	} bins[] = {
		{ ".output/targets/stk_rs", false, 0, 0 },
		{ ".output/targets/stk_rs_fwd", false, 0, 0 },
		{ ".output/targets/stk_rs_new", true, 0, 0 },
		{ ".output/targets/stk_rs_fwd_new", true, 9, 9 },
	};
	struct prologue_site s;
	struct elf_file *ef;
	unsigned int want;
	size_t b;
	int err;

	for (b = 0; b < sizeof(bins) / sizeof(*bins); b++) {
		if (bins[b].optional && access(bins[b].path, F_OK))
			continue;
		ef = elf_file__open(bins[b].path);
		cr_assert_not_null(ef, "%s: build it first (make unit does)",
				   bins[b].path);
#define EXPECT_SHIM(name, needs, at)					\
		do {							\
			err = place_rust(ef, name, needs, &s);		\
			want = (at);					\
			cr_expect(!err && s.offset == want && s.emulated, \
				  "%s %s: err %d, +%u %s (%s), want +%u", \
				  bins[b].path, name, err, s.offset,	\
				  how(s.emulated),			\
				  prologue__reason_key(s.reason), want); \
		} while (0)
		EXPECT_SHIM("__rust_alloc", ALLOC, bins[b].alloc_at);
		EXPECT_SHIM("__rust_alloc_zeroed", ALLOC, 0);
		EXPECT_SHIM("__rust_realloc", RUST_REALLOC,
			    bins[b].realloc_at);
		EXPECT_SHIM("__rust_dealloc", FREE | RET_AT_SP, 0);
#undef EXPECT_SHIM
		elf_file__free(ef);
	}
}

/*
 * The function's bytes come from the traced process's files: hostile.
 * Random bytes of every length, each in a buffer of its exact size (ASan
 * catches a read past it): a site, if any, is inside, and emulated sites
 * only where the kernel emulates the instruction there.
 */
Test(prologue, random_bytes)
{
	unsigned int seed = 12345, i, len;
	struct prologue_site s;
	unsigned char *code;

	for (i = 0; i < 1000; i++) {
		len = 1 + rand_r(&seed) % 200;
		code = malloc(len);
		cr_assert_not_null(code);
		for (unsigned int b = 0; b < len; b++)
			code[b] = rand_r(&seed);
		/* mostly prologue-like bytes: a push somewhere, often */
		if (i % 2)
			code[rand_r(&seed) % len] = 0x55;
		cr_assert(!prologue__place(code, len, ALL, &s));
		cr_expect(s.offset < len, "len %u: site +%u", len, s.offset);
		cr_expect(!s.emulated ||
			  prologue__emulated(code + s.offset, len - s.offset),
			  "len %u: +%u called emulated, it is not", len,
			  s.offset);
		cr_expect(s.emulated == (s.reason == PROLOGUE_NONE),
			  "len %u: emulated %d with reason %s", len, s.emulated,
			  prologue__reason_key(s.reason));
		free(code);
	}
}

/*
 * prologue__exit() over an exact copy: 0, *target and *calls, or the
 * error.
 */
static int exit_exact(const unsigned char *code, size_t len, __s64 *target,
		      bool *calls)
{
	unsigned char *copy = malloc(len);
	int err;

	cr_assert_not_null(copy);
	memcpy(copy, code, len);
	err = prologue__exit(copy, len, target, calls);
	free(copy);
	return err;
}

/* want_calls: it calls the place (else it jumps there) */
#define expect_exit(want_err, want_target, want_calls, ...)		\
	do {								\
		static const unsigned char code_[] = { __VA_ARGS__ };	\
		__s64 t_ = 0x5a5a;					\
		bool c_ = !(want_calls);				\
		int e_ = exit_exact(code_, sizeof(code_), &t_, &c_);	\
									\
		cr_expect(e_ == (want_err) &&				\
			  (e_ || (t_ == (want_target) &&		\
				  c_ == (want_calls))),			\
			  "{ %s }: got %d, target %lld, calls %d; want %d, %lld, %d", \
			  #__VA_ARGS__, e_, (long long)t_, c_, (want_err), \
			  (long long)(want_target), (want_calls));	\
	} while (0)

/* rel32 of a 5-byte call or jmp at off to target (function offsets) */
#define REL32(off, target)						\
	(unsigned char)((target) - (off) - 5),				\
	(unsigned char)(((target) - (off) - 5) >> 8),			\
	(unsigned char)(((target) - (off) - 5) >> 16),			\
	(unsigned char)(((target) - (off) - 5) >> 24)

Test(prologue, exit_one_place)
{
	/*
	 * operator new(size_t, nothrow_t): endbr64; sub $8,%rsp; call;
	 * add; ret, then its landing pad (endbr64; mov %rax,%rdi; jmp to
	 * the cold part), which only an exception enters.
	 */
	expect_exit(0, -0x1000, true, 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xec,
		    0x08, 0xe8, REL32(8, -0x1000), 0x48, 0x83, 0xc4, 0x08, 0xc3,
		    0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x89, 0xc7,
		    0xe9, REL32(25, -0x5000));
	/* called, then jumped to: the same place */
	expect_exit(0, 0x200, true, 0xe8, REL32(0, 0x200),
		    0xe9, REL32(5, 0x200));
	/*
	 * endbr64; sub $8,%rsp; add $8,%rsp; jmp, then code only an
	 * exception enters (endbr64; mov %rax,%rdi; jmp elsewhere)
	 */
	expect_exit(0, -0x1000, false, 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83,
		    0xec, 0x08, 0x48, 0x83, 0xc4, 0x08, 0xe9, REL32(12, -0x1000),
		    0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x89, 0xc7,
		    0xe9, REL32(24, -0x5000));
	/* reallocarray: mov; mul; mov; jo over the jmp to realloc; ENOMEM */
	expect_exit(0, 0x3000, false, 0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x48,
		    0x89, 0xc6, 0x70, 0x05, 0xe9, REL32(11, 0x3000), 0x31, 0xc0,
		    0xc3);
	/* the same place from two paths */
	expect_exit(0, 0x200, false, 0x48, 0x85, 0xff, 0x74, 0x05,
		    0xe9, REL32(5, 0x200), 0xe9, REL32(10, 0x200));
}

Test(prologue, exit_elsewhere)
{
	/* two places, by a call and by a jump */
	expect_exit(-ENOENT, 0, false, 0xe8, REL32(0, 0x200),
		    0xe9, REL32(5, 0x300));
	/* two places */
	expect_exit(-ENOENT, 0, false, 0x48, 0x85, 0xff, 0x74, 0x05,
		    0xe9, REL32(5, 0x200), 0xe9, REL32(10, 0x300));
	/* an indirect jump, an indirect call */
	expect_exit(-ENOENT, 0, false, 0xe8, REL32(0, 0x200), 0xff, 0xe0);
	expect_exit(-ENOENT, 0, false, 0xff, 0xd0, 0xe9, REL32(2, 0x200));
	/* a system call */
	expect_exit(-ENOENT, 0, false, 0x0f, 0x05, 0xe9, REL32(2, 0x200));
	/* nowhere: it returns, or runs off its end */
	expect_exit(-ENOENT, 0, false, 0x31, 0xc0, 0xc3);
	expect_exit(-ENOENT, 0, false, 0x90, 0x90);
	expect_exit(-ENOENT, 0, false, 0xe8, REL32(0, 0x200), 0x90);
	/* a cut instruction */
	expect_exit(-ENOENT, 0, false, 0xe8, 0x00, 0x01);
}

/*
 * The forwarders of Debian's libraries, as attach finds them: the one
 * place each reaches, named through the PLT.
 */
static void expect_forwards(const char *path, const char *name,
			    const char *to, bool want_calls)
{
	struct elf_file *ef = elf_file__open(path);
	struct elf_func f;
	unsigned char *code;
	char got[64];
	bool calls;
	__s64 off;
	int err;

	cr_assert_not_null(ef, "%s: not installed (scripts/install-deps.sh)",
			   path);
	cr_assert(!elf_file__find_func(ef, name, &f), "%s: no %s", path, name);
	code = elf_file__func_code(ef, &f, PROLOGUE_MAX_BYTES);
	cr_assert_not_null(code, "%s: its code: %s", path, strerror(errno));
	err = prologue__exit(code, f.size, &off, &calls);
	free(code);
	cr_assert(!err, "%s %s: no one place it leaves for: %s", path, name,
		  strerror(-err));
	cr_expect_eq(calls, want_calls, "%s %s: calls %d, want %d", path,
		     name, calls, want_calls);
	err = elf_file__plt_import(ef, f.vaddr + off, got, sizeof(got));
	cr_expect(!err && !strcmp(got, to), "%s %s: got %s, want %s", path,
		  name, err ? strerror(-err) : got, to);
	elf_file__free(ef);
}

Test(prologue, debian_forwarders)
{
	struct elf_file *ef;
	struct elf_func f;
	char got[64];

	expect_forwards("/lib/x86_64-linux-gnu/libc.so.6", "reallocarray",
			"realloc", false);
	expect_forwards(LIBDIR "libstdc++.so.6", "_ZnwmRKSt9nothrow_t",
			"_Znwm", true);
	expect_forwards(LIBDIR "libstdc++.so.6", "_ZnamRKSt9nothrow_t",
			"_Znam", true);
	expect_forwards(LIBDIR "libstdc++.so.6",
			"_ZnwmSt11align_val_tRKSt9nothrow_t",
			"_ZnwmSt11align_val_t", true);
	expect_forwards(LIBDIR "libstdc++.so.6",
			"_ZnamSt11align_val_tRKSt9nothrow_t",
			"_ZnamSt11align_val_t", true);
	/* a function's own code is no PLT stub */
	ef = elf_file__open("/lib/x86_64-linux-gnu/libc.so.6");
	cr_assert_not_null(ef);
	cr_assert(!elf_file__find_func(ef, "malloc", &f));
	cr_expect_eq(elf_file__plt_import(ef, f.vaddr, got, sizeof(got)),
		     -ENOENT);
	/* nor an address outside every section */
	cr_expect_eq(elf_file__plt_import(ef, ~0ull, got, sizeof(got)),
		     -ENOENT);
	elf_file__free(ef);
}

/* prologue__exits() over an exact copy, at most max exits into ex. */
static int exits_exact(const unsigned char *code, size_t len,
		       struct prologue_exit *ex, size_t max, size_t *nr)
{
	unsigned char *copy = malloc(len);
	int err;

	cr_assert_not_null(copy);
	memcpy(copy, code, len);
	err = prologue__exits(copy, len, ex, max, nr);
	free(copy);
	return err;
}

Test(prologue, exits_every_branch_out)
{
	/*
	 * libstdc++'s operator new, shortened: endbr64; push %rbx;
	 * call malloc; test; je over; pop; ret; call *%rax (the
	 * new_handler); jmp to the cold part (the throw).
	 */
	static const unsigned char code[] = {
		0xf3, 0x0f, 0x1e, 0xfa, 0x53,
		0xe8, REL32(5, -0x100),
		0x48, 0x85, 0xc0, 0x74, 0x02, 0x5b, 0xc3,
		0xff, 0xd0,
		0xe9, REL32(19, -0x5000),
	};
	struct prologue_exit ex[4];
	size_t nr = 0, i;
	bool call = false, indirect = false, cold = false;

	cr_assert_eq(exits_exact(code, sizeof(code), ex, 4, &nr), 0);
	cr_assert_eq(nr, 3, "got %zu exits", nr);
	for (i = 0; i < nr; i++) {
		if (ex[i].target == -0x100)
			call = ex[i].calls && ex[i].ret == 10;
		else if (ex[i].target == PROLOGUE_INDIRECT)
			indirect = ex[i].calls && ex[i].ret == 19;
		else if (ex[i].target == -0x5000)
			cold = !ex[i].calls;
	}
	cr_expect(call && indirect && cold,
		  "call malloc %d (returning to 10), indirect %d, cold %d",
		  call, indirect, cold);
	/* more than max: refused, not cut */
	cr_expect_eq(exits_exact(code, sizeof(code), ex, 2, &nr), -ENOENT);
	/* an indirect jump or a system call: it may go anywhere */
	{
		static const unsigned char jmp[] = { 0xe8, REL32(0, 0x200),
						     0xff, 0xe0 };
		static const unsigned char sys[] = { 0x0f, 0x05, 0xc3 };

		cr_expect_eq(exits_exact(jmp, sizeof(jmp), ex, 4, &nr),
			     -ENOENT);
		cr_expect_eq(exits_exact(sys, sizeof(sys), ex, 4, &nr),
			     -ENOENT);
	}
}

static bool c_allocator(const char *name)
{
	return !strcmp(name, "malloc") || !strcmp(name, "aligned_alloc");
}

static bool cxx_throwing(const char *name)
{
	return !strcmp(name, "_Znwm") || !strcmp(name, "_ZnwmSt11align_val_t");
}

/*
 * layer__of() on a Debian library's function, probed where placement
 * puts a return-probed allocator's probe: want_err, the name that counts
 * its blocks and the span (in MS_COOKIE_SPAN_UNIT) when it is a layer.
 */
static void expect_layer(const char *path, const char *sym, int want_err,
			 const char *want_name, unsigned int want_span)
{
	struct elf_file *ef = elf_file__open(path);
	struct prologue_site site;
	unsigned int span = 0;
	struct elf_func f;
	unsigned char *code;
	char name[64];
	int err;

	cr_assert_not_null(ef, "%s: not installed (scripts/install-deps.sh)",
			   path);
	cr_assert(!elf_file__find_func(ef, sym, &f), "%s: no %s", path, sym);
	code = elf_file__func_code(ef, &f, PROLOGUE_MAX_BYTES);
	cr_assert_not_null(code, "%s: its code: %s", path, strerror(errno));
	cr_assert(!prologue__place(code, f.size,
				   PROLOGUE_RDI | PROLOGUE_RET_AT_SP, &site));
	free(code);
	err = layer__of(ef, &f, site.offset, c_allocator, cxx_throwing, name,
			sizeof(name), &span);
	cr_expect_eq(err, want_err, "%s %s: got %d, want %d", path, sym, err,
		     want_err);
	if (!err && !want_err)
		cr_expect(!strcmp(name, want_name) && span == want_span,
			  "%s %s: counted at %s, span %u; want %s, %u", path,
			  sym, name, span, want_name, want_span);
	elf_file__free(ef);
}

Test(prologue, debian_layers)
{
	/*
	 * libstdc++ 12: operator new's probe at +12 (push %rbx), malloc
	 * returning at +0x1c; the aligned one's at +4, aligned_alloc
	 * returning at +0x46; new[] and aligned new[] jump to them.
	 */
	expect_layer(LIBDIR "libstdc++.so.6", "_Znwm", 0, "malloc", 4);
	expect_layer(LIBDIR "libstdc++.so.6", "_ZnwmSt11align_val_t", 0,
		     "aligned_alloc", 17);
	expect_layer(LIBDIR "libstdc++.so.6", "_Znam", 0, "_Znwm", 1);
	expect_layer(LIBDIR "libstdc++.so.6", "_ZnamSt11align_val_t", 0,
		     "_ZnwmSt11align_val_t", 1);
	/* allocators whose operator new allocates in its own code */
	expect_layer(LIBDIR "libjemalloc.so.2", "_Znwm", -ENOENT, NULL, 0);
	expect_layer(LIBDIR "libtcmalloc_minimal.so.4", "_Znwm", -ENOENT,
		     NULL, 0);
	expect_layer(LIBDIR "libmimalloc.so.2", "_Znwm", -ENOENT, NULL, 0);
	/* malloc calls no allocator through the PLT */
	expect_layer("/lib/x86_64-linux-gnu/libc.so.6", "malloc", -ENOENT,
		     NULL, 0);
}

/* The straight run of code: up to and with its first jump or return. */
static void expect_straight(const unsigned char *code, size_t len, int err,
			    size_t end, const char *what)
{
	size_t got = 0;
	int r = prologue__straight(code, len, &got);

	cr_expect_eq(r, err, "%s: %d, want %d", what, r, err);
	if (!err && !r)
		cr_expect_eq(got, end, "%s: ends at %zu, want %zu", what, got,
			     end);
}

Test(prologue, straight_run)
{
	/*
	 * glibc's RTLD_START: mov %rsp,%rdi; call _dl_start; mov %rax,%r12;
	 * ...; call _dl_init; mov %r13,%rsp; jmp *%r12, then padding.
	 */
	static const unsigned char rtld[] = {
		0x48, 0x89, 0xe7, 0xe8, 0xf8, 0x0b, 0x00, 0x00,
		0x49, 0x89, 0xc4, 0x31, 0xed, 0xe8, 0xf0, 0x9e,
		0xfe, 0xff, 0x4c, 0x89, 0xec, 0x41, 0xff, 0xe4,
		0x0f, 0x1f, 0x00,
	};
	/* crt1's _start: xor %ebp,%ebp; ...; call *...(%rip); hlt */
	static const unsigned char start[] = {
		0x31, 0xed, 0x49, 0x89, 0xd1, 0x5e, 0xff, 0x15,
		0x00, 0x00, 0x00, 0x00, 0xf4, 0x90,
	};
	static const unsigned char ret[] = { 0x90, 0xc3, 0xcc };
	static const unsigned char ud2[] = { 0x0f, 0x0b, 0x90 };
	static const unsigned char jmp8[] = { 0xeb, 0xfe, 0x90 };
	/* a jcc falls through: the run goes on to the ret */
	static const unsigned char jcc[] = { 0x74, 0x02, 0x90, 0x90, 0xc3 };
	static const unsigned char calls_only[] = {
		0xe8, 0x00, 0x00, 0x00, 0x00, 0x90,
	};
	/* a call cut short by the end of the buffer */
	static const unsigned char cut[] = { 0x90, 0xe8, 0x00, 0x00 };
	static const unsigned char bad[] = { 0x06, 0xc3 };	/* push %es */

	expect_straight(rtld, sizeof(rtld), 0, 24, "RTLD_START");
	expect_straight(start, sizeof(start), 0, 13, "_start");
	expect_straight(ret, sizeof(ret), 0, 2, "ret");
	expect_straight(ud2, sizeof(ud2), 0, 2, "ud2");
	expect_straight(jmp8, sizeof(jmp8), 0, 2, "jmp .");
	expect_straight(jcc, sizeof(jcc), 0, 5, "jcc");
	expect_straight(calls_only, sizeof(calls_only), -ENOENT, 0,
			"calls, then the end");
	expect_straight(cut, sizeof(cut), -ENOENT, 0, "cut call");
	expect_straight(bad, sizeof(bad), -ENOENT, 0, "invalid in 64-bit");
	expect_straight(NULL, 0, -ENOENT, 0, "no code");
	expect_straight(ret, 0, -ENOENT, 0, "zero bytes");
}

/*
 * The addresses rip-relative leas load, in code order, as offsets from
 * the start (what makecontext names __start_context with); other leas and
 * rip-relative operands of other instructions are not taken.
 */
Test(prologue, rip_relative_leas)
{
	static const unsigned char code[] = {
		/* lea 0x10(%rip),%rdi: next insn at 7, names 0x17 */
		0x48, 0x8d, 0x3d, 0x10, 0x00, 0x00, 0x00,
		/* lea 0x8(%rbx),%rax */
		0x48, 0x8d, 0x43, 0x08,
		/* mov 0x20(%rip),%rax: a load, not a lea */
		0x48, 0x8b, 0x05, 0x20, 0x00, 0x00, 0x00,
		/* lea -0x40(%rip),%rsi: next insn at 25, names -39 */
		0x48, 0x8d, 0x35, 0xc0, 0xff, 0xff, 0xff,
		0xc3,
	};
	static const unsigned char bad[] = { 0x48, 0x8d, 0x3d, 0x10, 0x06 };
	__s64 out[4];
	size_t nr;

	cr_assert_eq(prologue__rip_leas(code, sizeof(code), out, 4, &nr), 0);
	cr_assert_eq(nr, 2, "leas: %zu", nr);
	cr_expect_eq(out[0], 0x17, "first: %lld", (long long)out[0]);
	cr_expect_eq(out[1], -39, "second: %lld", (long long)out[1]);
	/* max bounds what is written */
	cr_assert_eq(prologue__rip_leas(code, sizeof(code), out, 1, &nr), 0);
	cr_expect_eq(nr, 1);
	cr_expect_eq(prologue__rip_leas(bad, sizeof(bad), out, 4, &nr),
		     -ENOENT, "a cut instruction");
	cr_expect_eq(prologue__rip_leas(NULL, 0, out, 4, &nr), -ENOENT);
}

/* prologue_fp__scan's rules, as emitted: where each starts. */
struct fp_rules {
	__u64 pc[64];
	enum prologue_fp_rule rule[64];
	__s32 cfa[64];
	size_t nr;
	/* the code scanned, which prologue_fp_read reads */
	const unsigned char *code;
	size_t len;
	__u64 addr;
};

static int fp_read_code(void *ctx, __u64 addr, void *buf, size_t len)
{
	const struct fp_rules *r = ctx;

	if (addr < r->addr || addr - r->addr > r->len ||
	    len > r->len - (addr - r->addr))
		return -EIO;
	memcpy(buf, r->code + (addr - r->addr), len);
	return 0;
}

static int fp_collect(void *ctx, __u64 pc, enum prologue_fp_rule rule,
		      __s32 cfa)
{
	struct fp_rules *r = ctx;

	cr_assert_lt(r->nr, 64);
	cr_assert(!r->nr || r->pc[r->nr - 1] < pc, "rules in pc order");
	cr_assert_eq(!cfa, rule != PROLOGUE_FP_FRAME_RA, "cfa %d", cfa);
	r->pc[r->nr] = pc;
	r->cfa[r->nr] = cfa;
	r->rule[r->nr++] = rule;
	return 0;
}

static enum prologue_fp_rule fp_rule_cfa_at(const struct fp_rules *r,
					    __u64 pc, __s32 *cfa)
{
	enum prologue_fp_rule rule = PROLOGUE_FP_NONE;
	size_t i;

	*cfa = 0;
	for (i = 0; i < r->nr && r->pc[i] <= pc; i++) {
		rule = r->rule[i];
		*cfa = r->cfa[i];
	}
	return rule;
}

static enum prologue_fp_rule fp_rule_at(const struct fp_rules *r, __u64 pc)
{
	__s32 cfa;

	return fp_rule_cfa_at(r, pc, &cfa);
}

/* Scans code at addr in pieces of step bytes (the caller's chunks). */
static void fp_scan(const unsigned char *code, size_t len, __u64 addr,
		    size_t step, struct fp_rules *out)
{
	struct prologue_fp *s = prologue_fp__new(fp_collect, fp_read_code, out);
	unsigned char buf[256];
	size_t have = 0, at = 0, used, n;
	bool last;

	cr_assert(s);
	memset(out, 0, sizeof(*out));
	out->code = code;
	out->len = len;
	out->addr = addr;
	while (at < len) {
		n = len - at - have < step ? len - at - have : step;
		memcpy(buf + have, code + at + have, n);
		have += n;
		last = at + have == len;
		cr_assert_eq(prologue_fp__scan(s, buf, have, addr + at, last,
					       &used), 0);
		memmove(buf, buf + used, have - used);
		have -= used;
		at += used;
		if (last)
			break;
	}
	prologue_fp__free(s);
}

/*
 * A function with frame pointers and no CFI: its prologue, a switch (an
 * indirect jump, a case reached only through its table), a trap after a
 * call that does not return (ud1, which Capstone 4 decodes short), the
 * epilogue a jump lands in; then padding, a function without a frame,
 * and one whose rsp moved before its prologue (GCC's DRAP).
 */
static const unsigned char fp_code[] = {
	0x55,				/* 00 push %rbp */
	0x66, 0x0f, 0xef, 0xc0,		/* 01 pxor (scheduled by GCC) */
	0x48, 0x89, 0xe5,		/* 05 mov %rsp,%rbp */
	0x74, 0x16,			/* 08 je 20 */
	0xff, 0xe0,			/* 0a jmp *%rax */
	0xe8, 0x00, 0x00, 0x00, 0x00,	/* 0c call (a case) */
	0xe9, 0x00, 0x00, 0x00, 0x00,	/* 11 jmp 16 */
	0xe8, 0x00, 0x00, 0x00, 0x00,	/* 16 call */
	0x67, 0x0f, 0xb9, 0x40, 0x01,	/* 1b ud1 0x1(%eax),%eax */
	0x5d,				/* 20 pop %rbp */
	0xc3,				/* 21 ret */
	0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,	/* 22 padding */
	0x48, 0x83, 0xec, 0x08,		/* 28 sub $8,%rsp: no frame */
	0xe8, 0x00, 0x00, 0x00, 0x00,	/* 2c call */
	0x48, 0x83, 0xc4, 0x08,		/* 31 add $8,%rsp */
	0xc3,				/* 35 ret */
	0x48, 0x83, 0xec, 0x08,		/* 36 sub $8,%rsp */
	0x55,				/* 3a push %rbp: rsp moved first */
	0x48, 0x89, 0xe5,		/* 3b mov %rsp,%rbp */
	0xe8, 0x00, 0x00, 0x00, 0x00,	/* 3e call */
	0xc9,				/* 43 leave */
	0xc3,				/* 44 ret */
};

/* The rule expected at base + off. */
struct fp_want {
	__u64 off;
	enum prologue_fp_rule rule;
};

static void fp_expect_rules(const struct fp_rules *r, __u64 base,
			    const struct fp_want *want, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		cr_expect_eq(fp_rule_at(r, base + want[i].off), want[i].rule,
			     "at +%#llx: rule %d, expected %d",
			     (unsigned long long)want[i].off,
			     fp_rule_at(r, base + want[i].off), want[i].rule);
}

static void fp_expect(const struct fp_rules *r)
{
	static const struct fp_want want[] = {
		{ 0x00, PROLOGUE_FP_ENTRY }, { 0x01, PROLOGUE_FP_PUSHED },
		{ 0x05, PROLOGUE_FP_PUSHED }, { 0x08, PROLOGUE_FP_FRAME },
		{ 0x0c, PROLOGUE_FP_FRAME },	/* the case, between kept runs */
		{ 0x11, PROLOGUE_FP_FRAME }, { 0x16, PROLOGUE_FP_FRAME },
		{ 0x20, PROLOGUE_FP_FRAME }, { 0x21, PROLOGUE_FP_ENTRY },
		{ 0x22, PROLOGUE_FP_NONE }, { 0x28, PROLOGUE_FP_NONE },
		{ 0x31, PROLOGUE_FP_NONE }, { 0x3a, PROLOGUE_FP_NONE },
		{ 0x3e, PROLOGUE_FP_NONE }, { 0x44, PROLOGUE_FP_NONE },
		{ 0x45, PROLOGUE_FP_NONE },
	};

	fp_expect_rules(r, 0x1000, want, sizeof(want) / sizeof(want[0]));
}

Test(prologue_fp, frame_pointer_code_rules)
{
	struct fp_rules r;

	fp_scan(fp_code, sizeof(fp_code), 0x1000, sizeof(fp_code), &r);
	fp_expect(&r);
}

Test(prologue_fp, same_rules_in_small_chunks)
{
	struct fp_rules r;

	fp_scan(fp_code, sizeof(fp_code), 0x1000, 7, &r);
	fp_expect(&r);
}

/* Code without a prologue keeps no rule, whatever follows. */
Test(prologue_fp, no_prologue_no_rule)
{
	static const unsigned char code[] = {
		0x53,				/* push %rbx */
		0xe8, 0x00, 0x00, 0x00, 0x00,	/* call */
		0x5b,				/* pop %rbx */
		0xc3,				/* ret */
		0x48, 0x89, 0xe5,		/* mov %rsp,%rbp, no push */
		0xe8, 0x00, 0x00, 0x00, 0x00,	/* call */
		0xc3,
	};
	struct fp_rules r;
	size_t i;

	fp_scan(code, sizeof(code), 0x2000, sizeof(code), &r);
	for (i = 0; i < r.nr; i++)
		cr_expect_eq(r.rule[i], PROLOGUE_FP_NONE, "rule at %#llx",
			     (unsigned long long)r.pc[i]);
}

/*
 * A switch through a table of offsets (clang's and V8's form): the cases,
 * which nothing but the table reaches and after which nothing is kept,
 * keep the frame because the table names them.
 */
Test(prologue_fp, switch_cases_from_the_table)
{
	static const unsigned char code[] = {
		0x55,				/* 00 push %rbp */
		0x48, 0x89, 0xe5,		/* 01 mov %rsp,%rbp */
		0x83, 0xf8, 0x02,		/* 04 cmp $2,%eax */
		0x77, 0xfb,			/* 07 ja 04: 3 cases */
		0x48, 0x8d, 0x0d, 0x20, 0x00, 0x00, 0x00,
						/* 09 lea 30(%rip),%rcx */
		0x48, 0x63, 0x04, 0x81,		/* 10 movslq (%rcx,%rax,4),%rax */
		0x48, 0x01, 0xc8,		/* 14 add %rcx,%rax */
		0xff, 0xe0,			/* 17 jmp *%rax */
		0xe8, 0x00, 0x00, 0x00, 0x00,	/* 19 case 0: call */
		0x5d, 0xc3,			/* 1e pop %rbp; ret */
		0xe8, 0x00, 0x00, 0x00, 0x00,	/* 20 case 1 */
		0x5d, 0xc3,			/* 25 */
		0xe8, 0x00, 0x00, 0x00, 0x00,	/* 27 case 2 */
		0x5d, 0xc3,			/* 2c */
		0x90, 0x90,			/* 2e */
		0xe9, 0xff, 0xff, 0xff,		/* 30 table: 19 - 30 */
		0xf0, 0xff, 0xff, 0xff,		/* 34 20 - 30 */
		0xf7, 0xff, 0xff, 0xff,		/* 38 27 - 30 */
	};
	static const struct fp_want want[] = {
		{ 0x04, PROLOGUE_FP_FRAME }, { 0x19, PROLOGUE_FP_FRAME },
		{ 0x1f, PROLOGUE_FP_ENTRY }, { 0x20, PROLOGUE_FP_FRAME },
		{ 0x26, PROLOGUE_FP_ENTRY }, { 0x27, PROLOGUE_FP_FRAME },
		{ 0x2d, PROLOGUE_FP_ENTRY }, { 0x2e, PROLOGUE_FP_NONE },
		{ 0x30, PROLOGUE_FP_NONE },
	};
	struct fp_rules r;

	fp_scan(code, sizeof(code), 0x3000, sizeof(code), &r);
	fp_expect_rules(&r, 0x3000, want, sizeof(want) / sizeof(want[0]));
}

/*
 * A function that pops its return address, pushes what it passes on and
 * the address again, then makes its frame (V8's API-call builtins): from
 * the frame on, the CFA is rbp + 40 (above the three pushes, the address
 * and rbp) with the address at rbp + 8; its prologue and epilogue, where
 * rsp is not the entry's, get none.
 */
static const unsigned char ra_pushed_again[] = {
	0xcc, 0xcc, 0xcc, 0xcc,		/* 00 padding */
	0x58,				/* 04 pop %rax */
	0x41, 0x52,			/* 05 push %r10 */
	0x53,				/* 07 push %rbx */
	0x57,				/* 08 push %rdi */
	0x48, 0x89, 0xe3,		/* 09 mov %rsp,%rbx */
	0x50,				/* 0c push %rax */
	0x55,				/* 0d push %rbp */
	0x48, 0x89, 0xe5,		/* 0e mov %rsp,%rbp */
	0x6a, 0x06,			/* 11 push $6 */
	0xff, 0xd2,			/* 13 call *%rdx */
	0x48, 0x8b, 0x45, 0x28,		/* 15 mov 0x28(%rbp),%rax */
	0xc9,				/* 19 leave */
	0x59,				/* 1a pop %rcx */
	0x48, 0x01, 0xdc,		/* 1b add %rbx,%rsp */
	0x51,				/* 1e push %rcx */
	0xc3,				/* 1f ret */
	0xcc, 0xcc, 0xcc, 0xcc,		/* 20 */
};

Test(prologue_fp, return_address_pushed_again)
{
	static const struct fp_want want[] = {
		{ 0x04, PROLOGUE_FP_NONE }, { 0x0d, PROLOGUE_FP_NONE },
		{ 0x0e, PROLOGUE_FP_NONE }, { 0x11, PROLOGUE_FP_FRAME_RA },
		{ 0x15, PROLOGUE_FP_FRAME_RA }, { 0x19, PROLOGUE_FP_FRAME_RA },
		{ 0x1a, PROLOGUE_FP_NONE }, { 0x1f, PROLOGUE_FP_NONE },
		{ 0x20, PROLOGUE_FP_NONE },
	};
	size_t steps[] = { sizeof(ra_pushed_again), 7 };
	struct fp_rules r;
	__s32 cfa;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		fp_scan(ra_pushed_again, sizeof(ra_pushed_again), 0x5000,
			steps[i], &r);
		fp_expect_rules(&r, 0x5000, want,
				sizeof(want) / sizeof(want[0]));
		cr_expect_eq(fp_rule_cfa_at(&r, 0x5015, &cfa),
			     PROLOGUE_FP_FRAME_RA);
		cr_expect_eq(cfa, 40, "CFA at rbp + %d, expected + 40", cfa);
	}
}

/*
 * Where the code does not show where the return address is, nothing is
 * believed: the register overwritten before its push, the pop not the
 * first instruction after padding, no padding before it (a block after a
 * jump, whose rsp need not be the entry's), rsp moved otherwise.
 */
Test(prologue_fp, return_address_not_shown)
{
	unsigned char code[sizeof(ra_pushed_again) + 4];
	struct fp_rules r;
	size_t i;
	int k;

	for (k = 0; k < 4; k++) {
		memcpy(code, ra_pushed_again, sizeof(ra_pushed_again));
		memset(code + sizeof(ra_pushed_again), 0xcc, 4);
		if (k == 0) {
			/* 09: mov %rsp,%rax for mov %rsp,%rbx */
			code[0x0b] = 0xe0;
		} else if (k == 1) {
			/* nop first, the pop after it */
			memmove(code + 5, code + 4, sizeof(code) - 5);
			code[4] = 0x90;
		} else if (k == 2) {
			/* a jmp's end before it, not padding */
			code[2] = 0xeb;
			code[3] = 0xfe;
		} else {
			/* 09: mov %rbx,%rsp for mov %rsp,%rbx */
			code[0x09] = 0x48;
			code[0x0a] = 0x89;
			code[0x0b] = 0xdc;	/* mov %rbx,%rsp */
		}
		fp_scan(code, sizeof(code), 0x6000, sizeof(code), &r);
		for (i = 0; i < sizeof(code); i++)
			cr_expect_eq(fp_rule_at(&r, 0x6000 + i),
				     PROLOGUE_FP_NONE, "case %d, at +%#zx: rule %d",
				     k, i, fp_rule_at(&r, 0x6000 + i));
	}
}
