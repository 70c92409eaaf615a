// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * Allocator probes. One entry program and one return program serve every
 * allocation function: the attach cookie says which function (enum ms_fn)
 * a hit belongs to, so adding an allocator is a table row in userspace,
 * not a new program here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "events.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/*
 * Set between open and load. One process traced (-p PID, --no-follow):
 * targ_tgid, one compare on the hot paths. Else the traced set is the
 * procs map, and who enters it is said below.
 */
const volatile __u32 targ_tgid = 0;
/* targ_tgid's image: 1, +1 at each of its execs (the records' seq). */
__u32 targ_gen = 1;
/* The image of targ_tgid an exec begun is replacing (ms_proc.exec_begun). */
__u32 targ_exec_begun;
/* Set between open and load: the trace began with the process. */
const volatile bool from_start = false;
/* the one process vforked: a child ran in its memory unseen (ms_fork) */
__u32 targ_vm_shared;
/*
 * The process the run is about (-p PID, -- CMD): its exit ends the trace
 * and the report judges its blocks at the end, as live; no exit record.
 */
const volatile __u32 root_tgid = 0;
/*
 * How it ended, for -p, whose wait status the tool cannot wait for:
 * 1 << 32 | the exit code of its last thread, once that exited.
 */
__u64 root_exit;
/* -a: every process is traced (but the tool itself, self_tgid). */
const volatile bool targ_all = false;
const volatile __u32 self_tgid = 0;
/* -f, and launch mode: children and exec'd images of a traced process. */
const volatile bool follow = false;
/* --comm: a process whose comm is one of these, also after an exec. */
const volatile __u32 nr_comms = 0;
const volatile char comms[MS_MAX_COMMS][MS_COMM_LEN] = {};
/* --cgroup: a process in this cgroup v2 (its id, at its level) or below. */
const volatile __u64 cgroup_id = 0;
const volatile __u32 cgroup_level = 0;
/* Force a consumer wakeup once this much is waiting in the ring. */
const volatile __u64 wakeup_bytes = 1 << 20;
/* --mode=alloc: entry probes only, stacks taken at entry. */
const volatile bool alloc_only = false;

/*
 * The exact counters. The hot paths keep only what cannot be derived:
 * seq counts allocations, and live blocks and freed bytes follow from the
 * others and the rare counters below (tracer__counters() derives them),
 * since every atomic add here is paid on every call.
 */
struct ms_counters counters = {};

struct {
	__u64 replaced_blocks;	/* live blocks whose free was never seen */
	__u64 replaced_bytes;
	__u64 full_bytes;	/* allocated while the live table was full */
} rare = {};

/*
 * The traced set: one entry per process, its counters and image
 * (events.h, struct ms_proc); sized by --max-procs. A process that could
 * not enter because it was full is counted in procs_full, never traced.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct ms_proc);
} procs SEC(".maps");

__u64 procs_full;
/* What a new entry starts from: never written. */
struct ms_proc proc_zero;

/* Records (events.h): sized by userspace, a power of two of chunks. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct ms_ring_chunk);
} ring SEC(".maps");

/* Set between open and load: the ring's size, chunks times MS_RING_CHUNK. */
const volatile __u64 ring_bytes = 16ull << MS_RING_CHUNK_SHIFT;

/*
 * Stream positions, on lines of their own: producers on every CPU move
 * ring_prod, the consumer (through the mmapped .bss) moves ring_cons.
 */
__u64 ring_prod __attribute__((aligned(64)));
__u64 ring_cons __attribute__((aligned(64)));
/* CLOCK_MONOTONIC at the consumer's last drain: the time frees carry. */
__u64 tick_ns __attribute__((aligned(64)));
/* Set by the producer that sent a wakeup, cleared by the consumer. */
__u32 wake_sent __attribute__((aligned(64)));
/* enum ms_trace_state: read-mostly, on a line of its own. */
__u32 trace_state __attribute__((aligned(64)));

/* Records are made only between the start and the end of the trace. */
static __always_inline bool recording(void)
{
	return *(volatile __u32 *)&trace_state == MS_TRACE_ON;
}

/* Nor does the set change after the end: the report is as of then. */
static __always_inline bool trace_over(void)
{
	return *(volatile __u32 *)&trace_state == MS_TRACE_ENDED;
}

/* Carries only wakeups: the consumer sleeps on it between timed drains. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} wake SEC(".maps");

/*
 * Live blocks by address, for exact counters: an open-addressing table in
 * an array, not a BPF hash map. The hash map's bucket lock, element
 * allocator and element count cost more than the rest of a free (see
 * bench/RESULTS.md); here a hit is one slot, changed with compare-and-swap.
 * Its keys and states, and how freed slots are reclaimed: live_table.h.
 */

/*
 * Mapped by userspace too: it releases the blocks of exited and exec'd
 * images (their owner is gone) with a swap per slot.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, struct live_slot);
} live SEC(".maps");

/* Set between open and load: slots in the live table, minus one. */
const volatile __u32 live_mask = (1 << 20) - 1;

static __always_inline struct live_slot *live_at(__u32 idx)
{
	idx &= live_mask;
	return bpf_map_lookup_elem(&live, &idx);
}

/*
 * The near table in front of it, and its buckets' spill counts
 * (live_table.h): at most 128 KiB, less for a --max-live below its
 * 4,096 slots. Mapped by userspace too, for the same release of ended
 * images' blocks. Set between open and load: its slots minus one, and its
 * buckets as the shift of ms_near_bucket().
 */
const volatile __u32 near_mask = MS_NEAR_SLOTS - 1;
const volatile __u32 near_shift = 64 - MS_NEAR_BUCKET_BITS;
#define NEAR_SHIFT	near_shift

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, MS_NEAR_SLOTS);
	__type(key, __u32);
	__type(value, struct live_slot);
} live_near SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1 << MS_NEAR_BUCKET_BITS);
	__type(key, __u32);
	__type(value, __u64);	/* not __u32: mapped, values are 8 apart */
} live_spill SEC(".maps");

/*
 * The barrier keeps this lookup a call of its own: where a caller picks
 * near_at() or live_at() (live_slot_at), clang would otherwise sink both
 * into one call with the map chosen before it, which the verifier cannot
 * inline (two maps at one call: the helper, and an indirect call through
 * a retpoline, on every free).
 */
static __always_inline struct live_slot *near_at(__u32 idx)
{
	struct live_slot *s;

	idx &= near_mask;
	s = bpf_map_lookup_elem(&live_near, &idx);
	barrier_var(s);
	return s;
}

static __always_inline __u64 *near_spill_at(__u32 bucket)
{
	bucket &= near_mask / MS_NEAR_WAYS;
	return bpf_map_lookup_elem(&live_spill, &bucket);
}

/*
 * The probed call a thread is inside, if any. Calls are matched by stack
 * pointer, not by a depth count: an entry seen without its return (the
 * return probe was not attached yet, or the call never returned) would
 * leave a count wrong for good, while sp tells nesting from a stale state
 * at every hit.
 */
struct inflight {
	__u64 size;
	__u64 arg;		/* realloc: old ptr; posix_memalign: memptr */
	__u64 old_seq;
	__u64 sp;		/* at entry; 0: no call in flight */
	__u64 pc;		/* the entry probe's address: which allocator
				 * object a mapping made inside is charged to */
	__u64 cookie;		/* of the call in flight: ms_fn and tag */
	__u32 fn;
	/*
	 * Probed calls the call in flight jumped to (operator new[] to new,
	 * __rust_alloc to malloc): same sp, so their returns come at the
	 * outer one's sp too, innermost first, and are not the outer's.
	 */
	__u32 inner;
	/*
	 * The last free-like call of the thread, so the layers under it
	 * (delete[] jumping to delete, delete to free) are not counted as
	 * frees of their own. Free-like functions have no return probe: the
	 * state holds until another probed call starts on the thread.
	 */
	__u64 free_ptr;
	__u64 free_sp;
	__u64 free_cookie;
	/*
	 * The layer the thread is in (an operator new that may throw, probed
	 * at its entry only: events.h, MS_COOKIE_SPAN): its sp and return
	 * address at entry, the family tag and size its block is counted
	 * with, and the range its calls to the inner allocator return into
	 * (pc of the innermost layer's probe, span bytes past it). 0 sp:
	 * none. Cleared when the block is taken, or by any allocator entry
	 * at or above its sp (the layer returned or threw).
	 */
	__u64 layer_sp;
	__u64 layer_ret;
	__u64 layer_pc;
	__u64 layer_size;
	__u32 layer_tag;
	__u32 layer_span;
	/* The call in flight counts a layer's block (layer_take()). */
	__u32 layered;
	/*
	 * Declared tasks entered on this thread, innermost last: leave pops,
	 * so a scope ending restores the task that was running before it.
	 */
	__u32 nr_tasks;
	__u64 tasks[MS_TASK_DEPTH];
};

/*
 * Bytes of user stack copied in one read; the frame walk reads inside it,
 * and copies the next window from the frame it reached when a frame lies
 * beyond it. A read costs about the same whatever its size (PERF.md),
 * but the copy does not: the first window is small, enough for the
 * shallow stacks most allocations have, and a deep stack copies the rest
 * in large windows. 512 bytes left a -O2 program's return address at
 * sp+536 (churn-nofp) one window short, and the second copy cost more
 * than the larger first one (ms_alloc_return 648 -> 506 ns). A thread
 * whose last walk read beyond the first window (its walk cache says how
 * far) has its next first window copied STACK_WINDOW long: one copy of
 * 2048 bytes costs less than 1024 and then 2048 more (bench/hot-path.py).
 */
#define FIRST_WINDOW	1024
/* Bytes a window starts below the word that made it be copied. */
#define WINDOW_BELOW	128
#define STACK_WINDOW	2048
#define WINDOW_WORDS	(STACK_WINDOW / 8)
#define PAGE_SIZE	4096

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[WINDOW_WORDS + 1]);	/* + a scratch word */
} stack_window SEC(".maps");

/*
 * Every helper call costs a call and a return through the kernel's return
 * thunk (tens of ns on this machine, SRSO's safe RET): a program reads
 * its pid_tgid once and hands it on. From the current task it is one
 * helper call either way (this kernel's JIT does not inline
 * bpf_get_current_task_btf(), checked in the JIT image); the ids are
 * bpf_get_current_pid_tgid()'s, tgid above pid, the init namespace's.
 */
static __always_inline __u64 task_id(const struct task_struct *t)
{
	return (__u64)(__u32)t->tgid << 32 | (__u32)t->pid;
}

static __always_inline __u64 current_id(void)
{
	return task_id(bpf_get_current_task_btf());
}

/* Set by userspace: the allocator probes are uprobe_multi links. */
const volatile bool multi_links = false;

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/*
 * The probe's attach cookie. bpf_get_attach_cookie() is one more helper
 * call (15 ns an entry, 30 a malloc/free pair here, in the kernel's BPF
 * statistics). Under a uprobe_multi link the cookie is three loads
 * away: the kernel points the task's bpf_ctx at the run context of this
 * program run (struct bpf_uprobe_multi_run_ctx, Linux 6.6+), read
 * through bpf_rdonly_cast(), which the verifier turns into a move, and
 * loads that read 0 on a bad pointer. CO-RE relocates the fields; a
 * kernel without the type, or perf-event probes, take the helper.
 */
static __always_inline __u64 probe_cookie(void *ctx,
					  const struct task_struct *task)
{
	struct bpf_uprobe_multi_run_ctx *rc;

	if (!multi_links ||
	    !bpf_core_type_exists(struct bpf_uprobe_multi_run_ctx))
		return bpf_get_attach_cookie(ctx);
	rc = bpf_rdonly_cast(task->bpf_ctx,
			     bpf_core_type_id_kernel(
				     struct bpf_uprobe_multi_run_ctx));
	return rc->uprobe->cookie;
}

static __always_inline bool is_target(__u64 id)
{
	return (id >> 32) == targ_tgid;
}

/*
 * A new member of the traced set, image generation gen; NULL when the
 * set is full (counted). An entry left by an exited process of the same
 * pid (pid reuse before userspace deleted it) becomes the new process,
 * its generation raised so none of the old blocks is taken for its own.
 */
static __always_inline struct ms_proc *proc_add(__u32 tgid)
{
	struct ms_proc *p = bpf_map_lookup_elem(&procs, &tgid);
	__u32 gen = 1;

	if (p) {
		if (!(p->flags & MS_PROC_EXITED))
			return p;
		gen = p->gen + 1;
	}
	if (bpf_map_update_elem(&procs, &tgid, &proc_zero, BPF_ANY)) {
		__sync_fetch_and_add(&procs_full, 1);
		return NULL;
	}
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p)
		p->gen = gen;
	return p;
}

/* The traced process tgid is, NULL if none (-a: every process is). */
static __always_inline struct ms_proc *proc_get(__u32 tgid)
{
	struct ms_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (p || !targ_all || tgid == self_tgid || !tgid)
		return p;
	return proc_add(tgid);
}

/*
 * The filter of every probe: is the caller traced, and, in a traced set,
 * which process entry counts it (*p; NULL on the one-process fast path).
 * A member's probes keep its threads' call state from the first link on,
 * recording() or not: a call that straddles the start is still seen
 * whole (new's malloc stays inside new).
 */
static __always_inline bool member_own(__u64 id, struct ms_proc **p)
{
	*p = NULL;
	if (targ_tgid)
		return is_target(id);
	*p = proc_get(id >> 32);
	return *p != NULL;
}

/*
 * The same for a heap call: a process that runs in another's memory (a
 * vfork child until it execs, ms_proc.vm_tgid) allocates in that one's
 * heap, which frees what it made there, so its calls count as that
 * process's, *id rewritten to its tgid (dash's vfork children made every
 * `sh -c 'rm x && y'` report an invalid free in the shell). Its own
 * mappings stay its own (member_own): its exec maps the next program
 * before sched_process_exec ends the sharing.
 */
static __always_inline bool member(__u64 *id, struct ms_proc **p)
{
	struct ms_proc *heap;
	__u32 vm;

	if (!member_own(*id, p))
		return false;
	/* the one-process path has no entry, and most processes no host */
	vm = *p ? (*p)->vm_tgid : 0;
	if (!vm)
		return true;
	heap = bpf_map_lookup_elem(&procs, &vm);
	if (heap && !(heap->flags & MS_PROC_EXITED)) {
		*p = heap;
		*id = (__u64)vm << 32 | (__u32)*id;
	}
	return true;
}

/* The owner bits of a block of process p (0 on the fast path). */
static __always_inline __u64 owner_of(__u64 id, const struct ms_proc *p)
{
	return p ? (__u64)ms_owner(id >> 32, p->gen) << 32 : 0;
}

/*
 * Per-thread state lives in an array slot picked by the thread id: an
 * inlined lookup, where task storage cost a helper call on every probe.
 * A slot is its thread's until the thread exits (ms_thread_exit frees
 * it), so no thread ever loses its state to another; a thread whose
 * slot another thread holds keeps its state in task storage instead.
 */
#define THREAD_SLOTS	(1 << 16)

struct thread_slot {
	__u32 tid;		/* owner, 0: free */
	__u32 pad;
	struct inflight st;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, THREAD_SLOTS);
	__type(key, __u32);
	__type(value, struct thread_slot);
} threads SEC(".maps");

/* Set between open and load: slots in threads, minus one. */
const volatile __u32 thread_mask = THREAD_SLOTS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

static __always_inline struct inflight *thread_state(__u64 id, bool create)
{
	__u32 tid = (__u32)id;
	__u32 idx = tid & thread_mask;
	struct thread_slot *t = bpf_map_lookup_elem(&threads, &idx);

	if (!t)
		return NULL;
	if (t->tid == tid)
		return &t->st;
	if (create && !t->tid) {
		struct inflight *st;

		/* Once in task storage (its slot was taken), always there. */
		st = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(),
					  0, 0);
		if (st)
			return st;
		if (!__sync_val_compare_and_swap(&t->tid, 0, tid))
			return &t->st;
	}
	return bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* A thread of a traced process exits: its slot goes back, cleared. */
static __always_inline void thread_slot_free(__u64 id)
{
	__u32 tid = (__u32)id;
	__u32 idx = tid & thread_mask;
	struct thread_slot *t;

	t = bpf_map_lookup_elem(&threads, &idx);
	if (!t || t->tid != tid)
		return;
	__builtin_memset(&t->st, 0, sizeof(t->st));
	__sync_lock_test_and_set(&t->tid, 0);
}

