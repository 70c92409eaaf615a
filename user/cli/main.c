/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * memscope-bpf: trace the heap of a running process (-p PID) or of a
 * command (-- CMD), then report what leaked and what made the peak; or
 * report again on a recording made while tracing (report FILE.msr).
 *
 * This file is the command line: the option table, --help, and the
 * dispatch to the trace run (run.c) or the replay (export.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli.h"
#include "export.h"
#include "report.h"
#include "rules.h"
#include "run.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
/* What getopt_long returns for the rules' option k: past every letter. */
#define KEY_RULE_OPT		1024
#define DEFAULT_TOP		10
#define DEFAULT_TOP_PROCS	5
/* A program's ended images past this many fold into one entry (--fold). */
#define DEFAULT_FOLD		8
/* 3/8 of the map's default 1 Mi slots (LIVE_FILL_EIGHTHS) */
#define DEFAULT_MAX_LIVE	(3u << 17)

static const char usage_head[] =
"usage: memscope-bpf [OPTIONS] -p PID\n"
"       memscope-bpf [OPTIONS] -- CMD [ARGS...]\n"
"       memscope-bpf report FILE.msr [REPORT OPTIONS]\n"
"       memscope-bpf diff A.msr B.msr [-t N] [-o FILE] [--html FILE]\n"
"\n"
"Trace the heap allocations of a running process or a command with eBPF,\n"
"then report what is still allocated (leaks), from where, and what made\n"
"the peak. Needs root (CAP_BPF and CAP_PERFMON) and a kernel with BTF.\n"
"\n";

static const char usage_rules[] =
"\n"
"Programs that declare tasks, variables and passports (include/memscope.h)\n"
"are traced through their USDT probes too; the inference rules take:\n";

static const char usage_report[] =
"\n"
"report FILE.msr: the report of a recording, from the file alone (no root,\n"
"no target): the same text the traced run printed, and any of\n"
"  -o, --output FILE, --html FILE, --pprof FILE, --folded FILE\n"
"  --folded-weight W, --top-procs N, --fold N\n"
"  --older SEC, --min-size BYTES, --max-size BYTES, --snapshots FILE\n"
"  -t, --top N           (default: the --top the recording was made with)\n"
"  --snapshot N          print only snapshot N of a recording made with -i\n"
"  -i, --interval SEC    of a recording made without -i: a snapshot every\n"
"                        SEC seconds of it, from its records, as a live\n"
"                        -i run takes them\n"
"  --from T1 --to T2     instead of the report, the sites that grew most\n"
"                        between T1 and T2 seconds into the recording\n"
"                        (either may be left out: its start, its end);\n"
"                        -o writes them as JSON, --html as a page\n";

/* After the rules' options, "  --a, --b, --c". */
static const char usage_report_tail[] =
" as above (default: the\n"
"                        ones the recording was made with)\n"
"A damaged or cut-short recording (FILE.msr.partial of a killed run) is\n"
"reported up to the damage, with one line saying where; exit status 1.\n"
"\n"
"diff A.msr B.msr: the sites that grew most from the end of A to the end of\n"
"B (the same program's call stacks, matched by function, file and line);\n"
"-t N, -o FILE (JSON) and --html FILE as for report.\n"
"\n"
"examples:\n"
"  sudo memscope-bpf -p 4242 -d 30 -o leaks.json\n"
"  sudo memscope-bpf -- ./server --port 8080\n"
"  sudo memscope-bpf --mode=alloc -p $(pidof myservice) -d 10\n"
"  sudo memscope-bpf -w trace.msr -- ./server --port 8080\n"
"  memscope-bpf report trace.msr --html r.html --pprof p.pb.gz\n"
"  memscope-bpf report trace.msr -t 0 -o r.json --folded f.txt\n"
"  memscope-bpf report trace.msr --older 60 --min-size 4096\n"
"  sudo memscope-bpf -i 5 -w svc.msr -p $(pidof myservice)\n"
"  memscope-bpf report svc.msr --snapshot 12\n"
"  memscope-bpf report svc.msr --from 60 --to 600 --html growth.html\n"
"  memscope-bpf diff monday.msr tuesday.msr -o growth.json\n";

/* What an option's setter returns: 0, 2 (usage error, said), or this. */
#define OPT_EXIT_OK		(-1)

/* An option's flags. */
#define OPT_ARG			(1u << 0)	/* takes a value */
#define OPT_REPORT		(1u << 1)	/* `report` takes it too */
#define OPT_TAIL		(1u << 2)	/* --help: after the rules' */
#define OPT_REPORT_ONLY		(1u << 3)	/* `report` alone takes it */

struct cli_option {
	const char *name;	/* --NAME */
	int letter;		/* -L, or 0 for a long option only */
	unsigned int flags;	/* OPT_* */
	int (*set)(struct opts *o, const char *arg);
	const char *help;	/* its lines of --help */
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("memscope-bpf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
	cli_error("invalid --%s '%s': expected seconds > 0", name, arg);
	return 2;
}

/* -p PID[,PID...], repeatable: every pid joins the list once. */
static int set_pid(struct opts *o, const char *arg)
{
	char buf[32];
	const char *p = arg, *end;
	unsigned long long v;
	size_t i, len;

	do {
		end = strchrnul(p, ',');
		len = end - p;
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, p, len);
		buf[len] = 0;
		if (parse_uint(buf, INT_MAX, &v) || !v) {
			cli_error("invalid pid '%s': expected a positive number, or a comma-separated list",
				  arg);
			return 2;
		}
		for (i = 0; i < o->nr_pids && o->pids[i] != (int)v; i++)
			;
		if (i == o->nr_pids) {
			if (o->nr_pids == MAX_PIDS) {
				cli_error("too many pids: at most %d with -p (use --comm, --cgroup or -a)",
					  MAX_PIDS);
				return 2;
			}
			o->pids[o->nr_pids++] = v;
		}
		p = end + 1;
	} while (*end);
	o->pid = o->pids[0];
	return 0;
}

static int set_all(struct opts *o, const char *arg)
{
	(void)arg;
	o->all = true;
	return 0;
}

static int set_comm(struct opts *o, const char *arg)
{
	if (!*arg || strlen(arg) >= MS_COMM_LEN) {
		cli_error("invalid --comm '%s': a process name is 1 to %d characters (as in /proc/PID/comm)",
			  arg, MS_COMM_LEN - 1);
		return 2;
	}
	if (o->nr_comms == MS_MAX_COMMS) {
		cli_error("too many --comm: at most %d", MS_MAX_COMMS);
		return 2;
	}
	o->comms[o->nr_comms++] = (char *)arg;
	return 0;
}

static int set_cgroup(struct opts *o, const char *arg)
{
	o->cgroup = arg;
	return 0;
}

static int set_follow(struct opts *o, const char *arg)
{
	(void)arg;
	o->follow = true;
	return 0;
}

static int set_no_follow(struct opts *o, const char *arg)
{
	(void)arg;
	o->no_follow = true;
	return 0;
}

static int set_hold_exec(struct opts *o, const char *arg)
{
	(void)arg;
	o->hold_exec = true;
	return 0;
}

/* A count option from 1 to max, in unit: one message for all of them. */
static int count_arg(const char *name, const char *arg,
		     unsigned long long max, const char *unit, __u32 *out)
{
	unsigned long long v;

	if (parse_uint(arg, max, &v) || !v) {
		cli_error("invalid --%s '%s': expected 1 to %llu %s", name, arg,
			  max, unit);
		return 2;
	}
	*out = v;
	return 0;
}

static int set_max_procs(struct opts *o, const char *arg)
{
	return count_arg("max-procs", arg, 1u << 20, "processes", &o->max_procs);
}

static int set_duration(struct opts *o, const char *arg)
{
	char *end;

	errno = 0;
	o->duration = strtod(arg, &end);
	if (errno || end == arg || *end || !(o->duration > 0)) {
		cli_error("invalid duration '%s': expected seconds > 0", arg);
		return 2;
	}
	return 0;
}

static int set_write(struct opts *o, const char *arg)
{
	o->record = arg;
	return 0;
}

/* An output's path: "-" is stdout, once (two streams in one pipe is none). */
static int set_out(struct opts *o, const char *arg, const char **out)
{
	if (strcmp(arg, "-")) {
		*out = arg;
		return 0;
	}
	if (o->stdout_taken) {
		cli_error("only one output can be '-' (stdout)");
		return 2;
	}
	o->stdout_taken = true;
	*out = "/dev/stdout";
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcasecmp(s + n - t, tail);
}

/*
 * -o's file is JSON whatever its name: a name that says HTML is a mistake
 * (other tools pick the format by the name), refused before the trace
 * rather than found as JSON in a page after it.
 */
static int set_json(struct opts *o, const char *arg)
{
	if (ends_with(arg, ".html") || ends_with(arg, ".htm")) {
		cli_error("-o %s: -o writes the JSON report; the dashboard is --html %s",
			  arg, arg);
		return 2;
	}
	return set_out(o, arg, &o->exports[EXPORT_JSON]);
}

static int set_html(struct opts *o, const char *arg)
{
	return set_out(o, arg, &o->exports[EXPORT_HTML]);
}

static int set_pprof(struct opts *o, const char *arg)
{
	return set_out(o, arg, &o->exports[EXPORT_PPROF]);
}

static int set_folded(struct opts *o, const char *arg)
{
	return set_out(o, arg, &o->exports[EXPORT_FOLDED]);
}

static int set_folded_weight(struct opts *o, const char *arg)
{
	static const char *const names[] = {
		[REPORT_WEIGHT_LEAKS] = "leaks",
		[REPORT_WEIGHT_PEAK] = "peak",
		[REPORT_WEIGHT_ALLOCS] = "allocs",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(arg, names[i])) {
			o->folded_weight = i;
			return 0;
		}
	}
	cli_error("unknown --folded-weight '%s': use leaks, peak or allocs",
		  arg);
	return 2;
}

