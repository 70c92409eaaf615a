/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * memscope-bpf: trace the heap of a running process (-p PID) or of a
 * command (-- CMD), then report what leaked and what made the peak; or
 * report again on a recording made while tracing (report FILE.msr).
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
#include "recording.h"
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
#define DEFAULT_MAX_LIVE	(1u << 19)

static const char usage[] =
"usage: memscope-bpf [OPTIONS] -p PID\n"
"       memscope-bpf [OPTIONS] -- CMD [ARGS...]\n"
"       memscope-bpf report FILE.msr [REPORT OPTIONS]\n"
"\n"
"Trace the heap allocations of a running process or a command with eBPF,\n"
"then report what is still allocated (leaks), from where, and what made\n"
"the peak. Needs root (CAP_BPF and CAP_PERFMON) and a kernel with BTF.\n"
"\n"
"  -p, --pid PID         attach to a running process\n"
"  -d, --duration SEC    stop after SEC seconds (default: when the target\n"
"                        exits, or on Ctrl-C)\n"
"  -w, --write FILE.msr  also record the events, and what is needed to\n"
"                        report on them offline, to FILE.msr (written as\n"
"                        FILE.msr.partial until tracing ends)\n"
"  -o, --output FILE     also write the JSON report to FILE\n"
"      --html FILE       also write the HTML dashboard (one file, offline)\n"
"      --pprof FILE      also write a gzipped pprof profile (go tool pprof)\n"
"      --folded FILE     also write folded stacks (flame graph tools)\n"
"  -t, --top N           call sites per list (default 10, 0 = all)\n"
"  -m, --mode MODE       default: leaks and peak (entry, return and free\n"
"                        probes); alloc: allocation profile only (entry\n"
"                        probes, no returns, no frees: cheaper)\n"
"      --max-live N      live blocks the kernel counts exactly (default 524288)\n"
"      --stacks MODE     dwarf: unwind by the objects' CFI, in the kernel\n"
"                        (default); fp: follow frame pointers\n"
"      --max-depth N     frames per call stack (default 64, at most 256)\n"
"      --unwind-rows N   CFI rows the kernel holds, for every object\n"
"                        (default 1048576, 16 bytes each)\n"
"  -q, --quiet           no status line\n"
"  -v, --verbose         list every probe (object, symbol, offset), and\n"
"                        each object's unwind table when tracing ends\n"
"\n"
"Programs that declare tasks, variables and passports (include/memscope.h)\n"
"are traced through their USDT probes too; the inference rules take:\n"
"      --idle-threshold SEC  a task never completed and idle this long is a\n"
"                        zombie candidate (default 1)\n"
"      --storm-clones N  more than N clones of one block ... (default 16)\n"
"      --storm-window SEC  ... within this window are a storm (default 0.1)\n"
"\n"
"  -h, --help            this help\n"
"  -V, --version         print the version\n"
"\n"
"report FILE.msr: the report of a recording, from the file alone (no root,\n"
"no target): the same text the traced run printed, and any of\n"
"  -o, --output FILE, --html FILE, --pprof FILE, --folded FILE\n"
"  -t, --top N           (default: the --top the recording was made with)\n"
"  --idle-threshold, --storm-clones, --storm-window as above (default: the\n"
"                        ones the recording was made with)\n"
"A damaged or cut-short recording (FILE.msr.partial of a killed run) is\n"
"reported up to the damage, with one line saying where; exit status 1.\n"
"\n"
"examples:\n"
"  sudo memscope-bpf -p 4242 -d 30 -o leaks.json\n"
"  sudo memscope-bpf -- ./server --port 8080\n"
"  sudo memscope-bpf --mode=alloc -p $(pidof myservice) -d 10\n"
"  sudo memscope-bpf -w trace.msr -- ./server --port 8080\n"
"  memscope-bpf report trace.msr --html r.html --pprof p.pb.gz\n"
"  memscope-bpf report trace.msr -t 0 -o r.json --folded f.txt\n";

