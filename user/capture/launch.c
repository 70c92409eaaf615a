// SPDX-License-Identifier: (MIT OR Apache-2.0)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include "clock.h"
#include "launch.h"
#include "table.h"

/*
 * How long launch__detach waits for every thread to stop so it can let
 * go of it: a thread in an uninterruptible sleep stops when it wakes.
 */
#define DETACH_TIMEOUT_NS	2000000000LL
#define DETACH_POLL_NS		1000000L
/* Threads it tracks at once, far above what a process has. */
#define DETACH_MAX_THREADS	(1u << 20)
/* launch__hold polls faster: the target waits for the scan meanwhile. */
#define HOLD_POLL_NS		50000L

struct launch {
	pid_t pid;
	int go_fd;		/* write end: one byte lets the child exec */
	int err_fd;		/* read end: the child's errno if exec failed */
	bool started;
	enum launch_state state;
	int status;
	launch_stop_fn on_stop;
	void *stop_ctx;
	struct tab_array held;	/* launch__hold's threads (detach_tid) */
	char path[PATH_MAX];
};

static bool runnable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* execvp's search, done up front so attach knows which file will run. */
static int resolve(const char *cmd, char out[PATH_MAX])
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(cmd, '/')) {
		if (!runnable(cmd))
			return access(cmd, F_OK) ? -ENOENT : -EACCES;
		if (!realpath(cmd, out))
			return -errno;
		return 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p; p = *end ? end + 1 : end) {
		char cand[PATH_MAX];

		end = strchrnul(p, ':');
		snprintf(cand, sizeof(cand), "%.*s/%s",
			 end > p ? (int)(end - p) : 1, end > p ? p : ".", cmd);
		if (runnable(cand) && realpath(cand, out))
			return 0;
	}
	return -ENOENT;
}

