/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The program behind examples/executor.c and examples/executor_clean.c: a
 * small task executor that uses every memscope probe. It is one program
 * built twice: EXECUTOR_MISTAKES (1 in executor.c, 0 in executor_clean.c)
 * plants the mistakes executor.c lists; everything else, the tasks and
 * their bytes included, is the same in both.
 *
 *  - main runs two synchronous tasks (MEMSCOPE_TASK_SCOPE, one nested in
 *    the other), hands a "snapshot" buffer to libfoo, then runs the
 *    executor and waits for it.
 *  - The executor: NR_WORKERS threads, each with its own run queue. A
 *    task is a function run in steps (t->pc is the next one). After a
 *    step that yields, the task goes to the next worker's queue, so each
 *    of its steps runs on a different thread from the one before, and
 *    every thread interleaves steps of several tasks. Each step runs
 *    inside MEMSCOPE_TASK_STEP; the worker completes a task after its
 *    last step.
 *  - libfoo stands in for a foreign library that takes buffers, gives
 *    some back and frees others itself. Buffers that cross into it carry
 *    passports; it declares its own frees as the side "libfoo".
 *  - The config is a refcounted block: every clone and drop of a handle
 *    on it is a MEMSCOPE_SHARE / MEMSCOPE_UNSHARE. main holds the owner
 *    handle; parse#1, parse#2, session#1 and fanout#1 each hold a clone
 *    for their whole life, and fanout#1 makes more in one step (4 here,
 *    STORM_CLONES in executor.c).
 *  - Declared variables: the session cache, request buffers, headers,
 *    token arrays, sessions, a stack-owned line buffer and more are
 *    tracked with every kind (MEMSCOPE_TRACK).
 *
 * Per-task bytes. Sizes are the requested ones. A block belongs to the
 * task running on its thread when it was allocated, and every free of a
 * task's block happens inside that same task, so these figures are exact
 * whatever the interleaving. "Live at end" is at completion, or at exit
 * for a task never completed; E: executor, C: executor_clean.
 *
 *   id task         parent blocks bytes  peak  live at end  state at exit
 *    1 accept#1          0      1   480   480  0            completed
 *    2 parse#1           1      3  2048  2048  0            completed
 *    3 parse#2           1      3  2048  2048  0            completed
 *    4 session#1         0      2   492   492  0            completed
 *    5 fanout#1          0      1  2048  2048  0            completed
 *    6 ffi#1             0      6  8564  5000  0            completed
 *    7 cache_fill#1      0      3  4280  4280  E: 2 / 1280  completed
 *                                              C: 0
 *    8 watch#1           0      1   512   512  E: 1 / 512   E: never completed
 *                                              C: 0         C: completed
 *  100 startup           0      1  4096  4096  0            completed
 *  101 load_config     100      1  1000  1000  0            completed
 *
 * Tasks 1-8 run on the workers, each step on another thread than the
 * one before; 100 and 101 run on the main thread.
 *
 * The blocks, step by step (sizes in bytes, "-" a free):
 *   accept#1      backlog 480; spawns parse#1 | spawns parse#2, -480
 *   parse#N       request_buf 1024, headers 256 | tokens 16x48 (calloc),
 *                 -headers | -tokens, -request_buf
 *   session#1     session 192, line 300, -line | -session
 *   fanout#1      fanout_results 2048 | -fanout_results
 *   ffi#1         reply 144 (allocated by libfoo), -reply, frame 1500,
 *                 ack 700 | -frame (host), -ack (libfoo) | bulk 5000,
 *                 -bulk (host), retry 900, late 320, -late (host),
 *                 -retry (libfoo)
 *   cache_fill#1  result_entry 640 x2, scratch 3000 | -scratch, then
 *                 (clean) -result_entry x2 or (executor) they stay
 *   watch#1       watch_state 512, waits for session#1's close event |
 *                 (clean) -watch_state
 *   startup       scratch 4096, runs load_config, -scratch
 *   load_config   config_text 1000, -config_text
 *
 * Outside any task, main allocates the session cache (128), the config
 * (160) and the snapshot (2500), and frees the first two at the end;
 * libc allocates three blocks in pthread_create (the workers' TLS
 * vectors, 288 bytes each on glibc 2.36) and frees them at join. Live at
 * exit: E, 4 blocks, 4292 bytes (snapshot, two result entries,
 * watch_state); C, none. Both run for about LINGER_MS: main lingers that
 * long before it exits, so a task left idle has been idle at least that
 * long when the trace ends.
 */
