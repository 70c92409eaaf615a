/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The table cache: the table of tests/fixtures/cfi and of Debian's libc
 * kept and read back row for row; every damaged entry (each bit flipped,
 * each length cut, rows out of order or of unknown rules under a good
 * CRC) refused and removed; another build's or another object's entry
 * not taken; a directory others may write, or a link, refused; the least
 * recently used entries removed past the bound.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fixture.h"
#include "table_cache.h"
#include "unwind_table.h"

#define KEY	"b:0123456789abcdef0123456789abcdef01234567"
#define TOOL	"feedfacefeedfacefeedfacefeedfacefeedface"

static struct unwind_table *compile(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct unwind_table *t;

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	t = unwind_table__build(fd, "/", 0);
	cr_assert(t, "%s: %s", path, strerror(errno));
	close(fd);
	return t;
}

static void assert_same(const struct unwind_table *a,
			const struct unwind_table *b)
{
	const struct ms_unwind_row *ra, *rb;
	struct unwind_table_stats sa, sb;
	size_t na, nb;

	ra = unwind_table__rows(a, &na);
	rb = unwind_table__rows(b, &nb);
	cr_assert_eq(na, nb, "%zu rows read back, %zu kept", nb, na);
	cr_assert(!memcmp(ra, rb, na * sizeof(*ra)), "rows differ");
	cr_assert_str_eq(unwind_table__source(a), unwind_table__source(b));
	unwind_table__stats(a, &sa);
	unwind_table__stats(b, &sb);
	cr_assert(!memcmp(&sa, &sb, sizeof(sa)), "stats differ");
}

/* A fresh directory of our own, mode 0700, under /tmp. */
static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/tc-test.XXXXXX");
	cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	return dir;
}

static void rmdir_all(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(table_cache, round_trip)
{
	const char *objs[] = { fixture("cfi"), "/lib/x86_64-linux-gnu/libc.so.6" };
	struct unwind_table *t, *back;
	size_t i, len;
	void *buf;

	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		t = compile(objs[i]);
		cr_assert(unwind_table__whole(t), "%s: its own CFI", objs[i]);
		buf = table_cache__format(KEY, TOOL, "/x", t, &len);
		cr_assert(buf);
		back = table_cache__parse(buf, len, KEY, TOOL);
		cr_assert(back, "%s: %s", objs[i], strerror(errno));
		assert_same(t, back);
		unwind_table__free(back);
		free(buf);
		unwind_table__free(t);
	}
}

/* Each bit of an entry flipped, each length short of whole: refused. */
Test(table_cache, damage_refused)
{
	struct unwind_table *t = compile(fixture("cfi"));
	size_t len, i, bit;
	char *buf;

	buf = table_cache__format(KEY, TOOL, "/x", t, &len);
	cr_assert(buf);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= 1 << bit;
			errno = 0;
			cr_assert_null(table_cache__parse(buf, len, KEY, TOOL),
				       "byte %zu bit %zu flipped: taken", i, bit);
			cr_assert(errno == EBADMSG || errno == ESTALE,
				  "byte %zu: %s", i, strerror(errno));
			buf[i] ^= 1 << bit;
		}
	for (i = 0; i < len; i++) {
		errno = 0;
		cr_assert_null(table_cache__parse(buf, i, KEY, TOOL),
			       "cut to %zu of %zu bytes: taken", i, len);
		cr_assert_eq(errno, EBADMSG);
	}
	/* one byte more, its CRC good: the length no longer fits the rows */
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	table_cache__seal(buf, len + 1);
	cr_assert_null(table_cache__parse(buf, len + 1, KEY, TOOL));
	free(buf);
	unwind_table__free(t);
}

