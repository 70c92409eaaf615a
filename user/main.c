// SPDX-License-Identifier: (MIT OR Apache-2.0)
/*
 * memscope-bpf: trace the heap of a running process (-p PID) or of a
 * command (-- CMD), then report what leaked and what made the peak.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include "launch.h"
#include "outfile.h"
#include "report.h"
#include "store.h"
#include "symbolizer.h"
#include "trace.h"

#ifndef MEMSCOPE_VERSION
#define MEMSCOPE_VERSION "0.0.0"
#endif

/* How often the ring is drained when nothing forces a wakeup. */
#define DRAIN_INTERVAL_MS	10
/* Event to status line in under 200 ms: the drain plus one redraw. */
#define STATUS_INTERVAL_NS	100000000ULL
#define DEFAULT_TOP		10
#define DEFAULT_MAX_LIVE	(1u << 20)

static const char usage[] =
"usage: memscope-bpf [OPTIONS] -p PID\n"
"       memscope-bpf [OPTIONS] -- CMD [ARGS...]\n"
"\n"
"Trace the heap allocations of a running process or a command with eBPF,\n"
"then report what is still allocated (leaks), from where, and what made\n"
"the peak. Needs root (CAP_BPF and CAP_PERFMON) and a kernel with BTF.\n"
"\n"
"  -p, --pid PID         attach to a running process\n"
"  -d, --duration SEC    stop after SEC seconds (default: when the target\n"
"                        exits, or on Ctrl-C)\n"
"  -o, --output FILE     also write the JSON report to FILE\n"
"  -t, --top N           call sites per list (default 10, 0 = all)\n"
"  -m, --mode MODE       default: leaks and peak (entry, return and free\n"
"                        probes); alloc: allocation profile only (entry\n"
"                        probes, no returns, no frees: cheaper)\n"
"      --max-live N      kernel table of live blocks (default 1048576)\n"
"  -q, --quiet           no status line\n"
"  -v, --verbose         list every probe (object, symbol, offset)\n"
"  -h, --help            this help\n"
"  -V, --version         print the version\n"
"\n"
"examples:\n"
"  sudo memscope-bpf -p 4242 -d 30 -o leaks.json\n"
"  sudo memscope-bpf -- ./server --port 8080\n"
"  sudo memscope-bpf --mode=alloc -p $(pidof myservice) -d 10\n";

struct opts {
	int pid;
	char **cmd;
	double duration;
	const char *output;
	size_t top;
	bool alloc_only;
	bool quiet;
	bool verbose;
	__u32 max_live;
};

struct session {
	struct opts o;
	struct store *store;
	struct symbolizer *sym;
	struct tracer *tracer;
	struct launch *launch;
	int pid;
	__u64 start_ns;
	__u64 end_ns;		/* tracing stopped; detaching takes a while */
	bool target_exited;
	int exit_status;
	bool status_shown;

	/* addresses of stacks first seen since the last drain */
	__u64 *pending;
	size_t nr_pending, cap_pending;
};

static void die_line(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Every user-facing error is this one line on stderr. */
static void die_line(const char *fmt, ...)
{
	va_list ap;

	fputs("memscope-bpf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int parse_uint(const char *s, unsigned long long max,
		      unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out > max)
		return -EINVAL;
	return 0;
}

/* 0, or the exit code: 2 for usage errors, and -1 to exit 0 (help). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "top", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "max-live", required_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	unsigned long long v;
	char *end;
	int c;

	o->top = DEFAULT_TOP;
	o->max_live = DEFAULT_MAX_LIVE;
	/* getopt's own messages would make a second line: say it once. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:d:o:t:m:qvhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, INT_MAX, &v) || !v) {
				die_line("invalid pid '%s': expected a positive number",
					 optarg);
				return 2;
			}
			o->pid = v;
			break;
		case 'd':
			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(o->duration > 0)) {
				die_line("invalid duration '%s': expected seconds > 0",
					 optarg);
				return 2;
			}
			break;
		case 'o':
			o->output = optarg;
			break;
		case 't':
			if (parse_uint(optarg, 1000000, &v)) {
				die_line("invalid --top '%s'", optarg);
				return 2;
			}
			o->top = v;
			break;
		case 'm':
			if (!strcmp(optarg, "alloc")) {
				o->alloc_only = true;
			} else if (strcmp(optarg, "default")) {
				die_line("unknown mode '%s': use default or alloc",
					 optarg);
				return 2;
			}
			break;
		case 'L':
			if (parse_uint(optarg, 1u << 28, &v) || !v) {
				die_line("invalid --max-live '%s'", optarg);
				return 2;
			}
			o->max_live = v;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		case 'V':
			printf("memscope-bpf %s\n", MEMSCOPE_VERSION);
			return -1;
		case ':':
			die_line("option '%s' needs a value (see --help)",
				 argv[optind - 1]);
			return 2;
		default:
			die_line("unknown option '%s' (see --help)",
				 argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc)
		o->cmd = &argv[optind];
	if (!o->pid == !o->cmd) {
		die_line(o->pid ? "give either -p PID or -- CMD, not both" :
				  "nothing to trace: give -p PID or -- CMD (see --help)");
		return 2;
	}
	return 0;
}

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
		die_line("cannot read capabilities: %s", strerror(errno));
		return -errno;
	}
#define HAS_CAP(c) (!!(data[(c) / 32].effective & (1u << ((c) % 32))))
	has_bpf = HAS_CAP(39);		/* CAP_BPF */
	has_perfmon = HAS_CAP(38);	/* CAP_PERFMON */
	has_admin = HAS_CAP(CAP_SYS_ADMIN);
#undef HAS_CAP
	if (!has_admin && !(has_bpf && has_perfmon)) {
		die_line("permission denied: run as root (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");
		return -EPERM;
	}
	if (!btf)
		btf = "/sys/kernel/btf/vmlinux";
	if (access(btf, R_OK)) {
		die_line("no kernel BTF at %s: this kernel was built without CONFIG_DEBUG_INFO_BTF, which memscope-bpf needs",
			 btf);
		return -ENOTSUP;
	}
	return 0;
}

