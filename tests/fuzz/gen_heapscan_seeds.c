/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Writes the heap-scan fuzzer's seeds into DIR, in its input format
 * (tests/fuzz/fuzz_heapscan.c): blocks that point at each other the ways
 * the classes and the graph tell apart, which random bytes would
 * hardly find (a pointer is 8 exact bytes).
 *
 *   gen_heapscan_seeds DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "files.h"

#define BASE		0x7f0000000000ull
#define MEM		4096

struct seed {
	const char *name;
	unsigned nr;
	struct { uint16_t off16; uint8_t size8; uint8_t site_age; } b[8];
	uint8_t regs;		/* words of memory also registers */
	/* pointers to write: at memory offset, to BASE + value */
	unsigned nr_ptrs;
	struct { uint32_t at; uint32_t to; } p[12];
};

static const struct seed seeds[] = {
	/* a list of four held from the root range, a fifth leaked alone */
	{ "list", 5, { { 32, 3, 0 }, { 48, 3, 0 }, { 64, 3, 0 }, { 80, 3, 0 },
		       { 96, 3, 1 } }, 0,
	  4, { { 0, 512 }, { 512, 768 }, { 768, 1024 }, { 1024, 1280 } } },
	/* a leaked cycle of three, one block held by an interior pointer */
	{ "cycle", 4, { { 32, 3, 2 }, { 48, 3, 2 }, { 64, 3, 2 },
			{ 80, 7, 3 } }, 2,
	  4, { { 512, 768 }, { 768, 1024 }, { 1024, 512 }, { 0, 1288 } } },
	/* three clones of one site and size, held by a register */
	{ "clones", 4, { { 32, 1, 4 }, { 48, 1, 4 }, { 64, 1, 4 },
			 { 80, 3, 5 } }, 4,
	  4, { { 0, 1280 }, { 1280, 512 }, { 1288, 768 }, { 1296, 1024 } } },
};

int main(int argc, char **argv)
{
	/* blocks, 4 bytes each, between their count and the registers' */
	uint8_t buf[1 + 4 * 8 + 1 + MEM], *mem;
	size_t i, k, len;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (i = 0; i < sizeof(seeds) / sizeof(*seeds); i++) {
		const struct seed *s = &seeds[i];

		len = 0;
		buf[len++] = s->nr - 1;
		for (k = 0; k < s->nr; k++) {
			memcpy(buf + len, &s->b[k].off16, 2);
			buf[len + 2] = s->b[k].size8;
			buf[len + 3] = s->b[k].site_age;
			len += 4;
		}
		buf[len++] = s->regs;
		mem = buf + len;
		memset(mem, 0, MEM);
		/* clones hold the same non-zero data */
		for (k = 512; k < 1280; k++)
			mem[k] = k % 16 == 8 ? 0x5a : 0;
		for (k = 0; k < s->nr_ptrs; k++) {
			uint64_t v = BASE + s->p[k].to;

			memcpy(mem + s->p[k].at, &v, sizeof(v));
		}
		if (write_seed(argv[1], s->name, buf, len + MEM))
			return 1;
	}
	return 0;
}
