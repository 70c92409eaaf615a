/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The CFI compiler on tests/fixtures/cfi.c (built without frame pointers:
 * every CFI shape the walker knows, and some it must refuse), its
 * .debug_frame-only build, its debug file found by build-id and by
 * .gnu_debuglink under a root, and Debian's libc. Whole tables are
 * checked against the rows tests/unit/cfi_expect.py derives from readelf
 * (.output/fixtures/NAME.cfi); single rows at the fixture's functions,
 * looked up in its symbol table, say which rule each shape must get.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <gelf.h>

#include "elfsym.h"
#include "fixture.h"
#include "unwind_table.h"

static const char *const cfa_names[] = {
	"UNDEFINED", "RSP", "RBP", "DEREF_RBP", "PLT", "SIGNAL", "UNSUPPORTED",
};
static const char *const rbp_names[] = {
	"SAME", "CFA", "AT_RBP", "UNDEFINED",
};

static const char *row_str(const struct ms_unwind_row *r)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%#x %s%+d rbp %s%+d", r->pc,
		 r->cfa_type < MS_CFA__COUNT ? cfa_names[r->cfa_type] : "?",
		 r->cfa_off,
		 r->rbp_type < MS_RBP__COUNT ? rbp_names[r->rbp_type] : "?",
		 r->rbp_off);
	return buf;
}

static struct unwind_table *build_path(const char *path, const char *root)
{
	struct unwind_table *t;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "cannot open %s: %s (run make unit first)", path,
		  strerror(errno));
	t = unwind_table__build(fd, root);
	err = errno;
	close(fd);
	errno = err;
	return t;
}

static struct unwind_table *build_ok(const char *path, const char *root)
{
	struct unwind_table *t = build_path(path, root);

	cr_assert(t, "%s: no table: %s", path, strerror(errno));
	return t;
}

/* The row that holds pc; NULL below the first row. */
static const struct ms_unwind_row *row_at(const struct unwind_table *t,
					  __u64 pc)
{
	const struct ms_unwind_row *rows;
	size_t lo = 0, hi, mid;

	rows = unwind_table__rows(t, &hi);
	if (!hi || pc < rows[0].pc)
		return NULL;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (rows[mid].pc <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return &rows[lo];
}

static void expect_row(const struct unwind_table *t, const char *what,
		       __u64 pc, enum ms_cfa_type type, int cfa_off,
		       enum ms_rbp_type rbp, int rbp_off)
{
	const struct ms_unwind_row *r = row_at(t, pc);
	struct ms_unwind_row want = {
		.pc = pc, .cfa_type = type, .cfa_off = cfa_off,
		.rbp_type = rbp, .rbp_off = rbp_off,
	};
	char got[96];

	cr_assert(r, "%s (%#llx): no row", what, (unsigned long long)pc);
	snprintf(got, sizeof(got), "%s", row_str(r));
	cr_expect(r->cfa_type == type && r->cfa_off == cfa_off &&
		  r->rbp_type == rbp && r->rbp_off == rbp_off,
		  "%s: row %s, want the rule of %s", what, got,
		  row_str(&want));
}

/* Whether some row starting in [start, end) has this rule. */
static bool has_rule(const struct unwind_table *t, __u64 start, __u64 end,
		     enum ms_cfa_type type, int cfa_off, enum ms_rbp_type rbp,
		     int rbp_off)
{
	const struct ms_unwind_row *rows;
	size_t i, n;

	rows = unwind_table__rows(t, &n);
	for (i = 0; i < n; i++)
		if (rows[i].pc >= start && rows[i].pc < end &&
		    rows[i].cfa_type == type && rows[i].cfa_off == cfa_off &&
		    rows[i].rbp_type == rbp && rows[i].rbp_off == rbp_off)
			return true;
	return false;
}

/*
 * Compares the whole table with an expectation file; returns the object
 * path its header names (static buffer).
 */
static const char *expect_file_path(const char *cfi)
{
	static char obj[PATH_MAX];
	FILE *f = fopen(cfi, "r");

	cr_assert(f, "cannot open %s: %s (run make unit first)", cfi,
		  strerror(errno));
	cr_assert(fscanf(f, "# %4095s", obj) == 1, "%s: no '# OBJECT' line",
		  cfi);
	fclose(f);
	return obj;
}

static void expect_table(const struct unwind_table *t, const char *cfi)
{
	const struct ms_unwind_row *rows;
	struct ms_unwind_row w;
	char line[256];
	size_t i = 0, n;
	FILE *f;

	rows = unwind_table__rows(t, &n);
	f = fopen(cfi, "r");
	cr_assert(f, "cannot open %s: %s", cfi, strerror(errno));
	cr_assert(fgets(line, sizeof(line), f), "%s: empty", cfi);
	while (fgets(line, sizeof(line), f)) {
		unsigned int type, rbp;

		memset(&w, 0, sizeof(w));
		cr_assert(sscanf(line, "%x %u %d %u %d", &w.pc, &type,
				 &w.cfa_off, &rbp, &w.rbp_off) == 5,
			  "%s: bad line %s", cfi, line);
		w.cfa_type = type;
		w.rbp_type = rbp;
		cr_assert(i < n, "%s: table ends after %zu rows; readelf has %s",
			  cfi, n, row_str(&w));
		if (memcmp(&rows[i], &w, sizeof(w))) {
			char got[96];

			snprintf(got, sizeof(got), "%s", row_str(&rows[i]));
			cr_assert_fail("%s: row %zu is %s, readelf says %s",
				       cfi, i, got, row_str(&w));
		}
		i++;
	}
	fclose(f);
	cr_assert_eq(i, n, "%s: %zu rows, readelf has %zu; first extra %s",
		     cfi, n, i, row_str(&rows[i]));
}

static struct elf_func func(const char *file, const char *name)
{
	struct elf_file *f = elf_file__open(fixture(file));
	struct elf_func fn;
	int err;

	cr_assert(f, "cannot open %s: %s", fixture(file), strerror(errno));
	err = elf_file__find_func(f, name, &fn);
	cr_assert_eq(err, 0, "%s: no function %s", file, name);
	elf_file__free(f);
	return fn;
}

/* A section's address, and its offset in the file when off is given. */
static __u64 section_addr_off(const char *path, const char *name, __u64 *off)
{
	size_t strndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	__u64 addr = 0;
	Elf *elf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "cannot open %s", path);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert(elf && !elf_getshdrstrndx(elf, &strndx), "%s: not ELF",
		  path);
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    !strcmp(elf_strptr(elf, strndx, sh.sh_name), name)) {
			addr = sh.sh_addr;
			if (off)
				*off = sh.sh_offset;
		}
	elf_end(elf);
	close(fd);
	cr_assert(addr, "%s: no section %s", path, name);
	return addr;
}