/* A bound from 0 (none) to max: --top, --top-procs, --fold. */
static int bound_arg(const char *name, const char *arg,
		     unsigned long long max, size_t *out)
{
	unsigned long long v;

	if (parse_uint(arg, max, &v)) {
		cli_error("invalid --%s '%s'", name, arg);
		return 2;
	}
	*out = v;
	return 0;
}

static int set_top(struct opts *o, const char *arg)
{
	o->top_given = true;
	return bound_arg("top", arg, 1000000, &o->top);
}

static int set_top_procs(struct opts *o, const char *arg)
{
	return bound_arg("top-procs", arg, 1000000, &o->top_procs);
}

static int set_fold(struct opts *o, const char *arg)
{
	o->fold_given = true;
	return bound_arg("fold", arg, 1000000000, &o->fold);
}

static int set_mode(struct opts *o, const char *arg)
{
	if (!trace_mode_parse(arg, &o->mode))
		return 0;
	cli_error("unknown mode '%s': use default or alloc", arg);
	return 2;
}

static int set_max_live(struct opts *o, const char *arg)
{
	return count_arg("max-live", arg, 1u << 24, "blocks", &o->max_live);
}

static int set_stacks(struct opts *o, const char *arg)
{
	if (!strcmp(arg, "fp")) {
		o->stacks_fp = true;
		return 0;
	}
	if (!strcmp(arg, "dwarf")) {
		o->stacks_fp = false;
		return 0;
	}
	cli_error("unknown --stacks '%s': use dwarf or fp", arg);
	return 2;
}

