// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <elf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "clock.h"
#include "deps.h"
#include "elfsym.h"
#include "events.h"
#include "names.h"
#include "procinfo_read.h"
#include "procmaps.h"
#include "prologue.h"
#include "layer.h"
#include "table.h"

#define USDT_PROVIDER	"memscope"
/*
 * The probes read x86-64 argument registers and the walker applies x86-64
 * CFI: a 32-bit process's probes would read other registers than its
 * arguments, so it is refused, never traced wrong or seemingly idle.
 */
#define FOREIGN_WHY	"memscope-bpf traces x86-64 programs only"
/* A Go program's heap is its runtime's: no probed allocator serves it. */
#define GO_WHY		"a Go program allocates with the Go runtime, not malloc: only its cgo calls into C's allocator can be traced"

enum fn_kind {
	FN_ALLOC,	/* entry + return */
	FN_FREE,	/* entry only, first argument is the pointer */
};

/*
 * The one table of what is probed: per function, its name, how the entry
 * reads its arguments and what its return means (enum ms_fn: the argument
 * registers of each shape are listed in events.h), whether it allocates
 * or frees, and its family. Alignment arguments are not read: nothing
 * counts them. A name with FNF_RUST is also found mangled by rustc's v0
 * scheme (rustc >= 1.87), whatever the crate hash.
 *
 * Several names at one address are one probe, named and typed by the
 * first of them here: so the standard names come first, and an
 * allocator that aliases tc_malloc or mi_malloc to malloc counts their
 * blocks as "malloc". When the names at one address belong to families
 * that may not free each other's blocks (mimalloc's free is also delete
 * and delete[]), the probe is tagged MS_TAG_ANY and frees through it are
 * never called mismatched.
 */
#define FNF_RUST	(1u << 0)
/*
 * It may throw (std::bad_alloc): a uretprobe on it would end the program
 * when it does: layer.h.
 */
#define FNF_THROWS	(1u << 1)