static __u64 section_addr(const char *path, const char *name)
{
	return section_addr_off(path, name, NULL);
}

static void expect_stats(const struct unwind_table *t, const char *what)
{
	struct unwind_table_stats st;
	__u32 sum = 0;
	size_t n;
	int i;

	unwind_table__rows(t, &n);
	unwind_table__stats(t, &st);
	cr_expect_eq(st.rows, n, "%s: stats say %u rows, the table has %zu",
		     what, st.rows, n);
	for (i = 0; i < MS_CFA__COUNT; i++)
		sum += st.by_type[i];
	cr_expect_eq(sum, n, "%s: rows by type add up to %u, not %zu", what,
		     sum, n);
	cr_expect(st.fdes > 0, "%s: no FDE counted", what);
}

Test(unwind_table, fixture_matches_readelf)
{
	int fds = count_fds();
	struct unwind_table *t = build_ok(fixture("cfi"), "/");

	cr_expect_str_eq(unwind_table__source(t), ".eh_frame");
	expect_table(t, fixture("cfi.cfi"));
	expect_stats(t, "cfi");
	unwind_table__free(t);
	cr_expect_eq(count_fds(), fds, "descriptors leaked");
}

Test(unwind_table, every_rule_at_its_function)
{
	struct unwind_table *t = build_ok(fixture("cfi"), "/");
	struct unwind_table_stats st;
	struct elf_func f;
	__u64 plt;

	f = func("cfi", "with_stack");
	expect_row(t, "with_stack entry", f.vaddr, MS_CFA_RSP, 8, MS_RBP_SAME,
		   0);
	cr_expect(has_rule(t, f.vaddr, f.vaddr + f.size, MS_CFA_RSP, 272,
			   MS_RBP_SAME, 0),
		  "with_stack: no CFA rsp+272 row (32 longs + return address)");

	f = func("cfi", "with_alloca");
	cr_expect(has_rule(t, f.vaddr, f.vaddr + f.size, MS_CFA_RBP, 16,
			   MS_RBP_CFA, -16),
		  "with_alloca: no CFA rbp+16, rbp at CFA-16 row");

	f = func("cfi", "realigned");
	cr_expect(has_rule(t, f.vaddr, f.vaddr + f.size, MS_CFA_RBP, 16,
			   MS_RBP_CFA, -16),
		  "realigned: no CFA rbp+16, rbp at CFA-16 row");

	/* the DRAP: CFA = *(rbp - 8) once rbp is set, from r10 before */
	f = func("cfi", "realigned_alloca");
	cr_expect(has_rule(t, f.vaddr, f.vaddr + f.size, MS_CFA_DEREF_RBP, -8,
			   MS_RBP_AT_RBP, 0),
		  "realigned_alloca: no CFA *(rbp-8), rbp at rbp+0 row");
	cr_expect(has_rule(t, f.vaddr, f.vaddr + f.size, MS_CFA_UNSUPPORTED,
			   0, MS_RBP_SAME, 0),
		  "realigned_alloca: the CFA from r10 is not UNSUPPORTED");

	/* PLT0 pushes twice; the entries follow the PLT expression */
	plt = section_addr(fixture("cfi"), ".plt");
	expect_row(t, ".plt+0", plt, MS_CFA_RSP, 16, MS_RBP_SAME, 0);
	expect_row(t, ".plt+6", plt + 6, MS_CFA_RSP, 24, MS_RBP_SAME, 0);
	expect_row(t, ".plt+16", plt + 16, MS_CFA_PLT, 11, MS_RBP_SAME, 0);

	f = func("cfi", "asm_signal");
	expect_row(t, "asm_signal", f.vaddr, MS_CFA_SIGNAL, 0, MS_RBP_SAME, 0);
	f = func("cfi", "asm_outermost");
	expect_row(t, "asm_outermost", f.vaddr, MS_CFA_UNDEFINED, 0,
		   MS_RBP_SAME, 0);
	f = func("cfi", "asm_ra_elsewhere");
	expect_row(t, "asm_ra_elsewhere", f.vaddr, MS_CFA_RSP, 8, MS_RBP_SAME,
		   0);
	expect_row(t, "asm_ra_elsewhere+1 (ra at CFA-16)", f.vaddr + 1,
		   MS_CFA_UNSUPPORTED, 0, MS_RBP_SAME, 0);
	expect_row(t, "asm_ra_elsewhere+2", f.vaddr + 2, MS_CFA_RSP, 8,
		   MS_RBP_SAME, 0);
	/* no FDE: the gap row at the end of the FDE before */
	f = func("cfi", "asm_no_cfi");
	expect_row(t, "asm_no_cfi (a gap)", f.vaddr, MS_CFA_UNDEFINED, 0,
		   MS_RBP_SAME, 0);
	cr_expect_eq(row_at(t, f.vaddr)->pc, f.vaddr,
		     "asm_no_cfi: no row starts where the FDE before ends");
	f = func("cfi", "asm_after_gap");
	expect_row(t, "asm_after_gap", f.vaddr, MS_CFA_RSP, 8, MS_RBP_SAME, 0);
	cr_expect_eq(row_at(t, f.vaddr)->pc, f.vaddr,
		     "asm_after_gap: its row does not start at its FDE");

	f = func("cfi", "asm_big_reg");
	expect_row(t, "asm_big_reg (register 200)", f.vaddr, MS_CFA_UNSUPPORTED,
		   0, MS_RBP_SAME, 0);

	/* crt1's _start: the outermost frame, cfi_undefined rip */
	f = func("cfi", "_start");
	expect_row(t, "_start+1", f.vaddr + 1, MS_CFA_UNDEFINED, 0,
		   MS_RBP_SAME, 0);

	unwind_table__stats(t, &st);
	cr_expect(st.by_type[MS_CFA_SIGNAL] >= 1 && st.by_type[MS_CFA_PLT] >= 1 &&
		  st.by_type[MS_CFA_DEREF_RBP] >= 1 &&
		  st.by_type[MS_CFA_UNSUPPORTED] >= 3,
		  "stats: %u signal, %u plt, %u deref-rbp, %u unsupported rows",
		  st.by_type[MS_CFA_SIGNAL], st.by_type[MS_CFA_PLT],
		  st.by_type[MS_CFA_DEREF_RBP],
		  st.by_type[MS_CFA_UNSUPPORTED]);
	unwind_table__free(t);
}

