/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What /proc tells of a process (capture/procinfo.c), and which running
 * processes a selection takes (capture/procsel.c): the kernel's shapes,
 * the hostile ones (a comm with ") (" in it, a command line that never
 * ends), and the live process.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>

#include "procinfo_read.h"
#include "procsel.h"

#define S(lit)	lit, sizeof(lit) - 1

Test(procinfo, stat_fields_after_the_last_paren)
{
	struct procinfo pi = { .pid = 42 };

	/* A comm that looks like the end of itself: ") S 1 (". */
	cr_assert_eq(procinfo_parse_stat(S("42 (a) S 1 (b) R 7 42 42 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 250 1000 100"),
					 100, &pi), 0);
	cr_assert_eq(pi.ppid, 7);
	cr_assert_eq(pi.start_ns, 2500000000ull);
	cr_assert_str_eq(pi.comm, "a) S 1 (b");
}

Test(procinfo, stat_cut_or_garbled_is_refused)
{
	struct procinfo pi = { 0 };

	cr_assert_eq(procinfo_parse_stat(S("42 (a) S 1"), 100, &pi), -EINVAL);
	cr_assert_eq(procinfo_parse_stat(S("42 a S 1 2 3"), 100, &pi), -EINVAL);
	cr_assert_eq(procinfo_parse_stat(S("42 (a) S x 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 1"),
					 100, &pi), -EINVAL);
	cr_assert_eq(procinfo_parse_stat(S("42 (a) S 1"), 0, &pi), -EINVAL);
}

Test(procinfo, comm_is_cut_at_its_size)
{
	struct procinfo pi = { 0 };

	cr_assert_eq(procinfo_parse_stat(S("1 (abcdefghijklmnopqrstuvwxyz) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 1"),
					 100, &pi), 0);
	cr_assert_eq(strlen(pi.comm), PROCINFO_COMM - 1);
}

Test(procinfo, nspid_innermost)
{
	struct procinfo pi = { .pid = 4242 };

	cr_assert_eq(procinfo_parse_status(S("Name:\tx\nNSpid:\t4242\t17\t1\nPPid:\t1\n"),
					   &pi), 0);
	cr_assert_eq(pi.ns_pid, 1);
	pi.ns_pid = 9;
	cr_assert_eq(procinfo_parse_status(S("NSpid:\t4242\n"), &pi), 0);
	cr_assert_eq(pi.ns_pid, 0, "its own namespace: 0, got %u", pi.ns_pid);
	cr_assert_eq(procinfo_parse_status(S("NSpid:\t99999999999\n"), &pi),
		     -EINVAL);
}

