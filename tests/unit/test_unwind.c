// SPDX-License-Identifier: (MIT OR Apache-2.0)
/* The loader's pure logic: mapping biases and the process's sorted maps. */
#include <criterion/criterion.h>
#include <errno.h>
#include "unwind.h"

/* A PIE as ld.so maps it: r--, r-x, r--, rw- segments. */
static const struct elf_segment pie[] = {
	{ .offset = 0x0, .vaddr = 0x0, .filesz = 0x6f0, .flags = 4 },
	{ .offset = 0x1000, .vaddr = 0x1000, .filesz = 0x2d5, .flags = 5 },
	{ .offset = 0x2000, .vaddr = 0x2000, .filesz = 0x1a4, .flags = 4 },
	{ .offset = 0x2db8, .vaddr = 0x3db8, .filesz = 0x268, .flags = 6 },
};

/* ms_file_bias() over the executable segments of segs, as the loader does. */
static int bias_len(const struct elf_segment *segs, size_t nr, __u64 start,
		    __u64 len, __u64 offset, __u64 *bias)
{
	struct ms_file_seg x[MS_FILE_SEGS];

	return ms_file_bias(x, unwind_file_segs(segs, nr, x), start, len,
			    offset, bias);
}

/* ... of a one-page mapping. */
static int bias_of(const struct elf_segment *segs, size_t nr, __u64 start,
		   __u64 offset, __u64 *bias)
{
	return bias_len(segs, nr, start, 0x1000, offset, bias);
}

Test(unwind, executable_segments_are_kept)
{
	struct elf_segment many[MS_FILE_SEGS + 2];
	struct ms_file_seg x[MS_FILE_SEGS];
	size_t i;

	cr_expect_eq(unwind_file_segs(pie, 4, x), 1, "one r-x of four");
	cr_expect_eq(x[0].offset, 0x1000);
	cr_expect_eq(x[0].vaddr, 0x1000);
	cr_expect_eq(x[0].filesz, 0x2d5);
	for (i = 0; i < MS_FILE_SEGS + 2; i++)
		many[i] = (struct elf_segment){ .offset = i << 12,
						.vaddr = i << 12,
						.filesz = 0x100, .flags = 5 };
	cr_expect_eq(unwind_file_segs(many, MS_FILE_SEGS + 2, x),
		     MS_FILE_SEGS, "at most MS_FILE_SEGS");
	cr_expect_eq(x[MS_FILE_SEGS - 1].offset, (MS_FILE_SEGS - 1) << 12,
		     "the first ones, in file order");
}

Test(unwind, bias_of_a_pie_text_mapping)
{
	__u64 bias = 0;

	cr_assert_eq(bias_of(pie, 4, 0x55d0c0001000, 0x1000, &bias), 1);
	cr_expect_eq(bias, 0x55d0c0000000, "bias %#llx",
		     (unsigned long long)bias);
}

/* Code whose vaddr is not its file offset: libc-like, and a prelinked one. */
Test(unwind, bias_when_vaddr_and_offset_differ)
{
	static const struct elf_segment segs[] = {
		{ .offset = 0x0, .vaddr = 0x400000, .filesz = 0x1000,
		  .flags = 4 },
		{ .offset = 0x26000, .vaddr = 0x427000, .filesz = 0x155000,
		  .flags = 5 },
	};
	__u64 bias = 0;

	cr_assert_eq(bias_of(segs, 2, 0x7f0000026000, 0x26000, &bias), 1);
	/* runtime 0x7f0000026000 is ELF 0x427000 */
	cr_expect_eq(bias, 0x7f0000026000ull - 0x427000, "bias %#llx",
		     (unsigned long long)bias);
	/* a non-PIE executable maps at its own addresses: bias 0 */
	cr_assert_eq(bias_of(segs, 2, 0x427000, 0x26000, &bias), 1);
	cr_expect_eq(bias, 0);
	/* the second piece of a mapping split by mprotect: inside the code */
	cr_assert_eq(bias_of(segs, 2, 0x7f0000030000, 0x30000, &bias), 1);
	cr_expect_eq(bias, 0x7f0000030000ull - 0x431000, "bias %#llx",
		     (unsigned long long)bias);
}

/*
 * LLD (rustc >= 1.87 links with it): the read-only segment's file image
 * runs past the page the executable segment starts on, so the text
 * mapping's offset lies inside both; it maps the executable one.
 */
Test(unwind, bias_of_an_lld_text_mapping)
{
	static const struct elf_segment segs[] = {
		{ .offset = 0x0, .vaddr = 0x0, .filesz = 0x12f88, .flags = 4 },
		{ .offset = 0x12f88, .vaddr = 0x13f88, .filesz = 0x8e0f4,
		  .flags = 5 },
	};
	__u64 bias = 0;

	cr_assert_eq(bias_of(segs, 2, 0x5600000a2000, 0x12000, &bias), 1);
	/* runtime 0x5600000a2000 holds file offset 0x12000: ELF 0x13000 */
	cr_expect_eq(bias, 0x5600000a2000ull - 0x13000, "bias %#llx",
		     (unsigned long long)bias);
}

Test(unwind, bias_of_an_offset_no_segment_maps)
{
	__u64 bias = 42;

	cr_expect_eq(bias_of(pie, 4, 0x1000, 0x5000, &bias), 0);
	cr_expect_eq(bias_of(pie, 0, 0x1000, 0x1000, &bias), 0);
	/* one past a segment's file image is not in it */
	cr_expect_eq(bias_of(pie, 2, 0x1000, 0x12d5, &bias), 0);
	/* a read-only segment holds no code */
	cr_expect_eq(bias_of(pie, 4, 0x1000, 0x2000, &bias), 0);
	cr_expect_eq(bias, 42, "untouched on failure");
}