Test(unwind_table, debug_frame_only)
{
	struct unwind_table *t = build_ok(fixture("cfi.df"), "/");
	struct elf_func f;

	cr_expect_str_eq(unwind_table__source(t), ".debug_frame");
	expect_table(t, fixture("cfi.df.cfi"));
	expect_stats(t, "cfi.df");
	f = func("cfi.df", "realigned_alloca");
	cr_expect(has_rule(t, f.vaddr, f.vaddr + f.size, MS_CFA_DEREF_RBP, -8,
			   MS_RBP_AT_RBP, 0),
		  "realigned_alloca: no CFA *(rbp-8), rbp at rbp+0 row");
	f = func("cfi.df", "with_stack");
	expect_row(t, "with_stack entry", f.vaddr, MS_CFA_RSP, 8, MS_RBP_SAME,
		   0);
	unwind_table__free(t);
}

/*
 * asm_overlap has its own FDE [0, 8) and one inside it, [2, 4), first in
 * the file. The inner one holds in its range; the outer one is cut where
 * the inner starts, and what is left after the inner ends is a gap. libdw
 * keeps the first of two overlapping FDEs and has no row for [0, 2):
 * there, the table says UNSUPPORTED rather than take the outer FDE's rule
 * from anywhere else.
 */
Test(unwind_table, overlapping_fdes)
{
	struct unwind_table *t = build_ok(fixture("cfi.overlap"), "/");
	struct elf_func f = func("cfi.overlap", "asm_overlap");

	expect_row(t, "asm_overlap", f.vaddr, MS_CFA_UNSUPPORTED, 0,
		   MS_RBP_SAME, 0);
	expect_row(t, "asm_overlap+2 (the inner FDE)", f.vaddr + 2, MS_CFA_RSP,
		   16, MS_RBP_SAME, 0);
	cr_expect_eq(row_at(t, f.vaddr + 2)->pc, f.vaddr + 2,
		     "the inner FDE's row does not start at its FDE");
	expect_row(t, "asm_overlap+4 (after the inner FDE)", f.vaddr + 4,
		   MS_CFA_UNDEFINED, 0, MS_RBP_SAME, 0);
	cr_expect_eq(row_at(t, f.vaddr + 4)->pc, f.vaddr + 4,
		     "no gap row where the inner FDE ends");
	unwind_table__free(t);
}