static int set_jit_frame_ptrs(struct opts *o, const char *arg)
{
	(void)arg;
	o->jit_frame_ptrs = true;
	return 0;
}

static int set_max_depth(struct opts *o, const char *arg)
{
	return count_arg("max-depth", arg, MS_MAX_STACK, "frames", &o->max_depth);
}

static int set_max_stacks(struct opts *o, const char *arg)
{
	return count_arg("max-stacks", arg, 1u << 30, "stacks", &o->max_stacks);
}

static int set_unwind_rows(struct opts *o, const char *arg)
{
	return count_arg("unwind-rows", arg, 1u << 26, "rows", &o->unwind_rows);
}

static int set_table_cache(struct opts *o, const char *arg)
{
	if (!*arg) {
		cli_error("invalid --table-cache '': expected a directory or off");
		return 2;
	}
	o->table_cache = arg;
	return 0;
}

static int set_ready_fd(struct opts *o, const char *arg)
{
	unsigned long long v;
	int flags;

	if (parse_uint(arg, INT_MAX, &v) || v <= 2 ||
	    (flags = fcntl(v, F_GETFD)) < 0) {
		cli_error("invalid --ready-fd '%s': expected an open file descriptor above 2",
			  arg);
		return 2;
	}
	/* Ours alone: a launched command must not hold it open. */
	fcntl(v, F_SETFD, flags | FD_CLOEXEC);
	o->ready_fd = v;
	return 0;
}

static int set_kill(struct opts *o, const char *arg)
{
	(void)arg;
	o->kill = true;
	return 0;
}

static int set_live(struct opts *o, const char *arg)
{
	(void)arg;
	o->live = true;
	return 0;
}

static int set_reachability(struct opts *o, const char *arg)
{
	(void)arg;
	o->reachability = true;
	return 0;
}

static int set_clone_window(struct opts *o, const char *arg)
{
	return secs_opt(arg, "clone-window", &o->clone_window_ns);
}

static int set_older(struct opts *o, const char *arg)
{
	return secs_opt(arg, "older", &o->older_ns);
}

