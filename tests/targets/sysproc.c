/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * sysproc: a process tree the system-wide tests (t_sys_* in
 * tests/integration/run.sh) build from its arguments, each word an
 * action done in order:
 *
 *   wait               write "ready PID" and block until SIGUSR1
 *   leak N SIZE        N x malloc(SIZE), never freed
 *   churn N            N malloc/free pairs of 64 bytes: nothing stays
 *   fork ACTIONS... ;  a child does ACTIONS up to ";" and exits 0, the
 *                      parent waits for it and goes on after the ";"
 *   exit CODE          exits with CODE now
 *   exec PATH ARGS...  replaces the image: the rest is the new argv
 *   vfork SIZE PATH    a vfork child mallocs SIZE bytes, in its parent's
 *                      memory, and execs PATH ("-": exits 0); the parent
 *                      frees the block, as dash does the path it built
 *
 * Nothing else allocates: no stdio, no threads, so every block a test
 * sees is one of these. (The static test builds this file with -static.)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

/* Kept reachable, so the compiler keeps every leak. */
void *sysproc_sink;

static void say(const char *s)
{
	size_t n = strlen(s);

	if (write(1, s, n) != (ssize_t)n)
		_exit(3);
}

static void die(const char *why)
{
	say("sysproc: ");
	say(why);
	say("\n");
	_exit(2);
}

static long num(const char *s)
{
	char *end;
	long v;

	if (!s)
		die("missing number");
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0)
		die("bad number");
	return v;
}

static void wait_usr1(void)
{
	char buf[32];
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	snprintf(buf, sizeof(buf), "ready %d\n", (int)getpid());
	say(buf);
	while (sig != SIGUSR1)
		if (sigwait(&set, &sig))
			die("sigwait");
}

__attribute__((noinline)) static void leak(long n, long size)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(size);

		if (!p)
			die("malloc");
		((volatile char *)p)[0] = 1;
		__atomic_store_n(&sysproc_sink, p, __ATOMIC_RELAXED);
	}
}

__attribute__((noinline)) static void churn(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(64);

		__atomic_store_n(&sysproc_sink, p, __ATOMIC_RELAXED);
		free(p);
	}
}

/* The index of the ";" that ends the actions starting at i (forks nest). */
static int block_end(int argc, char **argv, int i)
{
	int depth = 0;

	for (; i < argc; i++) {
		if (!strcmp(argv[i], "fork"))
			depth++;
		else if (!strcmp(argv[i], ";") && !depth--)
			return i;
	}
	die("fork without ';'");
	return argc;
}

static void run(int argc, char **argv, int i);

static void do_fork(int argc, char **argv, int i, int end)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		run(end, argv, i);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	(void)argc;
}

static void do_vfork(long size, const char *path)
{
	/* the child's store lands in the parent's memory, which it shares */
	void *volatile block = NULL;
	pid_t pid = vfork();

	if (pid < 0)
		die("vfork");
	if (pid == 0) {
		block = malloc(size);
		if (strcmp(path, "-"))
			execl(path, path, (char *)NULL);
		_exit(block ? 0 : 1);
	}
	if (!block)
		die("vfork child allocated nothing");
	free(block);
	if (waitpid(pid, NULL, 0) != pid)
		die("waitpid");
}

static void run(int argc, char **argv, int i)
{
	int end;

	while (i < argc) {
		const char *a = argv[i++];

		if (!strcmp(a, "wait")) {
			wait_usr1();
		} else if (!strcmp(a, "leak")) {
			long n = num(i < argc ? argv[i] : NULL);
			long size = num(i + 1 < argc ? argv[i + 1] : NULL);

			leak(n, size);
			i += 2;
		} else if (!strcmp(a, "churn")) {
			churn(num(i < argc ? argv[i] : NULL));
			i++;
		} else if (!strcmp(a, "fork")) {
			end = block_end(argc, argv, i);
			do_fork(argc, argv, i, end);
			i = end + 1;
		} else if (!strcmp(a, "vfork")) {
			if (i + 1 >= argc)
				die("vfork without a size and a program");
			do_vfork(num(argv[i]), argv[i + 1]);
			i += 2;
		} else if (!strcmp(a, "exit")) {
			_exit(num(i < argc ? argv[i] : NULL));
		} else if (!strcmp(a, "exec")) {
			if (i >= argc)
				die("exec without a program");
			execv(argv[i], &argv[i]);
			die("execv");
		} else {
			die("unknown action");
		}
	}
}

int main(int argc, char **argv)
{
	run(argc, argv, 1);
	return 0;
}
