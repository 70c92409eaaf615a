/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_fresh: processes that allocate before the tool can have read their
 * maps. Once released (--wait, SIGUSR1) it forks 8 children, one at a
 * time, each allocating 6 blocks at once (fresh_child, fresh_mid,
 * fresh_leaf) and leaving; then it execs itself, and the new image
 * allocates 4 blocks at once (main, fresh_mid, fresh_leaf) and exits.
 * All are gone before the tool can read their maps: their frames are
 * named from the mappings the kernel walked through.
 * Their objects' tables are in (the tool read them for the first
 * process), so every one of those stacks must be whole.
 *
 * stk_fresh twice PATH --wait: once released, runs PATH quick (a copy of
 * this program: a file the tool has not seen) in a child, which allocates
 * 3 blocks (main, fresh_mid, fresh_leaf) and exits at once, before the
 * tool can read its maps; then again a second later. The exec's record
 * names the file, so its table is in for the second run. gcc -O2 -g, no
 * frame pointers.
 */
#include <string.h>
#include <sys/wait.h>
#include "target.h"

#define FN	__attribute__((noinline, noclone)) static
#define NOTAIL()	__asm__ volatile ("" ::: "memory")

#define CHILDREN	8

FN void fresh_leaf(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		__asm__ volatile ("" : "+r" (i));
		keep(malloc(48)); /* @site fresh_leaf */
	}
}

FN void fresh_mid(int n)
{
	fresh_leaf(n);
	NOTAIL();
}

FN void fresh_child(void)
{
	fresh_mid(opaque(6));
	NOTAIL();
	_exit(0);
}

/* Runs path quick in a child, and waits for it. */
static void run_quick(const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (!pid) {
		execl(path, path, "quick", (char *)NULL);
		perror("execl");
		_exit(1);
	}
	if (waitpid(pid, &status, 0) != pid || status) {
		fprintf(stderr, "stk_fresh: %s quick failed\n", path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char self[PATH_MAX + 32], *wait_argv[] = { argv[0], "--wait", NULL };
	int i, status;
	pid_t pid;

	if (argc == 2 && !strcmp(argv[1], "exec")) {
		fresh_mid(opaque(4));
		NOTAIL();
		return 0;
	}
	/* Gone at once: only its exec record tells the tool of its file. */
	if (argc == 2 && !strcmp(argv[1], "quick")) {
		fresh_mid(opaque(3));
		return 0;
	}
	/*
	 * twice PATH: PATH (a copy of this program, a file of its own) run
	 * quick, and again a second later, when its table is in.
	 */
	if (argc == 4 && !strcmp(argv[1], "twice")) {
		target_wait(2, wait_argv);
		run_quick(argv[2]);
		sleep(1);
		run_quick(argv[2]);
		return 0;
	}
	target_wait(argc, argv);
	for (i = 0; i < CHILDREN; i++) {
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (!pid)
			fresh_child();
		if (waitpid(pid, &status, 0) != pid || status) {
			fprintf(stderr, "stk_fresh: child %d failed\n", i);
			return 1;
		}
	}
	target_beside("stk_fresh", self);
	execl(self, self, "exec", (char *)NULL);
	perror("execl");
	return 1;
}