/* A size in bytes, > 0. */
static int size_opt(const char *arg, const char *name, __u64 *out)
{
	unsigned long long v;

	if (!parse_uint(arg, ULLONG_MAX, &v) && v) {
		*out = v;
		return 0;
	}
	cli_error("invalid --%s '%s': expected bytes > 0", name, arg);
	return 2;
}

static int set_min_size(struct opts *o, const char *arg)
{
	return size_opt(arg, "min-size", &o->min_size);
}

static int set_max_size(struct opts *o, const char *arg)
{
	return size_opt(arg, "max-size", &o->max_size);
}

static int set_interval(struct opts *o, const char *arg)
{
	return secs_opt(arg, "interval", &o->interval_ns);
}

static int set_snapshots(struct opts *o, const char *arg)
{
	return set_out(o, arg, &o->snapshots);
}

static int set_snapshot(struct opts *o, const char *arg)
{
	unsigned long long v;

	if (parse_uint(arg, UINT32_MAX, &v) || !v) {
		cli_error("invalid --snapshot '%s': expected a snapshot number from 1",
			  arg);
		return 2;
	}
	o->snapshot = v;
	return 0;
}

/* A moment of a recording: seconds since it began, 0 allowed. */
static int moment_opt(const char *arg, const char *name, __u64 *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!errno && end != arg && !*end && v >= 0 && v <= 1e9) {
		*ns = (__u64)(v * 1e9);
		return 0;
	}
	cli_error("invalid --%s '%s': expected seconds since the recording began",
		  name, arg);
	return 2;
}

static int set_from(struct opts *o, const char *arg)
{
	o->from_given = true;
	return moment_opt(arg, "from", &o->from_ns);
}

static int set_to(struct opts *o, const char *arg)
{
	o->to_given = true;
	return moment_opt(arg, "to", &o->to_ns);
}

static int set_quiet(struct opts *o, const char *arg)
{
	(void)arg;
	o->quiet = true;
	return 0;
}

static int set_verbose(struct opts *o, const char *arg)
{
	(void)arg;
	o->verbose = true;
	return 0;
}

/* Option k of all the rules', in the table's order; NULL past them. */
static const struct rule_option *rule_option(size_t k)
{
	const struct rule *const *rules;
	size_t nr, i;

	if (k >= RECORDING_RULE_OPTS)
		return NULL;
	rules = rules__table(&nr);
	for (i = 0; i < nr; i++) {
		if (k < rules[i]->nr_opts)
			return &rules[i]->opts[k];
		k -= rules[i]->nr_opts;
	}
	return NULL;
}

static int set_rule_opt(struct opts *o, size_t k, const char *arg)
{
	const struct rule_option *ro = rule_option(k);
	unsigned long long v;

	switch (ro->type) {
	case RULE_OPT_SECS:
		return secs_opt(arg, ro->name, &o->rule_opts[k]);
	case RULE_OPT_COUNT:
		if (parse_uint(arg, ro->max, &v) || !v) {
			cli_error("invalid --%s '%s': expected a count > 0",
				  ro->name, arg);
			return 2;
		}
		o->rule_opts[k] = v;
		return 0;
	}
	return 2;
}

static int show_help(struct opts *o, const char *arg);

static int show_version(struct opts *o, const char *arg)
{
	(void)o;
	(void)arg;
	printf("memscope-bpf %s\n", MEMSCOPE_VERSION);
	return OPT_EXIT_OK;
}

/*
 * Every option, in the order of --help: adding one is a row here, its
 * setter above and its field in struct opts (cli.h). The inference
 * rules' options come from their table (user/rules/rules.h).
 */
