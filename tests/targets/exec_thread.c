/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * exec_thread: a thread other than the leader calls execve, as a service
 * that re-executes itself from a worker thread does. The kernel ends
 * every other thread and gives the exec'ing task the leader's tid; the
 * tid it had is gone with no thread exit of its own.
 *
 *   exec_thread FILE            the first image: the main thread and a
 *                               second one allocate, then the second
 *                               execs this program again with "after"
 *   exec_thread FILE after TID  the new image: allocates, writes
 *                               "ready PID TID" (TID: the exec'ing
 *                               thread's old tid) to FILE, and exits 0 on
 *                               SIGUSR1
 */
#include <pthread.h>
#include <sys/syscall.h>
#include "target.h"

static char **args;

__attribute__((noinline)) static void exec_churn(void)
{
	void *p;
	int i;

	for (i = 0; i < opaque(10); i++) {
		p = malloc(64);
		keep(p);
		free(p);
	}
}

static void *exec_from_thread(void *unused)
{
	char tid[16];

	(void)unused;
	exec_churn();
	snprintf(tid, sizeof(tid), "%ld", (long)syscall(SYS_gettid));
	execl("/proc/self/exe", "exec_thread", args[1], "after", tid,
	      (char *)NULL);
	perror("exec_thread: execl");
	exit(1);
}

int main(int argc, char **argv)
{
	pthread_t t;
	sigset_t set;
	FILE *f;
	int sig;

	if (argc == 4 && !strcmp(argv[2], "after")) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		exec_churn();
		f = fopen(argv[1], "w");
		if (!f || fprintf(f, "ready %d %s\n", getpid(), argv[3]) < 0 ||
		    fclose(f))
			return 1;
		return sigwait(&set, &sig) ? 1 : 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: exec_thread FILE\n");
		return 2;
	}
	args = argv;
	exec_churn();
	if (pthread_create(&t, NULL, exec_from_thread, NULL))
		return 1;
	/* the exec ends this thread */
	pthread_join(t, NULL);
	return 1;
}
