/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * libmemscope-usdt: the memscope USDT probes of include/memscope.h as
 * plain C functions, for programs in languages that can call C but cannot
 * expand its macros (Rust, Go, Python ctypes...).
 *
 * Each function holds its probe site, so the notes a tracer reads are in
 * this library's .note.stapsdt and the semaphores in its .probes: a
 * tracer attached to the process finds them when it walks the objects the
 * process maps, as it does for libc. The arguments arrive in registers
 * and stay there, so each note reads them from the calling convention's
 * argument registers.
 */
#ifdef MEMSCOPE_DISABLE
#error "libmemscope-usdt is the probes: build it without MEMSCOPE_DISABLE"
#endif

#include "memscope.h"

/*
 * These functions are leaves, which GCC builds without a frame even with
 * -fno-omit-frame-pointer, and a frame-pointer walk from a probe in one
 * skips its caller: the very function that declared something. Taking
 * the frame's address makes GCC build the frame, and only on the traced
 * path (shrink-wrapping), so untraced each function stays a load, a test
 * and a return. The macro checks the semaphore again: one more load, and
 * only when traced.
 */
static inline __attribute__((always_inline)) int traced(int enabled)
{
	if (!enabled)
		return 0;
	__asm__ volatile ("" : : "r" (__builtin_frame_address(0)));
	return 1;
}

void memscope_track(const void *ptr, size_t size, const char *name,
		    const char *type, int kind)
{
	if (traced(MEMSCOPE_ENABLED(track)))
		MEMSCOPE_TRACK(ptr, size, name, type, kind);
}

void memscope_untrack(const void *ptr)
{
	if (traced(MEMSCOPE_ENABLED(untrack)))
		MEMSCOPE_UNTRACK(ptr);
}

void memscope_share(const void *handle_addr, const void *heap_ptr,
		    const char *name, const char *type)
{
	if (traced(MEMSCOPE_ENABLED(share)))
		MEMSCOPE_SHARE(handle_addr, heap_ptr, name, type);
}

void memscope_unshare(const void *handle_addr)
{
	if (traced(MEMSCOPE_ENABLED(unshare)))
		MEMSCOPE_UNSHARE(handle_addr);
}

void memscope_task_create(uint64_t id, uint64_t parent, const char *name)
{
	if (traced(MEMSCOPE_ENABLED(task_create)))
		MEMSCOPE_TASK_CREATE(id, parent, name);
}

void memscope_task_enter(uint64_t id)
{
	if (traced(MEMSCOPE_ENABLED(task_enter)))
		MEMSCOPE_TASK_ENTER(id);
}

void memscope_task_leave(uint64_t id)
{
	if (traced(MEMSCOPE_ENABLED(task_leave)))
		MEMSCOPE_TASK_LEAVE(id);
}

void memscope_task_complete(uint64_t id)
{
	if (traced(MEMSCOPE_ENABLED(task_complete)))
		MEMSCOPE_TASK_COMPLETE(id);
}

void memscope_passport_create(const void *ptr, size_t size, const char *name)
{
	if (traced(MEMSCOPE_ENABLED(passport_create)))
		MEMSCOPE_PASSPORT_CREATE(ptr, size, name);
}

void memscope_passport_handover(const void *ptr, const char *to)
{
	if (traced(MEMSCOPE_ENABLED(passport_handover)))
		MEMSCOPE_PASSPORT_HANDOVER(ptr, to);
}

void memscope_passport_reclaim(const void *ptr)
{
	if (traced(MEMSCOPE_ENABLED(passport_reclaim)))
		MEMSCOPE_PASSPORT_RECLAIM(ptr);
}

void memscope_passport_free(const void *ptr, const char *by)
{
	if (traced(MEMSCOPE_ENABLED(passport_free)))
		MEMSCOPE_PASSPORT_FREE(ptr, by);
}

int memscope_active(void)
{
	return MEMSCOPE_ACTIVE();
}