Test(unwind_table, refuses_code_above_4g)
{
	cr_expect_null(build_path(fixture("cfi.high"), "/"),
		       "a table for code above 4 GiB");
	cr_expect_eq(errno, EFBIG, "errno %s, want EFBIG", strerror(errno));
}

/* A scratch root directory: files are copied in, paths made on the way. */
static char root[] = "/tmp/unwind-root-XXXXXX";

static void root_setup(void)
{
	cr_assert(mkdtemp(root), "mkdtemp: %s", strerror(errno));
}

static void root_teardown(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_expect_eq(system(cmd), 0, "cannot remove %s", root);
}

static const char *in_root(const char *rel)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	return path;
}

static void mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		cr_assert(!mkdir(buf, 0755) || errno == EEXIST, "mkdir %s: %s",
			  buf, strerror(errno));
		*p = '/';
	}
}

/* Copies src to rel under the root; extra bytes appended when asked. */
static void put(const char *src, const char *rel, const char *extra)
{
	static char buf[1 << 16];
	const char *dst = in_root(rel);
	ssize_t n;
	int in, out;

	mkdirs(dst);
	in = open(src, O_RDONLY | O_CLOEXEC);
	cr_assert(in >= 0, "open %s: %s", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(out >= 0, "create %s: %s", dst, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, n), n, "write %s", dst);
	if (extra)
		cr_assert_eq(write(out, extra, strlen(extra)),
			     (ssize_t)strlen(extra), "write %s", dst);
	close(in);
	close(out);
}

/* /usr/lib/debug/.build-id/xx/rest.debug of a fixture */
static const char *build_id_path(const char *name)
{
	static char path[PATH_MAX];
	struct elf_file *f = elf_file__open(fixture(name));
	char id[128];

	cr_assert(f && !elf_file__build_id(f, id, sizeof(id)),
		  "%s: no build-id", name);
	elf_file__free(f);
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug",
		 id, id + 2);
	return path;
}

static void expect_separate(const char *obj, const char *what)
{
	struct unwind_table *t = build_path(obj, root);

	cr_assert(t, "%s: no table: %s", what, strerror(errno));
	cr_expect_str_eq(unwind_table__source(t),
			 ".debug_frame (separate debug file)", "%s", what);
	expect_table(t, fixture("cfi.df.cfi"));
	unwind_table__free(t);
}