/* What a report can also be written as, beside the text on stdout. */
enum export {
	EXPORT_JSON,
	EXPORT_HTML,
	EXPORT_PPROF,
	EXPORT_FOLDED,
	EXPORT__COUNT,
};

static int (*const exporters[EXPORT__COUNT])(const struct report *,
					     const char *) = {
	[EXPORT_JSON] = report__write_json,
	[EXPORT_HTML] = report__write_html,
	[EXPORT_PPROF] = report__write_pprof,
	[EXPORT_FOLDED] = report__write_folded,
};

/* Long options without a short one. */
enum {
	OPT_MAX_LIVE = 256,
	OPT_HTML,
	OPT_PPROF,
	OPT_FOLDED,
	OPT_IDLE,
	OPT_STORM_CLONES,
	OPT_STORM_WINDOW,
	OPT_STACKS,
	OPT_MAX_DEPTH,
	OPT_UNWIND_ROWS,
};

/* Both option tables list these: tracing and report write the same. */
#define OUTPUT_LONGOPTS							\
	{ "output", required_argument, NULL, 'o' },			\
	{ "html", required_argument, NULL, OPT_HTML },			\
	{ "pprof", required_argument, NULL, OPT_PPROF },		\
	{ "folded", required_argument, NULL, OPT_FOLDED },		\
	{ "top", required_argument, NULL, 't' },			\
	{ "idle-threshold", required_argument, NULL, OPT_IDLE },	\
	{ "storm-clones", required_argument, NULL, OPT_STORM_CLONES },	\
	{ "storm-window", required_argument, NULL, OPT_STORM_WINDOW }

struct opts {
	int pid;
	char **cmd;
	double duration;
	const char *record;	/* -w */
	const char *recording;	/* report FILE.msr */
	const char *exports[EXPORT__COUNT];
	size_t top;
	bool top_given;
	/* the inference rules' options, 0 for their defaults */
	__u64 idle_threshold_ns;
	__u64 storm_clones;
	__u64 storm_window_ns;
	bool alloc_only;
	bool quiet;
	bool verbose;
	__u32 max_live;
	bool stacks_fp;
	__u32 max_depth;
	__u32 unwind_rows;
};

struct session {
	struct opts o;
	struct store *store;
	struct symbolizer *sym;
	struct tracer *tracer;
	struct launch *launch;
	struct recorder *rec;	/* -w; NULL once finished */
	/* what a recording's header holds: the target and when it began */
	struct recording_info info;
	char *command;
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

static __u64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static __u64 now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
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

/*
 * The options tracing and report share: what to write, and how much of
 * it. 0 when c was one of them, 2 for a bad value, 1 when c is not one.
 */
/* Seconds (fractions allowed) as ns; -EINVAL unless a number > 0. */
static int parse_secs(const char *s, __u64 *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e9)
		return -EINVAL;
	*ns = (__u64)(v * 1e9);
	return 0;
}

/* A --NAME SEC option: 0, or 2 (usage error) after saying why. */
static int secs_opt(const char *arg, const char *name, __u64 *ns)
{
	if (!parse_secs(arg, ns))
		return 0;
	die_line("invalid --%s '%s': expected seconds > 0", name, arg);
	return 2;
}

static int parse_output_opt(int c, const char *arg, struct opts *o)
{
	unsigned long long v;

	switch (c) {
	case 'o':
		o->exports[EXPORT_JSON] = arg;
		return 0;
	case OPT_HTML:
		o->exports[EXPORT_HTML] = arg;
		return 0;
	case OPT_PPROF:
		o->exports[EXPORT_PPROF] = arg;
		return 0;
	case OPT_FOLDED:
		o->exports[EXPORT_FOLDED] = arg;
		return 0;
	case 't':
		if (parse_uint(arg, 1000000, &v)) {
			die_line("invalid --top '%s'", arg);
			return 2;
		}
		o->top = v;
		o->top_given = true;
		return 0;
	case OPT_IDLE:
		return secs_opt(arg, "idle-threshold", &o->idle_threshold_ns);
	case OPT_STORM_CLONES:
		if (parse_uint(arg, 1u << 30, &v) || !v) {
			die_line("invalid --storm-clones '%s': expected a count > 0",
				 arg);
			return 2;
		}
		o->storm_clones = v;
		return 0;
	case OPT_STORM_WINDOW:
		return secs_opt(arg, "storm-window", &o->storm_window_ns);
	default:
		return 1;
	}
}

