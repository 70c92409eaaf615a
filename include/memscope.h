/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * memscope.h: tell memscope-bpf what your memory means.
 *
 * Uprobes see pointers and sizes. These USDT probes (provider "memscope")
 * let a program add its own terms: "this block is the session cache",
 * "these bytes belong to request 812", "this buffer now belongs to libfoo".
 * memscope-bpf attaches to them alongside the allocator probes and reports
 * what they say as `declared` data.
 *
 *	#include <memscope.h>
 *
 *	cache = calloc(16, sizeof(*cache));
 *	MEMSCOPE_TRACK(cache, 16 * sizeof(*cache), "session_cache",
 *		       "struct session *[16]", MEMSCOPE_CONTAINER);
 *
 *	void handle(struct request *r)
 *	{
 *		MEMSCOPE_TASK_SCOPE(r->id, "request");
 *		...	(what is allocated here belongs to task r->id)
 *	}
 *
 * Cost. Each macro is guarded by its own USDT semaphore, a counter the
 * kernel raises while a tracer is attached to that probe. Untraced, a
 * macro is one load and one not-taken branch, and its arguments are not
 * evaluated (so they must not have side effects). Traced, the probe is a
 * 1-byte nop the kernel traps on: about a microsecond. bench/usdt-cost.c
 * measures both.
 *
 * Needs GCC or Clang, C11 or C++11, and <sys/sdt.h> (Debian:
 * systemtap-sdt-dev). Define MEMSCOPE_DISABLE to compile every probe out
 * (then nothing else is needed). Programs that cannot use C macros call
 * the same probes as functions in libmemscope-usdt (end of this file).
 *
 * Strings (names, types, sides) are read by the tracer when the probe
 * fires, and cut at 63 bytes: they only need to live for the call.
 *
 * Stacks. The tracer records the call stack at each probe by walking
 * frame pointers, so build with -fno-omit-frame-pointer. GCC still gives
 * a function that makes no call and uses no stack no frame, and a stack
 * taken in it misses its caller: keep probes whose stacks matter out of
 * such leaf functions (or inline those into their callers).
 *
 * The probes; the argument order is the record format (bpf/events.h):
 *
 *   track(ptr, size, name, type, kind)  block ptr is variable `name` of
 *                                       type `type`; kind: MEMSCOPE_*
 *   untrack(ptr)                        it no longer is (a free also
 *                                       ends it)
 *   share(handle_addr, heap_ptr, name, type)
 *                                       a refcounted handle (Rc/Arc,
 *                                       shared_ptr) stored at handle_addr
 *                                       points at heap_ptr; the first
 *                                       handle on a block is its owner,
 *                                       the others are clones
 *   unshare(handle_addr)                that handle is dropped
 *   task_create(id, parent, name)       a task exists; parent 0: a root
 *   task_enter(id), task_leave(id)      this thread starts / stops running
 *                                       the task; they nest: a leave
 *                                       returns the thread to the task it
 *                                       ran before the matching enter
 *   task_complete(id)                   the task is finished
 *   passport_create(ptr, size, name)    a block that will cross a foreign
 *                                       boundary; custody: "host"
 *   passport_handover(ptr, to)          custody passes to side `to`
 *   passport_reclaim(ptr)               custody comes back to "host"
 *   passport_free(ptr, by)              side `by` frees it; that must be
 *                                       the side that has custody
 */
#ifndef MEMSCOPE_H
#define MEMSCOPE_H

#include <stddef.h>
#include <stdint.h>

/* What a tracked block is: the values of enum ms_kind (bpf/events.h). */
#define MEMSCOPE_HEAP_OWNER	1	/* owned through a pointer variable */
#define MEMSCOPE_CONTAINER	2	/* the storage of a collection */
#define MEMSCOPE_VALUE		3	/* an object that lives on the heap */
#define MEMSCOPE_STACK_OWNER	4	/* owned by a variable on the stack */

/* The program's own side in passport operations. */
#define MEMSCOPE_HOST		"host"

#ifndef MEMSCOPE_DISABLE

#if !defined(__GNUC__)
#error "memscope.h: probes need GCC or Clang (or define MEMSCOPE_DISABLE)"
#endif
#if defined(__has_include)
#if !__has_include(<sys/sdt.h>)
#error "memscope.h: no <sys/sdt.h> (systemtap-sdt-dev) and no MEMSCOPE_DISABLE"
#endif
#endif
/*
 * Without _SDT_HAS_SEMAPHORES, sdt.h writes 0 as every probe's semaphore
 * address: the kernel would never raise ours and no probe would fire.
 * sdt.h makes that choice when it is first included, so it must be ours.
 * Other providers' probes in a file that includes this header need
 * semaphores too (the headers `dtrace -h` writes have them).
 */
