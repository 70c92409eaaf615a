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

/* Set between open and load. */
const volatile __u32 targ_tgid = 0;
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
 * key is the block address, or one of the states below (no block lives at
 * address 1 or 2). Freed slots become tombstones, never empty again, so a
 * search for a key may stop at the first empty slot.
 */
#define LIVE_EMPTY	0
#define LIVE_TOMB	1
#define LIVE_BUSY	2	/* being written by the CPU that swapped it in */
#define LIVE_PROBES	16

struct live_slot {
	__u64 key;
	__u64 size;
	__u64 seq;
	__u64 pad;		/* two slots to a cache line */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, struct live_slot);
} live SEC(".maps");

/* Set between open and load: slots in the live table, minus one. */
const volatile __u32 live_mask = (1 << 20) - 1;

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
	__u32 fn;
	/*
	 * Declared tasks entered on this thread, innermost last: leave pops,
	 * so a scope ending restores the task that was running before it.
	 */
	__u32 nr_tasks;
	__u64 tasks[MS_TASK_DEPTH];
};

/* Bytes of user stack copied in one read; the frame walk reads inside it. */
#define STACK_WINDOW	512
#define WINDOW_WORDS	(STACK_WINDOW / 8)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[WINDOW_WORDS]);
} stack_window SEC(".maps");

/*
 * Every helper call costs a call and a return through the kernel's return
 * thunk (tens of ns on this machine): a program reads its pid_tgid once
 * and hands it on.
 */
static __always_inline bool is_target(__u64 id)
{
	return (id >> 32) == targ_tgid;
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

/* A thread of the target exits: its slot goes back, cleared, for reuse. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ms_thread_exit)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u32 idx = tid & thread_mask;
	struct thread_slot *t;

	if (!is_target(id))
		return 0;
	t = bpf_map_lookup_elem(&threads, &idx);
	if (!t || t->tid != tid)
		return 0;
	__builtin_memset(&t->st, 0, sizeof(t->st));
	__sync_lock_test_and_set(&t->tid, 0);
	return 0;
}

static __always_inline void live_bytes_add(__u64 size, __u64 now)
{
	__u64 live = __sync_add_and_fetch(&counters.live_bytes, size);
	__u64 peak;

	/*
	 * Every failed swap is another CPU raising the peak, so the loop ends
	 * soon; the bound is for the verifier, set past any real contention.
	 */
	for (int i = 0; i < 64; i++) {
		peak = counters.peak_bytes;
		if (live <= peak)
			break;
		if (__sync_val_compare_and_swap(&counters.peak_bytes, peak,
						live) == peak) {
			counters.peak_ns = now;
			break;
		}
	}
}

static __always_inline struct live_slot *live_slot(__u64 ptr, __u32 i)
{
	/* Multiplicative hashing; the low 4 bits of a block are always 0. */
	__u32 idx = (((ptr >> 4) * 0x9e3779b97f4a7c15ull) >> 32) + i;

	idx &= live_mask;
	return bpf_map_lookup_elem(&live, &idx);
}

static __always_inline struct live_slot *live_find(__u64 ptr)
{
	struct live_slot *s;
	__u64 k;

	if (ptr <= LIVE_BUSY)
		return NULL;
	for (__u32 i = 0; i < LIVE_PROBES; i++) {
		s = live_slot(ptr, i);
		if (!s)
			return NULL;
		k = *(volatile __u64 *)&s->key;
		if (k == ptr)
			return s;
		if (k == LIVE_EMPTY)
			return NULL;
	}
	return NULL;
}

/*
 * Put ptr in the table. A slot already holding ptr is a block whose free
 * was not seen: a realloc on another thread that released it and has not
 * returned yet, or a free that ran before its probe was attached. Its
 * bytes leave the live totals here; like the store, which counts it as
 * replaced, this is not counted as a free.
 */