#ifndef EXECUTOR_H
#define EXECUTOR_H

#ifndef EXECUTOR_MISTAKES
#error "define EXECUTOR_MISTAKES before including executor.h"
#endif

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <memscope.h>

#define NR_WORKERS	3
#define WORKER_STACK	(256 * 1024)
#define LINGER_MS	200
/* Clones fanout#1 makes in one step: a storm, or a few. */
#define STORM_CLONES	1000
#define FEW_CLONES	4
#define MAX_CLONES	STORM_CLONES

/* Each kind of block has its own size: a size in a report names it. */
#define CACHE_SLOTS	16
#define CACHE_BYTES	(CACHE_SLOTS * sizeof(struct session *)) /* 128 */
#define CONFIG_BYTES	160
#define SNAPSHOT_BYTES	2500
#define STARTUP_BYTES	4096
#define CFGTEXT_BYTES	1000
#define BACKLOG_BYTES	480
#define REQ_BYTES	1024
#define HDR_BYTES	256
#define NR_TOKENS	16
#define TOKEN_BYTES	48
#define SESSION_BYTES	192
#define LINE_BYTES	300
#define RESULTS_BYTES	2048
#define REPLY_BYTES	144
#define FRAME_BYTES	1500
#define ACK_BYTES	700
#define BULK_BYTES	5000
#define RETRY_BYTES	900
#define LATE_BYTES	320
#define ENTRY_BYTES	640
#define SCRATCH_BYTES	3000
#define WATCH_BYTES	512

/* Stacks in a report should name the function that made the mistake. */
#define noinline	__attribute__((noinline))

/*
 * Allocation failure ends the program. Inlined, so the allocator's caller
 * in every stack is the function that wanted the block.
 */
static inline __attribute__((always_inline)) void *must(void *p)
{
	if (!p) {
		static const char msg[] = "executor: out of memory\n";

		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		abort();
	}
	return p;
}

/* Use a block, so that neither it nor its allocation can be elided. */
static inline void fill(void *p, int c, size_t n)
{
	memset(p, c, n);
	__asm__ volatile ("" : : "r" (p) : "memory");
}

/*
 * Output without stdio: printf would allocate stdout's buffer and never
 * free it, a block the clean twin must not have.
 */
static void say(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(STDOUT_FILENO, line,
			     (size_t)n < sizeof(line) ? (size_t)n :
			     sizeof(line) - 1);
}

/*
 * --wait: print "ready <pid>" and block until SIGUSR1, so a tracer can
 * attach with -p before anything happens. SIGUSR1 is blocked before the
 * line is printed, so an early signal waits for sigwait; the workers,
 * created later, inherit the mask.
 */
static void wait_for_go(int argc, char **argv)
{
	sigset_t set;
	int sig = 0;

	if (argc < 2)
		return;
	if (argc > 2 || strcmp(argv[1], "--wait") != 0) {
		say("usage: %s [--wait]\n", argv[0]);
		exit(2);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		say("executor: cannot block SIGUSR1: %s\n", strerror(errno));
		exit(1);
	}
	say("ready %d\n", (int)getpid());
	while (sig != SIGUSR1) {
		if (sigwait(&set, &sig)) {
			say("executor: sigwait failed\n");
			exit(1);
		}
	}
}

/* ---- the shared config: a refcounted block and its handles ---- */

struct config {
	int refs;
	int max_sessions;
	char motd[64];
};
_Static_assert(sizeof(struct config) <= CONFIG_BYTES, "CONFIG_BYTES");

/* A handle on the config; its address is what share/unshare name. */
struct cfg_ref {
	struct config *p;
};

static struct cfg_ref main_cfg;	/* the owner handle */

static void cfg_new(struct cfg_ref *owner)
{
	owner->p = must(calloc(1, CONFIG_BYTES));
	owner->p->refs = 1;
	MEMSCOPE_SHARE(owner, owner->p, "config", "struct config");
}

/*
 * Inlined: out of line it would be a leaf without a frame, and a stack
 * taken at its probe would skip the function that cloned.
 */
