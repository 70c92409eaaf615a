/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * usdt-cost: what one memscope probe (include/memscope.h) costs the
 * program that carries it, untraced and traced.
 *
 *   usdt-cost [-n CALLS] [-t CALLS] [--wait]
 *
 * Untraced: a loop of CALLS MEMSCOPE_TRACK probes (-n, default 100M)
 * against the same loop without the probe, each the best of REPS runs.
 * The difference per call is the semaphore check, one load and a branch
 * never taken, so expect 0-1 ns:
 *
 *   bench: untraced_ns=X probe_loop_ns=P empty_loop_ns=E calls=N active=0
 *
 * With --wait it then prints "ready <pid>" and blocks until SIGUSR1, so a
 * tracer can attach with -p, and times the probe loop again (-t CALLS,
 * default 100k), now traced; traced_ns is per call, less the empty loop:
 *
 *   bench: traced_ns=Y probe_loop_ns=P calls=M active=1
 *
 * active is 1 when the probe's semaphore was raised both before and after
 * the loop, i.e. a tracer was attached all along: a traced figure with
 * active=0 was not traced, and an untraced one with active=1 was (the
 * tracer launched this program instead of attaching after "ready").
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <memscope.h>

#define DEFAULT_UNTRACED	100000000UL
#define DEFAULT_TRACED		100000UL
/* Best of: the untraced difference is below a nanosecond, noise is not. */
#define REPS			5

/* What the probes declare: pointers into it, never dereferenced. */
static char area[64];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The same loop with and without the probe. The empty asm keeps each
 * iteration (and its pointer) alive without costing an instruction.
 */
__attribute__((noinline)) static uint64_t loop_empty(unsigned long n)
{
	uint64_t t0 = now_ns();
	unsigned long i;

	for (i = 0; i < n; i++)
		__asm__ volatile ("" : : "r" (area + (i & 63)) : "memory");
	return now_ns() - t0;
}

__attribute__((noinline)) static uint64_t loop_probe(unsigned long n)
{
	uint64_t t0 = now_ns();
	unsigned long i;

	for (i = 0; i < n; i++) {
		__asm__ volatile ("" : : "r" (area + (i & 63)) : "memory");
		MEMSCOPE_TRACK(area + (i & 63), i, "bench", "char",
			       MEMSCOPE_VALUE);
	}
	return now_ns() - t0;
}

static uint64_t best_of(uint64_t (*loop)(unsigned long), unsigned long n)
{
	uint64_t best = UINT64_MAX, t;
	int i;

	for (i = 0; i < REPS; i++) {
		t = loop(n);
		if (t < best)
			best = t;
	}
	return best;
}

static int parse_count(const char *s, unsigned long *n)
{
	char *end;

	errno = 0;
	*n = strtoul(s, &end, 0);
	return errno || *end || !*n ? -1 : 0;
}

/*
 * "ready <pid>", then block until SIGUSR1. SIGUSR1 is blocked first, so
 * a signal sent as soon as the line appears waits for sigwait.
 */
static void wait_for_go(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		fprintf(stderr, "usdt-cost: cannot block SIGUSR1: %s\n",
			strerror(errno));
		exit(1);
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (sig != SIGUSR1) {
		if (sigwait(&set, &sig)) {
			fprintf(stderr, "usdt-cost: sigwait failed\n");
			exit(1);
		}
	}
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n CALLS] [-t CALLS] [--wait]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long n = DEFAULT_UNTRACED, m = DEFAULT_TRACED;
	uint64_t empty, probe;
	int i, wait = 0, active;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait = 1;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc &&
			 !parse_count(argv[i + 1], &n))
			i++;
		else if (!strcmp(argv[i], "-t") && i + 1 < argc &&
			 !parse_count(argv[i + 1], &m))
			i++;
		else
			usage(argv[0]);
	}

	active = MEMSCOPE_ENABLED(track);
	empty = best_of(loop_empty, n);
	probe = best_of(loop_probe, n);
	active = active && MEMSCOPE_ENABLED(track);
	printf("bench: untraced_ns=%.3f probe_loop_ns=%.3f empty_loop_ns=%.3f calls=%lu active=%d\n",
	       ((double)probe - (double)empty) / n, (double)probe / n,
	       (double)empty / n, n, active);
	fflush(stdout);
	if (!wait)
		return 0;

	wait_for_go();
	active = MEMSCOPE_ENABLED(track);
	probe = loop_probe(m);
	active = active && MEMSCOPE_ENABLED(track);
	printf("bench: traced_ns=%.1f probe_loop_ns=%.1f calls=%lu active=%d\n",
	       ((double)probe - (double)empty / n * m) / m, (double)probe / m,
	       m, active);
	return 0;
}
