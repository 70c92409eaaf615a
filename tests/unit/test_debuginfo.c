/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Separate debug files found the way gdb finds them, under a temporary
 * root standing for /proc/PID/root: by build-id, by .gnu_debuglink in its
 * three places, never a file whose CRC or build-id is wrong, and never
 * outside the root, whatever symlinks say.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>

#include "debuginfo.h"
#include "fixture.h"

static char root[] = "/tmp/memscope-debuginfo-XXXXXX";
static int root_fd = -1;
static unsigned char build_id[DEBUGINFO_ID_MAX];
static size_t build_id_len;
static char link_name[256];
static __u32 link_crc;

/* The build-id and .gnu_debuglink of selfalloc.debuglink. */
static void read_object(void)
{
	const char *path = fixture("selfalloc.debuglink");
	const char *link;
	const void *id;
	GElf_Word crc;
	ssize_t n;
	Elf *elf;
	int fd;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "open %s: %s (run make unit)", path,
		  strerror(errno));
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert(elf, "%s: not ELF", path);
	n = dwelf_elf_gnu_build_id(elf, &id);
	cr_assert(n > 0 && (size_t)n <= sizeof(build_id), "%s: no build-id",
		  path);
	memcpy(build_id, id, n);
	build_id_len = n;
	link = dwelf_elf_gnu_debuglink(elf, &crc);
	cr_assert(link, "%s: no .gnu_debuglink", path);
	snprintf(link_name, sizeof(link_name), "%s", link);
	link_crc = crc;
	elf_end(elf);
	close(fd);
}

static void setup(void)
{
	cr_assert(mkdtemp(root), "mkdtemp: %s", strerror(errno));
	root_fd = open(root, O_PATH | O_DIRECTORY);
	cr_assert(root_fd >= 0, "open %s: %s", root, strerror(errno));
	read_object();
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	close(root_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_expect_eq(system(cmd), 0, "cannot remove %s", root);
}

TestSuite(debuginfo, .init = setup, .fini = teardown);

/* mkdir -p of path's directory under the root, then copies from there. */
static void put_file(const char *path, const char *from)
{
	char full[PATH_MAX], cmd[3 * PATH_MAX];

	snprintf(full, sizeof(full), "%s%s", root, path);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s'",
		 full, from, full);
	cr_assert_eq(system(cmd), 0, "cannot make %s", full);
}

static struct debuginfo_query query(void)
{
	return (struct debuginfo_query){
		.root_fd = root_fd, .path = "/opt/app/bin/selfalloc",
		.build_id = build_id, .build_id_len = build_id_len,
		.debuglink = link_name, .crc = link_crc,
	};
}

static void expect_found(const struct debuginfo_query *q, const char *want)
{
	char *found = NULL;
	int fd = debuginfo_find(q, &found);

	cr_assert(fd >= 0, "not found (%s), want %s", strerror(-fd), want);
	cr_expect_str_eq(found, want, "found %s, want %s", found, want);
	close(fd);
	free(found);
}

static void expect_none(const struct debuginfo_query *q, const char *what)
{
	char *found = NULL;
	int fd = debuginfo_find(q, &found);

	cr_expect_eq(fd, -ENOENT, "%s: %d (%s), found %s", what, fd,
		     fd >= 0 ? "a descriptor" : strerror(-fd), found);
	if (fd >= 0)
		close(fd);
	free(found);
}

static char *build_id_file(void)
{
	char *p = malloc(PATH_MAX);
	size_t i, n;

	cr_assert(p);
	n = snprintf(p, PATH_MAX, "/usr/lib/debug/.build-id/%02x/",
		     build_id[0]);
	for (i = 1; i < build_id_len; i++)
		n += snprintf(p + n, PATH_MAX - n, "%02x", build_id[i]);
	snprintf(p + n, PATH_MAX - n, ".debug");
	return p;
}

Test(debuginfo, by_build_id)
{
	struct debuginfo_query q = query();
	char *path = build_id_file();

	expect_none(&q, "empty root");
	put_file(path, fixture("selfalloc.debug"));
	q.debuglink = NULL;
	expect_found(&q, path);
	free(path);
}