static __always_inline void live_bytes_add(struct ms_counters *c,
					   __u64 size, __u64 now)
{
	__u64 live = __sync_add_and_fetch(&c->live_bytes, size);
	__u64 peak;

	/*
	 * Every failed swap is another CPU raising the peak, so the loop ends
	 * soon; the bound is for the verifier, set past any real contention.
	 */
	for (int i = 0; i < 64; i++) {
		peak = c->peak_bytes;
		if (live <= peak)
			break;
		if (__sync_val_compare_and_swap(&c->peak_bytes, peak,
						live) == peak) {
			c->peak_ns = now;
			break;
		}
	}
}

/*
 * A live block whose free was never seen, dropped by an insert: out of
 * the trace's live bytes and its process's (tag carries the owner in a
 * traced set, the same as the new block's).
 */
static __always_inline void live_replaced(__u64 size, __u64 tag)
{
	struct ms_proc *p;
	__u32 tgid;

	__sync_fetch_and_sub(&counters.live_bytes, size);
	__sync_fetch_and_add(&rare.replaced_blocks, 1);
	__sync_fetch_and_add(&rare.replaced_bytes, size);
	tgid = (tag >> 32) >> MS_OWNER_GEN_BITS;
	p = targ_tgid ? NULL : bpf_map_lookup_elem(&procs, &tgid);
	if (p) {
		__sync_fetch_and_sub(&p->c.live_bytes, size);
		__sync_fetch_and_add(&p->c.free_bytes, size);
		__sync_fetch_and_sub(&p->c.live_blocks, 1);
	}
}

/*
 * Is the slot holding ptr the block of owner? In a traced set two
 * processes may hold the same address; a slot's owner is written before
 * its key is published (live_table_insert), so a key seen is its owner's.
 */
static __always_inline bool live_owned(const struct live_slot *s, __u64 owner)
{
	return targ_tgid || (s->tag >> 32) == (owner >> 32);
}

static __always_inline bool live_shared(void)
{
	return !targ_tgid;
}

#define LIVE_GLOBAL	__noinline
#define LIVE_MASK	live_mask
#define LIVE_LOOP(n, step, ctx)	bpf_loop(n, step, ctx, 0)
#include "live_table.h"

/*
 * A global function: the verifier walks its nested loops once, where
 * inlined at each of the allocation return's three inserts it walked
 * them three times (0.2 s of its load time). tag carries the owner
 * (owner_of()) in a traced set.
 */
__noinline bool live_insert(__u64 ptr, __u64 size, __u64 seq, __u64 tag)
{
	return live_add(ptr, size, seq, tag);
}

/*
 * A new block. The global counters are the whole trace's; a process of a
 * traced set (p) also keeps its own, in full since nothing is derived
 * per process.
 */
static __always_inline __u64 block_new(__u64 ptr, __u64 size, __u64 now,
				       __u64 tag, __u16 *flags,
				       struct ms_proc *p, __u64 owner)
{
	__u64 seq = __sync_add_and_fetch(&counters.seq, 1);

	__sync_fetch_and_add(&counters.alloc_bytes, size);
	if (p) {
		__sync_fetch_and_add(&p->c.allocs, 1);
		__sync_fetch_and_add(&p->c.alloc_bytes, size);
	}
	if (!live_insert(ptr, size, seq, tag | owner)) {
		__sync_fetch_and_add(&counters.live_full, 1);
		__sync_fetch_and_add(&rare.full_bytes, size);
		if (p)
			__sync_fetch_and_add(&p->c.live_full, 1);
		*flags |= MS_EVF_LIVE_FULL;
		return seq;
	}
	live_bytes_add(&counters, size, now);
	if (p) {
		__sync_fetch_and_add(&p->c.live_blocks, 1);
		live_bytes_add(&p->c, size, now);
	}
	return seq;
}

/*
 * Release a block. With want_seq set, only the block that had that sequence
 * when the call began: another thread may have been handed the same address
 * since (realloc frees the old block before it returns), and its insert
 * then released this one already.
 */
static __always_inline void block_release_at(__u32 idx, __u64 ptr,
					     __u64 owner, __u64 want_seq,
					     struct ms_proc *p)
{
	struct live_slot *s = live_slot_at(idx);
	__u64 size;

	if (!s) {
		if (!want_seq) {
			__sync_fetch_and_add(&counters.unknown_frees, 1);
			if (p)
				__sync_fetch_and_add(&p->c.unknown_frees, 1);
		}
		return;
	}
	if (want_seq && s->seq != want_seq)
		return;
	size = s->size;
	/*
	 * A plain free owns its block: no other call can be handed ptr
	 * before this free runs, so one swap retires the slot. A realloc's
	 * release holds the slot while it checks seq again, since another
	 * thread may have been handed ptr meanwhile.
	 */
	if (__sync_val_compare_and_swap(&s->key, ptr,
					want_seq ? LIVE_BUSY : LIVE_TOMB) != ptr) {
		/* Taken from under us: a double free racing itself. */
		if (!want_seq) {
			__sync_fetch_and_add(&counters.unknown_frees, 1);
			if (p)
				__sync_fetch_and_add(&p->c.unknown_frees, 1);
		}
		return;
	}
	if (want_seq) {
		/* Replaced between the check and the swap: put it back. */
		if (s->seq != want_seq) {
			__sync_lock_test_and_set(&s->key, ptr);
			return;
		}
		size = s->size;
		__sync_lock_test_and_set(&s->key, LIVE_TOMB);
	}
	__sync_fetch_and_add(&counters.frees, 1);
	__sync_fetch_and_sub(&counters.live_bytes, size);
	if (p) {
		__sync_fetch_and_add(&p->c.frees, 1);
		__sync_fetch_and_add(&p->c.free_bytes, size);
		__sync_fetch_and_sub(&p->c.live_bytes, size);
		__sync_fetch_and_sub(&p->c.live_blocks, 1);
	}
	live_released(idx, ptr, owner);
}

static __always_inline void block_release(__u64 ptr, __u64 want_seq,
					  struct ms_proc *p, __u64 owner)
{
	block_release_at(live_lookup(ptr, owner), ptr, owner, want_seq, p);
}

/*
 * Claim len bytes of the ring. Producers race only on ring_prod, and a
 * full ring drops the record (counted) instead of waiting.
 */
/*
 * A traced set: what a process lost (records, stacks by why they ended)
 * is counted in its entry too, beside the global counters: tgid's entry,
 * or NULL on the one-process path, whose global counters are its own.
 */
static __always_inline struct ms_proc *proc_of(__u32 tgid)
{
	return targ_tgid ? NULL : bpf_map_lookup_elem(&procs, &tgid);
}

static __always_inline struct ms_event *event_reserve(__u32 len, __u64 *pos)
{
	struct ms_proc *p;

	__u64 prod = 0, cons;
	bool got = false;
	__u32 chunk;
	void *base;

	/*
	 * A failed swap means another producer got its bytes: with many CPUs
	 * reserving at once a producer may lose many times in a row, and a
	 * record dropped for that would read as a full ring. The loop has one
	 * way out, so the verifier walks the rest of a program once, not once
	 * per iteration.
	 */
	for (int i = 0; i < 64 && !got; i++) {
		prod = *(volatile __u64 *)&ring_prod;
		cons = *(volatile __u64 *)&ring_cons;
		if (prod - cons + len > ring_bytes)
			break;
		got = __sync_val_compare_and_swap(&ring_prod, prod,
						  prod + len) == prod;
	}
	chunk = (prod & (ring_bytes - 1)) >> MS_RING_CHUNK_SHIFT;
	base = got ? bpf_map_lookup_elem(&ring, &chunk) : NULL;
	if (!base) {
		__sync_fetch_and_add(&counters.lost_events, 1);
		/* the process whose probe lost it (a fork's: the parent) */
		p = proc_of(current_id() >> 32);
		if (p)
			__sync_fetch_and_add(&p->c.lost_events, 1);
		return NULL;
	}
	*pos = prod;
	/* Lengths are 8-byte multiples; the mask tells the verifier. */
	return base + (prod & (MS_RING_CHUNK - 8)) + sizeof(struct ms_ring_hdr);
}

/* A store that no earlier store of this CPU is seen after. */
static __always_inline void commit(__u64 *p, __u64 v)
{
#ifdef __TARGET_ARCH_x86
	/* x86 keeps stores in order: only the compiler must not move them. */
	asm volatile("" ::: "memory");
	*(volatile __u64 *)p = v;
#else
	__sync_lock_test_and_set(p, v);
#endif
}

/*
 * Publish a record reserved with max bytes that needs only len: the tail
 * goes back when no one has reserved after it (the common case), else the
 * record keeps it as padding.
 */
static __always_inline void event_submit(struct ms_event *e, __u64 pos,
					 __u32 max, __u32 len)
{
	struct ms_ring_hdr *h = (void *)e - sizeof(*h);
	__u64 end = pos + max;

	if (len < max &&
	    __sync_val_compare_and_swap(&ring_prod, pos + max, pos + len) ==
	    pos + max)
		end = pos + len;
	h->len = end - pos;
	h->pad = 0;
	commit(&h->commit, ~pos);
	/* The consumer drains on a short timer; wake it only when filling. */
	if (end - *(volatile __u64 *)&ring_cons >= wakeup_bytes &&
	    !wake_sent && !__sync_lock_test_and_set(&wake_sent, 1))
		bpf_ringbuf_output(&wake, &pos, sizeof(pos),
				   BPF_RB_FORCE_WAKEUP);
}

#define RING_LEN(nr_frames) \
	(__u32)(sizeof(struct ms_ring_hdr) + ms_event_size(nr_frames))

/*
 * Stacks. The walk runs over one bulk copy of the stack window, since one
 * copy costs about what a single small read does (PERF.md): only frames
 * beyond the window cost another copy.
 *
 * --stacks dwarf (the default) applies the CFI rows userspace compiled
 * from each mapped object (events.h, "Unwinding without frame pointers");
 * --stacks fp follows the frame-pointer chain. Either way a stack never
 * holds a guessed frame: it ends where the walk cannot go on, and says
 * why (enum ms_stop, in the record's flags and counted per CPU).
 */
const volatile bool stacks_fp = false;
/*
 * --jit-frame-pointers: code of no file (a JIT's) is walked by its frame
 * pointers, which the user says its runtime keeps (MS_MAPF_FRAME_PTR).
 */
const volatile bool jit_frame_ptrs = false;
/* Frames a walk may emit, 1..MS_MAX_STACK (--max-depth). */
const volatile __u32 max_depth = MS_DEFAULT_DEPTH;

/*
 * The rows of every loaded object, bump-allocated by userspace, in chunks
 * it makes as they fill (events.h) and writes through mappings of them.
 * The outer map holds --unwind-rows' chunks, set at load.
 */
struct row_chunk {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, MS_ROW_CHUNK);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct ms_unwind_row));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MS_ROW_CHUNKS_MAX);
	__type(key, __u32);
	__array(values, struct row_chunk);
} unwind_rows SEC(".maps");

/* Row idx of the array, NULL where its chunk is not made (yet). */
static __always_inline struct ms_unwind_row *row_at(__u32 idx)
{
	__u32 chunk = idx >> MS_ROW_CHUNK_SHIFT, i = idx & (MS_ROW_CHUNK - 1);
	void *rows = bpf_map_lookup_elem(&unwind_rows, &chunk);

	return rows ? bpf_map_lookup_elem(rows, &i) : NULL;
}

#define UNWIND_OBJS	4096

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UNWIND_OBJS);
	__type(key, __u32);
	__type(value, struct ms_unwind_obj);
} unwind_objs SEC(".maps");

/* Executable mappings by tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct ms_proc_maps);
} proc_maps SEC(".maps");

/*
 * The files whose tables are in, for a pc its process's maps do not place
 * yet (struct ms_unwind_file): a process of a set that just started or
 * exec'd runs its first allocations before userspace has read its maps,
 * and most of its objects are ones other processes map too.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* a few files each trace */
	__uint(max_entries, UNWIND_OBJS);
	__type(key, struct ms_file_key);
	__type(value, struct ms_unwind_file);
} unwind_files SEC(".maps");

/*
 * Memo validity: bumped by userspace after it changes rows, objects or
 * mappings, and here when a target's executable mappings change. 0 never
 * validates anything, so the zeroed memo starts empty.
 */
__u32 unwind_gen = 1;
/*
 * Executable-mapping changes seen in the traced processes (their
 * executable pages changed, or one exec'd), counted once the mapping
 * exists: what tells userspace that maps are to be read again.
 */
__u64 maps_changed __attribute__((aligned(64)));
/*
 * The one -p process's changes of which file is at an address (a set's
 * are ms_proc.maps_seq): its ms_proc_maps.seq.
 */
__u64 targ_maps_seq;
/*
 * -- CMD: the thread that made an executable mapping is stopped (SIGSTOP,
 * which the launcher takes, as the tracer of every thread, and swallows)
 * before it returns to it, so the tables are loaded before any code there
 * runs. A thread with a stop in flight is in map_stopped until userspace
 * takes the stop: that is how the launcher tells its own SIGSTOP from one
 * somebody else sent. (A thread not held because the table is full may
 * reach the mapping before its rows: NOT_LOADED, counted with the stack
 * stops.)
 */
const volatile bool stop_on_map = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);	/* the thread's process */
} map_stopped SEC(".maps");

/*
 * --hold-exec (a set outside launch mode): a process of the set that
 * execs a file userspace has not examined is stopped the same way (its
 * tid in map_stopped, SIGSTOP) until the tool has probed the file and
 * sends SIGCONT. The files it examined: known_exes (struct ms_file_key).
 */
const volatile bool hold_exec = false;
/*
 * --hold-exec with the syscall exit program (not --alloc-only): a process
 * of the set that maps a file executable (dlopen, ld.so mapping an
 * LD_PRELOAD'd library) is held the same way when the file is new to us.
 */
const volatile bool hold_map = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ms_file_key);
	__type(value, __u8);
} known_exes SEC(".maps");

/* Why stacks ended, per CPU: a locked add on a shared line per record
 * costs more than the rest of a repeated walk. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MS_STOP__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stack_stops SEC(".maps");

/*
 * The rule for a pc, memoized per CPU, direct mapped by (tgid, pc): an
 * allocation site repeats its stack millions of times, and a hit costs a
 * hash and a compare where a miss costs two binary searches.
 */
#define MEMO_BITS	12

struct memo {
	__u64 pc;		/* as looked up: pc, or pc - 1 */
	__u32 tgid;
	__u32 gen;		/* unwind_gen when filled */
	__s32 cfa_off;
	__s32 rbp_off;
	__u8 cfa_type;
	__u8 rbp_type;
	__u8 stop;		/* enum ms_stop when no rule applies, else 0 */
	__u8 pad[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << MEMO_BITS);
	__type(key, __u32);
	__type(value, struct memo);
} memo SEC(".maps");

/* Signal frames (x86-64): rsp is the ucontext; its mcontext's registers. */
#define UC_RBP		120
#define UC_RSP		160
#define UC_RIP		168

/*
 * A walk at one frame: the frame's registers, the window, the frames
 * emitted. Scalars only: the walk's steps are global functions, verified
 * once each, and the verifier forgets what a global function may have
 * written through a pointer (a pointer kept here would stop being one).
 */
struct walk {
	__u64 pc;
	__u64 sp;
	__u64 bp;
	__u64 wbase;		/* the window holds [wbase, wbase + wlen) */
	__u32 wlen;
	__u32 n;		/* frames emitted */
	__u32 tgid;
	__u32 tid;
	__u32 gen;
	/*
	 * Keeps the flags below in an 8-byte stack slot of their own: with
	 * gen beside them the verifier loses track of the slot and the fp
	 * walk's states stop pruning (past a million instructions).
	 */
	__u32 pad0;
	bool exact;		/* pc is not a return address: no pc - 1 */
	bool bp_known;
	__u8 stop;
	/* every frame so far replayed in the first window: a trail */
	bool trail;
};

#define TRAIL_BP_USED	1	/* a rule used the probe's rbp */

/*
 * Copies the window from base: first bytes at the start of a walk (0
 * inside it). Near the top of the stack a whole window runs past its
 * end, so then, at the start of a walk, only the rest of base's page. Inside the walk only windows of fixed sizes are copied: a
 * read of variable size there trips the 6.18 verifier's precision
 * tracking across the callback ("callback leftover stack slots"), and a
 * frame at the very top of the stack is read word by word instead.
 */