static const struct cli_option options[] = {
	{ "pid", 'p', OPT_ARG, set_pid,
"  -p, --pid PID[,PID]   attach to running processes (repeatable)\n" },
	{ "all", 'a', 0, set_all,
"  -a, --all             every process on the host (narrowed by --comm,\n"
"                        --cgroup when given)\n" },
	{ "comm", 0, OPT_ARG, set_comm,
"      --comm NAME       processes named NAME, also after an exec\n"
"                        (repeatable)\n" },
	{ "cgroup", 0, OPT_ARG, set_cgroup,
"      --cgroup PATH     processes in this cgroup v2 directory or below\n"
"                        (a systemd unit, a container)\n" },
	{ "follow", 'f', 0, set_follow,
"  -f, --follow          also the children and exec'd programs of traced\n"
"                        processes (the default with -- CMD)\n" },
	{ "no-follow", 0, 0, set_no_follow,
"      --no-follow       -- CMD: trace the command's process only\n" },
	{ "hold-exec", 0, 0, set_hold_exec,
"      --hold-exec       -a, --comm, --cgroup, -f: stop a process that execs\n"
"                        or maps (dlopen) a file not probed yet until it\n"
"                        is (a static binary's or a dlopen'd allocator's\n"
"                        own malloc from its first call)\n" },
	{ "max-procs", 0, OPT_ARG, set_max_procs,
"      --max-procs N     processes traced at once (default 1024); more are\n"
"                        counted, not traced\n" },
	{ "duration", 'd', OPT_ARG, set_duration,
"  -d, --duration SEC    stop after SEC seconds (default: when the target\n"
"                        exits, or on Ctrl-C)\n" },
	{ "write", 'w', OPT_ARG, set_write,
"  -w, --write FILE.msr  also record the events, and what is needed to\n"
"                        report on them offline, to FILE.msr (written as\n"
"                        FILE.msr.partial until tracing ends)\n" },
	{ "output", 'o', OPT_ARG | OPT_REPORT, set_json,
"  -o, --output FILE     also write the JSON report to FILE (-: stdout, and\n"
"                        the text report to stderr; so for every output;\n"
"                        a FILE.html is refused: the page is --html)\n" },
	{ "html", 0, OPT_ARG | OPT_REPORT, set_html,
"      --html FILE       also write the HTML dashboard (one file, offline)\n" },
	{ "pprof", 0, OPT_ARG | OPT_REPORT, set_pprof,
"      --pprof FILE      also write a gzipped pprof profile (go tool pprof)\n" },
	{ "folded", 0, OPT_ARG | OPT_REPORT, set_folded,
"      --folded FILE     also write folded stacks (flame graph tools)\n" },
	{ "folded-weight", 0, OPT_ARG | OPT_REPORT, set_folded_weight,
"      --folded-weight W what a folded stack weighs: leaks (bytes live at\n"
"                        the end, the default), peak (live at the peak)\n"
"                        or allocs (allocated); --mode=alloc: allocs\n" },
	{ "top", 't', OPT_ARG | OPT_REPORT, set_top,
"  -t, --top N           call sites per list (default 10, 0 = all)\n" },
	{ "top-procs", 0, OPT_ARG | OPT_REPORT, set_top_procs,
"      --top-procs N     processes whose call sites the text report shows,\n"
"                        by live bytes (default 5, 0 = all); its process\n"
"                        table lists 50 images, or N if more (0 = all)\n" },
	{ "fold", 0, OPT_ARG | OPT_REPORT, set_fold,
"      --fold N          a program (by its comm) with more than N ended\n"
"                        images has them in one entry of the reports,\n"
"                        their figures added up (default 8, 0 = never;\n"
"                        report: the recording's): -a on a busy host,\n"
"                        bounded\n" },
	{ "mode", 'm', OPT_ARG, set_mode,
"  -m, --mode MODE       default: leaks and peak (entry, return and free\n"
"                        probes); alloc: allocation profile only (entry\n"
"                        probes, no returns, no frees: cheaper)\n" },
	{ "max-live", 0, OPT_ARG, set_max_live,
"      --max-live N      live blocks the kernel counts exactly (default 393216)\n" },
	{ "stacks", 0, OPT_ARG, set_stacks,
"      --stacks MODE     dwarf: unwind by the objects' CFI, in the kernel\n"
"                        (default); fp: follow frame pointers\n" },
	{ "jit-frame-pointers", 0, 0, set_jit_frame_ptrs,
"      --jit-frame-pointers  walk code of no file (a JIT's) by its frame\n"
"                        pointers, which its runtime keeps (node; Java\n"
"                        with -XX:+PreserveFramePointer)\n" },
	{ "max-depth", 0, OPT_ARG, set_max_depth,
"      --max-depth N     frames per call stack (default 128, at most 256)\n" },
	{ "max-stacks", 0, OPT_ARG | OPT_REPORT, set_max_stacks,
"      --max-stacks N    distinct call stacks kept per process image\n"
"                        (default 131072, ~2 KiB each in the report);\n"
"                        past it a new stack keeps its innermost frame,\n"
"                        counted and marked\n" },
	{ "unwind-rows", 0, OPT_ARG, set_unwind_rows,
"      --unwind-rows N   most CFI rows the kernel holds, for every object\n"
"                        (default 16777216, 16 bytes each, taken 1 MiB\n"
"                        at a time as objects load)\n" },
	{ "table-cache", 0, OPT_ARG, set_table_cache,
"      --table-cache DIR compiled unwind tables kept by build-id for the\n"
"                        next runs (default /var/cache/memscope-bpf,\n"
"                        512 MiB at most); off: none\n" },
	{ "older", 0, OPT_ARG | OPT_REPORT, set_older,
"      --older SEC       leak lists show only blocks allocated more than SEC\n"
"                        seconds before tracing ended\n" },
	{ "min-size", 0, OPT_ARG | OPT_REPORT, set_min_size,
"      --min-size BYTES  leak lists show only blocks of at least BYTES\n" },
	{ "max-size", 0, OPT_ARG | OPT_REPORT, set_max_size,
"      --max-size BYTES  leak lists show only blocks of at most BYTES\n" },
	{ "interval", 'i', OPT_ARG | OPT_REPORT, set_interval,
"  -i, --interval SEC    every SEC seconds a snapshot: the sites that grew\n"
"                        since the previous one and the most live ones;\n"
"                        from 6 of them, leak suspects by growth\n" },
	{ "snapshots", 0, OPT_ARG | OPT_REPORT, set_snapshots,
"      --snapshots FILE  also write each snapshot as one JSON line to FILE\n" },
	{ "snapshot", 0, OPT_ARG | OPT_REPORT | OPT_REPORT_ONLY, set_snapshot,
	  NULL },
	{ "from", 0, OPT_ARG | OPT_REPORT | OPT_REPORT_ONLY, set_from, NULL },
	{ "to", 0, OPT_ARG | OPT_REPORT | OPT_REPORT_ONLY, set_to, NULL },
	{ "kill", 0, 0, set_kill,
"      --kill            when tracing ends (-d, Ctrl-C) and the command\n"
"                        still runs, kill it (default: detach, it runs on)\n" },
	{ "live", 0, 0, set_live,
"      --live            while tracing, a top-like view of the call sites\n"
"                        (live bytes, growth, allocations) on the terminal,\n"
"                        redrawn every second; q ends tracing\n" },
	{ "reachability", 0, 0, set_reachability,
"      --reachability    when tracing ends (the command's exit, -d,\n"
"                        Ctrl-C) and on SIGUSR1, stop the target briefly\n"
"                        and scan its memory: memcheck's leak classes\n"
"                        (definitely, indirectly, possibly lost, still\n"
"                        reachable), leaked cycles, the ownership graph\n" },
	{ "clone-window", 0, OPT_ARG, set_clone_window,
"      --clone-window SEC\n"
"                        --reachability's clone candidates: blocks alike\n"
"                        allocated within SEC seconds of each other\n"
"                        (default 1)\n" },
	{ "ready-fd", 0, OPT_ARG, set_ready_fd,
"      --ready-fd FD     once the probes are attached, write the traced\n"
"                        pid and a newline to FD, then close it (scripts)\n" },
	{ "quiet", 'q', OPT_REPORT, set_quiet,
"  -q, --quiet           print nothing but the report (errors still go\n"
"                        to stderr)\n" },
	{ "verbose", 'v', 0, set_verbose,
"  -v, --verbose         list every probe (object, symbol, offset), and\n"
"                        each object's unwind table when tracing ends\n" },
	{ "help", 'h', OPT_REPORT | OPT_TAIL, show_help,
"  -h, --help            this help\n" },
	{ "version", 'V', OPT_TAIL, show_version,
"  -V, --version         print the version\n" },
};

