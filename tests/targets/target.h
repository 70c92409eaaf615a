/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Shared by the integration-test targets: the --wait handshake and a sink
 * that keeps the compiler from eliding malloc/free pairs.
 *
 * Lines marked "@site NAME" are the call sites the tests assert on:
 * tests/integration/check.py reads this directory to learn their line
 * numbers, so keep each marked call on the marked line.
 */
#ifndef MS_TARGET_H
#define MS_TARGET_H

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A pointer stored here has escaped (external linkage: the compiler cannot
 * prove nobody reads it), so the allocation that made it must stay. Stores
 * are atomic because several threads make them.
 */
void *target_sink;

#define keep(p) __atomic_store_n(&target_sink, (p), __ATOMIC_RELAXED)

/*
 * A loop bound the compiler cannot see. A loop it unrolls completely has
 * one call site per iteration, hence one call stack per block, while the
 * tests expect each marked loop to be a single call site.
 */
static inline int opaque(int n)
{
	__asm__ volatile ("" : "+r" (n));
	return n;
}

/* Touch a block so the allocation is observably used. */
static inline void touch(void *p, size_t n)
{
	if (p && n)
		((volatile char *)p)[n - 1] = 1;
}

/*
 * With --wait: print "ready <pid>" and block until SIGUSR1, so a test can
 * attach with -p before any of the interesting allocations happen. SIGUSR1
 * is blocked before "ready" is printed so an early signal is not lost, and
 * threads created later inherit the mask, so only sigwait takes it.
 */
static inline void target_wait(int argc, char **argv)
{
	sigset_t set;
	int sig = 0;

	if (argc < 2)
		return;
	if (argc > 2 || strcmp(argv[1], "--wait") != 0) {
		fprintf(stderr, "usage: %s [--wait]\n", argv[0]);
		exit(2);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		perror("sigprocmask");
		exit(1);
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (sig != SIGUSR1) {
		if (sigwait(&set, &sig)) {
			perror("sigwait");
			exit(1);
		}
	}
}

/*
 * The path of the file name beside the executable (a library it dlopens),
 * into out, of PATH_MAX + 32 bytes. Exits when /proc/self/exe is unreadable.
 */
static inline void target_beside(const char *name, char *out)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0) {
		perror("readlink /proc/self/exe");
		exit(1);
	}
	exe[n] = '\0';
	snprintf(out, PATH_MAX + 32, "%s/%s", dirname(exe), name);
}

#endif /* MS_TARGET_H */
