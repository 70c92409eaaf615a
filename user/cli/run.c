/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The trace run: check the environment, start or attach to the target,
 * take the events off the ring into the store (and the recording) until
 * the target exits, the duration ends or a signal comes, then finish the
 * recording and write the reports.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "export.h"
#include "forwarders.h"
#include "growth.h"
#include "launch.h"
#include "live.h"
#include "outfile.h"
#include "procinfo_read.h"
#include "procs.h"
#include "procsel.h"
#include "reach.h"
#include "recording.h"
#include "run.h"
#include "symbolizer.h"
#include "table.h"
#include "table_cache.h"
#include "trace.h"

/* How often the ring is drained when nothing forces a wakeup. */
#define DRAIN_INTERVAL_MS	10
/*
 * Nice levels the drain's thread runs above the tool's own while tracing
 * (CFS weight x9.3): a traced program with hundreds of busy threads on a
 * few cores otherwise leaves the drain one share in hundreds and the ring
 * fills (400 threads on 2 cores lost 8-15 % of their records).
 */
#define DRAIN_NICE_BOOST	10
/* Event to status line in under 200 ms: the drain plus one redraw. */
#define STATUS_INTERVAL_NS	100000000ULL
/* --live redraws every second: growth is per second. */
#define LIVE_INTERVAL_NS	1000000000ULL

struct session {
	const struct opts *o;
	struct table_cache *cache;	/* --table-cache's, NULL: none */
	struct procs *procs;
	/* a set: the running processes it took at start (int pids) */
	struct tab_array found;
	/*
	 * A symbolizer per process image (by image number, made on its
	 * first stack): an exec maps other objects at the same addresses.
	 */
	struct symbolizer **syms;
	size_t nr_syms;
	struct sym_files *sym_files;	/* every image's symbolizer reads a file once */
	struct tracer *tracer;
	struct launch *launch;
	struct recorder *rec;	/* -w; NULL once finished */
	/* --reachability: each image's last heap scan, by image number */
	struct reach *reach;
	size_t nr_reach;
	/* what a recording's header holds: the target and when it began */
	struct recording_info info;
	char *command;
	__u64 end_ns;		/* tracing stopped; detaching takes a while */
	bool target_exited;
	int exit_status;
	bool status_unknown;	/* a -p target's end was not seen */
	bool detached;		/* a launched command left running */
	bool killed;		/* one ended by --kill */
	bool status_shown;
	struct live_view *live;	/* --live, while tracing */

	/* -i: the snapshots, and --snapshots' file of their JSON lines */
	struct growth_table growth;
	struct outfile *snapfile;
	int snap_err;		/* the first error writing it; sticks */

	/* addresses of stacks first seen since the last drain, and the
	 * image of each (runs of one image) */
	__u64 *pending;
	__u32 *pending_image;
	size_t nr_pending, cap_pending, cap_pending_image;
	__u64 reloads;		/* tracer__reloads() the symbolizer saw */
	/* forwarders that call, and a record with their frames dropped */
	struct forwarders *fwd;
	struct ms_event fwd_ev;
	/* the image and tracer__reloads() drop_forwarders last covered */
	long fwd_image;
	__u64 fwd_reloads;
};


static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int libbpf_verbose(enum libbpf_print_level level, const char *fmt,
			  va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* The checks whose failure would otherwise surface as a cryptic errno. */
static int check_environment(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};
	const char *btf = getenv("MEMSCOPE_BTF");
	bool has_bpf, has_perfmon, has_admin;

	if (syscall(SYS_capget, &hdr, data)) {
		cli_error("cannot read capabilities: %s", strerror(errno));
		return -errno;
	}
#define HAS_CAP(c) (!!(data[(c) / 32].effective & (1u << ((c) % 32))))
	has_bpf = HAS_CAP(39);		/* CAP_BPF */
	has_perfmon = HAS_CAP(38);	/* CAP_PERFMON */
	has_admin = HAS_CAP(CAP_SYS_ADMIN);
#undef HAS_CAP
	if (!has_admin && !(has_bpf && has_perfmon)) {
		cli_error("permission denied: run as root (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");
		return -EPERM;
	}
	if (!btf)
		btf = "/sys/kernel/btf/vmlinux";
	if (access(btf, R_OK)) {
		cli_error("no kernel BTF at %s: this kernel was built without CONFIG_DEBUG_INFO_BTF, which memscope-bpf needs",
			  btf);
		return -ENOTSUP;
	}
	return 0;
}

static __u32 image_now(void *ctx, int pid)
{
	return tracer__image_gen(ctx, pid);
}

/* Image i's own symbolizer, made on first use; NULL: addresses only. */
static struct symbolizer *sym_own(struct session *s, size_t i)
{
	const struct proc_image *im = procs__image(s->procs, i);
	size_t cap = s->nr_syms;

	if (!im)
		return NULL;
	if (i >= s->nr_syms) {
		if (tab_grow((void **)&s->syms, &cap, i + 1, sizeof(*s->syms)))
			return NULL;
		memset(s->syms + s->nr_syms, 0,
		       (i + 1 - s->nr_syms) * sizeof(*s->syms));
		s->nr_syms = i + 1;
	}
	if (s->syms[i])
		return s->syms[i];
	s->syms[i] = symbolizer__new(im->info.pid, s->sym_files);
	/*
	 * Maps read once the process runs a later image are not this
	 * one's: a fork's, once it exec'd (then its parent's name it,
	 * sym_image), an exec'd program's, once it exec'd again (then
	 * the mappings the kernel walked for it, cover_own)
	 */
	if (s->syms[i] && im->kgen)
		symbolizer__image_is(s->syms[i], im->kgen, image_now,
				     s->tracer);
	return s->syms[i];
}

/*
 * The image whose symbolizer names image i's addresses: i, unless its own
 * knows no mapping (the process was gone, or ran a later image, before its
 * maps could be read) and it is a fork's, whose mappings at its start were
 * those of the image it was forked from.
 */
static size_t sym_image(struct session *s, size_t i)
{
	const struct proc_image *im = procs__image(s->procs, i);
	struct symbolizer *own = sym_own(s, i);

	/* The parent's image is an older one: the walk up ends. */
	if (own && symbolizer__blind(own) && !im->image && im->parent >= 0 &&
	    (size_t)im->parent < i)
		return sym_image(s, im->parent);
	return i;
}

static struct symbolizer *sym_of(struct session *s, size_t i)
{
	return sym_own(s, sym_image(s, i));
}

static int add_vma(void *ctx, const struct procmap *m)
{
	return symbolizer__add_map(ctx, m);
}