#define NR_OPTIONS		ARRAY_SIZE(options)

/* What getopt_long returns for options[i]: its letter, or past them all. */
static int option_key(size_t i)
{
	return options[i].letter ? options[i].letter : 256 + (int)i;
}

static int show_help(struct opts *o, const char *arg)
{
	const struct rule_option *ro;
	size_t i;

	(void)o;
	(void)arg;
	fputs(usage_head, stdout);
	for (i = 0; i < NR_OPTIONS; i++) {
		if (!(options[i].flags & (OPT_TAIL | OPT_REPORT_ONLY)))
			fputs(options[i].help, stdout);
	}
	fputs(usage_rules, stdout);
	for (i = 0; (ro = rule_option(i)); i++)
		fputs(ro->help, stdout);
	fputc('\n', stdout);
	for (i = 0; i < NR_OPTIONS; i++) {
		if (options[i].flags & OPT_TAIL)
			fputs(options[i].help, stdout);
	}
	fputs(usage_report, stdout);
	for (i = 0; (ro = rule_option(i)); i++)
		printf("%s--%s", i ? ", " : "  ", ro->name);
	fputs(usage_report_tail, stdout);
	return OPT_EXIT_OK;
}

/* getopt's own messages would make a second line: say it once. */
static int bad_option(int c, char **argv)
{
	if (c == ':')
		cli_error("option '%s' needs a value (see --help)",
			  argv[optind - 1]);
	else
		cli_error("unknown option '%s' (see --help)", argv[optind - 1]);
	return 2;
}