static const struct alloc_fn {
	const char *name;
	enum ms_fn fn;
	enum fn_kind kind;
	enum ms_family family;
	unsigned int flags;
} alloc_fns[] = {
#define C_FN(name, fn, kind)	{ name, fn, kind, MS_FAM_MALLOC, 0 }
	C_FN("malloc",		MS_FN_MALLOC,		FN_ALLOC),
	C_FN("calloc",		MS_FN_CALLOC,		FN_ALLOC),
	C_FN("realloc",		MS_FN_REALLOC,		FN_ALLOC),
	C_FN("reallocarray",	MS_FN_REALLOCARRAY,	FN_ALLOC),
	C_FN("free",		MS_FN_FREE,		FN_FREE),
	C_FN("posix_memalign",	MS_FN_POSIX_MEMALIGN,	FN_ALLOC),
	C_FN("aligned_alloc",	MS_FN_ALIGNED_ALLOC,	FN_ALLOC),
	C_FN("memalign",	MS_FN_MEMALIGN,		FN_ALLOC),
	C_FN("valloc",		MS_FN_VALLOC,		FN_ALLOC),
	C_FN("pvalloc",		MS_FN_PVALLOC,		FN_ALLOC),
#undef C_FN
	/*
	 * C++ operator new and delete, as libstdc++ and libc++ both mangle
	 * them (Itanium ABI, size_t is unsigned long): size in rdi, the
	 * pointer in rdi, alignment and size of deletes after it.
	 */
#define CXX_FN(name, fn, kind, fam)	{ name, fn, kind, fam, 0 }
#define CXX_NEW(name, fam)						\
	{ name, MS_FN_MALLOC, FN_ALLOC, fam, FNF_THROWS }
	CXX_NEW("_Znwm",				MS_FAM_NEW),
	CXX_FN("_ZnwmRKSt9nothrow_t", MS_FN_MALLOC, FN_ALLOC,	MS_FAM_NEW),
	CXX_NEW("_ZnwmSt11align_val_t",			MS_FAM_NEW),
	CXX_FN("_ZnwmSt11align_val_tRKSt9nothrow_t", MS_FN_MALLOC, FN_ALLOC,
	       MS_FAM_NEW),
	CXX_NEW("_Znam",				MS_FAM_NEW_ARRAY),
	CXX_FN("_ZnamRKSt9nothrow_t", MS_FN_MALLOC, FN_ALLOC,
	       MS_FAM_NEW_ARRAY),
	CXX_NEW("_ZnamSt11align_val_t",		MS_FAM_NEW_ARRAY),
	CXX_FN("_ZnamSt11align_val_tRKSt9nothrow_t", MS_FN_MALLOC, FN_ALLOC,
	       MS_FAM_NEW_ARRAY),
	CXX_FN("_ZdlPv",	MS_FN_FREE,	FN_FREE,	MS_FAM_NEW),
	CXX_FN("_ZdlPvm",	MS_FN_FREE,	FN_FREE,	MS_FAM_NEW),
	CXX_FN("_ZdlPvRKSt9nothrow_t", MS_FN_FREE, FN_FREE,	MS_FAM_NEW),
	CXX_FN("_ZdlPvSt11align_val_t", MS_FN_FREE, FN_FREE,	MS_FAM_NEW),
	CXX_FN("_ZdlPvmSt11align_val_t", MS_FN_FREE, FN_FREE,	MS_FAM_NEW),
	CXX_FN("_ZdlPvSt11align_val_tRKSt9nothrow_t", MS_FN_FREE, FN_FREE,
	       MS_FAM_NEW),
	CXX_FN("_ZdaPv",	MS_FN_FREE,	FN_FREE,	MS_FAM_NEW_ARRAY),
	CXX_FN("_ZdaPvm",	MS_FN_FREE,	FN_FREE,	MS_FAM_NEW_ARRAY),
	CXX_FN("_ZdaPvRKSt9nothrow_t", MS_FN_FREE, FN_FREE,
	       MS_FAM_NEW_ARRAY),
	CXX_FN("_ZdaPvSt11align_val_t", MS_FN_FREE, FN_FREE,
	       MS_FAM_NEW_ARRAY),
	CXX_FN("_ZdaPvmSt11align_val_t", MS_FN_FREE, FN_FREE,
	       MS_FAM_NEW_ARRAY),
	CXX_FN("_ZdaPvSt11align_val_tRKSt9nothrow_t", MS_FN_FREE, FN_FREE,
	       MS_FAM_NEW_ARRAY),
	/*
	 * Rust's global allocator shims: (size, align), (ptr, size, align),
	 * (ptr, old size, align, new size). They call the #[global_allocator]
	 * or __rdl_* (malloc and friends), counted as the inner layer.
	 */
#define RUST_FN(name, fn, kind)	{ name, fn, kind, MS_FAM_RUST, FNF_RUST }
	RUST_FN("__rust_alloc",		MS_FN_MALLOC,		FN_ALLOC),
	RUST_FN("__rust_alloc_zeroed",	MS_FN_MALLOC,		FN_ALLOC),
	RUST_FN("__rust_realloc",	MS_FN_RUST_REALLOC,	FN_ALLOC),
	RUST_FN("__rust_dealloc",	MS_FN_FREE,		FN_FREE),
#undef RUST_FN
	/* jemalloc's own API, plain and in je_-prefixed builds. */
#define JE_FN(name, fn, kind)	{ name, fn, kind, MS_FAM_JEMALLOC, 0 }
	JE_FN("mallocx",		MS_FN_MALLOC,		FN_ALLOC),
	JE_FN("rallocx",		MS_FN_REALLOC,		FN_ALLOC),
	JE_FN("xallocx",		MS_FN_XALLOCX,		FN_ALLOC),
	JE_FN("dallocx",		MS_FN_FREE,		FN_FREE),
	JE_FN("sdallocx",		MS_FN_FREE,		FN_FREE),
	JE_FN("je_malloc",		MS_FN_MALLOC,		FN_ALLOC),
	JE_FN("je_calloc",		MS_FN_CALLOC,		FN_ALLOC),
	JE_FN("je_realloc",		MS_FN_REALLOC,		FN_ALLOC),
	JE_FN("je_free",		MS_FN_FREE,		FN_FREE),
	JE_FN("je_posix_memalign",	MS_FN_POSIX_MEMALIGN,	FN_ALLOC),
	JE_FN("je_aligned_alloc",	MS_FN_ALIGNED_ALLOC,	FN_ALLOC),
	JE_FN("je_memalign",		MS_FN_MEMALIGN,		FN_ALLOC),
	JE_FN("je_valloc",		MS_FN_VALLOC,		FN_ALLOC),
	JE_FN("je_mallocx",		MS_FN_MALLOC,		FN_ALLOC),
	JE_FN("je_rallocx",		MS_FN_REALLOC,		FN_ALLOC),
	JE_FN("je_xallocx",		MS_FN_XALLOCX,		FN_ALLOC),
	JE_FN("je_dallocx",		MS_FN_FREE,		FN_FREE),
	JE_FN("je_sdallocx",		MS_FN_FREE,		FN_FREE),
#undef JE_FN
	/*
	 * gperftools' tcmalloc: tc_new and tc_delete are operator new and
	 * delete by other names, the rest its C API.
	 */
#define TC_FN(name, fn, kind)	{ name, fn, kind, MS_FAM_TCMALLOC, 0 }
	TC_FN("tc_malloc",		MS_FN_MALLOC,		FN_ALLOC),
	TC_FN("tc_malloc_skip_new_handler", MS_FN_MALLOC,	FN_ALLOC),
	TC_FN("tc_calloc",		MS_FN_CALLOC,		FN_ALLOC),
	TC_FN("tc_realloc",		MS_FN_REALLOC,		FN_ALLOC),
	TC_FN("tc_memalign",		MS_FN_MEMALIGN,		FN_ALLOC),
	TC_FN("tc_posix_memalign",	MS_FN_POSIX_MEMALIGN,	FN_ALLOC),
	TC_FN("tc_valloc",		MS_FN_VALLOC,		FN_ALLOC),
	TC_FN("tc_pvalloc",		MS_FN_PVALLOC,		FN_ALLOC),
	TC_FN("tc_free",		MS_FN_FREE,		FN_FREE),
	TC_FN("tc_free_sized",		MS_FN_FREE,		FN_FREE),
	TC_FN("tc_cfree",		MS_FN_FREE,		FN_FREE),
#undef TC_FN
	CXX_NEW("tc_new",				MS_FAM_NEW),
	CXX_FN("tc_new_nothrow",	MS_FN_MALLOC, FN_ALLOC, MS_FAM_NEW),
	CXX_NEW("tc_new_aligned",			MS_FAM_NEW),
	CXX_FN("tc_new_aligned_nothrow", MS_FN_MALLOC, FN_ALLOC, MS_FAM_NEW),
	CXX_NEW("tc_newarray",				MS_FAM_NEW_ARRAY),
	CXX_FN("tc_newarray_nothrow",	MS_FN_MALLOC, FN_ALLOC,
	       MS_FAM_NEW_ARRAY),
	CXX_NEW("tc_newarray_aligned",			MS_FAM_NEW_ARRAY),
	CXX_FN("tc_newarray_aligned_nothrow", MS_FN_MALLOC, FN_ALLOC,
	       MS_FAM_NEW_ARRAY),
	CXX_FN("tc_delete",		MS_FN_FREE, FN_FREE, MS_FAM_NEW),
	CXX_FN("tc_delete_sized",	MS_FN_FREE, FN_FREE, MS_FAM_NEW),
	CXX_FN("tc_delete_nothrow",	MS_FN_FREE, FN_FREE, MS_FAM_NEW),
	CXX_FN("tc_delete_aligned",	MS_FN_FREE, FN_FREE, MS_FAM_NEW),
	CXX_FN("tc_delete_sized_aligned", MS_FN_FREE, FN_FREE, MS_FAM_NEW),
	CXX_FN("tc_deletearray",	MS_FN_FREE, FN_FREE, MS_FAM_NEW_ARRAY),
	CXX_FN("tc_deletearray_sized",	MS_FN_FREE, FN_FREE, MS_FAM_NEW_ARRAY),
	CXX_FN("tc_deletearray_nothrow", MS_FN_FREE, FN_FREE,
	       MS_FAM_NEW_ARRAY),
	CXX_FN("tc_deletearray_aligned", MS_FN_FREE, FN_FREE,
	       MS_FAM_NEW_ARRAY),
#undef CXX_NEW
#undef CXX_FN
	/*
	 * mimalloc's mi_* API (not its mi_heap_* functions, whose first
	 * argument is a heap): mi_new* are operator new by another name.
	 */
#define MI_FN(name, fn, kind)	{ name, fn, kind, MS_FAM_MIMALLOC, 0 }
	MI_FN("mi_malloc",		MS_FN_MALLOC,		FN_ALLOC),
	MI_FN("mi_malloc_small",	MS_FN_MALLOC,		FN_ALLOC),
	MI_FN("mi_zalloc",		MS_FN_MALLOC,		FN_ALLOC),
	MI_FN("mi_zalloc_small",	MS_FN_MALLOC,		FN_ALLOC),
	MI_FN("mi_malloc_aligned",	MS_FN_MALLOC,		FN_ALLOC),
	MI_FN("mi_malloc_aligned_at",	MS_FN_MALLOC,		FN_ALLOC),
	MI_FN("mi_zalloc_aligned",	MS_FN_MALLOC,		FN_ALLOC),
	MI_FN("mi_zalloc_aligned_at",	MS_FN_MALLOC,		FN_ALLOC),
	MI_FN("mi_calloc",		MS_FN_CALLOC,		FN_ALLOC),
	MI_FN("mi_mallocn",		MS_FN_CALLOC,		FN_ALLOC),
	MI_FN("mi_calloc_aligned",	MS_FN_CALLOC,		FN_ALLOC),
	MI_FN("mi_calloc_aligned_at",	MS_FN_CALLOC,		FN_ALLOC),
	MI_FN("mi_realloc",		MS_FN_REALLOC,		FN_ALLOC),
	MI_FN("mi_rezalloc",		MS_FN_REALLOC,		FN_ALLOC),
	MI_FN("mi_realloc_aligned",	MS_FN_REALLOC,		FN_ALLOC),
	MI_FN("mi_realloc_aligned_at",	MS_FN_REALLOC,		FN_ALLOC),
	MI_FN("mi_rezalloc_aligned",	MS_FN_REALLOC,		FN_ALLOC),
	MI_FN("mi_reallocn",		MS_FN_REALLOCARRAY,	FN_ALLOC),
	MI_FN("mi_recalloc",		MS_FN_REALLOCARRAY,	FN_ALLOC),
	MI_FN("mi_reallocarray",	MS_FN_REALLOCARRAY,	FN_ALLOC),
	MI_FN("mi_posix_memalign",	MS_FN_POSIX_MEMALIGN,	FN_ALLOC),
	MI_FN("mi_aligned_alloc",	MS_FN_ALIGNED_ALLOC,	FN_ALLOC),
	MI_FN("mi_memalign",		MS_FN_MEMALIGN,		FN_ALLOC),
	MI_FN("mi_valloc",		MS_FN_VALLOC,		FN_ALLOC),
	MI_FN("mi_pvalloc",		MS_FN_PVALLOC,		FN_ALLOC),
	MI_FN("mi_free",		MS_FN_FREE,		FN_FREE),
	MI_FN("mi_cfree",		MS_FN_FREE,		FN_FREE),
	MI_FN("mi_free_size",		MS_FN_FREE,		FN_FREE),
	MI_FN("mi_free_aligned",	MS_FN_FREE,		FN_FREE),
	MI_FN("mi_free_size_aligned",	MS_FN_FREE,		FN_FREE),
#undef MI_FN
#define MI_CXX(name, fn, fl)	{ name, fn, FN_ALLOC, MS_FAM_NEW, fl }
	MI_CXX("mi_new",		MS_FN_MALLOC,	FNF_THROWS),
	MI_CXX("mi_new_nothrow",	MS_FN_MALLOC,	0),
	MI_CXX("mi_new_aligned",	MS_FN_MALLOC,	FNF_THROWS),
	MI_CXX("mi_new_aligned_nothrow", MS_FN_MALLOC,	0),
	MI_CXX("mi_new_n",		MS_FN_CALLOC,	FNF_THROWS),
#undef MI_CXX
};