/*
 * Image i's own symbolizer, made to know where addrs lie: from the maps
 * while the process runs that image; once it is gone (or runs another),
 * from the mappings the kernel walked through for it.
 */
static struct symbolizer *cover_own(struct session *s, size_t i,
				    const __u64 *addrs, unsigned n)
{
	const struct proc_image *im = procs__image(s->procs, i);
	struct symbolizer *own = sym_own(s, i);

	if (own && symbolizer__cover(own, addrs, n) && im->kgen)
		tracer__image_vmas(s->tracer, im->info.pid, im->kgen, add_vma,
				   own);
	return own;
}

/*
 * The symbolizer that names image i's addresses (sym_of), made to know
 * where addrs lie: its own, else (it knows none) a fork's parent's.
 */
static struct symbolizer *sym_cover(struct session *s, size_t i,
				    const __u64 *addrs, unsigned n)
{
	size_t at;

	if (!cover_own(s, i, addrs, n))
		return NULL;
	at = sym_image(s, i);
	return at == i ? sym_own(s, i) : cover_own(s, at, addrs, n);
}

static void *image_sym(void *ctx, size_t i)
{
	return sym_of(ctx, i);
}

static int pending_add(struct session *s, __u32 image, const __u64 *addrs,
		       unsigned n)
{
	size_t i;
	int err;

	err = tab_grow((void **)&s->pending, &s->cap_pending,
		       s->nr_pending + n, sizeof(*s->pending));
	if (!err)
		err = tab_grow((void **)&s->pending_image,
			       &s->cap_pending_image, s->nr_pending + n,
			       sizeof(*s->pending_image));
	if (err)
		return err;
	memcpy(s->pending + s->nr_pending, addrs, n * sizeof(*addrs));
	for (i = 0; i < n; i++)
		s->pending_image[s->nr_pending + i] = image;
	s->nr_pending += n;
	return 0;
}

static unsigned resolve_frame(void *ctx, __u64 addr, const struct frame **out)
{
	/* An image without a symbolizer: its addresses as they are. */
	return ctx ? symbolizer__resolve(ctx, addr, out) : 0;
}

/*
 * The new stacks' objects, image by image, while their images run; and
 * their symbols into the recording.
 */
static void cover_pending(struct session *s)
{
	struct symbolizer *sym;
	size_t i, j;

	for (i = 0; i < s->nr_pending; i = j) {
		for (j = i + 1; j < s->nr_pending &&
		     s->pending_image[j] == s->pending_image[i]; j++)
			;
		sym = sym_cover(s, s->pending_image[i], s->pending + i,
				j - i);
		/* Errors stick in the recorder and are reported at its end. */
		if (s->rec)
			recorder__symbols(s->rec, s->pending_image[i],
					  s->pending + i, j - i,
					  resolve_frame, sym);
	}
	s->nr_pending = 0;
}

/*
 * What is known of a process beyond its records, to the table and, in
 * its place among the records, to the recording (errors stick there).
 */
static int set_info(struct session *s, const struct procinfo *info)
{
	int err = procs__set_info(s->procs, info);

	if (!err && s->rec)
		recorder__info(s->rec, info);
	return err;
}

/*
 * What /proc says of pid, to its current image. comm, when given, is the
 * comm its record (a start, an exec) carried: /proc naming another means
 * the process has exec'd again since, and its facts are the next image's,
 * which that exec's own record will fetch.
 */
static int proc_facts(struct session *s, int pid, __u32 flags,
		      const char *comm)
{
	struct procinfo info;

	if (procinfo_read(pid, flags, &info))
		return 0;
	/* Gone since its record: what the record told (comm, file) stays. */
	if ((info.flags & PROCINFO_GONE) && !(flags & PROCINFO_EXISTING))
		return 0;
	if (comm && strncmp(info.comm, comm, PROCINFO_COMM - 1))
		return 0;
	return set_info(s, &info);
}

/*
 * The kernel's exact counters of pid's current image (its generation gen
 * in the kernel, 0: whichever is current), to the table: a process of a
 * set from its entry (read before the drain that deletes it after its
 * exit), the one -p process from the global counters. An image an exec
 * ended has its counters in the exec's record.
 */
static void image_kernel(struct session *s, __u32 pid, __u32 gen)
{
	struct ms_counters c;

	if (!tracer__proc_counters(s->tracer, pid, gen, &c))
		procs__set_kernel(s->procs, pid, &c);
}

/*
 * A block a calling forwarder got for its caller (operator new(nothrow)
 * calling operator new) is its caller's: the record without the
 * forwarder's frames (forwarders.h), before the recording and the store
 * see it.
 */
static const struct ms_event *drop_forwarders(struct session *s, long cur,
					      const struct ms_event *e)
{
	const struct attach_probe *probes;
	struct symbolizer *sym;
	__u64 reloads;
	size_t nr;
	unsigned drop;

	if ((e->type != MS_EV_ALLOC && e->type != MS_EV_REALLOC) ||
	    e->nr_frames < 2 || e->nr_frames > MS_MAX_STACK || cur < 0)
		return e;
	probes = tracer__probes(s->tracer, &nr);
	if (forwarders__update(s->fwd, probes, nr))
		return e;
	sym = sym_of(s, cur);
	if (!sym)
		return e;
	/*
	 * The image's mappings, read once and again when the kernel says
	 * they changed: a frame in no mapping (JIT code calling operator
	 * new) must not make every record read /proc/PID/maps.
	 */
	reloads = tracer__reloads(s->tracer);
	if (cur != s->fwd_image || reloads != s->fwd_reloads) {
		s->fwd_image = cur;
		s->fwd_reloads = reloads;
		if (symbolizer__cover(sym, e->frames, 1))
			return e;
	}
	drop = forwarders__leading(s->fwd, ms_tag_family(e->aux), e->frames,
				   e->nr_frames, resolve_frame, sym);
	if (!drop)
		return e;
	memcpy(&s->fwd_ev, e, MS_EVENT_HDR_SIZE);
	memcpy(s->fwd_ev.frames, e->frames + drop,
	       (e->nr_frames - drop) * sizeof(e->frames[0]));
	s->fwd_ev.nr_frames = e->nr_frames - drop;
	return &s->fwd_ev;
}

/* Image i's facts into the recording, as they are now. */
static void record_info(struct session *s, long i)
{
	struct procinfo info;

	if (s->rec && i >= 0 && !procs__info(s->procs, i, &info))
		recorder__info(s->rec, &info);
}

