// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include "clock.h"
#include "heaproots.h"
#include "procmaps.h"
#include "table.h"

/* A stack copied at most this far above sp: no thread's is larger. */
#define STACK_MAX		(64ull << 20)
/* All stacks together: a hostile sp at the bottom of a huge mapping in
 * every thread must not exhaust our memory. */
#define STACKS_MAX		(512ull << 20)
/* Below sp, what a leaf function may keep there (the x86-64 red zone). */
#define RED_ZONE		128
/* How long the threads have to stop after PTRACE_INTERRUPT. */
#define STOP_TIMEOUT_NS		2000000000ll
#define STOP_POLL_NS		100000l
/* Passes over /proc/PID/task: threads born while the others stop. */
#define LIST_PASSES		3
#define MAX_THREADS		(1u << 16)

struct thread {
	pid_t tid;
	bool seized;
	bool stopped;
	int sig;		/* a signal it stopped for: delivered on detach */
	__u64 sp;
};

struct heaproots {
	int pid;
	struct heaproots_info info;
	struct tab_array threads;	/* struct thread */
	struct tab_array bufs;		/* struct heaproots_buf, data owned */
	struct tab_array ranges;	/* struct heaproots_range */
};

static struct thread *thread_find(struct heaproots *r, pid_t tid)
{
	size_t i;

	for (i = 0; i < r->threads.nr; i++) {
		struct thread *t = tab_array_at(&r->threads, i);

		if (t->tid == tid)
			return t;
	}
	return NULL;
}

/* Every thread listed now and not seen yet: seized and interrupted. */
static int list_threads(struct heaproots *r, enum heaproots_how how,
			bool *grew)
{
	struct thread *t;
	struct dirent *de;
	char path[64];
	DIR *dir;
	long tid;
	int err = 0;

	*grew = false;
	snprintf(path, sizeof(path), "/proc/%d/task", r->pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!err && (de = readdir(dir))) {
		tid = strtol(de->d_name, NULL, 10);
		if (tid <= 0 || tid > INT_MAX || thread_find(r, tid))
			continue;
		err = tab_array_reserve(&r->threads, 1);
		if (err)
			break;
		t = tab_array_push(&r->threads);
		t->tid = tid;
		*grew = true;
		if (how == HEAPROOTS_STOPPED)
			continue;
		if (ptrace(PTRACE_SEIZE, (pid_t)tid, 0, 0)) {
			/* ESRCH: it ended since the listing. */
			if (errno != ESRCH)
				err = -errno;
			continue;
		}
		t->seized = true;
		ptrace(PTRACE_INTERRUPT, (pid_t)tid, 0, 0);
	}
	closedir(dir);
	return err;
}

/* Waits for every seized thread to report its stop (or its end). */
static void wait_stops(struct heaproots *r)
{
	__u64 deadline = mono_ns() + STOP_TIMEOUT_NS;
	struct timespec nap = { .tv_nsec = STOP_POLL_NS };
	size_t i, waiting;
	int status, event;
	pid_t got;

	do {
		waiting = 0;
		for (i = 0; i < r->threads.nr; i++) {
			struct thread *t = tab_array_at(&r->threads, i);

			if (!t->seized || t->stopped)
				continue;
			got = waitpid(t->tid, &status, WNOHANG | __WALL);
			if (got == 0) {
				waiting++;
				continue;
			}
			if (got < 0 || !WIFSTOPPED(status)) {
				/* ended: nothing to read or let go */
				t->seized = false;
				continue;
			}
			t->stopped = true;
			event = status >> 16;
			/* A signal arrived first: it goes on when we let go. */
			if (!event)
				t->sig = WSTOPSIG(status);
		}
		if (waiting)
			nanosleep(&nap, NULL);
	} while (waiting && mono_ns() < deadline);
}

static int add_buf(struct heaproots *r, __u64 addr, void *data, size_t len)
{
	struct heaproots_buf *b;
	int err = tab_array_reserve(&r->bufs, 1);

	if (err) {
		free(data);
		return err;
	}
	b = tab_array_push(&r->bufs);
	b->addr = addr;
	b->data = data;
	b->len = len;
	return 0;
}

/* The registers as the kernel keeps them, and the stack pointer among them. */
static int read_regs(pid_t tid, void **out, size_t *len, __u64 *sp)
{
	struct user_regs_struct *regs = malloc(sizeof(*regs));
	struct iovec iov = { .iov_base = regs, .iov_len = sizeof(*regs) };

	if (!regs)
		return -ENOMEM;
	if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov)) {
		free(regs);
		return -errno;
	}
#if defined(__x86_64__)
	*sp = regs->rsp;
#elif defined(__aarch64__)
	*sp = regs->sp;
#else
#error "heaproots: the stack pointer of this architecture"
#endif
	*out = regs;
	*len = iov.iov_len;
	return 0;
}

/* [sp - red zone, end of sp's mapping): copied while the thread stands. */
static int copy_stack(struct heaproots *r, const struct procmaps *maps,
		      struct thread *t)
{
	const struct procmap *m = procmaps__find(maps, t->sp);
	__u64 from, len;
	void *data;
	long got;

