/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The one ABI between the BPF programs and userspace: records on the ring
 * buffer, the same records in a recording file, and the exact counters the
 * kernel keeps. Fixed-width fields only; no libc includes, so both sides
 * (and vmlinux.h users) can include it.
 */
#ifndef MEMSCOPE_EVENTS_H
#define MEMSCOPE_EVENTS_H

/*
 * Frames a captured user stack may hold: the most --max-depth allows.
 * Deeper stacks are cut and flagged (MS_EVF_STACK_TRUNC, MS_STOP_DEPTH).
 */
#define MS_MAX_STACK		256
/*
 * Frames walked by default (--max-depth): as deep as perf and the
 * profilers built on it go (127); at 64 a python3 that imports a few
 * modules had 60% of its stacks cut (the import machinery recurses in C).
 */
#define MS_DEFAULT_DEPTH	128
/* Bytes kept of a string a program declares (name, type, side), with NUL. */
#define MS_STR_MAX		64
/* Nested task scopes a thread keeps; deeper enters are counted, not kept. */
#define MS_TASK_DEPTH		8

/*
 * Allocator entry points, as probed: each value says how the entry probe
 * reads the call's arguments and what its return means, for every family
 * whose function has that shape (enum ms_family says which API it was;
 * attach.c's alloc_fns[] maps names to both). Values are part of the
 * record format: new ones go at the end.
 *
 *   MALLOC          size rdi (new, new[], mallocx, __rust_alloc, ...)
 *   CALLOC          count rdi, size rsi
 *   REALLOC         ptr rdi, size rsi (rallocx, mi_rezalloc, ...)
 *   REALLOCARRAY    ptr rdi, count rsi, size rdx
 *   FREE            ptr rdi (every delete, dallocx, __rust_dealloc, ...)
 *   POSIX_MEMALIGN  memptr rdi, size rdx; the block is *memptr on 0
 *   ALIGNED_ALLOC, MEMALIGN  size rsi
 *   VALLOC, PVALLOC size rdi
 *   RUST_REALLOC    ptr rdi, new size rcx (old size rsi, align rdx)
 *   XALLOCX         ptr rdi, size rsi: resizes in place and returns the
 *                   block's new size, never another pointer
 */
enum ms_fn {
	MS_FN_NONE = 0,
	MS_FN_MALLOC,
	MS_FN_CALLOC,
	MS_FN_REALLOC,
	MS_FN_REALLOCARRAY,
	MS_FN_FREE,
	MS_FN_POSIX_MEMALIGN,
	MS_FN_ALIGNED_ALLOC,
	MS_FN_MEMALIGN,
	MS_FN_VALLOC,
	MS_FN_PVALLOC,
	MS_FN_RUST_REALLOC,
	MS_FN_XALLOCX,
	MS_FN__COUNT,
};

/*
 * An allocator probe's attach cookie: the enum ms_fn in its low 8 bits
 * (MS_COOKIE_FN), then for each of the first three arguments 4 bits
 * naming the register that holds it at the probed instruction (enum
 * ms_arg_reg), then the tag and table row (MS_COOKIE_TAG_SHIFT). A probe past
 * the entry may find an argument moved ("mov %rdi,%rsi; mov ..,%rdi"
 * in mimalloc's malloc before its first branch); 0 is the ABI's register.
 */
#define MS_COOKIE_FN(cookie)	((cookie) & 0xff)
#define MS_COOKIE_ARG_SHIFT	8
#define MS_COOKIE_ARG_BITS	4
#define MS_COOKIE_ARG(cookie, i)					\
	(((cookie) >> (MS_COOKIE_ARG_SHIFT + (i) * MS_COOKIE_ARG_BITS)) & 0xf)

/*
 * A layer: an allocating function that may throw (operator new), whose
 * blocks come from an inner allocator it calls (libstdc++'s operator new
 * calling malloc). A uretprobe on it would make the kernel replace its
 * return address, and an exception thrown through that finds no unwind
 * information (std::terminate): so it is probed at its entry only, which
 * tells the thread's state its family and size, and the inner allocator's
 * return counts the block (attach.c, layer_of()). Such a probe has the
 * malloc shape, which reads no second or third argument: their bits hold
 * instead how far past the probe its calls to the inner allocator return,
 * in MS_COOKIE_SPAN_UNIT bytes; 0 in every other probe.
 */
#define MS_COOKIE_SPAN_SHIFT	(MS_COOKIE_ARG_SHIFT + MS_COOKIE_ARG_BITS)
#define MS_COOKIE_SPAN_MAX	0xff
#define MS_COOKIE_SPAN_UNIT	4
#define MS_COOKIE_SPAN(cookie)						\
	(((cookie) >> MS_COOKIE_SPAN_SHIFT) & MS_COOKIE_SPAN_MAX)

enum ms_arg_reg {
	MS_REG_ABI = 0,		/* rdi, rsi, rdx for arguments 1, 2, 3 */
	MS_REG_RAX,
	MS_REG_RBX,
	MS_REG_RCX,
	MS_REG_RDX,
	MS_REG_RSI,
	MS_REG_RDI,
	MS_REG_R8,
	MS_REG_R9,
	MS_REG_R10,
	MS_REG_R11,
	MS_REG_R12,
	MS_REG_R13,
	MS_REG_R14,
	MS_REG_R15,
};

