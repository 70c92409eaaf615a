/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The perf map a JIT runtime writes of the code it compiled, perf's
 * convention for naming code no file holds: /tmp/perf-PID.map, one
 * "START SIZE NAME" line (hexadecimal, "0x" optional) per piece of code,
 * appended as code is made (node --perf-basic-prof, Java's
 * -XX:+DumpPerfMapAtExit or `jcmd PID Compiler.perfmap`, .NET,
 * wasmtime). The traced process writes it: hostile input.
 */
#ifndef MEMSCOPE_PERFMAP_H
#define MEMSCOPE_PERFMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* A bigger map is not read (days of a busy node's --perf-basic-prof). */
#define PERFMAP_MAX_BYTES	(256u << 20)

struct perfmap;

/*
 * The map in buf's len bytes (copied). Lines that are not an entry (no
 * numbers, a size of 0, a range past 2^64, no name) are skipped and
 * counted. NULL + errno (ENOMEM).
 */
struct perfmap *perfmap__parse(const char *buf, size_t len);
/*
 * The map in fd, read whole from its start. 0, or -EFBIG past
 * PERFMAP_MAX_BYTES, -ENOMEM, -errno of the read.
 */
int perfmap__read(int fd, struct perfmap **out);
void perfmap__free(struct perfmap *pm);

/*
 * The name of the code at addr, or NULL. Code a runtime frees is listed
 * again when its addresses are reused: where entries of different names
 * cover addr (or too many to look through), *reused is set and NULL
 * returned, since which one ran when a stack was taken is not known.
 */
const char *perfmap__find(const struct perfmap *pm, __u64 addr,
			  bool *reused);
size_t perfmap__count(const struct perfmap *pm);
size_t perfmap__skipped(const struct perfmap *pm);

#endif /* MEMSCOPE_PERFMAP_H */
