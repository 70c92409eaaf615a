/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What the report says of one traced process beyond its records: read
 * from /proc by capture (live) or from a recording (replay), handed to
 * the store's process table. Strings are NUL-terminated and cut at their
 * size (the command line's arguments joined by spaces).
 */
#ifndef MEMSCOPE_PROCINFO_H
#define MEMSCOPE_PROCINFO_H

#include <linux/types.h>

#define PROCINFO_COMM		16
#define PROCINFO_COMMAND	512

/*
 * The facts without the command line: a group inside struct procinfo,
 * as the kernel's struct_group() makes one (procinfo.pid and
 * procinfo.facts.pid are one member). The process table keeps these per
 * image and the command line apart, sized to fit: a -a trace keeps every
 * image it saw, and the 512 bytes were most of each.
 */
#define PROCINFO_FACTS							\
	__u32 pid;		/* as the host sees it (tgid) */	\
	__u32 ppid;		/* 0 unknown */				\
	__u32 ns_pid;		/* as its own pid namespace sees it; 0	\
				 * same as pid or unknown */		\
	__u32 flags;		/* PROCINFO_* */			\
	__u64 start_ns;		/* CLOCK_MONOTONIC of its start, 0	\
				 * unknown */				\
	__u64 late_ns;		/* PROCINFO_LATE: how long it ran	\
				 * before the probes of its allocator	\
				 * objects were in (from its start,	\
				 * exec or the object's mapping); its	\
				 * counts start there */		\
	__u64 late_end_ns;	/* PROCINFO_LATE: CLOCK_MONOTONIC when	\
				 * they were, the end of that late_ns;	\
				 * 0 unknown (a recording of format 8) */ \
	char comm[PROCINFO_COMM];

struct procfacts {
	PROCINFO_FACTS
};

struct procinfo {
	union {
		struct { PROCINFO_FACTS };
		struct procfacts facts;
	};
	char command[PROCINFO_COMMAND];
};

/* It ran before tracing began (-p, -a, --comm, --cgroup at attach). */
#define PROCINFO_EXISTING	(1u << 0)
/* It was gone before /proc could be read: command is empty. */
#define PROCINFO_GONE		(1u << 1)
/* The command line was cut at PROCINFO_COMMAND. */
#define PROCINFO_CUT		(1u << 2)
/* Its allocators were probed only after it ran them: late_ns. */
#define PROCINFO_LATE		(1u << 3)
/* Not an x86-64 program (a 32-bit one): not traced at all. */
#define PROCINFO_FOREIGN	(1u << 4)

#endif /* MEMSCOPE_PROCINFO_H */