static inline __attribute__((always_inline)) void
cfg_clone(struct cfg_ref *dst, const struct cfg_ref *src)
{
	__atomic_add_fetch(&src->p->refs, 1, __ATOMIC_RELAXED);
	dst->p = src->p;
	MEMSCOPE_SHARE(dst, dst->p, "config", "struct config");
}

static void cfg_drop(struct cfg_ref *r)
{
	MEMSCOPE_UNSHARE(r);
	if (__atomic_sub_fetch(&r->p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(r->p);
	r->p = NULL;
}

/* ---- libfoo: a stand-in for a foreign library ---- */

/*
 * Its contract: foo_push() takes a buffer and, on success, owns it; it
 * refuses buffers over FOO_MAX_LEN (-EMSGSIZE), buffers it already holds
 * (-EEXIST) and more than FOO_DEPTH per channel (-ENOSPC), and then the
 * caller keeps the buffer. foo_pop() gives back the oldest buffer of a
 * channel; foo_consume() frees it instead; foo_make() allocates a reply
 * that becomes the caller's; foo_shutdown() frees whatever it still
 * holds. A real foreign library would have no probes: its wrapper would
 * declare its frees. This one declares them itself, as "libfoo".
 */
#define FOO_SIDE	"libfoo"
#define FOO_MAX_LEN	4096
#define FOO_DEPTH	4

enum foo_chan {
	FOO_IO,		/* ffi#1's frames */
	FOO_STATE,	/* main's snapshot */
	FOO_NR_CHANS,
};

static struct {
	pthread_mutex_t lock;
	void *held[FOO_NR_CHANS][FOO_DEPTH];
	int nr[FOO_NR_CHANS];
} foo = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int foo_push(enum foo_chan ch, void *buf, size_t len)
{
	int i, err = 0;

	if (len > FOO_MAX_LEN)
		return -EMSGSIZE;
	pthread_mutex_lock(&foo.lock);
	for (i = 0; i < foo.nr[ch]; i++)
		if (foo.held[ch][i] == buf)
			err = -EEXIST;
	if (!err && foo.nr[ch] == FOO_DEPTH)
		err = -ENOSPC;
	if (!err)
		foo.held[ch][foo.nr[ch]++] = buf;
	pthread_mutex_unlock(&foo.lock);
	return err;
}

static void *foo_pop(enum foo_chan ch)
{
	void *buf = NULL;

	pthread_mutex_lock(&foo.lock);
	if (foo.nr[ch]) {
		buf = foo.held[ch][0];
		memmove(&foo.held[ch][0], &foo.held[ch][1],
			--foo.nr[ch] * sizeof(foo.held[ch][0]));
	}
	pthread_mutex_unlock(&foo.lock);
	return buf;
}

static void foo_release(void *buf)
{
	MEMSCOPE_PASSPORT_FREE(buf, FOO_SIDE);
	free(buf);
}

static void foo_consume(enum foo_chan ch)
{
	void *buf = foo_pop(ch);

	if (buf)
		foo_release(buf);
}

static void *foo_make(size_t len)
{
	void *reply = must(malloc(len));

	fill(reply, 'r', len);
	return reply;
}

static void foo_shutdown(void)
{
	void *buf;
	int ch;

	for (ch = 0; ch < FOO_NR_CHANS; ch++)
		while ((buf = foo_pop(ch)))
			foo_release(buf);
}

/*
 * The host's side of the boundary. The handover is declared before the
 * push: once libfoo holds a buffer it may free it at any moment, and that
 * free must find the buffer already in its custody. A buffer libfoo
 * refuses comes back: the host reclaims it.
 */
noinline static int host_submit(enum foo_chan ch, void *buf, size_t len)
{
	int err;

	MEMSCOPE_PASSPORT_HANDOVER(buf, FOO_SIDE);
	err = foo_push(ch, buf, len);
	/* executor: forgets to take a refused buffer back */
	if (err && !EXECUTOR_MISTAKES)
		MEMSCOPE_PASSPORT_RECLAIM(buf);
	return err;
}

/* For pushes that cannot fail here: libfoo's channels never fill up. */
static void host_submit_checked(enum foo_chan ch, void *buf, size_t len)
{
	int err = host_submit(ch, buf, len);

	if (err) {
		say("executor: libfoo refused a buffer: %s\n", strerror(-err));
		abort();
	}
}

/* ---- the executor ---- */

enum step {
	STEP_YIELD,	/* run the next step, on the next worker */
	STEP_PARK,	/* wait for t->wait to fire */
	STEP_DONE,
};

struct task;
typedef enum step (*step_fn)(struct task *t);

/* A one-shot event a task can park on. */
struct event {
	bool fired;
	struct task *waiter;
};

struct task {
	uint64_t id;
	const char *name;
	step_fn step;
	int pc;			/* the step to run next */
	int worker;		/* the queue it is on, or last ran from */
	struct event *wait;	/* STEP_PARK: what it waits for */
	struct task *next;	/* run queue link */
	struct cfg_ref cfg;	/* its clone of the config */
	void *blk[3];		/* blocks it keeps between steps */
};

struct worker {
	pthread_t thread;
	void *stack;
	int idx;
	pthread_cond_t wake;
	struct task *head, *tail;
};

static struct {
	pthread_mutex_t lock;
	struct worker w[NR_WORKERS];
	int next;		/* the queue the next new task goes to */
	int active;		/* tasks queued or running */
	bool stop;		/* none can ever run again */
	int spawned, completed, parked;
} ex = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* With ex.lock held. */
static void enqueue(struct task *t, int idx)
{
	struct worker *w = &ex.w[idx];

	t->worker = idx;
	t->next = NULL;
	if (w->tail)
		w->tail->next = t;
	else
		w->head = t;
	w->tail = t;
	pthread_cond_signal(&w->wake);
}

/* With ex.lock held. */
static struct task *dequeue(struct worker *w)
{
	struct task *t = w->head;

	w->head = t->next;
	if (!w->head)
		w->tail = NULL;
	return t;
}

/* Declared before it is queued: a worker may run it before we return. */
static void spawn(struct task *t, uint64_t parent)
{
	MEMSCOPE_TASK_CREATE(t->id, parent, t->name);
	pthread_mutex_lock(&ex.lock);
	ex.spawned++;
	ex.active++;
	enqueue(t, ex.next++ % NR_WORKERS);
	pthread_mutex_unlock(&ex.lock);
}

static void event_fire(struct event *ev)
{
	pthread_mutex_lock(&ex.lock);
	ev->fired = true;
	if (ev->waiter) {
		ex.parked--;
		ex.active++;
		enqueue(ev->waiter, (ev->waiter->worker + 1) % NR_WORKERS);
		ev->waiter = NULL;
	}
	pthread_mutex_unlock(&ex.lock);
}

/*
 * One step, inside the task: what the step allocates is the task's. The
 * leave runs as the step returns, before the worker picks its next task.
 */
static enum step run_step(struct task *t)
{
	MEMSCOPE_TASK_STEP(t->id);

	return t->step(t);
}

/* With ex.lock held: where a task goes after a step. */
static void after_step(struct worker *w, struct task *t, enum step r)
{
	int i;

	switch (r) {
	case STEP_PARK:
		if (!t->wait->fired) {
			t->wait->waiter = t;
			ex.parked++;
			break;
		}
		/* fired before it parked: run on */
		/* fall through */
	case STEP_YIELD:
		enqueue(t, (w->idx + 1) % NR_WORKERS);
		return;
	case STEP_DONE:
		ex.completed++;
		break;
	}
	if (--ex.active)
		return;
	ex.stop = true;
	for (i = 0; i < NR_WORKERS; i++)
		pthread_cond_signal(&ex.w[i].wake);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct task *t;
	enum step r;

	pthread_mutex_lock(&ex.lock);
	for (;;) {
		while (!w->head && !ex.stop)
			pthread_cond_wait(&w->wake, &ex.lock);
		if (!w->head)
			break;
		t = dequeue(w);
		pthread_mutex_unlock(&ex.lock);
		r = run_step(t);
		if (r == STEP_DONE)
			MEMSCOPE_TASK_COMPLETE(t->id);
		pthread_mutex_lock(&ex.lock);
		after_step(w, t, r);
	}
	pthread_mutex_unlock(&ex.lock);
	return NULL;
}

/* ---- the tasks ---- */

enum {
	ID_ACCEPT = 1,
	ID_PARSE1,
	ID_PARSE2,
	ID_SESSION,
	ID_FANOUT,
	ID_FFI,
	ID_CACHE_FILL,
	ID_WATCH,
	NR_TASKS = ID_WATCH,
	/* synchronous, on the main thread */
	ID_STARTUP = 100,
	ID_LOAD_CONFIG,
};

struct session {
	uint64_t task;
	char user[32];
};
_Static_assert(sizeof(struct session) <= SESSION_BYTES, "SESSION_BYTES");

/* A buffer owned by a variable on the stack. */
struct strbuf {
	char *data;
	size_t len;
};

static struct session **session_cache;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
/* session#1 fires it when it closes; watch#1 waits for it. */
static struct event session_closed;
/* executor: where cache_fill#1's entries end up, never read or freed. */
static void *orphans[2];

static enum step accept_step(struct task *t);
static enum step parse_step(struct task *t);
static enum step session_step(struct task *t);
static enum step fanout_step(struct task *t);
static enum step ffi_step(struct task *t);
static enum step cache_fill_step(struct task *t);
static enum step watch_step(struct task *t);

#define DEF_TASK(id_, name_, step_)					\
	[(id_) - 1] = { .id = (id_), .name = (name_), .step = (step_) }

static struct task tasks[NR_TASKS] = {
	DEF_TASK(ID_ACCEPT, "accept#1", accept_step),
	DEF_TASK(ID_PARSE1, "parse#1", parse_step),
	DEF_TASK(ID_PARSE2, "parse#2", parse_step),
	DEF_TASK(ID_SESSION, "session#1", session_step),
	DEF_TASK(ID_FANOUT, "fanout#1", fanout_step),
	DEF_TASK(ID_FFI, "ffi#1", ffi_step),
	DEF_TASK(ID_CACHE_FILL, "cache_fill#1", cache_fill_step),
	DEF_TASK(ID_WATCH, "watch#1", watch_step),
};

#define TASK(id)	(&tasks[(id) - 1])

/* backlog 480 | -backlog; spawns parse#1, then parse#2 */
static enum step accept_step(struct task *t)
{
	switch (t->pc++) {
	case 0:
		t->blk[0] = must(malloc(BACKLOG_BYTES));
		fill(t->blk[0], 0, BACKLOG_BYTES);
		MEMSCOPE_TRACK(t->blk[0], BACKLOG_BYTES, "backlog", "int[120]",
			       MEMSCOPE_CONTAINER);
		spawn(TASK(ID_PARSE1), t->id);
		return STEP_YIELD;
	default:
		spawn(TASK(ID_PARSE2), t->id);
		MEMSCOPE_UNTRACK(t->blk[0]);
		free(t->blk[0]);
		return STEP_DONE;
	}
}

/*
 * request_buf 1024, headers 256 | tokens 768, -headers |
 * -tokens, -request_buf
 */
static enum step parse_step(struct task *t)
{
	switch (t->pc++) {
	case 0:
		cfg_clone(&t->cfg, &main_cfg);
		t->blk[0] = must(malloc(REQ_BYTES));
		fill(t->blk[0], 'q', REQ_BYTES);
		MEMSCOPE_TRACK(t->blk[0], REQ_BYTES, "request_buf",
			       "char[1024]", MEMSCOPE_HEAP_OWNER);
		t->blk[1] = must(malloc(HDR_BYTES));
		fill(t->blk[1], 'h', HDR_BYTES);
		MEMSCOPE_TRACK(t->blk[1], HDR_BYTES, "headers",
			       "struct headers", MEMSCOPE_VALUE);
		return STEP_YIELD;
	case 1:
		t->blk[2] = must(calloc(NR_TOKENS, TOKEN_BYTES));
		MEMSCOPE_TRACK(t->blk[2], NR_TOKENS * TOKEN_BYTES, "tokens",
			       "struct token[16]", MEMSCOPE_CONTAINER);
		MEMSCOPE_UNTRACK(t->blk[1]);
		free(t->blk[1]);
		return STEP_YIELD;
	default:
		/* No untrack needed: a free ends a block's declared record. */
		free(t->blk[2]);
		free(t->blk[0]);
		cfg_drop(&t->cfg);
		return STEP_DONE;
	}
}

/* session 192, line 300, -line | -session, closes */
static enum step session_step(struct task *t)
{
	struct session *s;
	struct strbuf line;

	switch (t->pc++) {
	case 0:
		cfg_clone(&t->cfg, &main_cfg);
		s = must(malloc(SESSION_BYTES));
		memset(s, 0, SESSION_BYTES);
		s->task = t->id;
		memcpy(s->user, "alice", sizeof("alice"));
		MEMSCOPE_TRACK(s, SESSION_BYTES, "session", "struct session",
			       MEMSCOPE_VALUE);
		pthread_mutex_lock(&cache_lock);
		session_cache[0] = s;
		pthread_mutex_unlock(&cache_lock);
		t->blk[0] = s;

		line.len = LINE_BYTES;
		line.data = must(malloc(line.len));
		MEMSCOPE_TRACK(line.data, line.len, "line", "struct strbuf",
			       MEMSCOPE_STACK_OWNER);
		fill(line.data, 'l', line.len);
		MEMSCOPE_UNTRACK(line.data);
		free(line.data);
		return STEP_YIELD;
	default:
		pthread_mutex_lock(&cache_lock);
		session_cache[0] = NULL;
		pthread_mutex_unlock(&cache_lock);
		MEMSCOPE_UNTRACK(t->blk[0]);
		free(t->blk[0]);
		cfg_drop(&t->cfg);
		/* executor: returns without telling watch#1 */
		if (!EXECUTOR_MISTAKES)
			event_fire(&session_closed);
		return STEP_DONE;
	}
}

/*
 * n clones of the config at once, one per subtask to come, then dropped.
 * executor: STORM_CLONES of them.
 */
noinline static void fanout_clones(struct task *t, int n)
{
	struct cfg_ref refs[MAX_CLONES];
	int i;

	for (i = 0; i < n; i++)
		cfg_clone(&refs[i], &t->cfg);	/* @site clone_storm */
	for (i = 0; i < n; i++)
		cfg_drop(&refs[i]);
}

/* fanout_results 2048, clones | -fanout_results */
static enum step fanout_step(struct task *t)
{
	switch (t->pc++) {
	case 0:
		cfg_clone(&t->cfg, &main_cfg);
		t->blk[0] = must(malloc(RESULTS_BYTES));
		fill(t->blk[0], 0, RESULTS_BYTES);
		MEMSCOPE_TRACK(t->blk[0], RESULTS_BYTES, "fanout_results",
			       "struct result[64]", MEMSCOPE_CONTAINER);
		fanout_clones(t, EXECUTOR_MISTAKES ? STORM_CLONES : FEW_CLONES);
		return STEP_YIELD;
	default:
		MEMSCOPE_UNTRACK(t->blk[0]);
		free(t->blk[0]);
		cfg_drop(&t->cfg);
		return STEP_DONE;
	}
}

/*
 * executor: treats a reply libfoo allocated as a passport coming back;
 * it never had one.
 */
noinline static void ffi_take_reply(void)
{
	void *reply = foo_make(REPLY_BYTES);

	if (EXECUTOR_MISTAKES)
		MEMSCOPE_PASSPORT_RECLAIM(reply);	/* @site unknown_passport */
	free(reply);
}

noinline static void ffi_send_frames(void)
{
	void *frame = must(malloc(FRAME_BYTES));
	void *ack = must(malloc(ACK_BYTES));

	fill(frame, 'f', FRAME_BYTES);
	fill(ack, 'a', ACK_BYTES);
	MEMSCOPE_PASSPORT_CREATE(frame, FRAME_BYTES, "frame");
	host_submit_checked(FOO_IO, frame, FRAME_BYTES);
	MEMSCOPE_PASSPORT_CREATE(ack, ACK_BYTES, "ack");
	host_submit_checked(FOO_IO, ack, ACK_BYTES);
}

/* libfoo gives the frame back, and frees the ack itself. */
noinline static void ffi_collect(void)
{
	void *frame = foo_pop(FOO_IO);

	MEMSCOPE_PASSPORT_RECLAIM(frame);
	MEMSCOPE_PASSPORT_FREE(frame, MEMSCOPE_HOST);
	free(frame);
	foo_consume(FOO_IO);
}

/*
 * Too big for libfoo: it is refused and the host frees it. executor: the
 * refused buffer was never reclaimed, so the host frees a buffer in
 * libfoo's custody.
 */
noinline static void ffi_send_bulk(void)
{
	void *bulk = must(malloc(BULK_BYTES));

	fill(bulk, 'b', BULK_BYTES);
	MEMSCOPE_PASSPORT_CREATE(bulk, BULK_BYTES, "bulk");
	if (host_submit(FOO_IO, bulk, BULK_BYTES)) {
		MEMSCOPE_PASSPORT_FREE(bulk, MEMSCOPE_HOST); /* @site wrong_side */
		free(bulk);
	}
}

/*
 * executor: a retry path submits again a buffer libfoo already holds;
 * libfoo refuses it, the handover was declared anyway.
 */
noinline static void ffi_resubmit(void *buf, size_t len)
{
	(void)host_submit(FOO_IO, buf, len);	/* @site twice */
}

/* Handed to libfoo, which frees it when ffi#1 lets it consume. */
noinline static void ffi_send_retry(void)
{
	void *retry = must(malloc(RETRY_BYTES));

	fill(retry, 't', RETRY_BYTES);
	MEMSCOPE_PASSPORT_CREATE(retry, RETRY_BYTES, "retry");
	host_submit_checked(FOO_IO, retry, RETRY_BYTES);
	if (EXECUTOR_MISTAKES)
		ffi_resubmit(retry, RETRY_BYTES);
}

/*
 * Its request was cancelled before it was sent: the host frees it.
 * executor: then announces the handover it had batched for it; only the
 * address is used, never the memory.
 */
noinline static void ffi_drop_late(void)
{
	void *late = must(malloc(LATE_BYTES));
	uintptr_t addr = (uintptr_t)late;

	fill(late, 'x', LATE_BYTES);
	MEMSCOPE_PASSPORT_CREATE(late, LATE_BYTES, "late");
	MEMSCOPE_PASSPORT_FREE(late, MEMSCOPE_HOST);
	free(late);
	if (EXECUTOR_MISTAKES)
		MEMSCOPE_PASSPORT_HANDOVER((const void *)addr, FOO_SIDE); /* @site after_free */
}

/*
 * reply 144 (libfoo's), -reply, frame 1500, ack 700 | -frame, -ack |
 * bulk 5000, -bulk, retry 900, late 320, -late, -retry
 */
static enum step ffi_step(struct task *t)
{
	switch (t->pc++) {
	case 0:
		ffi_take_reply();
		ffi_send_frames();
		return STEP_YIELD;
	case 1:
		ffi_collect();
		return STEP_YIELD;
	default:
		ffi_send_bulk();
		ffi_send_retry();
		ffi_drop_late();
		foo_consume(FOO_IO);
		return STEP_DONE;
	}
}

/*
 * executor: keeps its entries where nobody reads or frees them, then
 * completes: its bytes outlive it.
 */
noinline static void cache_fill_finish(struct task *t)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (EXECUTOR_MISTAKES)
			orphans[i] = t->blk[i];
		else
			free(t->blk[i]);
	}
}