static __always_inline bool live_insert(__u64 ptr, __u64 size, __u64 seq)
{
	struct live_slot *s, *spot;
	__u64 k, spot_key;

	if (ptr <= LIVE_BUSY)
		return false;
	/*
	 * A lost race for a slot (another key swapped in first) rescans; only
	 * a run of such losses on many CPUs at once counts as a full table.
	 * The verifier walks the rescan loop's product with the probe loop:
	 * 4 tries cost 0.14 s of load time here, 8 cost 0.3 s.
	 */
	for (int tries = 0; tries < 4; tries++) {
		spot = NULL;
		spot_key = 0;
		for (__u32 i = 0; i < LIVE_PROBES; i++) {
			s = live_slot(ptr, i);
			if (!s)
				return false;
			k = *(volatile __u64 *)&s->key;
			if (k == ptr) {
				spot = s;
				spot_key = k;
				break;
			}
			if ((k == LIVE_EMPTY || k == LIVE_TOMB) && !spot) {
				spot = s;
				spot_key = k;
			}
			if (k == LIVE_EMPTY)
				break;
		}
		if (!spot)
			return false;
		if (spot_key != ptr) {
			/*
			 * A new key goes in with one swap. Nothing reads this
			 * slot's size before malloc returns ptr to its caller,
			 * and a release racing from a realloc compares seq,
			 * which it cannot find equal to its own old block's.
			 */
			if (__sync_val_compare_and_swap(&spot->key, spot_key,
							ptr) != spot_key)
				continue;
			spot->size = size;
			spot->seq = seq;
			return true;
		}
		if (__sync_val_compare_and_swap(&spot->key, ptr,
						LIVE_BUSY) != ptr)
			continue;
		__sync_fetch_and_sub(&counters.live_bytes, spot->size);
		__sync_fetch_and_add(&rare.replaced_blocks, 1);
		__sync_fetch_and_add(&rare.replaced_bytes, spot->size);
		spot->size = size;
		spot->seq = seq;
		/* The exchange publishes size and seq with the key. */
		__sync_lock_test_and_set(&spot->key, ptr);
		return true;
	}
	return false;
}

static __always_inline __u64 block_new(__u64 ptr, __u64 size, __u64 now,
				       __u16 *flags)
{
	__u64 seq = __sync_add_and_fetch(&counters.seq, 1);

	__sync_fetch_and_add(&counters.alloc_bytes, size);
	if (!live_insert(ptr, size, seq)) {
		__sync_fetch_and_add(&counters.live_full, 1);
		__sync_fetch_and_add(&rare.full_bytes, size);
		*flags |= MS_EVF_LIVE_FULL;
		return seq;
	}
	live_bytes_add(size, now);
	return seq;
}

/*
 * Release a block. With want_seq set, only the block that had that sequence
 * when the call began: another thread may have been handed the same address
 * since (realloc frees the old block before it returns), and its insert
 * then released this one already.
 */
