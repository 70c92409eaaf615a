/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * storm: 400 threads, each 2000 malloc/free pairs as fast as it can, all
 * at once (they start together), so the tool's drain shares two cores
 * with 400 busy threads.
 * Prints its own nice value first ("nice N"): the drain's raised priority
 * must not reach the command.
 */
#include <pthread.h>
#include <sys/resource.h>
#include "target.h"

#define THREADS	400
#define PAIRS	2000

static pthread_barrier_t start;

__attribute__((noinline)) static void *storm_alloc(int i)
{
	return malloc(64 + i % 7);		/* @site storm_alloc */
}

static void *worker(void *arg)
{
	void *held = NULL, *p;
	int i;

	(void)arg;
	pthread_barrier_wait(&start);
	for (i = 0; i < opaque(PAIRS); i++) {
		p = storm_alloc(i);
		touch(p, 1);
		free(held);
		held = p;
	}
	free(held);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	int i;

	printf("nice %d\n", getpriority(PRIO_PROCESS, 0));
	fflush(stdout);
	pthread_barrier_init(&start, NULL, THREADS);
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, NULL)) {
			perror("pthread_create");
			return 1;
		}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	return 0;
}
