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
#include <execinfo.h>
#include <link.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <ucontext.h>
#include <gelf.h>
#include <elfutils/libdw.h>

#include "elfsym.h"
#include "fixture.h"
#include "gopclntab.h"
#include "unwind_table.h"

static const char *const cfa_names[] = {
	"UNDEFINED", "RSP", "RBP", "DEREF_RBP", "PLT", "SIGNAL", "UNSUPPORTED",
	"NO_INFO", "DEREF_RSP", "GO_STACK", "RBP_RA",
};
static const char *const rbp_names[] = {
	"SAME", "CFA", "AT_RBP", "UNDEFINED",
};

/* Keeps a buffer alive for the compiler: the chain's frames stay real. */
void sink_bytes(void *p, size_t n);
void __attribute__((noinline)) sink_bytes(void *p, size_t n)
{
	__asm__ volatile("" : : "r"(p), "r"(n) : "memory");
}

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

/*
 * The table of the object at path, with flags. The CFI compiler's tests
 * take the CFI alone (UNWIND_TABLE_CFI_ONLY): what readelf lists.
 */
static struct unwind_table *build_path_as(const char *path, const char *root,
					  unsigned int flags)
{
	struct unwind_table *t;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "cannot open %s: %s (run make unit first)", path,
		  strerror(errno));
	t = unwind_table__build(fd, root, flags);
	err = errno;
	close(fd);
	errno = err;
	return t;
}