/* result_entry 640 x2, scratch 3000 | -scratch, then the entries */
static enum step cache_fill_step(struct task *t)
{
	int i;

	switch (t->pc++) {
	case 0:
		for (i = 0; i < 2; i++) {
			t->blk[i] = must(malloc(ENTRY_BYTES)); /* @site zombie */
			fill(t->blk[i], 'e', ENTRY_BYTES);
			MEMSCOPE_TRACK(t->blk[i], ENTRY_BYTES, "result_entry",
				       "struct result", MEMSCOPE_VALUE);
		}
		t->blk[2] = must(malloc(SCRATCH_BYTES));
		fill(t->blk[2], 0, SCRATCH_BYTES);
		return STEP_YIELD;
	default:
		free(t->blk[2]);
		cache_fill_finish(t);
		return STEP_DONE;
	}
}

/*
 * watch_state 512, waits for session#1 to close | -watch_state.
 * executor: the event never fires; it waits forever.
 */
static enum step watch_step(struct task *t)
{
	switch (t->pc++) {
	case 0:
		t->blk[0] = must(malloc(WATCH_BYTES));	/* @site idle */
		fill(t->blk[0], 'w', WATCH_BYTES);
		MEMSCOPE_TRACK(t->blk[0], WATCH_BYTES, "watch_state",
			       "struct watch", MEMSCOPE_VALUE);
		t->wait = &session_closed;
		return STEP_PARK;
	default:
		free(t->blk[0]);
		return STEP_DONE;
	}
}

