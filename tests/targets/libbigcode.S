/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libbigcode_a.so, libbigcode_b.so (BIG_ID 1 and 2: two files, two
 * build-ids): 32 MB of frame-pointer functions without CFI, 250,000
 * times push %rbp; mov %rsp,%rbp; 53 more; pop %rbp; ret, each 16-byte
 * aligned after int3 padding, as clang lays them out. The tool decodes
 * all of it (14M instructions) for their unwind tables (a million
 * rows), on threads (its scan is cut between functions: the unit test
 * unwind_table/scan_shares_join_as_one checks the rows are the ones one
 * scan makes), seconds each: libraries big enough to hold a compile worker,
 * as LLVM's did before the scan kept to code sections (0.4 s now). In
 * libbigcode_a one function has CFI: a table that is not frame-pointer
 * rows alone goes to the table cache; libbigcode_b's, without any CFI,
 * does not (a debug file installed later would give it other rows).
 */
	.text
#if BIG_ID == 1
	.globl	big_cfi
	.type	big_cfi, @function
big_cfi:
	.cfi_startproc
	mov	$BIG_ID, %eax
	ret
	.cfi_endproc
	.size	big_cfi, .-big_cfi
#endif

	.globl	big_code
	.type	big_code, @function
big_code:
	.rept	250000
	.balign	16, 0xcc
	push	%rbp
	mov	%rsp, %rbp
	add	$BIG_ID, %rax
	.rept	52
	xor	%eax, %ecx
	.endr
	pop	%rbp
	ret
	.endr
	.size	big_code, .-big_code
	.section .note.GNU-stack, "", @progbits