static __always_inline void window_fill(struct walk *w, __u64 *win,
					__u64 base, __u32 first)
{
	__u32 len = PAGE_SIZE - (base & (PAGE_SIZE - 1));

	w->wbase = base;
	w->wlen = 0;
	if (first) {
		if (!bpf_probe_read_user(win, first, (void *)base))
			w->wlen = first;
		else if (len < first &&
			 !bpf_probe_read_user(win, len, (void *)base))
			w->wlen = len;
		return;
	}
	/* Near the top of the stack a large window may run past it. */
	if (!bpf_probe_read_user(win, STACK_WINDOW, (void *)base))
		w->wlen = STACK_WINDOW;
	else if (!bpf_probe_read_user(win, FIRST_WINDOW, (void *)base))
		w->wlen = FIRST_WINDOW;
}

/*
 * One word read alone, through the scratch word after the window: a
 * helper's write into a callback's own stack is a slot the 6.18
 * verifier cannot track back through the callback ("callback leftover
 * stack slots") once the value read decides an offset.
 */
static __always_inline int word_read(__u64 *win, __u64 addr, __u64 *out)
{
	if (bpf_probe_read_user(&win[WINDOW_WORDS], sizeof(__u64),
				(void *)addr))
		return -1;
	*out = win[WINDOW_WORDS];
	return 0;
}

/*
 * One word of the stack: from the window, else from a new window (what
 * the frames above will read too), else one read.
 */
static __always_inline int stack_word(struct walk *w, __u64 addr, __u64 *out)
{
	__u32 zero = 0;
	__u64 *win = bpf_map_lookup_elem(&stack_window, &zero), off;

	if (!win)
		return -1;
	if (addr & 7)
		return word_read(win, addr, out);
	off = addr - w->wbase;
	if (addr < w->wbase || off + 8 > w->wlen) {
		if (addr < w->sp)
			return word_read(win, addr, out);
		/*
		 * From the frame's sp, or, past a large frame, from a little
		 * below addr: the registers saved under the CFA, and the
		 * frames above it, come in the same copy.
		 */
		window_fill(w, win, addr - w->sp > WINDOW_BELOW ?
			    (addr - WINDOW_BELOW) & ~7ull : w->sp & ~7ull, 0);
		off = addr - w->wbase;
		if (off + 8 > w->wlen)
			return word_read(win, addr, out);
	}
	*out = win[(off / 8) & (WINDOW_WORDS - 1)];
	return 0;
}

/*
 * Binary searches run as bpf_loop callbacks: the verifier checks a step
 * once, where a bounded loop would have it walk every path through every
 * step, past its limit.
 */
struct search {
	__u64 key;
	void *maps;		/* struct ms_proc_maps, for the map search */
	__u32 first;		/* row search: the object's first row */
	__u32 lo;		/* the answer is the last entry below lo */
	__u32 hi;
	bool failed;
};

/* Steps bound: 2^9 > MS_PROC_MAPS, 2^23 rows per object. */
#define MAP_SEARCH_STEPS	9
#define ROW_SEARCH_STEPS	23

static long map_search_step(__u32 i, void *ctx)
{
	struct search *q = ctx;
	struct ms_proc_maps *pm = q->maps;
	__u32 mid;

	if (q->lo >= q->hi)
		return 1;
	mid = q->lo + (q->hi - q->lo) / 2;
	if (pm->m[mid & (MS_PROC_MAPS - 1)].start <= q->key)
		q->lo = mid + 1;
	else
		q->hi = mid;
	return 0;
}

static long row_search_step(__u32 i, void *ctx)
{
	struct search *q = ctx;
	struct ms_unwind_row *r;
	__u32 mid, idx;

	if (q->lo >= q->hi)
		return 1;
	mid = q->lo + (q->hi - q->lo) / 2;
	idx = q->first + mid;
	r = row_at(idx);
	if (!r) {
		q->failed = true;
		return 1;
	}
	if (r->pc <= q->key)
		q->lo = mid + 1;
	else
		q->hi = mid;
	return 0;
}

/* The row for addr (an ELF address), from the object's sorted rows. */
static __always_inline int row_find(__u32 obj_idx, __u64 addr,
				    struct ms_unwind_row *out)
{
	struct ms_unwind_obj *obj = bpf_map_lookup_elem(&unwind_objs, &obj_idx);
	struct search q = { .key = addr };
	struct ms_unwind_row *r;
	__u32 idx;

	if (!obj || !obj->nr || addr > 0xffffffffull)
		return MS_STOP_NO_INFO;
	q.first = obj->first;
	q.hi = obj->nr;
	bpf_loop(ROW_SEARCH_STEPS + 1, row_search_step, &q, 0);
	/* Below the first row, or more rows than the search covers. */
	if (q.failed || q.lo < q.hi || !q.lo)
		return MS_STOP_NO_INFO;
	idx = q.first + q.lo - 1;
	r = row_at(idx);
	if (!r)
		return MS_STOP_NO_INFO;
	*out = *r;
	return 0;
}

/*
 * In a traced set, the processes whose executable mappings changed since
 * userspace last looked, or whose first stack found no tables: it reads
 * their maps again, and only theirs. The value is the time of the first
 * mark since then: an allocator it finds in them was mapped (and may have
 * run unprobed) from that time on, which the report says.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} maps_dirty SEC(".maps");

static __always_inline void maps_dirty_mark(__u32 tgid)
{
	__u64 now;

	if (targ_tgid)
		return;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&maps_dirty, &tgid, &now, BPF_NOEXIST);
}

/*
 * Whether pm still tells tgid's executable mappings: read for the image
 * it runs, and none changed since. A change is counted once the mapping
 * exists, before any thread runs code there.
 */
static __always_inline bool maps_current(__u32 tgid,
					 const struct ms_proc_maps *pm)
{
	struct ms_proc *p;

	if (targ_tgid)
		return pm->gen == *(volatile __u32 *)&targ_gen &&
		       pm->seq == *(volatile __u64 *)&targ_maps_seq;
	p = bpf_map_lookup_elem(&procs, &tgid);
	return p && pm->gen == p->gen &&
	       pm->seq == *(volatile __u64 *)&p->maps_seq;
}

/* Whether tgid's executable pages changed at all since pm was read. */
static __always_inline bool maps_grown(__u32 tgid,
				       const struct ms_proc_maps *pm)
{
	struct ms_proc *p;

	if (targ_tgid)
		return pm->exec_seq != *(volatile __u64 *)&maps_changed;
	p = bpf_map_lookup_elem(&procs, &tgid);
	return !p || pm->exec_seq != *(volatile __u64 *)&p->exec_changes;
}

/* The image of tgid the walk runs in (struct ms_proc_maps.gen). */
static __always_inline __u32 image_gen(__u32 tgid)
{
	struct ms_proc *p;

	if (targ_tgid)
		return *(volatile __u32 *)&targ_gen;
	p = bpf_map_lookup_elem(&procs, &tgid);
	return p ? p->gen : 0;
}

#define VM_EXEC		0x4
#define PAGE_SHIFT	12

/* What the task's vma at pc says of it: its file and where it maps it. */
struct vma_pc {
	struct ms_file_key key;
	__u64 start;		/* vm_start */
	__u64 end;		/* vm_end */
	__u64 offset;		/* the file offset at vm_start */
	bool exe;		/* the task's program */
	bool jit;		/* code of no file, walked by frame pointers */
	__u8 stop;		/* enum ms_stop when there is no file */
};

static long vma_pc_read(struct task_struct *task, struct vm_area_struct *vma,
			void *data)
{
	struct vma_pc *v = data;
	struct file *file = vma->vm_file;
	struct mm_struct *mm = vma->vm_mm;

	if (!(vma->vm_flags & VM_EXEC)) {
		v->stop = MS_STOP_NO_MAPPING;
		return 0;
	}
	/* The vDSO's table comes with the process's maps; a JIT has none. */
	if (!file) {
		if (vma->vm_start == (__u64)mm->context.vdso)
			v->stop = MS_STOP_NOT_LOADED;
		else if (jit_frame_ptrs)
			v->jit = true;
		else
			v->stop = MS_STOP_NO_MAPPING;
		return 0;
	}
	v->key.dev = file->f_inode->i_sb->s_dev;
	v->key.ino = file->f_inode->i_ino;
	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->offset = vma->vm_pgoff << PAGE_SHIFT;
	v->exe = mm->exe_file && mm->exe_file->f_inode == file->f_inode;
	return 0;
}

/*
 * The file mappings vma_rule walked through, and those userspace read,
 * by process image (events.h): LRU, since entries must outlive their
 * process until its stacks are named. 512 for -p too (16 lost the images
 * of a -p process that exec'd a chain of programs before the drain named
 * them: half the runs of exec_chain_names under ASan), and userspace adds
 * room for each CPU's own free entries (lru_room() in trace.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 512);
	__type(key, struct ms_image_key);
	__type(value, struct ms_image_vmas);
} image_vmas SEC(".maps");

/* An image's first entry: too large for the BPF stack. */
const volatile struct ms_image_vmas image_vmas_none = {};

/* The vma v of process tgid's image, kept for its names (events.h). */
static __always_inline void vma_keep(__u32 tgid, const struct vma_pc *v)
{
	struct ms_image_key k = { .tgid = tgid, .gen = image_gen(tgid) };
	struct ms_image_vmas *iv;
	__u32 i, n;

	iv = bpf_map_lookup_elem(&image_vmas, &k);
	if (!iv) {
		bpf_map_update_elem(&image_vmas, &k,
				    (const void *)&image_vmas_none, BPF_NOEXIST);
		iv = bpf_map_lookup_elem(&image_vmas, &k);
		if (!iv)
			return;
	}
	n = iv->nr < MS_IMAGE_VMAS ? iv->nr : MS_IMAGE_VMAS;
	for (i = 0; i < MS_IMAGE_VMAS; i++)
		if (i < n && iv->v[i].start == v->start)
			return;
	i = __sync_fetch_and_add(&iv->nr, 1);
	if (i >= MS_IMAGE_VMAS)
		return;
	iv->v[i].end = v->end;
	iv->v[i].offset = v->offset;
	iv->v[i].dev = v->key.dev;
	iv->v[i].ino = v->key.ino;
	iv->v[i].start = v->start;
}

/* A new image of tgid: what another process of its pid left goes. */
static __always_inline void image_vmas_clear(__u32 tgid, __u32 gen)
{
	struct ms_image_key k = { .tgid = tgid, .gen = gen };

	bpf_map_delete_elem(&image_vmas, &k);
}

/* The rule of code that keeps frame pointers (MS_MAPF_FRAME_PTR). */
static __always_inline int frame_ptr_rule(struct ms_unwind_row *out)
{
	out->cfa_type = MS_CFA_RBP;
	out->cfa_off = 16;
	out->rbp_type = MS_RBP_CFA;
	out->rbp_off = -16;
	return 0;
}

/*
 * rule_find's answer when the task's vmas could not be read this once:
 * bpf_find_vma's trylock fails while a thread of the process holds the
 * mmap lock (a JIT's compiler threads protecting code pages). A stop of
 * not_loaded, not remembered in the memo: the next walk may read them.
 */
#define STOP_BUSY	MS_STOP__COUNT

/*
 * The rule for pc from the file the current task maps there, for a pc its
 * process's maps do not place (yet): the object userspace compiled for
 * that file, at the ELF address the process's maps would give
 * (ms_file_bias()). NOT_LOADED whenever it cannot be told, STOP_BUSY
 * when the vmas could not be read.
 */
__noinline int vma_rule(__u32 tgid, __u64 pc, struct ms_unwind_row *out)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vma_pc v = {};
	struct ms_unwind_file *f;
	__u64 bias;
	__u32 obj;
	long err;

	if (!out)
		return MS_STOP_READ;
	err = bpf_find_vma(task, pc, vma_pc_read, &v, 0);
	if (err)
		return err == -ENOENT ? MS_STOP_NO_MAPPING :
		       err == -EBUSY ? STOP_BUSY : MS_STOP_NOT_LOADED;
	if (v.stop)
		return v.stop;
	if (v.jit)
		return frame_ptr_rule(out);
	vma_keep(tgid, &v);
	f = bpf_map_lookup_elem(&unwind_files, &v.key);
	if (!f)
		return MS_STOP_NOT_LOADED;
	obj = v.exe || (f->flags & MS_FILEF_INTERP) ? f->entry_obj : f->obj;
	if (!obj || !ms_file_bias(f->segs, f->nr_segs, v.start,
				  v.end - v.start, v.offset,
				  &bias))
		return MS_STOP_NOT_LOADED;
	if (pc < bias)
		return MS_STOP_NO_INFO;
	return row_find(obj, pc - bias, out);
}

/*
 * The rule for pc in process tgid, without the memo: an enum ms_stop (or
 * STOP_BUSY), 0 with *out set. A global function, so the verifier checks it once on
 * its own, not again for every state of the walk that calls it.
 */
__noinline int rule_find(__u32 tgid, __u64 pc, struct ms_unwind_row *out)
{
	struct search q = { .key = pc };
	struct ms_proc_maps *pm;
	struct ms_proc_map *m;

	if (!out)
		return MS_STOP_READ;
	pm = bpf_map_lookup_elem(&proc_maps, &tgid);
	if (!pm) {
		/*
		 * A process of a set whose tables were left for when it
		 * allocates (-a, --comm and --cgroup find many at start),
		 * or one that has just started: its maps are read now.
		 */
		maps_dirty_mark(tgid);
		return vma_rule(tgid, pc, out);
	}
	/*
	 * Maps of the program it ran before an exec, or from before it
	 * changed which file is where (a dlclose, then a dlopen of another
	 * object at the same address): their rows would misread the code
	 * there now. Until userspace reads them again, every pc is looked
	 * up in the task's own vmas, by file.
	 */
	if (!maps_current(tgid, pm))
		return vma_rule(tgid, pc, out);
	q.maps = pm;
	q.hi = pm->nr < MS_PROC_MAPS ? pm->nr : MS_PROC_MAPS;
	bpf_loop(MAP_SEARCH_STEPS + 1, map_search_step, &q, 0);
	/*
	 * In no mapping they tell: in code made executable since (an
	 * mprotect, which moves no file), or in none. A JIT's code made
	 * since changes no file mapping, and is looked for whenever the
	 * user says it keeps frame pointers.
	 */
	if (!q.lo)
		return jit_frame_ptrs || maps_grown(tgid, pm) ?
		       vma_rule(tgid, pc, out) : MS_STOP_NO_MAPPING;
	m = &pm->m[(q.lo - 1) & (MS_PROC_MAPS - 1)];
	if (pc >= m->end)
		return jit_frame_ptrs || maps_grown(tgid, pm) ?
		       vma_rule(tgid, pc, out) : MS_STOP_NO_MAPPING;
	if (jit_frame_ptrs && (m->flags & MS_MAPF_FRAME_PTR))
		return frame_ptr_rule(out);
	if (m->flags & MS_MAPF_NO_TABLE)
		return MS_STOP_NOT_LOADED;
	if (pc < m->bias)
		return MS_STOP_NO_INFO;
	return row_find(m->obj, pc - m->bias, out);
}

/* The memo's slot for pc (as looked up) in process tgid. */
static __always_inline __u32 memo_idx(__u64 pc, __u32 tgid)
{
	return ((pc ^ ((__u64)tgid << 32)) * 0x9e3779b97f4a7c15ull) >>
	       (64 - MEMO_BITS);
}

/*
 * The rule for the walk's pc, through the memo; *slot is the memo's slot
 * that holds it now (NULL if none).
 */
static __always_inline int rule_get(struct walk *w, struct ms_unwind_row *out,
				    struct memo **slot)
{
	__u64 pc = w->exact ? w->pc : w->pc - 1;
	__u32 idx = memo_idx(pc, w->tgid);
	struct memo *mm = bpf_map_lookup_elem(&memo, &idx);
	int stop;

	*slot = mm;
	if (mm && mm->pc == pc && mm->gen == w->gen && mm->tgid == w->tgid) {
		out->cfa_type = mm->cfa_type;
		out->rbp_type = mm->rbp_type;
		out->cfa_off = mm->cfa_off;
		out->rbp_off = mm->rbp_off;
		return mm->stop;
	}
	stop = rule_find(w->tgid, pc, out);
	/* Remembered, one failed trylock stopped every later walk here */
	if (stop == STOP_BUSY)
		return MS_STOP_NOT_LOADED;
	if (mm) {
		mm->pc = pc;
		mm->tgid = w->tgid;
		mm->gen = w->gen;
		mm->stop = stop;
		mm->cfa_type = stop ? MS_CFA_UNDEFINED : out->cfa_type;
		mm->rbp_type = stop ? MS_RBP_SAME : out->rbp_type;
		mm->cfa_off = stop ? 0 : out->cfa_off;
		mm->rbp_off = stop ? 0 : out->rbp_off;
	}
	return stop;
}