/* ---- main: synchronous tasks, the snapshot, the executor ---- */

/* config_text 1000, -config_text: a child of startup */
noinline static void load_config(struct config *cfg)
{
	MEMSCOPE_TASK_SCOPE(ID_LOAD_CONFIG, "load_config");
	char *text = must(malloc(CFGTEXT_BYTES));

	fill(text, ' ', CFGTEXT_BYTES);
	cfg->max_sessions = CACHE_SLOTS;
	memcpy(cfg->motd, "welcome", sizeof("welcome"));
	free(text);
}

/* scratch 4096, load_config, -scratch */
noinline static void startup(void)
{
	MEMSCOPE_TASK_SCOPE(ID_STARTUP, "startup");
	void *scratch = must(malloc(STARTUP_BYTES));

	fill(scratch, 0, STARTUP_BYTES);
	load_config(main_cfg.p);
	free(scratch);
}

/*
 * libfoo keeps a snapshot of the state until it shuts down. executor:
 * main never shuts it down, so the snapshot stays in libfoo's custody,
 * never freed.
 */
noinline static void register_snapshot(void)
{
	void *snap = must(malloc(SNAPSHOT_BYTES));

	fill(snap, 's', SNAPSHOT_BYTES);
	MEMSCOPE_PASSPORT_CREATE(snap, SNAPSHOT_BYTES, "snapshot");
	host_submit_checked(FOO_STATE, snap, SNAPSHOT_BYTES); /* @site snapshot */
}

