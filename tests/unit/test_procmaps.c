/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* procmaps on a sample of every line shape the kernel prints, and live. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "procmaps.h"

/*
 * Every shape the kernel prints; the anonymous line both with and without
 * a trailing blank.
 */
static const char sample[] =
	"555555554000-555555556000 r--p 00000000 08:01 1311                       /usr/bin/my prog\n"
	"555555556000-55555555a000 r-xp 00002000 08:01 1311                       /usr/bin/my prog\n"
	"55555555a000-55555555b000 r-xp 00006000 fd:02 42                         /tmp/lib with  spaces.so (deleted)\n"
	"55555555b000-55555557c000 rw-p 00000000 00:00 0                          [heap]\n"
	"7ffff7fc0000-7ffff7fc4000 rw-p 00000000 00:00 0 \n"
	"7ffff7fc4000-7ffff7fc6000 r-xp 00000000 00:00 0                          [vdso]\n"
	"7ffff7fc6000-7ffff7fc7000 rw-p 00000000 00:00 0\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

/* Through a file, as procmaps__read reads /proc/PID/maps. */
static struct procmaps *parse(const char *text)
{
	char path[] = "/tmp/procmaps-test-XXXXXX";
	ssize_t len = strlen(text);
	struct procmaps *m;
	int fd, err;

	fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, text, len), len, "write %s", path);
	close(fd);
	m = procmaps__read_file(path);
	err = errno;
	unlink(path);
	errno = err;
	return m;
}

Test(procmaps, parses_every_field)
{
	struct procmaps *m = parse(sample);
	const struct procmap *e;

	cr_assert(m, "sample rejected: %s", strerror(errno));
	cr_assert_eq(procmaps__count(m), 9, "%zu entries, want 9",
		     procmaps__count(m));

	e = procmaps__get(m, 1);
	cr_expect_eq(e->start, 0x555555556000ULL, "start %#llx", e->start);
	cr_expect_eq(e->end, 0x55555555a000ULL, "end %#llx", e->end);
	cr_expect_eq(e->offset, 0x2000, "offset %#llx", e->offset);
	cr_expect_str_eq(e->perms, "r-xp", "perms \"%s\"", e->perms);
	cr_expect(major(e->dev) == 8 && minor(e->dev) == 1, "dev %u:%u",
		  major(e->dev), minor(e->dev));
	cr_expect_eq(e->inode, 1311, "inode %llu", e->inode);
	cr_expect_str_eq(e->path, "/usr/bin/my prog", "path \"%s\"", e->path);
	cr_expect(!e->deleted, "not deleted, flagged deleted");

	e = procmaps__get(m, 2);
	cr_expect_str_eq(e->path, "/tmp/lib with  spaces.so",
			 "deleted path \"%s\"", e->path);
	cr_expect(e->deleted, "\" (deleted)\" not flagged");
	cr_expect(major(e->dev) == 0xfd && minor(e->dev) == 2, "dev %x:%x",
		  major(e->dev), minor(e->dev));

	e = procmaps__get(m, 3);
	cr_expect_str_eq(e->path, "[heap]", "heap path \"%s\"", e->path);
	cr_expect_eq(e->inode, 0, "heap inode %llu", e->inode);

	cr_expect_null(procmaps__get(m, 4)->path, "anonymous with a path");
	cr_expect_null(procmaps__get(m, 6)->path, "anonymous with a path");

	e = procmaps__get(m, 5);
	cr_expect_str_eq(e->path, "[vdso]", "vdso path \"%s\"", e->path);
	cr_expect_eq(e->inode, 0, "vdso inode %llu", e->inode);

	e = procmaps__get(m, 8);
	cr_expect_eq(e->start, 0xffffffffff600000ULL, "vsyscall start %#llx",
		     e->start);
	cr_expect_null(procmaps__get(m, 9), "entry past the end");
	procmaps__free(m);
}