/* Rows the walker must never get, under a CRC that holds. */
Test(table_cache, bad_rows_refused)
{
	struct ms_unwind_row good[] = {
		{ .pc = 0x1000, .cfa_type = MS_CFA_RSP, .cfa_off = 8 },
		{ .pc = 0x1010, .cfa_type = MS_CFA_NO_INFO },
	};
	struct ms_unwind_row *rows = malloc(sizeof(good)), *in;
	struct unwind_table *t, *back;
	size_t i, len;
	char *buf;

	memcpy(rows, good, sizeof(good));
	t = unwind_table__adopt(rows, 2, ".eh_frame", 1);
	buf = table_cache__format(KEY, TOOL, "/x", t, &len);
	cr_assert(buf);
	back = table_cache__parse(buf, len, KEY, TOOL);
	cr_assert(back, "the good table: %s", strerror(errno));
	unwind_table__free(back);
	in = (struct ms_unwind_row *)(buf + len - sizeof(good));
	for (i = 0; i < 5; i++) {
		memcpy(in, good, sizeof(good));
		if (i == 0)
			in[1].pc = 0x1000;		/* two rows at one pc */
		else if (i == 1)
			in[1].pc = 0x800;		/* out of order */
		else if (i == 2)
			in[0].cfa_type = MS_CFA__COUNT;	/* no such rule */
		else if (i == 3)
			in[0].rbp_type = MS_RBP__COUNT;
		else
			in[0].pad = 1;
		table_cache__seal(buf, len);
		errno = 0;
		cr_assert_null(table_cache__parse(buf, len, KEY, TOOL),
			       "bad table %zu taken", i);
		cr_assert_eq(errno, EBADMSG);
	}
	free(buf);
	unwind_table__free(t);
}

Test(table_cache, other_build_or_object_not_taken)
{
	struct unwind_table *t = compile(fixture("cfi"));
	size_t len;
	void *buf = table_cache__format(KEY, TOOL, "/x", t, &len);

	cr_assert_null(table_cache__parse(buf, len, KEY, "feedface"));
	cr_assert_eq(errno, ESTALE);
	cr_assert_null(table_cache__parse(buf, len, KEY ":entry", TOOL));
	cr_assert_eq(errno, ESTALE);
	cr_assert_null(table_cache__parse(buf, len, "b:01", TOOL));
	cr_assert_eq(errno, ESTALE);
	free(buf);
	unwind_table__free(t);
}

Test(table_cache, put_get_damaged_removed)
{
	struct unwind_table *t = compile(fixture("cfi")), *back;
	char *dir = tmpdir(), path[128];
	struct table_cache_stats st;
	struct table_cache *c;
	struct stat sb;
	int fd;

	c = table_cache__new(dir, TABLE_CACHE_BYTES);
	cr_assert(c, "%s", strerror(errno));
	cr_assert_null(table_cache__get(c, KEY));
	cr_assert_eq(table_cache__put(c, KEY, "/x", t), 1);
	/* no build-id: nothing that names the same object next time */
	cr_assert_eq(table_cache__put(c, "i:8:1:1234", "/x", t), 0);
	back = table_cache__get(c, KEY);
	cr_assert(back);
	assert_same(t, back);
	unwind_table__free(back);
	cr_assert_null(table_cache__get(c, KEY ":entry"));

	snprintf(path, sizeof(path), "%s/%s", dir, KEY + 2);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	fd = open(path, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, "X", 1, sb.st_size - 3), 1);
	close(fd);
	cr_assert_null(table_cache__get(c, KEY));
	cr_assert_neq(stat(path, &sb), 0, "a damaged entry stays");

	table_cache__stats(c, &st);
	cr_assert_eq(st.read, 1);
	cr_assert_eq(st.written, 1);
	cr_assert_eq(st.damaged, 1);
	table_cache__free(c);
	unwind_table__free(t);
	rmdir_all(dir);
}

/*
 * A table from the prologue scan alone (no CFI in the object, no debug
 * file): a debug file installed later would give other rows.
 */
Test(table_cache, not_whole_not_kept)
{
	struct table_cache_stats st;
	struct unwind_table *t;
	struct table_cache *c;
	char *dir = tmpdir(), cmd[256], obj[96];

	snprintf(obj, sizeof(obj), "%s.obj", dir);
	snprintf(cmd, sizeof(cmd),
		 "objcopy --remove-section=.eh_frame --remove-section=.eh_frame_hdr "
		 ".output/targets/stk_c_fp_nocfi %s", obj);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	t = compile(obj);
	cr_assert(strstr(unwind_table__source(t), "frame pointers"),
		  "rows from %s", unwind_table__source(t));
	cr_assert(!unwind_table__whole(t));
	c = table_cache__new(dir, TABLE_CACHE_BYTES);
	cr_assert(c);
	cr_assert_eq(table_cache__put(c, KEY, "/x", t), 0);
	table_cache__stats(c, &st);
	cr_assert_eq(st.written, 0);
	cr_assert_null(table_cache__get(c, KEY));
	table_cache__free(c);
	unwind_table__free(t);
	unlink(obj);
	rmdir_all(dir);
}