/*
 * Which API a probed function belongs to. Values are part of the record
 * format (ms_event.aux of allocator records, 0 in recordings made before
 * families: the C API). A block is counted once, in the family of the
 * outermost probed call that made it (operator new calling malloc is new).
 */
enum ms_family {
	MS_FAM_MALLOC = 0,	/* the C API: malloc, calloc, realloc, free... */
	MS_FAM_NEW,		/* C++ operator new / delete, scalar */
	MS_FAM_NEW_ARRAY,	/* C++ operator new[] / delete[] */
	MS_FAM_RUST,		/* __rust_alloc, __rust_dealloc, ... */
	MS_FAM_JEMALLOC,	/* mallocx, rallocx, xallocx, dallocx, sdallocx */
	MS_FAM_TCMALLOC,	/* tc_* that are no alias of a standard name */
	MS_FAM_MIMALLOC,	/* mi_* that are no alias of a standard name */
	MS_FAM__COUNT,
};

/*
 * A probe's tag, in its attach cookie (bits 20..51, see below; above them
 * the row of attach.c's table, so that two functions of one shape and
 * family, operator delete(void *, size_t) jumping to operator
 * delete(void *), are two probes to the layer check),
 * in the kernel's live table with each block, and in ms_event.aux of the
 * alloc, realloc and free records: its family, whether its address also
 * carries names of other families (an allocator that makes free, delete
 * and delete[] one function cannot tell them apart, so neither do we),
 * and which probed object defines it (the allocator: a block of one
 * allocator freed by another's free is a mismatch).
 */
#define MS_TAG_FAMILY_MASK	0xffu
#define MS_TAG_ANY		(1u << 8)
#define MS_TAG_OBJ_SHIFT	16
#define MS_COOKIE_TAG_SHIFT	20
#define MS_COOKIE_ROW_SHIFT	52

static inline __u64 ms_cookie_tag(__u64 cookie)
{
	return (cookie >> MS_COOKIE_TAG_SHIFT) & 0xffffffffu;
}

static inline unsigned int ms_tag_family(__u64 tag)
{
	return tag & MS_TAG_FAMILY_MASK;
}

static inline unsigned int ms_tag_obj(__u64 tag)
{
	return (tag >> MS_TAG_OBJ_SHIFT) & 0xffffu;
}

/* The families of the C API, any of whose frees takes the others' blocks. */
static inline int ms_family_is_c(unsigned int fam)
{
	return fam == MS_FAM_MALLOC || fam == MS_FAM_JEMALLOC ||
	       fam == MS_FAM_TCMALLOC || fam == MS_FAM_MIMALLOC;
}

/*
 * May a free probed with free_tag release a block allocated with
 * alloc_tag? The same allocator, and a matching family: delete for new,
 * delete[] for new[], any C free for any C allocation (jemalloc documents
 * free() for mallocx blocks; mimalloc and tcmalloc alias theirs). Rust
 * goes with the C API, whatever the object: rustc inlines its shims into
 * the standard library (>= 1.87), so some of its blocks reach malloc or
 * free with no __rust_* call around them. The kernel asks it to decide
 * which frees are worth a stack; userspace asks it again to classify them.
 */
static inline int ms_free_matches(__u64 alloc_tag, __u64 free_tag)
{
	unsigned int fa = ms_tag_family(alloc_tag);
	unsigned int ff = ms_tag_family(free_tag);
	int ca = ms_family_is_c(fa), cf = ms_family_is_c(ff);

	if ((alloc_tag | free_tag) & MS_TAG_ANY)
		return 1;
	if ((fa == MS_FAM_RUST && (cf || ff == MS_FAM_RUST)) ||
	    (ff == MS_FAM_RUST && ca))
		return 1;
	if (ms_tag_obj(alloc_tag) != ms_tag_obj(free_tag))
		return 0;
	if (ca && cf)
		return 1;
	return fa == ff;
}

enum ms_ev_type {
	/*
	 * ptr == 0: the allocation failed (counted, nothing becomes live).
	 * Alloc, free and realloc records carry the probe's tag in aux
	 * (MS_TAG_*: family, allocator).
	 */
	MS_EV_ALLOC = 1,
	MS_EV_FREE = 2,
	/*
	 * A completed realloc/reallocarray: old_ptr, requested size, and the
	 * returned ptr. Its effect is ms_realloc_effect() on both sides.
	 */
	MS_EV_REALLOC = 3,