/*
 * Each thread's rules by stack address: the rule its last walks used at
 * each frame, copied from the memo into a slot chosen by the frame's sp.
 * The frames a call path shares with the last one (a service allocating
 * from many sites under one event loop, at whatever depth the sites lie)
 * sit at the same stack addresses with the same pcs, so their rules are
 * found in neighbouring slots (read ahead by the CPU) where the memo's
 * are scattered by hash; a frame whose slot holds another pc takes its
 * rule from the memo and leaves it here. A rule is a function of pc, the
 * process and unwind_gen alone, which the slot is compared on: a slot
 * another thread or call path left is never wrong, only a miss. Per CPU,
 * for a few threads a CPU (by tid).
 */
#define CACHE_THREADS	4
#define CACHE_SLOTS	256	/* frames are 16-byte aligned: 4 KiB of stack */

/*
 * The thread's last walk, kept when every frame of it was replayed from
 * the first window: where it began, and each word of the window it read
 * with the value it found there. A walk is a function of its start (sp,
 * the first pc, rbp if a rule used it), the rules (unwind_gen) and the
 * words it reads: one that starts where the trail did and finds the
 * trail's words in its own window is the same walk, and takes the
 * trail's frames in a loop of compares, without a rule looked up. A
 * caller that differs anywhere up the stack (the same function called
 * from elsewhere at the same depth) differs in a return address the walk
 * reads: a miss, then a walk, never a frame taken on trust. Walks deeper
 * than TRAIL_FRAMES are not kept.
 */
#define TRAIL_FRAMES	64
#define TRAIL_NONE	0xffff

struct walk_trail {
	__u64 sp;		/* where the walk began (past the entry's
				 * return address at an entry probe) */
	__u64 bp;		/* the probe's rbp: compared if TRAIL_BP_USED */
	__u64 end_sp;		/* the last frame's sp: the span */
	__u32 gen;		/* unwind_gen of the rules it took */
	__u32 tgid;
	__u16 n;		/* frames; 0: no trail */
	__u8 stop;
	__u8 flags;		/* TRAIL_BP_USED */
	bool exact;		/* the first pc is the probe's own */
	/* while walking: TRAIL_BP_USED while bp is still the probe's rbp */
	__u8 bp_reg;
	__u16 pad;
	__u64 frames[TRAIL_FRAMES];
	/* frame k + 1's pc came from word ra_at[k], its rbp from bp_at[k] */
	__u16 ra_at[TRAIL_FRAMES];
	__u16 bp_at[TRAIL_FRAMES];
	__u64 bp_val[TRAIL_FRAMES];
};

struct walk_cache {
	__u32 tid;		/* the thread whose span and trail these are */
	__u32 pad;
	/*
	 * Bytes from the thread's last first window to the last frame its
	 * walk reached: how long its next first window is copied.
	 */
	__u64 span;
	struct walk_trail trail;
	struct memo r[CACHE_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CACHE_THREADS);
	__type(key, __u32);
	__type(value, struct walk_cache);
} walk_cache SEC(".maps");

static __always_inline struct walk_cache *cache_of(const struct walk *w)
{
	__u32 idx = w->tid & (CACHE_THREADS - 1);

	return bpf_map_lookup_elem(&walk_cache, &idx);
}

/* What a step of the walk did. */
enum {
	WALK_NEXT = 0,		/* at the next frame */
	WALK_STOP,		/* ended, w->stop set */
	WALK_MISS,		/* no known rule applies here: walk this frame in full */
};

/*
 * Why the walk ends at a frame whose rule was looked up (stop: the
 * lookup's reason, 0 if it found one), or -1 when the rule goes on to
 * the caller: MS_STOP_END (0) at the outermost frame.
 */
static __always_inline int rule_end(__u8 stop, __u8 cfa_type)
{
	if (stop)
		return stop;
	if (cfa_type == MS_CFA_NO_INFO)
		return MS_STOP_NO_INFO;
	return cfa_type == MS_CFA_UNDEFINED ? MS_STOP_END : -1;
}

/*
 * The CFA of a rule computed from the frame's registers (from rsp, from
 * rbp, or a PLT stub's): false for the rules that read memory (a
 * dereferenced rbp, a signal frame) and when the rule needs an rbp the
 * walk lost.
 */
static __always_inline bool rule_cfa(__u8 cfa_type, __s32 cfa_off, __u64 pc,
				     __u64 sp, __u64 bp, bool bp_known,
				     __u64 *cfa)
{
	switch (cfa_type) {
	case MS_CFA_RSP:
		*cfa = sp + cfa_off;
		return true;
	case MS_CFA_RBP:
		*cfa = bp + cfa_off;
		return bp_known;
	case MS_CFA_PLT:
		*cfa = sp + 8 + ((pc & 15) >= (__u64)cfa_off ? 8 : 0);
		return true;
	default:
		return false;
	}
}

/*
 * Both walks' first step at a frame: its pc goes into the record, unless
 * the walk has ended (no pc: the outermost frame's return address was 0)
 * or reached the depth limit. True when the walk ends, w->stop set.
 */
static __always_inline bool walk_emit(struct walk *w, struct ms_event *e)
{
	if (!w->pc) {
		w->stop = MS_STOP_END;
		return true;
	}
	if (w->n >= max_depth || w->n >= MS_MAX_STACK) {
		w->stop = MS_STOP_DEPTH;
		return true;
	}
	e->frames[w->n & (MS_MAX_STACK - 1)] = w->pc;
	w->n++;
	return false;
}

/* The thread's cache slot for the frame at sp. */
static __always_inline struct memo *rule_slot(struct walk_cache *c, __u64 sp)
{
	return &c->r[(sp >> 4) & (CACHE_SLOTS - 1)];
}

/* Keeps the rule for pc (as looked up) in the frame at sp's slot. */
static __always_inline void rule_keep(struct walk_cache *c, __u64 sp,
				      const struct memo *mm)
{
	*rule_slot(c, sp) = *mm;
}

/*
 * The frames whose rules are known, in one loop over the window as
 * copied: from the thread's cache by frame number, else from the memo by
 * pc, then a load or two from the window a frame, where a frame walked in
 * full (walk_frame) costs a call, the window found again and the rule
 * looked up. A call path that differs from the last one near the top (a
 * service allocating from many sites under one event loop) takes the
 * rules of its differing frames from the memo and the rest from the
 * cache. At most REPLAY_FRAMES a call (WALK_NEXT: call again), since the
 * verifier walks each turn of the loop; WALK_MISS, with the walk at the
 * frame it reached, at the first frame whose rule neither holds, whose
 * rule reads memory elsewhere (a dereferenced CFA, a signal frame) or
 * whose words lie outside the window (walk_frame goes on from there, and
 * says why a walk stops); WALK_STOP when the walk ends, w->stop set.
 */
#define REPLAY_FRAMES	32

__noinline int walk_replay(struct walk *w, struct ms_event *e)
{
	__u64 pc, sp, bp, nbp, wbase, ra, off, key, cfa = 0;
	__u32 zero = 0, i, wlen, depth, tgid, gen, idx;
	struct walk_cache *c;
	struct walk_trail *t;
	struct memo rule;
	bool exact, bp_known;
	struct memo *mm;
	__u64 *win;
	int ret, end;

	if (!w || !e)
		return WALK_MISS;
	win = bpf_map_lookup_elem(&stack_window, &zero);
	c = cache_of(w);
	if (!win || !c)
		return WALK_MISS;
	t = &c->trail;
	depth = max_depth < MS_MAX_STACK ? max_depth : MS_MAX_STACK;
	tgid = w->tgid;
	gen = w->gen;
	pc = w->pc;
	sp = w->sp;
	bp = w->bp;
	exact = w->exact;
	bp_known = w->bp_known;
	wbase = w->wbase;
	wlen = w->wlen;
	i = w->n;
	ret = WALK_NEXT;
	for (int k = 0; k < REPLAY_FRAMES; k++) {
		ret = WALK_MISS;
		/* walk_frame ends the walk at a zero pc and at the depth. */
		if (!pc || i >= depth)
			break;
		key = exact ? pc : pc - 1;
		mm = rule_slot(c, sp);
		if (mm->pc != key || mm->gen != gen || mm->tgid != tgid) {
			idx = memo_idx(key, tgid);
			mm = bpf_map_lookup_elem(&memo, &idx);
			if (!mm || mm->pc != key || mm->gen != gen ||
			    mm->tgid != tgid)
				break;
			rule_keep(c, sp, mm);
		}
		rule = *mm;
		end = rule_end(rule.stop, rule.cfa_type);
		if (end >= 0) {
			w->stop = end;
			e->frames[i & (MS_MAX_STACK - 1)] = pc;
			t->frames[i & (TRAIL_FRAMES - 1)] = pc;
			w->n = i + 1;
			w->pc = pc;
			/* the span: how far up the next first window reaches */
			w->sp = sp;
			return WALK_STOP;
		}
		if (!rule_cfa(rule.cfa_type, rule.cfa_off, pc, sp, bp,
			      bp_known, &cfa))
			break;
		off = cfa - 8 - wbase;
		if (cfa <= sp || cfa - 8 < wbase || off + 8 > wlen || (off & 7))
			break;
		ra = win[(off / 8) & (WINDOW_WORDS - 1)];
		nbp = bp;
		/*
		 * The trail (written whole, kept only if the walk ends here
		 * and is short enough) lives in the map, not in registers:
		 * its flags there add no states for the verifier to walk.
		 * While bp is the probe's rbp, a rule using it makes the
		 * walk depend on it: the trail compares it.
		 */
		idx = i & (TRAIL_FRAMES - 1);
		t->frames[idx] = pc;
		t->ra_at[idx] = off / 8;
		t->bp_at[idx] = TRAIL_NONE;
		if (rule.cfa_type == MS_CFA_RBP ||
		    rule.rbp_type == MS_RBP_AT_RBP)
			t->flags |= t->bp_reg;
		if (rule.rbp_type == MS_RBP_CFA ||
		    rule.rbp_type == MS_RBP_AT_RBP) {
			if (rule.rbp_type == MS_RBP_CFA)
				off = cfa + rule.rbp_off;
			else if (bp_known)
				off = bp + rule.rbp_off;
			else
				break;
			if (off < wbase || off - wbase + 8 > wlen || (off & 7))
				break;
			nbp = win[((off - wbase) / 8) & (WINDOW_WORDS - 1)];
			t->bp_at[idx] = (off - wbase) / 8;
			t->bp_val[idx] = nbp;
			t->bp_reg = 0;
		} else if (rule.rbp_type != MS_RBP_SAME) {
			bp_known = false;
			t->bp_reg = 0;
		}
		e->frames[i & (MS_MAX_STACK - 1)] = pc;
		i++;
		pc = ra;
		sp = cfa;
		bp = nbp;
		exact = false;
		ret = WALK_NEXT;
	}
	w->pc = pc;
	w->sp = sp;
	w->bp = bp;
	w->exact = exact;
	w->bp_known = bp_known;
	w->n = i;
	return ret;
}

/*
 * Emits the walk's pc, then finds the frame that called it by the rule
 * for pc: WALK_NEXT or WALK_STOP (w->stop set). A global function, so
 * the verifier checks it once, not once per state of the loop.
 */
__noinline int walk_frame(struct walk *w, struct ms_event *e)
{
	struct ms_unwind_row r = {};
	__u64 cfa, ra, bp, v, g;
	struct walk_cache *c;
	struct memo *mm;
	int stop, end;

	if (!w || !e)
		return WALK_STOP;
	/* Rules that read memory elsewhere, or new windows: no trail. */
	w->trail = false;
	bp = w->bp;
	if (walk_emit(w, e))
		return WALK_STOP;
	stop = rule_get(w, &r, &mm);
	c = cache_of(w);
	if (c && mm)
		rule_keep(c, w->sp, mm);
	end = rule_end(stop, r.cfa_type);
	if (end >= 0) {
		w->stop = end;
		return WALK_STOP;
	}
	switch (r.cfa_type) {
	case MS_CFA_DEREF_RBP:
		if (!w->bp_known)
			goto unsupported;
		if (stack_word(w, w->bp + r.cfa_off, &cfa))
			goto read_failed;
		break;
	case MS_CFA_SIGNAL:
		/* The interrupted frame: its registers, and its exact pc. */
		if (stack_word(w, w->sp + UC_RIP, &ra) ||
		    stack_word(w, w->sp + UC_RBP, &bp) ||
		    stack_word(w, w->sp + UC_RSP, &cfa))
			goto read_failed;
		w->pc = ra;
		w->bp = bp;
		w->bp_known = true;
		w->sp = cfa;
		w->exact = true;
		return WALK_NEXT;
	/*
	 * Back from the system stack to the goroutine's, wherever that is
	 * (Go allocates it on its heap, below or above): no order of the
	 * two to check, the depth bounds the walk.
	 */
	case MS_CFA_DEREF_RSP:
		if (stack_word(w, w->sp + r.cfa_off, &cfa))
			goto read_failed;
		cfa += 8;
		goto switched;
	case MS_CFA_GO_STACK:
		if (stack_word(w, w->sp + r.cfa_off, &g) ||
		    stack_word(w, g + 8, &cfa) ||
		    stack_word(w, w->sp + r.rbp_off, &v))
			goto read_failed;
		cfa = cfa - v + 8;
		goto switched;
	case MS_CFA_RBP_RA:
		if (!w->bp_known)
			goto unsupported;
		cfa = w->bp + r.cfa_off;
		if (cfa <= w->sp || stack_word(w, w->bp + 8, &ra))
			goto read_failed;
		goto ra_read;
	default:
		if (!rule_cfa(r.cfa_type, r.cfa_off, w->pc, w->sp, w->bp,
			      w->bp_known, &cfa))
			goto unsupported;
		break;
	}
	/* Callers live above: a CFA at or below sp would walk in place. */
	if (cfa <= w->sp)
		goto read_failed;
switched:
	if (cfa == w->sp)
		goto read_failed;
	if (stack_word(w, cfa - 8, &ra))
		goto read_failed;
ra_read:
	switch (r.rbp_type) {
	case MS_RBP_SAME:
		break;
	case MS_RBP_CFA:
		if (stack_word(w, cfa + r.rbp_off, &v))
			goto read_failed;
		bp = v;
		break;
	case MS_RBP_AT_RBP:
		if (!w->bp_known)
			goto read_failed;
		if (stack_word(w, w->bp + r.rbp_off, &v))
			goto read_failed;
		bp = v;
		break;
	default:
		w->bp_known = false;
		break;
	}
	w->pc = ra;
	w->sp = cfa;
	w->bp = bp;
	w->exact = false;
	return WALK_NEXT;

unsupported:
	w->stop = MS_STOP_UNSUPPORTED;
	return WALK_STOP;
read_failed:
	w->stop = MS_STOP_READ;
	return WALK_STOP;
}

/*
 * The walk by the thread's trail, if the window holds the trail's words:
 * its frames into e, and w at its last frame, stop set. 0 when it does
 * not (e's frames then partly written, which the walk writes again).
 */
__noinline int trail_follow(struct walk *w, struct ms_event *e)
{
	__u32 zero = 0, n, k, at, words;
	struct walk_cache *c;
	struct walk_trail *t;
	__u64 *win;

	if (!w || !e)
		return 0;
	win = bpf_map_lookup_elem(&stack_window, &zero);
	c = cache_of(w);
	if (!win || !c)
		return 0;
	t = &c->trail;
	n = t->n;
	if (!n || n > TRAIL_FRAMES || c->tid != w->tid ||
	    t->tgid != w->tgid || t->gen != w->gen || t->sp != w->sp ||
	    t->exact != w->exact || t->frames[0] != w->pc ||
	    ((t->flags & TRAIL_BP_USED) && t->bp != w->bp))
		return 0;
	/* Words past wlen are an older copy's: outside, no trail. */
	words = w->wlen / 8;
	for (k = 0; k < TRAIL_FRAMES; k++) {
		e->frames[k] = t->frames[k];
		if (k + 1 >= n)
			break;
		at = t->ra_at[k];
		if (at >= words ||
		    win[at & (WINDOW_WORDS - 1)] != t->frames[k + 1])
			return 0;
		at = t->bp_at[k];
		if (at != TRAIL_NONE && (at >= words ||
		    win[at & (WINDOW_WORDS - 1)] != t->bp_val[k]))
			return 0;
	}
	w->n = n;
	w->pc = t->frames[(n - 1) & (TRAIL_FRAMES - 1)];
	w->sp = t->end_sp;
	w->stop = t->stop;
	return 1;
}

