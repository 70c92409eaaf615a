// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * The heap scan at scale (issue 13: 1 M live blocks in at most 5 s, at
 * most 64 bytes of extra memory per block). A heap of N blocks of 48
 * bytes in 64-byte slots, in this process: lists of 16 blocks, every
 * fourth list's head held by a root array, the rest lost, one block in
 * 64 holding a second pointer (interior) into a random block. The scan
 * reads it with process_vm_readv on this very process, as it reads a
 * target; the root array is a copied buffer like a stack.
 *
 *   heapscan-scale [N]     one line of JSON: blocks, scan s, extra bytes
 *                          per block (peak RSS over the heap's), classes
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include "heapscan.h"

#define SLOT	64
#define SIZE	48
#define LIST	16

static long self_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	struct iovec l = { .iov_base = buf, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(*(pid_t *)ctx, &l, 1, &r, 1, 0);

	return n < 0 ? -errno : n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Resident KiB now, from /proc/self/statm. */
static long rss_kib(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, i;
	unsigned char *heap = aligned_alloc(4096, n * SLOT);
	__u64 *roots = calloc(n / LIST / 4 + 1, sizeof(*roots));
	struct heapscan_buf buf;
	struct heapscan_roots r = { .read = self_read };
	const struct heapscan_stats *st;
	struct heapscan *h;
	unsigned seed = 1;
	size_t nr_roots = 0;
	pid_t pid = getpid();
	long before;
	double t0, t1;
	int err;

	if (!heap || !roots || n < LIST) {
		fprintf(stderr, "heapscan-scale: cannot allocate %zu blocks\n", n);
		return 1;
	}
	memset(heap, 0, n * SLOT);
	for (i = 0; i < n; i++) {
		__u64 *w = (__u64 *)(heap + i * SLOT);

		if ((i + 1) % LIST)
			w[0] = (__u64)(uintptr_t)(heap + (i + 1) * SLOT);
		else if (i / LIST % 4 == 0)
			roots[nr_roots++] = (__u64)(uintptr_t)(heap + (i + 1 - LIST) * SLOT);
		seed = seed * 1103515245 + 12345;
		if (seed % 64 == 0)
			w[3] = (__u64)(uintptr_t)(heap + (seed >> 8) % n * SLOT + 8);
	}
	buf = (struct heapscan_buf){
		.addr = (__u64)(uintptr_t)roots, .data = roots,
		.len = nr_roots * sizeof(*roots),
	};
	r.bufs = &buf;
	r.nr_bufs = 1;
	r.ctx = &pid;
	before = rss_kib();
	t0 = now_s();
	h = heapscan__new();
	for (i = 0; h && i < n; i++) {
		err = heapscan__add(h, (__u64)(uintptr_t)(heap + i * SLOT), SIZE,
				    i % 1000, 0);
		if (err)
			break;
	}
	err = h ? heapscan__run(h, &r) : -ENOMEM;
	t1 = now_s();
	if (err) {
		fprintf(stderr, "heapscan-scale: %s\n", strerror(-err));
		return 1;
	}
	st = heapscan__stats(h);
	printf("{\"blocks\": %zu, \"seconds\": %.3f, \"extra_bytes_per_block\": %.1f, \"kept_bytes_per_block\": %.1f, \"edges\": %llu, \"definitely_lost\": %llu, \"indirectly_lost\": %llu, \"possibly_lost\": %llu, \"still_reachable\": %llu}\n",
	       n, t1 - t0, (maxrss_kib() - before) * 1024.0 / n,
	       (double)heapscan__mem_bytes(h) / n,
	       (unsigned long long)st->edges,
	       (unsigned long long)st->count[HEAPSCAN_DEFINITELY_LOST],
	       (unsigned long long)st->count[HEAPSCAN_INDIRECTLY_LOST],
	       (unsigned long long)st->count[HEAPSCAN_POSSIBLY_LOST],
	       (unsigned long long)st->count[HEAPSCAN_STILL_REACHABLE]);
	heapscan__free(h);
	free(heap);
	free(roots);
	return 0;
}