/*
 * Pid ran its allocator unprobed for late_ns from since_ns (the tracer,
 * after the drain that delivered its records): its images say so
 * (procs__late), and so does the recording at this point.
 */
static void on_late(void *ctx, __u32 pid, __u32 gen, __u64 since_ns,
		    __u64 late_ns)
{
	struct session *s = ctx;

	/*
	 * An image that has ended took it (its facts go into the recording
	 * with every image's when it ends), else the current or a coming one.
	 */
	if (procs__late_ended(s->procs, pid, gen, since_ns, late_ns) != -ENOENT)
		return;
	if (procs__late(s->procs, pid, gen, since_ns, late_ns) > 0)
		record_info(s, procs__current(s->procs, pid));
}

static int on_event(void *ctx, const struct ms_event *e)
{
	struct session *s = ctx;
	long cur = procs__current(s->procs, e->pid), last;
	__u32 before = 0;
	bool late;
	int err;

	e = drop_forwarders(s, cur, e);

	/* An image about to end: its stacks' objects while it has them. */
	if (cur >= 0 && (e->type == MS_EV_PROC_EXEC ||
			 e->type == MS_EV_PROC_EXIT))
		cover_pending(s);
	if (cur >= 0)
		before = store__nr_stacks(procs__image(s->procs, cur)->store);
	if (e->type == MS_EV_PROC_EXIT)
		image_kernel(s, e->pid, e->seq);
	else if (e->type == MS_EV_PROC_EXEC && e->seq > 1 && cur >= 0 &&
		 !(e->aux & MS_EXEC_NO_COUNTERS))
		procs__set_kernel(s->procs, e->pid, ms_event_ended(e));

	/*
	 * Recorded as delivered, whatever the store makes of it: a replay
	 * applies it to a store of its own. Recording errors stick and are
	 * reported once, when the recording is finished.
	 */
	if (s->rec)
		recorder__add(s->rec, e);
	err = procs__apply(s->procs, e);
	if (err)
		return err;
	late = procs__took_late(s->procs);
	/* A new process or image: what /proc says of it, while it lives. */
	if (e->type == MS_EV_PROC_START || e->type == MS_EV_PROC_EXEC) {
		err = proc_facts(s, e->pid, 0, e->name);
		if (err)
			return err;
	}
	/* It took a window procs__late() kept for it: recorded here. */
	if (late)
		record_info(s, procs__current(s->procs, e->pid));
	last = procs__last(s->procs);
	if (last < 0 || !e->nr_frames)
		return 0;
	if (last != cur)
		before = 0;
	/* A new stack: its objects must be known while the target lives. */
	if (store__nr_stacks(procs__image(s->procs, last)->store) != before)
		return pending_add(s, last, e->frames, e->nr_frames);
	return 0;
}

static void drain(struct session *s)
{
	__u64 reloads;
	size_t i;

	tracer__drain(s->tracer);
	/*
	 * A target mapped new code: its objects, now, while the target
	 * surely has them mapped (with -p it may exit before the first
	 * stack through them is drained).
	 */
	reloads = tracer__reloads(s->tracer);
	if (reloads != s->reloads) {
		s->reloads = reloads;
		for (i = 0; i < s->nr_syms; i++) {
			if (s->syms[i] && !procs__image(s->procs, i)->end)
				symbolizer__refresh(s->syms[i]);
		}
	}
	cover_pending(s);
}

