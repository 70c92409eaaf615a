/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What to probe and where. The only module that reads ELF files and
 * /proc/PID/maps for probing: it finds the objects a process allocates
 * through, the allocator functions they define, places each probe on the
 * cheapest safe instruction, and attaches the BPF programs there.
 */
#ifndef MEMSCOPE_ATTACH_H
#define MEMSCOPE_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <sys/types.h>

struct bpf_link;
struct bpf_program;
struct attach;

/* One attached probe, for -v and the JSON report. */
struct attach_probe {
	const char *object;
	const char *symbol;
	__u64 offset;		/* file offset of the probe */
	__u64 func_offset;	/* bytes into the function */
	bool is_return;
	bool emulated;		/* the kernel emulates the probed instruction */
	/* enum prologue_reason: why not emulated (PROLOGUE_NONE if it is) */
	unsigned int reason;
	/* enum ms_arg_reg: where the first three arguments are read (-v) */
	__u8 arg_reg[3];
	/*
	 * Not probed: the function reaches other code only through this
	 * allocating function of its family, whose probe counts its blocks
	 * (attach.c, forwards_to()). NULL for a probe.
	 */
	const char *forwards_to;
	/*
	 * It calls that function (rather than jumping to it): its frame
	 * stands first in the stacks that function's probe takes.
	 */
	bool forward_calls;
	unsigned int family;	/* a forwarder's enum ms_family */
	/*
	 * A layer, probed at its entry only because it may throw: the
	 * allocating function whose return counts its blocks ("malloc"), or
	 * the layer it jumps to (attach.c, layer_of()). NULL otherwise.
	 */
	const char *counted_at;
	/*
	 * A return probe on a function that may throw: an exception thrown
	 * out of it ends the traced program (std::terminate).
	 */
	bool throw_ends;
};

/*
 * The memscope USDT probes (include/memscope.h), one BPF program each:
 * X(name) for the probe memscope:name and its program ms_name in
 * bpf/memscope.bpf.c. This list makes the enum below, the probe names
 * attach looks for and the program table trace.c hands over; a probe
 * added here without its BPF program does not compile.
 */
#define ATTACH_USDT_PROBES(X)						\
	X(track)							\
	X(untrack)							\
	X(share)							\
	X(unshare)							\
	X(task_create)							\
	X(task_enter)							\
	X(task_leave)							\
	X(task_complete)						\
	X(passport_create)						\
	X(passport_handover)						\
	X(passport_reclaim)						\
	X(passport_free)

enum attach_usdt {
#define ATTACH_USDT_ENUM(name)	USDT_##name,
	ATTACH_USDT_PROBES(ATTACH_USDT_ENUM)
#undef ATTACH_USDT_ENUM
	NR_USDT,
};

struct attach_progs {
	struct bpf_program *enter;	/* allocation entry (cookie: ms_fn) */
	struct bpf_program *ret;	/* allocation return */
	struct bpf_program *free;	/* free entry */
	struct bpf_program *usdt[NR_USDT];	/* NULL: no USDT probing */
	/* loaded for uprobe_multi links (attach__has_uprobe_multi()) */
	bool multi;
};

/*
 * Between open and load: uses uprobe_multi links when the kernel has them
 * (the programs must be loaded for that attach type), and sets multi.
 */
void attach__prepare(struct attach_progs *progs);

/*
 * attach__new()'s pid for a traced set. ATTACH_ANY: each file is probed
 * once for every process, and the BPF side filters, so every process
 * that calls a probed function pays the trap (what following children
 * and selections by name or cgroup need: a fork inherits no filtered
 * probe). ATTACH_EACH: each file is probed once for each process
 * attach__process() names, filtered to it (a -p list), so no other
 * process pays anything.
 */
#define ATTACH_ANY	(-1)
#define ATTACH_EACH	0

/*
 * pid: the process every probe is filtered to, or ATTACH_ANY or
 * ATTACH_EACH for a traced set.
 */
struct attach *attach__new(const struct attach_progs *progs, int pid,
			   bool alloc_only);
/* Detaches every probe (also done by free). */
void attach__detach(struct attach *a);
/*
 * Destroys the n links (NULL ones skipped) as attach__detach() does its
 * own, in parallel, and NULLs them: the tracer's syscall tracepoints took
 * ~70 ms each, one after the other.
 */
void attach__links_destroy(struct bpf_link **links, size_t n);
void attach__free(struct attach *a);

/*
 * A running process: every executable object it maps that defines an
 * allocator function, each file (device and inode) once, opened through
 * the process's root. 0, or -errno (-ESRCH gone, -ENOENT: no allocator
 * symbols in any mapped object it has not probed yet, -EPERM: a kernel
 * thread).
 */
int attach__process(struct attach *a, int pid);

/*
 * A process about to exec path: its executable when it defines the
 * allocator itself (static builds), else the libc the dynamic linker will
 * load and any LD_PRELOAD objects. 0 or -errno.
 */
int attach__command(struct attach *a, const char *path);

/*
 * A file outside any process's maps, opened at open_path and named
 * display: one a process may run later (an earlier trace saw it run), or
 * the program of one gone before its maps could be read. Probed now where
 * it defines allocator functions; not the tool's own allocator. Returns
 * how many allocator functions it probed now (0: none, or probed
 * already), or -errno.
 */
int attach__file(struct attach *a, const char *open_path,
		 const char *display);
/*
 * Whether attach__file() of the file of dev and ino would do nothing
 * now (it was read, and probed where it defines an allocator): known
 * without opening it. Not for ATTACH_EACH, whose probes are per process.
 */
bool attach__file_done(const struct attach *a, dev_t dev, __u64 ino);

/*
 * How many probe links are in so far: a caller that sees it grow across
 * attach__process() knows the process mapped an object probed only then.
 */
size_t attach__nr_links(const struct attach *a);

/*
 * When the allocator probes of the objects the last attach__process()
 * found went in, the latest (CLOCK_MONOTONIC; 0 none): a process that
 * began running one before ran it unprobed until then, though another
 * process's attach placed them (two cc1 of a make -j2).
 */
__u64 attach__linked_ns(const struct attach *a);

/* The probes attached so far, for -v and the report. */
const struct attach_probe *attach__probes(const struct attach *a, size_t *nr);

/* -v: one line per probe, "WHO: probe entry malloc+0 (offset ...) ...". */
void attach__print_probes(const struct attach *a, FILE *f, const char *who);

/* USDT probes skipped because they could not attach: how many, the first. */
const char *attach__warning(const struct attach *a, unsigned int *nr);

/*
 * The object of the traced process (-p) that is the allocator this tool
 * calls itself, and so was not probed (own_allocator() in attach.c), or
 * NULL.
 */
const char *attach__own_skipped(const struct attach *a);

/* One line naming what failed, for the caller's error message. */
const char *attach__error(const struct attach *a);

#endif /* MEMSCOPE_ATTACH_H */