static __always_inline void block_release(__u64 ptr, __u64 want_seq)
{
	struct live_slot *s = live_find(ptr);
	__u64 size;

	if (!s) {
		if (!want_seq)
			__sync_fetch_and_add(&counters.unknown_frees, 1);
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
		if (!want_seq)
			__sync_fetch_and_add(&counters.unknown_frees, 1);
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
}

/*
 * Claim len bytes of the ring. Producers race only on ring_prod, and a
 * full ring drops the record (counted) instead of waiting.
 */
static __always_inline struct ms_event *event_reserve(__u32 len, __u64 *pos)
{
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
 * The stack window, copied from sp; NULL without the scratch. *ok is false
 * when the copy failed: near the top of a stack the window may run past
 * it, and the walk then reads frame by frame.
 */
static __always_inline __u64 *window_read(struct pt_regs *ctx, bool *ok)
{
	__u32 zero = 0;
	__u64 *win = bpf_map_lookup_elem(&stack_window, &zero);

	*ok = win && !bpf_probe_read_user(win, STACK_WINDOW,
					  (void *)PT_REGS_SP(ctx));
	return win;
}

/*
 * A user stack by frame pointers. One bulk copy of the stack window costs
 * about what a single small read does (docs/ARCHITECTURE.md, costs), so
 * the walk reads saved frame pointers and return addresses from the copy,
 * and only frames beyond the window cost a read each.
 *
 * at_entry: the probe sits where *sp is still the return address, so the
 * immediate caller comes from there, and rbp is still the caller's. At
 * return, ip is already in the caller and rbp restored to its frame.
 * Either way the walk from rbp yields the caller's callers.
 */
static __always_inline void stack_walk(struct pt_regs *ctx,
				       struct ms_event *e, bool at_entry,
				       const __u64 *win, bool have_window)
{
	__u64 sp = PT_REGS_SP(ctx), bp = PT_REGS_FP(ctx), pair[2], off;
	__u32 n = 1, i, w;

	e->nr_frames = 0;
	if (!win)
		return;
	if (!at_entry) {
		e->frames[0] = PT_REGS_IP(ctx);
	} else if (have_window) {
		e->frames[0] = win[0];
	} else if (bpf_probe_read_user(&e->frames[0], sizeof(__u64),
				       (void *)sp)) {
		e->flags |= MS_EVF_STACK_ERR;
		__sync_fetch_and_add(&counters.stack_errors, 1);
		return;
	}

	for (i = 1; i < MS_MAX_STACK; i++) {
		/* A frame pointer lies above sp, aligned, and grows upward. */
		if (bp < sp || (bp & 7))
			break;
		off = bp - sp;
		w = off / 8;
		if (have_window && off <= STACK_WINDOW - 16 && w < WINDOW_WORDS - 1) {
			pair[0] = win[w];
			pair[1] = win[w + 1];
		} else if (bpf_probe_read_user(pair, sizeof(pair), (void *)bp)) {
			break;
		}
		if (!pair[1])
			break;
		e->frames[n & (MS_MAX_STACK - 1)] = pair[1];
		n++;
		if (pair[0] <= bp)
			break;
		bp = pair[0];
	}
	if (i == MS_MAX_STACK)
		e->flags |= MS_EVF_STACK_TRUNC;
	e->nr_frames = n;
}

static __always_inline void stack_fill(struct pt_regs *ctx,
				       struct ms_event *e, bool at_entry)
{
	bool ok;
	__u64 *win = window_read(ctx, &ok);

	stack_walk(ctx, e, at_entry, win, ok);
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

static __always_inline void args_read(struct pt_regs *ctx, __u32 fn,
				      struct inflight *st)
{
	__u64 a1 = PT_REGS_PARM1(ctx), a2 = PT_REGS_PARM2(ctx);
	__u64 a3 = PT_REGS_PARM3(ctx);

	st->arg = 0;
	st->old_seq = 0;
	switch (fn) {
	case MS_FN_CALLOC:
		st->size = a1 * a2;
		break;
	case MS_FN_REALLOC:
		st->arg = a1;
		st->size = a2;
		break;
	case MS_FN_REALLOCARRAY:
		st->arg = a1;
		st->size = a2 * a3;
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
	if (st->arg && (fn == MS_FN_REALLOC || fn == MS_FN_REALLOCARRAY)) {
		struct live_slot *v = live_find(st->arg);

		st->old_seq = v ? v->seq : 0;
	}
}

/* --mode=alloc: the whole record at entry; no pointer, nothing live. */
static __always_inline void alloc_profile(struct pt_regs *ctx, __u32 fn,
					  struct inflight *st, __u64 id,
					  const __u64 *win, bool have_window)
{
	/* Nothing here needs more than the drain tick: no peak, no ages. */
	__u64 now = *(volatile __u64 *)&tick_ns, pos;
	struct ms_event *e;

	__sync_fetch_and_add(&counters.seq, 1);
	__sync_fetch_and_add(&counters.alloc_bytes, st->size);
	e = event_reserve(RING_LEN(MS_MAX_STACK), &pos);
	if (!e)
		return;
	event_fill(e, MS_EV_ALLOC, fn, now, id);
	e->flags = MS_EVF_PROFILE | MS_EVF_TICK_TS;
	e->size = st->size;
	stack_walk(ctx, e, true, win, have_window);
	event_submit(e, pos, RING_LEN(MS_MAX_STACK), RING_LEN(e->nr_frames));
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
 * glibc's realloc(NULL, n) jumps to malloc, and reallocarray to realloc,
 * leaving the stack as their caller did. Such a hit has the sp and the
 * return address of the thread's last entry, a realloc (or reallocarray);
 * a separate call from the same frame comes from another call instruction,
 * so another return address. The last entry is kept in the thread's call
 * state, which this mode does not use otherwise (arg: return address).
 */
static __always_inline bool tail_called(struct inflight *st, __u32 fn,
					__u64 sp, __u64 ret)
{
	bool hit = st->sp == sp && st->arg == ret &&
		   ((st->fn == MS_FN_REALLOC && fn == MS_FN_MALLOC) ||
		    (st->fn == MS_FN_REALLOCARRAY && fn == MS_FN_REALLOC));

	st->sp = sp;
	st->arg = ret;
	st->fn = fn;
	return hit;
}

SEC("uprobe")
int ms_alloc_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), sp = PT_REGS_SP(ctx);
	struct inflight *st;
	__u32 fn;

	if (!is_target(id))
		return 0;
	fn = bpf_get_attach_cookie(ctx);
	if (alloc_only) {
		struct inflight args = {};
		bool ok;
		__u64 *win = window_read(ctx, &ok);

		st = thread_state(id, true);
		if (st && win && ok && tail_called(st, fn, sp, win[0])) {
			__sync_fetch_and_add(&counters.nested_calls, 1);
			return 0;
		}
		args_read(ctx, fn, &args);
		alloc_profile(ctx, fn, &args, id, win, ok);
		return 0;
	}
	st = thread_state(id, true);
	if (!st)
		return 0;
	if (nested(st, sp)) {
		__sync_fetch_and_add(&counters.nested_calls, 1);
		return 0;
	}
	/* Not nested: any state left is stale (its return was never seen). */
	st->sp = sp;
	st->fn = fn;
	args_read(ctx, fn, st);
	return 0;
}

SEC("uretprobe")
int ms_alloc_return(struct pt_regs *ctx)
{
	__u64 ret = PT_REGS_RC(ctx), now, ptr, seq = 0, pos;
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight *st;
	struct ms_event *e;
	__u16 flags = 0;
	__u32 fn;

	if (!is_target(id))
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
	st->sp = 0;
	now = bpf_ktime_get_ns();
	fn = st->fn;
	ptr = ret;
	if (fn == MS_FN_POSIX_MEMALIGN) {
		ptr = 0;
		if (ret == 0 && bpf_probe_read_user(&ptr, sizeof(ptr),
						    (void *)st->arg))
			ptr = 0;
	}

	if (fn == MS_FN_REALLOC || fn == MS_FN_REALLOCARRAY) {
		switch (ms_realloc_effect(st->arg, st->size, ptr)) {
		case MS_RE_MOVE:
			block_release(st->arg, st->old_seq);
			seq = block_new(ptr, st->size, now, &flags);
			break;
		case MS_RE_FREE:
			block_release(st->arg, st->old_seq);
			break;
		case MS_RE_ALLOC:
			seq = block_new(ptr, st->size, now, &flags);
			break;
		case MS_RE_FAILED:
			__sync_fetch_and_add(&counters.failed_allocs, 1);
			break;
		}
	} else if (ptr) {
		seq = block_new(ptr, st->size, now, &flags);
	} else {
		__sync_fetch_and_add(&counters.failed_allocs, 1);
	}

	e = event_reserve(RING_LEN(MS_MAX_STACK), &pos);
	if (!e)
		return 0;
	event_fill(e, fn == MS_FN_REALLOC || fn == MS_FN_REALLOCARRAY ?
		      MS_EV_REALLOC : MS_EV_ALLOC, fn, now, id);
	e->flags = flags;
	e->seq = seq;
	e->ptr = ptr;
	e->size = st->size;
	e->old_ptr = st->arg;
	e->old_seq = st->old_seq;
	e->task = current_task(st);
	stack_fill(ctx, e, false);
	event_submit(e, pos, RING_LEN(MS_MAX_STACK), RING_LEN(e->nr_frames));
	return 0;
}

SEC("uprobe")
int ms_free_enter(struct pt_regs *ctx)
{
	__u64 ptr = PT_REGS_PARM1(ctx), pos;
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight *st;
	struct ms_event *e;

	if (!is_target(id) || !ptr)
		return 0;
	st = thread_state(id, false);
	if (st && nested(st, PT_REGS_SP(ctx))) {
		__sync_fetch_and_add(&counters.nested_calls, 1);
		return 0;
	}
	block_release(ptr, 0);
	e = event_reserve(RING_LEN(0), &pos);
	if (!e)
		return 0;
	event_fill(e, MS_EV_FREE, MS_FN_FREE, *(volatile __u64 *)&tick_ns, id);
	e->flags = MS_EVF_TICK_TS;
	e->ptr = ptr;
	e->task = current_task(st);
	e->nr_frames = 0;
	event_submit(e, pos, RING_LEN(0), RING_LEN(0));
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
	__u64 id = bpf_get_current_pid_tgid(), pos;
	struct inflight *st;
	struct ms_event *e;

	if (!is_target(id))
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
	stack_fill(ctx, e, false);
	event_submit(e, pos, MS_RING_REC_MAX, MS_RING_REC_MAX);
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
