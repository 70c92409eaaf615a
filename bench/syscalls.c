/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The syscall workloads: what memscope-bpf's syscall tracepoints cost a
 * program that makes many syscalls. The tracepoints fire on every syscall
 * of every process, so the getppid loop prices the bare filter, and the
 * mmap loop the anonymous-memory path (a record and a stack per mmap, a
 * record per munmap).
 *
 *   syscalls -m getppid|mmap [-n OPS] [--wait]
 *
 * getppid: one getppid() per op. mmap: one anonymous private page mapped,
 * touched and unmapped per op. --wait prints "ready <pid>" and blocks until
 * SIGUSR1, so a tracer can attach with -p first. It times only its loop
 * (CLOCK_MONOTONIC); the last line is the result the runner parses:
 *
 *   bench: ops=N ns_per_op=X total_ns=T threads=1 wall_ns=T
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include "workload.h"

#define DEFAULT_OPS	1000000UL

/* The parent's pid goes to a volatile sink: the call is never elided. */
static volatile pid_t sink;

static int loop_getppid(unsigned long ops)
{
	unsigned long i;

	for (i = 0; i < ops; i++)
		sink = getppid();
	return 0;
}

static int loop_mmap(unsigned long ops)
{
	unsigned long i;
	char *p;

	for (i = 0; i < ops; i++) {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		p[0] = 1;
		if (munmap(p, 4096))
			return -errno;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: syscalls -m getppid|mmap [-n OPS] [--wait]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "ops", required_argument, NULL, 'n' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int (*loop)(unsigned long) = NULL;
	unsigned long ops = DEFAULT_OPS;
	uint64_t t0, t1;
	bool wait = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "m:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "getppid"))
				loop = loop_getppid;
			else if (!strcmp(optarg, "mmap"))
				loop = loop_mmap;
			break;
		case 'n':
			if (parse_ulong(optarg, 1, ULONG_MAX, &ops)) {
				fprintf(stderr, "syscalls: invalid op count '%s'\n",
					optarg);
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
	if (!loop) {
		usage(stderr);
		return 2;
	}
	if (wait && wait_for_go()) {
		fprintf(stderr, "syscalls: cannot wait for SIGUSR1\n");
		return 1;
	}
	t0 = now_ns();
	err = loop(ops);
	t1 = now_ns();
	if (err) {
		fprintf(stderr, "syscalls: %s\n", strerror(-err));
		return 1;
	}
	printf("bench: ops=%lu ns_per_op=%.1f total_ns=%llu threads=1 wall_ns=%llu\n",
	       ops, (double)(t1 - t0) / ops, (unsigned long long)(t1 - t0),
	       (unsigned long long)(t1 - t0));
	return 0;
}