	/*
	 * Declared through the memscope USDT probes (include/memscope.h).
	 * They carry the caller's stack, and name/type strings (cut at
	 * MS_STR_MAX, always NUL-terminated).
	 */
	MS_EV_TRACK = 4,	/* ptr, size, aux = enum ms_kind; name, type */
	MS_EV_UNTRACK,		/* ptr */
	MS_EV_SHARE,		/* old_ptr = handle address, ptr = heap block;
				 * name, type */
	MS_EV_UNSHARE,		/* old_ptr = handle address */
	MS_EV_TASK_CREATE,	/* task = id, aux = parent id; name */
	MS_EV_TASK_ENTER,	/* task = id */
	MS_EV_TASK_LEAVE,	/* task = id */
	MS_EV_TASK_COMPLETE,	/* task = id */
	MS_EV_PASSPORT_CREATE,	/* ptr, size; name */
	MS_EV_PASSPORT_HANDOVER, /* ptr; name = the side it goes to */
	MS_EV_PASSPORT_RECLAIM,	/* ptr */
	MS_EV_PASSPORT_FREE,	/* ptr; name = the side that freed it */

	/*
	 * Anonymous memory: the target's mmap, munmap, mremap and brk that
	 * succeeded, from the syscall tracepoints. Lengths are as passed
	 * (the store rounds them to pages, as the kernel does). A call made
	 * inside a probed allocator call carries MS_EVF_ARENA, fn = that
	 * call's function and frames[0] = its probe's address (one frame):
	 * the allocator's arena. Otherwise fn is MS_FN_NONE and the frames
	 * are the syscall's user stack, frames[0] the instruction after the
	 * syscall (walked only for calls that can map the program's memory).
	 */
	MS_EV_MMAP,		/* ptr = address, size = length,
				 * aux = flags (MAP_*), its protection
				 * (PROT_*) at MS_MMAP_PROT_SHIFT and
				 * MS_MMAP_PROT_KNOWN (format 10 on;
				 * before, not carried) */
	MS_EV_MUNMAP,		/* ptr, size; an exec sends one of all of
				 * user space */
	MS_EV_MREMAP,		/* old_ptr, aux = old length; ptr, size =
				 * the new ones; seq = flags (MREMAP_*) */
	MS_EV_BRK,		/* old_ptr = break before, ptr = after */

	/*
	 * Process lifecycle of the traced set (system-wide, -f and launch
	 * trees), sent whole like a declared record so the strings fit.
	 * pid is the process (tgid) concerned, tid the thread that made the
	 * change. A pid seen again after its exit, or in a PROC_START, is a
	 * new process (pid reuse).
	 */
	MS_EV_PROC_START,	/* a traced process forked a new process:
				 * pid = child, aux = parent tgid;
				 * name = comm (inherited) */
	MS_EV_PROC_EXEC,	/* pid replaced its image: its heap ends
				 * (live at exec), a new image begins;
				 * seq > 1: frames hold the ended image's
				 * struct ms_counters (ms_event_ended()),
				 * unless aux has MS_EXEC_NO_COUNTERS;
				 * name = new comm, type_name = the file
				 * executed (cut at MS_STR_MAX, its tail);
				 * ptr, old_ptr = the file the kernel runs
				 * (struct ms_file_key: dev, ino); size =
				 * the parent's tgid then (0 in recordings
				 * before it) */
	MS_EV_PROC_EXIT,	/* the last thread of pid exited: aux =
				 * exit code as wait(2) reports it */
	/*
	 * Anonymous memory, continued (after the lifecycle records, whose
	 * numbers recordings keep): an mprotect or pkey_mprotect that
	 * succeeded; ptr, size = the range as passed, aux = the new
	 * protection (PROT_*). No stack: it maps nothing.
	 */
	MS_EV_MPROTECT,
	MS_EV__COUNT,
};

/* Declared records are sent whole, their strings after the frames. */
static inline int ms_event_declared(unsigned int type)
{
	return type >= MS_EV_TRACK && type <= MS_EV_PASSPORT_FREE;
}

/* A process lifecycle record (MS_EV_PROC_START..MS_EV_PROC_EXIT). */
static inline int ms_event_proc(unsigned int type)
{
	return type >= MS_EV_PROC_START && type <= MS_EV_PROC_EXIT;
}

/* An anonymous-memory record (MS_EV_MMAP..MS_EV_BRK, MS_EV_MPROTECT). */
static inline int ms_event_anon(unsigned int type)
{
	return (type >= MS_EV_MMAP && type <= MS_EV_BRK) ||
	       type == MS_EV_MPROTECT;
}

/*
 * An MS_EV_MMAP's aux: the flags in the low 32 bits, the protection above
 * them, and a bit that says the protection is there (records of format 9
 * and older have neither: their mappings read as accessible).
 */
#define MS_MMAP_PROT_SHIFT	32
#define MS_MMAP_PROT_KNOWN	(1ull << 63)

/* What a tracked block is (track's kind argument). */
enum ms_kind {
	MS_KIND_NONE = 0,
	MS_KIND_HEAP_OWNER = 1,
	MS_KIND_CONTAINER = 2,
	MS_KIND_VALUE = 3,
	MS_KIND_STACK_OWNER = 4,
	MS_KIND__COUNT,
};

/* ms_event.flags */
#define MS_EVF_STACK_TRUNC	(1u << 0)	/* deeper than the depth limit */
#define MS_EVF_STACK_ERR	(1u << 1)	/* no stack could be captured */
#define MS_EVF_LIVE_FULL	(1u << 2)	/* kernel live table was full */
/*
 * --mode=alloc: taken at entry, so no pointer and nothing becomes live;
 * the record counts an allocation call, its size and its stack.
 */