/*
 * The options of the table that `report` (or tracing) takes, through
 * getopt_long. 0, or the exit code: 2 for usage errors, and OPT_EXIT_OK
 * to exit 0 (help). *last_arg (unless NULL): the value the last option
 * took, to tell it from getopt's own "--".
 */
static int parse_options(int argc, char **argv, struct opts *o, bool report,
			 const char **last_arg)
{
	struct option longopts[NR_OPTIONS + RECORDING_RULE_OPTS + 1] = {};
	char shorts[3 + 2 * NR_OPTIONS];
	const struct rule_option *ro;
	size_t i, n = 0, k;
	bool arg;
	int c, err;

	/*
	 * Tracing stops at the first operand (the command); report permutes,
	 * so options may come before or after the file.
	 */
	k = strlen(strcpy(shorts, report ? ":" : "+:"));
	for (i = 0; i < NR_OPTIONS; i++) {
		if (report && !(options[i].flags & OPT_REPORT))
			continue;
		if (!report && (options[i].flags & OPT_REPORT_ONLY))
			continue;
		arg = options[i].flags & OPT_ARG;
		longopts[n++] = (struct option){
			.name = options[i].name,
			.has_arg = arg ? required_argument : no_argument,
			.val = option_key(i),
		};
		if (!options[i].letter)
			continue;
		shorts[k++] = options[i].letter;
		if (arg)
			shorts[k++] = ':';
	}
	shorts[k] = '\0';
	/* Every rule's options, for tracing and report alike. */
	for (i = 0; (ro = rule_option(i)); i++)
		longopts[n++] = (struct option){
			.name = ro->name,
			.has_arg = required_argument,
			.val = KEY_RULE_OPT + i,
		};
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		if (c >= KEY_RULE_OPT && rule_option(c - KEY_RULE_OPT)) {
			err = set_rule_opt(o, c - KEY_RULE_OPT, optarg);
			if (err)
				return err;
			continue;
		}
		for (i = 0; i < NR_OPTIONS && option_key(i) != c; i++)
			;
		if (i == NR_OPTIONS)
			return bad_option(c, argv);
		err = options[i].set(o, optarg);
		if (err)
			return err;
		if (last_arg)
			*last_arg = optarg;
	}
	return 0;
}

/* Both filter bounds given: an empty range is a mistake, not a report. */
static int check_filter(const struct opts *o)
{
	if (!o->min_size || !o->max_size || o->min_size <= o->max_size)
		return 0;
	cli_error("--min-size %llu is above --max-size %llu: no block could pass",
		  (unsigned long long)o->min_size,
		  (unsigned long long)o->max_size);
	return 2;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	const char *last_arg = NULL;
	int err;

	o->top = DEFAULT_TOP;
	o->top_procs = DEFAULT_TOP_PROCS;
	o->fold = DEFAULT_FOLD;
	o->max_live = DEFAULT_MAX_LIVE;
	o->max_procs = DEFAULT_MAX_PROCS;
	err = parse_options(argc, argv, o, false, &last_arg);
	if (err)
		return err;
	/*
	 * A command is what follows "--" (getopt's own, not an option's
	 * value that happens to be "--"); any other bare word is a
	 * subcommand we do not have, never a program to run.
	 */
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") ||
		    argv[optind - 1] == last_arg) {
			cli_error("unknown command '%s' (the commands are report and diff); to trace a program: memscope-bpf -- %s",
				  argv[optind], argv[optind]);
			return 2;
		}
		o->cmd = &argv[optind];
	}
	if ((o->pid || o->all || o->nr_comms || o->cgroup) && o->cmd) {
		cli_error("give either -p, -a, --comm, --cgroup or -- CMD, not both");
		return 2;
	}
	if (!o->pid && !o->all && !o->nr_comms && !o->cgroup && !o->cmd) {
		cli_error("nothing to trace: give -p PID, -a, --comm NAME, --cgroup PATH or -- CMD (see --help)");
		return 2;
	}
	if (o->no_follow && !o->cmd) {
		cli_error("--no-follow is for -- CMD, which follows its children by default; without -f, -p follows none");
		return 2;
	}
	if (o->hold_exec && (o->cmd || !(o->all || o->nr_comms || o->cgroup ||
					 o->follow))) {
		cli_error("--hold-exec is for processes that join a set at an exec (-a, --comm, --cgroup, -p PID -f); -- CMD holds every exec already");
		return 2;
	}
	if (o->kill && !o->cmd) {
		cli_error("--kill ends a command launched with -- CMD; a process attached with -p is always left running");
		return 2;
	}
	if (o->clone_window_ns && !o->reachability) {
		cli_error("--clone-window groups --reachability's clone candidates: give --reachability");
		return 2;
	}
	if (o->mode == TRACE_MODE_ALLOC && o->reachability) {
		cli_error("--reachability scans the live blocks, which --mode=alloc does not trace");
		return 2;
	}
	if (o->mode == TRACE_MODE_ALLOC &&
	    (o->older_ns || o->min_size || o->max_size)) {
		cli_error("--older, --min-size and --max-size filter leaks, which --mode=alloc does not trace");
		return 2;
	}
	if (o->mode == TRACE_MODE_ALLOC && o->interval_ns) {
		cli_error("-i snapshots live blocks, which --mode=alloc does not trace");
		return 2;
	}
	if (o->snapshots && !o->interval_ns) {
		cli_error("--snapshots writes the snapshots of -i SEC: give both");
		return 2;
	}
	if (o->mode == TRACE_MODE_ALLOC &&
	    o->folded_weight == REPORT_WEIGHT_PEAK) {
		cli_error("--folded-weight peak needs frees, which --mode=alloc does not trace; use allocs");
		return 2;
	}
	return check_filter(o);
}