#define NR_ALLOC_FNS	(sizeof(alloc_fns) / sizeof(alloc_fns[0]))

/*
 * uprobe_multi links (Linux 6.6+), which libbpf 1.1 cannot create: one
 * link per program and object instead of one perf event per probe, so
 * detaching waits for one grace period per link, not one per probe.
 */
#define MS_BPF_TRACE_UPROBE_MULTI	48
#define MS_BPF_F_UPROBE_MULTI_RETURN	1

/* union bpf_attr's link_create as of 6.6, for BPF_TRACE_UPROBE_MULTI. */
struct uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
	__u32 pad;
};

/*
 * In attach order: returns before entries, so that every entry hit has its
 * return seen and no call is left looking in flight.
 */
enum prog_slot { SLOT_RET, SLOT_ENTER, SLOT_FREE, NR_SLOTS };

/* The probes one object gets, per program, before any is attached. */
struct object_plan {
	__u64 offsets[NR_SLOTS][NR_ALLOC_FNS];
	__u64 cookies[NR_SLOTS][NR_ALLOC_FNS];
	const char *names[NR_SLOTS][NR_ALLOC_FNS];
	__u32 nr[NR_SLOTS];
	bool base;		/* it defines a C allocating function */
};

/* What detaching one attachment takes: a libbpf link or a link fd. */
struct link_item {
	struct bpf_link *link;
	int fd;
};

/*
 * One object we probed, so a second mapping of it is not probed again.
 * Its plan stays until it is linked; with ATTACH_EACH, for good, to link
 * the next process that maps it without reading the file again.
 */
struct seen_object {
	dev_t dev;
	ino_t ino;
	struct object_plan *plan;
	int nr_sites;			/* allocator functions probed */
	bool usdt;			/* it has memscope USDT probes */
	bool linked;			/* linked to some process once */
	__u64 linked_ns;		/* when its allocator probes went in */
};

struct attach {
	struct attach_progs progs;
	int pid;
	bool alloc_only;

	struct link_item *links;
	size_t nr_links, cap_links;
	struct attach_probe *probes;
	size_t nr_probes, cap_probes;
	struct seen_object *seen;
	size_t nr_seen, cap_seen;
	/* ATTACH_EACH: the (object, pid) pairs linked, as seen_key() */
	struct tab_keyed linked;

	char error[512];
	/* USDT probes that could not be attached: skipped, and said once */
	unsigned int usdt_failed;
	char warning[512];
	/* a process's mapping of the tool's own allocator, left unprobed */
	char own_skipped[256];
	__u64 linked_ns;		/* attach__linked_ns() */
};

struct attach *attach__new(const struct attach_progs *progs, int pid,
			   bool alloc_only)
{
	struct attach *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->progs = *progs;
	a->pid = pid;
	a->alloc_only = alloc_only;
	if (tab_keyed_init(&a->linked, sizeof(__u64), 0, 0)) {
		free(a);
		return NULL;
	}
	return a;
}

static void *link_destroy(void *arg)
{
	struct link_item *it = arg;

	if (it->link)
		bpf_link__destroy(it->link);
	else
		close(it->fd);
	return NULL;
}

/*
 * fn on each of the n items of size bytes at base, each from a thread of
 * its own (here, if one cannot be started), all done on return. A detach
 * waits for an RCU grace period (~200 ms for a uprobe here, ~70 ms for a
 * tracepoint): from parallel threads, the waits the kernel does not
 * serialize overlap.
 */