/* As a library's: the usual object, whose e_entry starts nothing. */
static struct unwind_table *build_path(const char *path, const char *root)
{
	return build_path_as(path, root, UNWIND_TABLE_CFI_ONLY);
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
	/* every row readelf has was matched: i <= n */
	if (i < n)
		cr_assert_fail("%s: %zu rows, readelf has %zu; first extra %s",
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

/* path read by libelf, *fd its descriptor: elf_end() and close() after. */
static Elf *elf_open(const char *path, int *fd)
{
	Elf *elf;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(*fd >= 0, "cannot open %s", path);
	elf_version(EV_CURRENT);
	elf = elf_begin(*fd, ELF_C_READ, NULL);
	cr_assert(elf, "%s: not ELF", path);
	return elf;
}

/* A section's address, and its offset in the file when off is given. */
static __u64 section_addr_off(const char *path, const char *name, __u64 *off)
{
	size_t strndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	__u64 addr = 0;
	bool found = false;
	Elf *elf;
	int fd;

	elf = elf_open(path, &fd);
	cr_assert(!elf_getshdrstrndx(elf, &strndx), "%s: not ELF", path);
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    !strcmp(elf_strptr(elf, strndx, sh.sh_name), name)) {
			found = true;
			addr = sh.sh_addr;
			if (off)
				*off = sh.sh_offset;
		}
	elf_end(elf);
	close(fd);
	cr_assert(found, "%s: no section %s", path, name);
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

/*
 * A compile the caller gives up (another thread sets the flag: a worker's
 * object no process maps any more) stops with ECANCELED, in the CFI and
 * in the scan of code without it; a flag left clear changes nothing.
 */
Test(unwind_table, given_up_when_cancelled)
{
	struct unwind_table *t, *whole = build_ok(fixture("cfi"), "/");
	bool cancel = true, go = false;
	size_t nr, nr_whole;
	int fd;

	fd = open(fixture("cfi"), O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	t = unwind_table__build_until(fd, "/", UNWIND_TABLE_CFI_ONLY, &go);
	cr_assert(t, "not cancelled: %s", strerror(errno));
	unwind_table__rows(t, &nr);
	unwind_table__rows(whole, &nr_whole);
	cr_expect_eq(nr, nr_whole, "%zu rows with a clear flag, %zu without",
		     nr, nr_whole);
	unwind_table__free(t);
	errno = 0;
	t = unwind_table__build_until(fd, "/", UNWIND_TABLE_CFI_ONLY, &cancel);
	cr_expect_null(t, "a cancelled compile made a table");
	cr_expect_eq(errno, ECANCELED, "errno %d, not ECANCELED", errno);
	close(fd);
	/* no CFI: the frame-pointer scan of its code is given up too */
	fd = open(fixture("cfi.nocfi"), O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	errno = 0;
	t = unwind_table__build_until(fd, "/nonexistent", 0, &cancel);
	cr_expect_null(t, "a cancelled scan made a table");
	cr_expect_eq(errno, ECANCELED, "scan: errno %d, not ECANCELED", errno);
	close(fd);
	unwind_table__free(whole);
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
	expect_row(t, "asm_no_cfi (a gap)", f.vaddr, MS_CFA_NO_INFO, 0,
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
 * cfi_mixed: main.c's functions in .eh_frame, part.c's in .debug_frame
 * only. Each keeps its own section's rules, as separately compiled; the
 * .debug_frame function sits in what .eh_frame leaves as a gap.
 */
Test(unwind_table, eh_frame_and_debug_frame)
{
	struct unwind_table *t = build_ok(fixture("cfi_mixed"), "/");
	struct elf_func df = func("cfi_mixed", "mixed_df_leaf");
	struct elf_func eh = func("cfi_mixed", "main");
	const struct ms_unwind_row *r;
	__u64 pc;

	cr_expect_str_eq(unwind_table__source(t), ".eh_frame + .debug_frame");
	expect_row(t, "mixed_df_leaf entry", df.vaddr, MS_CFA_RSP, 8,
		   MS_RBP_SAME, 0);
	expect_row(t, "main entry", eh.vaddr, MS_CFA_RSP, 8, MS_RBP_SAME, 0);
	cr_expect(has_rule(t, df.vaddr, df.vaddr + df.size, MS_CFA_RSP, 80,
			   MS_RBP_SAME, 0) ||
		  has_rule(t, df.vaddr, df.vaddr + df.size, MS_CFA_RSP, 72,
			   MS_RBP_SAME, 0),
		  "mixed_df_leaf: no row of its 64-byte frame");
	for (pc = df.vaddr; pc < df.vaddr + df.size; pc++) {
		r = row_at(t, pc);
		cr_assert(r && r->cfa_type == MS_CFA_RSP,
			  "mixed_df_leaf+%#llx: row %s, want .debug_frame's",
			  (unsigned long long)(pc - df.vaddr),
			  r ? row_str(r) : "none");
	}
	r = row_at(t, df.vaddr + df.size);
	cr_expect(!r || r->cfa_type != MS_CFA_RSP || r->pc >= df.vaddr + df.size,
		  "past mixed_df_leaf: its rule still holds");
	unwind_table__free(t);
}

/*
 * The Go runtime's rules in a cgo program (tests/targets/stk_go):
 * asmcgocall stops a walk, except where the C function returns to it,
 * whose rows read the goroutine's rsp back as its epilogue does; every
 * goroutine's stack begins at goexit; the program's Go code has its
 * .debug_frame rows and its C code its .eh_frame rows.
 */
#define STK_GO	".output/targets/stk_go"

static struct elf_func go_func(const char *path, const char *name)
{
	struct elf_file *f = elf_file__open(path);
	struct elf_func fn;

	cr_assert(f, "cannot open %s: %s (run make unit first)", path,
		  strerror(errno));
	cr_assert_eq(elf_file__find_func(f, name, &fn), 0, "%s: no %s", path,
		     name);
	elf_file__free(f);
	return fn;
}

/* The end of each `call *%rax` in asmcgocall (the code at its vaddr). */
static size_t cgo_returns(const char *path, const struct elf_func *fn,
			  __u64 *rets, size_t max)
{
	unsigned char code[512];
	size_t n = 0, i, len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "cannot open %s", path);
	len = fn->size < sizeof(code) ? fn->size : sizeof(code);
	cr_assert_eq(pread(fd, code, len, fn->file_offset), (ssize_t)len);
	close(fd);
	for (i = 0; i + 2 <= len && n < max; i++)
		if (code[i] == 0xff && code[i + 1] == 0xd0)
			rets[n++] = fn->vaddr + i + 2;
	return n;
}

Test(unwind_go, cgo_program)
{
	struct unwind_table *t = build_ok(STK_GO, "/");
	struct elf_func cg = go_func(STK_GO, "runtime.asmcgocall.abi0");
	struct elf_func gx = go_func(STK_GO, "runtime.goexit.abi0");
	struct elf_func gi = go_func(STK_GO, "main.goInner");
	struct elf_func leaf = go_func(STK_GO, "go_leaf");
	struct elf_func mm = go_func(STK_GO, "runtime.callCgoMmap.abi0");
	const struct ms_unwind_row *r;
	__u64 rets[4], pc;
	size_t n, i;
	int go_stack = 0, deref = 0;

	cr_expect_str_eq(unwind_table__source(t),
			 ".eh_frame + .debug_frame + Go runtime");
	n = cgo_returns(STK_GO, &cg, rets, 4);
	cr_assert_eq(n, 2, "asmcgocall: %zu calls through rax, want 2", n);
	for (i = 0; i < n; i++) {
		r = row_at(t, rets[i] - 1);
		cr_assert(r, "no row at asmcgocall's return %zu", i);
		go_stack += r->cfa_type == MS_CFA_GO_STACK;
		deref += r->cfa_type == MS_CFA_DEREF_RSP;
		/* the goroutine's g and depth, the rsp: slots of its frame */
		cr_expect(r->cfa_type == MS_CFA_DEREF_RSP ||
			  (r->cfa_off > 0 && r->rbp_off > 0 &&
			   r->cfa_off != r->rbp_off),
			  "return %zu: row %s", i, row_str(r));
		expect_row(t, "the instruction after the call", rets[i],
			   MS_CFA_UNSUPPORTED, 0, MS_RBP_SAME, 0);
	}
	cr_expect(go_stack == 1 && deref == 1,
		  "asmcgocall's returns: %d from the goroutine's stack, %d on "
		  "the system stack; want one of each", go_stack, deref);
	for (pc = cg.vaddr; pc < cg.vaddr + cg.size; pc++) {
		r = row_at(t, pc);
		cr_assert(r);
		if (r->cfa_type != MS_CFA_UNSUPPORTED &&
		    r->cfa_type != MS_CFA_GO_STACK &&
		    r->cfa_type != MS_CFA_DEREF_RSP)
			cr_assert_fail("asmcgocall+%#llx: row %s, want a stop",
				       (unsigned long long)(pc - cg.vaddr),
				       row_str(r));
	}
	expect_row(t, "runtime.goexit", gx.vaddr, MS_CFA_UNDEFINED, 0,
		   MS_RBP_SAME, 0);
	/*
	 * callCgoMmap realigns rsp (and $-16) before its call and loads it
	 * back after: its .debug_frame rule holds up to the AND only.
	 */
	expect_row(t, "callCgoMmap entry", mm.vaddr, MS_CFA_RSP, 8,
		   MS_RBP_SAME, 0);
	r = row_at(t, mm.vaddr + mm.size - 1);
	cr_expect(r && r->cfa_type == MS_CFA_UNSUPPORTED,
		  "callCgoMmap's end: row %s, want a stop",
		  r ? row_str(r) : "none");
	expect_row(t, "main.goInner entry", gi.vaddr, MS_CFA_RSP, 8,
		   MS_RBP_SAME, 0);
	expect_row(t, "go_leaf entry", leaf.vaddr, MS_CFA_RSP, 8,
		   MS_RBP_SAME, 0);
	unwind_table__free(t);
}

#define STK_GO_STRIPPED	".output/targets/stk_go_stripped"

/* The sized functions of path's .symtab: fn(ctx, sym, name) for each. */
static void symtab_funcs(const char *path,
			 void (*fn)(void *ctx, const GElf_Sym *sym,
				    const char *name), void *ctx)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Sym sym;
	size_t i;
	Elf *elf;
	int fd;

	elf = elf_open(path, &fd);
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			if (gelf_getsym(data, i, &sym) && sym.st_size &&
			    GELF_ST_TYPE(sym.st_info) == STT_FUNC)
				fn(ctx, &sym, elf_strptr(elf, sh.sh_link,
							 sym.st_name));
		}
	}
	elf_end(elf);
	close(fd);
}

static bool row_same(const struct ms_unwind_row *a,
		     const struct ms_unwind_row *b)
{
	return a->cfa_type == b->cfa_type && a->cfa_off == b->cfa_off &&
	       a->rbp_type == b->rbp_type && a->rbp_off == b->rbp_off;
}

struct same_rules {
	const struct unwind_table *a, *b;
	size_t pcs, differ;
};

static void rules_compare(void *ctx, const GElf_Sym *sym, const char *name)
{
	const struct ms_unwind_row *ra, *rb;
	struct same_rules *c = ctx;
	__u64 pc;

	for (pc = sym->st_value; pc < sym->st_value + sym->st_size; pc++) {
		ra = row_at(c->a, pc);
		rb = row_at(c->b, pc);
		c->pcs++;
		if (ra && rb && row_same(ra, rb))
			continue;
		if (!c->differ++)
			cr_log_error("%s+%#llx: %s with .debug_frame, %s with "
				     ".gopclntab", name,
				     (unsigned long long)(pc - sym->st_value),
				     ra ? row_str(ra) : "no row",
				     rb ? row_str(rb) : "no row");
	}
}

/*
 * A Go program stripped as release builds are (-s -w: no .symtab, no
 * DWARF) gets its Go functions' rows from Go's own function table: at
 * every pc of every function its unstripped build's symbols name, the
 * rule is the one .debug_frame and the runtime's rules give there.
 */
Test(unwind_go, stripped_program_as_its_debug_frame)
{
	struct same_rules c = {
		.a = build_ok(STK_GO, "/"), .b = build_ok(STK_GO_STRIPPED, "/"),
	};

	cr_expect_str_eq(unwind_table__source(c.b),
			 ".eh_frame + .gopclntab + Go runtime");
	symtab_funcs(STK_GO, rules_compare, &c);
	cr_expect(c.pcs > 100000, "only %zu pcs compared", c.pcs);
	cr_expect_eq(c.differ, 0, "%zu of %zu pcs have another rule",
		     c.differ, c.pcs);
	unwind_table__free((struct unwind_table *)c.a);
	unwind_table__free((struct unwind_table *)c.b);
}

/* stk_go_stripped's Go function table. */
static struct gopcln *stripped_table(void)
{
	struct gopcln *p;
	Elf *elf;
	int fd;

	elf = elf_open(STK_GO_STRIPPED, &fd);
	p = gopcln__new(elf);
	cr_assert(p, "no Go function table: %s", strerror(errno));
	elf_end(elf);
	close(fd);
	return p;
}

struct by_start {
	const struct gopcln *p;
	size_t named, differ;
};

/* name with every array length ([5]) as Go's table spells it: [...] */
static void go_spelling(const char *name, char *out, size_t len)
{
	size_t n = 0;

	while (*name && n + 6 < len) {
		if (name[0] == '[' && name[1] >= '0' && name[1] <= '9') {
			while (*++name >= '0' && *name <= '9')
				;
			memcpy(out + n, "[...", 4);
			n += 4;
			continue;
		}
		out[n++] = *name++;
	}
	out[n] = '\0';
}

static void name_compare(void *ctx, const GElf_Sym *sym, const char *name)
{
	struct by_start *c = ctx;
	struct gopcln_func f;
	ssize_t i = gopcln__find(c->p, sym->st_value);
	char want[512];
	size_t len;

	if (i < 0 || gopcln__func(c->p, i, &f) || f.start != sym->st_value)
		return;
	c->named++;
	go_spelling(name, want, sizeof(want));
	len = f.name ? strlen(f.name) : 0;
	/* an ABI0 function's symbol (assembly, or its wrapper) is NAME.abi0 */
	if (f.name && !strncmp(want, f.name, len) &&
	    (!want[len] || !strcmp(want + len, ".abi0")))
		return;
	if (!c->differ++)
		cr_log_error("%#llx: .symtab %s, Go's table %s%s",
			     (unsigned long long)sym->st_value, name,
			     f.name ? f.name : "(none)",
			     f.is_asm ? " (assembly)" : "");
}

/*
 * Go's function table read from the stripped build names every function
 * as the unstripped build's .symtab does (its NAME.abi0 is NAME there,
 * and an array type's length is written [...]).
 */
Test(unwind_go, function_table_names)
{
	struct gopcln *p = stripped_table();
	struct by_start c = { .p = p };

	cr_expect(gopcln__nr_funcs(p) > 1000, "%zu functions",
		  gopcln__nr_funcs(p));
	symtab_funcs(STK_GO, name_compare, &c);
	cr_expect(c.named > 1000, "only %zu symbols at a function's start",
		  c.named);
	cr_expect_eq(c.differ, 0, "%zu of %zu names differ", c.differ,
		     c.named);
	cr_expect_eq(gopcln__find(p, 0), -1, "a pc below the text");
	gopcln__free(p);
}

/* The unit holding pc (Go writes no .debug_aranges to look it up in). */
static bool cu_at(Dwarf *dw, __u64 pc, Dwarf_Die *cu)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (!dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
		if (dwarf_offdie(dw, off + hsize, cu) &&
		    dwarf_haspc(cu, pc) == 1)
			return true;
		off = next;
	}
	return false;
}

/*
 * The file and line Go's table gives a pc are the unstripped build's
 * DWARF line table's, at each function's entry and halfway in (where that
 * is not inside an inlined call, which it declines).
 */
Test(unwind_go, function_table_lines)
{
	size_t i, k, n, compared = 0, differ = 0;
	struct gopcln_func f;
	const char *file, *dfile;
	Dwarf_Line *line;
	Dwarf_Die cu;
	struct gopcln *p = stripped_table();
	int dfd, lineno, dline;
	Dwarf *dw;
	__u64 pc;

	dfd = open(STK_GO, O_RDONLY | O_CLOEXEC);
	dw = dfd >= 0 ? dwarf_begin(dfd, DWARF_C_READ) : NULL;
	cr_assert(dw, "%s: no DWARF", STK_GO);
	n = gopcln__nr_funcs(p);
	for (i = 0; i < n; i++) {
		if (gopcln__func(p, i, &f))
			continue;
		for (k = 0; k < 2; k++) {
			pc = k ? f.start + (f.end - f.start) / 2 : f.start;
			if (gopcln__line(p, i, pc, &file, &lineno) ||
			    !cu_at(dw, pc, &cu) ||
			    !(line = dwarf_getsrc_die(&cu, pc)) ||
			    dwarf_lineno(line, &dline) ||
			    !(dfile = dwarf_linesrc(line, NULL, NULL)))
				continue;
			compared++;
			/* libdw puts the unit's "." before a relative name */
			if (!strncmp(dfile, "./", 2))
				dfile += 2;
			if (dline == lineno && !strcmp(dfile, file))
				continue;
			if (!differ++)
				cr_log_error("%s at %#llx: %s:%d, DWARF %s:%d",
					     f.name, (unsigned long long)pc,
					     file, lineno, dfile, dline);
		}
	}
	cr_expect(compared > 1000, "only %zu pcs compared", compared);
	cr_expect_eq(differ, 0, "%zu of %zu lines differ", differ, compared);
	dwarf_end(dw);
	close(dfd);
	gopcln__free(p);
}

/*
 * An epilogue that does not read the goroutine's rsp as asmcgocall's
 * does (the first load from rbp, not rsp: a copy of stk_go patched) is
 * not guessed at: that return stays a stop, the other keeps its rule.
 */
Test(unwind_go, unknown_epilogue_stays_a_stop)
{
	struct elf_func cg = go_func(STK_GO, "runtime.asmcgocall.abi0");
	char path[] = "/tmp/memscope-stk_go-XXXXXX";
	unsigned char buf[1 << 16], insn[5];
	const struct ms_unwind_row *r;
	struct unwind_table *t;
	__u64 rets[4], off;
	int in, out, patched = -1;
	size_t n, i;
	ssize_t k;

	n = cgo_returns(STK_GO, &cg, rets, 4);
	cr_assert_eq(n, 2);
	in = open(STK_GO, O_RDONLY | O_CLOEXEC);
	out = mkstemp(path);
	cr_assert(in >= 0 && out >= 0);
	while ((k = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, k), k);
	close(in);
	/* mov D(%rsp),%rdi (48 8b 7c 24 D) becomes mov D(%rbp),%rdi; nop */
	for (i = 0; i < n; i++) {
		off = cg.file_offset + (rets[i] - cg.vaddr);
		cr_assert_eq(pread(out, insn, 5, off), 5);
		if (insn[0] == 0x48 && insn[1] == 0x8b && insn[2] == 0x7c &&
		    insn[3] == 0x24) {
			unsigned char p[5] = { 0x48, 0x8b, 0x7d, insn[4], 0x90 };

			cr_assert_eq(pwrite(out, p, 5, off), 5);
			patched = (int)i;
			break;
		}
	}
	close(out);
	cr_assert(patched >= 0, "no mov D(%%rsp),%%rdi after asmcgocall's calls");
	t = build_path(path, "/");
	unlink(path);
	cr_assert(t, "patched stk_go: no table");
	for (i = 0; i < n; i++) {
		r = row_at(t, rets[i] - 1);
		cr_assert(r);
		if ((int)i == patched)
			cr_expect(r->cfa_type == MS_CFA_UNSUPPORTED,
				  "the patched return: row %s, want a stop",
				  row_str(r));
		else
			cr_expect(r->cfa_type == MS_CFA_GO_STACK ||
				  r->cfa_type == MS_CFA_DEREF_RSP,
				  "the other return: row %s", row_str(r));
	}
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
		   MS_CFA_NO_INFO, 0, MS_RBP_SAME, 0);
	cr_expect_eq(row_at(t, f.vaddr + 4)->pc, f.vaddr + 4,
		     "no gap row where the inner FDE ends");
	unwind_table__free(t);
}