/* getopt's own messages would make a second line: say it once. */
static int bad_option(int c, char **argv)
{
	if (c == ':')
		die_line("option '%s' needs a value (see --help)",
			 argv[optind - 1]);
	else
		die_line("unknown option '%s' (see --help)", argv[optind - 1]);
	return 2;
}

/* 0, or the exit code: 2 for usage errors, and -1 to exit 0 (help). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "write", required_argument, NULL, 'w' },
		OUTPUT_LONGOPTS,
		{ "mode", required_argument, NULL, 'm' },
		{ "max-live", required_argument, NULL, OPT_MAX_LIVE },
		{ "stacks", required_argument, NULL, OPT_STACKS },
		{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
		{ "unwind-rows", required_argument, NULL, OPT_UNWIND_ROWS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	unsigned long long v;
	char *end;
	int c, err;

	o->top = DEFAULT_TOP;
	o->max_live = DEFAULT_MAX_LIVE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:d:w:o:t:m:qvhV", longopts,
				NULL)) != -1) {
		err = parse_output_opt(c, optarg, o);
		if (err != 1) {
			if (err)
				return err;
			continue;
		}
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
		case 'w':
			o->record = optarg;
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
		case OPT_MAX_LIVE:
			if (parse_uint(optarg, 1u << 24, &v) || !v) {
				die_line("invalid --max-live '%s'", optarg);
				return 2;
			}
			o->max_live = v;
			break;
		case OPT_STACKS:
			if (!strcmp(optarg, "fp")) {
				o->stacks_fp = true;
			} else if (strcmp(optarg, "dwarf")) {
				die_line("unknown --stacks '%s': use dwarf or fp",
					 optarg);
				return 2;
			}
			break;
		case OPT_MAX_DEPTH:
			if (parse_uint(optarg, MS_MAX_STACK, &v) || !v) {
				die_line("invalid --max-depth '%s': expected 1 to %d frames",
					 optarg, MS_MAX_STACK);
				return 2;
			}
			o->max_depth = v;
			break;
		case OPT_UNWIND_ROWS:
			if (parse_uint(optarg, 1u << 26, &v) || !v) {
				die_line("invalid --unwind-rows '%s': expected 1 to %u rows",
					 optarg, 1u << 26);
				return 2;
			}
			o->unwind_rows = v;
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
		default:
			return bad_option(c, argv);
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

/* `report FILE.msr [OPTIONS]`, argv[0] being "report". Same returns. */
static int parse_report_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		OUTPUT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c, err;

	opterr = 0;
	/* Options may come before or after the file: permute. */
	while ((c = getopt_long(argc, argv, ":o:t:h", longopts,
				NULL)) != -1) {
		err = parse_output_opt(c, optarg, o);
		if (err != 1) {
			if (err)
				return err;
			continue;
		}
		if (c != 'h')
			return bad_option(c, argv);
		fputs(usage, stdout);
		return -1;
	}
	if (optind + 1 != argc) {
		die_line(optind == argc ?
			 "report: give the recording to report on (see --help)" :
			 "report: give one recording, not several (see --help)");
		return 2;
	}
	o->recording = argv[optind];
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

	/*
	 * Recorded as delivered, whatever the store makes of it: a replay
	 * applies it to a store of its own. Recording errors stick and are
	 * reported once, when the recording is finished.
	 */
	if (s->rec)
		recorder__add(s->rec, e);
	err = store__apply(s->store, e);
	if (err)
		return err;
	/* A new stack: its objects must be known while the target lives. */
	if (store__nr_stacks(s->store) != before && e->nr_frames)
		return pending_add(s, e->frames, e->nr_frames);
	return 0;
}

static unsigned resolve_frame(void *ctx, __u64 addr, const struct frame **out)
{
	return symbolizer__resolve(ctx, addr, out);
}