static void each_in_threads(void *base, size_t n, size_t size,
			    void *(*fn)(void *))
{
	pthread_t *th = calloc(n, sizeof(*th));
	bool *started = calloc(n, sizeof(*started));
	char *item = base;
	size_t i;

	for (i = 0; i < n; i++) {
		if (th && started &&
		    !pthread_create(&th[i], NULL, fn, item + i * size))
			started[i] = true;
		else
			fn(item + i * size);
	}
	for (i = 0; th && started && i < n; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	free(th);
	free(started);
}

void attach__detach(struct attach *a)
{
	each_in_threads(a->links, a->nr_links, sizeof(*a->links),
			link_destroy);
	a->nr_links = 0;
}

static void *link_at_destroy(void *arg)
{
	struct bpf_link **l = arg;

	bpf_link__destroy(*l);
	*l = NULL;
	return NULL;
}

void attach__links_destroy(struct bpf_link **links, size_t n)
{
	each_in_threads(links, n, sizeof(*links), link_at_destroy);
}

void attach__free(struct attach *a)
{
	size_t i;

	if (!a)
		return;
	attach__detach(a);
	for (i = 0; i < a->nr_probes; i++) {
		free((char *)a->probes[i].object);
		free((char *)a->probes[i].symbol);
		free((char *)a->probes[i].forwards_to);
		free((char *)a->probes[i].counted_at);
	}
	for (i = 0; i < a->nr_seen; i++)
		free(a->seen[i].plan);
	free(a->links);
	free(a->probes);
	free(a->seen);
	tab_keyed_fini(&a->linked);
	free(a);
}

const struct attach_probe *attach__probes(const struct attach *a, size_t *nr)
{
	*nr = a->nr_probes;
	return a->probes;
}

static const char *const arg_reg_names[] = {
	[MS_REG_RAX] = "rax", [MS_REG_RBX] = "rbx", [MS_REG_RCX] = "rcx",
	[MS_REG_RDX] = "rdx", [MS_REG_RSI] = "rsi", [MS_REG_RDI] = "rdi",
	[MS_REG_R8] = "r8", [MS_REG_R9] = "r9", [MS_REG_R10] = "r10",
	[MS_REG_R11] = "r11", [MS_REG_R12] = "r12", [MS_REG_R13] = "r13",
	[MS_REG_R14] = "r14", [MS_REG_R15] = "r15",
};

/* What -v says of one probe, its line without the newline. */
static void probe_text(FILE *m, const struct attach_probe *p)
{
	size_t j;

	if (p->forwards_to) {
		fprintf(m, "not probed   %s in %s: it reaches other code only through %s, whose probe counts its blocks%s",
			p->symbol, p->object, p->forwards_to,
			p->forward_calls ?
			" (it calls it: its frame is dropped from their stacks)" :
			"");
		return;
	}
	fprintf(m, "probe %-6s %s+%llu (offset 0x%llx) in %s, %s%s%s",
		p->is_return ? "return" : "entry", p->symbol,
		(unsigned long long)p->func_offset,
		(unsigned long long)p->offset, p->object,
		p->emulated ? "emulated" : "single-stepped",
		p->emulated ? "" : ": ",
		p->emulated ? "" : prologue__reason_text(p->reason));
	if (p->counted_at)
		fprintf(m, ", entry only: it may throw, and %s's return counts its blocks",
			p->counted_at);
	if (p->throw_ends)
		fprintf(m, ", may throw: a bad_alloc thrown out of it ends the program (no unwind information for the return probe's trampoline)");
	/* an argument the function moved before the site */
	for (j = 0; j < sizeof(p->arg_reg); j++)
		if (p->arg_reg[j] > MS_REG_ABI && p->arg_reg[j] <= MS_REG_R15)
			fprintf(m, ", argument %zu read from %s", j + 1,
				arg_reg_names[p->arg_reg[j]]);
}

void attach__print_probes(const struct attach *a, FILE *f, const char *who)
{
	char *line = NULL;
	size_t i, len;
	FILE *m;

	fprintf(f, "%s: allocator probes: %s\n", who, a->progs.multi ?
		"uprobe_multi links, one per program and object" :
		"perf-event uprobes, one per probe (no uprobe_multi: Linux before 6.6)");
	for (i = 0; i < a->nr_probes; i++) {
		/*
		 * Made whole, then written escaped: the object's path is the
		 * traced process's.
		 */
		m = open_memstream(&line, &len);
		if (!m)
			return;
		probe_text(m, &a->probes[i]);
		name_put_line(f, who, m, &line);
	}
}

const char *attach__warning(const struct attach *a, unsigned int *nr)
{
	*nr = a->usdt_failed;
	return a->usdt_failed ? a->warning : NULL;
}

const char *attach__own_skipped(const struct attach *a)
{
	return a->own_skipped[0] ? a->own_skipped : NULL;
}

const char *attach__error(const struct attach *a)
{
	return a->error;
}

static int set_error(struct attach *a, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_error(struct attach *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
	return err;
}

static int link_add(struct attach *a, struct bpf_link *l, int fd)
{
	if (tab_grow((void **)&a->links, &a->cap_links, a->nr_links + 1,
		     sizeof(*a->links))) {
		link_destroy(&(struct link_item){ .link = l, .fd = fd });
		return -ENOMEM;
	}
	a->links[a->nr_links].link = l;
	a->links[a->nr_links].fd = fd;
	a->nr_links++;
	return 0;
}

static int link_create_multi(int prog_fd, const char *path,
			     const __u64 *offsets, const __u64 *cookies,
			     __u32 cnt, bool is_return, int pid)
{
	struct uprobe_multi_attr attr = {
		.prog_fd = prog_fd,
		.attach_type = MS_BPF_TRACE_UPROBE_MULTI,
		.path = (unsigned long)path,
		.offsets = (unsigned long)offsets,
		.cookies = (unsigned long)cookies,
		.cnt = cnt,
		.multi_flags = is_return ? MS_BPF_F_UPROBE_MULTI_RETURN : 0,
		/* Every process is 0 here, where perf events take -1. */
		.pid = pid > 0 ? pid : 0,
	};
	int fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));

	return fd < 0 ? -errno : fd;
}

static bool has_uprobe_multi(void)
{
	/* r0 = 0; exit */
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po,
		.expected_attach_type =
			(enum bpf_attach_type)MS_BPF_TRACE_UPROBE_MULTI);
	static const __u64 zero;
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "Dual MIT/GPL",
			     insns, 2, &po);
	if (prog < 0)
		return false;
	/* A kernel that knows the link type refuses "/" as not a file. */
	link = link_create_multi(prog, "/", &zero, NULL, 1, false, 0);
	if (link >= 0)
		close(link);
	close(prog);
	return link == -EBADF;
}

static int probe_note(struct attach *a, const char *object, const char *sym,
		      __u64 offset, const struct prologue_site *site,
		      bool is_return)
{
	struct attach_probe *p;

	if (tab_grow((void **)&a->probes, &a->cap_probes, a->nr_probes + 1,
		     sizeof(*a->probes)))
		return -ENOMEM;
	p = &a->probes[a->nr_probes];
	p->object = strdup(object);
	p->symbol = strdup(sym);
	if (!p->object || !p->symbol) {
		free((char *)p->object);
		free((char *)p->symbol);
		return -ENOMEM;
	}
	p->forwards_to = NULL;
	p->forward_calls = false;
	p->counted_at = NULL;
	p->throw_ends = false;
	p->family = 0;
	p->offset = offset;
	p->func_offset = site->offset;
	p->is_return = is_return;
	p->emulated = site->emulated;
	p->reason = site->reason;
	memcpy(p->arg_reg, site->arg_reg, sizeof(p->arg_reg));
	a->nr_probes++;
	return 0;
}

void attach__prepare(struct attach_progs *progs)
{
	const enum bpf_attach_type type =
		(enum bpf_attach_type)MS_BPF_TRACE_UPROBE_MULTI;

	/*
	 * MEMSCOPE_PERF_UPROBES: the tests' way to the perf-event probes of
	 * kernels before 6.6 (and the attach cookie's helper) on one that
	 * has uprobe_multi.
	 */
	progs->multi = !getenv("MEMSCOPE_PERF_UPROBES") && has_uprobe_multi();
	if (!progs->multi)
		return;
	bpf_program__set_expected_attach_type(progs->enter, type);
	bpf_program__set_expected_attach_type(progs->ret, type);
	bpf_program__set_expected_attach_type(progs->free, type);
}

static int attach_error(struct attach *a, int err, const char *display,
			const char *sym, __u64 offset)
{
	if (err == -ESRCH)
		return set_error(a, err, "no such process");
	return set_error(a, err, "cannot probe %s in %s at 0x%llx: %s", sym,
			 display, (unsigned long long)offset, strerror(-err));
}