#define MS_EVF_PROFILE		(1u << 3)
/*
 * ts_ns is the consumer's last drain tick (every 10 ms), not the time of
 * the call: a free, or a --mode=alloc record, is not worth a clock read.
 * The store times it no earlier than the record before it.
 */
#define MS_EVF_TICK_TS		(1u << 4)
/*
 * A free the kernel found suspect: its pointer is not in the live table,
 * or its block was allocated by another family or allocator
 * (ms_free_matches). Only such a free carries its stack: the one that
 * frees it, taken at entry (frames[0] is free's caller).
 */
#define MS_EVF_FREE_CHECK	(1u << 8)
/* A suspect free sent without its stack: the walk budget was spent (-p). */
#define MS_EVF_FREE_NOWALK	(1u << 9)
/*
 * The trace began with the process (launch mode): an address the trace
 * never saw allocated was never allocated, so its free is invalid.
 */
#define MS_EVF_FROM_START	(1u << 10)
/*
 * A suspect free of an address the live table does not hold, called from
 * the object that defines the free function: the allocator freeing what
 * it took with its internal allocator, never through a probed call
 * (glibc frees a thread's tcache so at thread exit). Not judged.
 */
#define MS_EVF_FREE_INTERNAL	(1u << 11)
/* An anonymous-memory record made inside a probed allocator call. */
#define MS_EVF_ARENA		(1u << 12)
/*
 * Userspace's, on a site: the process image's table of distinct stacks
 * was full (--max-stacks), so this stack keeps its innermost frame only.
 */
#define MS_EVF_STACK_FULL	(1u << 13)

/*
 * One record. A fixed header, then nr_frames user return addresses,
 * innermost first (frames[0] is the immediate caller of the allocator or
 * of the probe). An allocator record may be sent with only the used part
 * of frames[]; a declared record (ms_event_declared()) is sent whole, its
 * strings after the frames. ms_event_len() is a record's length.
 */
struct ms_event {
	__u16 type;		/* enum ms_ev_type */
	__u16 fn;		/* enum ms_fn */
	__u16 nr_frames;
	__u16 flags;		/* MS_EVF_* */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u64 ts_ns;		/* CLOCK_MONOTONIC, when the call returned */
	__u64 seq;		/* kernel sequence of the new block, 0 if none */
	__u64 ptr;		/* new block, or the block freed */
	__u64 size;		/* requested bytes */
	__u64 old_ptr;		/* realloc: the block passed in */
	__u64 old_seq;		/* realloc: seq of old_ptr at entry, 0 unknown */
	__u64 task;		/* declared task running on the thread, 0 none */
	__u64 aux;		/* per type, see enum ms_ev_type */
	__u64 frames[MS_MAX_STACK];
	char name[MS_STR_MAX];	/* declared records only */
	char type_name[MS_STR_MAX];
};

#define MS_EVENT_HDR_SIZE	__builtin_offsetof(struct ms_event, frames)

static inline unsigned long ms_event_size(unsigned int nr_frames)
{
	return MS_EVENT_HDR_SIZE + (unsigned long)nr_frames * sizeof(__u64);
}

static inline unsigned long ms_event_len(const struct ms_event *e)
{
	return ms_event_declared(e->type) || ms_event_proc(e->type) ?
	       sizeof(*e) :
	       ms_event_size(e->nr_frames);
}

/*
 * The record ring. bpf_ringbuf takes a spinlock and costs more per record
 * than everything else a free does (the ablation in
 * bench/RESULTS.md), so records travel through a ring of our own: one byte
 * stream in an mmapable array of chunks. A producer claims [pos, pos+len)
 * with one compare-and-swap on the shared position, so the stream keeps
 * the one global order a ring buffer gives (a free reserved at entry comes
 * before the allocation that reuses its address), writes the record, and
 * publishes it by storing ~pos in its header. A record that starts near
 * the end of a chunk runs on into the chunk's slack, so it is always
 * contiguous; the bytes it covers in the next chunk stay unused.
 */
#define MS_RING_CHUNK_SHIFT	21
#define MS_RING_CHUNK		(1u << MS_RING_CHUNK_SHIFT)
#define MS_RING_SLACK		4096

struct ms_ring_hdr {
	__u64 commit;		/* ~pos once the record is complete */
	__u32 len;		/* bytes from this header to the next one */
	__u32 pad;
};

struct ms_ring_chunk {
	__u8 data[MS_RING_CHUNK + MS_RING_SLACK];
};

/* Largest record on the ring: a declared record, header included. */
#define MS_RING_REC_MAX	(sizeof(struct ms_ring_hdr) + sizeof(struct ms_event))

/*
 * Unwinding without frame pointers. Userspace compiles each mapped
 * object's CFI (.eh_frame, or .debug_frame) into rows, once per build-id,
 * and loads them into the unwind maps; the BPF side applies them over the
 * stack bytes it copied. A row holds from its pc to the next row's pc.
 * Addresses in rows are the object's ELF virtual addresses: a mapping
 * carries the bias that turns a runtime pc into one.
 *
 * The return address is always at CFA - 8 on x86-64; a row whose CFI says
 * otherwise, or uses a rule not listed here, is MS_CFA_UNSUPPORTED and the
 * walk stops there, counted, rather than guess.
 */
