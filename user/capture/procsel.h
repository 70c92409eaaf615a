/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Which running processes a selection takes when tracing starts (-a,
 * --comm, --cgroup): the kernel sees only the processes that fork or exec
 * after attach, so those already running are found in /proc.
 */
#ifndef MEMSCOPE_PROCSEL_H
#define MEMSCOPE_PROCSEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct procsel {
	bool all;			/* every process, unless narrowed */
	char *const *comms;
	size_t nr_comms;
	const char *cgroup;		/* as /proc/PID/cgroup names it
					 * ("/system.slice/x"), NULL: any */
	int self;			/* never taken: the tool itself */
};

/*
 * A cgroup v2 directory: its id (what the kernel compares), its level
 * below the root, and its path as /proc/PID/cgroup shows it. 0, or
 * -errno (-ENOTDIR: not a directory, -EMEDIUMTYPE: not on cgroup2).
 */
int procsel_cgroup(const char *dir, __u64 *id, __u32 *level, char *rel,
		   size_t rel_len);

/*
 * Does the cgroup a process is in (the "0::" line of /proc/PID/cgroup,
 * in buf) lie at or below rel? Pure, for the unit tests.
 */
bool procsel_cgroup_match(const char *buf, size_t len, const char *rel);

/*
 * Calls cb for every user process the selection takes now (kernel
 * threads never). Stops at a non-zero return and returns it; else 0.
 */
int procsel_scan(const struct procsel *sel, int (*cb)(int pid, void *ctx),
		 void *ctx);

#endif /* MEMSCOPE_PROCSEL_H */