/* One program's probes in one object: a multi link, or perf events. */
static int attach_slot(struct attach *a, const struct object_plan *pl,
		       enum prog_slot slot, struct bpf_program *prog,
		       const char *open_path, const char *display, int pid)
{
	bool is_return = slot == SLOT_RET;
	struct bpf_link *l;
	__u32 i;
	int err, fd;

	if (a->progs.multi) {
		fd = link_create_multi(bpf_program__fd(prog), open_path,
				       pl->offsets[slot], pl->cookies[slot],
				       pl->nr[slot], is_return, pid);
		if (fd < 0)
			return attach_error(a, fd, display,
					    pl->names[slot][0],
					    pl->offsets[slot][0]);
		return link_add(a, NULL, fd);
	}
	for (i = 0; i < pl->nr[slot]; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = is_return,
			    .bpf_cookie = pl->cookies[slot][i]);

		l = bpf_program__attach_uprobe_opts(prog, pid, open_path,
						    pl->offsets[slot][i], &uo);
		if (!l)
			return attach_error(a, -errno, display,
					    pl->names[slot][i],
					    pl->offsets[slot][i]);
		err = link_add(a, l, -1);
		if (err)
			return err;
	}
	return 0;
}

static int plan_add(struct attach *a, struct object_plan *pl,
		    enum prog_slot slot, const struct alloc_fn *af,
		    __u64 cookie, __u64 offset,
		    const struct prologue_site *site, const char *display)
{
	unsigned int i;

	pl->offsets[slot][pl->nr[slot]] = offset;
	pl->cookies[slot][pl->nr[slot]] = cookie;
	for (i = 0; i < sizeof(site->arg_reg); i++)
		pl->cookies[slot][pl->nr[slot]] |= (__u64)site->arg_reg[i] <<
			(MS_COOKIE_ARG_SHIFT + i * MS_COOKIE_ARG_BITS);
	pl->names[slot][pl->nr[slot]] = af->name;
	pl->nr[slot]++;
	return probe_note(a, display, af->name, offset, site,
			  slot == SLOT_RET);
}

#define A1	PROLOGUE_RDI
#define A2	PROLOGUE_RSI
#define A3	PROLOGUE_RDX

/*
 * The arguments the BPF programs read of each shape (args_read(),
 * ms_free_enter), which the probe's site must still find in some
 * register. Alignments are not read.
 */
static unsigned int fn_args(enum ms_fn fn)
{
	switch (fn) {
	case MS_FN_CALLOC:
	case MS_FN_REALLOC:
	case MS_FN_XALLOCX:
		return A1 | A2;
	case MS_FN_REALLOCARRAY:
		return A1 | A2 | A3;
	case MS_FN_RUST_REALLOC:	/* the pointer, and the new size in rcx */
		return A1 | PROLOGUE_RCX;
	case MS_FN_POSIX_MEMALIGN:
		return A1 | A3;
	case MS_FN_ALIGNED_ALLOC:
	case MS_FN_MEMALIGN:
		return A2;
	default:	/* malloc-like, free-like */
		return A1;
	}
}

/*
 * Where a probe goes: decided on the whole function (its symbol's size),
 * given what the program reads. One without a size, larger than
 * PROLOGUE_MAX_BYTES or reaching past the file is probed at its entry:
 * its first instruction is all that is known of it.
 */
static int place(struct elf_file *ef, const struct elf_func *f,
		 unsigned int needs, struct prologue_site *site)
{
	unsigned char *code = elf_file__func_code(ef, f, PROLOGUE_MAX_BYTES);
	unsigned char first[15];
	int err;

	if (!code && errno == ENOMEM)
		return -ENOMEM;
	if (code) {
		err = prologue__place(code, f->size, needs, site);
		free(code);
		return err;
	}
	site->offset = 0;
	memset(site->arg_reg, MS_REG_ABI, sizeof(site->arg_reg));
	site->emulated = !elf_file__read(ef, f->file_offset, first,
					 sizeof(first)) &&
			 prologue__emulated(first, sizeof(first));
	site->reason = site->emulated ? PROLOGUE_NONE :
		       f->size > PROLOGUE_MAX_BYTES ? PROLOGUE_TOO_LARGE :
						      PROLOGUE_NO_CODE;
	return 0;
}

static int find_fn(struct elf_file *ef, const struct alloc_fn *af,
		   struct elf_func *f)
{
	if (!elf_file__find_func(ef, af->name, f))
		return 0;
	if (af->flags & FNF_RUST)
		return elf_file__find_rust_func(ef, af->name, f);
	return -ENOENT;
}

/*
 * An allocating function whose every way to other code is one allocating
 * function of its own family: operator new(size_t, nothrow_t) calls
 * operator new through the PLT ("sub $8,%rsp" first, so no emulated site
 * keeps the return address at *sp), glibc's reallocarray multiplies
 * (writing rdx) and jumps to realloc. That function's probe counts the
 * block, in the same family, and with the caller's arguments as it
 * needs them; probing the wrapper too would only single-step every call.
 * A wrapper that calls leaves its frame first in the stacks taken there:
 * *calls says so, and the intake drops that frame (forwarders.h). Fills
 * name with the function reached: 0, or -ENOENT.
 */
static int forwards_to(struct elf_file *ef, const struct elf_func *f,
		       const struct alloc_fn *af, char *name, size_t len,
		       bool *calls)
{
	unsigned char *code;
	struct elf_func g;
	__u64 vaddr;
	__s64 to;
	size_t i;
	int err;

	code = elf_file__func_code(ef, f, PROLOGUE_MAX_BYTES);
	if (!code)
		return -ENOENT;
	err = prologue__exit(code, f->size, &to, calls);
	free(code);
	if (err)
		return -ENOENT;
	vaddr = f->vaddr + (__u64)to;
	/* through the PLT: whichever object defines the name, it is probed */
	if (elf_file__plt_import(ef, vaddr, name, len))
		name[0] = '\0';
	for (i = 0; i < NR_ALLOC_FNS; i++) {
		const struct alloc_fn *t = &alloc_fns[i];

		if (t == af || t->kind != FN_ALLOC || t->family != af->family)
			continue;
		if (name[0] ? !strcmp(name, t->name) :
			      (!find_fn(ef, t, &g) && g.vaddr == vaddr)) {
			snprintf(name, len, "%s", t->name);
			return 0;
		}
	}
	return -ENOENT;
}

/* A function left unprobed, said in -v and the report's probes. */
static int forward_note(struct attach *a, const char *object,
			const struct alloc_fn *af, const struct elf_func *f,
			const char *to, bool calls)
{
	static const struct prologue_site none = { .reason = PROLOGUE_NONE };
	struct attach_probe *p;
	int err;

	err = probe_note(a, object, af->name, f->file_offset, &none, false);
	if (err)
		return err;
	p = &a->probes[a->nr_probes - 1];
	p->forward_calls = calls;
	p->family = af->family;
	p->forwards_to = strdup(to);
	return p->forwards_to ? 0 : -ENOMEM;
}

