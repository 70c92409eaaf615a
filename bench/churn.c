/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The churn workload: each thread keeps a sliding window of live blocks and,
 * for every pair, frees the oldest slot and mallocs a new block of a random
 * size into it. It times only its own loop (CLOCK_MONOTONIC), so a tracer's
 * start-up, attach and report are not in the figure it prints.
 *
 *   churn [-n PAIRS] [-t THREADS] [--wait]
 *
 * --wait prints "ready <pid>" and blocks until SIGUSR1, so a tracer can
 * attach with -p first. The last line is the result the runner parses:
 *
 *   bench: ops=N ns_per_op=X total_ns=T threads=K wall_ns=W
 *
 * With K threads each does N pairs; ns_per_op is per pair per thread (the
 * mean over threads of a thread's loop time / N), which is what a traced
 * thread pays. wall_ns is the span from the first start to the last end.
 *
 * Built with -DCHURN_CHAIN, the loop runs at the bottom of a chain of 30
 * distinct functions (chain29 ... chain1, then pairs_loop), so every
 * allocation's stack is 30 frames deeper: the price of unwinding them.
 * Built with -DCHURN_JIT as well, each pair turns an anonymous page
 * executable and back with mprotect, as a JIT does with its code: what a
 * tracer pays when a process's executable pages keep changing (the two
 * mprotect calls are in the pair's time, untraced too).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "workload.h"

#ifndef CHURN_THREADS
#define CHURN_THREADS	1
#endif
#define DEFAULT_PAIRS	2000000UL
#define MAX_THREADS	64
/* Live blocks per thread: a power of two, the slot is i & (WINDOW - 1). */
#define WINDOW		1024
#define MIN_SIZE	16
#define SIZE_SPAN	2049	/* sizes 16..2064 */

struct worker {
	pthread_t thread;
	unsigned long pairs;
	uint32_t seed;
	uint64_t t0, t1;
	void *slots[WINDOW];
};

static pthread_barrier_t start_line;

/* xorshift32: a few cycles, so the loop measures the allocator. */
static inline uint32_t next_rand(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static inline size_t next_size(uint32_t *s)
{
	return MIN_SIZE + next_rand(s) % SIZE_SPAN;
}

static void *block_new(uint32_t *seed)
{
	char *p = malloc(next_size(seed));

	if (!p) {
		fprintf(stderr, "churn: out of memory\n");
		exit(1);
	}
	/* Touch it: the block is really used, and the store is not elided. */
	p[0] = 1;
	return p;
}

#ifdef CHURN_CHAIN
/* Each its own frame: not inlined, not cloned, no tail call. */
#define CHAIN_FN	__attribute__((noinline, noclone)) static
#define CHAIN_LINK(n, next)				\
	CHAIN_FN void chain##n(struct worker *w)	\
	{						\
		next(w);				\
		__asm__ volatile ("" ::: "memory");	\
	}
#else
#define CHAIN_FN	static
#endif

#ifdef CHURN_JIT
#include <sys/mman.h>

static char *jit_page;

/* The JIT's code page: executable while its code runs, then writable. */
static void jit_flip(int prot)
{
	if (mprotect(jit_page, 4096, prot)) {
		perror("churn: mprotect");
		exit(1);
	}
}
#endif

CHAIN_FN void pairs_loop(struct worker *w)
{
	unsigned long i;

	w->t0 = now_ns();
	for (i = 0; i < w->pairs; i++) {
		void **slot = &w->slots[i & (WINDOW - 1)];

#ifdef CHURN_JIT
		jit_flip(PROT_READ | PROT_EXEC);
#endif
		free(*slot);
		*slot = block_new(&w->seed);
#ifdef CHURN_JIT
		jit_flip(PROT_READ | PROT_WRITE);
#endif
	}
	w->t1 = now_ns();
}

#ifdef CHURN_CHAIN
CHAIN_LINK(1, pairs_loop) CHAIN_LINK(2, chain1) CHAIN_LINK(3, chain2)
CHAIN_LINK(4, chain3) CHAIN_LINK(5, chain4) CHAIN_LINK(6, chain5)
CHAIN_LINK(7, chain6) CHAIN_LINK(8, chain7) CHAIN_LINK(9, chain8)
CHAIN_LINK(10, chain9) CHAIN_LINK(11, chain10) CHAIN_LINK(12, chain11)
CHAIN_LINK(13, chain12) CHAIN_LINK(14, chain13) CHAIN_LINK(15, chain14)
CHAIN_LINK(16, chain15) CHAIN_LINK(17, chain16) CHAIN_LINK(18, chain17)
CHAIN_LINK(19, chain18) CHAIN_LINK(20, chain19) CHAIN_LINK(21, chain20)
CHAIN_LINK(22, chain21) CHAIN_LINK(23, chain22) CHAIN_LINK(24, chain23)
CHAIN_LINK(25, chain24) CHAIN_LINK(26, chain25) CHAIN_LINK(27, chain26)
CHAIN_LINK(28, chain27) CHAIN_LINK(29, chain28)
#define run_pairs	chain29
#else
#define run_pairs	pairs_loop
#endif

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned long i;

	/* The window fills under the tracer too, but outside the timing. */
	for (i = 0; i < WINDOW; i++)
		w->slots[i] = block_new(&w->seed);
	pthread_barrier_wait(&start_line);

	run_pairs(w);

	for (i = 0; i < WINDOW; i++)
		free(w->slots[i]);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: churn [-n PAIRS] [-t THREADS] [--wait]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pairs", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long pairs = DEFAULT_PAIRS, nthreads = CHURN_THREADS, i;
	struct worker *workers;
	uint64_t first = UINT64_MAX, last = 0, sum = 0;
	bool wait = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "n:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_ulong(optarg, 1, 1UL << 40, &pairs)) {
				fprintf(stderr, "churn: invalid pair count '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			if (parse_ulong(optarg, 1, MAX_THREADS, &nthreads)) {
				fprintf(stderr, "churn: threads must be 1..%d\n",
					MAX_THREADS);
				return 2;
			}
			break;
		case 'w':
			wait = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	workers = calloc(nthreads, sizeof(*workers));
	if (!workers) {
		fprintf(stderr, "churn: out of memory\n");
		return 1;
	}
#ifdef CHURN_JIT
	/* Mapped before the tracer comes: only the flips are seen. */
	jit_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (jit_page == MAP_FAILED) {
		perror("churn: mmap");
		return 1;
	}
#endif
	if (wait && wait_for_go()) {
		fprintf(stderr, "churn: cannot wait for SIGUSR1\n");
		return 1;
	}
	pthread_barrier_init(&start_line, NULL, nthreads);
	for (i = 0; i < nthreads; i++) {
		workers[i].pairs = pairs;
		/* Distinct non-zero seeds; the same sequence on every run. */
		workers[i].seed = 0x9e3779b9u * (uint32_t)(i + 1);
		/* Thread 0 is main itself: churn with one thread has no other. */
		if (i == 0)
			continue;
		err = pthread_create(&workers[i].thread, NULL, work,
				     &workers[i]);
		if (err) {
			fprintf(stderr, "churn: cannot start a thread: %s\n",
				strerror(err));
			return 1;
		}
	}
	work(&workers[0]);
	for (i = 1; i < nthreads; i++)
		pthread_join(workers[i].thread, NULL);

	for (i = 0; i < nthreads; i++) {
		sum += workers[i].t1 - workers[i].t0;
		if (workers[i].t0 < first)
			first = workers[i].t0;
		if (workers[i].t1 > last)
			last = workers[i].t1;
	}
	printf("bench: ops=%lu ns_per_op=%.1f total_ns=%llu threads=%lu wall_ns=%llu\n",
	       pairs, (double)sum / nthreads / pairs,
	       (unsigned long long)(sum / nthreads), nthreads,
	       (unsigned long long)(last - first));
	free(workers);
	return 0;
}