/* The address range of section name in path, by its header. */
static void section_range(const char *path, const char *name, __u64 *start,
			  __u64 *end)
{
	Elf_Scn *scn = NULL;
	size_t strndx;
	GElf_Shdr sh;
	Elf *elf;
	int fd;

	*start = *end = 0;
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "cannot open %s: %s", path, strerror(errno));
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert(elf && !elf_getshdrstrndx(elf, &strndx), "%s: not an ELF",
		  path);
	while ((scn = elf_nextscn(elf, scn)) && gelf_getshdr(scn, &sh)) {
		const char *n = elf_strptr(elf, strndx, sh.sh_name);

		if (n && !strcmp(n, name)) {
			*start = sh.sh_addr;
			*end = sh.sh_addr + sh.sh_size;
		}
	}
	elf_end(elf);
	close(fd);
	cr_assert(*end > *start, "%s: no %s section", path, name);
}

/*
 * cfi.oneseg's .rodata is in its R E segment and holds bytes that decode
 * as a frame-pointer function (not_code): the scan for frame-pointer
 * code without CFI reads the code sections, so no rule starts there.
 * (libLLVM, linked by gold: 52 of its 99 MB were decoded for nothing.)
 */
Test(unwind_table, data_beside_code_is_not_scanned)
{
	const struct ms_unwind_row *rows;
	struct unwind_table *t;
	__u64 start, end;
	size_t i, n;

	section_range(fixture("cfi.oneseg"), ".rodata", &start, &end);
	t = build_path_as(fixture("cfi.oneseg"), "/", 0);
	cr_assert(t, "cfi.oneseg: no table: %s", strerror(errno));
	rows = unwind_table__rows(t, &n);
	for (i = 0; i < n; i++)
		cr_expect(rows[i].pc < start || rows[i].pc >= end ||
			  rows[i].cfa_type == MS_CFA_NO_INFO,
			  "a rule in .rodata [%#llx, %#llx): %s",
			  (unsigned long long)start, (unsigned long long)end,
			  row_str(&rows[i]));
	unwind_table__free(t);
}

