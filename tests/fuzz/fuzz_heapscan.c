/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libFuzzer target: the heap scan (user/analysis/heapscan.c) over any
 * memory, since what it reads is the traced process's heap, stacks and
 * data: every word of it may look like a pointer into any block. The
 * input is the blocks, then the memory:
 *
 *   byte 0        blocks: 1 + byte % MAX_BLOCKS
 *   4 per block   offset (2 bytes, x 16 from BASE), size (1 byte,
 *                 8..2048), site and age (1 byte)
 *   1 byte        how many words of the memory also stand as registers
 *   the rest      the memory at BASE; reads past it come back short
 *
 * A crash, a sanitizer report or a hang fails `make fuzz`, as do totals
 * that do not add up (the classes' counts and bytes against the blocks'),
 * a class out of range, or a scan restored from its own results that
 * answers otherwise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heapscan.h"

#define MAX_BLOCKS	32
#define BASE		0x7f0000000000ull
/* One segment of the memory also scanned as a root (a data segment). */
#define ROOT_RANGE	256

struct memory {
	const uint8_t *data;
	size_t len;
};

static long mem_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	const struct memory *m = ctx;
	__u64 off;

	if (addr < BASE || addr - BASE >= m->len)
		return -EFAULT;
	off = addr - BASE;
	if (len > m->len - off)
		len = m->len - off;
	memcpy(buf, m->data + off, len);
	return len;
}

static void check_same(const struct heapscan *a, const struct heapscan *b,
		       const __u64 *addrs, size_t n)
{
	const struct heapscan_stats *sa = heapscan__stats(a);
	const struct heapscan_stats *sb = heapscan__stats(b);
	size_t i;

	if (sa->blocks != sb->blocks || sa->bytes != sb->bytes ||
	    memcmp(sa->count, sb->count, sizeof(sa->count)) ||
	    heapscan__nr_cycles(a) != heapscan__nr_cycles(b) ||
	    heapscan__nr_links(a) != heapscan__nr_links(b) ||
	    heapscan__nr_clones(a) != heapscan__nr_clones(b))
		abort();
	for (i = 0; i < n; i++)
		if (heapscan__class_of(a, addrs[i]) !=
		    heapscan__class_of(b, addrs[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct heapscan_verdict *verdicts = NULL;
	const struct heapscan_stats *st;
	struct heapscan_result res;
	struct heapscan_range range;
	struct heapscan_roots roots;
	struct heapscan_buf regs;
	__u64 addrs[MAX_BLOCKS], n_bytes = 0, sum, bytes;
	struct heapscan *h, *back;
	struct memory mem;
	size_t nr, i, k, n = 0, head;
	int cls;

	if (size < 2)
		return 0;
	nr = 1 + data[0] % MAX_BLOCKS;
	head = 1 + 4 * nr + 1;
	if (size < head)
		return 0;
	h = heapscan__new();
	if (!h)
		abort();
	for (i = 0; i < nr; i++) {
		const uint8_t *b = data + 1 + 4 * i;
		__u64 addr = BASE + 16 * (__u64)(b[0] | b[1] << 8);
		__u64 len = 8 * ((__u64)b[2] + 1);

		if (heapscan__add(h, addr, len, b[3] & 7,
				  (__u64)(b[3] >> 3) * 100000000ull))
			continue;
		addrs[n++] = addr;
	}
	mem.data = data + head;
	mem.len = size - head;
	regs.addr = 0;
	regs.data = mem.data;
	regs.len = 8 * (data[head - 1] % 9);
	if (regs.len > mem.len)
		regs.len = mem.len & ~7ul;
	range.addr = BASE;
	range.len = ROOT_RANGE;
	range.anon = false;
	roots = (struct heapscan_roots){
		.bufs = &regs, .nr_bufs = 1,
		.ranges = &range, .nr_ranges = 1,
		.read = mem_read, .ctx = &mem,
	};
	if (heapscan__run(h, &roots)) {
		heapscan__free(h);
		return 0;
	}
	st = heapscan__stats(h);
	for (sum = 0, bytes = 0, k = 0; k < HEAPSCAN_CLASS__COUNT; k++) {
		sum += st->count[k];
		bytes += st->class_bytes[k];
	}
	if (sum != st->blocks || bytes != st->bytes)
		abort();
	for (i = 0; i < n; i++) {
		cls = heapscan__class_of(h, addrs[i]);
		if (cls != -ENOENT &&
		    (cls < 0 || cls >= HEAPSCAN_CLASS__COUNT))
			abort();
	}
	for (i = 0; i < heapscan__nr_cycles(h); i++)
		n_bytes += heapscan__cycle(h, i)->bytes;
	if (n_bytes > st->bytes)
		abort();
	for (i = 0; i < heapscan__nr_links(h); i++)
		if (heapscan__link(h, i)->kind >= HEAPSCAN_EDGE__COUNT)
			abort();
	for (i = 0; i < heapscan__nr_clones(h); i++)
		if (heapscan__clone(h, i)->count < 2)
			abort();
	if (!heapscan__result(h, &res, &verdicts)) {
		back = heapscan__restore(&res);
		if (!back)
			abort();
		check_same(h, back, addrs, n);
		heapscan__free(back);
		free(verdicts);
	}
	heapscan__free(h);
	return 0;
}
