/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * stk_fresh: processes that allocate before the tool can have read their
 * maps. Once released (--wait, SIGUSR1) it forks 8 children, one at a
 * time, each allocating 6 blocks at once (fresh_child, fresh_mid,
 * fresh_leaf) and leaving; then it execs itself, and the new image
 * allocates 4 blocks at once (main, fresh_mid, fresh_leaf) and exits
 * 300 ms later (the tool names an exec'd image's frames from its maps,
 * which it must read while the image runs; a child's are its parent's).
 * Their objects' tables are in (the tool read them for the first
 * process), so every one of those stacks must be whole. gcc -O2 -g, no
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

int main(int argc, char **argv)
{
	char self[PATH_MAX + 32];
	int i, status;
	pid_t pid;

	if (argc == 2 && !strcmp(argv[1], "exec")) {
		fresh_mid(opaque(4));
		/* Its names need its maps: read while it lives. */
		usleep(300000);
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