static void expect_none(const char *obj, const char *what)
{
	cr_expect_null(build_path(obj, root), "%s: a table", what);
	cr_expect_eq(errno, ENOENT, "%s: errno %s, want ENOENT", what,
		     strerror(errno));
}

TestSuite(unwind_separate, .init = root_setup, .fini = root_teardown);

Test(unwind_separate, no_cfi_anywhere)
{
	expect_none(fixture("cfi.nocfi"), "stripped object, empty root");
}

Test(unwind_separate, by_build_id)
{
	int fds = count_fds();

	put(fixture("cfi.df.debug"), build_id_path("cfi.nocfi"), NULL);
	expect_separate(fixture("cfi.nocfi"), "debug file by build-id");
	cr_expect_eq(count_fds(), fds, "descriptors leaked");
}

Test(unwind_separate, build_id_of_another_object)
{
	put(fixture("selfalloc.debug"), build_id_path("cfi.nocfi"), NULL);
	expect_none(fixture("cfi.nocfi"), "another object's debug file");
}

Test(unwind_separate, symlink_stays_in_root)
{
	char target[PATH_MAX];

	/* absolute: resolved inside the root, as the target sees it */
	put(fixture("cfi.df.debug"), "/elsewhere/cfi.debug", NULL);
	mkdirs(in_root(build_id_path("cfi.nocfi")));
	cr_assert(!symlink("/elsewhere/cfi.debug",
			   in_root(build_id_path("cfi.nocfi"))));
	expect_separate(fixture("cfi.nocfi"), "absolute symlink in the root");

	/* one that would leave the root reaches nothing */
	cr_assert(!unlink(in_root(build_id_path("cfi.nocfi"))));
	cr_assert(realpath(fixture("cfi.df.debug"), target));
	cr_assert(!symlink(target, in_root(build_id_path("cfi.nocfi"))));
	expect_none(fixture("cfi.nocfi"), "a symlink out of the root");
}

Test(unwind_separate, fifo_is_not_waited_on)
{
	mkdirs(in_root(build_id_path("cfi.nocfi")));
	cr_assert(!mkfifo(in_root(build_id_path("cfi.nocfi")), 0600),
		  "mkfifo: %s", strerror(errno));
	expect_none(fixture("cfi.nocfi"), "a FIFO as the debug file");
}

Test(unwind_separate, by_debuglink_in_every_place)
{
	static const char *const places[] = {
		"/opt/app/cfi.df.debug",
		"/opt/app/.debug/cfi.df.debug",
		"/usr/lib/debug/opt/app/cfi.df.debug",
	};
	size_t i;

	put(fixture("cfi.nocfi"), "/opt/app/cfi.nocfi", NULL);
	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		put(fixture("cfi.df.debug"), places[i], NULL);
		expect_separate(in_root("/opt/app/cfi.nocfi"), places[i]);
		cr_assert(!unlink(in_root(places[i])));
	}
}

Test(unwind_separate, debuglink_crc_mismatch)
{
	put(fixture("cfi.nocfi"), "/opt/app/cfi.nocfi", NULL);
	put(fixture("cfi.df.debug"), "/opt/app/cfi.df.debug", "x");
	expect_none(in_root("/opt/app/cfi.nocfi"), "debug file, wrong CRC");
}

/* What glibc installs as sa_restorer: __restore_rt, a static symbol. */
static void *restore_rt(void)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} ksa;
	struct sigaction sa = { .sa_handler = SIG_IGN };

	cr_assert(!sigaction(SIGUSR1, &sa, NULL), "sigaction");
	cr_assert(!syscall(SYS_rt_sigaction, SIGUSR1, NULL, &ksa, 8),
		  "rt_sigaction: %s", strerror(errno));
	cr_assert(ksa.restorer, "glibc installed no restorer");
	return ksa.restorer;
}