Test(debuginfo, build_id_must_match)
{
	struct debuginfo_query q = query();
	char *path = build_id_file();

	/* another program's file under this build-id's name */
	put_file(path, fixture("libvers"));
	q.debuglink = NULL;
	expect_none(&q, "a file with another build-id");
	free(path);
}

Test(debuginfo, by_debuglink_in_gdb_order)
{
	static const char *const dirs[] = {
		"/usr/lib/debug/opt/app/bin/", "/opt/app/bin/.debug/",
		"/opt/app/bin/",
	};
	struct debuginfo_query q = query();
	char path[PATH_MAX];
	size_t i;

	/* no build-id lookup: only the link finds them */
	q.build_id = NULL;
	q.build_id_len = 0;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dirs[i], link_name);
		put_file(path, fixture("selfalloc.debug"));
		/* each new one comes earlier in gdb's order */
		expect_found(&q, path);
	}
}

Test(debuginfo, debuglink_crc_must_match)
{
	struct debuginfo_query q = query();
	char path[PATH_MAX];

	q.build_id = NULL;
	q.build_id_len = 0;
	snprintf(path, sizeof(path), "/opt/app/bin/%s", link_name);
	put_file(path, fixture("selfalloc"));
	expect_none(&q, "a file with another CRC");
}

Test(debuginfo, links_that_are_paths_are_refused)
{
	struct debuginfo_query q = query();

	q.build_id = NULL;
	q.build_id_len = 0;
	q.debuglink = "../../etc/passwd";
	expect_none(&q, "a link with a slash");
	q.debuglink = "..";
	expect_none(&q, "a link of ..");
}

/* An absolute symlink inside the root points into the root, not ours. */
Test(debuginfo, symlinks_stay_in_the_root)
{
	struct debuginfo_query q = query();
	char real[PATH_MAX], link[PATH_MAX + 64], cmd[3 * PATH_MAX];

	q.build_id = NULL;
	q.build_id_len = 0;
	cr_assert(realpath(fixture("selfalloc.debug"), real), "realpath: %s",
		  strerror(errno));
	snprintf(link, sizeof(link), "%s/opt/app/bin/%s", root, link_name);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/opt/app/bin'", root);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(symlink(real, link), 0, "symlink: %s", strerror(errno));
	expect_none(&q, "a symlink out of the root");
	/* the same target inside the root is found through the link */
	put_file(real, fixture("selfalloc.debug"));
	snprintf(real, sizeof(real), "/opt/app/bin/%s", link_name);
	expect_found(&q, real);
}

Test(debuginfo, no_debuginfod_without_urls)
{
	struct debuginfod_client *client = NULL;
	char *found = NULL;

	unsetenv("DEBUGINFOD_URLS");
	cr_expect_eq(debuginfo_fetch(&client, build_id, build_id_len, &found),
		     -ENOENT, "asked a server with no DEBUGINFOD_URLS");
	cr_expect_null(client, "made a client with no DEBUGINFOD_URLS");
}

/* The build-id and name in libinline.dwz.debug's .gnu_debugaltlink. */
static void read_altlink(char *name, size_t name_len, unsigned char *id,
			 size_t *id_len)
{
	const char *path = fixture("libinline.dwz.debug");
	const unsigned char *bits;
	const char *n;
	Elf *elf;
	int fd;

	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "open %s: %s (run make unit)", path,
		  strerror(errno));
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert(elf, "%s: not ELF", path);
	cr_assert_eq(debuginfo_altlink(elf, &n, &bits, id_len), 0,
		     "%s: no .gnu_debugaltlink", path);
	snprintf(name, name_len, "%s", n);
	memcpy(id, bits, *id_len);
	elf_end(elf);
	close(fd);
}

