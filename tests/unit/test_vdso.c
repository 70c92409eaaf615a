// SPDX-License-Identifier: (MIT OR Apache-2.0)
/* The vDSO image stands in for a target's [vdso]: an ELF with CFI. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <linux/types.h>
#include "events.h"
#include "procmaps.h"
#include "unwind_table.h"
#include "vdso.h"

/* The size of this process's own [vdso] mapping. */
static __u64 own_size(void)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	struct procmaps *pm = procmaps__read(getpid());
	__u64 size = 0;
	size_t i;

	cr_assert(base && pm, "no vDSO, or no /proc/self/maps");
	for (i = 0; i < procmaps__count(pm); i++) {
		const struct procmap *m = procmaps__get(pm, i);

		if (m->start == base)
			size = m->end - m->start;
	}
	procmaps__free(pm);
	cr_assert(size, "[vdso] not found in /proc/self/maps");
	return size;
}

Test(vdso, names_only_the_vdso)
{
	cr_expect(vdso__is("[vdso]"));
	cr_expect(!vdso__is("[vsyscall]"));
	cr_expect(!vdso__is("/usr/lib/x86_64-linux-gnu/libc.so.6"));
}

Test(vdso, image_compiles_to_rows)
{
	const char *path = vdso__path(own_size());
	struct unwind_table *t;
	size_t nr = 0;
	int fd;

	cr_assert(path, "vdso__path: %s", strerror(errno));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	t = unwind_table__build(fd, "/", 0);
	cr_assert(t, "unwind_table__build on the vDSO: %s", strerror(errno));
	unwind_table__rows(t, &nr);
	cr_expect_gt(nr, 0, "no rows from the vDSO's .eh_frame");
	cr_expect_str_eq(unwind_table__source(t), ".eh_frame");
	unwind_table__free(t);
	close(fd);
}

/* A [vdso] of another size is another image (a 32-bit target's): none. */
Test(vdso, other_size_is_refused)
{
	errno = 0;
	cr_expect_null(vdso__path(own_size() + 4096));
	cr_expect_eq(errno, ESTALE);
}