static void human(char *buf, size_t len, __u64 bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void status_line(struct session *s)
{
	struct ms_counters c;
	char live[32], peak[32];

	tracer__counters(s->tracer, &c);
	human(live, sizeof(live), c.live_bytes);
	human(peak, sizeof(peak), c.peak_bytes);
	fprintf(stderr,
		"\r\033[K%llu events  live %s in %llu blocks  peak %s  lost %llu",
		(unsigned long long)procs__summary(s->procs)->sum.events, live,
		(unsigned long long)c.live_blocks, peak,
		(unsigned long long)c.lost_events);
	s->status_shown = true;
}

/*
 * -i: a snapshot of every running image as drained now, into the
 * recording (a replay takes it again at the same record), on stdout and
 * into --snapshots.
 */
static void take_snapshot(struct session *s, __u64 now)
{
	struct growth_mark m = { .ts_ns = now };
	struct recording_snapshot rs;
	struct growth_view *v;
	struct ms_counters c;
	size_t nr, i;
	int err;

	tracer__counters(s->tracer, &c);
	m.lost_events = c.lost_events;
	m.consumer_drops = tracer__drops(s->tracer);
	err = growth_table__take(&s->growth, s->procs, &m);
	if (!err)
		err = growth_table__views(&s->growth, s->procs, s->o->top,
					  &v, &nr);
	if (err) {
		cli_error("cannot take snapshot %u: %s", s->growth.taken,
			  strerror(-err));
		return;
	}
	if (s->rec) {
		rs = (struct recording_snapshot){
			.ts_ns = m.ts_ns,
			.lost_events = m.lost_events,
			.consumer_drops = m.consumer_drops,
		};
		/* Errors stick in the recorder, reported when it finishes. */
		recorder__snapshot(s->rec, &rs);
	}
	if (s->status_shown) {
		fputs("\r\033[K", stderr);
		s->status_shown = false;
	}
	for (i = 0; i < nr; i++) {
		err = export_snapshot(&v[i], s->info.start_ns,
				      export_text(s->o),
				      s->snapfile && !s->snap_err ?
				      outfile__stream(s->snapfile) : NULL,
				      resolve_frame, sym_of(s, v[i].proc));
		if (err && !s->snap_err)
			s->snap_err = err;
		growth_view__fini(&v[i]);
	}
	free(v);
}

/*
 * The signals the trace loop reads from a signalfd stay blocked until the
 * process exits: one that comes after the trace ended (a Ctrl-C while the
 * report is written, a target's last SIGCHLD) has been answered already,
 * and unblocking it would only kill the tool with the report written.
 */
static int setup_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -1;
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int pidfd_open(int pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static int hold_stop(void *ctx, int pid)
{
	return launch__hold(ctx, pid);
}

static void hold_resume(void *ctx)
{
	launch__release(ctx);
}

/*
 * --reachability: a heap scan now of image i (its store as drained now,
 * its pid's memory), kept as that image's and written into the recording.
 * Errors said.
 */
static void scan_image(struct session *s, size_t i, enum heaproots_how how)
{
	const struct proc_image *im = procs__image(s->procs, i);
	/* A launched tree is ours to stop: it cannot be seized. */
	const struct reach_hold hold = { hold_stop, hold_resume, s->launch };
	size_t cap = s->nr_reach;
	int err;

	if (i >= s->nr_reach) {
		if (tab_grow((void **)&s->reach, &cap, i + 1,
			     sizeof(*s->reach))) {
			cli_error("cannot scan the heap of pid %u: %s",
				  im->info.pid, strerror(ENOMEM));
			return;
		}
		memset(s->reach + s->nr_reach, 0,
		       (i + 1 - s->nr_reach) * sizeof(*s->reach));
		s->nr_reach = i + 1;
	}
	if (reach__take(&s->reach[i], im->store, im->info.pid, how,
			s->launch ? &hold : NULL, s->o) || !s->rec)
		return;
	/* After the records it saw: a replay reports the same classes. */
	err = reach__record(&s->reach[i], s->rec, i);
	if (err)
		cli_error("cannot write the heap scan of pid %u into %s: %s",
			  im->info.pid, s->o->record, strerror(-err));
}

static void scan_begin(struct session *s)
{
	drain(s);
	if (s->status_shown) {
		fputs("\r\033[K", stderr);
		s->status_shown = false;
	}
}

/*
 * --reachability: a heap scan now of every image still running, each in
 * its own process (the launched command's exit stop: scan_exit()). A
 * launched command is traced by us already: scanned at its exit, or
 * once let go. A -p target that exited has no memory left to scan.
 */
static void scan_heap(struct session *s, enum heaproots_how how)
{
	const struct proc_image *im;
	size_t i;

	scan_begin(s);
	for (i = 0; i < procs__nr_images(s->procs); i++) {
		im = procs__image(s->procs, i);
		if (im->end != PROC_RUNNING ||
		    (s->target_exited && im->info.pid == (__u32)s->info.pid))
			continue;
		scan_image(s, i, how);
	}
}

/* The launched command stopped at its exit: its current image only. */
static void scan_exit(struct session *s)
{
	long i;

	scan_begin(s);
	i = procs__current(s->procs, s->info.pid);
	if (i >= 0)
		scan_image(s, i, HEAPROOTS_STOPPED);
}

/* Whether an image of pid has a heap scan. */
static bool scanned(const struct session *s, int pid)
{
	size_t i;

	for (i = 0; i < s->nr_reach; i++) {
		if (s->reach[i].scan &&
		    procs__image(s->procs, i)->info.pid == (__u32)pid)
			return true;
	}
	return false;
}

static void on_usr1(struct session *s)
{
	if (!s->o->reachability)
		cli_error("SIGUSR1 scans the heap with --reachability only");
	else
		scan_heap(s, HEAPROOTS_SEIZE);
}

/* One signalfd read: true when tracing should stop. */
static bool handle_signals(struct session *s, int sfd)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			stop = true;
		if (si.ssi_signo == SIGUSR1)
			on_usr1(s);
	}
	if (!s->launch)
		return stop;
	switch (launch__poll(s->launch)) {
	case LAUNCH_EXITING:
		/* Last chance to see its maps: drain and cover, then let go. */
		drain(s);
		/* Its memory as it exits, before the kernel tears it down. */
		if (s->o->reachability)
			scan_exit(s);
		launch__resume(s->launch);
		if (launch__poll(s->launch) != LAUNCH_EXITED)
			break;
		/* fallthrough */
	case LAUNCH_EXITED:
		s->target_exited = true;
		s->exit_status = launch__status(s->launch);
		stop = true;
		break;
	case LAUNCH_RUNNING:
		break;
	}
	return stop;
}

/*
 * Tracing ended while the launched command runs: it runs on, detached
 * now rather than when the tool exits (a signal sent to it while the
 * report is written must not wait for us), or it is killed (--kill).
 */
static void let_go(struct session *s)
{
	int err;

	/* The scan needs it let go (it seizes every thread), then killed. */
	if (s->o->kill && s->o->reachability) {
		err = launch__detach(s->launch);
		if (!err && launch__poll(s->launch) != LAUNCH_EXITED)
			scan_heap(s, HEAPROOTS_SEIZE);
	}
	if (s->o->kill) {
		err = launch__kill(s->launch);
		if (err) {
			cli_error("cannot kill pid %d: %s", s->info.pid,
				  strerror(-err));
			return;
		}
		s->killed = true;
		s->target_exited = true;
		s->exit_status = launch__status(s->launch);
		return;
	}
	err = launch__detach(s->launch);
	if (err)
		cli_error("cannot detach from pid %d: %s; it is let go when memscope-bpf exits",
			  s->info.pid, strerror(-err));
	/* It may have ended while it was being let go. */
	if (launch__poll(s->launch) == LAUNCH_EXITED) {
		s->target_exited = true;
		s->exit_status = launch__status(s->launch);
		return;
	}
	s->detached = true;
	if (!err && s->o->reachability)
		scan_heap(s, HEAPROOTS_SEIZE);
}

/* --live: one redraw, or the keys waiting; true when q asked to stop. */
static bool live_tick(struct session *s, bool keys)
{
	struct ms_counters c;
	struct live_status ls = {
		.pid = s->info.pid,
		.elapsed_ns = mono_ns() - s->info.start_ns,
	};

	tracer__counters(s->tracer, &c);
	ls.lost = c.lost_events;
	if (keys)
		return live__keys(s->live, s->procs, &ls);
	live__draw(s->live, s->procs, &ls);
	return false;
}

/* How the drain's thread was raised, to go back for the report. */
struct drain_prio {
	int nice;	/* the nice to go back to; INT_MIN: not changed */
	bool rt;	/* SCHED_FIFO */
};

/*
 * The drain's thread above the traced programs while they run: real-time
 * (SCHED_FIFO at its lowest priority; no thread or process it starts
 * inherits it, and the command was forked before), so it drains as soon as
 * it has records. A drain that keeps up sleeps between drains and takes
 * no more CPU than at any other priority; one that cannot takes it from
 * the programs rather than losing their records (the kernel's real-time
 * throttling still leaves them 5 %). 300 threads in a tight malloc/free
 * loop on 2 cores lost a third of their records with the drain ten nice
 * levels up: a fair share against hundreds of busy threads is too small.
 * Where real-time is refused (no CAP_SYS_NICE, a cgroup without real-time
 * time) the nice levels are the fallback; what the drain cannot keep up
 * with is counted as lost.
 */
static struct drain_prio drain_raise(const struct session *s)
{
	struct sched_param sp = { .sched_priority = 1 };
	struct drain_prio p = { .nice = INT_MIN };
	int old, want;

