# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# Integration tests of call stacks in programs built the way production
# code is, without frame pointers: the stk_* targets (C, C++, Rust, deep
# recursion, a signal handler (also one interrupting the vDSO), dlopen
# (also from a second thread), PLT stubs, realigned stacks,
# threads) against the chains declared beside their sources
# (tests/targets/stk_*.json), and Debian's python3 and sqlite3, whose
# stacks must reach the program's entry. check_stacks.py holds the
# assertions. Sourced by run.sh, which provides run_test, tool,
# trace_program, expect_report and the rest.

# A small allocation-heavy script: lists, dicts and strings large enough
# for malloc (pymalloc keeps blocks up to 512 bytes to itself).
PY_WORK='
rows = [str(i) * (i % 97) for i in range(20000)]
table = {i: list(range(i % 200)) for i in range(5000)}
text = "".join(rows[::7])
print(len(rows), len(table), len(text))
'
# sqlite3's shell, 20,000 rows inserted into an in-memory database.
SQL_WORK='
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, blob BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO t SELECT i, hex(randomblob(12)), randomblob(i % 300) FROM n;
CREATE INDEX t_name ON t(name);
SELECT count(*) FROM t;
'

# expect_stacks WHAT EXPECT: check_stacks.py WHAT on $d/out/report.json,
# against tests/targets/EXPECT.json.
expect_stacks()
{
	local out

	[ -f "$d/out/report.json" ] || return
	if ! out=$(python3 "$here/check_stacks.py" "$1" "$d/out/report.json" \
		"$src/$2.json" --src "$src" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/stacks: /' >>"$d/fail"
		echo "(report: $d/out/report.json)" >>"$d/fail"
	fi
}

# t_stacks launch|attach WHAT NAME EXPECT [TOOL OPTIONS...]: trace target
# NAME, then check_stacks.py WHAT against EXPECT.json.
t_stacks()
{
	local mode=$1 what=$2 prog=$3 expect=$4

	shift 4
	trace_program "$mode" "$TARGETS/$prog" any "$@"
	expect_stacks "$what" "$expect"
}

# The declared chains are the truth: gdb's unwinder (CFI, inlined frames,
# libc's debug file) finds every one of them, named and on its line, in
# every stack target. Needs no BPF: it checks the targets and their
# declarations, not the tool.
t_gdb_truth()
{
	local t prog expect out

	for t in stk_c:stk_c stk_recurse:stk_recurse stk_signal:stk_signal \
		stk_vdso:stk_vdso stk_dlopen:stk_dlopen stk_dlthread:stk_dlthread \
		stk_plt:stk_plt stk_cxx:stk_cxx \
		stk_rs:stk_rs stk_rs_fwd:stk_rs_fwd stk_rs_new:stk_rs \
		stk_rs_fwd_new:stk_rs_fwd; do
		prog=${t%%:*} expect=${t##*:}
		case $prog in
		*_new) [ -x "$TARGETS/$prog" ] || continue ;;
		esac
		run GDB_STACKS_OUT="$d/$prog.json" gdb -batch -nx \
			-x "$here/gdb_stacks.py" --args "$TARGETS/$prog"
		if [ "$rc" -ne 0 ] || [ ! -s "$d/$prog.json" ]; then
			fail "gdb on $prog: expected its stacks in $d/$prog.json, got status $rc: $(tail -n 5 "$d/stderr")"
			continue
		fi
		for what in chains names; do
			out=$(python3 "$here/check_stacks.py" "$what" \
				"$d/$prog.json" "$src/$expect.json" \
				--src "$src" 2>&1) ||
				printf '%s\n' "$out" |
				sed "s/^/gdb $prog $what: /" >>"$d/fail"
		done
	done
}

# t_entry NAME COMMAND...: a Debian program run with -- : 95% of its
# allocations have a stack that reaches its entry.
t_entry()
{
	local out

	shift
	tool -q -t 0 -o "$d/out/report.json" -- "$@"
	expect_report any --pid "$(launched_pid)" --exited yes --exit-status 0
	[ -f "$d/out/report.json" ] || return
	if ! out=$(python3 "$here/check_stacks.py" entry \
		"$d/out/report.json" --min 0.95 2>&1); then
		printf '%s\n' "$out" | sed 's/^/stacks: /' >>"$d/fail"
		echo "(report: $d/out/report.json)" >>"$d/fail"
	fi
}

run_stack_tests()
{
	local rs

	run_test stk_gdb_truth		t_gdb_truth
	run_test stk_c_launch		t_stacks launch chains stk_c stk_c
	run_test stk_c_attach		t_stacks attach chains stk_c stk_c
	# Frame pointers on code built without them: today's walk, kept as
	# an option, gives the immediate caller and no whole chain.
	run_test stk_c_fp		t_stacks launch fp stk_c stk_c --stacks fp
	run_test stk_recurse_cut	t_stacks launch cut stk_recurse stk_recurse
	run_test stk_recurse_whole	t_stacks launch chains stk_recurse \
		stk_recurse --max-depth 256
	run_test stk_signal_launch	t_stacks launch chains stk_signal stk_signal
	# A signal that interrupted the vDSO: on through its in-memory CFI.
	run_test stk_vdso_launch	t_stacks launch chains stk_vdso stk_vdso
	run_test stk_dlopen_launch	t_stacks launch chains stk_dlopen stk_dlopen
	run_test stk_dlopen_attach	t_stacks attach chains stk_dlopen stk_dlopen
	# A mapping made by a thread other than main: held all the same.
	run_test stk_dlthread_launch	t_stacks launch chains stk_dlthread \
		stk_dlthread
	run_test stk_plt_launch		t_stacks launch chains stk_plt stk_plt
	run_test stk_cxx_launch		t_stacks launch chains stk_cxx stk_cxx
	run_test stk_cxx_names		t_stacks launch names stk_cxx stk_cxx
	# stk_rs*_new: built only where a rustc >= 1.87 is (see Makefile).
	for rs in stk_rs stk_rs_new; do
		[ "$rs" = stk_rs ] || [ -x "$TARGETS/$rs" ] || continue
		run_test "${rs}_launch"		t_stacks launch chains "$rs" stk_rs
		run_test "${rs}_names"		t_stacks launch names "$rs" stk_rs
		run_test "${rs/stk_rs/stk_rs_fwd}_launch" t_stacks launch \
			chains "${rs/stk_rs/stk_rs_fwd}" stk_rs_fwd
	done
	run_test python3_entry		t_entry python3 /usr/bin/python3 -c "$PY_WORK"
	run_test sqlite3_entry		t_entry sqlite3 /usr/bin/sqlite3 :memory: "$SQL_WORK"
}