/* The walk with its record: what the loop's steps are handed. */
struct walk_ctx {
	struct walk w;
	struct ms_event *e;
};

static long cfi_step(__u32 i, void *ctx)
{
	struct walk_ctx *x = ctx;
	int r = walk_replay(&x->w, x->e);

	if (r != WALK_MISS)
		return r == WALK_STOP;
	return walk_frame(&x->w, x->e) == WALK_STOP;
}

/*
 * The frame-pointer walk: emits pc, then takes the saved rbp and return
 * address at rbp. A chain that leaves the stack or stops growing upward
 * has ended.
 */
static long fp_step(__u32 i, void *ctx)
{
	struct walk_ctx *x = ctx;
	struct walk *w = &x->w;
	__u64 next_bp, ra;

	if (walk_emit(w, x->e))
		return 1;
	/* A frame pointer lies above sp, aligned, and grows upward. */
	if (w->bp < w->sp || (w->bp & 7)) {
		w->stop = MS_STOP_END;
		return 1;
	}
	if (stack_word(w, w->bp, &next_bp) ||
	    stack_word(w, w->bp + 8, &ra)) {
		w->stop = MS_STOP_READ;
		return 1;
	}
	w->pc = ra;
	w->sp = w->bp + 16;
	if (next_bp <= w->bp)
		next_bp = 0;
	w->bp = next_bp;
	return 0;
}

/*
 * Counts why the stack of e ended, and a stack that could not be taken
 * at all. These stay the allocation stacks', the ones the report's sites
 * show: an anonymous-memory record's stack is counted by the store, from
 * its flags, in its own section (the loader's mappings, whose stacks end
 * in ld.so's _start without CFI, would mark every launched trace's heap
 * stacks incomplete), and a suspect free's says why it ended in its
 * anomaly, if it is one.
 */
static __always_inline void stop_count(const struct ms_event *e, __u32 stop,
				       bool no_stack)
{
	struct ms_proc *p;
	__u64 *c;
	__u32 i;

	if (ms_event_anon(e->type) || e->type == MS_EV_FREE)
		return;
	if (no_stack)
		__sync_fetch_and_add(&counters.stack_errors, 1);
	c = bpf_map_lookup_elem(&stack_stops, &stop);
	if (c)
		__sync_fetch_and_add(c, 1);
	p = proc_of(e->pid);
	/*
	 * stop lives on the stack (its address went to the lookup): the
	 * index is a register of its own, checked where it is used.
	 */
	i = stop;
	barrier_var(i);
	if (!p || i >= MS_STOP__COUNT)
		return;
	if (no_stack)
		__sync_fetch_and_add(&p->c.stack_errors, 1);
	__sync_fetch_and_add(&p->c.stack_stops[i], 1);
}

/*
 * Starts a walk at the probe: its registers, and the first bytes of the
 * stack copied from sp. false without the scratch window.
 */
static __always_inline bool walk_init(struct pt_regs *ctx, struct walk *w,
				      __u64 id, __u32 first)
{
	__u32 zero = 0;
	__u64 *win = bpf_map_lookup_elem(&stack_window, &zero);

	__builtin_memset(w, 0, sizeof(*w));
	if (!win)
		return false;
	w->pc = PT_REGS_IP(ctx);
	w->sp = PT_REGS_SP(ctx);
	w->bp = PT_REGS_FP(ctx);
	w->tgid = id >> 32;
	w->tid = (__u32)id;
	w->exact = true;
	w->bp_known = true;
	window_fill(w, win, w->sp, first);
	return true;
}

/*
 * The stack into e->frames, innermost first, from the probe's registers.
 *
 * at_entry: the probe sits where *sp is still the return address (the
 * attach module places entry probes only where sp is unchanged), so the
 * walk starts in the caller, at that address. At return, and at a USDT
 * site, ip is where the frame resumes, and the registers are its own.
 */
static __always_inline void stack_walk(struct pt_regs *ctx,
				       struct ms_event *e, __u64 id,
				       bool at_entry)
{
	struct walk_ctx x = { .e = e };
	struct walk *w = &x.w;
	struct walk_cache *c = NULL;
	__u32 stop = MS_STOP_READ, n, idx = (__u32)id & (CACHE_THREADS - 1);
	__u32 first = FIRST_WINDOW;
	__u64 start;

	e->nr_frames = 0;
	if (!stacks_fp) {
		c = bpf_map_lookup_elem(&walk_cache, &idx);
		/* This thread's last walk went past a first window. */
		if (c && c->tid == (__u32)id && c->span > FIRST_WINDOW)
			first = STACK_WINDOW;
	}
	if (!walk_init(ctx, w, id, first))
		goto no_stack;
	start = w->sp;
	w->gen = *(volatile __u32 *)&unwind_gen;
	if (at_entry) {
		if (stack_word(w, w->sp, &w->pc))
			goto no_stack;
		w->sp += 8;
		w->exact = false;
	}
	/*
	 * A call path the thread walked last time costs a compare a frame;
	 * most other stacks end within one run of known rules: the loop, and
	 * its callback's calls, only when they do not.
	 */
	if (stacks_fp) {
		bpf_loop(MS_MAX_STACK + 1, fp_step, &x, 0);
	} else if (!c || !trail_follow(w, e)) {
		/* A new trail, kept (n set) only if the walk makes one. */
		if (c) {
			c->trail.n = 0;
			c->trail.flags = 0;
			c->trail.bp_reg = TRAIL_BP_USED;
			c->trail.sp = w->sp;
			c->trail.bp = w->bp;
			c->trail.exact = w->exact;
		}
		w->trail = true;
		if (walk_replay(w, e) != WALK_STOP)
			bpf_loop(MS_MAX_STACK + 1, cfi_step, &x, 0);
		if (c && w->trail && w->n && w->n <= TRAIL_FRAMES) {
			c->trail.end_sp = w->sp;
			c->trail.gen = w->gen;
			c->trail.tgid = w->tgid;
			c->trail.stop = w->stop;
			c->trail.n = w->n;
		}
	}
	if (c) {
		c->tid = w->tid;
		c->span = w->sp - start;
	}
	n = w->n < MS_MAX_STACK ? w->n : MS_MAX_STACK;
	e->nr_frames = n;
	stop = w->stop;
	if (!n)
		goto no_stack;
	if (stop == MS_STOP_DEPTH)
		e->flags |= MS_EVF_STACK_TRUNC;
	e->flags |= (__u16)(stop << MS_EVF_STOP_SHIFT);
	stop_count(e, stop, false);
	return;

no_stack:
	e->flags |= MS_EVF_STACK_ERR | (__u16)(stop << MS_EVF_STOP_SHIFT);
	stop_count(e, stop, true);
}

/*
 * The walk is one program of its own, tail-called by every program that
 * takes a stack: the verifier checks the walk once, where inlined into
 * the allocation return and each of the twelve USDT programs it took
 * seconds of load time each. The caller leaves its reserved record here.
 */
struct walk_call {
	__u64 pos;		/* the record's place in the ring */
	__u64 id;		/* current_id(), read once */
	__u32 max;		/* bytes reserved */
	bool at_entry;
	bool whole;		/* a declared record: submitted whole */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_call);
} walk_call SEC(".maps");

/*
 * The walk programs, by the kind of probe that calls them: a tail call
 * needs a program loaded like its caller, and the allocator probes may
 * be uprobe_multi links where the USDT ones are plain uprobes. A program
 * must name only the array of its own kind.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} walk_plain SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} walk_multi SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} walk_sys SEC(".maps");

/* The record at pos, as event_reserve() handed it out. */
static __always_inline struct ms_event *event_at(__u64 pos)
{
	__u32 chunk = (pos & (ring_bytes - 1)) >> MS_RING_CHUNK_SHIFT;
	void *base = bpf_map_lookup_elem(&ring, &chunk);

	if (!base)
		return NULL;
	return base + (pos & (MS_RING_CHUNK - 8)) + sizeof(struct ms_ring_hdr);
}

/* Which walk program a caller tail-calls: one loaded like it. */
enum walk_kind {
	WALK_PLAIN,		/* USDT probes: ms_walk */
	WALK_MULTI,		/* allocator probes: ms_walk_multi */
	WALK_SYS,		/* the sys_exit tracepoint: ms_walk_sys */
};

/*
 * Walks the stack into the record e (reserved at pos, max bytes) and
 * submits it, through the walk program of the caller's kind. Only if
 * the tail call fails does it return: the record goes without a stack.
 */
static __always_inline void stack_submit(void *ctx, struct ms_event *e,
					 __u64 pos, __u32 max, bool at_entry,
					 enum walk_kind kind, __u64 id)
{
	__u32 zero = 0;
	struct walk_call *c = bpf_map_lookup_elem(&walk_call, &zero);
	bool whole = ms_event_declared(e->type);

	e->nr_frames = 0;
	if (c) {
		c->pos = pos;
		c->id = id;
		c->max = max;
		c->at_entry = at_entry;
		c->whole = whole;
		if (kind == WALK_MULTI)
			bpf_tail_call(ctx, &walk_multi, 0);
		else if (kind == WALK_SYS)
			bpf_tail_call(ctx, &walk_sys, 0);
		else
			bpf_tail_call(ctx, &walk_plain, 0);
	}
	e->flags |= MS_EVF_STACK_ERR | (MS_STOP_READ << MS_EVF_STOP_SHIFT);
	stop_count(e, MS_STOP_READ, true);
	event_submit(e, pos, max, whole ? max : RING_LEN(0));
}

static __always_inline int walk_prog(struct pt_regs *ctx)
{
	struct walk_call *c;
	struct ms_event *e;
	__u32 zero = 0, max;
	__u64 pos;
	bool whole;

	c = bpf_map_lookup_elem(&walk_call, &zero);
	if (!c)
		return 0;
	pos = c->pos;
	max = c->max;
	whole = c->whole;
	e = event_at(pos);
	/* Lost from under us only if the ring is gone: nothing to publish. */
	if (!e)
		return 0;
	stack_walk(ctx, e, c->id, c->at_entry);
	event_submit(e, pos, max, whole ? max : RING_LEN(e->nr_frames));
	return 0;
}

SEC("uprobe")
int ms_walk(struct pt_regs *ctx)
{
	return walk_prog(ctx);
}

SEC("uprobe")
int ms_walk_multi(struct pt_regs *ctx)
{
	return walk_prog(ctx);
}

/*
 * From a syscall's exit: the walk starts at the user registers. One for
 * each kind of ms_sys_exit.
 */
SEC("tracepoint")
int ms_walk_sys(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return walk_prog((struct pt_regs *)bpf_task_pt_regs(task));
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ms_walk_sys_raw, struct pt_regs *regs, long ret)
{
	return walk_prog(regs);
}

/* The target's executable mappings changed: tables must follow. */
static __always_inline void maps_change(void)
{
	__sync_fetch_and_add(&maps_changed, 1);
	__sync_fetch_and_add(&unwind_gen, 1);
}

/* Wakes the consumer now, to load the tables of a new mapping. */
static __always_inline void maps_wake(void)
{
	__u64 v = 0;

	bpf_ringbuf_output(&wake, &v, sizeof(v), BPF_RB_FORCE_WAKEUP);
}

static __always_inline void map_stop(void)
{
	__u64 id = current_id();
	__u32 tid = (__u32)id, tgid = id >> 32;
	long err;

	if (!stop_on_map)
		return;
	/* A stop already in flight covers this change too (EEXIST). */
	err = bpf_map_update_elem(&map_stopped, &tid, &tgid, BPF_NOEXIST);
	if (err)
		return;
	bpf_send_signal_thread(19 /* SIGSTOP */);
}

/* The target's executable pages, when its maps were last marked. */
__u64 exec_vm_seen;
/*
 * -- CMD: the target has exec'd. Before, it is the launcher's fork,
 * whose mappings are the tool's own: nothing to load, nothing to stop.
 */
bool target_execd;

#define NR_MPROTECT		10
#define NR_PKEY_MPROTECT	329

/*
 * What a thread's syscall leaves for its exit. brk: the break as the
 * thread last took the mmap lock for writing (brk() takes it once, before
 * it moves the break; the syscall's own registers hold only the new one).
 * mprotect: the change of executable pages it made, judged at the exit.
 */
struct sys_state {
	__u64 brk;
	__u32 valid;		/* set by the lock, used by one brk exit */
	__u32 exec_change;	/* EXEC_GREW | EXEC_SHRANK, for one exit */
};

#define EXEC_GREW	1
#define EXEC_SHRANK	2

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sys_state);
} sys_states SEC(".maps");

static __always_inline bool mmap_exec_file(const struct pt_regs *regs);

/*
 * The executable pages of the current task's process changed (grew: more
 * of them). moved_file: a file may be mapped where it was not (every
 * change but an mprotect's); either way the rules memoized are dropped,
 * userspace reads the maps again and, under -- CMD, a thread that made
 * more code stops until their tables are in.
 */
static __always_inline void exec_changed(struct task_struct *task,
					 struct ms_proc *p, bool moved_file,
					 bool grew)
{
	if (moved_file)
		__sync_fetch_and_add(p ? &p->maps_seq : &targ_maps_seq, 1);
	if (p)
		__sync_fetch_and_add(&p->exec_changes, 1);
	maps_change();
	/*
	 * --hold-exec: the syscall's exit knows the file and marks the
	 * process then, after any hold: a drain between here and there
	 * would attach a process not held yet and call it late.
	 */
	if (hold_map &&
	    mmap_exec_file((struct pt_regs *)bpf_task_pt_regs(task)))
		return;
	maps_dirty_mark(task->tgid);
	/*
	 * Only more code stops the thread: a JIT that flips pages
	 * between writable and executable stops on every other flip.
	 */
	if (grew)
		map_stop();
	maps_wake();
}

/*
 * The target's executable mappings changed: an mmap, munmap or mprotect
 * that changes its executable pages releases the mmap lock held for
 * writing, after the change and before the thread runs any of the new
 * code. A raw tracepoint needs neither tracefs nor kprobes, which this
 * kernel may lack; exec_vm tells an executable change from the rest.
 * (An unmap and a map of the same size between two releases would go
 * unseen; each is its own syscall, so they never share one.)
 */