#if defined(_SYS_SDT_H) && !defined(_SDT_HAS_SEMAPHORES)
#error "memscope.h: include it before <sys/sdt.h>, which has no semaphores"
#endif
#ifndef _SDT_HAS_SEMAPHORES
#define _SDT_HAS_SEMAPHORES 1
#endif
/*
 * Argument locations every USDT reader parses: a constant or a register.
 * With sdt.h's default ("nor") the compiler may describe an argument as a
 * symbol's memory, such as 8@cache(%rip), which libbpf 1.1 rejects, and
 * the whole probe then fails to attach. A register costs at most a load,
 * made only when the probe is traced.
 */
#ifndef STAP_SDT_ARG_CONSTRAINT
#define STAP_SDT_ARG_CONSTRAINT nr
#endif
#include <sys/sdt.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The semaphores, named as sdt.h expects: memscope_<probe>_semaphore.
 * Every translation unit that includes this header defines them, weak, so
 * any number of files can use the probes with no "define this in exactly
 * one file" rule: the linker keeps one of each per executable or shared
 * object.
 *  - section(".probes"): the kernel raises a semaphore at the file offset
 *    libbpf computes from the note, in a writable private mapping of the
 *    file; .bss has no bytes in the file and RELRO pages turn read-only.
 *    ".probes" is where `dtrace -G` puts semaphores and where libbpf and
 *    bcc look for them.
 *  - visibility("hidden"): the kernel raises the copy named by the notes
 *    of the object that holds the probe site. Were the semaphores
 *    exported, a shared object's reads could bind to the executable's
 *    copy, and the object's probes would never fire.
 */
#define MEMSCOPE_SEMAPHORE_(probe)					\
	__attribute__((weak, visibility("hidden"), section(".probes")))	\
	unsigned short memscope_##probe##_semaphore

MEMSCOPE_SEMAPHORE_(track);
MEMSCOPE_SEMAPHORE_(untrack);
MEMSCOPE_SEMAPHORE_(share);
MEMSCOPE_SEMAPHORE_(unshare);
MEMSCOPE_SEMAPHORE_(task_create);
MEMSCOPE_SEMAPHORE_(task_enter);
MEMSCOPE_SEMAPHORE_(task_leave);
MEMSCOPE_SEMAPHORE_(task_complete);
MEMSCOPE_SEMAPHORE_(passport_create);
MEMSCOPE_SEMAPHORE_(passport_handover);
MEMSCOPE_SEMAPHORE_(passport_reclaim);
MEMSCOPE_SEMAPHORE_(passport_free);

/*
 * The task of the innermost MEMSCOPE_TASK_SCOPE or MEMSCOPE_TASK_STEP on
 * this thread, 0 outside any: the parent a MEMSCOPE_TASK_SCOPE gives the
 * task it creates. Weak like the semaphores, but exported: there is one
 * per thread for the whole process, so a scope in a shared library nests
 * under the program's scope that called into it.
 */
__attribute__((weak, visibility("default"))) __thread uint64_t
	memscope_scope_task_;

#ifdef __cplusplus
}
#endif

/*
 * sdt.h calls one of its variadic macros with no variadic arguments, which
 * clang's -pedantic rejects at every probe site: silence that warning for
 * the probe itself, not for the caller's code around it.
 */
#if defined(__clang__)
#define MEMSCOPE_SDT_PUSH_						\
	_Pragma("clang diagnostic push")				\
	_Pragma("clang diagnostic ignored \"-Wgnu-zero-variadic-macro-arguments\"")
#define MEMSCOPE_SDT_POP_	_Pragma("clang diagnostic pop")
#else
#define MEMSCOPE_SDT_PUSH_
#define MEMSCOPE_SDT_POP_
#endif

#define MEMSCOPE_PROBE1_(p, a)						\
	MEMSCOPE_SDT_PUSH_ STAP_PROBE1(memscope, p, a) MEMSCOPE_SDT_POP_
#define MEMSCOPE_PROBE2_(p, a, b)					\
	MEMSCOPE_SDT_PUSH_ STAP_PROBE2(memscope, p, a, b) MEMSCOPE_SDT_POP_
