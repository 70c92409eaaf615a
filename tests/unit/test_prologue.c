/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Probe placement. Every byte pattern is copied into a heap buffer of its
 * exact size, so ASan turns any read past len into a failure.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "prologue.h"

#define ARGS		PROLOGUE_ARGS
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
	/* f2 0f 1e fa is no endbr64 */
	expect_site(ALL, 0, false, 0xf2, 0x0f, 0x1e, 0xfa, 0x55);
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
	/* xor %edi,%edi and mov $0,%r9d too */
	expect_site(ARGS, 0, false, 0x31, 0xff, 0x55);
	expect_site(ARGS, 0, false, 0x41, 0xb9, 0x00, 0x00, 0x00, 0x00, 0x55);
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
	/* glibc 2.36 reallocarray: mov %rsi,%rax; mul %rdx; ... */
	expect_site(ALL, 0, false,
		    0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x48, 0x89, 0xc6,
		    0x70, 0x05);
	expect_site(0, 0, false,
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

Test(prologue, unknown_ends_scan)
{
	/* ud2 */
	expect_site(0, 0, false, 0x0f, 0x0b, 0x55);
	/* a skippable mov, then an unknown opcode (cpuid) before the push */
	expect_site(0, 0, false, 0x48, 0x89, 0xfb, 0x0f, 0xa2, 0x55);
	/* lock prefix: not decoded, so never chosen */
	expect_site(0, 0, false, 0xf0, 0x48, 0x01, 0x07, 0x55);
}

Test(prologue, scan_is_bounded)
{
	/* eight mov %rax,%rbx, then a push: past the instruction budget */
	expect_site(ALL, 0, false,
		    0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3,
		    0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3,
		    0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3, 0x55);
	/* seven of them: the push is the eighth instruction */
	expect_site(ALL, 21, true,
		    0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3,
		    0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3,
		    0x48, 0x89, 0xc3, 0x55);
	/* three movabs $imm64,%rax: the push at +30 is in, at +33 out */
	expect_site(ALL, 30, true,
		    0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8,
		    0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8,
		    0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 0x55);
	expect_site(ALL, 0, false,
		    0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8,
		    0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8,
		    0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8,
		    0x48, 0x89, 0xc3, 0x55);
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
	expect_emulated(false, 0x0f, 0x1f, 0x84, 0x00, 0x00);
	cr_expect(!prologue__emulated(NULL, 0));
}

/*
 * This machine's glibc (2.36, no CET). Under ASan, RTLD_DEFAULT would give
 * the sanitizer's free(); ask libc itself.
 */
static const unsigned char *libc_fn(const char *name)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	void *fn;

	cr_assert_not_null(libc, "libc.so.6 not loaded: %s", dlerror());
	fn = dlsym(libc, name);
	cr_assert_not_null(fn, "no %s in libc: %s", name, dlerror());
	dlclose(libc);
	return fn;
}

/* 0x100 in want matches any byte */
static void skip_unless_glibc236(const char *name, const unsigned char *code,
				 const unsigned int *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (want[i] < 0x100 && code[i] != want[i])
			cr_skip_test("%s() byte %zu is %#04x, glibc 2.36 has %#04x: another libc, layout not pinned",
				     name, i, code[i], want[i]);
	}
}

Test(prologue, glibc_free)
{
	static const unsigned int want[] = {
		0x48, 0x85, 0xff, 0x0f, 0x84, 0x100, 0x100, 0x100, 0x100, 0x55,
	};
	const unsigned char *code = libc_fn("free");
	struct prologue_site s;

	skip_unless_glibc236("free", code, want, sizeof(want) / sizeof(*want));
	prologue__place(code, 32, NULL_CHECK | ARGS, &s);
	cr_expect(s.offset == 9 && s.emulated, "libc free: got +%u %s",
		  s.offset, how(s.emulated));
	prologue__place(code, 32, ARGS, &s);
	cr_expect(s.offset == 3 && s.emulated,
		  "libc free without the NULL check: got +%u %s", s.offset,
		  how(s.emulated));
}

Test(prologue, glibc_malloc)
{
	static const unsigned int want[] = {
		0x41, 0x54, 0x55, 0x53, 0x48, 0x89, 0xfb,
	};
	const unsigned char *code = libc_fn("malloc");
	struct prologue_site s;

	skip_unless_glibc236("malloc", code, want,
			     sizeof(want) / sizeof(*want));
	prologue__place(code, 32, ARGS | RET_AT_SP, &s);
	cr_expect(s.offset == 0 && s.emulated, "libc malloc: got +%u %s",
		  s.offset, how(s.emulated));
}