SEC("tp_btf/mmap_lock_released")
int BPF_PROG(ms_mm_released, struct mm_struct *mm, bool write)
{
	struct task_struct *task;
	struct sys_state *s;
	struct ms_proc *p;
	__u64 ev, old, nr;

	if (!write || !member_own(current_id(), &p) ||
	    (stop_on_map && !target_execd))
		return 0;
	task = bpf_get_current_task_btf();
	if (task->mm != mm)
		return 0;
	ev = mm->exec_vm;
	/* A traced set keeps each process's own (one pid: the global). */
	old = p ? __sync_lock_test_and_set(&p->exec_vm, ev) :
		  __sync_lock_test_and_set(&exec_vm_seen, ev);
	if (old == ev)
		return 0;
	nr = ((struct pt_regs *)bpf_task_pt_regs(task))->orig_ax;
	/*
	 * Outside any syscall (a trap: orig_ax -1) only the kernel maps
	 * code: the uprobes' own pages ([uprobes], its trampolines), made
	 * at a probe's first hit. No file moved, no rule changed; taken for
	 * a move, every first hit after an attach had the walker look each
	 * pc up in the task's vmas until the maps were read again.
	 */
	if ((__s64)nr < 0)
		return 0;
	if (nr != NR_MPROTECT && nr != NR_PKEY_MPROTECT) {
		exec_changed(task, p, true, ev > old);
		return 0;
	}
	/*
	 * An mprotect never changes which file is at an address: the maps
	 * the walker has stay true. Of anonymous memory (a JIT turning its
	 * code pages executable and back, as often as it allocates) it
	 * changes no rule either: such a pc has none. Which memory it was
	 * takes bpf_find_vma, which cannot take the lock held here: the
	 * syscall's exit tells (ms_sys_exit; not traced in --mode=alloc).
	 * Another thread running the new code in between finds its pc in
	 * no mapping, a stop, until then.
	 */
	if (!alloc_only) {
		s = bpf_task_storage_get(&sys_states, task, 0,
					 BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (s) {
			s->exec_change |= ev > old ? EXEC_GREW : EXEC_SHRANK;
			return 0;
		}
	}
	exec_changed(task, p, false, ev > old);
	return 0;
}

/* Whether [start, end) lies in one mapping of no file. */
struct anon_range {
	__u64 start;
	__u64 end;
	bool anon;
};

static long anon_covers(struct task_struct *task,
			struct vm_area_struct *vma, void *data)
{
	struct anon_range *r = data;

	r->anon = !vma->vm_file && vma->vm_start <= r->start &&
		  vma->vm_end >= r->end;
	return 0;
}

/*
 * The exit of an mprotect whose release changed the executable pages
 * (ms_mm_released): of anonymous memory alone, nothing to do; else, or
 * when the mapping cannot be read (another thread holds the lock), the
 * change counts as any other. A failed call may have changed part of
 * the range: judged the same way.
 */
static __always_inline void exec_protect_exit(struct task_struct *task,
					      const struct pt_regs *regs)
{
	struct sys_state *s = bpf_task_storage_get(&sys_states, task, 0, 0);
	struct anon_range r = { .start = regs->di };
	struct ms_proc *p;
	__u32 change;

	if (!s || !s->exec_change)
		return;
	change = s->exec_change;
	s->exec_change = 0;
	r.end = r.start + regs->si;
	if (r.end > r.start &&
	    !bpf_find_vma(task, r.start, anon_covers, &r, 0) && r.anon)
		return;
	if (!member_own(current_id(), &p))
		return;
	exec_changed(task, p, false, change & EXEC_GREW);
}

/* Takes a block and returns another (or the same one resized). */
static __always_inline bool is_realloc(__u32 fn)
{
	return fn == MS_FN_REALLOC || fn == MS_FN_REALLOCARRAY ||
	       fn == MS_FN_RUST_REALLOC || fn == MS_FN_XALLOCX;
}

static __always_inline void event_fill(struct ms_event *e, __u16 type,
				       __u16 fn, __u64 now, __u64 id)
{
	e->type = type;
	e->fn = fn;
	e->flags = 0;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ts_ns = now;
	e->seq = 0;
	e->ptr = 0;
	e->size = 0;
	e->old_ptr = 0;
	e->old_seq = 0;
	e->task = 0;
	e->aux = 0;
}

/*
 * Argument i (0-2) where attach found it (MS_COOKIE_ARG), else abi. Each
 * register is loaded at a constant offset of ctx and pinned there: left
 * to itself the compiler folds the switch into one load from ctx plus a
 * variable offset, which the verifier refuses.
 */
static __always_inline __u64 arg_at(struct pt_regs *ctx, __u64 cookie, int i,
				    __u64 abi)
{
	__u32 code = MS_COOKIE_ARG(cookie, i);
#ifdef __TARGET_ARCH_x86
	__u64 ax, bx, cx, dx, si, di, r8, r9, r10, r11, r12, r13, r14, r15;
#endif

	if (code == MS_REG_ABI)
		return abi;
#ifdef __TARGET_ARCH_x86
	ax = ctx->ax; barrier_var(ax);
	bx = ctx->bx; barrier_var(bx);
	cx = ctx->cx; barrier_var(cx);
	dx = ctx->dx; barrier_var(dx);
	si = ctx->si; barrier_var(si);
	di = ctx->di; barrier_var(di);
	r8 = ctx->r8; barrier_var(r8);
	r9 = ctx->r9; barrier_var(r9);
	r10 = ctx->r10; barrier_var(r10);
	r11 = ctx->r11; barrier_var(r11);
	r12 = ctx->r12; barrier_var(r12);
	r13 = ctx->r13; barrier_var(r13);
	r14 = ctx->r14; barrier_var(r14);
	r15 = ctx->r15; barrier_var(r15);
	switch (code) {
	case MS_REG_RAX: return ax;
	case MS_REG_RBX: return bx;
	case MS_REG_RCX: return cx;
	case MS_REG_RDX: return dx;
	case MS_REG_RSI: return si;
	case MS_REG_RDI: return di;
	case MS_REG_R8: return r8;
	case MS_REG_R9: return r9;
	case MS_REG_R10: return r10;
	case MS_REG_R11: return r11;
	case MS_REG_R12: return r12;
	case MS_REG_R13: return r13;
	case MS_REG_R14: return r14;
	case MS_REG_R15: return r15;
	default: return abi;
	}
#else
	/* placement decodes x86-64 only: elsewhere nothing is moved */
	return abi;
#endif
}

static __always_inline void args_read(struct pt_regs *ctx, __u64 cookie,
				      struct inflight *st, __u64 owner)
{
	__u64 a1 = arg_at(ctx, cookie, 0, PT_REGS_PARM1(ctx));
	__u64 a2 = arg_at(ctx, cookie, 1, PT_REGS_PARM2(ctx));
	__u64 a3 = arg_at(ctx, cookie, 2, PT_REGS_PARM3(ctx));
	__u32 fn = MS_COOKIE_FN(cookie);

	st->arg = 0;
	st->old_seq = 0;
	switch (fn) {
	case MS_FN_CALLOC:
		st->size = a1 * a2;
		break;
	case MS_FN_REALLOC:
	case MS_FN_XALLOCX:
		st->arg = a1;
		st->size = a2;
		break;
	case MS_FN_REALLOCARRAY:
		st->arg = a1;
		st->size = a2 * a3;
		break;
	case MS_FN_RUST_REALLOC:
		st->arg = a1;
		st->size = PT_REGS_PARM4(ctx);
		break;
	case MS_FN_POSIX_MEMALIGN:
		st->arg = a1;
		st->size = a3;
		break;
	case MS_FN_ALIGNED_ALLOC:
	case MS_FN_MEMALIGN:
		st->size = a2;
		break;
	default:	/* malloc, valloc, pvalloc */
		st->size = a1;
		break;
	}
	if (st->arg && is_realloc(fn)) {
		struct live_slot *v = live_slot_at(live_lookup(st->arg, owner));

		st->old_seq = v ? v->seq : 0;
	}
}

/*
 * Process lifecycle: who enters the traced set, and the records of its
 * processes (events.h, MS_EV_PROC_*). Rare events, all of them: a fork,
 * an exec or an exit costs a hash lookup here, never a hot path.
 */
static __always_inline bool comm_match(const char *comm)
{
	bool eq;

	for (__u32 i = 0; i < MS_MAX_COMMS && i < nr_comms; i++) {
		eq = true;
		for (__u32 j = 0; j < MS_COMM_LEN; j++) {
			if (comm[j] != comms[i][j]) {
				eq = false;
				break;
			}
			if (!comm[j])
				break;
		}
		if (eq)
			return true;
	}
	return false;
}

/* Does the selection take a process it does not hold yet? comm: its own. */
static __always_inline bool selected(__u32 tgid, const char *comm)
{
	if (!tgid || tgid == self_tgid)
		return false;
	if (targ_all || comm_match(comm))
		return true;
	/* The caller's cgroup: the forking parent's, the exec'ing task's. */
	return cgroup_id &&
	       bpf_get_current_ancestor_cgroup_id(cgroup_level) == cgroup_id;
}

static __always_inline struct ms_event *proc_event(__u16 type, __u32 pid,
						   __u32 gen, __u64 *pos)
{
	struct ms_event *e = event_reserve(MS_RING_REC_MAX, pos);

	if (!e)
		return NULL;
	event_fill(e, type, MS_FN_NONE, bpf_ktime_get_ns(),
		   current_id());
	e->pid = pid;
	e->seq = gen;
	e->nr_frames = 0;
	e->name[0] = 0;
	e->type_name[0] = 0;
	return e;
}

/* A traced process forks (-f, launch mode), or a selected one appears. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ms_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, tgid = child->tgid;
	struct ms_proc *p, *pp;
	char comm[MS_COMM_LEN];
	struct ms_event *e;
	__u64 pos;

	/* A new thread is no new process. */
	if (tgid == ptgid || trace_over())
		return 0;
	if (targ_tgid) {
		/*
		 * The one process's vfork child allocates in its heap unseen
		 * (its probes are filtered to the one pid): a free of an
		 * address never seen may be of its blocks from then on.
		 */
		if (ptgid == targ_tgid && child->mm && child->mm == parent->mm)
			targ_vm_shared = 1;
		return 0;
	}
	bpf_probe_read_kernel(comm, sizeof(comm), child->comm);
	pp = bpf_map_lookup_elem(&procs, &ptgid);
	if (pp && (pp->flags & MS_PROC_EXITED))
		pp = NULL;
	if (!(pp && follow) && !selected(tgid, comm))
		return 0;
	p = proc_add(tgid);
	if (!p)
		return 0;
	/*
	 * vfork, posix_spawn: the child runs in its parent's memory until it
	 * execs, and what it allocates there its parent frees (dash builds
	 * the command's path and arguments in its vfork child).
	 */
	p->vm_tgid = pp && child->mm && child->mm == parent->mm ?
		     (pp->vm_tgid ? pp->vm_tgid : ptgid) : 0;
	image_vmas_clear(tgid, p->gen);
	e = proc_event(MS_EV_PROC_START, tgid, p->gen, &pos);
	if (!e)
		return 0;
	e->aux = ptgid;
	__builtin_memcpy(e->name, comm, sizeof(comm));
	e->name[MS_COMM_LEN - 1] = 0;
	event_submit(e, pos, MS_RING_REC_MAX, MS_RING_REC_MAX);
	return 0;
}

/*
 * The file an exec ran, its tail when longer than a record's string: the
 * whole name is read into the record's frame area first, unused by a
 * lifecycle record, then cleared.
 */
#define EXEC_PATH_MAX	256

static __always_inline void exec_file(struct ms_event *e, const char *file)
{
	char *buf = (char *)e->frames;
	long n = bpf_probe_read_kernel_str(buf, EXEC_PATH_MAX, file);
	__u32 off = 0;

	if (n > MS_STR_MAX)
		off = n - MS_STR_MAX;
	if (n <= 0 || bpf_probe_read_kernel(e->type_name, MS_STR_MAX,
					    buf + (off & (EXEC_PATH_MAX - 1))))
		e->type_name[0] = 0;
	e->type_name[MS_STR_MAX - 1] = 0;
	__builtin_memset(buf, 0, EXEC_PATH_MAX);
}

/*
 * --hold-exec: may this exec be held? Not when a debugger traces it (it
 * would see our stop), nor when it is a job of a job-control shell (its
 * own process group, not its parent's: the shell waits for it with
 * WUNTRACED and would report it stopped and take the terminal back),
 * nor when the file is one userspace has examined already (its probes,
 * if any, are in: an uprobe is on the file, not the process).
 */
static __always_inline bool task_holdable(struct task_struct *task)
{
	struct task_struct *parent = task->real_parent;

	if (task->ptrace || !parent)
		return false;
	return task->signal->pids[PIDTYPE_PGID] ==
	       parent->signal->pids[PIDTYPE_PGID];
}

static __always_inline bool file_known(struct inode *ino)
{
	struct ms_file_key k;

	k.dev = ino->i_sb->s_dev;
	k.ino = ino->i_ino;
	return bpf_map_lookup_elem(&known_exes, &k);
}

static __always_inline bool exec_holdable(struct task_struct *task,
					  struct linux_binprm *bprm)
{
	return task_holdable(task) && !file_known(bprm->file->f_inode);
}

/*
 * The key is the tid, which after an exec is the tgid; a mapping's hold
 * passes the tgid too: the stop takes the whole process, and userspace
 * lets a process go by its pid.
 */
static __always_inline void exec_hold(__u32 tid, __u32 tgid)
{
	if (bpf_map_update_elem(&map_stopped, &tid, &tgid, BPF_NOEXIST))
		return;
	bpf_send_signal_thread(19 /* SIGSTOP */);
}

/*
 * An exec past its point of no return, before it maps the new program
 * (Linux 6.10 on; an older kernel goes without): until sched_process_exec
 * numbers the new image, readers of the maps learn they are no image's
 * (ms_image_now()).
 */
SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(ms_prepare_exec, struct task_struct *task,
	     struct linux_binprm *bprm)
{
	__u64 id = task_id(task);
	__u32 tgid = id >> 32;
	struct ms_proc *p;

	if (targ_tgid) {
		if (is_target(id))
			targ_exec_begun = *(volatile __u32 *)&targ_gen;
		return 0;
	}
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p)
		p->exec_begun = p->gen;
	return 0;
}

/*
 * An exec: a new image of the process (its heap, its mappings). The
 * tables follow; -- CMD stops the thread until they and the probes of
 * the new executable are in, --hold-exec one whose file is new to us.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ms_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u64 id = current_id(), pos;
	__u32 tgid = id >> 32, gen = 1;
	char comm[MS_COMM_LEN];
	struct ms_proc *p = NULL;
	struct ms_event *e;
	/*
	 * -- CMD: the first exec is the launched program's own start (before
	 * it, the process was the tool's fork): no new image, no record.
	 */
	bool first = from_start && !target_execd;
	__u32 aux = 0;
	bool ended = false;

	/*
	 * A thread other than the leader exec'd: it now has the leader's
	 * tid, and the tid it had (old_pid) ends without a thread exit of
	 * its own, so its slot goes back here. Only a traced thread holds
	 * a slot, and a slot's tid is one live task's.
	 */
	if ((__u32)old_pid != (__u32)id)
		thread_slot_free((__u32)old_pid);
	if (trace_over())
		return 0;
	bpf_probe_read_kernel(comm, sizeof(comm), task->comm);
	if (targ_tgid) {
		if (!is_target(id))
			return 0;
		exec_vm_seen = task->mm->exec_vm;
		/*
		 * The one process's images, apart as a set's are; its
		 * counters are the trace's, no image's own.
		 */
		if (!first)
			gen = ++targ_gen;
		else	/* the launched program's start: its image goes on */
			targ_exec_begun = 0;
		aux = MS_EXEC_NO_COUNTERS;
	} else {
		p = bpf_map_lookup_elem(&procs, &tgid);
		if (p && !(p->flags & MS_PROC_EXITED) && first) {
			gen = p->gen;
			p->exec_begun = 0;
		} else if (p && !(p->flags & MS_PROC_EXITED)) {
			/*
			 * Its old image's blocks are released by userspace,
			 * which has that image's counters from the record.
			 */
			gen = p->gen + 1;
			ended = true;
		} else {
			if (!selected(tgid, comm))
				return 0;
			p = proc_add(tgid);
			if (!p)
				return 0;
			gen = p->gen;
		}
		p->exec_vm = task->mm->exec_vm;
		/* its own memory now, and heap */
		p->vm_tgid = 0;
		maps_dirty_mark(tgid);
	}
	target_execd = true;
	image_vmas_clear(tgid, gen);
	e = first ? NULL : proc_event(MS_EV_PROC_EXEC, tgid, gen, &pos);
	if (e) {
		e->aux = aux;
		__builtin_memcpy(e->name, comm, sizeof(comm));
		e->name[MS_COMM_LEN - 1] = 0;
		exec_file(e, bprm->filename);
		e->ptr = bprm->file->f_inode->i_sb->s_dev;
		e->old_ptr = bprm->file->f_inode->i_ino;
		/* whose working directory a relative name is, once it is gone */
		e->size = task->real_parent ? task->real_parent->tgid : 0;
	}
	/*
	 * The ended image's counters go in the record (its other threads
	 * are gone: nothing counts meanwhile); a record the ring could not
	 * take is a lost event, counted in the new image.
	 */
	if (ended && p) {
		if (e)
			__builtin_memcpy(e->frames, &p->c, sizeof(p->c));
		__builtin_memset(&p->c, 0, sizeof(p->c));
		p->gen = gen;
	}
	if (e)
		event_submit(e, pos, MS_RING_REC_MAX, MS_RING_REC_MAX);
	maps_change();
	map_stop();
	if (hold_exec && p && exec_holdable(task, bprm))
		exec_hold((__u32)id, tgid);
	maps_wake();
	return 0;
}

