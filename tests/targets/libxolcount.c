// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * Preloaded into a traced process (the no-single-step integration test's
 * targets, the benchmark's services): when it exits, appends "xol N" to
 * $MEMSCOPE_XOL_OUT, N the slots used in its "[uprobes]" area, then one
 * "xol slot I: BYTES" line per used slot (its first 16 bytes). The kernel
 * copies each instruction it single-steps for a uprobe into a slot there
 * (slot 0 holds the uretprobe trampoline) and never clears it, so N is 0
 * exactly when no probe the process hit was single-stepped. The area is
 * execute-only: /proc/PID/mem and ptrace get EIO, but on x86 the process
 * itself can read it. Nothing here allocates: the probes are still in.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOT_BYTES	128

__attribute__((destructor)) static void xol_count(void)
{
	static char maps[1 << 16];
	const char *out = getenv("MEMSCOPE_XOL_OUT");
	static char report[1 << 14];
	unsigned long lo = 0, hi = 0, a;
	const unsigned char *slot;
	char *l;
	ssize_t n, len = 0;
	int fd, used = 0, at = 0;
	size_t i;

	if (!out)
		return;
	fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0)
		return;
	while (len < (ssize_t)sizeof(maps) - 1 &&
	       (n = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0)
		len += n;
	close(fd);
	maps[len] = 0;
	l = strstr(maps, "[uprobes]");
	if (l) {
		while (l > maps && l[-1] != '\n')
			l--;
		if (sscanf(l, "%lx-%lx", &lo, &hi) != 2)
			lo = hi = 0;
	}
	for (a = lo + SLOT_BYTES; a + SLOT_BYTES <= hi; a += SLOT_BYTES) {
		slot = (const unsigned char *)a;
		for (i = 0; i < SLOT_BYTES && !slot[i]; i++)
			;
		used += i < SLOT_BYTES;
	}
	at = snprintf(report, sizeof(report), "xol %d\n", used);
	for (a = lo + SLOT_BYTES; a + SLOT_BYTES <= hi &&
	     at < (int)sizeof(report) - 80; a += SLOT_BYTES) {
		slot = (const unsigned char *)a;
		for (i = 0; i < SLOT_BYTES && !slot[i]; i++)
			;
		if (i == SLOT_BYTES)
			continue;
		at += snprintf(report + at, sizeof(report) - at,
			       "xol slot %lu:", (a - lo) / SLOT_BYTES);
		for (i = 0; i < 16; i++)
			at += snprintf(report + at, sizeof(report) - at,
				       " %02x", slot[i]);
		at += snprintf(report + at, sizeof(report) - at, "\n");
	}
	fd = open(out, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		return;
	if (write(fd, report, at) != at)
		perror(out);
	close(fd);
}