/*
 * A whole file mapped at once from offset 0 (by hand, then made
 * executable): its executable segment lies inside the mapping.
 */
Test(unwind, bias_of_a_whole_file_mapping)
{
	static const struct elf_segment two[] = {
		{ .offset = 0x1000, .vaddr = 0x1000, .filesz = 0x800,
		  .flags = 5 },
		{ .offset = 0x3000, .vaddr = 0x5000, .filesz = 0x800,
		  .flags = 5 },
	};
	static const struct elf_segment alike[] = {
		{ .offset = 0x1000, .vaddr = 0x1000, .filesz = 0x800,
		  .flags = 5 },
		{ .offset = 0x3000, .vaddr = 0x3000, .filesz = 0x800,
		  .flags = 5 },
	};
	__u64 bias = 42;

	cr_assert_eq(bias_len(pie, 4, 0x7f0000000000, 0x4000, 0, &bias), 1);
	cr_expect_eq(bias, 0x7f0000000000ull, "bias %#llx",
		     (unsigned long long)bias);
	/* only the read-only page before the code: none */
	bias = 42;
	cr_expect_eq(bias_len(pie, 4, 0x7f0000000000, 0x1000, 0, &bias), 0);
	/* two segments that need two biases: none serves both */
	cr_expect_eq(bias_len(two, 2, 0x7f0000000000, 0x4000, 0, &bias), 0);
	cr_expect_eq(bias, 42, "untouched on failure");
	/* ...one where they agree */
	cr_assert_eq(bias_len(alike, 2, 0x7f0000000000, 0x4000, 0, &bias), 1);
	cr_expect_eq(bias, 0x7f0000000000ull);
	/* the second of two is the one a mapping from between them holds */
	cr_assert_eq(bias_len(two, 2, 0x7f0000000000, 0x2000, 0x2000, &bias),
		     1);
	cr_expect_eq(bias, 0x7f0000000000ull - 0x4000, "bias %#llx",
		     (unsigned long long)bias);
}

Test(unwind, maps_are_sorted_by_start)
{
	struct ms_proc_map in[] = {
		{ .start = 0x7000, .end = 0x8000, .obj = 3 },
		{ .start = 0x1000, .end = 0x2000, .obj = 1 },
		{ .start = 0x4000, .end = 0x5000, .obj = 2 },
	};
	static struct ms_proc_maps out;

	cr_assert_eq(unwind_maps_build(&out, in, 3), 0);
	cr_assert_eq(out.nr, 3);
	cr_expect_eq(out.m[0].obj, 1);
	cr_expect_eq(out.m[1].obj, 2);
	cr_expect_eq(out.m[2].obj, 3);
	cr_expect_eq(out.m[3].start, 0, "the rest is zeroed");
}

Test(unwind, overlapping_maps_are_refused)
{
	struct ms_proc_map in[] = {
		{ .start = 0x1000, .end = 0x3000 },
		{ .start = 0x2000, .end = 0x4000 },
	};
	static struct ms_proc_maps out;

	cr_expect_eq(unwind_maps_build(&out, in, 2), -EINVAL);
}

Test(unwind, maps_past_the_limit_are_counted)
{
	static struct ms_proc_map in[MS_PROC_MAPS + 5];
	static struct ms_proc_maps out;
	size_t i;

	/* given highest first: the lowest MS_PROC_MAPS are kept */
	for (i = 0; i < MS_PROC_MAPS + 5; i++) {
		in[i].start = (MS_PROC_MAPS + 5 - i) * 0x1000;
		in[i].end = in[i].start + 0x800;
	}
	cr_assert_eq(unwind_maps_build(&out, in, MS_PROC_MAPS + 5), 5);
	cr_assert_eq(out.nr, MS_PROC_MAPS);
	cr_expect_eq(out.m[0].start, 0x1000);
	cr_expect_eq(out.m[MS_PROC_MAPS - 1].start, MS_PROC_MAPS * 0x1000ull);
}

static struct ms_vma vma(__u64 start)
{
	return (struct ms_vma){ .start = start, .end = start + 0x1000,
				.dev = 8, .ino = start >> 12 };
}

/*
 * A read of an image's maps adds to its image_vmas entry: the libraries
 * the walker kept after the read began, and ld.so, which a read of an
 * exiting process missed, stay; none twice; at most MS_IMAGE_VMAS.
 */
Test(unwind, a_read_adds_to_the_kept_mappings)
{
	struct ms_image_vmas read = { .nr = 2 }, kept = { .nr = 3 };
	__u32 i;

	read.v[0] = vma(0x555000);		/* the program */
	read.v[1] = vma(0x7f0000);		/* libc */
	kept.v[0] = vma(0x555000);
	kept.v[1] = vma(0x7f8000);		/* ld.so, gone from the read */
	kept.v[2] = (struct ms_vma){};		/* a slot being written */
	unwind_vmas_merge(&read, &kept);
	cr_assert_eq(read.nr, 3, "expected 3 mappings, got %u", read.nr);
	cr_expect_eq(read.v[2].start, 0x7f8000);
	cr_expect_eq(read.v[2].ino, 0x7f8);

	/* room for MS_IMAGE_VMAS only; a walker's count past it is a bound */
	kept.nr = 1000;
	for (i = 0; i < MS_IMAGE_VMAS; i++)
		kept.v[i] = vma(0x100000 + ((__u64)i << 20));
	unwind_vmas_merge(&read, &kept);
	cr_expect_eq(read.nr, MS_IMAGE_VMAS);
	for (i = 0; i < 3; i++)
		cr_expect_eq(read.v[i].start, i == 0 ? 0x555000 :
			     i == 1 ? 0x7f0000 : 0x7f8000, "a read mapping lost");
}