Test(unwind_table, libc)
{
	const char *libc = expect_file_path(fixture("libc.cfi"));
	struct unwind_table_stats st;
	struct unwind_table *t;
	char a[PATH_MAX], b[PATH_MAX];
	void *rt = restore_rt();
	Dl_info info;

	t = build_ok(libc, "/");
	cr_expect_str_eq(unwind_table__source(t), ".eh_frame");
	unwind_table__stats(t, &st);
	cr_expect(st.fdes > 1000, "libc: %u FDEs", st.fdes);
	expect_stats(t, "libc");
	expect_table(t, fixture("libc.cfi"));

	/* the signal trampoline of the libc this test runs on */
	cr_assert(dladdr(rt, &info) && info.dli_fname, "dladdr(%p)", rt);
	cr_assert(realpath(info.dli_fname, a) && realpath(libc, b));
	cr_assert_str_eq(a, b, "this test runs on %s, not %s", a, b);
	expect_row(t, "__restore_rt",
		   (char *)rt - (char *)info.dli_fbase, MS_CFA_SIGNAL, 0,
		   MS_RBP_SAME, 0);
	unwind_table__free(t);
}

static struct unwind_table *build_bytes(const void *data, size_t len)
{
	struct unwind_table *t;
	int fd, err;

	fd = memfd_create("unwind-test", MFD_CLOEXEC);
	cr_assert(fd >= 0, "memfd_create: %s", strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len, "write memfd");
	t = unwind_table__build(fd, "/nonexistent");
	err = errno;
	close(fd);
	errno = err;
	return t;
}

static void *slurp(const char *path, size_t *len)
{
	struct stat st;
	void *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0 && !fstat(fd, &st), "open %s", path);
	buf = malloc(st.st_size);
	cr_assert(buf);
	cr_assert_eq(read(fd, buf, st.st_size), st.st_size, "read %s", path);
	close(fd);
	*len = st.st_size;
	return buf;
}

Test(unwind_table, truncated_and_garbage)
{
	int fds = count_fds();
	size_t len, cut, i;
	char *img, *junk;

	img = slurp(fixture("cfi"), &len);
	for (cut = 0; cut < len; cut += cut < 128 ? 16 : 997) {
		cr_expect_null(build_bytes(img, cut), "a table from %zu of %zu "
			       "bytes", cut, len);
		cr_expect(errno == EINVAL || errno == ENOENT,
			  "%zu bytes: errno %s", cut, strerror(errno));
	}
	junk = malloc(len);
	cr_assert(junk);
	srand(1);
	for (i = 0; i < len; i++)
		junk[i] = rand();
	cr_expect_null(build_bytes(junk, len), "a table from garbage");
	cr_expect_eq(errno, EINVAL, "garbage: errno %s", strerror(errno));
	/* an ELF header on garbage */
	memcpy(junk, img, 64);
	cr_expect_null(build_bytes(junk, len), "a table from a bare header");
	cr_expect(errno == EINVAL || errno == ENOENT,
		  "bare header: errno %s", strerror(errno));
	free(junk);
	free(img);
	cr_expect_eq(count_fds(), fds, "descriptors leaked");
}

/*
 * Bytes of .eh_frame and .eh_frame_hdr overwritten: a table or a clean
 * error, every row in the object's code and in order. ASan and UBSan
 * watch the rest.
 */
Test(unwind_table, corrupted_cfi)
{
	const struct ms_unwind_row *rows;
	struct unwind_table *t;
	size_t len, i, n, k;
	char *img, *bad;
	__u64 eh, hdr;

	section_addr_off(fixture("cfi"), ".eh_frame", &eh);
	section_addr_off(fixture("cfi"), ".eh_frame_hdr", &hdr);
	img = slurp(fixture("cfi"), &len);
	bad = malloc(len);
	cr_assert(bad);
	srand(2);
	cr_assert(eh < len && hdr < len);
	for (i = 0; i < 2000; i++) {
		memcpy(bad, img, len);
		for (k = 0; k < 4; k++) {
			__u64 at = (rand() & 1 ? eh : hdr) + rand() % 256;

			if (at < len)
				bad[at] = rand();
		}
		t = build_bytes(bad, len);
		if (!t) {
			cr_expect(errno == EINVAL || errno == ENOENT ||
				  errno == EFBIG, "corruption %zu: errno %s",
				  i, strerror(errno));
			continue;
		}
		rows = unwind_table__rows(t, &n);
		for (k = 1; k < n; k++)
			cr_assert(rows[k - 1].pc < rows[k].pc,
				  "corruption %zu: rows %zu and %zu out of "
				  "order", i, k - 1, k);
		for (k = 0; k < n; k++)
			cr_assert(rows[k].cfa_type < MS_CFA__COUNT &&
				  rows[k].rbp_type < MS_RBP__COUNT,
				  "corruption %zu: row %s", i,
				  row_str(&rows[k]));
		unwind_table__free(t);
	}
	free(bad);
	free(img);
}