static void drain(struct session *s)
{
	tracer__drain(s->tracer);
	if (!s->nr_pending)
		return;
	symbolizer__cover(s->sym, s->pending, s->nr_pending);
	/* Errors stick in the recorder and are reported when it finishes. */
	if (s->rec)
		recorder__symbols(s->rec, s->pending, s->nr_pending,
				  resolve_frame, s->sym);
	s->nr_pending = 0;
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
	__u64 deadline = 0, next_status = 0, next_flush, now;
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
	next_flush = now_ns() + RECORDING_FLUSH_NS;

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
		/* What a killed tool leaves is at most this old. */
		if (s->rec && now >= next_flush) {
			recorder__flush(s->rec);
			next_flush = now + RECORDING_FLUSH_NS;
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

/*
 * The one way from a store to the reports, for a trace and for a replay:
 * a recording's header (info) and trailer (end) hold exactly what the
 * report needs beside the store, so the live run passes the same two.
 * Without a trailer (a cut recording) there are no kernel counters or
 * probes, the trace lasted at least until its last record, and drops are
 * the records the store refused.
 */
static int write_reports(const struct store *st,
			 const struct recording_info *info,
			 const struct recording_end *end, __u64 refused,
			 frame_resolve_fn resolve, void *resolve_ctx,
			 const struct opts *o)
{
	struct report_opts ro = {
		.top = o->top,
		.resolve = resolve,
		.resolve_ctx = resolve_ctx,
		.idle_threshold_ns = o->idle_threshold_ns,
		.storm_clones = o->storm_clones,
		.storm_window_ns = o->storm_window_ns,
	};
	struct report_target tgt = {
		.pid = info->pid,
		.command = info->command,
		.mode = info->mode,
		.start_ns = info->start_ns,
	};
	__u64 stop_ns = end ? end->end_ns : store__summary(st)->last_ns;
	struct report *r;
	int err, i, e;

	if (stop_ns > info->start_ns)
		tgt.duration_ns = stop_ns - info->start_ns;
	if (end) {
		tgt.exited = end->exited;
		tgt.exit_status = end->exit_status;
	}
	r = report__build(st, &tgt, end ? &end->kernel : NULL,
			  end ? end->probes : NULL, end ? end->nr_probes : 0,
			  &ro);
	if (!r) {
		die_line("cannot build the report: %s", strerror(errno));
		return -ENOMEM;
	}
	r->consumer_drops = end ? end->consumer_drops : refused;
	err = report__write_text(r, stdout);
	fflush(stdout);
	for (i = 0; i < EXPORT__COUNT; i++) {
		if (!o->exports[i])
			continue;
		e = exporters[i](r, o->exports[i]);
		if (e)
			die_line("cannot write %s: %s", o->exports[i],
				 strerror(-e));
		if (!err)
			err = e;
	}
	report__free(r);
	return err;
}

/* The trailer of a live trace: recorded, then reported from. */
static int finish_trace(struct session *s)
{
	struct recording_end end = {
		.end_ns = s->end_ns,
		.consumer_drops = tracer__drops(s->tracer),
		.exited = s->target_exited,
		.exit_status = s->exit_status,
	};
	int err = 0, rerr;

	tracer__counters(s->tracer, &end.kernel);
	end.probes = tracer__probes(s->tracer, &end.nr_probes);
	if (s->rec) {
		/* Symbolized now, while the symbolizer still can. */
		err = recorder__finish(s->rec, s->store, resolve_frame, s->sym,
				       &end);
		s->rec = NULL;
		if (err)
			die_line("cannot write recording %s: %s", s->o.record,
				 strerror(-err));
	}
	rerr = write_reports(s->store, &s->info, &end, 0, resolve_frame,
			     s->sym, &s->o);
	return err ? err : rerr;
}

/* Fails before tracing if a report could not be written after it. */
static int check_outputs(const struct opts *o)
{
	struct outfile *of;
	int i, err;

	for (i = 0; i < EXPORT__COUNT; i++) {
		if (!o->exports[i])
			continue;
		of = outfile__new(o->exports[i]);
		if (!of) {
			err = -errno;
			die_line("cannot write %s: %s", o->exports[i],
				 strerror(-err));
			return err;
		}
		outfile__abort(of);
	}
	return 0;
}

/* Skipped USDT probes cost declarations, not the trace: say so once. */
static void warn_skipped(const struct tracer *t)
{
	unsigned int nr;
	const char *w = tracer__warning(t, &nr);

	if (w)
		fprintf(stderr,
			"memscope-bpf: warning: %u USDT probe%s skipped, their declarations are missing (first: %s)\n",
			nr, nr == 1 ? "" : "s", w);
}

static bool map_stop(void *ctx)
{
	return tracer__map_stop(ctx);
}

/* Objects whose frames could not be unwound for want of rows: say so. */
static void warn_unwind(const struct session *s)
{
	__u32 cap = 0, full = tracer__unwind_full(s->tracer, &cap);

	if (s->o.verbose)
		tracer__print_unwind(s->tracer);
	if (full)
		fprintf(stderr,
			"memscope-bpf: warning: %u object%s got no unwind table: the %u rows were full (raise --unwind-rows); their frames end stacks as not_loaded\n",
			full, full == 1 ? "" : "s", cap);
}

static int start_target(struct session *s)
{
	struct tracer_opts to = {
		.alloc_only = s->o.alloc_only,
		.launch = s->o.cmd,
		.stacks_fp = s->o.stacks_fp,
		.max_depth = s->o.max_depth,
		.unwind_rows = s->o.unwind_rows,
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
		s->info.pid = launch__pid(s->launch);
	} else {
		s->info.pid = s->o.pid;
	}
	to.pid = s->info.pid;
	s->tracer = tracer__new(&to);
	if (!s->tracer) {
		err = -errno;
		die_line("cannot load the BPF programs: %s%s", strerror(-err),
			 err == -EPERM ? " (are you root?)" : "");
		return err;
	}
	if (s->launch) {
		launch__on_stop(s->launch, map_stop, s->tracer);
		err = tracer__attach_command(s->tracer,
					     launch__path(s->launch));
	}
	else
		err = tracer__attach_process(s->tracer);
	if (err) {
		if (s->launch)
			die_line("cannot trace %s: %s", s->o.cmd[0],
				 tracer__error(s->tracer));
		else
			die_line("cannot attach to pid %d: %s", s->info.pid,
				 tracer__error(s->tracer));
		return err;
	}
	s->sym = symbolizer__new(s->info.pid);
	if (!s->sym) {
		die_line("cannot set up symbolization: %s", strerror(errno));
		return -errno;
	}
	if (s->o.verbose)
		tracer__print_probes(s->tracer);
	warn_skipped(s->tracer);
	s->info.wall_ns = clock_ns(CLOCK_REALTIME);
	s->info.start_ns = now_ns();
	if (s->rec) {
		err = recorder__start(s->rec, &s->info);
		if (err) {
			die_line("cannot write recording %s: %s", s->o.record,
				 strerror(-err));
			return err;
		}
	}
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
				 s->info.pid);
			return err;
		}
	}
	fprintf(stderr, "memscope-bpf: tracing pid %d, Ctrl-C to stop\n",
		s->info.pid);
	return 0;
}