	if (!sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp)) {
		p.rt = true;
		return p;
	}
	if (s->o->verbose)
		fprintf(stderr,
			"memscope-bpf: the drain runs without real-time priority: %s\n",
			strerror(errno));
	errno = 0;
	old = getpriority(PRIO_PROCESS, gettid());
	if (old == -1 && errno)
		return p;
	want = old - DRAIN_NICE_BOOST < -20 ? -20 : old - DRAIN_NICE_BOOST;
	if (setpriority(PRIO_PROCESS, gettid(), want)) {
		if (s->o->verbose)
			fprintf(stderr,
				"memscope-bpf: the drain runs at nice %d: cannot raise it (%s)\n",
				old, strerror(errno));
		return p;
	}
	p.nice = old;
	return p;
}

/* The report and what follows take no CPU from the programs before them. */
static void drain_lower(struct drain_prio p)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (p.rt)
		sched_setscheduler(0, SCHED_OTHER, &sp);
	if (p.nice != INT_MIN)
		setpriority(PRIO_PROCESS, gettid(), p.nice);
}

/*
 * -p: tracing ends when every pid given has exited (their pidfds, -1
 * once seen to exit).
 */
static int trace_loop(struct session *s, int sfd, int *pidfds, size_t nr)
{
	size_t j, alive = 0;
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];
	__u64 deadline = 0, next_status = 0, next_live = 0, next_flush,
	      next_snap = 0, now;
	struct drain_prio prio;
	int ep, n, i;
	bool stop = false, status = !s->o->quiet && !s->live && isatty(2);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	prio = drain_raise(s);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tracer__fd(s->tracer);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	for (j = 0; j < nr; j++) {
		ev.data.fd = pidfds[j];
		epoll_ctl(ep, EPOLL_CTL_ADD, pidfds[j], &ev);
		alive++;
	}
	if (s->live) {
		ev.data.fd = live__fd(s->live);
		epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
	if (s->o->duration > 0)
		deadline = mono_ns() + (__u64)(s->o->duration * 1e9);
	next_flush = mono_ns() + RECORDING_FLUSH_NS;
	if (s->o->interval_ns)
		next_snap = s->info.start_ns + s->o->interval_ns;

	while (!stop) {
		n = epoll_wait(ep, evs, 4, DRAIN_INTERVAL_MS);
		drain(s);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd && handle_signals(s, sfd))
				stop = true;
			for (j = 0; j < nr; j++) {
				if (evs[i].data.fd != pidfds[j])
					continue;
				epoll_ctl(ep, EPOLL_CTL_DEL, pidfds[j], NULL);
				if (--alive)
					continue;
				s->target_exited = true;
				/* Not our child: its status is the kernel's. */
				s->status_unknown = tracer__root_exit(
					s->tracer, &s->exit_status) < 0;
				stop = true;
			}
			if (s->live && evs[i].data.fd == live__fd(s->live) &&
			    live_tick(s, true))
				stop = true;
		}
		now = mono_ns();
		if (deadline && now >= deadline)
			stop = true;
		if (next_snap && now >= next_snap && !stop) {
			take_snapshot(s, now);
			/* A late one does not make the next ones crowd. */
			next_snap += s->o->interval_ns;
			if (next_snap <= now)
				next_snap = now + s->o->interval_ns;
		}
		if (status && now >= next_status) {
			status_line(s);
			next_status = now + STATUS_INTERVAL_NS;
		}
		if (s->live && now >= next_live) {
			live_tick(s, false);
			next_live = now + LIVE_INTERVAL_NS;
		}
		/* What a killed tool leaves is at most this old. */
		if (s->rec && now >= next_flush) {
			recorder__flush(s->rec);
			next_flush = now + RECORDING_FLUSH_NS;
		}
	}
	s->end_ns = mono_ns();
	/* With the probes still in: the store says what is live as it stops. */
	if (s->o->reachability && !s->launch)
		scan_heap(s, HEAPROOTS_SEIZE);
	/* -p: its memory went with it; the last SIGUSR1 scan, if any, stays. */
	if (s->o->reachability && !s->launch && s->target_exited &&
	    !scanned(s, s->info.pid) && !s->o->quiet)
		fprintf(stderr,
			"memscope-bpf: warning: no heap scan: pid %d exited before tracing ended (send SIGUSR1 to memscope-bpf to scan a running process)\n",
			s->info.pid);
	/* No more probes: a -p target stops paying now, not after the report. */
	tracer__detach(s->tracer);
	drain(s);
	drain_lower(prio);
	if (s->launch && !s->target_exited)
		let_go(s);
	if (s->status_shown)
		fputs("\r\033[K", stderr);
	close(ep);
	return 0;
}

static char *join_cmd(char **cmd)
{
	size_t len = 1;
	char **a, *s;

	for (a = cmd; *a; a++)
		len += strlen(*a) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (a = cmd; *a; a++) {
		if (a != cmd)
			strcat(s, " ");
		strcat(s, *a);
	}
	return s;
}

/* The trailer of a live trace: recorded, then reported from. */
static int finish_trace(struct session *s)
{
	struct recording_end end = {
		.end_ns = s->end_ns,
		.consumer_drops = tracer__drops(s->tracer),
		.exited = s->target_exited,
		.exit_status = s->exit_status,
		.status_unknown = s->status_unknown,
		.detached = s->detached,
		.killed = s->killed,
		.procs_full = tracer__procs_full(s->tracer),
		.max_procs = s->o->max_procs,
	};
	const struct proc_image *im;
	int err = 0, rerr;
	size_t i;

	/* The images still running: their counters as tracing ends. */
	for (i = 0; i < procs__nr_images(s->procs); i++) {
		im = procs__image(s->procs, i);
		if (!im->end)
			image_kernel(s, im->info.pid, 0);
	}
	tracer__counters(s->tracer, &end.kernel);
	end.probes = tracer__probes(s->tracer, &end.nr_probes);
	if (s->rec) {
		/* Symbolized now, while the symbolizer still can. */
		err = recorder__finish(s->rec, s->procs, resolve_frame,
				       image_sym, s, &end);
		s->rec = NULL;
		if (err)
			cli_error("cannot write recording %s: %s", s->o->record,
				  strerror(-err));
	}
	rerr = export_reports(s->procs, &s->growth, &s->info, &end, 0,
			      resolve_frame, image_sym, s, s->o, s->reach,
			      s->nr_reach);
	if (!err)
		err = rerr;
	if (s->snapfile) {
		rerr = s->snap_err;
		if (!rerr)
			rerr = outfile__commit(s->snapfile);
		else
			rerr = outfile__abort(s->snapfile, rerr);
		s->snapfile = NULL;
		if (rerr)
			cli_error("cannot write %s: %s", s->o->snapshots,
				  strerror(-rerr));
		if (!err)
			err = rerr;
	}
	return err;
}

