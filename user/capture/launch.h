/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Running `memscope-bpf -- CMD`: the child is forked and held before exec
 * so the probes are in place for its first allocation, and it is traced
 * (PTRACE_SEIZE, exit events only) so that it stops once more at exit,
 * with its memory map intact, for the final drain and symbolization.
 * Its threads are traced too (PTRACE_O_TRACECLONE), so that any of them
 * can be held while the tables of a mapping it made are loaded.
 */
#ifndef MEMSCOPE_LAUNCH_H
#define MEMSCOPE_LAUNCH_H

#include <stdbool.h>

struct launch;

enum launch_state {
	LAUNCH_RUNNING,
	LAUNCH_EXITING,		/* stopped at exit: maps still readable */
	LAUNCH_EXITED,		/* reaped: status is valid */
};

/*
 * Finds argv[0] (PATH search like execvp) and forks a child that waits.
 * NULL with errno set (ENOENT, EACCES: the command cannot be run).
 */
struct launch *launch__new(char *const argv[]);
/* Kills a child that never started; detaches from a running one. */
void launch__free(struct launch *l);

int launch__pid(const struct launch *l);
/* The resolved executable path. */
const char *launch__path(const struct launch *l);

/*
 * Lets the child exec. follow: the processes it forks are traced too
 * (their stops taken like its threads'). 0, or -errno if exec failed
 * (child reaped).
 */
int launch__start(struct launch *l, bool follow);

/*
 * Reaps or handles pending state changes (call on SIGCHLD). Signals meant
 * for the child are passed on. Returns the state.
 */
enum launch_state launch__poll(struct launch *l);
/*
 * Asked when thread tid of the child stops on a SIGSTOP: true when the
 * stop was the caller's own doing (the tracer stops a thread to load what
 * a new mapping needs), and the SIGSTOP is swallowed instead of delivered.
 */
typedef bool (*launch_stop_fn)(void *ctx, int tid);
void launch__on_stop(struct launch *l, launch_stop_fn fn, void *ctx);

/*
 * When tracing ends while the child runs: every thread of it is let go
 * (PTRACE_DETACH), a stop of the caller's own (launch_stop_fn) swallowed
 * and any other signal on its way delivered, so it runs on as if it had
 * never been traced. 0, or -errno (-ETIMEDOUT: a thread never stopped to
 * be detached; it is let go when the tool exits).
 */
int launch__detach(struct launch *l);
/*
 * While tracing, every thread of process pid (the child or a process it
 * forked: all traced) stopped where it is, each stop it reports on the
 * way kept to be sent on as launch__poll would; other state changes are
 * handled as launch__poll does. 0 (a thread that did not stop within 2 s
 * is not held), -ESRCH (no thread of pid took the interrupt: gone, or not
 * traced by us) or -errno. launch__release lets them all go on.
 */
int launch__hold(struct launch *l, int pid);
/*
 * The threads launch__hold stopped go on. A child that reached its exit
 * meanwhile stays in its exit stop: launch__poll says LAUNCH_EXITING.
 */
void launch__release(struct launch *l);

/* Instead: kills the child and reaps it (LAUNCH_EXITED). 0 or -errno. */
int launch__kill(struct launch *l);

/* Lets a child stopped at exit finish exiting. */
void launch__resume(struct launch *l);
/* Wait status, valid in LAUNCH_EXITED. */
int launch__status(const struct launch *l);

#endif /* MEMSCOPE_LAUNCH_H */