static void child(int go, int err, char *const argv[], const char *path)
{
	sigset_t none;
	char c;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (read(go, &c, 1) != 1)
		_exit(127);
	close(go);
	execv(path, argv);
	e = errno;
	if (write(err, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

struct launch *launch__new(char *const argv[])
{
	struct launch *l = calloc(1, sizeof(*l));
	int go[2], err[2], e;

	if (!l)
		return NULL;
	e = resolve(argv[0], l->path);
	if (e)
		goto err_free;
	if (pipe2(go, O_CLOEXEC)) {
		e = -errno;
		goto err_free;
	}
	if (pipe2(err, O_CLOEXEC)) {
		e = -errno;
		goto err_go;
	}
	l->pid = fork();
	if (l->pid < 0) {
		e = -errno;
		goto err_err;
	}
	if (l->pid == 0) {
		close(go[1]);
		close(err[0]);
		child(go[0], err[1], argv, l->path);
	}
	close(go[0]);
	close(err[1]);
	l->go_fd = go[1];
	l->err_fd = err[0];
	l->state = LAUNCH_RUNNING;
	return l;

err_err:
	close(err[0]);
	close(err[1]);
err_go:
	close(go[0]);
	close(go[1]);
err_free:
	free(l);
	errno = -e;
	return NULL;
}

void launch__free(struct launch *l)
{
	if (!l)
		return;
	if (!l->started && l->state != LAUNCH_EXITED) {
		kill(l->pid, SIGKILL);
		waitpid(l->pid, NULL, 0);
	} else if (l->state == LAUNCH_EXITING) {
		launch__resume(l);
	}
	/* One launch__detach could not let go is, by the kernel, when we exit. */
	if (l->go_fd >= 0)
		close(l->go_fd);
	if (l->err_fd >= 0)
		close(l->err_fd);
	free(l);
}

int launch__pid(const struct launch *l)
{
	return l->pid;
}

const char *launch__path(const struct launch *l)
{
	return l->path;
}

int launch__status(const struct launch *l)
{
	return l->status;
}

int launch__start(struct launch *l, bool follow)
{
	long opts = PTRACE_O_TRACEEXIT | PTRACE_O_TRACECLONE;
	ssize_t n;
	int e = 0;

	/*
	 * The exit event, and every thread it starts (so any thread can be
	 * held at a new mapping); with follow every process it forks too,
	 * held the same way at its exec and its new mappings. No other
	 * stops, signals pass straight on.
	 */
	if (follow)
		opts |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
	if (ptrace(PTRACE_SEIZE, l->pid, 0, opts))
		return -errno;
	l->started = true;
	if (write(l->go_fd, "g", 1) != 1)
		return -errno;
	close(l->go_fd);
	l->go_fd = -1;
	n = read(l->err_fd, &e, sizeof(e));
	close(l->err_fd);
	l->err_fd = -1;
	if (n == sizeof(e)) {
		waitpid(l->pid, &l->status, 0);
		l->state = LAUNCH_EXITED;
		return -e;
	}
	return 0;
}

void launch__on_stop(struct launch *l, launch_stop_fn fn, void *ctx)
{
	l->on_stop = fn;
	l->stop_ctx = ctx;
}

void launch__resume(struct launch *l)
{
	if (l->state == LAUNCH_EXITING) {
		ptrace(PTRACE_CONT, l->pid, 0, 0);
		l->state = LAUNCH_RUNNING;
	}
}

/* A thread launch__detach has still to let go, or launch__hold holds. */
struct detach_tid {
	pid_t tid;
	bool own_stop;		/* a SIGSTOP of ours is on its way to it */
	/* launch__hold: */
	bool stopped;
	bool listen;		/* in a group stop: it stays stopped */
	bool exiting;		/* the child's own exit stop */
	int sig;		/* the signal it stopped for: delivered */
};

static bool tids_find(struct tab_array *t, pid_t tid, size_t *at)
{
	size_t i;

	for (i = 0; i < t->nr; i++) {
		if (((struct detach_tid *)tab_array_at(t, i))->tid == tid) {
			*at = i;
			return true;
		}
	}
	return false;
}

static int tids_add(struct tab_array *t, pid_t tid)
{
	size_t at;
	int err;

	if (tids_find(t, tid, &at))
		return 0;
	err = tab_array_reserve(t, 1);
	if (err)
		return err;
	*(struct detach_tid *)tab_array_push(t) =
		(struct detach_tid){ .tid = tid };
	return 0;
}

static void tids_del(struct tab_array *t, pid_t tid)
{
	size_t at;

	if (!tids_find(t, tid, &at))
		return;
	memcpy(tab_array_at(t, at), tab_array_at(t, t->nr - 1),
	       sizeof(struct detach_tid));
	t->nr--;
}

/* Asks every thread of process pid to stop, and keeps its tid. */
static int interrupt_all(pid_t pid, struct tab_array *t)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	long tid;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!err && (de = readdir(dir))) {
		tid = strtol(de->d_name, NULL, 10);
		if (tid <= 0 || tid > INT_MAX)
			continue;
		/* ESRCH: it ended since the listing, nothing to let go. */
		if (ptrace(PTRACE_INTERRUPT, (pid_t)tid, 0, 0))
			continue;
		err = tids_add(t, tid);
	}
	closedir(dir);
	return err;
}

/* One reported state change of a thread during launch__detach. */
static void detach_one(struct launch *l, struct tab_array *t, pid_t r,
		       int status)
{
	struct detach_tid *dt;
	unsigned long msg;
	int sig = 0, event;
	size_t at;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (r == l->pid) {
			l->status = status;
			l->state = LAUNCH_EXITED;
		}
		tids_del(t, r);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	event = status >> 16;
	/* A thread born since the listing: it stops on its own, soon. */
	if (event == PTRACE_EVENT_CLONE &&
	    !ptrace(PTRACE_GETEVENTMSG, r, 0, &msg))
		tids_add(t, (pid_t)msg);
	dt = tids_find(t, r, &at) ? tab_array_at(t, at) : NULL;
	/* A signal on its way: delivered, unless it was our own stop. */
	if (!event) {
		sig = WSTOPSIG(status);
		if (sig == SIGSTOP && ((dt && dt->own_stop) ||
		    (l->on_stop && l->on_stop(l->stop_ctx, r))))
			sig = 0;
	} else if (dt && l->on_stop && l->on_stop(l->stop_ctx, r)) {
		/*
		 * Stopped before our SIGSTOP was dequeued: let go now and
		 * the signal would stop the program for good. It runs on to
		 * take it, and is let go with it swallowed.
		 */
		dt->own_stop = true;
		ptrace(PTRACE_CONT, r, 0, 0);
		return;
	}
	ptrace(PTRACE_DETACH, r, 0, sig);
	tids_del(t, r);
}

int launch__detach(struct launch *l)
{
	__u64 deadline = mono_ns() + DETACH_TIMEOUT_NS;
	struct timespec nap = { .tv_nsec = DETACH_POLL_NS };
	struct tab_array t;
	int status, err;
	pid_t r;

	if (l->state == LAUNCH_EXITED || !l->started)
		return 0;
	launch__resume(l);
	tab_array_init(&t, sizeof(struct detach_tid), DETACH_MAX_THREADS);
	err = interrupt_all(l->pid, &t);
	while (!err && t.nr) {
		r = waitpid(-1, &status, WNOHANG | __WALL);
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r > 0) {
			detach_one(l, &t, r, status);
			continue;
		}
		if (mono_ns() >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		nanosleep(&nap, NULL);
	}
	tab_array_fini(&t);
	return err;
}

int launch__kill(struct launch *l)
{
	int status;
	pid_t r;

	if (l->state == LAUNCH_EXITED)
		return 0;
	if (kill(l->pid, SIGKILL))
		return -errno;
	launch__resume(l);
	/* Every thread reports its end; the child's own is the last. */
	for (;;) {
		r = waitpid(-1, &status, __WALL);
		if (r < 0)
			return -errno;
		if (r == l->pid && (WIFEXITED(status) || WIFSIGNALED(status)))
			break;
		/* An exit stop of a thread, if the kernel still makes one. */
		if (WIFSTOPPED(status))
			ptrace(PTRACE_CONT, r, 0, 0);
	}
	l->status = status;
	l->state = LAUNCH_EXITED;
	return 0;
}

/*
 * One state change of a traced thread while it runs: what it stopped
 * for handled, and it goes on. The child's exit and exit stop change the
 * state.
 */
static void poll_one(struct launch *l, pid_t r, int status)
{
	int sig, event;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		/* A thread that ended: the process goes on. */
		if (r != l->pid)
			return;
		l->status = status;
		l->state = LAUNCH_EXITED;
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	sig = WSTOPSIG(status);
	event = status >> 16;
	if (event == PTRACE_EVENT_EXIT) {
		if (r == l->pid) {
			l->state = LAUNCH_EXITING;
			return;
		}
		ptrace(PTRACE_CONT, r, 0, 0);
		return;
	}
	if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK ||
	    event == PTRACE_EVENT_VFORK) {
		ptrace(PTRACE_CONT, r, 0, 0);
		return;
	}
	if (event == PTRACE_EVENT_STOP) {
		/* A new thread's first stop: let it run. */
		if (sig == SIGTRAP)
			ptrace(PTRACE_CONT, r, 0, 0);
		/* Group stop (Ctrl-Z): stay stopped, as untraced. */
		else
			ptrace(PTRACE_LISTEN, r, 0, 0);
		return;
	}
	/* Our own stop, its work done: the thread goes on as if none. */
	if (sig == SIGSTOP && l->on_stop && l->on_stop(l->stop_ctx, r))
		sig = 0;
	/* A signal on its way to the child: deliver it. */
	ptrace(PTRACE_CONT, r, 0, sig);
}