Test(debuginfo, dwz_alternate_by_build_id_then_name)
{
	unsigned char id[DEBUGINFO_ID_MAX];
	char name[256], path[PATH_MAX], *found = NULL;
	size_t id_len, i, n;
	int fd;

	read_altlink(name, sizeof(name), id, &id_len);
	cr_assert_str_eq(name, "libinline.dwz", "altlink names %s", name);
	fd = debuginfo_find_alt(root_fd, "/opt/debug/libinline.debug", name,
				id, id_len, &found);
	cr_expect_eq(fd, -ENOENT, "found %s in an empty root", found);

	/* by its name, relative to the debug file's directory */
	put_file("/opt/debug/libinline.dwz", fixture("libinline.dwz"));
	fd = debuginfo_find_alt(root_fd, "/opt/debug/libinline.debug", name,
				id, id_len, &found);
	cr_assert(fd >= 0, "by name: %s", strerror(-fd));
	cr_expect_str_eq(found, "/opt/debug/libinline.dwz");
	close(fd);
	free(found);

	/* by build-id first */
	n = snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/",
		     id[0]);
	for (i = 1; i < id_len; i++)
		n += snprintf(path + n, sizeof(path) - n, "%02x", id[i]);
	snprintf(path + n, sizeof(path) - n, ".debug");
	put_file(path, fixture("libinline.dwz"));
	fd = debuginfo_find_alt(root_fd, "/opt/debug/libinline.debug", name,
				id, id_len, &found);
	cr_assert(fd >= 0, "by build-id: %s", strerror(-fd));
	cr_expect_str_eq(found, path);
	close(fd);
	free(found);
}

Test(debuginfo, dwz_alternate_build_id_must_match)
{
	unsigned char id[DEBUGINFO_ID_MAX];
	char name[256], *found = NULL;
	size_t id_len;
	int fd;

	read_altlink(name, sizeof(name), id, &id_len);
	/* a file of that name, but another one */
	put_file("/opt/debug/libinline.dwz", fixture("libinline.dwz.debug"));
	fd = debuginfo_find_alt(root_fd, "/opt/debug/libinline.debug", name,
				id, id_len, &found);
	cr_expect_eq(fd, -ENOENT, "took %s, whose build-id is another", found);
	if (fd >= 0)
		close(fd);
	free(found);
}

/*
 * A build-id the target's root has no file for is looked up in this
 * tool's root too: a chroot's copy of libc is the host's build, whose
 * debug file (libc6-dbg, a test dependency) names its static functions.
 * A .gnu_debuglink is a name, not a build: only ever the target's.
 */
Test(debuginfo, build_id_in_own_root)
{
	struct debuginfo_query q = query();
	unsigned char id[DEBUGINFO_ID_MAX];
	char want[PATH_MAX];
	const void *bits;
	Dl_info info;
	size_t i, len;
	ssize_t n;
	Elf *elf;
	int fd;

	cr_assert(dladdr((void *)gnu_get_libc_version, &info) && info.dli_fname,
		  "dladdr(gnu_get_libc_version): where is libc?");
	fd = open(info.dli_fname, O_RDONLY);
	cr_assert(fd >= 0, "open %s: %s", info.dli_fname, strerror(errno));
	elf = elf_begin(fd, ELF_C_READ, NULL);
	n = elf ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
	cr_assert(n > 1 && (size_t)n <= sizeof(id), "%s: no build-id",
		  info.dli_fname);
	memcpy(id, bits, n);
	elf_end(elf);
	close(fd);
	len = snprintf(want, sizeof(want), "/usr/lib/debug/.build-id/%02x/",
		       id[0]);
	for (i = 1; i < (size_t)n; i++)
		len += snprintf(want + len, sizeof(want) - len, "%02x", id[i]);
	snprintf(want + len, sizeof(want) - len, ".debug");
	cr_assert(!access(want, R_OK),
		  "%s: libc's debug file is missing (scripts/install-deps.sh installs libc6-dbg)",
		  want);

	q.build_id = id;
	q.build_id_len = n;
	q.debuglink = NULL;
	/* the root is empty: the host's file, by the same name */
	expect_found(&q, want);

	/* only a build-id reaches outside: the link alone finds nothing */
	q = query();
	q.build_id = NULL;
	q.build_id_len = 0;
	expect_none(&q, "a .gnu_debuglink outside the root");
}
