/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * symbolize: what the symbolizer costs per distinct address, the way a
 * trace uses it (each stack's addresses resolved once, then from cache).
 *
 *   symbolize PID [STRIDE]
 *
 * Takes every STRIDE-th byte (default 256) of every file-backed executable
 * mapping of PID as a return address, resolves them all once (cold: DWARF
 * and symbol tables read, inlined calls expanded) and once more (cached),
 * and prints:
 *
 *   bench: addrs=N frames=F inlined=I cold_ns=C cached_ns=W
 *
 * C and W are ns per address; F counts every frame, I those of inlined
 * calls. Machines are shared and noisy: compare runs taken together.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "procmaps.h"
#include "symbolizer.h"

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Every stride-th byte of the file-backed code of the process. */
static __u64 *code_addrs(int pid, __u64 stride, size_t *nr)
{
	const struct procmap *e;
	struct procmaps *pm;
	size_t n = 0, cap = 0, i;
	__u64 *addrs = NULL, *p, a;

	pm = procmaps__read(pid);
	if (!pm)
		return NULL;
	for (i = 0; i < procmaps__count(pm); i++) {
		e = procmaps__get(pm, i);
		if (e->perms[2] != 'x' || !e->path || e->path[0] != '/')
			continue;
		for (a = e->start; a < e->end; a += stride) {
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				p = realloc(addrs, cap * sizeof(*addrs));
				if (!p) {
					free(addrs);
					addrs = NULL;
					goto out;
				}
				addrs = p;
			}
			/* a return address: one past a call */
			addrs[n++] = a + 1;
		}
	}
out:
	procmaps__free(pm);
	*nr = n;
	return addrs;
}

int main(int argc, char **argv)
{
	size_t nr = 0, i, frames = 0, inlined = 0;
	const struct frame *fr;
	struct symbolizer *s;
	double t0, t1, t2;
	__u64 *addrs;
	unsigned n;
	int pid;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: symbolize PID [STRIDE]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	addrs = code_addrs(pid, argc > 2 ? strtoull(argv[2], NULL, 0) : 256,
			   &nr);
	if (!addrs || !nr) {
		fprintf(stderr, "symbolize: no code mapped in pid %d: %s\n",
			pid, strerror(errno));
		return 1;
	}
	s = symbolizer__new(pid, NULL);
	if (!s || symbolizer__cover(s, addrs, nr)) {
		fprintf(stderr, "symbolize: cannot read pid %d: %s\n", pid,
			strerror(errno));
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < nr; i++) {
		n = symbolizer__resolve(s, addrs[i], &fr);
		frames += n;
		inlined += n - 1;
	}
	t1 = now_ns();
	for (i = 0; i < nr; i++)
		symbolizer__resolve(s, addrs[i], &fr);
	t2 = now_ns();
	printf("bench: addrs=%zu frames=%zu inlined=%zu cold_ns=%.0f "
	       "cached_ns=%.0f\n", nr, frames, inlined, (t1 - t0) / nr,
	       (t2 - t1) / nr);
	symbolizer__free(s);
	free(addrs);
	return 0;
}