Test(procmaps, find)
{
	static const struct {
		__u64 addr;
		int index;	/* -1: in no mapping */
	} cases[] = {
		{ 0x1000, -1 },
		{ 0x555555554000ULL, 0 },
		{ 0x555555555fffULL, 0 },
		{ 0x555555556000ULL, 1 },	/* end is exclusive */
		{ 0x55555555a7a0ULL, 2 },
		{ 0x7ffff7fc5123ULL, 5 },
		{ 0x7ffff7fc7000ULL, -1 },	/* a gap */
		{ 0x7fffffffe000ULL, 7 },
		{ 0xffffffffff600400ULL, 8 },
		{ 0xffffffffffffffffULL, -1 },
	};
	struct procmaps *m = parse(sample);
	const struct procmap *e, *want;
	size_t i;

	cr_assert(m, "sample rejected: %s", strerror(errno));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = procmaps__find(m, cases[i].addr);
		want = cases[i].index < 0 ? NULL :
					    procmaps__get(m, cases[i].index);
		cr_expect_eq(e, want, "find(%#llx): entry %td, want %d",
			     cases[i].addr,
			     e ? e - procmaps__get(m, 0) : -1,
			     cases[i].index);
	}
	procmaps__free(m);
}

Test(procmaps, rejects_malformed)
{
	static const char *const bad[] = {
		"not a maps line\n",
		"1000-2000 r-xp 00000000 08:01\n",
		"2000-1000 r-xp 00000000 08:01 5 /x\n",
		/* find() needs sorted, disjoint ranges */
		"3000-4000 r-xp 00000000 08:01 5 /x\n"
		"1000-2000 r-xp 00000000 08:01 5 /x\n",
		"1000-3000 r-xp 00000000 08:01 5 /x\n"
		"2000-4000 r-xp 00000000 08:01 5 /x\n",
	};
	struct procmaps *m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		m = parse(bad[i]);
		cr_expect(!m && errno == EINVAL,
			  "accepted or errno %d (%s) for:\n%s", errno,
			  strerror(errno), bad[i]);
		procmaps__free(m);
	}
}

Test(procmaps, last_line_without_newline)
{
	struct procmaps *m = parse("1000-2000 r-xp 00000000 08:01 5 /x y");

	cr_assert(m, "rejected: %s", strerror(errno));
	cr_assert_eq(procmaps__count(m), 1, "%zu entries", procmaps__count(m));
	cr_expect_str_eq(procmaps__get(m, 0)->path, "/x y", "path \"%s\"",
			 procmaps__get(m, 0)->path);
	procmaps__free(m);
}

Test(procmaps, missing_file)
{
	errno = 0;
	cr_expect_null(procmaps__read_file("/nonexistent/maps"),
		       "missing file parsed");
	cr_expect_eq(errno, ENOENT, "errno %d (%s)", errno, strerror(errno));
}

Test(procmaps, no_such_process)
{
	errno = 0;
	cr_expect_null(procmaps__read(0x7fffffff), "pid 0x7fffffff read");
	cr_expect_eq(errno, ESRCH, "errno %d (%s), want ESRCH", errno,
		     strerror(errno));
}

Test(procmaps, zombie_is_no_such_process)
{
	siginfo_t info;
	pid_t pid;

	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (!pid)
		_exit(0);
	/* Wait for the exit but leave the zombie in place. */
	cr_assert_eq(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0,
		     "waitid: %s", strerror(errno));
	errno = 0;
	cr_expect_null(procmaps__read(pid), "zombie %d read", pid);
	cr_expect_eq(errno, ESRCH, "errno %d (%s), want ESRCH", errno,
		     strerror(errno));
	waitpid(pid, NULL, 0);
}

