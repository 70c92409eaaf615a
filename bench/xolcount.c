// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * Preloaded into a service under the benchmark: when it exits, appends
 * "xol N" to $MEMSCOPE_XOL_OUT, N the slots used in its "[uprobes]" area.
 * The kernel copies each instruction it single-steps for a uprobe into a
 * slot there (slot 0 holds the uretprobe trampoline) and never clears it,
 * so N is 0 exactly when no probe the process hit was single-stepped. The
 * area is execute-only to other processes; x86 lets the process read it.
 * No allocation here: the process may still be traced.
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
	unsigned long lo = 0, hi = 0, a;
	const unsigned char *slot;
	char line[64], *l;
	ssize_t n, len = 0;
	int fd, used = 0;
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
	fd = open(out, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "xol %d\n", used);
	if (write(fd, line, n) != n)
		perror(out);
	close(fd);
}