enum ms_cfa_type {
	MS_CFA_UNDEFINED = 0,	/* no row, or the return address is
				 * undefined: the outermost frame */
	MS_CFA_RSP,		/* CFA = rsp + cfa_off */
	MS_CFA_RBP,		/* CFA = rbp + cfa_off: code that keeps a
				 * frame pointer here */
	MS_CFA_DEREF_RBP,	/* CFA = *(rbp + cfa_off): realigned stacks
				 * (DW_OP_breg6 off; DW_OP_deref) */
	MS_CFA_PLT,		/* the .plt expression: CFA = rsp + 8, + 8
				 * more when (pc & 15) >= cfa_off */
	MS_CFA_SIGNAL,		/* a signal trampoline: rsp is the ucontext;
				 * rip, rsp, rbp come from its mcontext and
				 * the next pc is looked up exactly */
	MS_CFA_UNSUPPORTED,	/* CFI we do not apply: the walk stops */
	MS_CFA_NO_INFO,		/* a gap: from the end of an FDE to the next
				 * one, code without unwind information */
	/*
	 * Go's runtime.asmcgocall, returned to from the C function it ran
	 * on the system stack: the rules of its epilogue, which puts the
	 * goroutine's rsp back from memory. No CFI says so (unwind_go.c).
	 */
	MS_CFA_DEREF_RSP,	/* CFA = *(rsp + cfa_off) + 8: the caller's
				 * rsp saved on this stack */
	MS_CFA_GO_STACK,	/* CFA = *(*(rsp + cfa_off) + 8)
				 * - *(rsp + rbp_off) + 8: the goroutine's
				 * g, whose stack.hi less the depth saved
				 * is its rsp; rbp is unchanged */
	/*
	 * A frame made after the function popped its return address and
	 * pushed it again below what it pushed meanwhile (V8's API-call
	 * builtins, without CFI: prologue.c): CFA = rbp + cfa_off, the
	 * return address at rbp + 8, not at CFA - 8, a word the function
	 * wrote over.
	 */
	MS_CFA_RBP_RA,
	MS_CFA__COUNT,
};

enum ms_rbp_type {
	MS_RBP_SAME = 0,	/* unchanged in this frame */
	MS_RBP_CFA,		/* saved at CFA + rbp_off */
	MS_RBP_AT_RBP,		/* saved at rbp + rbp_off (realigned frames) */
	MS_RBP_UNDEFINED,	/* unknown after this frame */
	MS_RBP__COUNT,
};

struct ms_unwind_row {
	__u32 pc;		/* ELF address of the first instruction */
	__s32 cfa_off;
	__s32 rbp_off;
	__u8 cfa_type;		/* enum ms_cfa_type */
	__u8 rbp_type;		/* enum ms_rbp_type */
	__u16 pad;
};

/*
 * The row array grows: row i is row i % MS_ROW_CHUNK of chunk
 * i / MS_ROW_CHUNK, an array map of its own in the ARRAY_OF_MAPS
 * unwind_rows, made by userspace when an object's rows first reach it
 * (user/capture/row_store.c). Kernel memory follows the objects loaded, up to
 * --unwind-rows; chunks of one size keep the walker's lookups inlined.
 */
#define MS_ROW_CHUNK_SHIFT	16
#define MS_ROW_CHUNK		(1u << MS_ROW_CHUNK_SHIFT)	/* 1 MiB */
#define MS_ROW_CHUNKS_MAX	1024	/* 64 Mi rows */

/*
 * One object's rows in the global row array: [first, first + nr), sorted
 * by pc. A pc below the first row or in a gap between FDEs (a row of
 * MS_CFA_NO_INFO marks the end of each FDE) has no unwind information.
 */
struct ms_unwind_obj {
	__u32 first;
	__u32 nr;
};

/* Executable mappings of one process, sorted by start. */
#define MS_PROC_MAPS		256

struct ms_proc_map {
	__u64 start;		/* runtime [start, end) */
	__u64 end;
	__u64 bias;		/* ELF address = pc - bias */
	__u32 obj;		/* index into the objects map */
	__u32 flags;		/* MS_MAPF_* */
};

/* The object's rows are not loaded (yet, or at all: table full). */
#define MS_MAPF_NO_TABLE	(1u << 0)
/*
 * Code of no file whose runtime keeps frame pointers in it, as the user
 * said (--jit-frame-pointers: V8's code; Java's with
 * -XX:+PreserveFramePointer): rbp + 16 is its CFA, rbp saved below the
 * return address. Only with the walker's jit_frame_ptrs.
 */
#define MS_MAPF_FRAME_PTR	(1u << 1)

