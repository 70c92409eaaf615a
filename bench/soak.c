// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * A service for the soak (bench/soak.py): worker threads that churn
 * through ever new heap addresses at a steady rate and leak slowly, for as
 * long as it runs.
 *
 *   soak [-t THREADS] [-r OPS_PER_S]
 *
 * Each worker keeps a FIFO of live blocks of varied sizes (allocated,
 * sometimes realloc'd, freed WINDOW later), so the allocator hands out a
 * wide spread of addresses; every THREAD_OPS operations a worker exits and
 * a new one takes its place, so thread ids cycle as well; now and then it
 * maps and unmaps an anonymous page. Once a second one block of
 * LEAK_SIZE bytes is leaked from leak_slowly(), which the report must
 * show growing. Prints "ready PID" once running; runs until killed.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include "workload.h"

#define WINDOW		512
#define THREAD_OPS	200000
#define LEAK_SIZE	1000
#define BURST		100

static unsigned long rate = 40000;	/* operations a second, all workers */
static unsigned long nr_threads = 4;

static void pause_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL,
			       .tv_nsec = ns % 1000000000ULL };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One worker's life: THREAD_OPS operations in bursts, at its share. */
static void *worker(void *arg)
{
	uint64_t burst_ns = 1000000000ULL * BURST / (rate / nr_threads);
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	void *ring[WINDOW] = { 0 };
	unsigned long op, i = 0;
	uint64_t next = now_ns();
	size_t size;
	void *p;

	for (op = 0; op < THREAD_OPS; op++, i = (i + 1) % WINDOW) {
		free(ring[i]);
		size = 16 + rand_r(&seed) % 4096;
		ring[i] = malloc(size);
		if (ring[i] && op % 7 == 0) {
			p = realloc(ring[i], size * 2);
			if (p)
				ring[i] = p;
		}
		if (ring[i])
			memset(ring[i], (int)op, 8);
		if (op % 5000 == 0) {
			p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED)
				munmap(p, 4096);
		}
		if (op % BURST == BURST - 1) {
			next += burst_ns;
			if (next > now_ns())
				pause_ns(next - now_ns());
		}
	}
	for (i = 0; i < WINDOW; i++)
		free(ring[i]);
	return NULL;
}

/* Keeps nr_threads workers alive: one ends, the next starts. */
static void *keeper(void *arg)
{
	pthread_t t;
	uintptr_t n = (uintptr_t)arg;

	for (;;) {
		if (pthread_create(&t, NULL, worker, (void *)n++)) {
			fprintf(stderr, "soak: cannot start a worker\n");
			exit(1);
		}
		pthread_join(t, NULL);
	}
	return NULL;
}

static __attribute__((noinline)) void *leak_slowly(void)
{
	void *p = malloc(LEAK_SIZE);

	if (p)
		memset(p, 0x5a, LEAK_SIZE);
	/* kept from the optimizer, never freed */
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

static void usage(void)
{
	fprintf(stderr, "usage: soak [-t THREADS] [-r OPS_PER_S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	pthread_t t;
	unsigned long i;
	int c;

	while ((c = getopt(argc, argv, "t:r:")) != -1) {
		switch (c) {
		case 't':
			if (parse_ulong(optarg, 1, 64, &nr_threads))
				usage();
			break;
		case 'r':
			if (parse_ulong(optarg, 1000, 10000000, &rate))
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || rate / nr_threads < BURST)
		usage();
	for (i = 0; i < nr_threads; i++) {
		if (pthread_create(&t, NULL, keeper, (void *)(i << 20))) {
			fprintf(stderr, "soak: cannot start a worker\n");
			return 1;
		}
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		leak_slowly();
		sleep(1);
	}
}