/*
 * A thread exits: its call slot goes back. The last one of a traced
 * process ends it: PROC_EXIT with the status wait(2) will report; in a
 * traced set the entry stays, marked, until userspace has read its
 * counters and released its blocks.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ms_thread_exit, struct task_struct *task, bool group_dead)
{
	__u64 id = current_id(), pos;
	__u32 tgid = id >> 32, gen = 1;
	struct ms_proc *p = NULL;
	struct ms_event *e;

	if (targ_tgid && !is_target(id))
		return 0;
	thread_slot_free(id);
	if (group_dead && tgid == root_tgid)
		root_exit = 1ull << 32 | (__u32)task->exit_code;
	if (!group_dead || tgid == root_tgid || targ_tgid || trace_over())
		return 0;
	if (!targ_tgid) {
		p = bpf_map_lookup_elem(&procs, &tgid);
		if (!p || (p->flags & MS_PROC_EXITED))
			return 0;
		__sync_fetch_and_or(&p->flags, MS_PROC_EXITED);
		gen = p->gen;
	}
	e = proc_event(MS_EV_PROC_EXIT, tgid, gen, &pos);
	if (!e)
		return 0;
	e->aux = task->exit_code;
	bpf_probe_read_kernel(e->name, MS_COMM_LEN, task->comm);
	event_submit(e, pos, MS_RING_REC_MAX, MS_RING_REC_MAX);
	return 0;
}

/* --mode=alloc: the whole record at entry; no pointer, nothing live. */
static __always_inline void alloc_profile(struct pt_regs *ctx, __u64 cookie,
					  struct inflight *st, __u64 id,
					  struct ms_proc *p)
{
	__u32 fn = MS_COOKIE_FN(cookie);
	/* Nothing here needs more than the drain tick: no peak, no ages. */
	__u64 now = *(volatile __u64 *)&tick_ns, pos;
	struct ms_event *e;

	__sync_fetch_and_add(&counters.seq, 1);
	__sync_fetch_and_add(&counters.alloc_bytes, st->size);
	if (p) {
		__sync_fetch_and_add(&p->c.allocs, 1);
		__sync_fetch_and_add(&p->c.alloc_bytes, st->size);
	}
	e = event_reserve(RING_LEN(max_depth), &pos);
	if (!e)
		return;
	event_fill(e, MS_EV_ALLOC, fn, now, id);
	e->flags = MS_EVF_PROFILE | MS_EVF_TICK_TS;
	e->size = st->size;
	e->aux = ms_cookie_tag(cookie);
	stack_submit(ctx, e, pos, RING_LEN(max_depth), true, WALK_MULTI, id);
}

static __always_inline __u64 current_task(const struct inflight *st)
{
	if (!st || !st->nr_tasks || st->nr_tasks > MS_TASK_DEPTH)
		return 0;
	return st->tasks[(st->nr_tasks - 1) & (MS_TASK_DEPTH - 1)];
}

/* A hit at sp is inside the call in flight when it is deeper (lower). */
static __always_inline bool nested(const struct inflight *st, __u64 sp)
{
	return st->sp && sp < st->sp;
}

/*
 * --mode=alloc has no return probes to tell a call made inside another:
 * glibc's realloc(NULL, n) jumps to malloc, reallocarray to realloc,
 * operator new[] to operator new, a __rust_alloc shim to malloc, leaving
 * the stack as their caller did. Such a hit has the sp and the return
 * address of the thread's last entry, from another probe; a separate call
 * from the same frame comes from another call instruction, so another
 * return address. The last entry is kept in the thread's call state,
 * which this mode does not use otherwise (arg: return address), and stays
 * the outer one through the layers it jumps to, so the next call from the
 * same instruction is a call of its own. (A layer called deeper, operator
 * new calling malloc, is a call of its own here: every layer counts.)
 */
static __always_inline bool tail_called(struct inflight *st, __u64 cookie,
					__u64 sp, __u64 ret)
{
	if (st->sp == sp && st->arg == ret && st->cookie != cookie)
		return true;
	st->sp = sp;
	st->arg = ret;
	st->cookie = cookie;
	return false;
}

/*
 * A layer's entry: what its block is counted as, once its inner
 * allocator returns it. One layer jumping to another at the same sp
 * (new[] to new) keeps the outer's family and size, and takes the inner
 * layer's range, where the allocator call is.
 */
static __always_inline void layer_enter(struct pt_regs *ctx,
					struct inflight *st, __u64 cookie,
					__u64 sp, __u32 span)
{
	__u64 ret;

	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)sp))
		return;
	if (st->layer_sp != sp || st->layer_ret != ret) {
		st->layer_sp = sp;
		st->layer_ret = ret;
		st->layer_tag = ms_cookie_tag(cookie);
		st->layer_size = arg_at(ctx, cookie, 0, PT_REGS_PARM1(ctx));
	}
	st->layer_pc = PT_REGS_IP(ctx);
	st->layer_span = span * MS_COOKIE_SPAN_UNIT;
}

/*
 * An allocator entry under a layer: its block is the layer's when the
 * layer called it (its return address lies in the layer's range) or
 * jumped to it (same sp and return address). Any other entry at or
 * above the layer's sp finds the layer gone: it returned, or threw.
 */
static __always_inline void layer_take(struct inflight *st, __u64 sp)
{
	__u64 ret;

	st->layered = 0;
	/* a resize called from the layer moves a block it did not make */
	if (!st->layer_sp || is_realloc(st->fn))
		return;
	if (sp > st->layer_sp ||
	    bpf_probe_read_user(&ret, sizeof(ret), (void *)sp)) {
		st->layer_sp = 0;
		return;
	}
	if (sp == st->layer_sp ? ret != st->layer_ret :
	    ret <= st->layer_pc || ret > st->layer_pc + st->layer_span) {
		/* the same frame calling again: the layer is gone */
		if (sp == st->layer_sp)
			st->layer_sp = 0;
		return;
	}
	st->layered = 1;
	st->size = st->layer_size;
	st->cookie = (st->cookie &
		      ~((__u64)0xffffffffu << MS_COOKIE_TAG_SHIFT)) |
		     (__u64)st->layer_tag << MS_COOKIE_TAG_SHIFT;
}

SEC("uprobe")
int ms_alloc_enter(struct pt_regs *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = task_id(task), sp = PT_REGS_SP(ctx), cookie;
	struct inflight *st;
	struct ms_proc *p;
	__u32 fn;

	if (!member(&id, &p))
		return 0;
	cookie = probe_cookie(ctx, task);
	fn = MS_COOKIE_FN(cookie);
	if (alloc_only) {
		struct inflight args = {};
		__u64 ret;

		st = thread_state(id, true);
		if (st && !bpf_probe_read_user(&ret, sizeof(ret), (void *)sp) &&
		    tail_called(st, cookie, sp, ret)) {
			__sync_fetch_and_add(&counters.nested_calls, 1);
			return 0;
		}
		if (!recording())
			return 0;
		args_read(ctx, cookie, &args, owner_of(id, p));
		alloc_profile(ctx, cookie, &args, id, p);
		return 0;
	}
	st = thread_state(id, true);
	if (!st)
		return 0;
	if (nested(st, sp)) {
		__sync_fetch_and_add(&counters.nested_calls, 1);
		return 0;
	}
	if (fn == MS_FN_MALLOC && MS_COOKIE_SPAN(cookie)) {
		layer_enter(ctx, st, cookie, sp, MS_COOKIE_SPAN(cookie));
		return 0;
	}
	/*
	 * Another probed function at the same sp was jumped to by the call
	 * in flight (new[] to new, __rust_alloc to malloc): the outer layer
	 * counts the block. The same function again is a new call from the
	 * same frame, the old state stale.
	 */
	if (st->sp && st->sp == sp && st->cookie != cookie) {
		st->inner++;
		__sync_fetch_and_add(&counters.nested_calls, 1);
		return 0;
	}
	/* Not nested: any state left is stale (its return was never seen). */
	st->sp = sp;
	st->pc = PT_REGS_IP(ctx);
	st->fn = fn;
	st->cookie = cookie;
	st->inner = 0;
	st->free_ptr = 0;
	args_read(ctx, cookie, st, owner_of(id, p));
	layer_take(st, sp);
	return 0;
}

SEC("uretprobe")
int ms_alloc_return(struct pt_regs *ctx)
{
	__u64 ret = PT_REGS_RC(ctx), now, ptr, seq = 0, pos, tag;
	__u64 id = current_id(), owner;
	struct inflight *st;
	struct ms_event *e;
	struct ms_proc *p;
	__u16 flags = 0;
	__u32 fn;

	if (!member(&id, &p))
		return 0;
	st = thread_state(id, false);
	/* No call in flight: it began before we attached. */
	if (!st || !st->sp)
		return 0;
	/* The return pops the address the entry saw at sp. */
	if (PT_REGS_SP(ctx) != st->sp + 8) {
		/* Deeper: a nested call returning. Shallower: stale state. */
		if (PT_REGS_SP(ctx) > st->sp + 8)
			st->sp = 0;
		return 0;
	}
	/* A layer the call in flight jumped to returns first. */
	if (st->inner) {
		st->inner--;
		return 0;
	}
	st->sp = 0;
	now = bpf_ktime_get_ns();
	owner = owner_of(id, p);
	fn = st->fn;
	tag = ms_cookie_tag(st->cookie);
	ptr = ret;
	if (fn == MS_FN_POSIX_MEMALIGN) {
		ptr = 0;
		if (ret == 0 && bpf_probe_read_user(&ptr, sizeof(ptr),
						    (void *)st->arg))
			ptr = 0;
	}
	/*
	 * xallocx never moves the block: it returns the size the block has
	 * now, which the record carries as a realloc to the same address.
	 */
	if (fn == MS_FN_XALLOCX) {
		st->size = ret;
		ptr = st->arg;
	}
	/* A layer's block is taken; a failure leaves it for the retry. */
	if (st->layered && ptr)
		st->layer_sp = 0;
	if (!recording())
		return 0;

	if (is_realloc(fn)) {
		switch (ms_realloc_effect(st->arg, st->size, ptr)) {
		case MS_RE_MOVE:
			block_release(st->arg, st->old_seq, p, owner);
			seq = block_new(ptr, st->size, now, tag, &flags, p,
					owner);
			break;
		case MS_RE_FREE:
			block_release(st->arg, st->old_seq, p, owner);
			break;
		case MS_RE_ALLOC:
			seq = block_new(ptr, st->size, now, tag, &flags, p,
					owner);
			break;
		case MS_RE_FAILED:
			__sync_fetch_and_add(&counters.failed_allocs, 1);
			if (p)
				__sync_fetch_and_add(&p->c.failed_allocs, 1);
			break;
		}
	} else if (ptr) {
		seq = block_new(ptr, st->size, now, tag, &flags, p, owner);
	} else {
		__sync_fetch_and_add(&counters.failed_allocs, 1);
		if (p)
			__sync_fetch_and_add(&p->c.failed_allocs, 1);
	}

	e = event_reserve(RING_LEN(max_depth), &pos);
	if (!e)
		return 0;
	event_fill(e, is_realloc(fn) ? MS_EV_REALLOC : MS_EV_ALLOC, fn, now,
		   id);
	e->flags = flags;
	e->seq = seq;
	e->ptr = ptr;
	e->size = st->size;
	e->old_ptr = st->arg;
	e->old_seq = st->old_seq;
	e->task = current_task(st);
	e->aux = tag;
	stack_submit(ctx, e, pos, RING_LEN(max_depth), false, WALK_MULTI, id);
	return 0;
}

/*
 * Attached to a running process, frees of blocks allocated before the
 * trace are common and all suspect: at most this many a drain tick are
 * walked, the rest sent without a stack (MS_EVF_FREE_NOWALK).
 */
const volatile __u32 check_walks = 64;
__u64 check_tick;
__u32 check_walked;

static __always_inline bool check_walk_allowed(void)
{
	__u64 tick = *(volatile __u64 *)&tick_ns;

	if (from_start)
		return true;
	/* Racy on purpose: a tick's budget is a bound, not an exact count. */
	if (check_tick != tick) {
		check_tick = tick;
		check_walked = 0;
	}
	return __sync_fetch_and_add(&check_walked, 1) < check_walks;
}

/*
 * The object (its index in the unwind tables) whose executable mapping
 * holds pc in process tgid; -1 for none. The walker's map search.
 */
static __always_inline __s64 map_obj(__u32 tgid, __u64 pc)
{
	struct search q = { .key = pc };
	struct ms_proc_maps *pm = bpf_map_lookup_elem(&proc_maps, &tgid);
	struct ms_proc_map *m;

	if (!pm)
		return -1;
	q.maps = pm;
	q.hi = pm->nr < MS_PROC_MAPS ? pm->nr : MS_PROC_MAPS;
	bpf_loop(MAP_SEARCH_STEPS + 1, map_search_step, &q, 0);
	if (!q.lo)
		return -1;
	m = &pm->m[(q.lo - 1) & (MS_PROC_MAPS - 1)];
	return pc < m->end ? m->obj : -1;
}

/*
 * A free of an address the live table does not hold, called from the
 * object the free function is in: the allocator's own (MS_EVF_FREE_INTERNAL).
 * Rare enough to pay a read and two searches. Without the mappings
 * (--stacks fp loads none) it cannot be told, and is taken as one: such
 * a free is then not judged, rather than judged wrongly. Rust's shims
 * (tag's family) are compiled into the program that calls them and have
 * no allocator of their own behind them: a free through one is never
 * the allocator's.
 */
static __always_inline bool free_internal(struct pt_regs *ctx, __u64 id,
					  __u64 tag, __u64 sp)
{
	__u64 ret;
	__s64 obj;

	if (ms_tag_family(tag) == MS_FAM_RUST)
		return false;
	obj = map_obj(id >> 32, PT_REGS_IP(ctx));
	if (obj < 0)
		return true;
	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)sp))
		return false;
	return map_obj(id >> 32, ret) == obj;
}

/*
 * A layer under the thread's last free-like call: delete[] jumping to
 * delete, delete to free, __rust_dealloc to free, each with the same
 * pointer at the same or a deeper sp. The same function again is a
 * free of its own (a double free, say).
 */
static __always_inline bool free_inner(struct inflight *st, __u64 ptr,
				       __u64 sp, __u64 cookie)
{
	if (st->free_ptr == ptr && sp <= st->free_sp &&
	    st->free_cookie != cookie)
		return true;
	st->free_ptr = ptr;
	st->free_sp = sp;
	st->free_cookie = cookie;
	return false;
}

SEC("uprobe")
int ms_free_enter(struct pt_regs *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cookie = probe_cookie(ctx, task), pos, tag, owner;
	__u64 ptr = arg_at(ctx, cookie, 0, PT_REGS_PARM1(ctx));
	__u64 id = task_id(task), sp = PT_REGS_SP(ctx);
	struct live_slot *s;
	struct inflight *st;
	struct ms_event *e;
	struct ms_proc *p;
	bool check, walk;
	__u32 len, idx;

	if (!ptr || !member(&id, &p))
		return 0;
	tag = ms_cookie_tag(cookie);
	st = thread_state(id, true);
	if (st && (nested(st, sp) || free_inner(st, ptr, sp, cookie))) {
		__sync_fetch_and_add(&counters.nested_calls, 1);
		return 0;
	}
	if (!recording())
		return 0;
	/*
	 * Only a free the live table cannot vouch for walks its stack: one
	 * of a block it does not hold (double, invalid, or from before the
	 * trace) or of another family's or allocator's block.
	 */
	owner = owner_of(id, p);
	idx = live_lookup(ptr, owner);
	s = live_slot_at(idx);
	check = !s || !ms_free_matches(s->tag, tag);
	block_release_at(idx, ptr, owner, 0, p);
	walk = check && check_walk_allowed();
	len = walk ? RING_LEN(max_depth) : RING_LEN(0);
	e = event_reserve(len, &pos);
	if (!e)
		return 0;
	event_fill(e, MS_EV_FREE, MS_COOKIE_FN(cookie), *(volatile __u64 *)&tick_ns,
		   id);
	e->flags = MS_EVF_TICK_TS;
	if (check)
		e->flags |= MS_EVF_FREE_CHECK |
			    (walk ? 0 : MS_EVF_FREE_NOWALK) |
			    (from_start && !targ_vm_shared ?
			     MS_EVF_FROM_START : 0) |
			    (!s && free_internal(ctx, id, tag, sp) ?
			     MS_EVF_FREE_INTERNAL : 0);
	e->ptr = ptr;
	e->task = current_task(st);
	e->aux = tag;
	e->nr_frames = 0;
	if (walk) {
		stack_submit(ctx, e, pos, len, true, WALK_MULTI, id);
		return 0;
	}
	event_submit(e, pos, len, len);
	return 0;
}

/*
 * Declared events (include/memscope.h). The probe site is inside the
 * declaring function: the stack starts at its ip and walks its frames.
 */