/* The header fields known before anything runs. */
static int session_init(struct session *s)
{
	s->info.tool_version = MEMSCOPE_VERSION;
	s->info.mode = s->o.alloc_only ? "alloc" : "default";
	s->info.top = s->o.top;
	s->info.idle_threshold_ns = s->o.idle_threshold_ns;
	s->info.storm_clones = s->o.storm_clones;
	s->info.storm_window_ns = s->o.storm_window_ns;
	if (s->o.cmd) {
		s->command = join_cmd(s->o.cmd);
		if (!s->command)
			return -ENOMEM;
		s->info.command = s->command;
	}
	s->store = store__new();
	return s->store ? 0 : -ENOMEM;
}

static int trace_main(int argc, char **argv)
{
	struct session s = {};
	sigset_t old;
	int sfd, pidfd = -1, err;

	err = parse_args(argc, argv, &s.o);
	if (err)
		return err < 0 ? 0 : err;
	libbpf_set_print(s.o.verbose ? libbpf_verbose : libbpf_quiet);
	if (check_environment())
		return 1;
	if (check_outputs(&s.o))
		return 1;
	sfd = setup_signals(&old);
	if (sfd < 0) {
		die_line("cannot set up signals: %s", strerror(errno));
		return 1;
	}
	err = session_init(&s);
	if (err) {
		die_line("out of memory");
		goto out;
	}
	if (s.o.record) {
		s.rec = recorder__new(s.o.record);
		if (!s.rec) {
			err = -errno;
			if (err == -EEXIST)
				die_line("cannot write recording %s: %s" RECORDING_PARTIAL " exists (a recording in progress, or one a killed run left: report on it or remove it)",
					 s.o.record, s.o.record);
			else
				die_line("cannot write recording %s: %s",
					 s.o.record, strerror(-err));
			goto out;
		}
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
	if (!err) {
		warn_unwind(&s);
		err = finish_trace(&s);
	}
out:
	/* Detach before anything else can go wrong: no probe outlives us. */
	tracer__free(s.tracer);
	launch__free(s.launch);
	recorder__free(s.rec);
	symbolizer__free(s.sym);
	store__free(s.store);
	free(s.command);
	free(s.pending);
	if (pidfd >= 0)
		close(pidfd);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err ? 1 : 0;
}

struct replay {
	struct store *store;
	__u64 refused;
};

/* As the live consumer does: a record the store refuses is counted. */
static int replay_event(void *ctx, const struct ms_event *e)
{
	struct replay *rp = ctx;

	if (store__apply(rp->store, e))
		rp->refused++;
	return 0;
}

/* memscope-bpf report FILE.msr: the reports again, from the file alone. */
static int report_main(int argc, char **argv)
{
	struct opts o = {};
	struct replay rp = {};
	const struct recording_info *info;
	const struct recording_damage *dmg;
	struct recording *rec;
	bool damaged = false;
	FILE *f;
	int err;

	err = parse_report_args(argc, argv, &o);
	if (err)
		return err < 0 ? 0 : err;
	if (check_outputs(&o))
		return 1;
	f = fopen(o.recording, "rb");
	rec = f ? recording__new(f) : NULL;
	if (!rec) {
		die_line("cannot read recording %s: %s", o.recording,
			 strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	err = recording__read_header(rec);
	if (err) {
		die_line("cannot read recording %s: %s", o.recording,
			 recording__error(rec));
		goto out;
	}
	info = recording__info(rec);
	if (!o.top_given)
		o.top = info->top;
	/* Rules not given here are the traced run's: 0 is never given. */
	if (!o.idle_threshold_ns)
		o.idle_threshold_ns = info->idle_threshold_ns;
	if (!o.storm_clones)
		o.storm_clones = info->storm_clones;
	if (!o.storm_window_ns)
		o.storm_window_ns = info->storm_window_ns;
	rp.store = store__new();
	if (!rp.store) {
		err = -ENOMEM;
		die_line("out of memory");
		goto out;
	}
	err = recording__replay(rec, replay_event, &rp);
	if (err == -EBADMSG) {
		dmg = recording__damage(rec);
		die_line("recording %s is damaged at byte %llu: %s; reporting the %llu record%s before it",
			 o.recording, (unsigned long long)dmg->offset,
			 dmg->what, (unsigned long long)dmg->records,
			 dmg->records == 1 ? "" : "s");
		damaged = true;
	} else if (err) {
		die_line("cannot read recording %s: %s", o.recording,
			 strerror(-err));
		goto out;
	}
	err = write_reports(rp.store, info, recording__end(rec), rp.refused,
			    recording__resolve, rec, &o);
out:
	store__free(rp.store);
	recording__free(rec);
	return err || damaged ? 1 : 0;
}

int main(int argc, char **argv)
{
	/* A command named "report" is traced with: memscope-bpf -- report */
	if (argc > 1 && !strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	return trace_main(argc, argv);
}