struct ms_proc_maps {
	__u32 nr;
	/*
	 * The image (ms_proc.gen; the one -p process's targ_gen) whose maps
	 * these are, read before the maps: after an exec they are the old
	 * program's, whose rows must not unwind the new one's code.
	 */
	__u32 gen;
	/*
	 * Its changes of which file is where (ms_proc.maps_seq; the one -p
	 * process's targ_maps_seq), read before the maps: once they differ,
	 * an entry may hold another file (a dlclose, then a dlopen at the
	 * same address), whose code these rows would misread.
	 */
	__u64 seq;
	/*
	 * Its changes of executable pages, mprotect's too (ms_proc.
	 * exec_changes; the -p process's maps_changed), read before the
	 * maps: once they differ, a pc in none of them may be in code made
	 * executable since.
	 */
	__u64 exec_seq;
	struct ms_proc_map m[MS_PROC_MAPS];
};

/*
 * Before a process's own maps are in (a process of a set that just
 * started or exec'd, a mapping not read yet), the walker finds a pc's
 * object through the task's vma: its file (struct ms_file_key) names the
 * tables compiled for it. Its executable segments turn the vma's file
 * offset into an ELF address, as userspace's bias does.
 */
#define MS_FILE_SEGS		4

struct ms_file_seg {
	__u64 offset;		/* p_offset */
	__u64 vaddr;		/* p_vaddr */
	__u64 filesz;		/* p_filesz */
};

struct ms_unwind_file {
	__u32 obj;		/* its table as a library; 0: none */
	__u32 entry_obj;	/* as the program or interpreter; 0: none */
	__u32 nr_segs;		/* PF_X segments, at most MS_FILE_SEGS */
	__u32 flags;		/* MS_FILEF_* */
	struct ms_file_seg segs[MS_FILE_SEGS];
};

/* Some process runs it as its interpreter (auxv AT_BASE): entry_obj. */
#define MS_FILEF_INTERP		(1u << 0)

/*
 * The file mappings the walker found through a task's vma, by process
 * image (ms_proc_maps.gen): a process gone before userspace could read
 * its maps (a command that lives a few milliseconds) has its frames named
 * from them. Filled in the kernel as walks need them, at most
 * MS_IMAGE_VMAS; a slot counted in nr may still be being written.
 */
#define MS_IMAGE_VMAS		16

struct ms_image_key {
	__u32 tgid;
	__u32 gen;
};

struct ms_vma {
	__u64 start;
	__u64 end;
	__u64 offset;		/* the file offset at start */
	__u64 dev;		/* struct ms_file_key */
	__u64 ino;
};

struct ms_image_vmas {
	__u32 nr;
	__u32 pad;
	struct ms_vma v[MS_IMAGE_VMAS];
};

/*
 * The bias of an executable mapping of len bytes at runtime start of the
 * file from offset (a runtime pc is ELF address pc - bias), from the
 * file's executable segments: the one the mapping starts on (the loader
 * maps a segment from its page-aligned offset; LLD packs a read-only
 * segment whose file image runs past the page the executable one starts
 * on), else the one whose file image holds offset (a mapping split by
 * mprotect), else the one whose image the mapping holds from below (a
 * whole file mapped at once, by hand: one bias must serve every
 * executable segment in it). Userspace for a process's maps and the
 * walker for a task's vma: one rule. 1 when a segment gives it, else 0.
 * Always inlined: a BPF call takes five arguments at most.
 */
static inline __attribute__((always_inline)) int
ms_file_bias(const struct ms_file_seg *segs, __u32 nr, __u64 start, __u64 len,
	     __u64 offset, __u64 *bias)
{
	const struct ms_file_seg *sg, *in = 0;
	__u32 i;

	for (i = 0; i < MS_FILE_SEGS; i++) {
		sg = &segs[i];
		if (i < nr && (sg->offset & ~4095ull) == offset)
			goto found;
	}
	for (i = 0; i < MS_FILE_SEGS; i++) {
		sg = &segs[i];
		if (i < nr && offset >= sg->offset &&
		    offset - sg->offset < sg->filesz)
			goto found;
	}
	for (i = 0; i < MS_FILE_SEGS; i++) {
		sg = &segs[i];
		if (i >= nr || sg->offset <= offset ||
		    sg->offset - offset >= len)
			continue;
		if (in && in->vaddr - in->offset != sg->vaddr - sg->offset)
			return 0;
		in = sg;
	}
	if (!in)
		return 0;
	sg = in;
found:
	/* runtime start holds ELF address vaddr + (offset - p_offset) */
	*bias = start - (sg->vaddr + (offset - sg->offset));
	return 1;
}

/*
 * Where the trace is (the .bss word trace_state, written by userspace):
 * probes record only while it is on. Links are made and destroyed one by
 * one (in parallel; a uprobe's registering and unregistering each take a
 * grace period), and what some probes see while others are not in is
 * half a picture: a block new made while only malloc was probed, freed
 * by a probed delete, looked mismatched; a free still probed after its
 * allocator's return was gone took a reused address for a double free.
 */
enum ms_trace_state {
	MS_TRACE_ATTACHING = 0,	/* the probes go in: nothing recorded,
				 * processes still join the set */
	MS_TRACE_ON,		/* every probe of the start is in */
	MS_TRACE_ENDED,		/* the trace ended; the probes go */
};

/*
 * Why a stack ends, carried in ms_event.flags bits MS_EVF_STOP_SHIFT..
 * and counted per reason in the kernel (ms_counters.stack_stops[]).
 */