/*
 * Workers run on stacks mapped here. glibc caches the stacks it allocates
 * itself, and with each one the thread's TLS vector, a block from calloc
 * that would still be live at exit and show as a leak the clean twin does
 * not have; a thread on a stack of ours gives its vector back at join.
 */
static void worker_start(struct worker *w)
{
	pthread_attr_t attr;
	int err;

	w->stack = mmap(NULL, WORKER_STACK, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (w->stack == MAP_FAILED) {
		say("executor: cannot map a worker stack: %s\n",
		    strerror(errno));
		exit(1);
	}
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, w->stack, WORKER_STACK);
	err = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (err) {
		say("executor: cannot start a worker: %s\n", strerror(err));
		exit(1);
	}
}

static void executor_run(void)
{
	static const uint64_t roots[] = {
		ID_ACCEPT, ID_SESSION, ID_FANOUT, ID_FFI, ID_CACHE_FILL,
		ID_WATCH,
	};
	size_t i;

	for (i = 0; i < NR_WORKERS; i++) {
		ex.w[i].idx = (int)i;
		pthread_cond_init(&ex.w[i].wake, NULL);
	}
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		spawn(TASK(roots[i]), 0);
	for (i = 0; i < NR_WORKERS; i++)
		worker_start(&ex.w[i]);
	for (i = 0; i < NR_WORKERS; i++) {
		pthread_join(ex.w[i].thread, NULL);
		munmap(ex.w[i].stack, WORKER_STACK);
		pthread_cond_destroy(&ex.w[i].wake);
	}
}

int main(int argc, char **argv)
{
	const struct timespec linger = {
		.tv_nsec = LINGER_MS * 1000000L,
	};

	wait_for_go(argc, argv);
	session_cache = must(calloc(CACHE_SLOTS, sizeof(*session_cache)));
	MEMSCOPE_TRACK(session_cache, CACHE_BYTES, "session_cache",
		       "struct session *[16]", MEMSCOPE_CONTAINER);
	cfg_new(&main_cfg);
	startup();
	register_snapshot();

	executor_run();

	if (!EXECUTOR_MISTAKES)
		foo_shutdown();
	cfg_drop(&main_cfg);
	MEMSCOPE_UNTRACK(session_cache);
	free(session_cache);
	say("%s: %d tasks on %d workers: %d completed, %d never completed\n",
	    EXECUTOR_MISTAKES ? "executor" : "executor_clean", ex.spawned,
	    NR_WORKERS, ex.completed, ex.parked);
	nanosleep(&linger, NULL);
	return 0;
}

#endif /* EXECUTOR_H */
