/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: any bytes as an ELF object whose CFI is compiled
 * (unwind_table__build on a memfd, as a mapped object is read). A crash,
 * a sanitizer report, a hang (-timeout), an allocation past
 * -rss_limit_mb, or a table whose rows are out of order or of an unknown
 * rule fails `make fuzz`.
 *
 * Flipping bytes anywhere in an object mostly damages code and symbols
 * the compiler never reads, so most mutations land inside the CFI
 * sections (.eh_frame, .eh_frame_hdr, .debug_frame), found through the
 * section headers of the input itself.
 */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "rows.h"
#include "unwind_table.h"

#define MAX_CFI_SECTIONS	3

struct span {
	size_t off;
	size_t len;
};

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* The file ranges of the CFI sections data holds whole. */
static size_t find_cfi(const uint8_t *data, size_t size, struct span *out)
{
	static const char *const names[] = {
		".eh_frame", ".eh_frame_hdr", ".debug_frame",
	};
	Elf64_Shdr sh, str;
	Elf64_Ehdr eh;
	size_t i, k, n = 0;

	if (size < sizeof(eh))
		return 0;
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_shentsize != sizeof(sh) || eh.e_shstrndx >= eh.e_shnum ||
	    eh.e_shoff > size || eh.e_shnum > (size - eh.e_shoff) / sizeof(sh))
		return 0;
	memcpy(&str, data + eh.e_shoff + eh.e_shstrndx * sizeof(sh),
	       sizeof(str));
	if (str.sh_offset > size || str.sh_size > size - str.sh_offset)
		return 0;
	for (i = 0; i < eh.e_shnum && n < MAX_CFI_SECTIONS; i++) {
		memcpy(&sh, data + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type == SHT_NOBITS || !sh.sh_size ||
		    sh.sh_offset > size || sh.sh_size > size - sh.sh_offset ||
		    sh.sh_name >= str.sh_size)
			continue;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			size_t len = strlen(names[k]) + 1;

			if (len <= str.sh_size - sh.sh_name &&
			    !memcmp(data + str.sh_offset + sh.sh_name,
				    names[k], len)) {
				out[n].off = sh.sh_offset;
				out[n].len = sh.sh_size;
				n++;
			}
		}
	}
	return n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	struct span cfi[MAX_CFI_SECTIONS];
	size_t n, len, got;
	uint8_t *slice;

	/* A quarter of the time, damage as it comes: bytes anywhere. */
	n = seed % 4 ? find_cfi(data, size, cfi) : 0;
	if (!n)
		return LLVMFuzzerMutate(data, size, max_size);
	/* in place: the section keeps its length, the headers stay valid */
	len = cfi[seed / 4 % n].len;
	slice = malloc(len);
	if (!slice)
		return size;
	memcpy(slice, data + cfi[seed / 4 % n].off, len);
	got = LLVMFuzzerMutate(slice, len, len);
	memcpy(data + cfi[seed / 4 % n].off, slice, got);
	free(slice);
	return size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwind_table *t;

	/* no root: a debug file is looked up, never found */
	/*
	 * as an entry object: the entry rule runs where e_entry lies in a
	 * gap, and the frame-pointer scan over every gap
	 */
	t = unwind_table__build(input_file(data, size, NULL), "/nonexistent",
				UNWIND_TABLE_ENTRY);
	if (!t)
		return 0;
	rows_check(t);
	unwind_table__free(t);
	return 0;
}
