/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * floor: attaches the empty programs of floor.bpf.c to a process with the
 * tool's attach module (user/attach.c), so the probe plan (objects,
 * functions, offsets, entry/return) is exactly memscope-bpf's, and waits.
 *
 *   floor [-m alloc] [-r] [-v] -p PID
 *
 * Prints "floor: tracing pid N" on stderr once attached; runs until the
 * process exits or SIGINT/SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "floor.skel.h"

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* Until the target exits (pidfd readable) or we are told to stop. */
static void wait_end(int pidfd, int sfd)
{
	struct pollfd fds[2] = {
		{ .fd = pidfd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};

	while (poll(fds, 2, -1) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	struct attach_progs progs = {};
	struct attach *a = NULL;
	struct floor_bpf *skel;
	bool alloc_only = false, verbose = false, read_user = false;
	bool bad = false;
	int pid = 0, pidfd, sfd, c, err, ret = 1;
	sigset_t mask;

	while ((c = getopt(argc, argv, "p:m:rv")) != -1) {
		switch (c) {
		case 'p':
			pid = atoi(optarg);
			break;
		case 'm':
			alloc_only = !strcmp(optarg, "alloc");
			if (!alloc_only && strcmp(optarg, "default"))
				bad = true;
			break;
		case 'r':
			read_user = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			bad = true;
			break;
		}
	}
	if (bad || pid <= 0 || optind != argc) {
		fprintf(stderr, "usage: floor [-m alloc] [-r] [-v] -p PID\n");
		return 2;
	}

	/* Signals through a descriptor: nothing interrupts the attach. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (sfd < 0 || pidfd < 0) {
		fprintf(stderr, "floor: cannot watch pid %d: %s\n", pid,
			strerror(errno));
		return 1;
	}

	libbpf_set_print(libbpf_quiet);
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open the BPF programs: %s\n",
			strerror(errno));
		goto out_fds;
	}
	skel->rodata->read_user = read_user;
	progs.enter = skel->progs.ms_alloc_enter;
	progs.ret = skel->progs.ms_alloc_return;
	progs.free = skel->progs.ms_free_enter;
	/* The same link kind as the tool: uprobe_multi where the kernel has it. */
	attach__prepare(&progs);
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "floor: cannot load the BPF programs: %s\n",
			strerror(errno));
		goto out_skel;
	}
	a = attach__new(&progs, pid, alloc_only);
	if (!a) {
		fprintf(stderr, "floor: out of memory\n");
		goto out_skel;
	}
	err = attach__process(a, pid);
	if (err) {
		fprintf(stderr, "floor: cannot attach to pid %d: %s\n", pid,
			attach__error(a));
		goto out_attach;
	}
	if (verbose)
		attach__print_probes(a, stderr, "floor");
	fprintf(stderr, "floor: tracing pid %d\n", pid);
	wait_end(pidfd, sfd);
	ret = 0;
out_attach:
	attach__free(a);
out_skel:
	floor_bpf__destroy(skel);
out_fds:
	close(pidfd);
	close(sfd);
	return ret;
}
