/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * execmap: maps code that is no ELF object, as a JIT does (bytes in a
 * memfd, mapped executable) and as a program may map a data file, then
 * leaks from its own code. Attaching must pass over those mappings and
 * probe the objects that are ELF: libc's malloc here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include "target.h"

/* PROT_EXEC over fd's first page, which holds text, not an ELF header. */
static void map_exec(int fd)
{
	static const char text[] = "not an ELF object\n";

	if (fd < 0 || write(fd, text, sizeof(text)) != sizeof(text) ||
	    ftruncate(fd, 4096) ||
	    mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) ==
		    MAP_FAILED) {
		perror("execmap: map");
		exit(1);
	}
	close(fd);
}

__attribute__((noinline)) static void execmap_leak(void)
{
	for (int i = 0; i < opaque(5); i++)
		keep(malloc(48));		/* @site execmap_leak */
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/execmap-XXXXXX";
	int fd = mkstemp(path);

	map_exec(memfd_create("jit", MFD_CLOEXEC));
	/* the file stays named while the tool attaches, gone at the end */
	map_exec(fd);
	target_wait(argc, argv);
	execmap_leak();
	unlink(path);
	return 0;
}