/* The C API's allocating shapes whose return probe counts a new block. */
static bool inner_allocator(const char *name)
{
	size_t i;

	for (i = 0; i < NR_ALLOC_FNS; i++) {
		const struct alloc_fn *t = &alloc_fns[i];

		/* a realloc may move a block it did not make */
		if (t->family == MS_FAM_MALLOC && t->kind == FN_ALLOC &&
		    t->fn != MS_FN_REALLOC && t->fn != MS_FN_REALLOCARRAY &&
		    !strcmp(t->name, name))
			return true;
	}
	return false;
}

static bool throwing(const char *name)
{
	size_t i;

	for (i = 0; i < NR_ALLOC_FNS; i++)
		if ((alloc_fns[i].flags & FNF_THROWS) &&
		    !strcmp(alloc_fns[i].name, name))
			return true;
	return false;
}

/* The probe just noted is a layer's: what counts its blocks. */
static int layer_note(struct attach *a, const struct alloc_fn *af,
		      const char *at)
{
	struct attach_probe *p = &a->probes[a->nr_probes - 1];

	p->family = af->family;
	p->counted_at = strdup(at);
	return p->counted_at ? 0 : -ENOMEM;
}

/* Families whose blocks one another's frees may not take, as bits. */
static unsigned int family_class(enum ms_family fam)
{
	return ms_family_is_c(fam) ? 1u : 2u << fam;
}

/* One address to probe, the functions of the table found there. */
struct fn_site {
	const struct alloc_fn *af;	/* the first: names and types it */
	struct elf_func f;
	unsigned int classes;		/* family_class() of every name */
};

/*
 * Plans the probes of every allocator function an object defines, obj
 * being its number among the objects probed (the allocator a block's tag
 * names). Names at one address are one probe (see alloc_fns[]). Returns
 * how many functions were planned, or -errno.
 */
static int plan_allocators(struct attach *a, struct elf_file *ef,
			   const char *display, unsigned int obj,
			   struct object_plan *pl)
{
	struct fn_site sites[NR_ALLOC_FNS];
	size_t i, j, nr_sites = 0;
	int err = 0;

	for (i = 0; i < NR_ALLOC_FNS; i++) {
		const struct alloc_fn *af = &alloc_fns[i];
		struct elf_func f;

		if (af->kind == FN_FREE && a->alloc_only)
			continue;
		if (find_fn(ef, af, &f))
			continue;
		for (j = 0; j < nr_sites; j++)
			if (sites[j].f.file_offset == f.file_offset)
				break;
		if (j == nr_sites)
			sites[nr_sites++] = (struct fn_site){ .af = af, .f = f };
		sites[j].classes |= family_class(af->family);
		if (af->kind == FN_ALLOC && ms_family_is_c(af->family))
			pl->base = true;
	}
	for (i = 0; i < nr_sites && !err; i++) {
		const struct alloc_fn *af = sites[i].af;
		const struct elf_func *f = &sites[i].f;
		struct prologue_site site;
		__u64 off, tag, cookie;
		unsigned int span;
		char fwd[128];
		bool calls;

		tag = af->family | ((__u64)(obj & 0xffff) << MS_TAG_OBJ_SHIFT);
		/* More than one class of family at one address: any matches. */
		if (sites[i].classes & (sites[i].classes - 1))
			tag |= MS_TAG_ANY;
		cookie = af->fn | tag << MS_COOKIE_TAG_SHIFT |
			 (__u64)(af - alloc_fns) << MS_COOKIE_ROW_SHIFT;
		/*
		 * Free-like: NULL frees not wanted. Both kinds: the return
		 * address at *sp, where the return probe hangs, and where the
		 * free's layer check and its caller's object are read.
		 */
		if (af->kind == FN_FREE) {
			err = place(ef, f, fn_args(af->fn) |
				    PROLOGUE_SKIP_NULL_CHECK |
				    PROLOGUE_RET_AT_SP, &site);
			if (err)
				break;
			off = f->file_offset + site.offset;
			err = plan_add(a, pl, SLOT_FREE, af, cookie, off,
				       &site, display);
			continue;
		}
		err = place(ef, f, fn_args(af->fn) | PROLOGUE_RET_AT_SP, &site);
		if (err)
			break;
		if (!site.emulated &&
		    !forwards_to(ef, f, af, fwd, sizeof(fwd), &calls)) {
			err = forward_note(a, display, af, f, fwd, calls);
			continue;
		}
		off = f->file_offset + site.offset;
		/* the span rides in argument bits only the malloc shape frees */
		if (!a->alloc_only && af->fn == MS_FN_MALLOC &&
		    (af->flags & FNF_THROWS) &&
		    !layer__of(ef, f, site.offset, inner_allocator, throwing,
			       fwd, sizeof(fwd), &span)) {
			cookie |= (__u64)span << MS_COOKIE_SPAN_SHIFT;
			err = plan_add(a, pl, SLOT_ENTER, af, cookie, off,
				       &site, display);
			if (!err)
				err = layer_note(a, af, fwd);
			continue;
		}
		err = plan_add(a, pl, SLOT_ENTER, af, cookie, off, &site,
			       display);
		if (!err && !a->alloc_only)
			err = plan_add(a, pl, SLOT_RET, af, cookie, off,
				       &site, display);
		if (!err && !a->alloc_only && (af->flags & FNF_THROWS))
			a->probes[a->nr_probes - 1].throw_ends = true;
	}
	return err ? err : (int)nr_sites;
}

/* An object's planned probes, as links filtered to pid (-1: every process). */
static int link_allocators(struct attach *a, const struct object_plan *pl,
			   const char *open_path, const char *display, int pid)
{
	struct bpf_program *progs[NR_SLOTS] = {
		[SLOT_RET] = a->progs.ret,
		[SLOT_ENTER] = a->progs.enter,
		[SLOT_FREE] = a->progs.free,
	};
	int i, err = 0;

	for (i = 0; i < NR_SLOTS && !err; i++)
		if (pl->nr[i])
			err = attach_slot(a, pl, i, progs[i], open_path,
					  display, pid);
	return err;
}

/*
 * The file's entry among the objects seen, added the first time (*added
 * set): mapped twice, probed once. Its number (index + 1) is the
 * allocator a block's tag names, the same in every process.
 */
/* The object of dev and ino read before, or NULL. */
static struct seen_object *seen_find(const struct attach *a, dev_t dev,
				     ino_t ino)
{
	size_t i;

	for (i = 0; i < a->nr_seen; i++)
		if (a->seen[i].dev == dev && a->seen[i].ino == ino)
			return &a->seen[i];
	return NULL;
}

static struct seen_object *first_sight(struct attach *a, const char *path,
				       bool *added)
{
	struct seen_object *so;
	struct stat st;

	*added = false;
	if (stat(path, &st))
		return NULL;
	so = seen_find(a, st.st_dev, st.st_ino);
	if (so)
		return so;
	if (tab_grow((void **)&a->seen, &a->cap_seen, a->nr_seen + 1,
		     sizeof(*a->seen))) {
		errno = ENOMEM;
		return NULL;
	}
	a->seen[a->nr_seen] = (struct seen_object){
		.dev = st.st_dev, .ino = st.st_ino,
	};
	*added = true;
	return &a->seen[a->nr_seen++];
}

/* The key of an object's links to one process (the traced one, or -1). */
static __u64 seen_key(const struct attach *a, const struct seen_object *so,
		      int pid)
{
	return (__u64)(so - a->seen + 1) << 32 | (__u32)pid;
}