/*
 * The compiled unwind tables kept across runs: --table-cache, else
 * $MEMSCOPE_TABLE_CACHE, else TABLE_CACHE_DIR. A directory the user named
 * that cannot be used ends the run; the default one (a read-only /var, a
 * container's) only goes without, -v says why.
 */
static int cache_open(struct session *s)
{
	const char *dir = s->o->table_cache ?: getenv("MEMSCOPE_TABLE_CACHE");
	bool given = dir;
	int err;

	if (s->o->stacks_fp || (dir && !strcmp(dir, "off")))
		return 0;
	if (!dir || !*dir) {
		dir = TABLE_CACHE_DIR;
		given = false;
	}
	s->cache = table_cache__new(dir, TABLE_CACHE_BYTES);
	if (s->cache)
		return 0;
	err = errno;
	if (!given) {
		if (s->o->verbose)
			fprintf(stderr, "memscope-bpf: no table cache in %s: %s\n",
				dir, strerror(err));
		return 0;
	}
	cli_error("invalid --table-cache %s: %s", dir,
		  err == EPERM ? "not the user's own directory, or others may write it" :
		  err == ENOTSUP ? "this build of memscope-bpf has no build-id to tell its tables by" :
		  strerror(err));
	return -err;
}

/*
 * The tool holds a descriptor for every object it traces or names, and
 * the kernel's tables: a traced set meets many. Its soft limit goes up to
 * the hard one (Debian's default soft limit, 1,024, left 2,276 of 3,300
 * stacks of 300 new programs under -a unloaded at a soft limit of 200),
 * after the command was forked: it keeps the limit it was given.
 */
static void raise_nofile(const struct session *s)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) && s->o->verbose)
		fprintf(stderr,
			"memscope-bpf: cannot raise the open files limit: %s\n",
			strerror(errno));
}

/* Whether paths a and b name one file. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Skipped USDT probes cost declarations, not the trace: say so once. */
static void warn_skipped(const struct session *s)
{
	unsigned int nr;
	const char *w = tracer__warning(s->tracer, &nr);

	if (w && !s->o->quiet)
		fprintf(stderr,
			"memscope-bpf: warning: %u USDT probe%s skipped, their declarations are missing (first: %s)\n",
			nr, nr == 1 ? "" : "s", w);
	/*
	 * Said even with -q: the figures would be silently short. A copy
	 * of the tool helps where the allocator is linked into it, not
	 * where it is a library (the ASan build's libasan).
	 */
	w = tracer__own_skipped(s->tracer);
	if (w)
		fprintf(stderr,
			"memscope-bpf: warning: %s is the allocator this tool calls itself and is not probed: what the process allocates through it is not counted (%s)\n",
			w, same_file(w, "/proc/self/exe") ?
			"trace it with a copy of the tool, whose own allocator is another file" :
			"trace it with a build of the tool that does not use that file");
}

/*
 * A thread held at a new executable mapping or an exec: its tables are
 * in. Its image's symbolizer reads the maps too before it runs on, so
 * that what it maps is named even if it execs at once: one that knows
 * its program takes the new mappings, or keeps to its own after an exec
 * (whose record may not be drained yet); the launched command's, which
 * knew only the tool's fork, learns its program at its start. Another
 * process's first image could be about to end: its symbolizer waits for
 * its stacks.
 */
static bool map_stop(void *ctx, int tid)
{
	struct session *s = ctx;
	struct symbolizer *sym;
	int pid;
	long cur;

	if (!tracer__map_stop(s->tracer, tid, &pid))
		return false;
	cur = procs__current(s->procs, pid);
	sym = cur >= 0 && !procs__image(s->procs, cur)->end ?
	      sym_of(s, cur) : NULL;
	if (sym && (symbolizer__knows_program(sym) ||
		    pid == (int)s->info.pid))
		symbolizer__refresh(sym);
	return true;
}

/* Objects whose frames could not be unwound for want of rows: say so. */
static void warn_unwind(const struct session *s)
{
	__u32 cap = 0, full = tracer__unwind_full(s->tracer, &cap);

	if (s->o->verbose)
		tracer__print_unwind(s->tracer);
	if (full && !s->o->quiet)
		fprintf(stderr,
			"memscope-bpf: warning: %u object%s got no unwind table: the %u rows were full (raise --unwind-rows); their frames end stacks as not_loaded\n",
			full, full == 1 ? "" : "s", cap);
}

/* A traced set: processes left out (--max-procs), and with -v the blocks
 * of ended images the kernel table let go. */
static void warn_set(const struct session *s)
{
	__u64 bytes, blocks = tracer__released(s->tracer, &bytes);
	__u64 full = tracer__procs_full(s->tracer);

	if (full && !s->o->quiet)
		fprintf(stderr,
			"memscope-bpf: warning: %llu process%s not traced: --max-procs %u was reached\n",
			(unsigned long long)full, full == 1 ? " was" : "es were",
			s->o->max_procs);
	if (s->o->verbose)
		fprintf(stderr,
			"memscope-bpf: %llu blocks (%llu bytes) left live by processes at exit or exec, released from the kernel's live table\n",
			(unsigned long long)blocks, (unsigned long long)bytes);
	if (s->o->hold_exec && !s->o->quiet) {
		__u64 median, max;
		size_t n = tracer__holds(s->tracer, &median, &max);

		fprintf(stderr,
			"memscope-bpf: --hold-exec held %zu exec%s or mapping%s of a new file until it was probed: median %.1f ms, max %.1f ms\n",
			n, n == 1 ? "" : "s", n == 1 ? "" : "s", median / 1e6,
			max / 1e6);
	}
}

/* --ready-fd: the probes are in; the pid, for scripts, and done with it. */
static void say_ready(const struct session *s)
{
	if (s->o->ready_fd < 0)
		return;
	if (dprintf(s->o->ready_fd, "%d\n", s->info.pid) < 0)
		cli_error("cannot write to --ready-fd %d: %s", s->o->ready_fd,
			  strerror(errno));
	close(s->o->ready_fd);
}

/* The set's pids found in /proc at start (-a, --comm, --cgroup). */
static int set_add(int pid, void *ctx)
{
	struct session *s = ctx;
	int err = tracer__set_add(s->tracer, pid);

	/* A full set is counted, and said when tracing ends. */
	if (err)
		return err == -ENOSPC ? 0 : err;
	if (tab_array_reserve(&s->found, 1))
		return -ENOMEM;
	*(int *)tab_array_push(&s->found) = pid;
	return 0;
}