static int pending_add(struct session *s, const __u64 *addrs, unsigned n)
{
	if (s->nr_pending + n > s->cap_pending) {
		size_t cap = (s->cap_pending + n) * 2;
		__u64 *p = realloc(s->pending, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->pending = p;
		s->cap_pending = cap;
	}
	memcpy(s->pending + s->nr_pending, addrs, n * sizeof(*addrs));
	s->nr_pending += n;
	return 0;
}

static int on_event(void *ctx, const struct ms_event *e)
{
	struct session *s = ctx;
	__u32 before = store__nr_stacks(s->store);
	int err;

	err = store__apply(s->store, e);
	if (err)
		return err;
	/* A new stack: its objects must be known while the target lives. */
	if (store__nr_stacks(s->store) != before && e->nr_frames)
		return pending_add(s, e->frames, e->nr_frames);
	return 0;
}

static void drain(struct session *s)
{
	tracer__drain(s->tracer);
	if (s->nr_pending) {
		symbolizer__cover(s->sym, s->pending, s->nr_pending);
		s->nr_pending = 0;
	}
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
		(unsigned long long)store__summary(s->store)->events, live,
		(unsigned long long)c.live_blocks, peak,
		(unsigned long long)c.lost_events);
	s->status_shown = true;
}

static int setup_signals(sigset_t *old)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, old))
		return -1;
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int pidfd_open(int pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* One signalfd read: true when tracing should stop. */
static bool handle_signals(struct session *s, int sfd)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			stop = true;
	}
	if (!s->launch)
		return stop;
	switch (launch__poll(s->launch)) {
	case LAUNCH_EXITING:
		/* Last chance to see its maps: drain and cover, then let go. */
		drain(s);
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

static int trace_loop(struct session *s, int sfd, int pidfd)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];
	__u64 deadline = 0, next_status = 0, now;
	int ep, n, i;
	bool stop = false, status = !s->o.quiet && isatty(2);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tracer__fd(s->tracer);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	if (pidfd >= 0) {
		ev.data.fd = pidfd;
		epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev);
	}
	if (s->o.duration > 0)
		deadline = now_ns() + (__u64)(s->o.duration * 1e9);

	while (!stop) {
		n = epoll_wait(ep, evs, 4, DRAIN_INTERVAL_MS);
		drain(s);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd && handle_signals(s, sfd))
				stop = true;
			if (pidfd >= 0 && evs[i].data.fd == pidfd) {
				s->target_exited = true;
				stop = true;
			}
		}
		now = now_ns();
		if (deadline && now >= deadline)
			stop = true;
		if (status && now >= next_status) {
			status_line(s);
			next_status = now + STATUS_INTERVAL_NS;
		}
	}
	s->end_ns = now_ns();
	/* No more probes: a -p target stops paying now, not after the report. */
	tracer__detach(s->tracer);
	drain(s);
	if (s->status_shown)
		fputs("\r\033[K", stderr);
	close(ep);
	return 0;
}