/* `report FILE.msr [OPTIONS]`, argv[0] being "report". Same returns. */
static int parse_report_args(int argc, char **argv, struct opts *o)
{
	int err;

	o->top_procs = DEFAULT_TOP_PROCS;
	o->fold = DEFAULT_FOLD;
	err = parse_options(argc, argv, o, true, NULL);
	if (err)
		return err;
	if (optind + 1 != argc) {
		cli_error(optind == argc ?
			  "report: give the recording to report on (see --help)" :
			  "report: give one recording, not several (see --help)");
		return 2;
	}
	o->recording = argv[optind];
	if (o->interval_ns && (o->from_given || o->to_given)) {
		cli_error("report: -i takes snapshots, --from and --to compare two moments: give one or the other");
		return 2;
	}
	if (o->snapshot && (o->from_given || o->to_given)) {
		cli_error("report: --snapshot shows one moment, --from and --to two: give one or the other");
		return 2;
	}
	if (o->from_given && o->to_given && o->from_ns >= o->to_ns) {
		cli_error("report: --from must be before --to");
		return 2;
	}
	if ((o->from_given || o->to_given) &&
	    (o->exports[EXPORT_PPROF] || o->exports[EXPORT_FOLDED])) {
		cli_error("report: --from and --to write text, -o JSON and --html, not --pprof or --folded");
		return 2;
	}
	return check_filter(o);
}

/* `diff A.msr B.msr [OPTIONS]`, argv[0] being "diff". Same returns. */
static int parse_diff_args(int argc, char **argv, struct opts *o)
{
	int err;

	err = parse_options(argc, argv, o, true, NULL);
	if (err)
		return err;
	if (optind + 2 != argc) {
		cli_error("diff: give two recordings, A.msr and B.msr (see --help)");
		return 2;
	}
	if (o->exports[EXPORT_PPROF] || o->exports[EXPORT_FOLDED] ||
	    o->snapshot || o->snapshots || o->from_given || o->to_given ||
	    o->interval_ns ||
	    o->older_ns || o->min_size || o->max_size) {
		cli_error("diff: takes -t N, -o FILE and --html FILE (see --help)");
		return 2;
	}
	o->diff[0] = argv[optind];
	o->diff[1] = argv[optind + 1];
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .ready_fd = -1 };
	int err;

	/* A command named "report" is traced with: memscope-bpf -- report */
	if (argc > 1 && !strcmp(argv[1], "report")) {
		err = parse_report_args(argc - 1, argv + 1, &o);
		if (err)
			return err < 0 ? 0 : err;
		return export_replay(&o);
	}
	/* And "diff" with: memscope-bpf -- diff */
	if (argc > 1 && !strcmp(argv[1], "diff")) {
		o.top = DEFAULT_TOP;
		err = parse_diff_args(argc - 1, argv + 1, &o);
		if (err)
			return err < 0 ? 0 : err;
		return export_diff(&o);
	}
	err = parse_args(argc, argv, &o);
	if (err)
		return err < 0 ? 0 : err;
	return run_trace(&o);
}