struct decl {
	__u64 ptr;
	__u64 old_ptr;
	__u64 size;
	__u64 aux;
	__u64 task;		/* 0: the task running on the thread */
	const void *name;
	const void *type_name;
};

/*
 * A hostile or unterminated string is cut at MS_STR_MAX, never trusted; a
 * string that filled the buffer is counted as cut (one exactly
 * MS_STR_MAX - 1 long is counted too: the helper cannot tell them apart).
 */
static __always_inline void decl_str(char *dst, const void *src)
{
	long n;

	if (!src) {
		dst[0] = 0;
		return;
	}
	n = bpf_probe_read_user_str(dst, MS_STR_MAX, src);
	if (n < 0)
		dst[0] = 0;
	else if (n == MS_STR_MAX)
		__sync_fetch_and_add(&counters.strings_cut, 1);
}

static __always_inline int decl_emit(struct pt_regs *ctx, __u16 type,
				     const struct decl *d)
{
	__u64 id = current_id(), pos;
	struct inflight *st;
	struct ms_event *e;
	struct ms_proc *p;

	if (!member(&id, &p))
		return 0;
	st = thread_state(id, true);
	/* The thread's task changes even if the record is lost. */
	if (st && type == MS_EV_TASK_ENTER) {
		if (st->nr_tasks < MS_TASK_DEPTH)
			st->tasks[st->nr_tasks & (MS_TASK_DEPTH - 1)] = d->task;
		else
			__sync_fetch_and_add(&counters.task_depth_full, 1);
		st->nr_tasks++;
	} else if (st && type == MS_EV_TASK_LEAVE && st->nr_tasks) {
		st->nr_tasks--;
	}
	if (!recording())
		return 0;
	e = event_reserve(MS_RING_REC_MAX, &pos);
	if (!e)
		return 0;
	event_fill(e, type, MS_FN_NONE, bpf_ktime_get_ns(), id);
	e->ptr = d->ptr;
	e->old_ptr = d->old_ptr;
	e->size = d->size;
	e->aux = d->aux;
	e->task = d->task ? d->task : current_task(st);
	decl_str(e->name, d->name);
	decl_str(e->type_name, d->type_name);
	stack_submit(ctx, e, pos, MS_RING_REC_MAX, false, WALK_PLAIN, id);
	return 0;
}

#define DECL(type, ...) decl_emit(ctx, type, &(struct decl){ __VA_ARGS__ })

SEC("usdt")
int BPF_USDT(ms_track, void *ptr, long size, const char *name,
	     const char *type, int kind)
{
	return DECL(MS_EV_TRACK, .ptr = (__u64)ptr, .size = size, .aux = kind,
		    .name = name, .type_name = type);
}

SEC("usdt")
int BPF_USDT(ms_untrack, void *ptr)
{
	return DECL(MS_EV_UNTRACK, .ptr = (__u64)ptr);
}

SEC("usdt")
int BPF_USDT(ms_share, void *handle, void *heap, const char *name,
	     const char *type)
{
	return DECL(MS_EV_SHARE, .old_ptr = (__u64)handle, .ptr = (__u64)heap,
		    .name = name, .type_name = type);
}

SEC("usdt")
int BPF_USDT(ms_unshare, void *handle)
{
	return DECL(MS_EV_UNSHARE, .old_ptr = (__u64)handle);
}

SEC("usdt")
int BPF_USDT(ms_task_create, __u64 id, __u64 parent, const char *name)
{
	return DECL(MS_EV_TASK_CREATE, .task = id, .aux = parent, .name = name);
}

SEC("usdt")
int BPF_USDT(ms_task_enter, __u64 id)
{
	return DECL(MS_EV_TASK_ENTER, .task = id);
}

SEC("usdt")
int BPF_USDT(ms_task_leave, __u64 id)
{
	return DECL(MS_EV_TASK_LEAVE, .task = id);
}

SEC("usdt")
int BPF_USDT(ms_task_complete, __u64 id)
{
	return DECL(MS_EV_TASK_COMPLETE, .task = id);
}

SEC("usdt")
int BPF_USDT(ms_passport_create, void *ptr, long size, const char *name)
{
	return DECL(MS_EV_PASSPORT_CREATE, .ptr = (__u64)ptr, .size = size,
		    .name = name);
}

SEC("usdt")
int BPF_USDT(ms_passport_handover, void *ptr, const char *to)
{
	return DECL(MS_EV_PASSPORT_HANDOVER, .ptr = (__u64)ptr, .name = to);
}

SEC("usdt")
int BPF_USDT(ms_passport_reclaim, void *ptr)
{
	return DECL(MS_EV_PASSPORT_RECLAIM, .ptr = (__u64)ptr);
}

SEC("usdt")
int BPF_USDT(ms_passport_free, void *ptr, const char *by)
{
	return DECL(MS_EV_PASSPORT_FREE, .ptr = (__u64)ptr, .name = by);
}

/*
 * Anonymous memory: the target's mmap, munmap, mremap and brk, at the raw
 * syscall exit tracepoint (this kernel has no tracefs and no kprobes). It
 * fires for every syscall of every process on the host, the uretprobe
 * syscall of each allocation return too, so the syscall number is tested
 * first: it is all the rest pays. No program runs at syscall entry (one
 * did, ~100 ns for each allocation): the arguments are still in the
 * registers at exit, and brk's old break is kept when brk takes the mmap
 * lock (ms_mm_locked).
 */
/* x86-64's numbers, as the registers read here are x86-64's. */
#define NR_MMAP		9
#define NR_MUNMAP	11
#define NR_BRK		12
#define NR_MREMAP	25
#define NR_EXECVE	59
#define NR_EXECVEAT	322
/*
 * What an exec unmaps: all of user space, up to the 57 bits of five-level
 * paging.
 */
#define USER_SPACE	(1ull << 57)
/* A return value this close below 0 is an errno (IS_ERR_VALUE). */
#define MAX_ERRNO	4095
#define MAP_PRIVATE	0x02
#define MAP_TYPE	0x0f
#define MAP_ANONYMOUS	0x20
#define PROT_EXEC	0x4

/* The thread is in an mmap of a file with PROT_EXEC (registers at entry). */
static __always_inline bool mmap_exec_file(const struct pt_regs *regs)
{
	return regs->orig_ax == NR_MMAP && (regs->dx & PROT_EXEC) &&
	       !(regs->r10 & MAP_ANONYMOUS);
}

/*
 * The raw tracepoint's filter, as bits of a word: mmap, mprotect, munmap,
 * brk, mremap and execve (all below 64); execveat and pkey_mprotect are
 * tested on their own. The first test of a program that runs at every
 * syscall exit of the host: the uretprobe syscall every allocation return
 * makes fails it at once.
 */
#define SYS_BITS	(1ull << NR_MMAP | 1ull << NR_MUNMAP | \
			 1ull << NR_BRK | 1ull << NR_MREMAP | \
			 1ull << NR_EXECVE | 1ull << NR_MPROTECT)

static __always_inline bool sys_nr_wanted(__u64 nr)
{
	return nr < 64 ? (SYS_BITS >> nr) & 1 :
	       nr == NR_EXECVEAT || nr == NR_PKEY_MPROTECT;
}

/*
 * The filter reads the tgid through the current task, which the JIT
 * inlines (one load from a per-CPU variable), where
 * bpf_get_current_pid_tgid() is a helper call through the return thunk.
 */
static __always_inline bool current_is_target(struct task_struct *task)
{
	return (__u32)task->tgid == targ_tgid;
}

/* In a traced set the set is a hash lookup: after the syscall number. */
static __always_inline bool sys_traced(struct task_struct *task)
{
	if (!recording())
		return false;
	if (targ_tgid)
		return current_is_target(task);
	return proc_get(task->tgid);
}

/*
 * The mmap lock taken for writing by a thread of the target: keep the
 * break as it is before the holder changes it. Runs at every write lock
 * of the host's processes (mmap, munmap, mprotect, brk), far fewer than
 * the syscalls a sys_enter program ran for, which every allocation's
 * return made one more of.
 */
SEC("tp_btf/mmap_lock_acquire_returned")
int BPF_PROG(ms_mm_locked, struct mm_struct *mm, bool write, bool success)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sys_state *b;

	if (!write || !success || !sys_traced(task) || task->mm != mm)
		return 0;
	b = bpf_task_storage_get(&sys_states, task, 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!b)
		return 0;
	b->brk = mm->brk;
	b->valid = 1;
	return 0;
}

/*
 * An exec replaced the address space: every mapping is gone, which one
 * munmap of all of user space tells the store. (-- CMD with --stacks fp
 * also traces the launcher's fork before its exec: this ends that too.)
 */
static __always_inline void exec_unmap(void)
{
	struct ms_event *e;
	__u64 pos;

	e = event_reserve(RING_LEN(0), &pos);
	if (!e)
		return;
	event_fill(e, MS_EV_MUNMAP, MS_FN_NONE, bpf_ktime_get_ns(),
		   current_id());
	e->size = USER_SPACE;
	e->nr_frames = 0;
	event_submit(e, pos, RING_LEN(0), RING_LEN(0));
}

/*
 * --hold-exec: the file the mapping at addr maps is new to us. The vma is
 * the one the mmap just made (the thread is still in the syscall; another
 * thread's munmap in between finds no file or another one: not held, the
 * mark still goes).
 */
static long map_file_new(struct task_struct *task, struct vm_area_struct *vma,
			 void *data)
{
	struct file *file = vma->vm_file;
	bool *fresh = data;

	*fresh = file && !file_known(file->f_inode);
	return 0;
}

/*
 * --hold-exec: a successful mmap of a file with PROT_EXEC (what ld.so
 * does for dlopen and for an LD_PRELOAD'd library; it makes no code
 * executable by mprotect). The mmap_lock_released program left the mark
 * to here.
 */
static __always_inline void map_hold(struct task_struct *task, __u64 addr)
{
	__u32 tgid = task->tgid;
	bool fresh = false;

	if (task_holdable(task) &&
	    !bpf_find_vma(task, addr, map_file_new, &fresh, 0) && fresh)
		exec_hold(tgid, tgid);
	maps_dirty_mark(tgid);
	maps_wake();
}

/*
 * An mprotect of a traced thread succeeded: the store moves the pages of
 * its ranges between accessible and reserved (PROT_NONE). It maps
 * nothing, so no stack; a change of code (a JIT's) or of a file's pages
 * reaches the store too, which keeps only ranges it counts.
 */
static __always_inline void protect_record(const struct pt_regs *regs)
{
	struct ms_event *e;
	__u64 pos;

	if (!regs->si)
		return;
	e = event_reserve(RING_LEN(0), &pos);
	if (!e)
		return;
	event_fill(e, MS_EV_MPROTECT, MS_FN_NONE, bpf_ktime_get_ns(),
		   current_id());
	e->ptr = regs->di;
	e->size = regs->si;
	e->aux = (__u32)regs->dx;
	e->nr_frames = 0;
	event_submit(e, pos, RING_LEN(0), RING_LEN(0));
}

/*
 * A syscall of a traced thread has returned (nr, ret; its arguments are
 * still in regs, the user registers): the record of the memory it mapped,
 * unmapped, moved or protected. ctx is the calling program's, for the
 * walk's tail call.
 */
static __always_inline int sys_exit(void *ctx, struct task_struct *task,
				    struct pt_regs *regs, __u64 nr, long ret)
{
	struct inflight *st;
	struct sys_state *b;
	struct ms_event *e;
	__u64 id, pos, old_brk = 0, alloc_pc = 0;
	__u32 max, fn = MS_FN_NONE;
	bool grows, walk;
	__u16 type;

	if (nr == NR_EXECVE || nr == NR_EXECVEAT) {
		if (!ret)
			exec_unmap();
		return 0;
	}
	/* -- CMD before its exec: the launcher's fork, the tool's memory. */
	if (stop_on_map && !target_execd)
		return 0;
	if (nr == NR_BRK) {
		/*
		 * The lock brk() took is the thread's last one: its break
		 * then is the old one. Without it (the lock was not taken,
		 * or was before the trace) there is no range to tell.
		 */
		b = bpf_task_storage_get(&sys_states, task, 0, 0);
		if (!b || !b->valid)
			return 0;
		b->valid = 0;
		old_brk = b->brk;
		/* A failed call returns the old break (or an errno). */
		if ((__u64)ret == old_brk ||
		    (unsigned long)ret >= -(unsigned long)MAX_ERRNO)
			return 0;
	} else if ((unsigned long)ret >= -(unsigned long)MAX_ERRNO) {
		/* A failed call changed nothing. */
		return 0;
	}
	if (nr == NR_MPROTECT || nr == NR_PKEY_MPROTECT) {
		protect_record(regs);
		return 0;
	}
	if (hold_map && mmap_exec_file(regs))
		map_hold(task, ret);
	id = current_id();
	/*
	 * Inside a probed allocator call (its entry seen, its return not
	 * yet: sp deeper than the call's): the allocator maps its arena.
	 * The registers are the syscall's, as at its entry.
	 */
	st = thread_state(id, false);
	if (st && nested(st, regs->sp)) {
		alloc_pc = st->pc;
		fn = st->fn;
	}
	switch (nr) {
	case NR_MMAP:
		type = MS_EV_MMAP;
		grows = (regs->r10 & MAP_TYPE) == MAP_PRIVATE &&
			(regs->r10 & MAP_ANONYMOUS);
		break;
	case NR_MUNMAP:
		type = MS_EV_MUNMAP;
		grows = false;
		break;
	case NR_MREMAP:
		type = MS_EV_MREMAP;
		grows = true;
		break;
	default:
		type = MS_EV_BRK;
		grows = (__u64)ret > old_brk;
		break;
	}
	/* Only memory the program maps itself is charged to a stack. */
	walk = grows && !alloc_pc;
	max = RING_LEN(walk ? max_depth : 1);
	e = event_reserve(max, &pos);
	if (!e)
		return 0;
	event_fill(e, type, fn, bpf_ktime_get_ns(), id);
	switch (nr) {
	case NR_MMAP:
		e->ptr = ret;
		e->size = regs->si;
		e->aux = (__u32)regs->r10 |
			 (__u64)(__u32)regs->dx << MS_MMAP_PROT_SHIFT |
			 MS_MMAP_PROT_KNOWN;
		break;
	case NR_MUNMAP:
		e->ptr = regs->di;
		e->size = regs->si;
		break;
	case NR_MREMAP:
		e->old_ptr = regs->di;
		e->aux = regs->si;
		e->ptr = ret;
		e->size = regs->dx;
		e->seq = regs->r10;
		break;
	default:
		e->old_ptr = old_brk;
		e->ptr = ret;
		break;
	}
	if (walk) {
		stack_submit(ctx, e, pos, max, false, WALK_SYS, id);
		return 0;
	}
	e->nr_frames = 0;
	if (alloc_pc) {
		e->flags = MS_EVF_ARENA;
		e->frames[0] = alloc_pc;
		e->nr_frames = 1;
	}
	event_submit(e, pos, max, RING_LEN(e->nr_frames));
	return 0;
}

/*
 * On the syscalls' own exit tracepoints (syscalls/sys_exit_mmap and the
 * rest, trace.c's sys_exits): the kernel runs it for those syscalls
 * alone, where the raw sys_exit runs a program at every syscall of the
 * host, the uretprobe syscall each allocation return makes included.
 */
SEC("tracepoint")
int ms_sys_exit(struct syscall_trace_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();

	/* Any process's: the thread's own state says if it is traced. */
	if (ctx->nr == NR_MPROTECT || ctx->nr == NR_PKEY_MPROTECT)
		exec_protect_exit(task,
				  (struct pt_regs *)bpf_task_pt_regs(task));
	if (!sys_traced(task))
		return 0;
	return sys_exit(ctx, task, (struct pt_regs *)bpf_task_pt_regs(task),
			(__u32)ctx->nr, ctx->ret);
}

/* Where tracefs cannot be had (it names those tracepoints): the raw one. */
SEC("tp_btf/sys_exit")
int BPF_PROG(ms_sys_exit_raw, struct pt_regs *regs, long ret)
{
	struct task_struct *task;
	__u64 nr = regs->orig_ax;

	if (!sys_nr_wanted(nr))
		return 0;
	task = bpf_get_current_task_btf();
	if (nr == NR_MPROTECT || nr == NR_PKEY_MPROTECT)
		exec_protect_exit(task, regs);
	if (!sys_traced(task))
		return 0;
	return sys_exit(ctx, task, regs, nr, ret);
}