Test(table_cache, unsafe_dir_refused)
{
	char *dir = tmpdir(), link[96], sub[96];

	cr_assert_eq(chmod(dir, 0777), 0);
	cr_assert_null(table_cache__new(dir, TABLE_CACHE_BYTES));
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(chmod(dir, 0700), 0);
	snprintf(link, sizeof(link), "%s.link", dir);
	cr_assert_eq(symlink(dir, link), 0);
	cr_assert_null(table_cache__new(link, TABLE_CACHE_BYTES));
	cr_assert(errno == ELOOP || errno == ENOTDIR, "%s", strerror(errno));
	unlink(link);
	/* made when missing, its parent not */
	snprintf(sub, sizeof(sub), "%s/made", dir);
	table_cache__free(table_cache__new(sub, TABLE_CACHE_BYTES));
	cr_assert(access(sub, F_OK) == 0, "not made");
	snprintf(sub, sizeof(sub), "%s/no/made", dir);
	cr_assert_null(table_cache__new(sub, TABLE_CACHE_BYTES));
	cr_assert_eq(errno, ENOENT);
	rmdir_all(dir);
}

/* Past the bound the least recently used go; a read is a use. */
Test(table_cache, least_recently_used_go)
{
	struct unwind_table *t = compile(fixture("cfi")), *back;
	struct timespec old[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };
	char *dir = tmpdir(), key[64], path[128];
	struct table_cache_stats st;
	struct table_cache *c;
	size_t len, i;
	void *buf = table_cache__format(KEY, TOOL, "/x", t, &len);
	int fd;

	free(buf);
	/* room for three entries and a half */
	c = table_cache__new(dir, len * 7 / 2);
	cr_assert(c);
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "b:%040zx", i);
		cr_assert_eq(table_cache__put(c, key, "/x", t), 1);
		/* each older than the next, entry 0 the oldest */
		snprintf(path, sizeof(path), "%s/%040zx", dir, i);
		old[0].tv_sec = old[1].tv_sec = 1000 + i;
		cr_assert_eq(utimensat(AT_FDCWD, path, old, 0), 0);
	}
	/* entry 0 read: now the most recent */
	back = table_cache__get(c, "b:0000000000000000000000000000000000000000");
	cr_assert(back);
	unwind_table__free(back);
	/* a writer's leftover, an hour old and more: removed with a count */
	snprintf(path, sizeof(path), "%s/.tmp.1.1", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(utimensat(AT_FDCWD, path, old, 0), 0);

	cr_assert_eq(table_cache__put(c, "b:00000000000000000000000000000000000000ff", "/x", t), 1);
	table_cache__stats(c, &st);
	cr_assert_eq(st.evicted, 2, "%u removed, 2 expected", st.evicted);
	snprintf(path, sizeof(path), "%s/%040x", dir, 0);
	cr_assert_eq(access(path, F_OK), 0, "the entry read went");
	snprintf(path, sizeof(path), "%s/%040x", dir, 1);
	cr_assert_neq(access(path, F_OK), 0, "the oldest stays");
	snprintf(path, sizeof(path), "%s/%040x", dir, 2);
	cr_assert_neq(access(path, F_OK), 0, "the second oldest stays");
	snprintf(path, sizeof(path), "%s/.tmp.1.1", dir);
	cr_assert_neq(access(path, F_OK), 0, "a stale temporary stays");
	table_cache__free(c);
	unwind_table__free(t);
	rmdir_all(dir);
}

struct seen {
	char keys[4][80];
	char paths[4][64];
	size_t rows[4];
	int nr;
};

static int note(void *ctx, const char *key, const char *path, size_t rows)
{
	struct seen *s = ctx;

	if (s->nr >= 4)
		return -E2BIG;
	snprintf(s->keys[s->nr], sizeof(s->keys[0]), "%s", key);
	snprintf(s->paths[s->nr], sizeof(s->paths[0]), "%s", path);
	s->rows[s->nr] = rows;
	s->nr++;
	return 0;
}

/*
 * Each entry of this build with the file it came from, the most recently
 * used first; not another build's, nor one of no absolute path.
 */
