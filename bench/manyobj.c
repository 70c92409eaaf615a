/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The attach workload: a process that maps many objects. It dlopen()s
 * every .so file in DIR, prints "ready <pid> <objects>", then mallocs and
 * frees one block every millisecond until SIGTERM or SIGINT (or a bound of
 * --seconds, so a lost runner never leaves it behind).
 *
 * It also watches the first bytes of its own malloc: a uprobe is an int3
 * written into the process's copy of the code page, so the process sees it.
 * The first time they change it prints "probed <CLOCK_MONOTONIC ns>"; the
 * malloc right after is the first call a tracer sees. That makes "time to
 * the first event" measurable the same way for every tracer, without
 * trusting what the tracer reports about itself.
 *
 *   manyobj [--seconds S] DIR
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SECONDS	60
/* Bytes of malloc watched: the probe may sit past a short prologue. */
#define WATCH_BYTES	32

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int is_object(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && !strcmp(name + n - 3, ".so");
}

/* Objects opened, or -errno. Handles stay open: the maps must stay. */
static int open_all(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!is_object(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!dlopen(path, RTLD_NOW | RTLD_LOCAL)) {
			fprintf(stderr, "manyobj: %s\n", dlerror());
			closedir(d);
			return -ENOENT;
		}
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	const struct timespec tick = { .tv_nsec = 1000000 };
	struct sigaction sa = { .sa_handler = on_stop };
	unsigned char before[WATCH_BYTES];
	long seconds = DEFAULT_SECONDS, i;
	const unsigned char *code;
	bool probed = false;
	const char *dir;
	int n;

	if (argc == 4 && !strcmp(argv[1], "--seconds")) {
		seconds = atol(argv[2]);
		dir = argv[3];
	} else if (argc == 2) {
		dir = argv[1];
	} else {
		fprintf(stderr, "usage: manyobj [--seconds S] DIR\n");
		return 2;
	}
	n = open_all(dir);
	if (n < 0) {
		fprintf(stderr, "manyobj: cannot open the objects in %s: %s\n",
			dir, strerror(-n));
		return 1;
	}
	/* libc's malloc itself, not a PLT stub of the executable. */
	code = dlsym(RTLD_DEFAULT, "malloc");
	if (!code) {
		fprintf(stderr, "manyobj: no malloc: %s\n", dlerror());
		return 1;
	}
	memcpy(before, code, sizeof(before));
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready %d %d\n", (int)getpid(), n);
	fflush(stdout);
	for (i = 0; !stop && i < seconds * 1000; i++) {
		char *p;

		if (!probed && memcmp(before, code, sizeof(before))) {
			probed = true;
			printf("probed %llu\n", now_ns());
			fflush(stdout);
		}
		p = malloc(64);

		if (p)
			p[0] = 1;
		free(p);
		nanosleep(&tick, NULL);
	}
	return 0;
}