Test(procmaps, reads_self)
{
	char exe[PATH_MAX];
	struct procmaps *m;
	const struct procmap *e;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	m = procmaps__read(getpid());
	cr_assert(m, "read own maps: %s", strerror(errno));

	e = procmaps__find(m, (__u64)(unsigned long)&parse);
	cr_assert(e, "own code is in no mapping");
	cr_expect_eq(e->perms[2], 'x', "own code in a \"%s\" mapping",
		     e->perms);
	cr_expect_str_eq(e->path, exe, "own code in %s, want %s", e->path,
			 exe);

	e = procmaps__find(m, (__u64)(unsigned long)__builtin_frame_address(0));
	cr_assert(e, "own stack is in no mapping");
	cr_expect_str_eq(e->path, "[stack]", "stack in %s", e->path);
	procmaps__free(m);
}

/*
 * A gone process's file by its name here: opened only when it is that
 * regular file; a device a symlink leads to is never opened.
 */
Test(procmaps, open_same_file_only)
{
	char dir[] = "/tmp/ms-open-same-XXXXXX", file[64], link[64];
	struct stat st, dev, got;
	int fd;

	cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(file, sizeof(file), "%s/f", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	cr_assert(fd >= 0, "create: %s", strerror(errno));
	close(fd);
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(symlink("/dev/null", link), 0);
	cr_assert_eq(stat("/dev/null", &dev), 0);

	fd = procmap_open_same(file, st.st_dev, st.st_ino);
	cr_assert(fd >= 0, "the same file: %s", strerror(errno));
	cr_assert_eq(fstat(fd, &got), 0);
	cr_expect_eq(got.st_ino, st.st_ino, "the file looked at");
	close(fd);
	errno = 0;
	cr_expect_eq(procmap_open_same(file, st.st_dev, st.st_ino + 1), -1);
	cr_expect_eq(errno, ESTALE, "another inode: %s", strerror(errno));
	errno = 0;
	cr_expect_eq(procmap_open_same(link, dev.st_dev, dev.st_ino), -1,
		     "a device opened");
	cr_expect_eq(errno, ESTALE, "a device: %s", strerror(errno));
	errno = 0;
	cr_expect_eq(procmap_open_same("/nonexistent/x", st.st_dev,
				       st.st_ino), -1);
	cr_expect_eq(errno, ENOENT);
	unlink(link);
	unlink(file);
	rmdir(dir);
}

/*
 * The path to a mapping's file: its name inside the process's root when
 * it is there; map_files otherwise (a chroot's maps name files from the
 * tool's root; a deleted file's name leads nowhere or to its successor);
 * either way the mapping's own file.
 */
Test(procmaps, path_to_the_mapping_file)
{
	char path[PATH_MAX], want[PATH_MAX];
	struct procmap e;
	struct procmaps *m;
	struct stat st;

	m = procmaps__read(getpid());
	cr_assert(m, "read own maps: %s", strerror(errno));
	e = *procmaps__find(m, (__u64)(unsigned long)&parse);

	cr_assert_eq(procmap_path(getpid(), &e, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "/proc/%d/root%s", getpid(), e.path);
	cr_expect_str_eq(path, want, "a named file: %s, want %s", path, want);

	snprintf(want, sizeof(want), "/proc/%d/map_files/%llx-%llx", getpid(),
		 (unsigned long long)e.start, (unsigned long long)e.end);
	/* the name as a chrooted process's maps give it: not in its root */
	e.path = "/nonexistent/chroot/bin/prog";
	cr_assert_eq(procmap_path(getpid(), &e, path, sizeof(path)), 0);
	cr_expect_str_eq(path, want, "a name not in the root: %s, want %s",
			 path, want);
	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	cr_expect(st.st_ino == e.inode && st.st_dev == e.dev,
		  "%s is not the mapping's file", path);

	/* deleted: never the name, even where a file has it now */
	e.path = "/proc/self/exe";
	e.deleted = true;
	cr_assert_eq(procmap_path(getpid(), &e, path, sizeof(path)), 0);
	cr_expect_str_eq(path, want, "a deleted file: %s, want %s", path,
			 want);

	cr_expect_eq(procmap_path(getpid(), &e, path, 16), -ENAMETOOLONG);
	procmaps__free(m);
}