static const char *const usdt_names[NR_USDT] = {
#define USDT_NAME(name)		[USDT_##name] = #name,
	ATTACH_USDT_PROBES(USDT_NAME)
#undef USDT_NAME
};

/*
 * Every memscope USDT probe the object carries; libbpf reads the notes,
 * argument specs and semaphores. A probe the object lacks is not an error.
 */
static int probe_usdt(struct attach *a, const char *open_path,
		      const char *display, int pid, bool note)
{
	static const struct prologue_site nop_site = {
		.emulated = true, .reason = PROLOGUE_NONE,
	};
	char sym[64];
	struct bpf_link *l;
	int i, err;

	for (i = 0; i < NR_USDT; i++) {
		l = bpf_program__attach_usdt(a->progs.usdt[i], pid,
					     open_path, USDT_PROVIDER,
					     usdt_names[i], NULL);
		if (!l) {
			err = -errno;
			if (err == -ENOENT)
				continue;
			/*
			 * A probe libbpf cannot attach (an argument spec it
			 * cannot read, say) costs its declarations, not the
			 * allocation trace.
			 */
			if (note && !a->usdt_failed++)
				snprintf(a->warning, sizeof(a->warning),
					 "usdt %s:%s in %s: %s", USDT_PROVIDER,
					 usdt_names[i], display, strerror(-err));
			continue;
		}
		err = link_add(a, l, -1);
		if (err || !note)
			return err;
		snprintf(sym, sizeof(sym), "usdt:%s:%s", USDT_PROVIDER,
			 usdt_names[i]);
		err = probe_note(a, display, sym, 0, &nop_site, false);
		if (err)
			return err;
	}
	return 0;
}

/*
 * An object seen the first time, its file ef: its allocator functions'
 * probes and whether it has memscope USDT probes. Returns how many
 * allocator functions were planned, or -errno.
 */
static int plan_path(struct attach *a, struct seen_object *so,
		     struct elf_file *ef, const char *display)
{
	struct object_plan *pl;
	int n;

	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	n = plan_allocators(a, ef, display, a->nr_seen, pl);
	so->usdt = n >= 0 && a->progs.usdt[0] &&
		   elf_file__has_usdt(ef, USDT_PROVIDER);
	if (n < 0) {
		free(pl);
		return n;
	}
	so->plan = pl;
	so->nr_sites = n;
	return n;
}

/*
 * Probes one object, filtered to pid (-1: every process): its allocator
 * functions, and its memscope USDT probes. An object is read once, and
 * linked once per process (ATTACH_EACH) or once (otherwise). With
 * layers_first, an object that defines the C allocator is left for a
 * second call: see attach__process(). Returns how many allocator
 * functions were linked, or -errno.
 */
static int probe_path(struct attach *a, const char *open_path,
		      const char *display, int pid, bool layers_first)
{
	struct seen_object *so;
	struct elf_file *ef;
	bool added;
	__u64 key;
	int err;

	so = first_sight(a, open_path, &added);
	if (!so)
		return -errno;
	if (added) {
		ef = elf_file__open(open_path);
		if (!ef) {
			err = -errno;
			/*
			 * Its path went with its process (a short program
			 * that exited between the stat and the open): it is
			 * forgotten, for the next process that maps it to
			 * have it read. Kept as seen with no plan, no later
			 * run of the file was probed.
			 */
			if (err == -ENOENT || err == -ESRCH)
				a->nr_seen--;
			return set_error(a, err, "cannot read %s: %s", display,
					 strerror(-err));
		}
		err = plan_path(a, so, ef, display);
		elf_file__free(ef);
		if (err < 0)
			return err;
	}
	key = seen_key(a, so, pid);
	if (so->linked_ns > a->linked_ns)
		a->linked_ns = so->linked_ns;
	if (!so->plan || (layers_first && so->plan->base) ||
	    tab_keyed_get(&a->linked, key))
		return 0;
	if (tab_keyed_reserve(&a->linked))
		return -ENOMEM;
	err = link_allocators(a, so->plan, open_path, display, pid);
	/* the probes are noted (-v, the report) the first time only */
	if (!err && so->usdt)
		err = probe_usdt(a, open_path, display, pid, !so->linked);
	if (err)
		return err;
	so->linked = true;
	if (so->nr_sites && !so->linked_ns) {
		so->linked_ns = mono_ns();
		a->linked_ns = so->linked_ns;
	}
	tab_keyed_add(&a->linked, key);
	if (a->pid != ATTACH_EACH) {
		free(so->plan);
		so->plan = NULL;
	}
	return so->nr_sites;
}

/*
 * What probe_path() returns of an object there is nothing to probe in,
 * which is no error of the attach: it vanished, may not be read, or holds
 * no ELF. Its callers say why each comes.
 */
static bool nothing_to_probe(int err)
{
	return err == -ENOENT || err == -EACCES || err == -ENOEXEC;
}

/*
 * The file whose malloc this tool calls: the allocator linked into the
 * program (the ASan build's is ASan's). It serves the tool alone, and is
 * never probed: a set probes the allocators the tool maps, and a probe
 * there would trap at each of the tool's own allocations (libdw's,
 * millions while it compiles a big object's CFI), where libc's, which
 * the tool maps but does not call, costs it nothing. st_ino 0: unknown.
 */
static void own_allocator(struct stat *st)
{
	void *(*self_malloc)(size_t) = malloc;
	Dl_info info;

	if (!dladdr((void *)self_malloc, &info) || !info.dli_fname ||
	    stat(info.dli_fname[0] == '/' ? info.dli_fname : "/proc/self/exe", st))
		st->st_ino = 0;
}

/* Whether process pid runs a Go program (its executable's .gopclntab). */
static bool is_go_program(int pid)
{
	char exe[64];
	struct elf_file *ef;
	bool go;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	ef = elf_file__open(exe);
	go = ef && elf_file__is_go(ef);
	elf_file__free(ef);
	return go;
}

/*
 * A running process's objects, in two rounds: the layers over the C
 * allocator first (libstdc++'s new and delete, a Rust program's
 * __rust_alloc), then what defines malloc and free. A call to a layer
 * that straddles the start is then seen whole, the layer's probe in
 * before its inner malloc's: the other way round, a new in flight when
 * malloc's probes went in made a block counted as malloc's, which its
 * delete freed as a mismatch (attach_busy_cxx_pid).
 */
