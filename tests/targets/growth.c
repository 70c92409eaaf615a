/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The labelled set of growth patterns (issue 12): each pattern is one
 * function, one call site, its label in its name, run in a thread of its
 * own for SECONDS, paced by the clock (a tick every 10 ms) so a slow
 * machine stretches nothing but the CPU it uses.
 *
 *   grow_leak       leaks: ten 128-byte blocks a second, never freed
 *   churn_leak      leaks: 10,000 blocks a second through a ring of 512,
 *                   sizes at random, and one a second never freed
 *   steady_set      not a leak: 256 blocks, one replaced at random a tick
 *   plateau_cache   not a leak: a cache filled over the first 30% of the
 *                   run, then only read
 *   sawtooth_batch  not a leak: a block a tick, all freed every 3 s
 *   temporary_bufs  not a leak: twenty blocks a tick, freed at once
 *
 * usage: growth SECONDS PATTERN...|all
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "target.h"

#define TICK_NS		10000000L
#define TICKS_PER_S	100

static long run_ticks;

/* Sleeps until tick k of the thread's clock; false once the run is over. */
static int tick(struct timespec *t, long k)
{
	if (k >= run_ticks)
		return 0;
	t->tv_nsec += TICK_NS;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL);
	return 1;
}

static void *grow_leak(void *arg)
{
	struct timespec t;
	long k;
	void *p;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (k = 0; tick(&t, k); k++) {
		if (k % 10)
			continue;
		p = malloc(128);	/* @site grow_leak */
		touch(p, 128);
		keep(p);
	}
	return NULL;
}

#define RING		512

static void *churn_leak(void *arg)
{
	static void *ring[RING];
	unsigned int seed = 7, i, n = 0;
	struct timespec t;
	size_t size;
	long k;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (k = 0; tick(&t, k); k++) {
		for (i = 0; i < 100; i++, n = (n + 1) % RING) {
			/* once a second the block in the slot is forgotten */
			if (!(k % TICKS_PER_S) && !i)
				keep(ring[n]);
			else
				free(ring[n]);
			size = 16 + rand_r(&seed) % 2048;
			ring[n] = malloc(size);	/* @site churn_leak */
			touch(ring[n], size);
		}
	}
	return NULL;
}

#define SET		256

static void *steady_set(void *arg)
{
	static void *set[SET];
	unsigned int seed = 11, i;
	struct timespec t;
	long k;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (k = 0; tick(&t, k); k++) {
		/* filled on the first tick, from the one call site */
		for (i = k ? rand_r(&seed) % SET : 0; i < SET; i++) {
			free(set[i]);
			set[i] = malloc(512);	/* @site steady_set */
			touch(set[i], 512);
			if (k)
				break;
		}
	}
	return NULL;
}

static void *plateau_cache(void *arg)
{
	static void **cache;
	long k, fill = run_ticks * 3 / 10, n = 0;
	struct timespec t;

	(void)arg;
	cache = calloc(run_ticks, sizeof(*cache));
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (k = 0; tick(&t, k); k++) {
		if (k >= fill) {
			/* a hit: read an entry */
			touch(cache[k % n], 256);
			continue;
		}
		cache[n] = malloc(256);	/* @site plateau_cache */
		touch(cache[n++], 256);
	}
	return NULL;
}

static void *sawtooth_batch(void *arg)
{
	static void *batch[3 * TICKS_PER_S];
	struct timespec t;
	long k, n = 0, i;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (k = 0; tick(&t, k); k++) {
		if (n == 3 * TICKS_PER_S) {
			for (i = 0; i < n; i++)
				free(batch[i]);
			n = 0;
		}
		batch[n] = malloc(1024);	/* @site sawtooth_batch */
		touch(batch[n++], 1024);
	}
	return NULL;
}

static void *temporary_bufs(void *arg)
{
	struct timespec t;
	long k;
	int i;
	void *p;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (k = 0; tick(&t, k); k++) {
		for (i = 0; i < 20; i++) {
			p = malloc(4096);	/* @site temporary_bufs */
			touch(p, 4096);
			free(p);
		}
	}
	return NULL;
}

static const struct {
	const char *name;
	void *(*fn)(void *);
} patterns[] = {
	{ "grow_leak", grow_leak },
	{ "churn_leak", churn_leak },
	{ "steady_set", steady_set },
	{ "plateau_cache", plateau_cache },
	{ "sawtooth_batch", sawtooth_batch },
	{ "temporary_bufs", temporary_bufs },
};

#define NR_PATTERNS	(sizeof(patterns) / sizeof(patterns[0]))

int main(int argc, char **argv)
{
	pthread_t th[NR_PATTERNS];
	int run[NR_PATTERNS] = {}, i, a, n = 0;
	double secs;

	if (argc < 3 || (secs = atof(argv[1])) <= 0) {
		fprintf(stderr, "usage: %s SECONDS PATTERN...|all\n", argv[0]);
		return 2;
	}
	run_ticks = secs * TICKS_PER_S;
	for (a = 2; a < argc; a++) {
		for (i = 0; i < (int)NR_PATTERNS; i++) {
			if (!strcmp(argv[a], "all") ||
			    !strcmp(argv[a], patterns[i].name))
				run[i] = 1;
		}
	}
	for (i = 0; i < (int)NR_PATTERNS; i++) {
		if (run[i] && pthread_create(&th[n++], NULL, patterns[i].fn,
					     NULL)) {
			perror("pthread_create");
			return 1;
		}
	}
	if (!n) {
		fprintf(stderr, "%s: no such pattern\n", argv[0]);
		return 2;
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return 0;
}