/*
 * libbigcode_b (tests/targets/libbigcode.S): 250,000 frame-pointer
 * functions without CFI, 128 bytes apart, 32 MB: its scan is cut in
 * shares between functions, one a thread. Joined, every function has
 * the rows of the first, at its place: no row lost, doubled or changed
 * where a share ends.
 */
Test(unwind_table, scan_shares_join_as_one)
{
	const char *path = ".output/targets/libbigcode_b.so";
	const struct ms_unwind_row *rows, *r, *p;
	struct unwind_table *t;
	size_t i, n, per = 5, bad = 0;

	t = build_path_as(path, "/", 0);
	cr_assert(t, "%s: no table: %s", path, strerror(errno));
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
		cr_expect_gt(unwind_table__fp_shares(t), 1,
			     "scanned on %u thread(s)",
			     unwind_table__fp_shares(t));
	rows = unwind_table__rows(t, &n);
	cr_assert_eq(n, 250000 * per, "%zu rows, want %zu", n, 250000 * per);
	/* entry, rbp pushed, frame, popped, padding */
	for (i = per; i < n; i++) {
		r = &rows[i];
		p = &rows[i % per];
		if (r->pc - p->pc != (i / per) * 128 ||
		    r->cfa_type != p->cfa_type || r->cfa_off != p->cfa_off ||
		    r->rbp_type != p->rbp_type || r->rbp_off != p->rbp_off) {
			cr_expect_fail("row %zu: %s, want the first function's %s + %zu",
				       i, row_str(r), row_str(p), (i / per) * 128);
			if (++bad == 5)
				break;
		}
	}
	cr_expect_eq(rows[1].cfa_type, MS_CFA_RSP, "%s", row_str(&rows[1]));
	cr_expect_eq(rows[2].cfa_type, MS_CFA_RBP, "%s", row_str(&rows[2]));
	cr_expect_eq(rows[4].cfa_type, MS_CFA_NO_INFO, "%s", row_str(&rows[4]));
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

Test(unwind_separate, compressed_debug_file)
{
	put(fixture("cfi.df.debug.z"), build_id_path("cfi.nocfi"), NULL);
	expect_separate(fixture("cfi.nocfi"), "compressed debug file");
}

/* A compressed section that claims to inflate to 1 TiB: refused unread. */
Test(unwind_separate, compression_bomb)
{
	__u64 size = 1ull << 40, off;
	int fd;

	section_addr_off(fixture("cfi.df.debug.z"), ".debug_frame", &off);
	put(fixture("cfi.df.debug.z"), build_id_path("cfi.nocfi"), NULL);
	fd = open(in_root(build_id_path("cfi.nocfi")), O_WRONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "open: %s", strerror(errno));
	/* Elf64_Chdr: ch_type, ch_reserved, then ch_size */
	cr_assert_eq(pwrite(fd, &size, sizeof(size), off + 8), sizeof(size));
	close(fd);
	cr_expect_null(build_path(fixture("cfi.nocfi"), root),
		       "a table from a 1 TiB .debug_frame");
	cr_expect_eq(errno, EFBIG, "errno %s, want EFBIG", strerror(errno));
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

static void context_fn(void)
{
}

/*
 * The bottom of a stack makecontext made: the function it writes as the
 * first return address (__start_context, static) is named by its lea, and
 * the byte before it, where the walker looks its caller's rule up, is
 * outermost; the function's own rule is its FDE's.
 */
Test(unwind_table, makecontext_stacks_end_at_their_start)
{
	const char *libc = expect_file_path(fixture("libc.cfi"));
	static char stack[16384];
	const struct ms_unwind_row *r;
	struct unwind_table *t;
	ucontext_t uc;
	Dl_info info;
	void *ret;
	__u64 at;

	cr_assert(!getcontext(&uc), "getcontext");
	uc.uc_stack.ss_sp = stack;
	uc.uc_stack.ss_size = sizeof(stack);
	uc.uc_link = NULL;
	makecontext(&uc, context_fn, 0);
	ret = *(void **)uc.uc_mcontext.gregs[REG_RSP];
	cr_assert(dladdr(ret, &info) && info.dli_fname, "dladdr(%p)", ret);
	at = (char *)ret - (char *)info.dli_fbase;
	t = build_ok(libc, "/");
	expect_row(t, "the byte before makecontext's return address", at - 1,
		   MS_CFA_UNDEFINED, 0, MS_RBP_SAME, 0);
	r = row_at(t, at);
	cr_assert(r && r->pc == at, "no row of its own at %#llx",
		  (unsigned long long)at);
	cr_expect_eq(r->cfa_type, MS_CFA_RSP, "its FDE's rule: %s",
		     row_str(r));
	unwind_table__free(t);
}

static __u64 elf_entry(const char *path)
{
	GElf_Ehdr eh;
	Elf *elf;
	int fd;

	elf = elf_open(path, &fd);
	cr_assert(gelf_getehdr(elf, &eh), "%s: not ELF", path);
	elf_end(elf);
	close(fd);
	return eh.e_entry;
}

/*
 * The dynamic loader's entry code (_start, then _dl_start_user: glibc's
 * RTLD_START has no CFI) is the outermost frame of what ld.so runs before
 * main: its straight run, up to its jump to the program's entry, gets the
 * undefined return address a _start's own CFI gives; the rest of its gap
 * (padding) keeps no information.
 */
Test(unwind_table, loader_entry)
{
	const char *ldso = expect_file_path(fixture("ld.so.cfi"));
	const struct ms_unwind_row *r, *rows;
	struct unwind_table *t;
	__u64 entry = elf_entry(ldso);
	size_t n;

	/* as the interpreter processes start in */
	t = build_path_as(ldso, "/", UNWIND_TABLE_ENTRY |
			  UNWIND_TABLE_CFI_ONLY);
	cr_assert(t, "ld.so: no table: %s", strerror(errno));
	expect_stats(t, "ld.so");
	expect_table(t, fixture("ld.so.cfi"));
	rows = unwind_table__rows(t, &n);
	r = row_at(t, entry);
	cr_assert(r && r->pc == entry, "ld.so: no row at its entry %#llx",
		  (unsigned long long)entry);
	expect_row(t, "ld.so's entry", entry, MS_CFA_UNDEFINED, 0,
		   MS_RBP_SAME, 0);
	/* _start's call returns into the run: it is more than that call */
	cr_assert(r + 1 < rows + n, "ld.so: the entry row is the last");
	cr_expect(r[1].pc > entry + 5 && r[1].pc <= entry + 256,
		  "ld.so: the entry run ends at %#x, entry %#llx", r[1].pc,
		  (unsigned long long)entry);
	unwind_table__free(t);
}

static struct unwind_table *build_bytes_as(const void *data, size_t len,
					   unsigned int flags)
{
	struct unwind_table *t;
	int fd, err;

	fd = memfd_create("unwind-test", MFD_CLOEXEC);
	cr_assert(fd >= 0, "memfd_create: %s", strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len, "write memfd");
	t = unwind_table__build(fd, "/nonexistent", flags);
	err = errno;
	close(fd);
	errno = err;
	return t;
}

static struct unwind_table *build_bytes(const void *data, size_t len)
{
	return build_bytes_as(data, len, UNWIND_TABLE_CFI_ONLY);
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

/*
 * A shared library's e_entry is often where its .text begins: crtstuff's
 * deregister_tm_clones, no CFI and a caller. libinline with its e_entry
 * moved there: as a library, that code keeps no information; as an
 * object a process starts in (what the caller learns from its auxv) it
 * gets the entry rule up to the function's first jump. Where an FDE
 * covers the entry point the rule never applies.
 */
Test(unwind_table, entry_only_where_processes_start)
{
	struct elf_func fn = func("libinline", "deregister_tm_clones");
	struct elf_func covered = func("libinline", "inl_outer");
	const struct ms_unwind_row *r;
	struct unwind_table *t;
	Elf64_Ehdr *eh;
	size_t len;
	void *buf;

	buf = slurp(fixture("libinline"), &len);
	eh = buf;
	cr_assert(len > sizeof(*eh) && eh->e_type == ET_DYN);
	eh->e_entry = fn.vaddr;
	t = build_bytes(buf, len);
	cr_assert(t, "libinline: no table: %s", strerror(errno));
	r = row_at(t, fn.vaddr);
	cr_assert(r, "libinline: no row at %#llx",
		  (unsigned long long)fn.vaddr);
	cr_expect_eq(r->cfa_type, MS_CFA_NO_INFO,
		     "a library's e_entry got the rule %s", row_str(r));
	unwind_table__free(t);

	t = build_bytes_as(buf, len,
			   UNWIND_TABLE_ENTRY | UNWIND_TABLE_CFI_ONLY);
	cr_assert(t, "libinline as an entry: no table: %s", strerror(errno));
	r = row_at(t, fn.vaddr);
	cr_assert(r && r->pc == fn.vaddr, "entry: no row at its entry");
	expect_row(t, "the entry", fn.vaddr, MS_CFA_UNDEFINED, 0,
		   MS_RBP_SAME, 0);
	/* up to jmp *%rax: the rest of the gap keeps no information */
	cr_expect(r[1].pc > fn.vaddr && r[1].pc <= fn.vaddr + 256 &&
		  r[1].cfa_type == MS_CFA_NO_INFO,
		  "entry: the run ends at %s, entry %#llx", row_str(&r[1]),
		  (unsigned long long)fn.vaddr);
	unwind_table__free(t);

	eh->e_entry = covered.vaddr;
	t = build_bytes_as(buf, len,
			   UNWIND_TABLE_ENTRY | UNWIND_TABLE_CFI_ONLY);
	cr_assert(t, "libinline, entry in an FDE: no table: %s",
		  strerror(errno));
	r = row_at(t, covered.vaddr);
	cr_expect(r && r->cfa_type != MS_CFA_UNDEFINED &&
		  r->cfa_type != MS_CFA_NO_INFO,
		  "an FDE's rule gave way at the entry: %s",
		  r ? row_str(r) : "no row");
	unwind_table__free(t);
	free(buf);
}

/*
 * libdw's work on an object is bounded by a budget that grows with its
 * CFI: librows_many (800k rows, ~2^29 bytes of CFA program interpreted,
 * ~190 per byte of .eh_frame, past the old fixed 2^28) compiles whole;
 * librows_one, one function whose rows cost far more than its section
 * buys, is refused (EFBIG) instead of taking minutes.
 */
Test(unwind_table, work_budget_grows_with_the_cfi)
{
	struct unwind_table_stats st;
	struct unwind_table *t;

	t = build_ok(fixture("librows_many"), "/");
	unwind_table__stats(t, &st);
	cr_expect_geq(st.fdes, 4000, "librows_many: %u FDEs", st.fdes);
	cr_expect_geq(st.rows, 800000, "librows_many: %u rows", st.rows);
	cr_expect_eq(st.by_type[MS_CFA_UNSUPPORTED], 0,
		     "librows_many: %u rows unsupported",
		     st.by_type[MS_CFA_UNSUPPORTED]);
	unwind_table__free(t);

	cr_expect_null(build_path(fixture("librows_one"), "/"),
		       "librows_one: a table");
	cr_expect_eq(errno, EFBIG, "librows_one: errno %s, want EFBIG",
		     strerror(errno));
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

/*
 * The rows applied as the BPF walker applies them, on this process's own
 * stack, against glibc's backtrace() (libgcc's unwinder reading the same
 * .eh_frame): every return address, through the test binary, Criterion's
 * library and libc, to _start's outermost row. This is the contract of
 * bpf/events.h, executed.
 */
#define WALK_MAX	64
#define WALK_OBJS	64

struct walk_obj {
	__u64 bias;		/* ELF address = pc - bias */
	__u64 start, end;	/* runtime range of its executable segments */
	char *path;
	struct unwind_table *t;	/* built when the walk first gets there */
};

static struct walk_obj walk_objs[WALK_OBJS];
static int nr_walk_objs;

static int add_obj(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct walk_obj *o = &walk_objs[nr_walk_objs];
	const char *path = info->dlpi_name;
	int i;

	(void)size;
	(void)ctx;
	if (nr_walk_objs == WALK_OBJS)
		return 1;
	if (!*path)
		path = "/proc/self/exe";
	else if (*path != '/')
		return 0;	/* the vDSO: no file */
	o->start = UINT64_MAX;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (info->dlpi_addr + ph->p_vaddr < o->start)
			o->start = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > o->end)
			o->end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	o->bias = info->dlpi_addr;
	o->path = strdup(path);
	cr_assert(o->path);
	nr_walk_objs++;
	return 0;
}

static const struct walk_obj *obj_of(__u64 pc)
{
	struct walk_obj *o;
	int i;

	for (i = 0; i < nr_walk_objs; i++) {
		o = &walk_objs[i];
		if (pc < o->start || pc >= o->end)
			continue;
		if (!o->t)
			o->t = build_ok(o->path, "/");
		return o;
	}
	return NULL;
}

/* Return addresses above the frame at (pc, sp, bp); the count. */
static int walk(__u64 pc, __u64 sp, __u64 bp, __u64 *out, int max)
{
	const struct ms_unwind_row *r;
	const struct walk_obj *o;
	bool bp_known = true;
	__u64 cfa, lookup;
	bool exact = true;
	int n = 0;

	while (n < max) {
		o = obj_of(pc);
		cr_assert(o, "frame %d: pc %#llx in no object", n,
			  (unsigned long long)pc);
		/*
		 * A return address is after its call: look up the call. The
		 * innermost pc and one a signal interrupted are exact.
		 */
		lookup = pc - o->bias - (exact ? 0 : 1);
		exact = false;
		r = row_at(o->t, lookup);
		cr_assert(r, "frame %d: no row for %#llx", n,
			  (unsigned long long)lookup);
		switch (r->cfa_type) {
		case MS_CFA_UNDEFINED:
			return n;
		case MS_CFA_RSP:
			cfa = sp + r->cfa_off;
			break;
		case MS_CFA_RBP:
			cr_assert(bp_known, "frame %d: CFA from a lost rbp", n);
			cfa = bp + r->cfa_off;
			break;
		case MS_CFA_DEREF_RBP:
			cr_assert(bp_known, "frame %d: CFA from a lost rbp", n);
			cfa = *(__u64 *)(bp + r->cfa_off);
			break;
		case MS_CFA_PLT:
			cfa = sp + 8 + ((pc & 15) >= (__u64)r->cfa_off ? 8 : 0);
			break;
		case MS_CFA_SIGNAL: {
			/* the handler returned here: rsp is the ucontext */
			const ucontext_t *uc = (const ucontext_t *)sp;

			pc = uc->uc_mcontext.gregs[REG_RIP];
			sp = uc->uc_mcontext.gregs[REG_RSP];
			bp = uc->uc_mcontext.gregs[REG_RBP];
			bp_known = true;
			exact = true;
			out[n++] = pc;
			continue;
		}
		default:
			cr_assert_fail("frame %d: row %s", n, row_str(r));
		}
		switch (r->rbp_type) {
		case MS_RBP_SAME:
			break;
		case MS_RBP_CFA:
			bp = *(__u64 *)(cfa + r->rbp_off);
			break;
		case MS_RBP_AT_RBP:
			bp = *(__u64 *)(bp + r->rbp_off);
			break;
		default:
			bp_known = false;
		}
		pc = *(__u64 *)(cfa - 8);
		sp = cfa;
		out[n++] = pc;
	}
	return n;
}

static int __attribute__((noinline)) walk_here(__u64 *ours, int *n_ours,
					       void **theirs)
{
	__u64 pc, sp, bp;
	int n;

	__asm__ volatile("lea (%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
			 : "=r"(pc), "=r"(sp), "=r"(bp));
	n = backtrace(theirs, WALK_MAX);
	*n_ours = walk(pc, sp, bp, ours, WALK_MAX);
	return n;
}

/* What the signal handler hands back to the test. */
static __u64 sig_ours[WALK_MAX];
static void *sig_theirs[WALK_MAX];
static int sig_n_ours, sig_n_theirs;

static void on_signal(int sig)
{
	(void)sig;
	sig_n_theirs = walk_here(sig_ours, &sig_n_ours, sig_theirs);
}

/*
 * A few frames of our own: realigned (aligned locals), and with alloca
 * too, which makes GCC keep the CFA as *(rbp - N) (DRAP). At the bottom,
 * the walk, straight or from a signal handler.
 */
static int __attribute__((noinline)) chain(int depth, bool by_signal,
					   __u64 *ours, int *n_ours,
					   void **theirs)
{
	char pad[64] __attribute__((aligned(64)));
	char *more = __builtin_alloca(depth * 16 + 1);
	int n;

	sink_bytes(pad, sizeof(pad));
	sink_bytes(more, depth * 16 + 1);
	if (!depth && by_signal) {
		cr_assert(!raise(SIGUSR2), "raise");
		memcpy(ours, sig_ours, sizeof(sig_ours));
		memcpy(theirs, sig_theirs, sizeof(sig_theirs));
		*n_ours = sig_n_ours;
		return sig_n_theirs;
	}
	if (!depth)
		return walk_here(ours, n_ours, theirs);
	n = chain(depth - 1, by_signal, ours, n_ours, theirs);
	sink_bytes(pad, sizeof(pad));
	return n;
}

static void expect_walk(bool by_signal)
{
	__u64 ours[WALK_MAX];
	void *theirs[WALK_MAX];
	int i, k, n_ours, n_theirs;

	dl_iterate_phdr(add_obj, NULL);
	n_theirs = chain(3, by_signal, ours, &n_ours, theirs);
	/*
	 * ours[0] is the return address into walk_here's caller; theirs
	 * starts inside backtrace's callers (ASan's interceptor, walk_here):
	 * from the frame both have on, both are return addresses, outermost
	 * last.
	 */
	cr_assert(n_ours > 6, "rows gave %d frames", n_ours);
	for (k = 0; k < 3 && k < n_theirs; k++)
		if ((__u64)theirs[k] == ours[0])
			break;
	cr_assert(k < 3, "backtrace never reaches %#llx",
		  (unsigned long long)ours[0]);
	for (i = 0; i < n_ours && k + i < n_theirs; i++)
		cr_expect_eq(ours[i], (__u64)theirs[k + i],
			     "frame %d: rows give %#llx, backtrace %p", i,
			     (unsigned long long)ours[i], theirs[k + i]);
	cr_expect_eq(n_ours, n_theirs - k,
		     "rows give %d frames, backtrace %d", n_ours, n_theirs - k);
	for (i = 0; i < nr_walk_objs; i++) {
		unwind_table__free(walk_objs[i].t);
		free(walk_objs[i].path);
	}
}

Test(unwind_walk, rows_unwind_like_backtrace)
{
	expect_walk(false);
}

/* From a handler, through __restore_rt's signal frame, on into raise. */
Test(unwind_walk, through_a_signal_frame)
{
	struct sigaction sa = { .sa_handler = on_signal };

	cr_assert(!sigaction(SIGUSR2, &sa, NULL), "sigaction");
	expect_walk(true);
}