enum ms_stop {
	MS_STOP_END = 0,	/* reached the outermost frame (_start,
				 * clone's child: the CFI says so) or the
				 * frame pointer chain ended */
	MS_STOP_NO_INFO,	/* pc in a mapping whose CFI has no row */
	MS_STOP_NO_MAPPING,	/* pc in no known executable mapping */
	MS_STOP_NOT_LOADED,	/* the object's table is not loaded yet */
	MS_STOP_DEPTH,		/* the depth limit (--max-depth) */
	MS_STOP_READ,		/* reading the stack failed */
	MS_STOP_UNSUPPORTED,	/* a CFI rule we do not apply */
	MS_STOP__COUNT,
};

#define MS_EVF_STOP_SHIFT	5
#define MS_EVF_STOP_MASK	(7u << MS_EVF_STOP_SHIFT)

static inline unsigned int ms_event_stop(__u16 flags)
{
	return (flags & MS_EVF_STOP_MASK) >> MS_EVF_STOP_SHIFT;
}

/*
 * Exact per-process counters kept in the kernel. They hold even when the
 * ring buffer drops records, so a report can show both views and say
 * which one lost data.
 */
struct ms_counters {
	__u64 allocs;		/* successful allocations (realloc moves count) */
	__u64 frees;		/* frees of known blocks */
	__u64 alloc_bytes;
	__u64 free_bytes;
	__u64 live_bytes;
	__u64 live_blocks;
	__u64 peak_bytes;
	__u64 peak_ns;		/* CLOCK_MONOTONIC of the peak */
	__u64 failed_allocs;	/* allocator returned NULL */
	__u64 unknown_frees;	/* free of a pointer not allocated under trace */
	__u64 nested_calls;	/* probed calls inside another probed call */
	__u64 lost_events;	/* ring buffer full: record not delivered */
	__u64 stack_errors;	/* user stack could not be read */
	__u64 live_full;	/* kernel live table full: counters inexact */
	__u64 seq;		/* last block sequence handed out */
	__u64 task_depth_full;	/* task entered past the per-thread depth */
	__u64 strings_cut;	/* declared strings cut at MS_STR_MAX */
	__u64 stack_stops[MS_STOP__COUNT];	/* stacks by why they end */
};

/*
 * The ended image's counters in a PROC_EXEC record of seq > 1: in the
 * record itself, so two execs within one drain keep both (an entry could
 * keep one ended image only). The frames are unused by a lifecycle record.
 */
_Static_assert(sizeof(struct ms_counters) <= MS_MAX_STACK * sizeof(__u64),
	       "an exec record's frames must hold the ended image's counters");

/*
 * An exec of the one process -p PID traces (no set): the kernel keeps the
 * trace's counters, no image's, so the record carries none.
 */
#define MS_EXEC_NO_COUNTERS	1u

static inline const struct ms_counters *ms_event_ended(const struct ms_event *e)
{
	return (const struct ms_counters *)e->frames;
}

/*
 * One process of a traced set (not the single -p fast path), in the
 * kernel's map keyed by tgid: the exact counters of its current image
 * (allocs, frees, bytes, live, peak, failed, unknown frees, live_full,
 * lost records, stack errors and stops; the rest stay global), its exec
 * generation, and whether it exited.
 * The lifecycle records carry the generation in seq. Userspace reads the
 * counters of an exited process, releases its blocks from the live table
 * and deletes the entry. An exec starts the counters again; the image it
 * ended has its counters in the exec's record (ms_event_ended()).
 */
struct ms_proc {
	struct ms_counters c;
	__u64 exec_vm;		/* its executable pages when its maps were
				 * last marked changed */
	__u32 gen;		/* image: 1 at start, +1 at each exec */
	__u32 flags;		/* MS_PROC_* */
	__u64 maps_seq;		/* changes of which file is where */
	__u64 exec_changes;	/* changes of its executable pages */
	__u32 exec_begun;	/* the image an exec past its point of no
				 * return is replacing (sched_prepare_exec),
				 * until that exec numbers the new one */
	__u32 vm_tgid;		/* a vfork child until it execs: the process
				 * in whose memory it runs, whose heap its
				 * calls are counted in (0: its own) */
};

#define MS_PROC_EXITED		(1u << 0)

/*
 * The image whose mappings a reader of the process's maps gets, from its
 * gen and the gen an exec begun is leaving (ms_proc.exec_begun; the one
 * -p process's targ_gen and targ_exec_begun): 0, none's, while an exec
 * is replacing them. Between its new mappings and sched_process_exec the
 * maps were the next program's under the old image's number: the drain,
 * reading maps after the fact, took true's for the sh -c 'exec true' that
 * exec'd it. Checked after a read of the maps, in whichever order the
 * two are read: the image's gen with no exec begun means none had begun
 * when the second of them was read, after the maps were.
 */
static inline __u32 ms_image_now(__u32 gen, __u32 exec_begun)
{
	return exec_begun == gen ? 0 : gen;
}

/*
 * An executable file as the kernel names it (its super block's dev_t,
 * MAJOR << 20 | MINOR, and inode number): --hold-exec holds an exec of
 * a file userspace has not examined yet (map known_exes).
 */