int attach__process(struct attach *a, int pid)
{
	char open_path[PATH_MAX], exe[32], kind[64], state;
	const char *what;
	struct stat self;
	struct procmaps *m;
	size_t i, n;
	int err = 0, found = 0, r, round;

	a->linked_ns = 0;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (access(exe, F_OK) && errno == ENOENT) {
		/*
		 * The directory is there but no executable: a process that
		 * exited and waits for its parent, or a kernel thread.
		 */
		if (procinfo_read_task(pid, NULL, &state, NULL))
			return set_error(a, -ESRCH, "no such process");
		if (state == 'Z' || state == 'X')
			return set_error(a, -ESRCH,
					 "it has exited (a zombie its parent has not reaped): nothing to trace");
		return set_error(a, -EPERM,
				 "it is a kernel thread, which has no heap to trace");
	}
	what = elf_path_foreign(exe, kind, sizeof(kind));
	if (what)
		return set_error(a, -ENOEXEC, "it runs %s: %s", what,
				 FOREIGN_WHY);
	m = procmaps__read(pid);
	if (!m)
		return set_error(a, -errno, "cannot read its memory map: %s",
				 errno == ESRCH ? "no such process" :
						  strerror(errno));
	n = procmaps__count(m);
	own_allocator(&self);
	for (round = 0; round < 2 && !err; round++) {
		for (i = 0; i < n; i++) {
			const struct procmap *pm = procmaps__get(m, i);

			if (!pm->inode || !pm->path || pm->perms[2] != 'x')
				continue;
			if (pm->inode == self.st_ino &&
			    pm->dev == self.st_dev) {
				/*
				 * A process named by -p that is another copy
				 * of this tool, or a program of the ASan
				 * build's runtime: what it allocates there
				 * goes unseen, which a user must hear.
				 */
				if (a->pid != ATTACH_ANY)
					snprintf(a->own_skipped,
						 sizeof(a->own_skipped), "%s",
						 pm->path);
				continue;
			}
			if (procmap_path(pid, pm, open_path, sizeof(open_path)))
				continue;
			r = probe_path(a, open_path, pm->path,
				       a->pid == ATTACH_EACH ? pid : a->pid,
				       round == 0);
			/*
			 * A mapping that vanished or is unreadable is no error,
			 * nor is one that holds no ELF (a JIT's code in a
			 * memfd, a data file mapped executable): the tree
			 * before refused such a process, or under -a probed
			 * none of the objects it maps after that one.
			 */
			if (nothing_to_probe(r))
				continue;
			if (r < 0) {
				err = r;
				break;
			}
			found += r;
		}
	}
	procmaps__free(m);
	if (!err && !found)
		err = set_error(a, -ENOENT,
				"no allocator symbols (malloc, free...) in any object it maps%s",
				is_go_program(pid) ? ": " GO_WHY :
						     "; is it stripped and static?");
	return err;
}

bool attach__file_done(const struct attach *a, dev_t dev, __u64 ino)
{
	const struct seen_object *so = seen_find(a, dev, ino);

	/* as probe_path() finds it: no plan left, none made or all linked */
	return so && !so->plan && a->pid != ATTACH_EACH;
}

int attach__file(struct attach *a, const char *open_path,
		 const char *display)
{
	struct stat self, st;

	own_allocator(&self);
	if (stat(open_path, &st))
		return -errno;
	if (self.st_ino && st.st_ino == self.st_ino &&
	    st.st_dev == self.st_dev)
		return 0;
	return probe_path(a, open_path, display, a->pid, false);
}

size_t attach__nr_links(const struct attach *a)
{
	return a->nr_links;
}

__u64 attach__linked_ns(const struct attach *a)
{
	return a->linked_ns;
}

/* What finding the libraries of one executable needs. */
struct lib_search {
	struct attach *a;
	struct deps_paths paths;
	int found;		/* allocator functions probed */
	int err;
};

/* A direct dependency: its allocators and its USDT probes, if any. */
static int probe_needed(const char *name, void *ctx)
{
	struct lib_search *ls = ctx;
	char path[PATH_MAX];
	int r;

	/* One the dynamic linker would not find either is not ours to flag. */
	if (!deps__find_lib(&ls->paths, name, path, sizeof(path)))
		return 0;
	r = probe_path(ls->a, path, path, ls->a->pid, false);
	/*
	 * Not an ELF (musl's NEEDED libc.so found as glibc's linker script):
	 * the dynamic linker passes over it too, and what it does map is
	 * probed when it maps it.
	 */
	if (r < 0 && !nothing_to_probe(r)) {
		ls->err = r;
		return 1;
	}
	if (r > 0)
		ls->found += r;
	return 0;
}

/*
 * Before exec nothing is mapped yet: the executable, its preloads, its
 * direct dependencies (USDT libraries among them) and the libc the
 * dynamic linker will load are probed from their files.
 */
static int probe_dependencies(struct attach *a, struct elf_file *ef,
			      const char *path, struct lib_search *ls)
{
	char libc[PATH_MAX];
	int r;

	ls->a = a;
	deps__paths(&ls->paths, ef, path);

	/* Preloaded allocators interpose on libc's: probe them too. */
	deps__each_preload(probe_needed, ls);
	if (!ls->err)
		elf_file__dynamic_strs(ef, DT_NEEDED, probe_needed, ls);
	if (ls->err)
		return ls->err;
	/*
	 * glibc's libc.so.6; else the dynamic linker itself, which is the C
	 * library in musl (ld-musl-x86_64.so.1 is its libc.so).
	 */
	if (!deps__find_lib(&ls->paths, "libc.so.6", libc, sizeof(libc)) &&
	    elf_file__interp(ef, libc, sizeof(libc)))
		return set_error(a, -ENOENT,
				 "no libc.so.6 and no dynamic linker found for %s",
				 path);
	r = probe_path(a, libc, libc, a->pid, false);
	if (r < 0)
		return r;
	ls->found += r;
	return 0;
}

int attach__command(struct attach *a, const char *path)
{
	char interp[PATH_MAX], kind[64];
	const char *what, *script;
	struct lib_search ls = {};
	struct elf_file *ef;
	bool dynamic;
	int found, err = 0;

	/* One level, as the kernel takes: an interpreter is no script. */
	err = deps__script_interp(path, interp, sizeof(interp));
	if (err < 0)
		return set_error(a, err, "cannot read %s: %s", path,
				 strerror(-err));
	script = err ? path : NULL;
	if (script)
		path = interp;
	err = 0;

	what = elf_path_foreign(path, kind, sizeof(kind));
	if (what)
		return set_error(a, -ENOEXEC, "%s is %s: %s", path, what,
				 FOREIGN_WHY);
	ef = elf_file__open(path);
	if (!ef && errno == ENOEXEC && !script)
		return set_error(a, -ENOEXEC,
				 "%s is neither an ELF program nor a #! script (the kernel runs neither: give its interpreter, -- sh %s)",
				 path, path);
	if (!ef)
		return set_error(a, -errno, "cannot read %s%s%s: %s",
				 script ? script : "",
				 script ? "'s interpreter " : "", path,
				 strerror(errno));
	/* A static build allocates through the executable alone. */
	found = probe_path(a, path, path, a->pid, false);
	if (found < 0) {
		elf_file__free(ef);
		return found;
	}
	dynamic = elf_file__is_dynamic(ef);
	if (dynamic)
		err = probe_dependencies(a, ef, path, &ls);
	if (!err && !found && !ls.found) {
		const char *why = dynamic ? " or its libraries" :
		      elf_file__is_go(ef) ? ": " GO_WHY :
		      elf_file__has_symbols(ef) == 1 ?
		      ": a static build that links no allocator it knows" :
		      ": a static build without symbols cannot be traced";
		err = set_error(a, -ENOENT,
				"no allocator symbols (malloc, free...) in %s%s",
				path, why);
	}
	elf_file__free(ef);
	return err;
}
