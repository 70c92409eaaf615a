/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Whole-or-nothing output files: the destination appears only on commit,
 * and no temporary survives an abort or a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include "outfile.h"

static char dir[] = "/tmp/memscope-outfile-XXXXXX";
static char dest[PATH_MAX];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(dest, sizeof(dest), "%s/report.json", dir);
	umask(022);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(outfile, .init = setup, .fini = teardown);

/* Entries in the test directory; the first one's name goes to name. */
static int nr_entries(char *name, size_t size)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!n++ && name)
			snprintf(name, size, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(s, f);
	cr_assert_eq(fclose(f), 0);
}

static void expect_content(const char *path, const char *want)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	cr_expect_str_eq(buf, want, "content of %s", path);
}

Test(outfile, commit_renames_into_place)
{
	struct outfile *o = outfile__new(dest);
	char name[NAME_MAX + 1];
	struct stat st;

	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	fputs("hello", outfile__stream(o));

	cr_expect_eq(access(dest, F_OK), -1,
		     "destination exists before commit");
	cr_assert_eq(nr_entries(name, sizeof(name)), 1);
	cr_expect_eq(strncmp(name, "report.json.", 12), 0,
		     "temporary \"%s\" is not beside the destination", name);
	cr_expect_eq(strlen(name), strlen("report.json.XXXXXX"));

	cr_assert_eq(outfile__commit(o), 0);
	expect_content(dest, "hello");
	cr_expect_eq(nr_entries(NULL, 0), 1, "temporary left behind");
	cr_assert_eq(stat(dest, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0644,
		     "mode %o, want 0644 under umask 022", st.st_mode & 07777);
}

Test(outfile, mode_respects_umask)
{
	struct outfile *o;
	struct stat st;

	umask(077);
	o = outfile__new(dest);
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	cr_assert_eq(outfile__commit(o), 0);
	cr_assert_eq(stat(dest, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600,
		     "mode %o, want 0600 under umask 077", st.st_mode & 07777);
}

Test(outfile, commit_replaces_existing)
{
	struct outfile *o;

	write_file(dest, "old");
	o = outfile__new(dest);
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	fputs("new", outfile__stream(o));
	expect_content(dest, "old");
	cr_assert_eq(outfile__commit(o), 0);
	expect_content(dest, "new");
	cr_expect_eq(nr_entries(NULL, 0), 1, "temporary left behind");
}

Test(outfile, abort_leaves_nothing)
{
	struct outfile *o = outfile__new(dest);

	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	fputs("partial", outfile__stream(o));
	outfile__abort(o, 0);
	cr_expect_eq(nr_entries(NULL, 0), 0, "abort left a file behind");
}

Test(outfile, abort_keeps_existing)
{
	struct outfile *o;

	write_file(dest, "old");
	o = outfile__new(dest);
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	fputs("partial", outfile__stream(o));
	outfile__abort(o, 0);
	expect_content(dest, "old");
	cr_expect_eq(nr_entries(NULL, 0), 1, "abort left a temporary");
}

Test(outfile, missing_directory_fails)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/missing/report.json", dir);
	errno = 0;
	cr_expect_null(outfile__new(path));
	cr_expect_eq(errno, ENOENT, "errno %d (%s), want ENOENT", errno,
		     strerror(errno));
}

Test(outfile, directory_destination_fails)
{
	errno = 0;
	cr_expect_null(outfile__new(dir));
	cr_expect_eq(errno, EISDIR, "errno %d (%s), want EISDIR", errno,
		     strerror(errno));
	cr_expect_eq(nr_entries(NULL, 0), 0);
}

Test(outfile, failed_write_leaves_no_temporary)
{
	struct rlimit lim = { .rlim_cur = 4096, .rlim_max = RLIM_INFINITY };
	static char big[16384];
	struct outfile *o;
	int rc;

	write_file(dest, "old");
	o = outfile__new(dest);
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));

	/* A file size limit makes writes fail like a full disk does. */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	memset(big, 'x', sizeof(big));
	fwrite(big, 1, sizeof(big), outfile__stream(o));
	rc = outfile__commit(o);
	lim.rlim_cur = RLIM_INFINITY;
	setrlimit(RLIMIT_FSIZE, &lim);

	/* stdio may have seen the error before commit and kept only ferror */
	cr_expect(rc == -EFBIG || rc == -EIO,
		  "commit returned %d, want -EFBIG or -EIO", rc);
	expect_content(dest, "old");
	cr_expect_eq(nr_entries(NULL, 0), 1, "failed commit left a temporary");
}