static void resolve_frame(void *ctx, __u64 addr, struct report_frame *out)
{
	struct sym_frame f;

	symbolizer__resolve(ctx, addr, &f);
	out->addr = addr;
	out->function = f.function;
	out->file = f.file;
	out->line = f.line;
	out->object = f.object;
	out->object_offset = f.object_offset;
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

static int write_reports(struct session *s)
{
	struct report_opts ro = {
		.top = s->o.top,
		.resolve = resolve_frame,
		.resolve_ctx = s->sym,
	};
	struct report_target tgt = {
		.pid = s->pid,
		.mode = s->o.alloc_only ? "alloc" : "default",
		.start_ns = s->start_ns,
		.duration_ns = s->end_ns - s->start_ns,
		.exited = s->target_exited,
		.exit_status = s->exit_status,
	};
	const struct report_probe *probes;
	struct ms_counters kc;
	struct report *r;
	size_t nr_probes;
	char *cmd = s->o.cmd ? join_cmd(s->o.cmd) : NULL;
	int err;

	tgt.command = cmd;
	tracer__counters(s->tracer, &kc);
	probes = tracer__probes(s->tracer, &nr_probes);
	r = report__build(s->store, &tgt, &kc, probes, nr_probes, &ro);
	free(cmd);
	if (!r) {
		die_line("cannot build the report: %s", strerror(errno));
		return -ENOMEM;
	}
	r->consumer_drops = tracer__drops(s->tracer);
	err = report__write_text(r, stdout);
	fflush(stdout);
	if (!err && s->o.output) {
		err = report__write_json(r, s->o.output);
		if (err)
			die_line("cannot write %s: %s", s->o.output,
				 strerror(-err));
	}
	report__free(r);
	return err;
}

/* Fails before tracing if the report could not be written after it. */
static int check_output(const char *path)
{
	struct outfile *of = outfile__new(path);

	if (!of) {
		die_line("cannot write %s: %s", path, strerror(errno));
		return -errno;
	}
	outfile__abort(of);
	return 0;
}

static void print_probes(const struct tracer *t)
{
	const struct report_probe *p;
	size_t n, i;

	p = tracer__probes(t, &n);
	for (i = 0; i < n; i++)
		fprintf(stderr,
			"memscope-bpf: probe %-9s %s+%llu (offset 0x%llx) in %s, %s\n",
			p[i].is_return ? "return" : "entry", p[i].symbol,
			(unsigned long long)p[i].func_offset,
			(unsigned long long)p[i].offset, p[i].object,
			p[i].emulated ? "emulated" : "single-stepped");
}

static int start_target(struct session *s)
{
	struct tracer_opts to = {
		.alloc_only = s->o.alloc_only,
		.max_live = s->o.max_live,
		.on_event = on_event,
		.ctx = s,
	};
	int err;

	if (s->o.cmd) {
		s->launch = launch__new(s->o.cmd);
		if (!s->launch) {
			die_line("cannot run %s: %s", s->o.cmd[0],
				 strerror(errno));
			return -errno;
		}
		s->pid = launch__pid(s->launch);
	} else {
		s->pid = s->o.pid;
	}
	to.pid = s->pid;
	s->tracer = tracer__new(&to);
	if (!s->tracer) {
		err = -errno;
		die_line("cannot load the BPF programs: %s%s", strerror(-err),
			 err == -EPERM ? " (are you root?)" : "");
		return err;
	}
	if (s->launch)
		err = tracer__attach_command(s->tracer,
					     launch__path(s->launch));
	else
		err = tracer__attach_process(s->tracer);
	if (err) {
		if (s->launch)
			die_line("cannot trace %s: %s", s->o.cmd[0],
				 tracer__error(s->tracer));
		else
			die_line("cannot attach to pid %d: %s", s->pid,
				 tracer__error(s->tracer));
		return err;
	}
	s->sym = symbolizer__new(s->pid);
	if (!s->sym) {
		die_line("cannot set up symbolization: %s", strerror(errno));
		return -errno;
	}
	if (s->o.verbose)
		print_probes(s->tracer);
	s->start_ns = now_ns();
	if (s->launch) {
		err = launch__start(s->launch);
		if (err) {
			die_line("cannot run %s: %s", s->o.cmd[0],
				 strerror(-err));
			return err;
		}
	} else {
		/* Read the maps now: the target may be gone by report time. */
		static const __u64 none;

		err = symbolizer__cover(s->sym, &none, 1);
		if (err == -ESRCH) {
			die_line("cannot attach to pid %d: no such process",
				 s->pid);
			return err;
		}
	}
	fprintf(stderr, "memscope-bpf: tracing pid %d, Ctrl-C to stop\n",
		s->pid);
	return 0;
}

int main(int argc, char **argv)
{
	struct session s = {};
	sigset_t old;
	int sfd, pidfd = -1, err;

	err = parse_args(argc, argv, &s.o);
	if (err)
		return err < 0 ? 0 : err;
	libbpf_set_print(s.o.verbose ? libbpf_verbose : libbpf_quiet);
	/* Symbolization reads local files only: never fetch over a network. */
	unsetenv("DEBUGINFOD_URLS");
	if (check_environment())
		return 1;
	if (s.o.output && check_output(s.o.output))
		return 1;
	sfd = setup_signals(&old);
	if (sfd < 0) {
		die_line("cannot set up signals: %s", strerror(errno));
		return 1;
	}
	s.store = store__new();
	if (!s.store) {
		die_line("out of memory");
		err = -ENOMEM;
		goto out;
	}
	if (s.o.pid) {
		pidfd = pidfd_open(s.o.pid);
		if (pidfd < 0) {
			die_line("cannot attach to pid %d: %s", s.o.pid,
				 errno == ESRCH ? "no such process" :
						  strerror(errno));
			err = -ESRCH;
			goto out;
		}
	}
	err = start_target(&s);
	if (err)
		goto out;
	err = trace_loop(&s, sfd, pidfd);
	if (!err)
		err = write_reports(&s);
out:
	/* Detach before anything else can go wrong: no probe outlives us. */
	tracer__free(s.tracer);
	launch__free(s.launch);
	symbolizer__free(s.sym);
	store__free(s.store);
	free(s.pending);
	if (pidfd >= 0)
		close(pidfd);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err ? 1 : 0;
}