#define MEMSCOPE_PROBE3_(p, a, b, c)					\
	MEMSCOPE_SDT_PUSH_ STAP_PROBE3(memscope, p, a, b, c)		\
	MEMSCOPE_SDT_POP_
#define MEMSCOPE_PROBE4_(p, a, b, c, d)					\
	MEMSCOPE_SDT_PUSH_ STAP_PROBE4(memscope, p, a, b, c, d)		\
	MEMSCOPE_SDT_POP_
#define MEMSCOPE_PROBE5_(p, a, b, c, d, e)				\
	MEMSCOPE_SDT_PUSH_ STAP_PROBE5(memscope, p, a, b, c, d, e)	\
	MEMSCOPE_SDT_POP_

/*
 * Volatile: a tracer attaches at any moment, so a loop must read the
 * counter every time rather than a copy the compiler hoisted out of it.
 */
#define MEMSCOPE_SEM_(probe)						\
	(*(volatile unsigned short *)&memscope_##probe##_semaphore)

/* True while a tracer is attached to one probe: MEMSCOPE_ENABLED(track). */
#define MEMSCOPE_ENABLED(probe)	__builtin_expect(MEMSCOPE_SEM_(probe) != 0, 0)

static inline int memscope_any_enabled_(void)
{
	return (MEMSCOPE_SEM_(track) | MEMSCOPE_SEM_(untrack) |
		MEMSCOPE_SEM_(share) | MEMSCOPE_SEM_(unshare) |
		MEMSCOPE_SEM_(task_create) | MEMSCOPE_SEM_(task_enter) |
		MEMSCOPE_SEM_(task_leave) | MEMSCOPE_SEM_(task_complete) |
		MEMSCOPE_SEM_(passport_create) |
		MEMSCOPE_SEM_(passport_handover) |
		MEMSCOPE_SEM_(passport_reclaim) |
		MEMSCOPE_SEM_(passport_free)) != 0;
}

/*
 * True while a tracer is attached to any memscope probe of this object:
 * lets a caller skip work done only for a probe (formatting a name...).
 */
#define MEMSCOPE_ACTIVE()	__builtin_expect(memscope_any_enabled_(), 0)

/* Bytes of a declared string the tracer keeps (MS_STR_MAX, bpf/events.h). */
#define MEMSCOPE_STR_MAX	64

/*
 * The tracer copies strings from inside the probe, where a page never
 * touched cannot be faulted in: a literal on a cold .rodata page would
 * arrive empty. Reading it here first, only while traced, makes it
 * resident.
 */
static inline const char *memscope_warm_(const char *s)
{
	const volatile char *p = s;
	size_t i;

	for (i = 0; p && i < MEMSCOPE_STR_MAX && p[i]; i++)
		;
	return s;
}

/*
 * Each argument goes through a local of the probe's type: a wrong type is
 * a compile error, and every site's note describes its arguments the same
 * way (8-byte pointers, sizes and ids, a 4-byte signed kind) whatever the
 * caller passed.
 */
#define MEMSCOPE_TRACK(ptr, size, name, type, kind)			\
	do {								\
		if (MEMSCOPE_ENABLED(track)) {				\
			const void *memscope_p_ = (ptr);		\
			size_t memscope_n_ = (size);			\
			const char *memscope_s_ = memscope_warm_(name);	\
			const char *memscope_t_ = memscope_warm_(type);	\
			int memscope_k_ = (kind);			\
			MEMSCOPE_PROBE5_(track, memscope_p_,		\
					 memscope_n_, memscope_s_,	\
					 memscope_t_, memscope_k_);	\
		}							\
	} while (0)

#define MEMSCOPE_UNTRACK(ptr)						\
	do {								\
		if (MEMSCOPE_ENABLED(untrack)) {			\
			const void *memscope_p_ = (ptr);		\
			MEMSCOPE_PROBE1_(untrack, memscope_p_);		\
		}							\
	} while (0)

#define MEMSCOPE_SHARE(handle_addr, heap_ptr, name, type)		\
	do {								\
		if (MEMSCOPE_ENABLED(share)) {				\
			const void *memscope_h_ = (handle_addr);	\
			const void *memscope_p_ = (heap_ptr);		\
			const char *memscope_s_ = memscope_warm_(name);	\
			const char *memscope_t_ = memscope_warm_(type);	\
			MEMSCOPE_PROBE4_(share, memscope_h_,		\
					 memscope_p_, memscope_s_,	\
					 memscope_t_);			\
		}							\
	} while (0)

#define MEMSCOPE_UNSHARE(handle_addr)					\
	do {								\
		if (MEMSCOPE_ENABLED(unshare)) {			\
			const void *memscope_h_ = (handle_addr);	\
			MEMSCOPE_PROBE1_(unshare, memscope_h_);		\
		}							\
	} while (0)

#define MEMSCOPE_TASK_CREATE(id, parent, name)				\
	do {								\
		if (MEMSCOPE_ENABLED(task_create)) {			\
			uint64_t memscope_i_ = (id);			\
			uint64_t memscope_q_ = (parent);		\
			const char *memscope_s_ = memscope_warm_(name);	\
			MEMSCOPE_PROBE3_(task_create, memscope_i_,	\
					 memscope_q_, memscope_s_);	\
		}							\
	} while (0)

#define MEMSCOPE_TASK_ENTER(id)						\
	do {								\
		if (MEMSCOPE_ENABLED(task_enter)) {			\
			uint64_t memscope_i_ = (id);			\
			MEMSCOPE_PROBE1_(task_enter, memscope_i_);	\
		}							\
	} while (0)

#define MEMSCOPE_TASK_LEAVE(id)						\
	do {								\
		if (MEMSCOPE_ENABLED(task_leave)) {			\
			uint64_t memscope_i_ = (id);			\
			MEMSCOPE_PROBE1_(task_leave, memscope_i_);	\
		}							\
	} while (0)

#define MEMSCOPE_TASK_COMPLETE(id)					\
	do {								\
		if (MEMSCOPE_ENABLED(task_complete)) {			\
			uint64_t memscope_i_ = (id);			\
			MEMSCOPE_PROBE1_(task_complete, memscope_i_);	\
		}							\
	} while (0)

#define MEMSCOPE_PASSPORT_CREATE(ptr, size, name)			\
	do {								\
		if (MEMSCOPE_ENABLED(passport_create)) {		\
			const void *memscope_p_ = (ptr);		\
			size_t memscope_n_ = (size);			\
			const char *memscope_s_ = memscope_warm_(name);	\
			MEMSCOPE_PROBE3_(passport_create, memscope_p_,	\
					 memscope_n_, memscope_s_);	\
		}							\
	} while (0)

#define MEMSCOPE_PASSPORT_HANDOVER(ptr, to)				\
	do {								\
		if (MEMSCOPE_ENABLED(passport_handover)) {		\
			const void *memscope_p_ = (ptr);		\
			const char *memscope_s_ = memscope_warm_(to);		\
			MEMSCOPE_PROBE2_(passport_handover,		\
					 memscope_p_, memscope_s_);	\
		}							\
	} while (0)

#define MEMSCOPE_PASSPORT_RECLAIM(ptr)					\
	do {								\
		if (MEMSCOPE_ENABLED(passport_reclaim)) {		\
			const void *memscope_p_ = (ptr);		\
			MEMSCOPE_PROBE1_(passport_reclaim, memscope_p_); \
		}							\
	} while (0)

#define MEMSCOPE_PASSPORT_FREE(ptr, by)					\
	do {								\
		if (MEMSCOPE_ENABLED(passport_free)) {			\
			const void *memscope_p_ = (ptr);		\
			const char *memscope_s_ = memscope_warm_(by);		\
			MEMSCOPE_PROBE2_(passport_free, memscope_p_,	\
					 memscope_s_);			\
		}							\
	} while (0)

/*
 * Scoped tasks.
 *
 * MEMSCOPE_TASK_SCOPE(id, name) is the synchronous case: a task whose
 * whole life is one block of code on one thread (a request handled from
 * start to finish). Where it is declared it creates task `id`, as a child
 * of the task of the enclosing MEMSCOPE_TASK_SCOPE or MEMSCOPE_TASK_STEP
 * on this thread (a root if there is none), and enters it. At the end of
 * the block it leaves it, which puts the thread back in the enclosing
 * task, and completes it.
 *
 * MEMSCOPE_TASK_STEP(id) is one step of a task that outlives the block,
 * such as an async task that an executor resumes, maybe on another
 * thread each time: it enters `id` where it is declared and leaves it at
 * the end of the block. Creating and completing the task are the
 * caller's (MEMSCOPE_TASK_CREATE, MEMSCOPE_TASK_COMPLETE).
 *
 * Both are declarations. In C they use the cleanup attribute (GCC,
 * Clang); in C++ they are RAII objects, also usable by name:
 * memscope::task_scope, memscope::task_step. Keeping the parent right
 * costs a thread-local load and two stores per scope, traced or not: a
 * tracer that attaches in the middle of a scope still sees the right
 * parent for the scopes opened after it.
 */
struct memscope_scope_ {
	uint64_t id;
	uint64_t prev;		/* the enclosing scope's task, restored */
	int complete;		/* a TASK_SCOPE: complete at the end */
	int entered;		/* the enter fired, so the leave must */
};

/*
 * Always inlined: the probes then sit in the function that declared the
 * scope, and a stack taken at them starts there.
 */
static inline __attribute__((always_inline)) struct memscope_scope_
memscope_scope_begin_(uint64_t id, const char *name, int owns)
{
	struct memscope_scope_ s;

	s.id = id;
	s.prev = memscope_scope_task_;
	s.complete = owns;
	memscope_scope_task_ = id;
	if (owns)
		MEMSCOPE_TASK_CREATE(id, s.prev, name);
	/*
	 * A leave pops the tracer's per-thread task stack: one without its
	 * enter (the tracer attached in between) would pop the enclosing
	 * task instead.
	 */
	s.entered = MEMSCOPE_ENABLED(task_enter);
	if (s.entered)
		MEMSCOPE_PROBE1_(task_enter, s.id);
	return s;
}

static inline __attribute__((always_inline)) void
memscope_scope_end_(struct memscope_scope_ *s)
{
	if (s->entered)
		MEMSCOPE_TASK_LEAVE(s->id);
	if (s->complete)
		MEMSCOPE_TASK_COMPLETE(s->id);
	memscope_scope_task_ = s->prev;
}

#define MEMSCOPE_CAT2_(a, b)	a##b
#define MEMSCOPE_CAT_(a, b)	MEMSCOPE_CAT2_(a, b)
#define MEMSCOPE_UNIQUE_(p)	MEMSCOPE_CAT_(p, __COUNTER__)

#ifdef __cplusplus
namespace memscope {

class task_scope {
public:
	task_scope(uint64_t id, const char *name)
		: s_(memscope_scope_begin_(id, name, 1)) {}
	~task_scope() { memscope_scope_end_(&s_); }
	task_scope(const task_scope &) = delete;
	task_scope &operator=(const task_scope &) = delete;
private:
	struct memscope_scope_ s_;
};

class task_step {
public:
	explicit task_step(uint64_t id)
		: s_(memscope_scope_begin_(id, nullptr, 0)) {}
	~task_step() { memscope_scope_end_(&s_); }
	task_step(const task_step &) = delete;
	task_step &operator=(const task_step &) = delete;
private:
	struct memscope_scope_ s_;
};

} /* namespace memscope */

#define MEMSCOPE_TASK_SCOPE(id, name)					\
	::memscope::task_scope MEMSCOPE_UNIQUE_(memscope_scope_)((id), (name))
#define MEMSCOPE_TASK_STEP(id)						\
	::memscope::task_step MEMSCOPE_UNIQUE_(memscope_scope_)((id))
#else
#define MEMSCOPE_TASK_SCOPE(id, name)					\
	struct memscope_scope_ MEMSCOPE_UNIQUE_(memscope_scope_)	\
	__attribute__((cleanup(memscope_scope_end_), unused)) =	\
		memscope_scope_begin_((id), (name), 1)
#define MEMSCOPE_TASK_STEP(id)						\
	struct memscope_scope_ MEMSCOPE_UNIQUE_(memscope_scope_)	\
	__attribute__((cleanup(memscope_scope_end_), unused)) =	\
		memscope_scope_begin_((id), NULL, 0)
#endif

#else /* MEMSCOPE_DISABLE */

/*
 * Compiled out: nothing is emitted and no argument is evaluated, but each
 * is still named (inside sizeof) so that a variable kept only for a probe
 * does not become an unused-variable warning.
 */
#define MEMSCOPE_USE_(x)	((void)sizeof(x))

#define MEMSCOPE_ENABLED(probe)	0
#define MEMSCOPE_ACTIVE()	0
#define MEMSCOPE_TRACK(ptr, size, name, type, kind)			\
	(MEMSCOPE_USE_(ptr), MEMSCOPE_USE_(size), MEMSCOPE_USE_(name),	\
	 MEMSCOPE_USE_(type), MEMSCOPE_USE_(kind))
#define MEMSCOPE_UNTRACK(ptr)		MEMSCOPE_USE_(ptr)
#define MEMSCOPE_SHARE(handle_addr, heap_ptr, name, type)		\
	(MEMSCOPE_USE_(handle_addr), MEMSCOPE_USE_(heap_ptr),		\
	 MEMSCOPE_USE_(name), MEMSCOPE_USE_(type))
#define MEMSCOPE_UNSHARE(handle_addr)	MEMSCOPE_USE_(handle_addr)
#define MEMSCOPE_TASK_CREATE(id, parent, name)				\
	(MEMSCOPE_USE_(id), MEMSCOPE_USE_(parent), MEMSCOPE_USE_(name))
#define MEMSCOPE_TASK_ENTER(id)		MEMSCOPE_USE_(id)
#define MEMSCOPE_TASK_LEAVE(id)		MEMSCOPE_USE_(id)
#define MEMSCOPE_TASK_COMPLETE(id)	MEMSCOPE_USE_(id)
#define MEMSCOPE_PASSPORT_CREATE(ptr, size, name)			\
	(MEMSCOPE_USE_(ptr), MEMSCOPE_USE_(size), MEMSCOPE_USE_(name))
#define MEMSCOPE_PASSPORT_HANDOVER(ptr, to)				\
	(MEMSCOPE_USE_(ptr), MEMSCOPE_USE_(to))
#define MEMSCOPE_PASSPORT_RECLAIM(ptr)	MEMSCOPE_USE_(ptr)
#define MEMSCOPE_PASSPORT_FREE(ptr, by)					\
	(MEMSCOPE_USE_(ptr), MEMSCOPE_USE_(by))
#define MEMSCOPE_TASK_SCOPE(id, name)					\
	(MEMSCOPE_USE_(id), MEMSCOPE_USE_(name))
#define MEMSCOPE_TASK_STEP(id)		MEMSCOPE_USE_(id)

#ifdef __cplusplus
namespace memscope {

class task_scope {
public:
	task_scope(uint64_t, const char *) {}
	~task_scope() {}
	task_scope(const task_scope &) = delete;
	task_scope &operator=(const task_scope &) = delete;
};

class task_step {
public:
	explicit task_step(uint64_t) {}
	~task_step() {}
	task_step(const task_step &) = delete;
	task_step &operator=(const task_step &) = delete;
};

} /* namespace memscope */
#endif

#endif /* MEMSCOPE_DISABLE */

/*
 * libmemscope-usdt: the same probes as functions, for programs that can
 * call C but cannot use these macros (Rust, Go, Python ctypes). Link with
 * -lmemscope-usdt. The probe sites and their semaphores are the library's
 * own, so a tracer finds them in the notes of libmemscope-usdt.so (or of
 * the program, when linked with the static archive). Untraced, a call
 * costs the call and the semaphore branch. The scopes have no function
 * form: pair memscope_task_enter() and memscope_task_leave() yourself.
 * MEMSCOPE_DISABLE does not remove these.
 */
#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MEMSCOPE_API	__attribute__((visibility("default")))
#else
#define MEMSCOPE_API
#endif

MEMSCOPE_API void memscope_track(const void *ptr, size_t size,
				 const char *name, const char *type, int kind);
MEMSCOPE_API void memscope_untrack(const void *ptr);
MEMSCOPE_API void memscope_share(const void *handle_addr,
				 const void *heap_ptr, const char *name,
				 const char *type);
MEMSCOPE_API void memscope_unshare(const void *handle_addr);
MEMSCOPE_API void memscope_task_create(uint64_t id, uint64_t parent,
				       const char *name);
MEMSCOPE_API void memscope_task_enter(uint64_t id);
MEMSCOPE_API void memscope_task_leave(uint64_t id);
MEMSCOPE_API void memscope_task_complete(uint64_t id);
MEMSCOPE_API void memscope_passport_create(const void *ptr, size_t size,
					   const char *name);
MEMSCOPE_API void memscope_passport_handover(const void *ptr,
					     const char *to);
MEMSCOPE_API void memscope_passport_reclaim(const void *ptr);
MEMSCOPE_API void memscope_passport_free(const void *ptr, const char *by);
/* 1 while a tracer is attached to any of the library's probes, else 0. */
MEMSCOPE_API int memscope_active(void);

#ifdef __cplusplus
}
#endif

#endif /* MEMSCOPE_H */