Test(outfile, failed_rename_leaves_no_temporary)
{
	struct outfile *o = outfile__new(dest);
	int rc;

	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	fputs("data", outfile__stream(o));
	cr_assert_eq(mkdir(dest, 0755), 0);
	rc = outfile__commit(o);
	cr_expect_eq(rc, -EISDIR, "commit returned %d, want -EISDIR", rc);
	cr_expect_eq(nr_entries(NULL, 0), 1, "failed commit left a temporary");
}

Test(outfile, fifo_is_written_directly)
{
	char buf[32] = "";
	struct outfile *o;
	struct stat st;
	int rd;

	cr_assert_eq(mkfifo(dest, 0644), 0, "mkfifo: %s", strerror(errno));
	/* A reader first, or opening the FIFO for writing would block. */
	rd = open(dest, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(rd, 0, "open fifo: %s", strerror(errno));
	o = outfile__new(dest);
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	fputs("streamed", outfile__stream(o));
	cr_expect_eq(outfile__commit(o), 0);
	cr_expect_eq(read(rd, buf, sizeof(buf) - 1), 8);
	cr_expect_str_eq(buf, "streamed");
	close(rd);
	cr_assert_eq(lstat(dest, &st), 0);
	cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced");
	cr_expect_eq(nr_entries(NULL, 0), 1, "a temporary was created");
}

Test(outfile, symlink_is_written_through)
{
	char target[PATH_MAX];
	struct outfile *o;
	struct stat st;

	snprintf(target, sizeof(target), "%s/real.json", dir);
	write_file(target, "older and longer");
	cr_assert_eq(symlink("real.json", dest), 0, "symlink: %s",
		     strerror(errno));
	/* an abort (as of a check before tracing) changes nothing */
	o = outfile__new(dest);
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	outfile__abort(o, 0);
	expect_content(target, "older and longer");

	o = outfile__new(dest);
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	fputs("new", outfile__stream(o));
	cr_expect_eq(outfile__commit(o), 0);
	cr_assert_eq(lstat(dest, &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "the symlink was replaced");
	expect_content(target, "new");
	cr_expect_eq(nr_entries(NULL, 0), 2, "a temporary was left");
}

/*
 * A full disk says so: the first failed write's errno, not stdio's bare
 * error flag (which the writers, seeing only ferror, reported as EIO).
 * /dev/full fails every write with ENOSPC.
 */
Test(outfile, full_disk_says_enospc)
{
	static char big[1 << 16];
	struct outfile *o;

	memset(big, 'x', sizeof(big));
	o = outfile__new("/dev/full");
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	fwrite(big, 1, sizeof(big), outfile__stream(o));
	cr_expect_eq(outfile__abort(o, -EIO), -ENOSPC,
		     "a writer's -EIO after the failed write");
	o = outfile__new("/dev/full");
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	fwrite(big, 1, sizeof(big), outfile__stream(o));
	fputs("after the failure", outfile__stream(o));
	cr_expect_eq(outfile__commit(o), -ENOSPC, "the commit");
	o = outfile__new("/dev/full");
	cr_assert_not_null(o, "outfile__new: %s", strerror(errno));
	cr_expect_eq(outfile__abort(o, -EINVAL), -EINVAL,
		     "no write failed: the writer's own error");
}