/*
 * A traced set: the -p pids, the launched command, and the running
 * processes the selection takes. Each is attached next.
 */
static int set_fill(struct session *s, const char *cgroup_rel)
{
	struct procsel sel = {
		.all = s->o->all,
		.comms = s->o->comms,
		.nr_comms = s->o->nr_comms,
		.cgroup = s->o->cgroup ? cgroup_rel : NULL,
		.self = getpid(),
	};
	size_t i;
	int err;

	/* Not one found running: set_target_info() says what it runs. */
	if (s->launch)
		return tracer__set_add(s->tracer, launch__pid(s->launch));
	for (i = 0; i < s->o->nr_pids; i++) {
		err = tab_array_reserve(&s->found, 1);
		if (!err)
			*(int *)tab_array_push(&s->found) = s->o->pids[i];
		else
			return err;
		err = tracer__set_add(s->tracer, s->o->pids[i]);
		if (err == -ENOSPC) {
			cli_error("cannot trace %zu pids: --max-procs is %u",
				  s->o->nr_pids, s->o->max_procs);
			return err;
		}
		if (err) {
			cli_error("cannot trace pid %d: %s", s->o->pids[i],
				  strerror(-err));
			return err;
		}
	}
	if (!s->o->all && !s->o->nr_comms && !s->o->cgroup)
		return 0;
	err = procsel_scan(&sel, set_add, s);
	if (err)
		cli_error("cannot read the processes in /proc: %s",
			  strerror(-err));
	return err;
}

/* Is what the command line asks for a set, not the one-pid fast path? */
static bool traces_set(const struct opts *o)
{
	if (o->cmd)
		return !o->no_follow;
	return o->nr_pids > 1 || o->follow || o->all || o->nr_comms ||
	       o->cgroup;
}


/*
 * The process the run starts with, as far as the command line tells it:
 * what a launch runs, or the pid attached to (capture tells the rest of
 * the processes that come with their records).
 */
static int set_target_info(struct session *s)
{
	struct procinfo info = { .pid = s->info.pid };
	const char *base;

	if (s->launch) {
		base = strrchr(s->o->cmd[0], '/');
		base = base ? base + 1 : s->o->cmd[0];
		/* cut where the kernel cuts a comm */
		snprintf(info.comm, sizeof(info.comm), "%s", base);
		if (strlen(s->command) >= sizeof(info.command))
			info.flags |= PROCINFO_CUT;
		snprintf(info.command, sizeof(info.command), "%s", s->command);
		info.start_ns = mono_ns();
		/* forked by the tool, as its exec records will say */
		info.ppid = (__u32)getpid();
		return set_info(s, &info);
	}
	return proc_facts(s, s->info.pid, PROCINFO_EXISTING, NULL);
}

static int start_target(struct session *s)
{
	char cgroup_rel[4096];
	size_t i;
	struct tracer_opts to = {
		.set = traces_set(s->o),
		.all = s->o->all && !s->o->nr_comms && !s->o->cgroup,
		.comms = s->o->comms,
		.nr_comms = s->o->nr_comms,
		.follow = s->o->follow || (s->o->cmd && !s->o->no_follow),
		.max_procs = s->o->max_procs,
		.alloc_only = s->o->mode == TRACE_MODE_ALLOC,
		.launch = s->o->cmd,
		.stacks_fp = s->o->stacks_fp,
		.jit_frame_ptrs = s->o->jit_frame_ptrs,
		.hold_exec = s->o->hold_exec,
		.max_depth = s->o->max_depth,
		.unwind_rows = s->o->unwind_rows,
		.max_live = s->o->max_live,
		.on_event = on_event,
		.on_late = on_late,
		.ctx = s,
	};
	const char *why;
	int err;

	if (s->o->cgroup) {
		err = procsel_cgroup(s->o->cgroup, &to.cgroup_id,
				     &to.cgroup_level, cgroup_rel,
				     sizeof(cgroup_rel));
		if (err) {
			cli_error("invalid --cgroup %s: %s", s->o->cgroup,
				  err == -EMEDIUMTYPE ?
				  "not a directory of the cgroup v2 hierarchy" :
				  strerror(-err));
			return err;
		}
	}
	err = cache_open(s);
	if (err)
		return err;
	to.table_cache = s->cache;
	if (s->o->cmd) {
		s->launch = launch__new(s->o->cmd);
		if (!s->launch) {
			cli_error("cannot run %s: %s", s->o->cmd[0],
				  strerror(errno));
			return -errno;
		}
		s->info.pid = launch__pid(s->launch);
	} else {
		s->info.pid = s->o->pid;
	}
	to.pid = s->info.pid;
	raise_nofile(s);
	s->tracer = tracer__new(&to);
	if (!s->tracer) {
		err = -errno;
		cli_error("cannot load the BPF programs: %s%s", strerror(-err),
			  err == -EPERM ? " (are you root?)" : "");
		return err;
	}
	if (to.set) {
		err = set_fill(s, cgroup_rel);
		if (err)
			return err;
	}
	if (s->launch)
		launch__on_stop(s->launch, map_stop, s);
	/*
	 * A launch probes what it will run (a #! script's interpreter) before
	 * it starts, as the ELF work is best done before the clock runs; what
	 * its tree runs later (an exec'd program, a preloaded allocator) is
	 * attached while the thread that maps it is held.
	 */
	if (s->launch)
		err = tracer__attach_command(s->tracer,
					     launch__path(s->launch));
	else
		err = tracer__attach_process(s->tracer);
	if (err) {
		/* Each failure should say why; errno's words at least. */
		why = tracer__error(s->tracer);
		if (!why || !why[0])
			why = strerror(-err);
		if (s->launch)
			cli_error("cannot trace %s: %s", s->o->cmd[0], why);
		else
			cli_error("cannot attach to pid %d: %s", s->info.pid,
				  why);
		return err;
	}
	if (s->o->verbose)
		tracer__print_probes(s->tracer);
	warn_skipped(s);
	tracer__start(s->tracer);
	s->info.wall_ns = clock_ns(CLOCK_REALTIME);
	s->info.start_ns = mono_ns();
	if (s->rec) {
		err = recorder__start(s->rec, &s->info);
		if (err) {
			cli_error("cannot write recording %s: %s", s->o->record,
				  strerror(-err));
			return err;
		}
	}
	/* What the processes found at start are, once the recording is on. */
	for (i = 0; i < s->found.nr; i++) {
		err = proc_facts(s, *(int *)tab_array_at(&s->found, i),
				 PROCINFO_EXISTING, NULL);
		if (err) {
			cli_error("out of memory");
			return err;
		}
	}
	/* -a, --comm, --cgroup: the processes come with their records. */
	if (s->info.pid) {
		err = set_target_info(s);
		if (err) {
			cli_error("out of memory");
			return err;
		}
		if (!sym_of(s, 0)) {
			cli_error("cannot set up symbolization: %s",
				  strerror(errno));
			return -errno;
		}
	}
	if (s->launch) {
		err = launch__start(s->launch, to.follow);
		if (err) {
			cli_error("cannot run %s: %s", s->o->cmd[0],
				  strerror(-err));
			return err;
		}
	} else if (!to.set) {
		/* Read the maps now: the target may be gone by report time. */
		static const __u64 none;

		err = symbolizer__cover(sym_of(s, 0), &none, 1);
		if (err == -ESRCH) {
			cli_error("cannot attach to pid %d: no such process",
				  s->info.pid);
			return err;
		}
	}
	if (!s->o->quiet && !to.set)
		fprintf(stderr, "memscope-bpf: tracing pid %d, Ctrl-C to stop\n",
			s->info.pid);
	else if (!s->o->quiet)
		fprintf(stderr, "memscope-bpf: tracing %s%s, Ctrl-C to stop\n",
			s->launch ? "the command and its children" :
			"the selected processes",
			s->o->follow && !s->launch ? " and their children" : "");
	say_ready(s);
	return 0;
}

