/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What /proc tells of a traced process that its records cannot carry
 * (common/procinfo.h): its parent, its pid in its own namespace, when it
 * started and its command line; and where the kernel started it (auxv),
 * for the unwind tables. Everything read is hostile input: a
 * process names itself, and its command line is its own memory.
 */
#ifndef MEMSCOPE_PROCINFO_READ_H
#define MEMSCOPE_PROCINFO_READ_H

#include <stdbool.h>
#include <stddef.h>
#include "procinfo.h"

/*
 * Reads /proc/PID into out (pid, flags as given). A process gone before
 * it could be read still fills pid and flags, with PROCINFO_GONE: 0,
 * or -errno for any other failure.
 */
int procinfo_read(int pid, __u32 flags, struct procinfo *out);

/*
 * From /proc/PID/status (any may be NULL): *tgid the process (thread
 * group) pid belongs to, pid itself for a process, another for a thread's
 * id; *state its state's letter (Z: a zombie); *tracer the pid of the
 * process that ptraces it (a debugger, strace), 0 for none. 0, or -errno
 * (-ENOENT: no such).
 */
int procinfo_read_task(int pid, __u32 *tgid, char *state, __u32 *tracer);

/*
 * What tells the files a process writes for others (/tmp/perf-PID.map)
 * from those of another process of its pid: its own number in its pid
 * namespace (pid itself outside one), and when it started (ns since
 * boot, procinfo.start_ns). 0 or -errno.
 */
int procinfo_read_ident(int pid, __u32 *ns_pid, __u64 *start_ns);

/* Pure parsers of one file's bytes, for the unit tests. 0 or -EINVAL. */
int procinfo_parse_stat(const char *buf, size_t len, __u64 ticks_per_sec,
			struct procinfo *out);
/* The innermost pid of the NSpid line (ns_pid 0 when it is pid). */
int procinfo_parse_status(const char *buf, size_t len, struct procinfo *out);
/* The State line's letter (R, S, Z...). */
int procinfo_parse_state(const char *buf, size_t len, char *state);
/* The Tgid line: the process a thread id belongs to. */
int procinfo_parse_tgid(const char *buf, size_t len, __u32 *tgid);
/* The TracerPid line: who ptraces it, 0 for none. */
int procinfo_parse_tracer(const char *buf, size_t len, __u32 *tracer);
/* NUL-separated arguments joined by spaces, cut with PROCINFO_CUT. */
void procinfo_parse_cmdline(const char *buf, size_t len,
			    struct procinfo *out);

/*
 * Where the kernel started the process, from /proc/PID/auxv: *entry the
 * program's entry point (AT_ENTRY), *interp its interpreter's load
 * address (AT_BASE; 0 when it has none). 0, or -errno: -EINVAL when it
 * names no entry point (an exec has not written it yet).
 */
int procinfo_read_entry(int pid, __u64 *entry, __u64 *interp);
/* The auxv parser: (type, value) pairs of 64 bits; -EINVAL without AT_ENTRY. */
int procinfo_parse_auxv(const void *buf, size_t len, __u64 *entry,
			__u64 *interp);

#endif /* MEMSCOPE_PROCINFO_READ_H */