	if (!m)
		return -EFAULT;
	from = t->sp - m->start >= RED_ZONE ? t->sp - RED_ZONE : m->start;
	len = m->end - from;
	if (len > STACK_MAX)
		len = STACK_MAX;
	if (r->info.stack_bytes + len > STACKS_MAX)
		return -E2BIG;
	data = malloc(len);
	if (!data)
		return -ENOMEM;
	got = heaproots__read(r, from, data, len);
	if (got <= 0) {
		free(data);
		return got ? (int)got : -EFAULT;
	}
	r->info.stack_bytes += got;
	return add_buf(r, from, data, got);
}

static void copy_thread(struct heaproots *r, const struct procmaps *maps,
			struct thread *t)
{
	size_t len = 0;
	void *regs = NULL;

	if (read_regs(t->tid, &regs, &len, &t->sp)) {
		r->info.missed++;
		return;
	}
	if (add_buf(r, 0, regs, len) || copy_stack(r, maps, t)) {
		r->info.missed++;
		t->sp = 0;
		return;
	}
	r->info.threads++;
}

static bool is_thread_stack(const struct heaproots *r, const struct procmap *m)
{
	size_t i;

	for (i = 0; i < r->threads.nr; i++) {
		const struct thread *t = tab_array_at(&r->threads, i);

		if (t->sp && t->sp >= m->start && t->sp < m->end)
			return true;
	}
	return false;
}

/*
 * The writable mappings, but the stacks copied from sp, the kernel's
 * own pages and devices (reading one may do something).
 */
static int list_ranges(struct heaproots *r, const struct procmaps *maps)
{
	struct heaproots_range *rg;
	size_t i, n = procmaps__count(maps);
	int err;

	for (i = 0; i < n; i++) {
		const struct procmap *m = procmaps__get(maps, i);

		if (m->perms[0] != 'r' || m->perms[1] != 'w' ||
		    m->end <= m->start || is_thread_stack(r, m))
			continue;
		if (m->path && (!strncmp(m->path, "[v", 2) ||
				!strncmp(m->path, "/dev/", 5)))
			continue;
		err = tab_array_reserve(&r->ranges, 1);
		if (err)
			return err;
		rg = tab_array_push(&r->ranges);
		rg->addr = m->start;
		rg->len = m->end - m->start;
		rg->anon = !m->path || m->path[0] == '[';
	}
	return 0;
}

struct heaproots *heaproots__take(int pid, enum heaproots_how how)
{
	struct heaproots *r = calloc(1, sizeof(*r));
	struct procmaps *maps = NULL;
	__u64 t0 = mono_ns();
	bool grew = true;
	int err = 0, pass;
	size_t i;

	if (!r)
		return NULL;
	r->pid = pid;
	tab_array_init(&r->threads, sizeof(struct thread), MAX_THREADS);
	tab_array_init(&r->bufs, sizeof(struct heaproots_buf), 0);
	tab_array_init(&r->ranges, sizeof(struct heaproots_range), 0);
	for (pass = 0; !err && grew && pass < LIST_PASSES; pass++) {
		err = list_threads(r, how, &grew);
		if (how == HEAPROOTS_SEIZE)
			wait_stops(r);
	}
	if (!err && !r->threads.nr)
		err = -ESRCH;
	if (!err) {
		maps = procmaps__read(pid);
		if (!maps)
			err = -errno;
	}
	for (i = 0; !err && i < r->threads.nr; i++) {
		struct thread *t = tab_array_at(&r->threads, i);

		if (how == HEAPROOTS_SEIZE && !t->stopped) {
			r->info.missed++;
			continue;
		}
		copy_thread(r, maps, t);
	}
	/* Let go at once: the segments and blocks are read running. */
	for (i = 0; i < r->threads.nr; i++) {
		struct thread *t = tab_array_at(&r->threads, i);

		if (t->seized)
			ptrace(PTRACE_DETACH, t->tid, 0, t->sig);
	}
	r->info.pause_ns = mono_ns() - t0;
	if (!err)
		err = list_ranges(r, maps);
	procmaps__free(maps);
	if (err) {
		heaproots__free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

void heaproots__free(struct heaproots *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->bufs.nr; i++)
		free((void *)((struct heaproots_buf *)
			      tab_array_at(&r->bufs, i))->data);
	tab_array_fini(&r->threads);
	tab_array_fini(&r->bufs);
	tab_array_fini(&r->ranges);
	free(r);
}

const struct heaproots_info *heaproots__info(const struct heaproots *r)
{
	return &r->info;
}

size_t heaproots__bufs(const struct heaproots *r,
		       const struct heaproots_buf **out)
{
	*out = r->bufs.v;
	return r->bufs.nr;
}

size_t heaproots__ranges(const struct heaproots *r,
			 const struct heaproots_range **out)
{
	*out = r->ranges.v;
	return r->ranges.nr;
}

long heaproots__read(void *ctx, __u64 addr, void *buf, size_t len)
{
	const struct heaproots *r = ctx;
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr,
				.iov_len = len };
	ssize_t n;

	if (len > SSIZE_MAX || addr + len < addr)
		return -EINVAL;
	n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
	return n < 0 ? -errno : n;
}