enum launch_state launch__poll(struct launch *l)
{
	int status;
	pid_t r;

	while (l->state == LAUNCH_RUNNING) {
		/* The child and its threads, all traced: none else is ours. */
		r = waitpid(-1, &status, WNOHANG | __WALL);
		if (r <= 0)
			break;
		poll_one(l, r, status);
	}
	return l->state;
}

/*
 * One state change while launch__hold waits: a held thread's stop is
 * kept with how it goes on (as launch__poll would send it on), anything
 * else handled as launch__poll does.
 */
static void hold_one(struct launch *l, pid_t r, int status)
{
	struct detach_tid *ht;
	unsigned long msg;
	int event, sig;
	size_t at;

	if (!tids_find(&l->held, r, &at)) {
		poll_one(l, r, status);
		return;
	}
	ht = tab_array_at(&l->held, at);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (r == l->pid) {
			l->status = status;
			l->state = LAUNCH_EXITED;
		}
		tids_del(&l->held, r);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	ht->stopped = true;
	sig = WSTOPSIG(status);
	event = status >> 16;
	if (event == PTRACE_EVENT_EXIT) {
		ht->exiting = r == l->pid;
		return;
	}
	if (event == PTRACE_EVENT_STOP) {
		ht->listen = sig != SIGTRAP;
		return;
	}
	if (!event) {
		ht->sig = sig;
		if (sig == SIGSTOP && l->on_stop && l->on_stop(l->stop_ctx, r))
			ht->sig = 0;
		return;
	}
	/* A thread born since the listing: held too, it stops on its own. */
	if (event == PTRACE_EVENT_CLONE &&
	    !ptrace(PTRACE_GETEVENTMSG, r, 0, &msg))
		tids_add(&l->held, (pid_t)msg);
}

static bool hold_waiting(const struct tab_array *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++) {
		if (!((const struct detach_tid *)tab_array_at(t, i))->stopped)
			return true;
	}
	return false;
}

int launch__hold(struct launch *l, int pid)
{
	__u64 deadline = mono_ns() + DETACH_TIMEOUT_NS;
	struct timespec nap = { .tv_nsec = HOLD_POLL_NS };
	int status, err;
	pid_t r;

	if (l->state != LAUNCH_RUNNING || !l->started)
		return -ESRCH;
	tab_array_init(&l->held, sizeof(struct detach_tid), DETACH_MAX_THREADS);
	err = interrupt_all(pid, &l->held);
	/* No thread took the interrupt: not one of ours (or gone). */
	if (!err && !l->held.nr)
		err = -ESRCH;
	while (!err && hold_waiting(&l->held) && l->state == LAUNCH_RUNNING) {
		r = waitpid(-1, &status, WNOHANG | __WALL);
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r > 0) {
			hold_one(l, r, status);
			continue;
		}
		/* One that never stops is not copied: the scan says so. */
		if (mono_ns() >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	if (err)
		launch__release(l);
	return err;
}

void launch__release(struct launch *l)
{
	size_t i;

	for (i = 0; i < l->held.nr; i++) {
		const struct detach_tid *ht = tab_array_at(&l->held, i);

		/* Not stopped yet: its interrupt stop comes to launch__poll. */
		if (!ht->stopped)
			continue;
		/* Its exit stop: launch__poll says so, the caller ends it. */
		if (ht->exiting) {
			l->state = LAUNCH_EXITING;
			continue;
		}
		ptrace(ht->listen ? PTRACE_LISTEN : PTRACE_CONT, ht->tid, 0,
		       ht->sig);
	}
	tab_array_fini(&l->held);
}