struct ms_file_key {
	__u64 dev;
	__u64 ino;
};

/*
 * A live-table block's owner, in the high 32 bits of its slot's tag:
 * its process (pid_max is at most 2^22) and image generation (wrapping),
 * so that a block of an exec'd or exited image is never another's.
 */
#define MS_OWNER_GEN_BITS	10
#define MS_OWNER_GEN_MASK	((1u << MS_OWNER_GEN_BITS) - 1)

static inline __u32 ms_owner(__u32 tgid, __u32 gen)
{
	return tgid << MS_OWNER_GEN_BITS | (gen & MS_OWNER_GEN_MASK);
}

/* --comm names the kernel matches (each repeat of the option is one). */
#define MS_MAX_COMMS		8
#define MS_COMM_LEN		16

/*
 * What a completed realloc did, as glibc defines it: realloc(NULL, n) is
 * malloc(n); realloc(p, 0) frees p and returns NULL; a NULL return for
 * n > 0 failed and left p alone; any other return moved (or kept) p.
 */
enum ms_realloc_effect {
	MS_RE_ALLOC,		/* old_ptr was NULL: plain allocation of ret */
	MS_RE_FREE,		/* size 0: old_ptr freed, nothing new */
	MS_RE_FAILED,		/* NULL for size > 0: old_ptr still live */
	MS_RE_MOVE,		/* old_ptr released, ret live (may be equal) */
};

static inline enum ms_realloc_effect
ms_realloc_effect(__u64 old_ptr, __u64 size, __u64 ret)
{
	if (!old_ptr)
		return ret ? MS_RE_ALLOC : MS_RE_FAILED;
	if (!ret)
		return size ? MS_RE_FAILED : MS_RE_FREE;
	return MS_RE_MOVE;
}

/*
 * A slot of the kernel's live table (bpf/live_table.h), which userspace
 * maps too. key is the block's address, or a state: no block lives at an
 * address up to LIVE_STATES.
 */
struct live_slot {
	__u64 key;
	__u64 size;
	__u64 seq;
	__u64 tag;		/* MS_TAG_* of the call that made it; in a
				 * traced set, the owner in bits 32..63 */
};

#define LIVE_EMPTY	0	/* a search stops here */
#define LIVE_TOMB	1	/* freed; a search goes on */
#define LIVE_BUSY	2	/* being written by the CPU that swapped it in */
#define LIVE_RECL	3	/* a tombstone being made empty (live_reclaim) */
#define LIVE_STATES	LIVE_RECL

/*
 * The table has a power of two of slots, at least 8 / LIVE_FILL_EIGHTHS
 * for each block of --max-live: an insert fails (live_full) when the
 * LIVE_PROBES slots of its window hold no free one, and under churn at a
 * steady load that begins near 40 % full with 32-slot windows (near 25 %
 * with 16), so max_live blocks fill at most 37.5 %
 * (tests/unit/test_live_table.c measures both).
 */
#define LIVE_FILL_EIGHTHS	3

/*
 * The near table in front of it (live_table.h): buckets of MS_NEAR_WAYS
 * slots, a fixed 2^MS_NEAR_BUCKET_BITS of them (128 KiB of slots), and a
 * spill count a bucket. 512 buckets of 8: a block takes its bucket's
 * first free slot, so two blocks a bucket mostly share its first line:
 * half as many lines in use as with 1,024 buckets of 4, each used twice
 * as often. On churn-nofp (1,024 blocks live, all near with either) perf
 * put the free's wait for its bucket at ~100 ns a call with 4,096
 * buckets of 4 (512 KiB), ~50-90 with 1,024 of 4, ~20-30 with 512 of 8;
 * the programs' run time (BPF statistics) moved less than this machine's
 * noise. Heaps that outgrow the table (redis, python, sqlite) cost the
 * same with each (bench/ab.py --stats).
 */
#define MS_NEAR_WAYS		8
#define MS_NEAR_BUCKET_BITS	9
#define MS_NEAR_SLOTS		(MS_NEAR_WAYS << MS_NEAR_BUCKET_BITS)

/*
 * What a block's place in the live tables is hashed from: its address
 * (whose low 4 bits are always 0) and, where processes share the tables
 * (a traced set), its owner (ms_owner(), the high half of its tag), so
 * that one address many processes hold at once spreads over as many
 * buckets and windows: the forks of one parent allocate where their
 * siblings do, and 64 prefork python workers under --cgroup left 3,476
 * of their blocks out of the one bucket and window all their copies of
 * an address shared (test sys_prefork). owner is 0 for one process.
 */
static inline __u64 ms_live_hkey(__u64 ptr, __u32 owner)
{
	return (ptr >> 4) ^ (__u64)owner * 0xff51afd7ed558ccdull;
}

/*
 * The bucket of hkey (ms_live_hkey()) of 2^(64 - shift): the top bits of
 * the far home's product.
 */
static inline __u32 ms_near_bucket(__u64 hkey, __u32 shift)
{
	return (hkey * 0x9e3779b97f4a7c15ull) >> shift;
}

#endif /* MEMSCOPE_EVENTS_H */