/* The header fields known before anything runs. */
static int session_init(struct session *s)
{
	s->info.version = RECORDING_VERSION;
	s->info.tool_version = MEMSCOPE_VERSION;
	tab_array_init(&s->found, sizeof(int), 0);
	s->info.mode = s->o->mode;
	s->info.top = s->o->top;
	s->info.fold = s->o->fold;
	memcpy(s->info.rule_opts, s->o->rule_opts, sizeof(s->info.rule_opts));
	if (s->o->cmd) {
		s->command = join_cmd(s->o->cmd);
		if (!s->command)
			return -ENOMEM;
		s->info.command = s->command;
	}
	s->procs = procs__new();
	s->fwd = forwarders__new();
	s->sym_files = sym_files__new();
	s->fwd_image = -1;
	if (!s->procs || !s->fwd || !s->sym_files)
		return -ENOMEM;
	procs__set_filter(s->procs, export_filter_pass, (void *)s->o);
	procs__set_max_stacks(s->procs, s->o->max_stacks);
	export_spill(s->procs);
	return 0;
}

int run_trace(const struct opts *o)
{
	struct session s = { .o = o };
	int sfd, pidfds[MAX_PIDS], err;
	size_t nr_pidfds = 0, i;

	libbpf_set_print(o->verbose ? libbpf_verbose : libbpf_quiet);
	if (check_environment())
		return 1;
	if (export_check(o))
		return 1;
	sfd = setup_signals();
	if (sfd < 0) {
		cli_error("cannot set up signals: %s", strerror(errno));
		return 1;
	}
	err = session_init(&s);
	if (err) {
		cli_error("out of memory");
		goto out;
	}
	if (o->record) {
		s.rec = recorder__new(o->record);
		if (!s.rec) {
			err = -errno;
			if (err == -EEXIST)
				cli_error("cannot write recording %s: %s" RECORDING_PARTIAL " exists (a recording in progress, or one a killed run left: report on it or remove it)",
					  o->record, o->record);
			else
				cli_error("cannot write recording %s: %s",
					  o->record, strerror(-err));
			goto out;
		}
	}
	if (o->snapshots) {
		s.snapfile = outfile__new(o->snapshots);
		if (!s.snapfile) {
			err = -errno;
			cli_error("cannot write %s: %s", o->snapshots,
				  strerror(-err));
			goto out;
		}
	}
	for (i = 0; i < o->nr_pids; i++) {
		__u32 tgid;

		/* A thread's id, as top -H shows it: name its process. */
		if (!procinfo_read_task(o->pids[i], &tgid, NULL, NULL) &&
		    tgid != (__u32)o->pids[i]) {
			cli_error("pid %d is a thread of process %u: -p %u traces that process (all its threads)",
				  o->pids[i], tgid, tgid);
			err = -EINVAL;
			goto out;
		}
		pidfds[nr_pidfds] = pidfd_open(o->pids[i]);
		if (pidfds[nr_pidfds] < 0) {
			cli_error("cannot attach to pid %d: %s", o->pids[i],
				  errno == ESRCH ? "no such process" :
						   strerror(errno));
			err = -ESRCH;
			goto out;
		}
		nr_pidfds++;
	}
	/* Before anything runs: there may be no terminal to take. */
	if (o->live) {
		s.live = live__new();
		if (!s.live) {
			err = -errno;
			cli_error("--live needs a terminal: %s", strerror(-err));
			goto out;
		}
	}
	err = start_target(&s);
	if (err)
		goto out;
	if (s.live) {
		err = live__start(s.live, resolve_frame, image_sym, &s);
		if (err) {
			cli_error("--live: cannot set up the terminal: %s",
				  strerror(-err));
			goto out;
		}
	}
	err = trace_loop(&s, sfd, pidfds, nr_pidfds);
	/* The terminal back before anything is printed. */
	live__free(s.live);
	s.live = NULL;
	if (!err) {
		warn_unwind(&s);
		warn_set(&s);
		err = finish_trace(&s);
	}
out:
	live__free(s.live);
	/* Detach before anything else can go wrong: no probe outlives us. */
	tracer__free(s.tracer);
	table_cache__free(s.cache);
	launch__free(s.launch);
	recorder__free(s.rec);
	if (s.snapfile)
		outfile__abort(s.snapfile, 0);
	growth_table__fini(&s.growth);
	for (i = 0; i < s.nr_syms; i++)
		symbolizer__free(s.syms[i]);
	free(s.syms);
	sym_files__free(s.sym_files);
	for (i = 0; i < s.nr_reach; i++)
		reach__release(&s.reach[i]);
	free(s.reach);
	procs__free(s.procs);
	free(s.command);
	free(s.pending);
	free(s.pending_image);
	forwarders__free(s.fwd);
	tab_array_fini(&s.found);
	for (i = 0; i < nr_pidfds; i++)
		close(pidfds[i]);
	close(sfd);
	return err ? 1 : 0;
}