/* A thread's id names its process by the Tgid line; garbage is refused. */
Test(procinfo, tgid)
{
	static const char *const bad[] = {
		"Name:\tx\n", "Tgid:\t\n", "Tgid:\t0\n", "Tgid:\t12x\n",
		"Tgid:\t99999999999\n", "Tgid:\t-1\n",
	};
	__u32 tgid = 0;
	size_t i;

	cr_assert_eq(procinfo_parse_tgid(S("Name:\tx\nUmask:\t0022\nState:\tS\nTgid:\t4242\nNgid:\t0\nPid:\t4250\n"),
					 &tgid), 0);
	cr_expect_eq(tgid, 4242);
	cr_assert_eq(procinfo_parse_tgid(S("Tgid:\t7"), &tgid), 0,
		     "the last line without its newline");
	cr_expect_eq(tgid, 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(procinfo_parse_tgid(bad[i], strlen(bad[i]), &tgid),
			     -EINVAL, "%s", bad[i]);
	cr_assert_eq(procinfo_read_task(getpid(), &tgid, NULL, NULL), 0);
	cr_expect_eq(tgid, (__u32)getpid(), "this process is its own group");
	cr_expect_eq(procinfo_read_task(0x7ffffff0, &tgid, NULL, NULL), -ENOENT);
}

/* Who ptraces a process: a heap scan cannot when someone does. */
Test(procinfo, tracer)
{
	static const char *const bad[] = {
		"Name:\tx\n", "TracerPid:\t\n", "TracerPid:\t1x\n",
		"TracerPid:\t99999999999\n",
	};
	__u32 tracer = 7;
	size_t i;

	cr_assert_eq(procinfo_parse_tracer(S("State:\tS\nTgid:\t9\nTracerPid:\t4242\nUid:\t0\n"),
					   &tracer), 0);
	cr_expect_eq(tracer, 4242);
	cr_assert_eq(procinfo_parse_tracer(S("TracerPid:\t0\n"), &tracer), 0);
	cr_expect_eq(tracer, 0, "0: nobody traces it");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(procinfo_parse_tracer(bad[i], strlen(bad[i]),
						   &tracer), -EINVAL, "%s", bad[i]);
	tracer = 7;
	cr_assert_eq(procinfo_read_task(getpid(), NULL, NULL, &tracer), 0);
	cr_expect_eq(tracer, 0, "the unit test runs untraced");
}

/* The State line's letter: a zombie is told from a kernel thread. */
Test(procinfo, state)
{
	char state = 0;

	cr_assert_eq(procinfo_parse_state(S("Name:\tx\nUmask:\t0022\nState:\tZ (zombie)\n"),
					  &state), 0);
	cr_expect_eq(state, 'Z');
	cr_expect_eq(procinfo_parse_state(S("Name:\tx\n"), &state), -EINVAL);
	cr_expect_eq(procinfo_parse_state(S("State:\t\n"), &state), -EINVAL);
	cr_expect_eq(procinfo_parse_state(S("State:\t\x01\n"), &state),
		     -EINVAL);
	cr_assert_eq(procinfo_read_task(getpid(), NULL, &state, NULL), 0);
	cr_expect_eq(state, 'R', "this process, running: %c", state);
}

Test(procinfo, cmdline_joined_and_cut)
{
	static char big[PROCINFO_COMMAND + 10];
	struct procinfo pi = { 0 };

	procinfo_parse_cmdline(S("sh\0-c\0echo\001hi\0"), &pi);
	cr_assert_str_eq(pi.command, "sh -c echo?hi");
	cr_assert_eq(pi.flags & PROCINFO_CUT, 0);
	memset(big, 'a', sizeof(big));
	procinfo_parse_cmdline(big, sizeof(big), &pi);
	cr_assert_eq(strlen(pi.command), PROCINFO_COMMAND - 1);
	cr_assert(pi.flags & PROCINFO_CUT);
}

Test(procinfo, live_self_and_gone)
{
	struct procinfo pi;

	cr_assert_eq(procinfo_read(getpid(), PROCINFO_EXISTING, &pi), 0);
	cr_assert_eq(pi.pid, (__u32)getpid());
	cr_assert_eq(pi.ppid, (__u32)getppid());
	cr_assert(pi.flags & PROCINFO_EXISTING);
	cr_assert_neq(pi.start_ns, 0);
	cr_assert_neq(pi.command[0], 0);
	/* pid_max is at most 2^22: this one never runs. */
	cr_assert_eq(procinfo_read(1 << 23, 0, &pi), 0);
	cr_assert(pi.flags & PROCINFO_GONE);
}

/* Where the kernel started this very process: what getauxval() says. */
Test(procinfo, auxv_entry_and_interpreter)
{
	__u64 entry, interp;

	cr_assert_eq(procinfo_read_entry(getpid(), &entry, &interp), 0);
	cr_expect_eq(entry, getauxval(AT_ENTRY));
	cr_expect_eq(interp, getauxval(AT_BASE));
	cr_expect_neq(interp, 0, "the unit tests run under ld.so");
	cr_expect_eq(procinfo_read_entry(1 << 23, &entry, &interp), -ENOENT);
}

Test(procinfo, auxv_hostile)
{
	__u64 v[8] = { AT_BASE, 0x7f00, AT_ENTRY, 0x1040, AT_NULL, 0,
		       AT_ENTRY, 0xdead };
	__u64 entry, interp;

	cr_assert_eq(procinfo_parse_auxv(v, sizeof(v), &entry, &interp), 0);
	cr_expect_eq(entry, 0x1040, "the pairs end at AT_NULL");
	cr_expect_eq(interp, 0x7f00);
	/* a pair cut short is not read; without AT_ENTRY nothing is known */
	cr_expect_eq(procinfo_parse_auxv(v, 2 * sizeof(__u64) + 7, &entry,
					 &interp), -EINVAL);
	cr_expect_eq(entry, 0);
	cr_expect_eq(interp, 0x7f00);
	cr_expect_eq(procinfo_parse_auxv(v, 0, &entry, &interp), -EINVAL);
	cr_expect_eq(interp, 0, "nothing read, nothing kept");
	/* a static program: no AT_BASE (or 0) */
	v[1] = 0;
	cr_assert_eq(procinfo_parse_auxv(v, sizeof(v), &entry, &interp), 0);
	cr_expect_eq(interp, 0);
}

Test(procsel, cgroup_line_at_or_below)
{
	cr_assert(procsel_cgroup_match(S("1:cpu:/x\n0::/a/b\n"), "/a"));
	cr_assert(procsel_cgroup_match(S("0::/a\n"), "/a"));
	cr_assert(!procsel_cgroup_match(S("0::/ab\n"), "/a"),
		  "a sibling whose name starts the same is not below");
	cr_assert(!procsel_cgroup_match(S("1:cpu:/a\n"), "/a"),
		  "only the v2 line counts");
	cr_assert(procsel_cgroup_match(S("0::/anything"), "/"));
}

static int count(int pid, void *ctx)
{
	(void)pid;
	++*(int *)ctx;
	return 0;
}

Test(procsel, scan_takes_by_comm_and_never_self)
{
	char comm[32], *comms[1] = { comm };
	struct procsel sel = { .comms = comms, .nr_comms = 1 };
	FILE *f = fopen("/proc/self/comm", "r");
	int n = 0;

	cr_assert(f && fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	cr_assert_eq(procsel_scan(&sel, count, &n), 0);
	cr_assert_geq(n, 1, "this test is named %s", comm);
	n = 0;
	sel.self = getpid();
	cr_assert_eq(procsel_scan(&sel, count, &n), 0);
	sel.comms = NULL;
	sel.nr_comms = 0;
	n = 0;
	cr_assert_eq(procsel_scan(&sel, count, &n), 0);
	cr_assert_eq(n, 0, "no selector takes nothing, got %d", n);
}