Test(table_cache, each_newest_first)
{
	struct unwind_table *t = compile(fixture("cfi"));
	struct timespec when[2] = {};
	char *dir = tmpdir(), path[128];
	const char *const keys[] = {
		"b:00000000000000000000000000000000000000aa",
		"b:00000000000000000000000000000000000000bb:entry",
		"b:00000000000000000000000000000000000000cc",
	};
	struct table_cache *c = table_cache__new(dir, TABLE_CACHE_BYTES);
	struct seen s = {};
	size_t len, i;
	void *buf;
	int fd;

	cr_assert(c);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/obj/%zu", i);
		cr_assert_eq(table_cache__put(c, keys[i], path, t), 1);
	}
	cr_assert_eq(table_cache__put(c, "b:dd", "[vdso]", t), 1);
	/* another build's entry, under a name of ours */
	buf = table_cache__format("b:ee", "0badb01d", "/obj/ee", t, &len);
	snprintf(path, sizeof(path), "%s/ee", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
	/* bb the newest, then aa, then cc */
	for (i = 0; i < 3; i++) {
		when[0].tv_sec = when[1].tv_sec = i == 1 ? 3000 : i == 0 ? 2000 : 1000;
		snprintf(path, sizeof(path), "%s/%s", dir, keys[i] + 2);
		if (i == 1)
			strcpy(strrchr(path, ':'), ".entry");
		cr_assert_eq(utimensat(AT_FDCWD, path, when, 0), 0, "%s", path);
	}
	cr_assert_eq(table_cache__each(c, note, &s), 0);
	cr_assert_eq(s.nr, 3, "%d entries", s.nr);
	cr_assert_str_eq(s.keys[0], keys[1]);
	cr_assert_str_eq(s.paths[0], "/obj/1");
	cr_assert_str_eq(s.keys[1], keys[0]);
	cr_assert_str_eq(s.paths[1], "/obj/0");
	cr_assert_str_eq(s.keys[2], keys[2]);
	unwind_table__rows(t, &len);
	cr_assert_eq(s.rows[0], len, "rows %zu, the table's %zu", s.rows[0], len);
	/* a use makes it the newest */
	table_cache__touch(c, keys[2]);
	s.nr = 0;
	cr_assert_eq(table_cache__each(c, note, &s), 0);
	cr_assert_str_eq(s.keys[0], keys[2]);
	table_cache__free(c);
	unwind_table__free(t);
	rmdir_all(dir);
}

/*
 * A file without a build-id is kept by what it is: a write to it, even
 * with its modification time put back, makes another key.
 */
Test(table_cache, file_key_follows_the_file)
{
	struct unwind_table *t = compile(fixture("cfi")), *back;
	struct timespec keep[2];
	char *dir = tmpdir(), path[128], k1[80], k2[80], k3[80];
	struct table_cache *c;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s.file", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "abc", 3), 3);
	cr_assert_eq(fstat(fd, &st), 0);
	table_cache__file_key(&st, false, k1, sizeof(k1));
	table_cache__file_key(&st, true, k3, sizeof(k3));
	cr_assert(!strncmp(k1, "s:", 2) && strlen(k1) == 58, "%s", k1);
	cr_assert(!strncmp(k3, k1, strlen(k1)) && !strcmp(k3 + strlen(k1), ":entry"));
	keep[0] = st.st_atim;
	keep[1] = st.st_mtim;
	usleep(10000);
	cr_assert_eq(pwrite(fd, "x", 1, 0), 1);
	cr_assert_eq(futimens(fd, keep), 0);
	cr_assert_eq(fstat(fd, &st), 0);
	table_cache__file_key(&st, false, k2, sizeof(k2));
	cr_assert_str_neq(k1, k2, "a write with its mtime put back: same key");
	close(fd);

	c = table_cache__new(dir, TABLE_CACHE_BYTES);
	cr_assert(c);
	cr_assert_eq(table_cache__put(c, k2, path, t), 1);
	back = table_cache__get(c, k2);
	cr_assert(back, "%s", strerror(errno));
	assert_same(t, back);
	unwind_table__free(back);
	cr_assert_null(table_cache__get(c, k1));
	snprintf(path, sizeof(path), "%s/s%s", dir, k2 + 2);
	cr_assert_eq(access(path, F_OK), 0, "expected %s", path);
	table_cache__free(c);
	unwind_table__free(t);
	snprintf(path, sizeof(path), "%s.file", dir);
	unlink(path);
	rmdir_all(dir);
}
