#!/bin/bash
# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# Integration tests: trace the programs of tests/targets/ with real BPF, in
# both modes (-p PID and -- CMD), and check the JSON reports with check.py;
# then feed the tool each bad input the issue lists.
#
#   MEMSCOPE=/abs/memscope-bpf TARGETS=/abs/.output/targets \
#       ./tests/integration/run.sh [TEST...]
#
# `make integration` runs it with the sanitizer build. Needs root and BPF;
# MEMSCOPE_SKIP_INTEGRATION=1 skips. Quiet while tests pass; a failing test
# prints what differed, the command, and the tool's stderr; a test that
# cannot run here says so in one line ("--- SKIP name: why"), and is no
# pass. The last line is always "integration: N passed, N failed", with
# ", N skipped" when some were. MEMSCOPE_TEST_TIMES=FILE appends each
# test's seconds to FILE, to see where the suite's time goes.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../targets" && pwd)
# Every process the tests run gets this hard limit; 5 s after a TERM
# (ours or the limit's) that did not end it, timeout sends KILL.
LIMIT=60
TIMEOUT="timeout -k 5 $LIMIT"

if [ "${MEMSCOPE_SKIP_INTEGRATION:-0}" = 1 ]; then
	echo "integration: skipped (MEMSCOPE_SKIP_INTEGRATION=1)"
	exit 0
fi
if [ -z "${MEMSCOPE:-}" ] || [ -z "${TARGETS:-}" ]; then
	echo "integration: set MEMSCOPE (the tool) and TARGETS (built targets); see 'make integration'" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "integration: needs root (BPF and uprobes); run as root or set MEMSCOPE_SKIP_INTEGRATION=1 to skip" >&2
	exit 1
fi
if ! why=$(python3 "$here/check.py" bpf-usable 2>&1); then
	echo "integration: BPF is not usable here: $why; set MEMSCOPE_SKIP_INTEGRATION=1 to skip" >&2
	exit 1
fi

# Every run compiles its tables, as a first run does: kept ones would make
# what a test sees depend on the tests before it (and on the machine's
# /var/cache). The table cache's own test names a directory of its own.
export MEMSCOPE_TABLE_CACHE=off

# Every check's Python reads reports with msjson (frames resolved from the
# document's frame_table), from beside this script.
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"

work=$(mktemp -d /tmp/memscope-integration.XXXXXX) || exit 1
# The not-root test runs a copy of the tool as nobody from in here.
chmod 755 "$work"
passed=0
failed=0
skipped=0
bg_pids=""

# Our background children: `timeout` wrappers, which pass TERM on to the
# process they run, and plain `sleep`s. A failed test must not leave a
# target or a tool behind.
kill_bg()
{
	local p i

	for p in $bg_pids; do
		if running "$p"; then
			# it may end between the look and the kill: quietly
			kill -TERM "$p" 2>/dev/null
			# bpftrace can miss a TERM that lands just before its
			# poll (it hung foreign_uprobe once): then KILL.
			for i in $(seq 50); do
				running "$p" || break
				sleep 0.1
			done
			running "$p" && kill -KILL "$p" 2>/dev/null
		fi
		wait "$p" 2>/dev/null
	done
	bg_pids=""
}

# Whether a background child still runs. Bash reaps children as they end,
# so after that their pid may belong to someone else: ask bash, not /proc.
running()
{
	jobs -pr | grep -qx "$1"
}

# Keeps the files of failed tests for a look.
cleanup()
{
	kill_bg
	[ "$failed" -eq 0 ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- reporting -------------------------------------------------------------

# Records one difference for the current test.
fail()
{
	printf '%s\n' "$*" >>"$d/fail"
}

# skip WHY: the test cannot run on this machine, for this reason.
skip()
{
	printf '%s\n' "$*" >>"$d/skip"
}

# run_test NAME FUNCTION [ARGS...]: runs one test in its own directory $d.
run_test()
{
	local name=$1

	shift
	if [ -n "$only" ] && ! printf ' %s ' "$only" | grep -q " $name "; then
		return
	fi
	d=$work/$name
	mkdir -p "$d/out"
	: >"$d/fail"
	: >"$d/skip"
	: >"$d/cmd"
	local t0=$SECONDS
	"$@"
	kill_bg
	[ -n "${MEMSCOPE_TEST_TIMES:-}" ] &&
		echo "$((SECONDS - t0)) $name" >>"$MEMSCOPE_TEST_TIMES"
	if [ ! -s "$d/fail" ] && [ -s "$d/skip" ]; then
		skipped=$((skipped + 1))
		echo "--- SKIP $name: $(head -n 1 "$d/skip")" >&2
	elif [ -s "$d/fail" ]; then
		failed=$((failed + 1))
		{
			echo "--- FAIL $name"
			sed 's/^/    /' "$d/fail"
			if [ -s "$d/cmd" ]; then
				echo "  command:"
				sed 's/^/    /' "$d/cmd"
			fi
			if [ -f "$d/stderr" ]; then
				echo "  tool stderr:"
				sed 's/^/    /' "$d/stderr"
			fi
		} >&2
	else
		passed=$((passed + 1))
	fi
}

# --- running things ----------------------------------------------------------

# run [VAR=VALUE...] PROGRAM ARGS...: in the foreground, under the hard limit;
# stdout, stderr and the exit status go to $d/stdout, $d/stderr and $rc.
run()
{
	printf '%q ' "$@" >>"$d/cmd"
	echo >>"$d/cmd"
	$TIMEOUT env "$@" >"$d/stdout" 2>"$d/stderr"
	rc=$?
}

# The tool in the foreground. Where it traces, --ready-fd 3 has it write
# the traced pid to $d/ready once its probes are in (traced_pid): -q
# leaves nothing on stderr to learn it from.
tool()
{
	if [ "${1-}" = report ] || [ "${1-}" = diff ]; then
		run "$MEMSCOPE" "$@"
		return
	fi
	: >"$d/ready"
	run "$MEMSCOPE" --ready-fd 3 "$@" 3>"$d/ready"
}

# Python on stdin, with the report loaded: r (all of it), k (its kernel
# counters), s (its summary), each {} when missing, and check.py's
# with_stacks. What it prints is a failure.
check_report()
{
	python3 -c '
import json, msjson, sys
sys.path.insert(0, sys.argv[2])
from check import with_stacks
try:
    r = msjson.load(sys.argv[1])
except (OSError, ValueError) as e:
    sys.exit(f"{sys.argv[1]}: no report: {e}")
k, s = r.get("kernel") or {}, r.get("summary") or {}
exec(sys.stdin.read())' "$d/out/report.json" "$here" >>"$d/fail" 2>&1
}

# The tool in the background: $tool_job is its `timeout` wrapper (which
# passes signals on), $tool_pid the tool itself.
tool_bg()
{
	printf '%q ' "$MEMSCOPE" --ready-fd 3 "$@" >>"$d/cmd"
	echo '&' >>"$d/cmd"
	: >"$d/ready"
	$TIMEOUT "$MEMSCOPE" --ready-fd 3 "$@" >"$d/stdout" 2>"$d/stderr" \
		3>"$d/ready" &
	tool_job=$!
	bg_pids="$bg_pids $tool_job"
	tool_pid=""
	local _

	for _ in $(seq 50); do
		tool_pid=$(cat "/proc/$tool_job/task/$tool_job/children" 2>/dev/null)
		tool_pid=${tool_pid%% *}
		[ -n "$tool_pid" ] && return 0
		if ! running "$tool_job"; then
			tool_wait
			fail "tool: exited at once with status $rc"
			return 1
		fi
		sleep 0.1
	done
	fail "could not find the tool's pid under timeout pid $tool_job"
	return 1
}

# Waits for the background tool to end; its exit status in $rc.
tool_wait()
{
	wait "$tool_job"
	rc=$?
	bg_pids=$(printf '%s\n' "$bg_pids" | tr ' ' '\n' | grep -vx "$tool_job")
}

# wait_for FILE ERE SECONDS: until a line of FILE matches.
wait_for()
{
	local _

	for _ in $(seq $(($3 * 10))); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The pid the tool says it traces: from --ready-fd ($d/ready, written by
# tool and tool_bg), else from its status line (a run without -q).
traced_pid()
{
	{
		sed -n 's/^\([0-9][0-9]*\)$/\1/p' "$d/ready" 2>/dev/null
		sed -n 's/^memscope-bpf: tracing pid \([0-9]*\), Ctrl-C to stop$/\1/p' \
			"$d/stderr" 2>/dev/null
	} | head -n 1
}

# Waits for the background tool to say it is tracing (probes attached):
# the pid on its --ready-fd.
wait_tracing()
{
	local _ re='^[0-9]+$'

	for _ in $(seq 300); do
		grep -Eq "$re" "$d/ready" && return 0
		if ! running "$tool_job"; then
			tool_wait
			fail "tool: exited with status $rc before writing the traced pid to --ready-fd"
			return 1
		fi
		sleep 0.1
	done
	fail "tool: expected the traced pid on --ready-fd within 30 s, got none"
	return 1
}

# ready_wait FILE WHAT: $target_pid from the "ready PID" line a target
# writes to FILE, within 10 s.
ready_wait()
{
	if ! wait_for "$1" '^ready [0-9]+$' 10; then
		fail "$2: expected 'ready PID' within 10 s, got: $(cat "$1" 2>&1)"
		return 1
	fi
	target_pid=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$1")
}

# start_ready PROGRAM [ARGS...]: runs a target in the background and sets
# $target_pid from its "ready PID" line (in $d/target.out).
start_ready()
{
	sys_ready target "$@"
}

# start_target PROGRAM [ARGS...]: a target held at --wait until SIGUSR1.
start_target()
{
	start_ready "$@" --wait
}

# --- checking ----------------------------------------------------------------

# Any sanitizer report fails the test: the tool under test is the ASan build.
expect_clean_stderr()
{
	if grep -Eq 'Sanitizer|runtime error:' "$d/stderr"; then
		fail "tool stderr: expected no sanitizer report, got one (below)"
		return 1
	fi
}

expect_rc()
{
	[ "$rc" -eq "$1" ] && return 0
	case $rc in
	124) fail "exit status: expected $1, got 124: killed after ${LIMIT} s (hang)" ;;
	12[5-9]|1[3-9][0-9]|2[0-9][0-9])
		fail "exit status: expected $1, got $rc (killed by a signal?)" ;;
	*) fail "exit status: expected $1, got $rc" ;;
	esac
	return 1
}

# expect_error STATUS ERE: refused with exactly one non-empty stderr line,
# "memscope-bpf: ...", that matches ERE (case-insensitively).
expect_error()
{
	local lines

	expect_rc "$1"
	expect_clean_stderr || return 1
	lines=$(grep -c . "$d/stderr")
	if [ "$lines" -ne 1 ]; then
		fail "stderr: expected exactly 1 line, got $lines: $(cat "$d/stderr")"
		return 1
	fi
	if ! grep -q '^memscope-bpf: ' "$d/stderr"; then
		fail "stderr: expected a line starting with 'memscope-bpf: ', got: $(cat "$d/stderr")"
	fi
	if ! grep -Eiq "$2" "$d/stderr"; then
		fail "stderr: expected a line matching /$2/, got: $(cat "$d/stderr")"
	fi
}

# expect_report SCENARIO [check.py options...]: the run succeeded, said what
# it traced, and wrote exactly $d/out/report.json, which passes check.py.
expect_report()
{
	local scenario=$1 stray out

	shift
	expect_rc 0
	expect_clean_stderr
	if [ -z "$(traced_pid)" ]; then
		fail "--ready-fd: expected the traced pid, got none"
	fi
	if [ ! -f "$d/out/report.json" ]; then
		fail "-o $d/out/report.json: expected the report, got no file"
		return 1
	fi
	stray=$(files_except "$d/out" report.json)
	if [ -n "$stray" ]; then
		fail "-o directory: expected only report.json, also got: $stray"
	fi
	if ! out=$(python3 "$here/check.py" "$scenario" "$d/out/report.json" \
		--src "$src" "$@" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/report: /' >>"$d/fail"
		echo "(report: $d/out/report.json)" >>"$d/fail"
	fi
}

# Names in DIR other than NAME, hidden ones too.
files_except()
{
	local f

	for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		[ -e "$f" ] && [ "${f##*/}" != "$2" ] && echo "${f##*/}"
	done
}

# After a launch that failed, CMD must not be left running. Only a copy in
# our own work directory is surely ours to kill; others are just reported.
expect_no_process_of()
{
	local exe=$1 p

	sleep 0.2
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$exe" ] || continue
		fail "process $p ($exe): expected the tool not to leave it running"
		case $exe in
		"$work"/*) kill -KILL "$p" 2>/dev/null ;;
		esac
	done
}

# IDs of the BPF programs a process holds, from the fdinfo of its program
# and link fds (bpftool's pid column needs a bpftool built with skeletons).
bpf_progs_of()
{
	sed -n 's/^prog_id:[[:space:]]*\([0-9]*\)$/\1/p' "/proc/$1/fdinfo/"* \
		2>/dev/null | sort -nu
}

# expect_progs_gone IDS...: the kernel frees them after the last fd closes;
# give RCU a moment.
expect_progs_gone()
{
	local id left

	for _ in $(seq 30); do
		left=""
		for id in "$@"; do
			bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	fail "BPF programs$left: expected none left after the tool exited, got: $(for id in $left; do bpftool prog show id "$id"; done 2>&1)"
}

# --- tests: tracing ------------------------------------------------------------

# check.py's --pid for -- mode: the pid the tool said it traces.
launched_pid()
{
	local pid

	pid=$(traced_pid)
	echo "${pid:-0}"
}

# trace_program launch|attach PATH SCENARIO [TOOL OPTIONS...]: -- mode
# runs the program to its end; -p mode holds it at --wait until the probes
# are in, and the tool stops when it exits. Then the report is checked.
# attach_released [TOOL OPTIONS...] -- PROGRAM [ARGS...]: PROGRAM held at
# --wait, traced with -p (and the options) into $d/out/report.json from
# before its release to its end; rc is the tool's status.
attach_released()
{
	local opts=()

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	start_target "$@" || return
	attach_usr1 "${opts[@]}"
}

# attach_usr1 [TOOL OPTIONS...]: the target start_ready started, waiting
# for SIGUSR1, traced the same way.
attach_usr1()
{
	tool_bg -q -t 0 -o "$d/out/report.json" "$@" -p "$target_pid" ||
		return
	wait_tracing || return
	kill -USR1 "$target_pid"
	tool_wait
}

trace_program()
{
	local mode=$1 path=$2 scenario=$3 obj

	obj=$(basename "$path")
	shift 3
	if [ "$mode" = attach ]; then
		attach_released "$@" -- "$path" || return
		expect_report "$scenario" --pid "$target_pid" --exited yes \
			--object "$obj"
	else
		tool -q -t 0 -o "$d/out/report.json" "$@" -- "$path"
		expect_report "$scenario" --pid "$(launched_pid)" --exited yes \
			--exit-status 0 --object "$obj"
	fi
}

# launch NAME SCENARIO [TOOL OPTIONS...]: a target in -- mode.
t_launch()
{
	local prog=$1 scenario=$2

	shift 2
	trace_program launch "$TARGETS/$prog" "$scenario" "$@"
}

# attach NAME SCENARIO [TOOL OPTIONS...]: a target in -p mode.
t_attach()
{
	local prog=$1 scenario=$2

	shift 2
	trace_program attach "$TARGETS/$prog" "$scenario" "$@"
}

# CMD...: with every image's call sites spilled to the tool's file at its
# end (MEMSCOPE_SPILL_KEEP=0: the default keeps the last 64 in memory, more
# than most tests make), read back for the recording and the report.
t_spilled()
{
	MEMSCOPE_SPILL_KEEP=0 "$@"
}

# CMD...: with one thread slot in the kernel, so every thread but the first
# keeps its call state and task stack in task storage (the fallback for a
# thread whose slot another thread holds); the results must not change.
t_one_slot()
{
	MEMSCOPE_THREAD_SLOTS=1 "$@"
}

# --- stacks without frame pointers (the kernel's CFI walker) ----------------

# uw_trace MODE ARGS... [-- TOOL OPTIONS...]: uw_chain (built -O2 without
# frame pointers) with ARGS, in MODE launch or attach; the report in
# $d/out/report.json, for check_report.
uw_trace()
{
	local mode=$1 args=() opts=()

	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	opts=("$@")
	if [ "$mode" = attach ]; then
		start_target "$TARGETS/uw_chain" "${args[@]}" || return 1
		tool_bg -q -t 0 -o "$d/out/report.json" "${opts[@]}" \
			-p "$target_pid" || return 1
		wait_tracing || return 1
		kill -USR1 "$target_pid"
		tool_wait
	else
		tool -q -t 0 -o "$d/out/report.json" "${opts[@]}" -- \
			"$TARGETS/uw_chain" "${args[@]}"
	fi
	expect_rc 0 && expect_clean_stderr
}

# Python for check_report: the leak whose innermost frame is fn, its
# frames' function names, and the kernel's stop counters.
UW_PY='
def leak(fn):
    for l in r.get("leaks", []):
        if l["frames"] and l["frames"][0]["function"] == fn:
            return l
    print(f"no leak site whose innermost frame is {fn}; sites: " +
          str([[f["function"] for f in l["frames"]][:3] for l in r.get("leaks", [])]))
    return None
def names(l):
    return [f["function"] or "" for f in l["frames"]]
def stops(**want):
    got = k.get("stack_stops", {})
    for key, n in want.items():
        if got.get(key) != n:
            print(f"kernel.stack_stops.{key}: expected {n}, got {got.get(key)} (all: {got})")
'

# The full chain of a -O2 program without frame pointers, every frame,
# to _start, and every stack ends there (stop end).
t_uw_chain()
{
	uw_trace "$1" chain || return
	check_report <<EOF
$UW_PY
l = leak("uw_d")
want = ["uw_d", "uw_c", "uw_b", "uw_a", "main", "__libc_start_call_main",
        "__libc_start_main", "_start"]
if l and names(l) != want:
    print(f"uw_d's stack: expected {want}, got {names(l)}")
if l and (l["stack_stop"] != "end" or l["count"] != 8):
    print(f"uw_d's site: expected 8 blocks, stack_stop end; got {l['count']}, {l['stack_stop']}")
stops(no_info=0, no_mapping=0, not_loaded=0, depth=0, read=0, unsupported=0)
EOF
}

# --stacks fp: the frame-pointer walk, as before. On a program without
# frame pointers it has only the immediate caller to go on: a short
# stack, never the chain, and every stack is still counted by its stop.
t_uw_fp()
{
	uw_trace launch chain -- --stacks fp || return
	check_report <<EOF
$UW_PY
l = leak("uw_d")
if l and len(l["frames"]) >= 8:
    print(f"--stacks fp without frame pointers: expected a short stack, got {names(l)}")
if sum(k.get("stack_stops", {}).values()) < 8:
    print(f"stack_stops: expected one per stack (8 or more), got {k.get('stack_stops')}")
EOF
}

# A library dlopen()ed while traced: its frames unwind once the tool has
# loaded its table (launch: the target is held until then; attach: the
# kernel wakes the tool, and the target allocates 200 ms later).
t_uw_dlopen()
{
	uw_trace "$1" dlopen "$TARGETS/libuw_dl.so" || return
	check_report <<EOF
$UW_PY
l = leak("uw_dl_inner")
want = ["uw_dl_inner", "uw_dl_alloc", "main", "__libc_start_call_main",
        "__libc_start_main", "_start"]
if l and (names(l) != want or l["stack_stop"] != "end"):
    print(f"dlopened frames: expected {want}, end; got {names(l)}, {l['stack_stop']}")
EOF
}

# The same library without any CFI: the walk stops in its first frame
# (no rule to leave it by, and no frame pointer to guess with), each of
# its 4 stacks counted no_info, and -v says its table holds only what its
# frame-pointer prologues show (crt's __do_global_dtors_aux keeps one;
# its own functions, built without, none).
t_uw_nocfi()
{
	local lib=$TARGETS/libuw_dl_nocfi.so

	uw_trace launch dlopen "$lib" -- -v || return
	check_report <<EOF
$UW_PY
l = leak("uw_dl_inner")
if l and (names(l) != ["uw_dl_inner"] or l["stack_stop"] != "no_info" or l["count"] != 4):
    print(f"no-CFI frames: expected ['uw_dl_inner'], no_info, 4 blocks; got {names(l)}, {l['stack_stop']}, {l['count']}")
stops(no_info=4, no_mapping=0, not_loaded=0, depth=0, read=0, unsupported=0)
EOF
	grep -q "unwind table $lib: [0-9]* rows from frame pointers$" "$d/stderr" ||
		fail "-v: expected $lib's table from frame pointers alone (no CFI), got: $(grep "unwind table $lib" "$d/stderr")"
}

# Executable pages changed by mprotect: an anonymous page a JIT turns
# executable and back around each allocation (nothing to reload, and the
# chain stays whole), then a library mapped by hand and made executable
# by mprotect, whose frames unwind once the tool has read the maps again.
t_uw_protect()
{
	uw_trace "$1" "${2:-protect}" "$TARGETS/libuw_dl.so" || return
	check_report <<EOF
$UW_PY
tail = ["protect", "main", "__libc_start_call_main", "__libc_start_main",
        "_start"]
for fn, want, n in (("uw_d", ["uw_d", "uw_c", "uw_b", "uw_a"] + tail, 8),
                    ("uw_ml_inner", ["uw_ml_inner", "uw_ml_loaded"] + tail, 4)):
    l = leak(fn)
    if l and (names(l) != want or l["stack_stop"] != "end" or l["count"] != n):
        print(f"{fn}: expected {want}, end, {n} blocks; got {names(l)}, {l['stack_stop']}, {l['count']}")
stops(no_info=0, no_mapping=0, not_loaded=0, depth=0, read=0, unsupported=0)
EOF
}

# A program whose code lies in two executable mappings (a page between
# them made read-only): one table for the file, the program's, with its
# entry point outermost, not a second one as a library.
t_uw_split()
{
	local n

	uw_trace "$1" split -- -v || return
	check_report <<EOF
$UW_PY
l = leak("uw_d")
want = ["uw_d", "uw_c", "uw_b", "uw_a", "main", "__libc_start_call_main",
        "__libc_start_main", "_start"]
if l and (names(l) != want or l["stack_stop"] != "end" or l["count"] != 8):
    print(f"uw_d: expected {want}, end, 8 blocks; got {names(l)}, {l['stack_stop']}, {l['count']}")
EOF
	n=$(grep -c "unwind table .*/uw_chain:" "$d/stderr")
	[ "$n" -eq 1 ] ||
		fail "-v: expected one unwind table of uw_chain, got $n: $(grep "unwind table .*/uw_chain:" "$d/stderr")"
}

# An exec maps the program and its interpreter before it writes their
# entry point in the auxv: a maps read in between (the drain wakes at the
# first mapping) took both for libraries, each compiled twice (Chromium:
# 30 s more). 100 execs of one program: one table each, the entry one.
t_exec_tables_once()
{
	local obj n

	tool -q -v --table-cache off -o "$d/out/report.json" -- \
		sh -c "for i in \$(seq 100); do '$TARGETS/stk_c' >/dev/null; done"
	expect_rc 0 || return
	for obj in /stk_c ld-linux-x86-64.so.2; do
		n=$(grep -c "unwind table .*$obj: " "$d/stderr")
		[ "$n" -eq 1 ] && grep -q "unwind table .*$obj: .*, its entry point outermost$" "$d/stderr" ||
			fail "-v: expected one unwind table of $obj, its entry one, got $n: $(grep "unwind table .*$obj: " "$d/stderr")"
	done
}

# Stops counted by reason: malloc called from anonymous executable memory
# is in no mapping; a 100-deep recursion is cut by --max-depth 16.
t_uw_stops()
{
	uw_trace launch jit || return
	check_report <<EOF
$UW_PY
stops(no_mapping=1, not_loaded=0, depth=0)
sites = [l for l in r.get("leaks", []) if l["stack_stop"] == "no_mapping"]
if len(sites) != 1 or len(sites[0]["frames"]) != 1 or sites[0]["frames"][0]["object"]:
    print(f"jit: expected one site of one frame in no object, got {sites}")
EOF
	uw_trace launch deep 100 -- --max-depth 16 || return
	check_report <<EOF
$UW_PY
l = leak("uw_rec")
stops(depth=1, no_mapping=0, not_loaded=0)
if l and (len(l["frames"]) != 16 or not l["stack_truncated"] or l["stack_stop"] != "depth"):
    print(f"deep: expected 16 frames, truncated, depth; got {len(l['frames'])}, {l['stack_truncated']}, {l['stack_stop']}")
EOF
	grep -q "^Stacks that ended early (kernel): 1 depth$" "$d/stdout" ||
		fail "text report: expected 'Stacks that ended early (kernel): 1 depth', got: $(grep -i 'ended early' "$d/stdout")"
}

# Code a JIT made, named from the runtime's perf map (/tmp/perf-PID.map,
# as node --perf-basic-prof and Java's -XX:+DumpPerfMapAtExit write it):
# the runtime's name, the map as its object. Not named where entries of two
# names cover the call (code made again at the same place: which ran is
# not known), nor from a map another user owns, nor through a link, nor
# from one written before the process started (an earlier process's of its
# pid). In a pid namespace, the map of its pid there.
UW_JIT_PY='
import os
pid, kind = os.environ["PID"], os.environ["KIND"]
want = {"named": ("JIT:uw_jit_fn t.js:1", f"/tmp/perf-{pid}.map"),
        "reused": (None, "[address reused by other code]"),
        "foreign": (None, None), "link": (None, None),
        "stale": (None, None)}[kind]
sites = [l for l in r.get("leaks", []) if l["stack_stop"] == "no_mapping"]
got = [[(f["function"], f["object"]) for f in l["frames"]] for l in sites]
if got != [[want]]:
    print(f"jit {kind}: expected one site of the frame {want}, got {got}")
'
t_uw_perfmap()
{
	local kind pid

	for kind in named reused foreign link stale; do
		uw_trace launch jit "$kind" || return
		pid=$(launched_pid)
		rm -f "/tmp/perf-$pid.map" "/tmp/perf-$pid.map.target"
		PID=$pid KIND=$kind check_report <<<"$UW_JIT_PY"
	done
	tool -q -t 0 -o "$d/out/report.json" -- unshare -m -p -f --mount-proc \
		"$TARGETS/uw_chain" jit named
	rm -f /tmp/perf-1.map
	expect_rc 0 && expect_clean_stderr || return
	PID=1 KIND=named check_report <<<"$UW_JIT_PY"
}

# --jit-frame-pointers: code of no file that makes its frames as V8's does
# (push %rbp; mov %rsp,%rbp) is walked by them, on to the program's entry;
# launched, and attached before the code is made (its mapping is in none
# of the maps read). Without the option that stack stops in the JIT frame.
t_uw_jit_fp()
{
	local pid

	uw_trace "$1" jit-fp named -- --jit-frame-pointers || return
	pid=$(launched_pid)
	[ "$1" = attach ] && pid=$target_pid
	rm -f "/tmp/perf-$pid.map"
	check_report <<EOF
$UW_PY
want = ["JIT:uw_jit_fn t.js:1", "main", "__libc_start_call_main",
        "__libc_start_main", "_start"]
l = leak("JIT:uw_jit_fn t.js:1")
if l and ([l["frames"][0]["function"]] + names(l)[1:] != want or
          l["stack_stop"] != "end"):
    print(f"through the JIT frame: expected {want}, end; got {[f['function'] for f in l['frames']]}, {l['stack_stop']}")
stops(no_mapping=0, not_loaded=0, no_info=0)
EOF
}

# node with --perf-basic-prof and --jit-frame-pointers: its stacks go on
# through the code V8 compiled, named from its map, to the program's
# entry; every frame in that code has the name the map gives its address.
# A native function called from optimized code (zlib's, in a hot loop)
# goes through Builtins_CallApiCallback, which pops its return address and
# pushes it again before its frame: its stacks go on past it, to _start.
# (A few may stop as not_loaded: the task's vmas cannot be read while a
# compiler thread maps code, bpf_find_vma's trylock.)
# A recording names each new stack's frames as it comes, on the thread
# that drains the ring: node's callers of malloc and new, thousands of
# functions among node's 185,000 symbols, each named once. libdwfl looks
# at every symbol per address (1.3 ms each here); the drain fell behind
# and the kernel dropped 60 % of the records (330,000 of 540,000).
t_node_record()
{
	tool -q -t 0 -w "$d/out/rec.msr" -o "$d/out/report.json" -- node -e '
const zlib = require("zlib"), crypto = require("crypto"), keep = [];
for (let i = 0; i < 3000; i++) {
  keep.push(zlib.deflateSync(Buffer.alloc(1000 + i, i)));
  keep.push(crypto.createHash("sha256").update("x" + i).digest("hex"));
  keep.push(JSON.parse(JSON.stringify({a: i, c: "y".repeat(i % 100)})));
  if (i % 100 == 0) { new URL("http://x/" + i); crypto.randomBytes(64); }
}'
	expect_rc 0 || return
	check_report <<'EOF2'
lost, allocs = s.get("lost_events", 0), s.get("allocs", 0)
if allocs < 100000 or lost * 100 > allocs:
    print(f"node under -w: expected 100,000 allocations or more and under "
          f"1% of records lost, got {allocs} and {lost} lost")
named = {f["function"] for site in r.get("sites") or []
         for f in site.get("frames") or [] if f.get("function")}
for want in ("deflateInit2_", "node::Start("):
    if not any(n.startswith(want) for n in named):
        print(f"expected a frame named {want}..., got none")
EOF2
}

t_node_perfmap()
{
	local pid

	tool -q -t 0 -o "$d/out/report.json" --jit-frame-pointers -- \
		node --perf-basic-prof \
		--logfile="$d/v8.log" --no-logfile-per-isolate -e '
const keep = [];
function grow(n) { for (let i = 0; i < n; i++) keep.push(Buffer.allocUnsafeSlow(512 + i)); }
for (let i = 0; i < 50; i++) grow(200);
const zlib = require("zlib"), t0 = Date.now();
while (Date.now() - t0 < 500) zlib.deflateSync(Buffer.from("x"));
console.log(keep.length);'
	pid=$(launched_pid)
	cp "/tmp/perf-$pid.map" "$d/node.map" 2>/dev/null
	rm -f "/tmp/perf-$pid.map"
	expect_rc 0 || return
	if [ ! -s "$d/node.map" ]; then
		fail "node --perf-basic-prof: expected /tmp/perf-$pid.map, found none"
		return
	fi
	MAP=$d/node.map PID=$pid check_report <<'EOF'
import os
entries = []
for line in open(os.environ["MAP"]):
    start, size, name = line.rstrip("\n").split(" ", 2)
    entries.append((int(start, 16), int(start, 16) + int(size, 16), name))
path = f"/tmp/perf-{os.environ['PID']}.map"
named = 0
for site in r.get("sites") or []:
    for f in site.get("frames") or []:
        if f.get("object") != path:
            continue
        named += 1
        pc = int(f["addr"], 16) - 1
        names = {n for s, e, n in entries if s <= pc < e}
        if names != {f["function"]}:
            print(f"{f['addr']}: named {f['function']!r}, the map has {names}")
if not named:
    print(f"expected frames named from {path}, got none")
whole = [site for site in r.get("sites") or []
         if site.get("stack_stop") == "end" and
         site["frames"][-1]["function"] == "_start" and
         any(f.get("object") == path for f in site["frames"])]
if not whole:
    print("expected stacks through V8's code to _start, got none")
stops = k.get("stack_stops") or {}
if stops.get("no_mapping", 0) * 100 > sum(stops.values()):
    print(f"expected under 1% of stacks to stop in no mapping, got {stops}")
api = [site for site in r.get("sites") or []
       if any(f["function"] == "Builtins_CallApiCallback"
              for f in site["frames"])]
at = [site["stack_stop"] for site in api
      if site["frames"][-1]["function"] == "Builtins_CallApiCallback"]
whole = [site for site in api if site["frames"][-1]["function"] == "_start"]
if not whole or at:
    print(f"stacks through Builtins_CallApiCallback: expected them past it "
          f"to _start, got {len(api)}: {len(whole)} to _start, "
          f"{len(at)} stopping there ({at[:5]})")
if stops.get("not_loaded", 0) * 100 > sum(stops.values()):
    print(f"expected under 1% of stacks to stop as not_loaded, got {stops}")
EOF
}

# SIGNAL to the tool while it traces a process that does nothing: exit 0,
# report written, and every BPF program it loaded is gone afterwards.
t_signal()
{
	local sig=$1 progs

	sleep 30 &
	target_pid=$!
	bg_pids="$bg_pids $target_pid"
	tool_bg -q -o "$d/out/report.json" -p "$target_pid" || return
	wait_tracing || return
	progs=$(bpf_progs_of "$tool_pid")
	if [ -z "$progs" ]; then
		fail "bpftool prog show: expected programs held by pid $tool_pid while tracing, got none"
	fi
	running "$tool_job" && kill "-$sig" "$tool_pid"
	tool_wait
	expect_report any --pid "$target_pid" --exited no
	# shellcheck disable=SC2086
	expect_progs_gone $progs
}

# Builds the static target from static.c.in into $d: $1 = extra gcc flags.
# Copied to static.c first so its debug info names static.c.
build_static()
{
	local out=$1

	shift
	cp "$src/static.c.in" "$d/static.c"
	if ! gcc -static -O1 -fno-omit-frame-pointer -fno-inline -Wall \
		-Werror -I"$src" "$@" "$d/static.c" -o "$d/$out" \
		>"$d/gcc.log" 2>&1; then
		return 1
	fi
}

# A static, stripped executable: no allocator symbols anywhere. Without
# libc.a, a -nostdlib program that never allocates makes the same point.
t_static_stripped()
{
	local mode=$1 exe=$d/static_stripped

	if ! build_static static_stripped -s; then
		gcc -static -nostdlib -s -O1 -fno-stack-protector \
			-x c "$src/nolibc.c.in" -o "$exe" >>"$d/gcc.log" 2>&1 || {
			fail "could not build a static target: $(cat "$d/gcc.log")"
			return
		}
		mode=launch	# the fallback has no --wait
	fi
	if [ "$mode" = attach ]; then
		start_target "$exe" || return
		tool -q -p "$target_pid"
	else
		tool -q -- "$exe"
		expect_no_process_of "$exe"
	fi
	expect_error 1 'symbol|malloc|allocator'
}

# A Go program without cgo, stripped: its heap is the Go runtime's. Launched
# or attached, one line says so, exit 1 (the tree before said "a static
# build without symbols" and "is it stripped and static?").
t_go_pure()
{
	tool -q -- "$TARGETS/go_pure"
	expect_error 1 ': a Go program allocates with the Go runtime, not malloc' ||
		return
	start_ready "$TARGETS/go_pure" 30 || return
	tool -q -p "$target_pid"
	expect_error 1 'in any object it maps: a Go program allocates with the Go runtime'
}

# A process that allocates through the tool's own allocator (another copy
# of the tool: here one blocked opening a recording that is a FIFO nobody
# writes) is traced without that allocator's probes, which would trap on
# the tool's own allocations: its figures are short, and a line says so,
# even with -q.
t_own_allocator()
{
	local pid= hint

	mkfifo "$d/rec.msr" || return
	printf '%q report %q &\n' "$MEMSCOPE" "$d/rec.msr" >>"$d/cmd"
	$TIMEOUT "$MEMSCOPE" report "$d/rec.msr" >/dev/null 2>&1 &
	bg_pids="$bg_pids $!"
	# timeout's child, once it runs the tool
	for _ in $(seq 50); do
		pid=$(pgrep -P "$!" | head -n 1)
		[ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe")" = \
			"$(readlink -f "$MEMSCOPE")" ] && break
		sleep 0.1
	done
	tool -q -p "$pid" -d 0.3
	# A writer that comes and goes: the copy reads an empty file, and ends.
	: >"$d/rec.msr"
	expect_rc 0 && expect_clean_stderr || return
	# a copy helps where the allocator is in the tool's file, not where
	# it is a library (the ASan build's libasan)
	hint="trace it with a build of the tool that does not use that file"
	[ "$(readlink -f "$MEMSCOPE")" -ef "$(sed -n 's/^memscope-bpf: warning: \(.*\) is the allocator this tool calls itself.*/\1/p' "$d/stderr")" ] &&
		hint="trace it with a copy of the tool, whose own allocator is another file"
	grep -qF "is the allocator this tool calls itself and is not probed: what the process allocates through it is not counted ($hint)" "$d/stderr" ||
		fail "stderr: expected the unprobed-allocator warning, '$hint', got: $(cat "$d/stderr")"
}

t_static()
{
	if ! build_static static -g; then
		fail "could not build the static target (libc.a?): $(cat "$d/gcc.log")"
		return
	fi
	tool -q -t 0 -o "$d/out/report.json" -- "$d/static"
	expect_report static --pid "$(launched_pid)" --exited yes \
		--exit-status 0 --object static
}

# Declarations through libmemscope-usdt.so (the probes other languages
# call), a DT_NEEDED library found through RUNPATH: -- mode must find its
# notes in the file before exec, -p mode in the process's maps.
t_usdt_lib()
{
	local lib

	lib=$(dirname "$TARGETS")
	cp "$src/uselib.c.in" "$d/uselib.c"
	if ! gcc -g -O1 -fno-omit-frame-pointer -Wall -Werror -I"$src" \
		-I"$src/../../include" "$d/uselib.c" -L"$lib" -lmemscope-usdt \
		-Wl,-rpath,"$lib" -o "$d/uselib" >"$d/gcc.log" 2>&1; then
		fail "could not build uselib against $lib/libmemscope-usdt.so: $(cat "$d/gcc.log")"
		return
	fi
	trace_program "$1" "$d/uselib" any
	check_report <<-'EOF'
	names = [t.get("name") for t in (r.get("declared") or {}).get("tracked") or []]
	if "via the library" not in names:
	    print(f"declared.tracked: expected 'via the library', got {names}")
	EOF
}

# Markup and an unterminated string declared as names: carried as data,
# the unterminated one cut at 63 bytes and the cut counted.
t_hostile()
{
	trace_program launch "$TARGETS/hostile" any
	check_report <<-'EOF'
	names = [t.get("name") for t in (r.get("declared") or {}).get("tracked") or []]
	cut = [n for n in names if n and n.startswith("<svg onload")]
	if len(cut) != 1 or len(cut[0]) != 63:
	    print(f"declared.tracked: expected one <svg...> name cut to 63 bytes, got {cut}")
	if "<script>document.body.dataset.pwned='script'</script>" not in names:
	    print(f"declared.tracked: expected the <script> name as data, got {names}")
	n = (r.get("kernel") or {}).get("strings_cut")
	if n != 1:
	    print(f"kernel.strings_cut: expected 1, got {n}")
	EOF
}

# A program's file name is the traced process's to choose: one holding a
# terminal control sequence (OSC 0, which retitles the window) is written
# escaped wherever the tool prints it for a person: the report's header
# and -v's lines of the probes and unwind tables, and no ESC or BEL byte
# reaches stdout or stderr.
t_hostile_names()
{
	local bad

	bad="$d/x$(printf '\033')]0;pwned$(printf '\007')y"
	cp "$TARGETS/leaky" "$bad" || return
	tool -v -t 3 -- "$bad"
	expect_rc 0 && expect_clean_stderr || return
	if LC_ALL=C grep -q "$(printf '[\033\007]')" "$d/stdout" "$d/stderr"; then
		fail "a control byte reached the terminal: $(LC_ALL=C grep -c "$(printf '[\033\007]')" "$d/stdout" "$d/stderr")"
	fi
	grep -qF 'unwind table '"$d"'/x\x1b]0;pwned\x07y: ' "$d/stderr" ||
		fail "-v: expected the unwind table line of the program, escaped, got: $(grep 'unwind table' "$d/stderr" | head -3)"
	grep -qF "($d/x\\x1b]0;pwned\\x07y)" "$d/stdout" ||
		fail "report header: expected the command escaped, got: $(head -1 "$d/stdout")"
}

# A process that maps code which is no ELF object (a JIT's memfd, a data
# file mapped executable): -p passes over those and probes the rest. The
# tree before refused it ("cannot read /memfd:jit: Exec format error").
# A -p target is no child of the tool: its wait status is the kernel's,
# read as its last thread exits (every one said "exited with status 0",
# also one killed by a signal). In text, JSON and the recording's replay.
t_attach_exit_status()
{
	local sig status text

	for sig in USR1 KILL; do
		if [ "$sig" = USR1 ]; then
			status=768 text="exited with status 3"
		else
			status=9 text="killed by signal 9 (Killed)"
		fi
		# Not a job of this shell, which would say "Killed".
		(sh -c 'trap "exit 3" USR1; while :; do sleep 0.05; done' &
		 echo $! >"$d/target.pid")
		target_pid=$(cat "$d/target.pid")
		bg_pids="$bg_pids $target_pid"
		tool_bg -t 0 -o "$d/out/report.json" -w "$d/out/t.msr" \
			-p "$target_pid" || return
		wait_tracing || return
		kill -"$sig" "$target_pid"
		tool_wait
		expect_rc 0 && expect_clean_stderr || return
		grep -q "(sh -c .*), traced for .*, $text\$" "$d/stdout" ||
			fail "-p, SIG$sig: expected the report to say \"$text\", got: $(grep -m1 'report: pid' "$d/stdout")"
		check_report <<-EOF
		t = r.get("target", {})
		if (t.get("exited"), t.get("exit_status")) != (True, $status):
		    print(f"-p, SIG$sig: target.exited, exit_status: expected True, $status; got {t.get('exited')}, {t.get('exit_status')}")
		EOF
		tool report "$d/out/t.msr"
		grep -q ", $text\$" "$d/stdout" ||
			fail "report of the recording, SIG$sig: expected \"$text\", got: $(grep -m1 'report: pid' "$d/stdout")"
	done
}

t_attach_execmap()
{
	attach_released -- "$TARGETS/execmap" || return
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$UW_PY
l = leak("execmap_leak")
if l and (l["count"], l["bytes"], l["stack_stop"]) != (5, 240, "end"):
    print(f"execmap_leak: expected 5 blocks, 240 bytes, stack_stop end; got {l['count']}, {l['bytes']}, {l['stack_stop']}")
EOF
}

# A target that ends on its own, long before -d.
t_exits_mid()
{
	if [ "$1" = attach ]; then
		t_attach exits_mid exits_mid -d 30
	else
		t_launch exits_mid exits_mid -d 30
	fi
	python3 - "$d/out/report.json" <<-'EOF' >>"$d/fail" 2>&1
	import json, sys
	try:
	    d = json.load(open(sys.argv[1]))["target"]["duration_ns"] / 1e9
	except Exception:
	    sys.exit(0)             # expect_report said why
	if d > 10:
	    print(f"target.duration_ns: expected ~1 s (the target exited), got {d:.1f} s")
	EOF
}

# Under -- CMD every thread of the target is the tool's tracee (so any can
# be held at a new mapping), yet a SIGSTOP somebody else sends is still a
# stop of the whole program, and SIGCONT ends it: the tool takes only its
# own stops.
t_launch_user_stop()
{
	local pid st t stopped=yes

	tool_bg -q -t 0 -o "$d/out/report.json" -- /usr/bin/python3 -c '
import sys, threading, time
ts = [threading.Thread(target=time.sleep, args=(2,)) for _ in range(3)]
for t in ts:
    t.start()
print("up", flush=True)
for t in ts:
    t.join()
' || return
	wait_for "$d/stdout" '^up$' 30 || {
		fail "target: expected 'up' on stdout within 30 s, got none"
		return
	}
	pid=$(traced_pid)
	kill -STOP "$pid"
	sleep 0.5
	for t in /proc/"$pid"/task/*; do
		st=$(sed 's/.*) \(.\).*/\1/' "$t/stat" 2>/dev/null)
		case $st in
		T|t) ;;
		*) stopped="no (thread ${t##*/} in state $st)" ;;
		esac
	done
	[ "$stopped" = yes ] ||
		fail "kill -STOP $pid: expected every thread stopped, got $stopped"
	kill -CONT "$pid"
	tool_wait
	expect_rc 0
	expect_report any --pid "$pid" --exited yes --exit-status 0
}

# A pid that exits while the tool attaches (short lives 50 ms; attaching
# takes longer): either a report of what was seen, or one line about the
# pid; quickly either way. It stays our unreaped child, so it is a zombie
# by the time the tool looks: the tool must not wait for /proc/PID to go.
t_exits_during_attach()
{
	local start=$SECONDS

	"$TARGETS/short" >/dev/null &
	target_pid=$!
	bg_pids="$bg_pids $target_pid"
	tool -q -o "$d/out/report.json" -p "$target_pid"
	if [ $((SECONDS - start)) -gt 10 ]; then
		fail "tool: expected to stop soon after pid $target_pid exited, took $((SECONDS - start)) s"
	fi
	if [ "$rc" -eq 0 ]; then
		expect_report any --pid "$target_pid" --exited yes
	else
		expect_error 1 "$target_pid"
	fi
}

# -p on a process that is allocating all along: the attach cuts calls in
# half, and nothing after that may look nested or go missing.
t_busy()
{
	# busy says "ready" at once: it does not wait to start allocating.
	start_ready "$TARGETS/busy" || return
	tool_bg -q -t 0 -o "$d/out/report.json" -p "$target_pid" || return
	wait_tracing || return
	sleep 0.3
	kill -USR1 "$target_pid"
	tool_wait
	expect_report busy --pid "$target_pid" --exited yes --object busy
}

# -p and -d on a program that never stops allocating: the trace starts and
# ends while calls are in flight, the probes going in and out one link at
# a time. Nothing half seen may be judged: a block new made while only
# malloc was probed, freed by a probed delete, looked mismatched; a free
# still probed after its allocator's return was gone took a reused
# address for a double free. TARGET: busy (malloc, free) or busy_cxx (new
# over malloc, delete over free); SEL: -p or --comm, the one-process and
# the set filters.
t_attach_busy()
{
	start_ready "$TARGETS/$1" || return
	if [ "$2" = -p ]; then
		tool -q -t 0 -d 1 -o "$d/out/report.json" -p "$target_pid"
	else
		tool -q -t 0 -d 1 -o "$d/out/report.json" --comm "$1"
	fi
	expect_rc 0 || return
	check_report <<-'EOF'
	bad = [(a.get("kind"), a.get("alloc_family"), a.get("free_family"), a.get("count"))
	       for a in r.get("anomalies") or []]
	if bad:
	    print(f"anomalies: expected none (every block is freed by its own kind), got (kind, alloc family, free family, count) {bad}")
	if not s.get("allocs"):
	    print("summary.allocs: expected the target's allocations, got none")
	# The kernel's stops count the stacks the sites show: the walked
	# suspect frees (blocks from before the start) are not among them.
	stops = sum((k.get("stack_stops") or {}).values())
	sited = sum(x.get("alloc_count", 0) for x in r.get("sites") or [])
	if stops != sited:
	    print(f"kernel.stack_stops: expected the sites' {sited} allocation stacks, got {stops}")
	EOF
}

# A plugin host that unloads one library and loads another at its place,
# over and over (stk_reload), traced with -p or --comm: the walker must
# not unwind one plugin's code with the other's rows (the maps it was
# given are stale from the first change until they are read again), and
# no frame may be named after the plugin that was not there. The maps
# reads see both plugins at the same addresses, so their frames are
# labelled as reused; a name that is given must fit its stack's shape.
t_reload()
{
	start_ready "$TARGETS/stk_reload" || return
	if [ "$1" = -p ]; then
		tool -q -t 0 -d 1 -o "$d/out/report.json" -p "$target_pid"
	else
		tool -q -t 0 -d 1 -o "$d/out/report.json" --comm stk_reload
	fi
	expect_rc 0 || return
	check_report <<-'EOF'
	stops = k.get("stack_stops") or {}
	bad = {x: n for x, n in stops.items() if n and x not in ("end", "not_loaded")}
	if bad:
	    print(f"kernel.stack_stops: expected only end and not_loaded (the plugins have CFI), got {bad}")
	shapes = {"reload_a_leaf": ["reload_entry"],
	          "reload_b_leaf": ["reload_b_mid", "reload_entry"],
	          "reload_b_mid": ["reload_entry"]}
	reused = plugin = 0
	for x in r.get("sites") or []:
	    fr = x.get("frames") or []
	    names = [f.get("function") for f in fr]
	    if not any(n == "reload_run" for n in names):
	        continue
	    plugin += x.get("alloc_count", 0)
	    if x.get("stack_stop") == "end" and "main" not in names:
	        print(f"site {names}: stops as end without reaching main")
	    reused += sum(1 for f in fr if f.get("object") == "[address reused by other code]")
	    for i, n in enumerate(names):
	        want = shapes.get(n)
	        if want and names[i + 1:i + 1 + len(want)] != want:
	            print(f"site {names}: {n} named in a stack of the other plugin's shape (expected it followed by {want})")
	if not plugin:
	    print("sites: expected the plugins' allocations, got none")
	if not reused:
	    print("frames: expected plugin frames labelled '[address reused by other code]', got none")
	EOF
}

# A Go program allocating through cgo (stk_go), launched or attached: the
# C leaf's stack goes on through runtime.asmcgocall, whose epilogue puts
# the goroutine's stack back, into the program's Go functions (their CFI
# from .debug_frame) and ends where every goroutine begins, at
# runtime.goexit: one row for each goroutine's site, whole and named, with
# its file and line. stk_go_stripped, the same built with -s -w (no
# .symtab, no DWARF), gets the same from Go's own function table.
# t_go MODE [PROG]
t_go()
{
	local prog=${2:-stk_go}

	if [ "$1" = attach ]; then
		attach_released -- "$TARGETS/$prog" || return
	else
		tool -q -t 0 -o "$d/out/report.json" -- "$TARGETS/$prog"
		expect_rc 0 || return
	fi
	check_report <<-'EOF'
	import re
	tail = [r"go_leaf", r"go_entry", r"runtime\.asmcgocall(\.abi0)?",
	        r"runtime\.cgocall", r"main\._Cfunc_go_entry(\.abi0)?",
	        r"main\.goInner", r"main\.goOuter"]
	want = {"main": (100, tail + [r"main\.main", r"runtime\.main",
	                              r"runtime\.goexit(\.abi0)?"]),
	        "goroutine": (50, tail + [r"main\.main\.func1",
	                                  r"runtime\.goexit(\.abi0)?"])}
	rows = [x for x in r.get("sites") or []
	        if (x.get("frames") or [{}])[0].get("function") == "go_leaf"]
	got = {}
	for x in rows:
	    names = [f.get("function") or f.get("addr") for f in x["frames"]]
	    for key, (count, chain) in want.items():
	        if len(names) == len(chain) and all(re.fullmatch(c, n or "") for c, n in zip(chain, names)):
	            got[key] = got.get(key, 0) + 1
	            if x.get("alloc_count") != count or x.get("stack_stop") != "end":
	                print(f"{key} site: expected {count} allocations ending at runtime.goexit (end), got {x.get('alloc_count')} ({x.get('stack_stop')})")
	            break
	    else:
	        print(f"go_leaf row {names} ({x.get('stack_stop')}, {x.get('alloc_count')}): expected one of the two whole chains")
	    for f in x["frames"]:
	        if f.get("function") in ("main.goInner", "main.goOuter") and not (f.get("file") or "").endswith("stk_go.go"):
	            print(f"frame {f.get('function')}: expected its line in stk_go.go, got {f.get('file')}:{f.get('line')}")
	for key in want:
	    if got.get(key) != 1:
	        print(f"{key} goroutine's site: expected exactly one row, got {got.get(key, 0)}")
	# The runtime maps its heap through C (callCgoMmap, which realigns
	# rsp): those stacks stop there, never on a guessed frame.
	for x in (r.get("anon_memory") or {}).get("sites") or []:
	    if x.get("stack_stop") in ("no_mapping", "read"):
	        print(f"anon site {[f.get('function') or f.get('addr') for f in x['frames']]}: stops as {x['stack_stop']} (a guessed frame)")
	EOF
}

# A kernel live table too small for the target (--max-live 1 still gets the
# smallest table, 1024 slots, for 5000 blocks): the kernel says it is
# inexact and counts what it missed, its derived counters stay consistent,
# the stream stays exact, and the text report says which to trust.
t_live_full()
{
	tool -t 0 --max-live 1 -o "$d/out/report.json" -- "$TARGETS/many"
	if [ "$rc" -ne 0 ]; then
		fail "exit status: expected 0, got $rc: $(head -c 300 "$d/stderr")"
		return
	fi
	grep -q 'inexact' "$d/stdout" ||
		fail "text report: expected the kernel counters labelled inexact, got: $(grep -i kernel "$d/stdout")"
	check_report <<-'EOF'
	want = {"allocs": 5000, "frees": 2500, "live_allocs": 2500,
	        "live_bytes": 40000, "peak_bytes": 80000}
	for key, v in want.items():
	    if s.get(key) != v:
	        print(f"summary.{key}: expected {v} (the stream is exact), got {s.get(key)}")
	if k.get("exact") is not False or not k.get("live_full"):
	    print(f"kernel: expected exact false and live_full > 0, got exact {k.get('exact')} live_full {k.get('live_full')}")
	if k.get("allocs") != 5000:
	    print(f"kernel.allocs: expected 5000 (counted even when not tracked), got {k.get('allocs')}")
	blocks = k.get("allocs", 0) - k.get("live_full", 0) - k.get("frees", 0)
	if k.get("live_blocks") != blocks:
	    print(f"kernel.live_blocks: expected allocs - live_full - frees = {blocks}, got {k.get('live_blocks')}")
	if k.get("live_bytes") != 16 * k.get("live_blocks", -1):
	    print(f"kernel.live_bytes: expected 16 per tracked live block, got {k.get('live_bytes')} for {k.get('live_blocks')}")
	if k.get("free_bytes") != 16 * k.get("frees", -1):
	    print(f"kernel.free_bytes: expected 16 per kernel free, got {k.get('free_bytes')} for {k.get('frees')}")
	EOF
}

# The consumer stopped while busy allocates as fast as it can: the ring runs
# full, and what it drops is counted, never silent: lost events in the
# kernel counters and the summary, a stream that undercounts the kernel's
# exact counters, and the text report saying so.
t_lost_events()
{
	start_ready "$TARGETS/busy" || return
	tool_bg -t 0 -o "$d/out/report.json" -p "$target_pid" || return
	wait_tracing || return
	kill -STOP "$tool_pid"
	sleep 1.5
	kill -CONT "$tool_pid"
	sleep 0.3
	kill -USR1 "$target_pid"
	tool_wait
	grep -q 'lost (ring buffer full)' "$d/stdout" ||
		fail "text report: expected the lost events stated, got: $(head -c 600 "$d/stdout")"
	check_report <<-'EOF'
	lost = k.get("lost_events", 0)
	if not lost:
	    print(f"kernel.lost_events: expected records lost while the consumer was stopped, got {lost}")
	if s.get("lost_events", 0) < lost:
	    print(f"summary.lost_events: expected at least the kernel's {lost}, got {s.get('lost_events')}")
	if k.get("exact") is not True:
	    print(f"kernel.exact: expected true (the live table did not fill), got {k.get('exact')}")
	if not k.get("allocs", 0) > s.get("allocs", 0):
	    print(f"allocs: expected the stream ({s.get('allocs')}) below the kernel's exact count ({k.get('allocs')})")
	EOF
}

# MODE: calls glibc makes by jumping to another allocator (realloc(NULL, n)
# to malloc, reallocarray to realloc) count once, at the caller's site;
# two calls from one frame stay two. --mode=alloc has no returns to go by.
t_tailcalls()
{
	tool -q -t 0 --mode="$1" -o "$d/out/report.json" -- "$TARGETS/tailcalls"
	expect_rc 0 || return
	check_report <<-'EOF'
	calls = {}
	for site in r.get("sites") or []:
	    f = (site.get("frames") or [{}])[0]
	    calls.setdefault(f.get("function"), []).append(site.get("alloc_count"))
	want = {"realloc_null": [100], "reallocarray_null": [100],
	        "realloc_then_malloc": [100, 100]}
	for fn, counts in want.items():
	    if sorted(calls.get(fn, [])) != counts:
	        print(f"sites of {fn}: expected allocation calls {counts}, got {sorted(calls.get(fn, []))}")
	EOF
}

t_alloc_mode()
{
	tool -q -t 0 --mode=alloc -o "$d/out/report.json" -- "$TARGETS/leaky"
	expect_report alloc --pid "$(launched_pid)" --exited yes --mode alloc
}

# --- tests: allocator families and anomalies -------------------------------------

# ALLOCATOR LIB: fam_c with LIB preloaded (none for glibc), attached with -p
# (the preload is the target's alone): exact leaks per site and family.
t_fam_c()
{
	local alloc=$1 lib=$2

	if [ -n "$lib" ] && [ ! -e "$lib" ]; then
		fail "$lib: expected it installed (scripts/install-deps.sh)"
		return
	fi
	attach_released -- env ${lib:+LD_PRELOAD=$lib} "$TARGETS/fam_c" ||
		return
	expect_report "fam_c_$alloc" --pid "$target_pid" --exited yes \
		--object fam_c
}

# The anomalies fam_bad.cc makes, as (kind, alloc family, free family,
# freeing function, allocating function): each once, and nothing else.
# MODE launch: the trace begins with the process, so the free of an
# address never allocated is invalid; attach: it is an unknown free.
t_fam_bad()
{
	local mode=$1

	if [ "$mode" = attach ]; then
		start_target env GLIBC_TUNABLES=glibc.malloc.tcache_count=0 \
			"$TARGETS/fam_bad" || return
		tool_bg -q -t 0 -o "$d/out/report.json" -p "$target_pid" ||
			return
		wait_tracing || return
		kill -USR1 "$target_pid"
		tool_wait
	else
		run GLIBC_TUNABLES=glibc.malloc.tcache_count=0 "$MEMSCOPE" -q \
			-t 0 -o "$d/out/report.json" -- "$TARGETS/fam_bad"
	fi
	expect_rc 0 || return
	expect_clean_stderr
	MODE=$mode check_report <<-'EOF'
	import os
	mode = os.environ["MODE"]
	def fn(frames):
	    return (frames or [{}])[0].get("function")
	got = sorted((a.get("kind"), a.get("alloc_family"), a.get("free_family"),
	              fn(a.get("free_frames")), fn(a.get("alloc_frames")),
	              a.get("count"), a.get("source"))
	             for a in r.get("anomalies") or [])
	want = [("double_free", "malloc", "malloc", "bad_double()", "bad_double()"),
	        ("mismatched_free", "malloc", "new", "bad_malloc_delete()",
	         "bad_malloc_delete()"),
	        ("mismatched_free", "new", "malloc", "bad_new_free()",
	         "bad_new_free()"),
	        ("mismatched_free", "new", "new[]", "bad_new_delete_array()",
	         "bad_new_delete_array()"),
	        ("mismatched_free", "new[]", "new", "bad_array_delete()",
	         "bad_array_delete()")]
	if mode == "launch":
	    want.append(("invalid_free", None, "malloc", "bad_invalid()", None))
	want = sorted(w + (1, "captured") for w in want)
	if got != want:
	    print(f"anomalies: expected {want}, got {got}")
	if s.get("anomalies") != len(want):
	    print(f"summary.anomalies: expected {len(want)}, got {s.get('anomalies')}")
	if mode == "attach" and (s.get("unknown_frees") or 0) < 1:
	    print(f"summary.unknown_frees: expected >= 1 (the invalid free, "
	          f"unknown with -p), got {s.get('unknown_frees')}")
	EOF
}

# fam_bad's Rust side: the double and the invalid free go through the
# global allocator's shim (__rust_dealloc), which is in the program: every
# free through it is called from the object that defines it, and none of
# them may be taken for the allocator's own free (which is not judged).
# PROG: fam_bad_rs, or fam_bad_rs_new (mangled shims, rustc >= 1.87).
t_fam_bad_rs()
{
	rust_built "$1" || return
	run env GLIBC_TUNABLES=glibc.malloc.tcache_count=0 "$MEMSCOPE" -q \
		-t 0 -o "$d/out/report.json" -- "$TARGETS/$1"
	expect_rc 0 || return
	check_report <<-'EOF'
	def fns(frames):
	    return [f.get("function") or "" for f in frames or []]
	def own(frames):
	    return next((f.split("::")[-1] for f in fns(frames)
	                 if f.startswith("fam_bad_rs::rs_")), None)
	got = sorted((a.get("kind"), a.get("alloc_family"), a.get("free_family"),
	              own(a.get("free_frames")), own(a.get("alloc_frames")),
	              a.get("count")) for a in r.get("anomalies") or [])
	want = [("double_free", "rust", "rust", "rs_double", "rs_double", 1),
	        ("invalid_free", None, "rust", "rs_invalid", None, 1)]
	if got != want:
	    print(f"anomalies: expected {want}, got {got}")
	if s.get("allocator_frees"):
	    print(f"summary.allocator_frees: expected 0 (no free through a shim is the allocator's), got {s.get('allocator_frees')}")
	EOF
}

# A block of mimalloc (loaded with dlopen) freed by glibc's free, which may
# abort the target: the trace says which allocator owned it.
t_fam_cross()
{
	attach_released -- "$TARGETS/fam_cross" || return
	expect_rc 0 || return
	check_report <<-'EOF'
	got = [(a.get("kind"), a.get("alloc_family"), a.get("free_family"),
	        a.get("other_allocator"), a.get("count"),
	        (a.get("free_frames") or [{}])[0].get("function"),
	        (a.get("alloc_frames") or [{}])[0].get("function"))
	       for a in r.get("anomalies") or []]
	want = [("mismatched_free", "mimalloc", "malloc", True, 1, "cross_free",
	         "cross_free")]
	if got != want:
	    print(f"anomalies: expected {want}, got {got}")
	EOF
}

# --- tests: bad input ----------------------------------------------------------

t_no_such_pid()
{
	local pid=999999

	# pid_max is at most 4194304; find a pid that is not there.
	while [ -e "/proc/$pid" ]; do pid=$((pid + 1)); done
	tool -q -p "$pid"
	expect_error 1 "$pid"
}

t_kernel_thread()
{
	if [ "$(cat /proc/2/comm 2>/dev/null)" != kthreadd ]; then
		fail "pid 2: expected kthreadd here, got '$(cat /proc/2/comm 2>/dev/null)' (pid namespace?)"
		return
	fi
	tool -q -p 2
	expect_error 1 'pid 2([^0-9]|$)|kernel|kthread'
}

t_no_such_command()
{
	tool -q -- /nonexistent/cmd
	expect_error 1 'nonexistent'
}

t_usage()
{
	tool --no-such-option
	expect_error 2 '.'
	tool -q
	expect_error 2 '.'
}

# A bare word is never a program to run: memscope-bpf top ran top, and
# memscope-bpf diff a b ran /usr/bin/diff.
t_unknown_command()
{
	local argv

	for argv in "top" "-d 1 top" "-w -- top" "-d 1 diff a.msr b.msr"; do
		# shellcheck disable=SC2086
		tool $argv
		expect_error 2 "^memscope-bpf: unknown command '(top|diff)' \(the commands are report and diff\); to trace a program: memscope-bpf -- (top|diff)\$"
		[ -s "$d/ready" ] &&
			fail "memscope-bpf $argv: expected nothing traced, got pid $(cat "$d/ready")"
	done
	# diff is a command now: of recordings, never /usr/bin/diff
	tool diff "$d/a.msr" "$d/b.msr"
	expect_error 1 "^memscope-bpf: cannot read recording .*/a.msr: No such file or directory\$"
}

# -q: the report on stdout and nothing at all on stderr.
t_quiet()
{
	tool -q -t 0 -- "$TARGETS/short"
	expect_rc 0
	[ -s "$d/stderr" ] &&
		fail "-q stderr: expected nothing, got: $(cat "$d/stderr")"
	grep -q '^memscope-bpf report: pid ' "$d/stdout" ||
		fail "-q stdout: expected the report, got: $(head -c 300 "$d/stdout")"
	[ -n "$(traced_pid)" ] ||
		fail "--ready-fd: expected the traced pid, got: $(cat "$d/ready")"
}

# A target of three threads that waits a minute, or until SIGTERM.
threads_py='
import signal, sys, threading, time
ev = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: (print("term", flush=True), sys.exit(0)))
ts = [threading.Thread(target=ev.wait, daemon=True) for _ in range(3)]
for t in ts:
    t.start()
print("up", flush=True)
time.sleep(60)
'

# t_end_running detach|kill|sigint: -d (or SIGINT to the tool alone, as
# a service manager sends it) ends tracing while the command runs.
t_end_running()
{
	local pid t st tracer want=$1 opt=

	[ "$want" = kill ] && opt=--kill
	if [ "$want" = sigint ]; then
		tool_bg -q -o "$d/out/report.json" -- /usr/bin/python3 -c \
			"$threads_py" || return
		wait_tracing || return
		wait_for "$d/stdout" '^up$' 30 ||
			fail "target: expected 'up' on stdout within 30 s, got none"
		kill -INT "$tool_pid"
		tool_wait
	else
		# shellcheck disable=SC2086
		tool -q -d 2 $opt -o "$d/out/report.json" -- /usr/bin/python3 \
			-c "$threads_py"
	fi
	expect_rc 0 && expect_clean_stderr
	pid=$(traced_pid)
	if [ -z "$pid" ]; then
		fail "--ready-fd: expected the traced pid, got none"
		return
	fi
	grep -q '^up$' "$d/stdout" ||
		fail "target: expected 'up' on stdout before tracing ended, got none"
	if [ "$want" = kill ]; then
		[ -d "/proc/$pid" ] &&
			fail "--kill: expected pid $pid gone, it runs: $(cat "/proc/$pid/stat")"
		grep -q ', killed when tracing ended (--kill)$' "$d/stdout" ||
			fail "report header: expected ', killed when tracing ended (--kill)', got: $(head -n 1 "$d/stdout")"
		check_report <<'PY'
t = r.get("target", {})
if (t.get("state"), t.get("exited"), t.get("exit_status")) != ("killed", True, 9):
    print(f"target: expected state killed, exited, status 9 (SIGKILL), got {t}")
PY
		return
	fi
	if [ ! -d "/proc/$pid" ]; then
		fail "detach: expected pid $pid to run on after tracing ended, it is gone"
		return
	fi
	for t in /proc/"$pid"/task/*; do
		tracer=$(sed -n 's/^TracerPid:\t//p' "$t/status" 2>/dev/null)
		st=$(sed 's/.*) \(.\).*/\1/' "$t/stat" 2>/dev/null)
		[ "${tracer:-0}" = 0 ] ||
			fail "detach: thread ${t##*/} still traced by pid $tracer"
		case $st in
		[tT]) fail "detach: thread ${t##*/} left stopped (state $st)" ;;
		esac
	done
	[ "$(ls /proc/"$pid"/task | wc -l)" -ge 4 ] ||
		fail "detach: expected the target's 4 threads, got $(ls /proc/"$pid"/task | wc -l)"
	grep -q ', still running when tracing ended: detached, left running$' \
		"$d/stdout" ||
		fail "report header: expected ', still running when tracing ended: detached, left running', got: $(head -n 1 "$d/stdout")"
	check_report <<'PY'
t = r.get("target", {})
if (t.get("state"), t.get("exited")) != ("detached", False):
    print(f"target: expected state detached, not exited, got {t}")
PY
	# Untraced now: a signal reaches it at once, as to any process.
	kill -TERM "$pid"
	wait_for "$d/stdout" '^term$' 5 ||
		fail "detach: expected the target to take SIGTERM and say 'term', got: $(tail -n 3 "$d/stdout")"
	kill -KILL "$pid" 2>/dev/null
}

# --min-size/--max-size live, --older from a recording: the leak lists
# and the sites' live figures count the blocks that pass, the totals all.
t_leak_filter()
{
	tool -q -t 0 --min-size 1001 --max-size 4096 -w "$d/rec.msr" \
		-o "$d/out/report.json" -- "$TARGETS/leaky"
	expect_rc 0 && expect_clean_stderr || return
	grep -q '^Leak filter: only blocks of at least 1001 bytes, of at most 4.0 KiB (4096 bytes)$' \
		"$d/stdout" ||
		fail "text: expected the 'Leak filter:' line, got: $(grep -A1 'Leak filter' "$d/stdout")"
	check_report <<'PY'
f = r.get("leak_filter") or {}
if (f.get("min_size"), f.get("max_size"), f.get("older_ns")) != (1001, 4096, 0):
    print(f"leak_filter: expected min 1001, max 4096, no age, got {f}")
funcs = lambda x: {fr.get("function") for fr in x["frames"]}
leaks = r.get("leaks", [])
got = set().union(*[funcs(x) for x in leaks]) if leaks else set()
for name in ("leak_in_thread_b", "leak_calloc", "leak_posix_memalign"):
    if name not in got:
        print(f"leaks: expected {name} (its blocks are 1024 to 4096 bytes), got {sorted(n for n in got if n)}")
for name in ("leak_in_thread_a", "leak_realloc", "leak_aligned_alloc"):
    if name in got:
        print(f"leaks: expected no {name} (its blocks are outside 1001..4096), got it")
for x in leaks:
    if not 1001 * x["count"] <= x["bytes"] <= 4096 * x["count"]:
        print(f"leak: {x['count']} blocks of {x['bytes']} bytes cannot all be 1001..4096")
n = sum(x["count"] for x in leaks)
if n != f.get("live_allocs") or sum(x["bytes"] for x in leaks) != f.get("live_bytes"):
    print(f"leak_filter: expected the leaks' sum ({n} blocks), got {f}")
if n < 10 or n >= s.get("live_allocs", 0):
    print(f"leak_filter: expected 10 or more of the {s.get('live_allocs')} live blocks to pass, got {n}")
live = sum(x["live_count"] for x in r.get("sites", []))
if live != n:
    print(f"sites: expected live_count to sum to the {n} filtered blocks, got {live}")
PY
	cp "$d/out/report.json" "$d/live.json"
	tool report "$d/rec.msr" -t 0 --min-size 1001 --max-size 4096 \
		-o "$d/out/report.json"
	expect_rc 0
	python3 - "$d/live.json" "$d/out/report.json" <<'PY' >>"$d/fail"
import json, msjson, sys
a, b = (msjson.load(p) for p in sys.argv[1:])
for k in ("leak_filter", "leaks", "sites"):
    if a.get(k) != b.get(k):
        print(f"report rec.msr: expected the live run's {k}, got another")
PY
	tool report "$d/rec.msr" -t 0 --older 1000 -o "$d/out/report.json"
	expect_rc 0
	grep -A1 '^Top leaking call sites' "$d/stdout" | grep -q '^  none$' ||
		fail "--older 1000: expected no leaks in a run of a second, got: $(grep -A2 '^Top leaking' "$d/stdout")"
	check_report <<'PY'
f = r.get("leak_filter") or {}
if f.get("older_ns") != 1000 * 10**9 or f.get("live_allocs") != 0 or r.get("leaks"):
    print(f"--older 1000: expected no block to pass, got {f}, {len(r.get('leaks', []))} leaks")
PY
	tool report "$d/rec.msr" --min-size 10 --max-size 5
	expect_error 2 'min-size'
}

# The heap scan's corpus (tests/targets/reach*, check_reach.py): the
# classes of every labelled site and the leaked cycles, scanned at the
# launched command's exit. t_reach_launch PROG [SCENARIO, PROG's if not
# given]
t_reach_launch()
{
	case $1 in
	*_new) rust_built "$1" || return ;;
	esac
	tool -q -t 0 --reachability -o "$d/out/report.json" -- "$TARGETS/$1"
	expect_rc 0 && expect_clean_stderr || return
	grep -q '^Reachability (heap scan of ' "$d/stdout" ||
		fail "text: expected the 'Reachability (heap scan of' section, got none"
	grep -q '^  Leaked cycles (' "$d/stdout" ||
		fail "text: expected the 'Leaked cycles' lines, got none"
	python3 "$here/check_reach.py" check "${2:-$1}" "$d/out/report.json" \
		>>"$d/fail"
}

# --clone-window: the clone candidates' span, in the text, the JSON and
# the groups (the corpus' three copies are one group still); refused
# without --reachability.
t_reach_clone_window()
{
	tool -q -t 0 --reachability --clone-window 5 -o "$d/out/report.json" \
		-- "$TARGETS/reach"
	expect_rc 0 && expect_clean_stderr || return
	grep -q '^  Clone candidates (.*allocated within 5000 ms' "$d/stdout" ||
		fail "text: expected 'allocated within 5000 ms' in the clone candidates' heading, got: $(grep 'Clone candidates' "$d/stdout")"
	check_report <<'PY'
c = (r.get("graph") or {}).get("clones") or {}
if c.get("window_ms") != 5000:
    print(f"graph.clones.window_ms: expected 5000, got {c.get('window_ms')}")
PY
	python3 "$here/check_reach.py" check reach "$d/out/report.json" \
		>>"$d/fail"
	tool --clone-window 5 -- /bin/true
	expect_error 2 'clone-window.*reachability'
}

# --reachability scans live blocks, which --mode=alloc does not keep.
t_reach_alloc_mode()
{
	tool --mode=alloc --reachability -- /bin/true
	expect_error 2 'reachability.*mode=alloc'
}

# A running process: scanned on SIGUSR1 to the tool (a launched command
# too: the tool, its tracer, holds it for the copy) and when tracing ends;
# let go after each scan, it runs on (-p), or is killed (--kill).
t_reach_running()
{
	local how=$1 st out=$d/stdout

	if [ "$how" = attach ]; then
		out=$d/target.out
		REACH_HOLD=1 start_target "$TARGETS/reach" || return
		tool_bg -t 0 --reachability -o "$d/out/report.json" \
			-p "$target_pid" || return
		wait_tracing || return
		kill -USR1 "$target_pid"
	else
		printf 'REACH_HOLD=1 ' >>"$d/cmd"
		REACH_HOLD=1 tool_bg -t 0 --reachability --kill \
			-o "$d/out/report.json" -- "$TARGETS/reach" || return
		wait_tracing || return
		target_pid=$(traced_pid)
	fi
	wait_for "$out" '^built$' 10 ||
		{ fail "target: expected 'built' within 10 s, got none"; return; }
	kill -USR1 "$tool_pid"
	wait_for "$d/stderr" "^memscope-bpf: heap scan of pid $target_pid: " 10 ||
		fail "SIGUSR1: expected a 'heap scan of pid $target_pid' line within 10 s, got none"
	# Let go after the scan: it runs on, traced still (a launch).
	st=$(sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' \
		"/proc/$target_pid/status" 2>/dev/null)
	case $st in
	S|R) ;;
	*) fail "target: expected it running on after the SIGUSR1 scan, got state '$st'" ;;
	esac
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	python3 "$here/check_reach.py" check reach "$d/out/report.json" \
		>>"$d/fail"
	if [ "$how" = attach ]; then
		st=$(sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' \
			"/proc/$target_pid/status" 2>/dev/null)
		case $st in
		S|R) ;;
		*) fail "target: expected it running on after the scans, got state '$st'" ;;
		esac
	else
		[ -d "/proc/$target_pid" ] &&
			fail "--kill: expected pid $target_pid gone after the scan, it runs"
	fi
}

t_help_version()
{
	tool --help
	expect_rc 0
	grep -q -- '-p' "$d/stdout" ||
		fail "--help: expected usage mentioning -p on stdout, got: $(head -c 300 "$d/stdout")"
	tool --version
	expect_rc 0
	grep -q 'memscope-bpf' "$d/stdout" ||
		fail "--version: expected 'memscope-bpf VERSION' on stdout, got: $(cat "$d/stdout")"
}

# As nobody, from a copy nobody can read (the build tree may not be).
t_not_root()
{
	local copy=$d/memscope-bpf

	cp "$MEMSCOPE" "$copy" && chmod 755 "$d" "$copy"
	run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$copy" -q -- /bin/true
	expect_error 1 'root|CAP_BPF'
}

t_no_btf()
{
	run MEMSCOPE_BTF=/nonexistent "$MEMSCOPE" -q -- "$TARGETS/short"
	expect_error 1 'BTF'
	expect_no_process_of "$TARGETS/short"
}

# An output path that cannot be written: refused, and nothing created.
t_bad_output()
{
	local stray

	if [ -e /nonexistent-dir ]; then
		fail "/nonexistent-dir exists on this machine; cannot run this test"
		return
	fi
	tool -q -o /nonexistent-dir/r.json -- "$TARGETS/short"
	expect_error 1 'nonexistent-dir'
	[ -e /nonexistent-dir ] &&
		fail "/nonexistent-dir: expected nothing created, got: $(ls -la /nonexistent-dir)"
	# A directory where the file should go.
	mkdir "$d/out/r.json"
	tool -q -o "$d/out/r.json" -- "$TARGETS/short"
	expect_error 1 'r\.json'
	stray=$(files_except "$d/out/r.json" "")
	[ -n "$stray" ] &&
		fail "$d/out/r.json/: expected it left empty, got: $stray"
	stray=$(files_except "$d/out" r.json)
	[ -n "$stray" ] && fail "$d/out: expected nothing half-written, got: $stray"
}

# Commands the kernel would not run: one line each that says why, exit 1,
# nothing run. The tree before printed "cannot trace X: " with nothing
# after it for a missing #! interpreter.
t_bad_command()
{
	printf 'echo hi\n' >"$d/plain.sh"
	printf '#!/nonexistent/interp\necho hi\n' >"$d/badinterp.sh"
	chmod +x "$d/plain.sh" "$d/badinterp.sh"
	tool -q -- "$d/plain.sh"
	expect_error 1 "plain\.sh is neither an ELF program nor a #! script \(the kernel runs neither: give its interpreter, -- sh .*plain\.sh\)$"
	tool -q -- "$d/badinterp.sh"
	expect_error 1 "cannot read .*badinterp\.sh's interpreter /nonexistent/interp: No such file or directory$"
	tool -q -- "$d/nonexistent"
	expect_error 1 "cannot run .*nonexistent: No such file or directory$"
}

# -o - writes the JSON report to stdout, whole, and the text report to
# stderr, so that a pipe (| jq) gets the JSON alone; one output at most.
t_stdout_output()
{
	tool -t 0 -o - -- "$TARGETS/sysproc" leak 2 222
	expect_rc 0 && expect_clean_stderr || return
	python3 -c '
import json, msjson, sys
r = msjson.load(sys.argv[1])
got = (r["summary"]["allocs"], r["summary"]["live_bytes"])
if got != (2, 444):
    print(f"stdout JSON: expected (allocs, live bytes) (2, 444), got {got}")
' "$d/stdout" >"$d/check.out" 2>&1 || echo "stdout: expected the JSON report alone: $(head -c 300 "$d/stdout")" >>"$d/check.out"
	[ -s "$d/check.out" ] && fail "$(cat "$d/check.out")"
	grep -q '^memscope-bpf report: pid ' "$d/stderr" ||
		fail "stderr: expected the text report, got: $(head -3 "$d/stderr")"
	tool -q -o - --html - -- "$TARGETS/sysproc" leak 1 1
	expect_error 2 "only one output can be '-' \\(stdout\\)"
	# a page's name for the JSON: refused before anything runs (the tree
	# before wrote JSON into r.html, found out only in the browser)
	tool -q -o "$d/r.html" -- "$TARGETS/sysproc" leak 1 1
	expect_error 2 "^memscope-bpf: -o .*/r\\.html: -o writes the JSON report; the dashboard is --html .*/r\\.html$"
	[ ! -e "$d/r.html" ] || fail "-o r.html: expected no file written"
}

# --- tests: symbols -----------------------------------------------------------

# C++ names in a live trace: demangled, the mangled name beside them, and
# the inlined call of the immediate caller a frame of its own at its line.
t_names()
{
	echo "g++ -O2 -g $here/names.cc -o $d/names" >>"$d/cmd"
	g++ -O2 -g "$here/names.cc" -o "$d/names" 2>"$d/gxx.err" || {
		fail "g++: could not build names.cc: $(cat "$d/gxx.err")"
		return
	}
	tool -q -t 0 -o "$d/out/report.json" -- "$d/names"
	expect_rc 0 || return
	SRC="$here/names.cc" check_report <<'PY'
import os, re
lines = {}
for i, text in enumerate(open(os.environ["SRC"]), 1):
    m = re.search(r"@line (\w+)", text)
    if m:
        lines[m.group(1)] = i
stacks = [x["frames"] for x in r.get("leaks", [])]
want_new = {"function": "std::__cxx11::basic_string<char, "
                        "std::char_traits<char>, std::allocator<char> >::"
                        "_M_construct(unsigned long, char)",
            "mangled": "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE"
                       "12_M_constructEmc",
            "inlined": False}
if not any({k: f.get(k) for k in want_new} == want_new
           for st in stacks for f in st[:1]):
    print(f"leaks: expected a stack starting at {want_new}, got "
          f"{[st[:1] for st in stacks]}")
want = [("shop::Pool<long>::take(unsigned long)", "_ZN4shop4PoolIlE4takeEm",
         True, lines["take"]),
        ("shop::Basket::fill(int)", "_ZN4shop6Basket4fillEi", False,
         lines["fill"])]
got = [[(f.get("function"), f.get("mangled"), f.get("inlined"), f.get("line"))
        for f in st[:2]] for st in stacks]
if want not in got:
    print(f"leaks: expected a stack starting {want} (function, mangled, "
          f"inlined, line), got {got}")
PY
}

# Rust names, legacy (without their ::h<hash>) and v0, demangled in a
# live trace, with the inlined call of the immediate caller.
# t_rust_names RUSTC: built by that compiler (Debian's, or the rustc >=
# 1.87 the Makefile found: MEMSCOPE_RUSTC_NEW, empty when none).
t_rust_names()
{
	local v flags rustc=$1

	if [ -z "$rustc" ]; then
		skip "no rustc >= 1.87 on this machine (the Makefile's RUSTC_NEW, /root/.cargo/bin/rustc)"
		return
	fi
	for v in legacy v0; do
		flags=
		[ "$v" = v0 ] && flags="-C symbol-mangling-version=v0"
		echo "$rustc -O -g $flags --crate-name gt_rust $here/names.rs -o $d/names_$v" >>"$d/cmd"
		# shellcheck disable=SC2086
		"$rustc" -O -g $flags --crate-name gt_rust "$here/names.rs" \
			-o "$d/names_$v" 2>"$d/rustc.err" || {
			fail "rustc: could not build names.rs ($v): $(cat "$d/rustc.err")"
			return
		}
		tool -q -t 0 -o "$d/out/report.json" -- "$d/names_$v"
		expect_rc 0 || return
		SRC="$here/names.rs" V=$v check_report <<'PY'
import os, re
lines = {}
for i, text in enumerate(open(os.environ["SRC"]), 1):
    m = re.search(r"@line (\w+)", text)
    if m:
        lines[m.group(1)] = i
prefix = {"legacy": "_ZN7gt_rust", "v0": "_RNv"}[os.environ["V"]]
want = [("gt_rust::take", True, lines["take"]),
        ("gt_rust::make_node", False, lines["make_node"])]
stacks = [x["frames"][:2] for x in r.get("leaks", [])]
got = [[(f.get("function"), f.get("inlined"), f.get("line")) for f in st]
       for st in stacks]
if want not in got:
    print(f"{os.environ['V']}: expected a stack starting {want} (function, "
          f"inlined, line), got {got}")
for st in stacks:
    for f in st:
        if (f.get("function") or "").startswith("gt_rust::") and \
                not (f.get("mangled") or "").startswith(prefix):
            print(f"{os.environ['V']}: expected {f['function']}'s mangled "
                  f"name to start {prefix}, got {f.get('mangled')}")
PY
	done
}

# A target whose debug information is only on a debuginfod server that the
# test runs on localhost: with DEBUGINFOD_URLS its frames get file:line,
# without it they have none (so the lines came from the server).
t_debuginfod()
{
	local port id srv=$d/srv server _

	mkdir -p "$srv" "$d/cache"
	# .symtab stays: names come from the object, lines only from the server
	objcopy --only-keep-debug "$TARGETS/leaky" "$srv/leaky.debug" &&
		objcopy --strip-debug "$TARGETS/leaky" "$d/leaky" || {
		fail "objcopy: could not split the debug information of leaky"
		return
	}
	id=$(readelf -n "$d/leaky" | sed -n 's/^ *Build ID: //p')
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	echo "debuginfod -F -p $port -d $d/db.sqlite $srv &" >>"$d/cmd"
	$TIMEOUT debuginfod -F -p "$port" -d "$d/db.sqlite" "$srv" \
		>"$d/debuginfod.log" 2>&1 &
	server=$!
	bg_pids="$bg_pids $server"
	for _ in $(seq 100); do
		curl -sf -o /dev/null \
			"http://127.0.0.1:$port/buildid/$id/debuginfo" && break
		sleep 0.1
	done
	if ! curl -sf -o /dev/null "http://127.0.0.1:$port/buildid/$id/debuginfo"; then
		fail "debuginfod: expected it to serve build-id $id within 10 s, got: $(tail -5 "$d/debuginfod.log")"
		return
	fi

	run DEBUGINFOD_URLS= "$MEMSCOPE" -q -t 0 -o "$d/out/report.json" \
		-- "$d/leaky"
	expect_rc 0 || return
	LEAKY="$d/leaky" check_report <<'PY'
import os
obj = os.environ["LEAKY"]
frames = [f for x in r.get("leaks", []) for f in x["frames"]
          if f.get("object") == obj]
if not frames:
    print(f"leaks: expected frames in {obj}, got none")
elif any(f.get("file") for f in frames):
    print(f"without DEBUGINFOD_URLS: expected no file:line in {obj} "
          f"(its debug information is only on the server), got "
          f"{[(f['function'], f['file'], f['line']) for f in frames if f.get('file')][:3]}")
PY
	run DEBUGINFOD_URLS="http://127.0.0.1:$port" \
		DEBUGINFOD_CACHE_PATH="$d/cache" \
		"$MEMSCOPE" -q -t 0 -o "$d/out/report.json" -- "$d/leaky"
	expect_rc 0 || return
	LEAKY="$d/leaky" check_report <<'PY'
import os
obj = os.environ["LEAKY"]
# _start comes from crt1.o, which carries no debug information at all.
frames = [f for x in r.get("leaks", []) for f in x["frames"]
          if f.get("object") == obj and f.get("function") != "_start"]
bare = [f["function"] for f in frames
        if not (f.get("file") or "").endswith("leaky.c") or f.get("line", 0) <= 0]
if not frames:
    print(f"leaks: expected frames in {obj}, got none")
elif bare:
    print(f"with DEBUGINFOD_URLS: expected every frame in {obj} at "
          f"leaky.c:LINE from the server, got none for {bare[:5]}")
PY
}

# --- tests: recordings ------------------------------------------------------

# Exports beside the JSON: the same functions write them live and replayed.
EXPORTS="html pprof folded"

# Options that write every export of run NAME into $d.
export_opts()
{
	local e

	for e in $EXPORTS; do
		printf -- '--%s %s ' "$e" "$d/$1.$e"
	done
}

# same_file WHAT LIVE REPLAY: byte for byte, or a failure that says where.
same_file()
{
	cmp -s "$2" "$3" && return 0
	fail "$1: expected the replay's byte for byte the live run's, got a difference: $(cmp "$2" "$3" 2>&1)"
	case $1 in
	stdout) diff "$2" "$3" | head -n 20 | sed 's/^/    /' >>"$d/fail" ;;
	JSON) python3 "$here/check.py" same "$2" "$3" | sed 's/^/    /' \
		>>"$d/fail" ;;
	esac
}

# -w while tracing PROG (leaky unless given; -- or -p), then `report` on
# the file alone: the same stdout, the same JSON, the same exports, and no
# .partial left. t_record_replay launch|attach [PROG]
t_record_replay()
{
	local mode=$1 prog=${2:-leaky}

	if [ "$mode" = launch ]; then
		# shellcheck disable=SC2046
		tool -q -t 0 -o "$d/out/report.json" -w "$d/rec.msr" \
			$(export_opts live) -- "$TARGETS/$prog"
		expect_report "$prog" --pid "$(launched_pid)" --exited yes \
			--exit-status 0 --object "$prog"
	else
		start_target "$TARGETS/$prog" || return
		# shellcheck disable=SC2046
		tool_bg -q -t 0 -o "$d/out/report.json" -w "$d/rec.msr" \
			$(export_opts live) -p "$target_pid" || return
		wait_tracing || return
		kill -USR1 "$target_pid"
		tool_wait
		expect_report "$prog" --pid "$target_pid" --exited yes \
			--object "$prog"
	fi
	[ -s "$d/fail" ] && return
	mv "$d/stdout" "$d/live.stdout"
	if [ ! -f "$d/rec.msr" ] || [ -e "$d/rec.msr.partial" ]; then
		fail "-w $d/rec.msr: expected the file, and no .partial left, got: $(ls "$d")"
		return
	fi
	expect_replay_same
}

# `report` on $d/rec.msr gives the live run's stdout ($d/live.stdout), JSON
# and exports byte for byte, and says nothing on stderr.
expect_replay_same()
{
	local e

	# shellcheck disable=SC2046
	tool report "$d/rec.msr" -o "$d/replay.json" $(export_opts replay)
	expect_rc 0
	expect_clean_stderr
	[ -s "$d/stderr" ] &&
		fail "report stderr: expected nothing, got: $(cat "$d/stderr")"
	same_file stdout "$d/live.stdout" "$d/stdout"
	same_file JSON "$d/out/report.json" "$d/replay.json"
	for e in $EXPORTS; do
		same_file "--$e" "$d/live.$e" "$d/replay.$e"
	done
}

# --reachability with -w: the scans go into the recording (at the
# launched command's exit; or on SIGUSR1 and when tracing ends, -p), and
# `report` on the file gives the live run's stdout, JSON and exports byte
# for byte: the same classes, cycles and graph.
t_reach_replay()
{
	local how=$1

	if [ "$how" = launch ]; then
		# shellcheck disable=SC2046
		tool -q -t 0 --reachability -o "$d/out/report.json" \
			-w "$d/rec.msr" $(export_opts live) -- "$TARGETS/reach"
		expect_rc 0 && expect_clean_stderr || return
	else
		REACH_HOLD=1 start_target "$TARGETS/reach" || return
		# shellcheck disable=SC2046
		tool_bg -t 0 --reachability -o "$d/out/report.json" \
			-w "$d/rec.msr" $(export_opts live) -p "$target_pid" ||
			return
		wait_tracing || return
		kill -USR1 "$target_pid"
		wait_for "$d/target.out" '^built$' 10 ||
			{ fail "target: expected 'built' within 10 s, got none"; return; }
		kill -USR1 "$tool_pid"
		wait_for "$d/stderr" '^memscope-bpf: heap scan of pid ' 10 ||
			{ fail "SIGUSR1: expected a 'heap scan of pid' line within 10 s, got none"; return; }
		kill -INT "$tool_pid"
		tool_wait
		expect_rc 0 && expect_clean_stderr || return
	fi
	grep -q '^Reachability (heap scan of ' "$d/stdout" ||
		{ fail "live text: expected the 'Reachability (heap scan of' section, got none"; return; }
	mv "$d/stdout" "$d/live.stdout"
	expect_replay_same
	python3 "$here/check_reach.py" check reach "$d/replay.json" \
		>>"$d/fail"
}

# Growth patterns (tests/targets/growth.c, issue 12): one run of every
# labelled pattern with -i; the leaks, and only they, are suspects, every
# other pattern gets its verdict; the snapshots are on stdout, one JSON
# line each in --snapshots, and in the recording, whose replay gives the
# same suspects and shows any one snapshot.
t_growth()
{
	tool -q -t 0 -i 0.5 -w "$d/rec.msr" --snapshots "$d/snaps.jsonl" \
		-o "$d/out/report.json" -- "$TARGETS/growth" 12 all
	expect_rc 0 && expect_clean_stderr || return
	grep -q '^Leak suspects by growth (inferred, rule old_blocks_growth, over [0-9]* snapshots)$' \
		"$d/stdout" ||
		fail "text: expected the 'Leak suspects by growth' section"
	grep -q '^Snapshot 3 at ' "$d/stdout" ||
		fail "text: expected 'Snapshot 3 at', got: $(grep -m3 '^Snapshot' "$d/stdout")"
	check_report <<'PY'
import json
want = {"grow_leak": "growing", "churn_leak": "growing",
        "steady_set": "steady", "plateau_cache": "plateau",
        "sawtooth_batch": "sawtooth", "temporary_bufs": "temporary"}
g = r.get("growth") or {}
n = g.get("snapshots", 0)
if n < 20:
    print(f"growth: expected 20 or more snapshots in 12 s at -i 0.5, got {n}")
def fn(x):
    return (x.get("frames") or [{}])[0].get("function")
got = {}
for x in g.get("sites", []):
    got.setdefault(fn(x), []).append(x)
for name, pattern in want.items():
    v = got.get(name, [])
    # a pattern's call site is its busiest; a thread's first calls may
    # have a stack of their own
    main = max(v, key=lambda x: x["live_blocks"] + x["old_blocks"], default=None)
    if not main or main["pattern"] != pattern:
        print(f"{name}: expected {pattern}, got {[(x['pattern'], x['live_blocks']) for x in v]}")
    if pattern != "growing" and any(x["pattern"] == "growing" for x in v):
        print(f"{name}: not a leak, but a site of it is growing")
    for x in v:
        if x.get("source") != "inferred" or x.get("rule") != "old_blocks_growth":
            print(f"{name}: expected source inferred, rule old_blocks_growth, got {x.get('source')}, {x.get('rule')}")
sus = r.get("suspects", [])
names = [fn(x) for x in sus]
for name in ("grow_leak", "churn_leak"):
    x = next((x for x in sus if fn(x) == name), None)
    if not x or x["confidence"] < 0.5:
        print(f"suspects: expected {name} with confidence 0.5 or more, got {names}")
if any(x["pattern"] != "growing" for x in sus):
    print("suspects: expected only growing sites")
x = next((x for x in sus if fn(x) == "grow_leak"), None)
if x and not 9 <= x["growth_blocks_per_s"] <= 11:
    print(f"grow_leak: expected 10 blocks/s, got {x['growth_blocks_per_s']}")
x = next((x for x in sus if fn(x) == "churn_leak"), None)
if x and not 0.7 <= x["growth_blocks_per_s"] <= 1.3:
    print(f"churn_leak: expected 1 block/s, got {x['growth_blocks_per_s']}")
lines = open(sys.argv[1].replace("out/report.json", "snaps.jsonl")).read().splitlines()
if len(lines) != n:
    print(f"--snapshots: expected {n} lines, got {len(lines)}")
prev = -1
for i, line in enumerate(lines):
    o = json.loads(line)
    if o["snapshot"] != i + 1 or o["at_ns"] <= prev:
        print(f"--snapshots line {i + 1}: expected snapshot {i + 1} after {prev} ns, got {o['snapshot']} at {o['at_ns']}")
        break
    prev = o["at_ns"]
PY
	cp "$d/out/report.json" "$d/live.json"
	mv "$d/stdout" "$d/live.stdout"
	tool report "$d/rec.msr" -t 0 -o "$d/out/report.json" \
		--snapshots "$d/replay.jsonl"
	expect_rc 0 && expect_clean_stderr
	same_file stdout "$d/live.stdout" "$d/stdout"
	same_file JSON "$d/live.json" "$d/out/report.json"
	same_file --snapshots "$d/snaps.jsonl" "$d/replay.jsonl"
	tool report "$d/rec.msr" --snapshot 3
	expect_rc 0
	if ! head -2 "$d/stdout" | grep -q '^Snapshot 3 at ' ||
	   grep -q '^Snapshot [^3]' "$d/stdout"; then
		fail "--snapshot 3: expected snapshot 3 alone, got: $(grep '^Snapshot' "$d/stdout")"
	fi
	tool report "$d/rec.msr" --snapshot 999
	expect_error 1 'has [0-9]+ snapshots, not 999'
	# what grew between two moments of it, and since another run
	tool report "$d/rec.msr" -t 0 --from 2 --to 10 -o "$d/cut.json" \
		--html "$d/cut.html"
	expect_rc 0 && expect_clean_stderr
	grep -q '^Growth from 2.000 s to 10.000 s: ' "$d/stdout" ||
		fail "--from 2 --to 10: expected 'Growth from 2.000 s to 10.000 s', got: $(head -1 "$d/stdout")"
	tool -q -w "$d/short.msr" -- "$TARGETS/growth" 3 grow_leak
	expect_rc 0
	tool diff "$d/short.msr" "$d/rec.msr" -t 0 -o "$d/diff.json" \
		--html "$d/diff.html"
	expect_rc 0 && expect_clean_stderr
	python3 - "$d/cut.json" "$d/diff.json" <<'PY' >>"$d/fail"
import json, msjson, sys
cut, diff = (msjson.load(p) for p in sys.argv[1:])
def row(d, name):
    return next((x for x in d["sites"] if x["frames"] and x["frames"][0]["function"] == name), None)
x = row(cut, "grow_leak")
if not x or not 70 <= x["change_blocks"] <= 90:
    print(f"--from 2 --to 10: expected grow_leak to grow by about 80 blocks, got {x and x['change_blocks']}")
if cut["sites"] != sorted(cut["sites"], key=lambda x: -x["change_bytes"]):
    print("--from 2 --to 10: expected sites by change_bytes, largest first")
x = row(diff, "grow_leak")
# matched across two runs (other addresses): both moments in one row
if not x or not 20 <= x["from_live_blocks"] < x["to_live_blocks"]:
    print(f"diff: expected grow_leak live in both runs, more in the second, got {x}")
if (diff["from"], diff["to"]) != (sys.argv[1].replace("cut.json", "short.msr"), sys.argv[1].replace("cut.json", "rec.msr")):
    print(f"diff: expected from and to to name the files, got {diff['from']}, {diff['to']}")
PY
	for f in cut.html diff.html; do
		grep -q 'grow_leak' "$d/$f" || fail "$f: expected the grow_leak row"
	done
	tool report "$d/short.msr" --snapshots "$d/none.jsonl"
	expect_error 1 'no snapshots \(made without -i\)'
	[ -e "$d/none.jsonl" ] && fail "--snapshots: expected no file without snapshots"
	tool diff "$d/rec.msr" "$d/rec.msr"
	expect_rc 0
	grep -q '^Sites that grew (captured), by bytes: none$' "$d/stdout" ||
		fail "diff of a recording with itself: expected no site grew"
	tool -i 0 -- "$TARGETS/growth" 1 all
	expect_error 2 'invalid --interval'
	tool --snapshots "$d/x.jsonl" -- "$TARGETS/growth" 1 all
	expect_error 2 'give both'
}

# The inference rules a run was traced with are in its recording: report
# without them gives the live findings byte for byte; rules given to
# report still win.
t_record_replay_rules()
{
	local ex=${EXAMPLES:-$(dirname "$TARGETS")/examples}/executor

	tool -q -t 0 --idle-threshold 0.05 --storm-clones 2 --storm-window 2 \
		-o "$d/out/report.json" -w "$d/rec.msr" -- "$ex"
	expect_rc 0 || return
	tool report "$d/rec.msr" -o "$d/replay.json"
	expect_rc 0 || return
	same_file JSON "$d/out/report.json" "$d/replay.json"
	tool report "$d/rec.msr" -o "$d/other.json" --idle-threshold 100 \
		--storm-clones 1000
	expect_rc 0 || return
	cmp -s "$d/replay.json" "$d/other.json" &&
		fail "report --idle-threshold 100 --storm-clones 1000: expected other findings than the recorded rules give, got the same report"
}

# A recording of leaky for the tests that damage one: $d/rec.msr.
record_leaky()
{
	tool -q -t 0 -w "$d/rec.msr" -- "$TARGETS/leaky"
	expect_rc 0 || return 1
	[ -f "$d/rec.msr" ] && return 0
	fail "-w $d/rec.msr: expected the recording, got none"
	return 1
}

# expect_damaged FILE: one line saying where, a report of what came
# before it (stdout and a JSON that passes check.py), exit status 1.
expect_damaged()
{
	local re out

	re="^memscope-bpf: recording $1 is damaged at byte [0-9]+: .+; reporting the [0-9]+ records? before it\$"
	expect_rc 1
	expect_clean_stderr
	if [ "$(grep -c . "$d/stderr")" -ne 1 ] || ! grep -Eq "$re" "$d/stderr"; then
		fail "stderr: expected one line 'memscope-bpf: recording $1 is damaged at byte N: ...; reporting the M records before it', got: $(cat "$d/stderr")"
	fi
	grep -q '^memscope-bpf report: pid ' "$d/stdout" ||
		fail "stdout: expected the report of the records before the damage, got: $(head -c 300 "$d/stdout")"
	if ! out=$(python3 "$here/check.py" any "$d/out/report.json" \
		--exited no 2>&1); then
		printf '%s\n' "$out" | sed 's/^/report: /' >>"$d/fail"
	fi
}

# The records of the damage line: "reporting the M records".
damage_records()
{
	sed -n 's/.*; reporting the \([0-9]*\) records\{0,1\} before it$/\1/p' \
		"$d/stderr"
}

# Cut in the middle of a frame, as a full disk or a copy cut short would.
t_replay_truncated()
{
	local size

	record_leaky || return
	size=$(stat -c %s "$d/rec.msr")
	head -c $((size / 2)) "$d/rec.msr" >"$d/cut.msr"
	tool report "$d/cut.msr" -o "$d/out/report.json"
	expect_damaged "$d/cut.msr"
	[ "$(damage_records)" -gt 0 ] 2>/dev/null ||
		fail "damage line: expected records before the middle of a $size-byte recording, got: $(cat "$d/stderr")"
}

# A byte flipped inside a frame: its checksum says so (or, in its header,
# the header's checks).
t_replay_corrupted()
{
	local size at b

	record_leaky || return
	size=$(stat -c %s "$d/rec.msr")
	at=$((size / 2))
	cp "$d/rec.msr" "$d/bad.msr"
	printf '\377' | dd of="$d/bad.msr" bs=1 seek="$at" conv=notrunc \
		status=none
	cmp -s "$d/rec.msr" "$d/bad.msr" &&
		printf '\000' | dd of="$d/bad.msr" bs=1 seek="$at" \
			conv=notrunc status=none
	tool report "$d/bad.msr" -o "$d/out/report.json"
	expect_damaged "$d/bad.msr"
	# The frame the byte is in, by its start: a byte of its 16-byte
	# header may be told by the header's own checks (a length it cannot
	# have: 26 frames of ~7 KiB in leaky's recording, CI hit one), any
	# other by the checksum.
	b=$(sed -En 's/.* is damaged at byte ([0-9]+): .*/\1/p' "$d/stderr")
	if [ -z "$b" ] || [ "$b" -gt "$at" ]; then
		fail "damage line: expected the frame holding byte $at, got: $(cat "$d/stderr")"
	elif [ $((at - b)) -ge 16 ] && ! grep -q 'checksum' "$d/stderr"; then
		fail "damage line: expected a checksum mismatch for byte $at, got: $(cat "$d/stderr")"
	fi
}

# SIGKILL while recording: FILE.msr never appears, FILE.msr.partial holds
# everything flushed (at most 100 ms old) and reports as cut short.
t_record_killed()
{
	# busy says "ready" at once: it does not wait to start allocating.
	start_ready "$TARGETS/busy" || return
	tool_bg -q -w "$d/rec.msr" -p "$target_pid" || return
	wait_tracing || return
	sleep 0.5
	kill -KILL "$tool_pid"
	# (bash's own "Killed" notice is expected here: not shown)
	tool_wait 2>/dev/null
	[ -e "$d/rec.msr" ] &&
		fail "$d/rec.msr: expected nothing at the destination after SIGKILL, got a file"
	if [ ! -f "$d/rec.msr.partial" ]; then
		fail "$d/rec.msr.partial: expected what was recorded until SIGKILL, got: $(ls "$d")"
		return
	fi
	tool report "$d/rec.msr.partial" -o "$d/out/report.json"
	expect_damaged "$d/rec.msr.partial"
	[ "$(damage_records)" -gt 0 ] 2>/dev/null ||
		fail "damage line: expected the records of 0.5 s of busy, got: $(cat "$d/stderr")"
	# Symbols go into the file as stacks appear: no trailer needed.
	check_report <<-'EOF'
	fns = {(s.get("frames") or [{}])[0].get("function") for s in r.get("sites") or []}
	if "busy_churn" not in fns:
	    print(f"sites: expected frames symbolized from the cut recording "
	          f"(busy_churn), got frame-0 functions {sorted(map(str, fns))}")
	EOF
}

# A .partial left by a killed run is not overwritten: one line, nothing run.
t_record_partial_exists()
{
	echo kept >"$d/rec.msr.partial"
	tool -q -w "$d/rec.msr" -- "$TARGETS/short"
	expect_error 1 'rec\.msr\.partial exists'
	[ "$(cat "$d/rec.msr.partial")" = kept ] ||
		fail "$d/rec.msr.partial: expected it left as it was"
	[ -e "$d/rec.msr" ] && fail "$d/rec.msr: expected nothing created"
	expect_no_process_of "$TARGETS/short"
}

t_replay_not_recording()
{
	tool report /etc/passwd
	expect_error 1 '/etc/passwd.*not a memscope-bpf recording'
	[ -s "$d/stdout" ] && fail "stdout: expected no report, got: $(head -c 300 "$d/stdout")"
	tool report "$d/nonexistent.msr"
	expect_error 1 'nonexistent\.msr.*no such file'
	tool report
	expect_error 2 'recording'
}

# shellcheck source=tests/integration/declared.sh
. "$here/declared.sh"
# shellcheck source=tests/integration/stacks.sh
. "$here/stacks.sh"
# shellcheck source=tests/integration/xol.sh
. "$here/xol.sh"

# --- tests: anonymous memory ------------------------------------------------

# Python for check_report: tests/targets/anon.c's sites, by the first
# anon_* function of their stack, against its table (pages: live, ranges,
# calls; reserved, PROT_NONE); with -p (exact) the totals too, since
# nothing before the handshake is traced.
ANON_PY='
PG = 4096
WANT = {"anon_map_a": (10, 2, 1), "anon_map_b": (0, 0, 1),
        "anon_grow": (0, 0, 1), "anon_reserve": (0, 0, 1),
        "anon_move": (10, 2, 1), "anon_fixed": (2, 1, 1),
        "anon_sbrk": (2, 1, 1), "anon_guard": (3, 1, 1)}
RESERVED = {"anon_guard": 1}
reserved = {}
a = r.get("anon_memory")
if not a:
    print(f"anon_memory: expected a section, got {a!r}")
    a = {}
got = {}
for site in a.get("sites", []):
    fns = [f["function"] or "" for f in site["frames"]]
    name = next((f for f in fns if f.startswith("anon_")), None)
    if name is None:
        continue
    if name in got:
        print(f"site {name}: expected one, got another: {fns}")
    got[name] = (site["live_bytes"] // PG, site["live_ranges"],
                 site["calls"])
    reserved[name] = site["reserved_bytes"] // PG
    if site["live_bytes"] % PG or site["mapped_bytes"] % PG:
        print(f"site {name}: bytes not whole pages: {site}")
    stop = site["stack_stop"]
    if "main" not in fns or stop != "end":
        print(f"site {name}: expected a whole stack to main, stop end; got {fns}, {stop}")
for name, want in WANT.items():
    if got.get(name) != want:
        print(f"anon site {name}: expected (live pages, ranges, calls) {want}, got {got.get(name)}")
for name in got:
    if name not in WANT:
        print(f"anon site {name}: expected none (an allocator mapping, or a file), got {got[name]}")
    if reserved[name] != RESERVED.get(name, 0):
        print(f"anon site {name}: expected {RESERVED.get(name, 0)} reserved (PROT_NONE) pages, got {reserved[name]}")
unknown = a.get("prot_unknown_calls")
if unknown != 0:
    print(f"anon_memory.prot_unknown_calls: expected 0 in a live run, got {unknown}")
arena = a.get("arena", {})
libc = [o for o in arena.get("objects", []) if "/libc.so" in (o["object"] or "")]
if not libc or libc[0]["live_bytes"] < 257 * PG:
    print(f"arena: expected libc with the 1 MiB block live (257 pages or more), got {arena}")
lk = [l for l in r.get("leaks", []) if l["frames"] and l["frames"][0]["function"] == "anon_malloc"]
lk = [(l["count"], l["bytes"]) for l in lk]
if lk != [(1, 1 << 20)]:
    print(f"leaks: expected anon_malloc 1 block of 1048576 bytes, got {lk}")
if exact:
    tot = (a.get("live_bytes"), a.get("live_ranges"), a.get("peak_bytes"),
           a.get("calls"), a.get("reserved_bytes"))
    want = (27 * PG, 7, 28 * PG, 8, 1 * PG)
    if tot != want:
        print(f"anon_memory (live_bytes, live_ranges, peak_bytes, calls, reserved_bytes): expected {want}, got {tot}")
    heap = s.get("live_bytes")
    if heap != 1 << 20:
        print(f"summary.live_bytes: expected 1048576 (the malloc block, once), got {heap}")
else:
    tot = (a.get("live_bytes", 0), a.get("peak_bytes", 0), a.get("reserved_bytes", 0))
    if tot[0] < 27 * PG or tot[1] < 28 * PG or tot[2] < PG:
        print(f"anon_memory (live_bytes, peak_bytes, reserved_bytes): expected at least the 27, 28 and 1 pages of the target, got {tot}")
'

# anon.c traced: launched (its loader's mappings come on top) or attached.
t_anon()
{
	local exact=False

	if [ "$1" = attach ]; then
		exact=True
		attach_released -- "$TARGETS/anon" || return
	else
		tool -q -t 0 -o "$d/out/report.json" -- "$TARGETS/anon"
	fi
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
exact = $exact
$ANON_PY
EOF
}

# Where the syscalls of anonymous memory are seen, said by -v: their own
# exit tracepoints by default, the raw sys_exit where tracefs cannot be
# had (MEMSCOPE_RAW_SYSCALLS stands in for that here).
t_sys_exit_where()
{
	tool -v -t 0 -o "$d/out/report.json" -- "$TARGETS/anon"
	expect_rc 0 || return
	grep -q 'brk: at their own exit tracepoints' "$d/stderr" ||
		{ fail "-v: expected the syscalls at their own exit tracepoints"; return; }
	MEMSCOPE_RAW_SYSCALLS=1 tool -v -t 0 -o "$d/out/report.json" -- \
		"$TARGETS/anon"
	expect_rc 0 || return
	grep -q 'brk: at the raw sys_exit tracepoint' "$d/stderr" ||
		fail "-v, MEMSCOPE_RAW_SYSCALLS=1: expected the raw sys_exit"
}

t_anon_raw()
{
	MEMSCOPE_RAW_SYSCALLS=1 t_anon "$@"
}

# anon.c attached, then exec'ing itself: the exec ends the first image,
# with what it had mapped then (its sites' ranges live at its exec, its
# peak), and the new image's anon_child maps 5 pages.
t_anon_exec()
{
	attach_released -- "$TARGETS/anon" --exec || return
	expect_rc 0 && expect_clean_stderr || return
	check_report <<'EOF'
PG = 4096
imgs = {p["target"]["image"]: p.get("anon_memory") or {}
        for p in r.get("processes") or []}
got = {}
for img, a in imgs.items():
    for site in a.get("sites", []):
        fns = [f["function"] or "" for f in site["frames"]]
        name = next((f for f in fns if f.startswith("anon_")), None)
        if name:
            got[(img, name)] = (site["live_bytes"] // PG, site["live_ranges"],
                                site["calls"])
# the first image: what it had mapped at its exec (anon.c, "live at the
# end"); the second: anon_child's 5 pages
want = {(0, n): (0, 0, 1) for n in ("anon_map_b", "anon_grow",
                                    "anon_reserve")}
want.update({(0, "anon_map_a"): (10, 2, 1), (0, "anon_move"): (10, 2, 1),
             (0, "anon_fixed"): (2, 1, 1), (0, "anon_sbrk"): (2, 1, 1),
             (0, "anon_guard"): (3, 1, 1), (1, "anon_child"): (5, 1, 1)})
if sorted(imgs) != [0, 1]:
    print(f"processes: expected images 0 and 1 (the exec), got {sorted(imgs)}")
if got != want:
    print(f"anon sites by image (live pages, ranges, calls): expected {want}, got {got}")
if imgs.get(0, {}).get("peak_bytes") != 28 * PG:
    print(f"image 0 anon_memory.peak_bytes: expected the 28 pages before the exec, got {imgs.get(0, {}).get('peak_bytes')}")
EOF
}

# -p PID alone, and the process execs another program whose code lies at
# the same addresses (tests/targets/stk_exec.c, both without PIE): two
# images, each with its own stacks, unwound with its own tables and named
# from its own file; the first's blocks are its own, live at its exec,
# not the second's; neither image has kernel counters of its own (the
# trace's stay exact).
t_exec_images()
{
	attach_released -- "$TARGETS/stk_exec" || return
	expect_rc 0 && expect_clean_stderr || return
	check_report <<'EOF2'
procs = r.get("processes") or []
imgs = sorted((p["target"]["image"], p["target"].get("comm")) for p in procs)
if [i for i, _ in imgs] != [0, 1]:
    print(f"processes: expected images 0 and 1 of the one pid, got {imgs}")
want = {0: ("exec_leaf", ["exec_leaf", "exec_run", "main"], 40),
        1: ("b_leaf", ["b_leaf", "b_mid", "main"], 30)}
seen = {}
for site in r.get("sites") or []:
    fns = [f["function"] or "?" for f in site["frames"]]
    img = site.get("proc")
    own = [f for f in fns if f.startswith(("exec_", "b_", "main"))]
    if not own:
        continue
    seen[img] = seen.get(img, []) + [(fns, site["alloc_count"], site["stack_stop"])]
for img, (leaf, chain, n) in want.items():
    rows = seen.get(img, [])
    hit = [x for x in rows if x[0][:3] == chain]
    if len(hit) != 1 or hit[0][1] != n or hit[0][2] != "end":
        print(f"image {img}: expected one site {chain} of {n} allocations, stack_stop end, got {rows}")
    other = "b_" if img == 0 else "exec_"
    bad = [x for x in rows if any(f.startswith(other) for f in x[0])]
    if bad:
        print(f"image {img}: frames named from the other program: {bad}")
leaks = {}
for l in r.get("leaks") or []:
    fns = [f["function"] or "?" for f in l["frames"]]
    leaks[fns[0]] = l.get("proc")
if leaks.get("exec_leaf") != 0 or leaks.get("b_leaf") != 1:
    print(f"leaks by image: expected exec_leaf's in image 0 (live at its exec), b_leaf's in image 1, got {leaks}")
for p in procs:
    if p.get("kernel") is not None:
        print(f"image {p['target']['image']}: expected no kernel counters of its own, got {p['kernel']}")
if k.get("allocs") != 70:
    print(f"kernel.allocs: expected 70 for the trace, got {k.get('allocs')}")
EOF2
}

# -p of a process that execs a chain of programs, each exec'ing the next
# at once (sh, env, sh, ...): each image's frames are named, from the
# mappings the kernel walked for it, as a set's are (sys_exec_names).
# One process has no set work; its execs are noted for the names all the
# same (a chain of 12 then: the tree before left 301 to 502 of the 24
# images' 3,012 allocations with a frame named after nothing, 3 runs).
# Each sh is a copy of dash of its own, a file the tool first meets at
# its exec, and the chain is 30 long (60 images): an image whose stacks
# came in a drain after its exec record had its frames in its program
# unnamed until -p's execs were examined after the drain, and -p kept
# the mappings of 16 images only (the tree before: 6 runs in 10 under
# ASan, 3 in 10 without, 49 to 252 of 7,530 allocations).
t_exec_chain_names()
{
	local i

	mkfifo "$d/go" || return
	for i in $(seq 0 30); do
		cp /bin/dash "$d/sh$i" || return
	done
	printf '%s\n' '[ "$1" -gt 0 ] && exec env A=1 "${0%/*}/sh$(($1 - 1))" "$0" $(($1 - 1))' \
		>"$d/chain.sh"
	bash -c "read x <'$d/go' && exec '$d/sh30' '$d/chain.sh' 30" &
	local pid=$!
	bg_pids="$bg_pids $pid"
	if tool_bg -q -t 0 --fold 0 -o "$d/out/report.json" -p "$pid" &&
	   wait_tracing; then
		echo go >"$d/go"
		tool_wait
	fi
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
ps = r.get("processes") or []
expect_named("the chain's images", 60,
             {i for i, p in enumerate(ps) if p["target"]["comm"].startswith(("sh", "env"))
              and p["target"]["end"] == "exec"}, all)
EOF
}

# Processes that allocate before the tool has read their maps (forked
# children, the image an exec makes): their objects' tables are in, found
# through the task's mappings, so their stacks are whole from the first
# allocation; the maps of the image before the exec never unwind the new
# one (tests/targets/stk_fresh.c). Each image apart (--fold 0: its 9
# ended images of one comm would be one entry).
t_fresh_stacks()
{
	attach_released -f --fold 0 -- "$TARGETS/stk_fresh" || return
	expect_rc 0 && expect_clean_stderr || return
	check_report <<'EOF2'
procs = r.get("processes") or []
want = {"child": (["fresh_leaf", "fresh_mid", "fresh_child"], 8, 6),
        "exec": (["fresh_leaf", "fresh_mid", "main"], 1, 4)}
got = {"child": [], "exec": []}
for site in r.get("sites") or []:
    fns = [f["function"] or "?" for f in site["frames"]]
    if not any(f.startswith("fresh_") for f in fns):
        continue
    img = procs[site["proc"]]["target"]["image"] if site.get("proc") is not None else None
    kind = "exec" if img == 1 else "child"
    got[kind].append((site.get("proc"), fns[:3], site["alloc_count"],
                      site["stack_stop"]))
for kind, (chain, images, n) in want.items():
    rows = got[kind]
    ok = [x for x in rows if x[1] == chain and x[2] == n and x[3] == "end"]
    if len(ok) != images or len(rows) != images:
        print(f"{kind}: expected {images} images with one site {chain} of {n} allocations, stack_stop end, got {rows}")
for p in procs:
    stops = (p.get("kernel") or {}).get("stack_stops") or {}
    bad = {k: v for k, v in stops.items() if k != "end" and v}
    if bad:
        print(f"pid {p['target']['pid']} image {p['target']['image']}: expected every stack whole, got stops {bad}")
EOF2
}

# A program new to the tool, run by a traced process and gone at once:
# its table is compiled from its exec's record (or from its maps, when
# the tool read them in time), and its next run's stacks are whole from
# the first allocation, through the table published for its file, and
# named from the mappings the kernel walked through. (Which of the two
# compiled it depends on timing: bench/fresh-procs.py measures short
# Debian programs, where the maps are often read too late.)
t_fresh_exec_file()
{
	cp "$TARGETS/stk_fresh" "$d/stk_quick" || return
	attach_released -f -- "$TARGETS/stk_fresh" twice "$d/stk_quick" ||
		return
	expect_rc 0 && expect_clean_stderr || return
	check_report <<'EOF2'
procs = r.get("processes") or []
quick = [i for i, p in enumerate(procs) if p["target"]["image"] == 1]
if len(quick) != 2:
    print(f"expected two images of stk_quick, got {[(p['target']['pid'], p['target']['image'], p['target']['comm']) for p in procs]}")
else:
    k = procs[quick[1]].get("kernel") or {}
    stops = {s: n for s, n in (k.get("stack_stops") or {}).items() if n}
    if k.get("allocs") != 3 or stops != {"end": 3}:
        print(f"second run: expected its 3 stacks whole, got allocs {k.get('allocs')}, stops {stops}")
    sites = [[f["function"] or "?" for f in st["frames"]][:3]
             for st in r.get("sites") or [] if st.get("proc") == quick[1]]
    if sites != [["fresh_leaf", "fresh_mid", "main"]]:
        print(f"second run: expected one site named fresh_leaf, fresh_mid, main, got {sites}")
EOF2
}

# --mode=alloc traces no syscalls, and its reports say so.
t_anon_alloc_mode()
{
	tool -q -t 0 --mode=alloc -o "$d/out/report.json" -- "$TARGETS/anon"
	expect_rc 0 && expect_clean_stderr || return
	check_report <<'EOF'
if "anon_memory" not in r or r["anon_memory"] is not None:
    print(f"anon_memory: expected null in --mode=alloc, got {r.get('anon_memory', 'no key')!r}")
EOF
	if ! grep -q "not traced in --mode=alloc" "$d/stdout"; then
		fail "text report: expected 'not traced in --mode=alloc' under anonymous memory, got: $(grep -A1 '^Anonymous' "$d/stdout")"
	fi
}

# A thread other than the leader execs (tests/targets/exec_thread.c): the
# kernel gives it the leader's tid, and the tid it had never exits. Its
# thread slot must go back at the exec: once the new image runs, the only
# slot held is its one thread's. (64 slots: check.py reads each.)
t_exec_thread()
{
	local pid old slots

	MEMSCOPE_THREAD_SLOTS=64 tool_bg -q -t 0 -o "$d/out/report.json" \
		-- "$TARGETS/exec_thread" "$d/exec.out" || return
	if ! wait_for "$d/exec.out" '^ready [0-9]+ [0-9]+$' 30; then
		fail "exec_thread: expected 'ready PID TID' after its exec within 30 s, got: $(cat "$d/exec.out" 2>&1)"
		return
	fi
	read -r _ pid old <"$d/exec.out"
	if ! slots=$(python3 "$here/check.py" thread-slots "$tool_pid"); then
		fail "$slots"
	elif [ "$slots" != "$pid" ]; then
		fail "thread slots after a non-leader thread's exec: expected the one of tid $pid, got tids '$slots' (the exec'ing thread was tid $old)"
	fi
	kill -USR1 "$pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<'EOF'
t = r.get("target") or {}
if t.get("exited") is not True or t.get("exit_status") != 0:
    print(f"target: expected exited with status 0, got exited {t.get('exited')} status {t.get('exit_status')}")
if s.get("allocs", 0) < 10:
    print(f"summary.allocs: expected the new image's 10 or more, got {s.get('allocs')}")
EOF
}

# report -i: snapshots of a recording made without -i, from its records:
# one every 0.5 s of it exactly, as -i prints and writes them, and from
# them the growth verdicts; the rest of the report is the recording's.
t_report_interval()
{
	tool -q -t 0 -w "$d/rec.msr" -o "$d/live.json" -- \
		"$TARGETS/growth" 6 grow_leak steady_set
	expect_rc 0 && expect_clean_stderr || return
	tool report "$d/rec.msr" -t 0 -i 0.5 --snapshots "$d/snaps.jsonl" \
		-o "$d/out/report.json"
	expect_rc 0 && expect_clean_stderr || return
	[ -s "$d/stderr" ] &&
		fail "report -i stderr: expected nothing, got: $(cat "$d/stderr")"
	grep -q '^Snapshot 1 at 0.500 s: ' "$d/stdout" ||
		fail "text: expected 'Snapshot 1 at 0.500 s: ', got: $(grep -m1 '^Snapshot' "$d/stdout")"
	grep -q '^Leak suspects by growth (inferred, rule old_blocks_growth, over [0-9]* snapshots)$' \
		"$d/stdout" ||
		fail "text: expected the 'Leak suspects by growth' section"
	check_report <<'PY'
import json
live = msjson.load(sys.argv[1].replace("out/report.json", "live.json"))
if s != live["summary"]:
    print(f"summary: expected the recorded run's {live['summary']}, got {s}")
if live.get("growth", {}).get("snapshots"):
    print("the recording: expected no snapshots of its own")
lines = open(sys.argv[1].replace("out/report.json", "snaps.jsonl")).read().splitlines()
n = (r.get("growth") or {}).get("snapshots", 0)
if n < 12 or len(lines) != n:
    print(f"snapshots: expected 12 or more (6 s at -i 0.5), one line each, got {n} and {len(lines)} lines")
def fn(x):
    return (x.get("frames") or [{}])[0].get("function")
leak = []
for i, line in enumerate(lines):
    o = json.loads(line)
    if o["snapshot"] != i + 1 or o["at_ns"] != (i + 1) * 500000000:
        print(f"--snapshots line {i + 1}: expected snapshot {i + 1} at {(i + 1) * 500000000} ns, got {o['snapshot']} at {o['at_ns']}")
        break
    if o["lost_events"] or o["consumer_drops"]:
        print(f"snapshot {i + 1}: expected no lost or dropped events, got {o['lost_events']}, {o['consumer_drops']}")
    leak.append(sum(x["live_blocks"] for x in o["live_since_start"] if fn(x) == "grow_leak"))
if any(b < a for a, b in zip(leak, leak[1:])) or not leak or leak[-1] < 40:
    print(f"grow_leak's live blocks by snapshot: expected rising to 40 or more, got {leak}")
sus = [fn(x) for x in r.get("suspects", [])]
if "grow_leak" not in sus or "steady_set" in sus:
    print(f"suspects: expected grow_leak and not steady_set, got {sus}")
PY
	tool -q -i 0.5 -w "$d/own.msr" -- "$TARGETS/growth" 1 grow_leak
	expect_rc 0
	tool report "$d/own.msr" -i 1
	expect_error 1 'was made with -i'
	tool report "$d/rec.msr" -i 1 --from 2
	expect_error 2 'report: -i takes snapshots, --from and --to'
}

# --- tests: system-wide (traced sets) ---------------------------------------
#
# Other engineers' tests run at the same time, some of them system-wide:
# each test here selects its own processes (by pid, by a comm name made
# for the run, by a cgroup it makes), and a figure over the whole host is
# never asserted. sysproc (tests/targets/sysproc.c) allocates only what
# its arguments say.

# Per process: the report's processes[] entries of a comm, and the exact
# figures of one; a leak site's live bytes (a function in its stack). (A
# process's list entries name their stacks by site: check_report has
# check.py's with_stacks to write them out.)
SYS_PY='
def procs_of(comm):
    return [p for p in r.get("processes") or []
            if (p.get("target") or {}).get("comm") == comm]
def live_of(comm):
    """(allocations, live bytes) over the images of comm; the kernel
    exact counters where it gave an image (an exec resets them)."""
    ps = procs_of(comm)
    if not ps:
        return None
    a = b = 0
    for p in ps:
        c, kc = p.get("summary") or {}, p.get("kernel")
        if kc and (kc.get("allocs"), kc.get("live_bytes")) != (c.get("allocs"), c.get("live_bytes")):
            print(f"{comm} image {p['target'].get('image')}: kernel {kc.get('allocs')}, {kc.get('live_bytes')} != captured {c.get('allocs')}, {c.get('live_bytes')}")
        a += c.get("allocs", 0)
        b += c.get("live_bytes", 0)
    return (a, b)
def site_bytes(fn):
    return sum(l["bytes"] for l in r.get("leaks", [])
               if any(f.get("function") == fn for f in l["frames"]))
def expect(what, want, got):
    if want != got:
        print(f"{what}: expected {want}, got {got}")
def expect_named(what, want, images, named):
    """At least want images (indexes of processes) that allocate, and
    none of their allocations at a site whose frames named() (all: each
    frame, any: one) finds with no object."""
    allocs = unnamed = 0
    for st in r.get("sites") or []:
        if st["proc"] in images:
            allocs += st["alloc_count"]
            if not named(f.get("object") for f in st["frames"]):
                unnamed += st["alloc_count"]
    if len(images) < want or not allocs:
        print(f"{what}: expected {want} images, allocating; got {len(images)}, {allocs} allocations")
    if unnamed:
        print(f"{what}: {unnamed} of {allocs} allocations named after nothing")
'

# A comm name of our own for this run (at most 15 characters).
sys_comm()
{
	printf 'sk%s%s' "$1" "$$" | cut -c1-15
}

# sys_ready NAME PROGRAM ARGS...: runs a target in the background, its
# output in $d/NAME.out (so that two targets run at once), and sets
# $target_pid from its "ready PID" line.
sys_ready()
{
	local out=$d/$1.out

	shift
	printf '%q ' "$@" >>"$d/cmd"
	echo '&' >>"$d/cmd"
	$TIMEOUT "$@" >"$out" 2>&1 &
	bg_pids="$bg_pids $!"
	ready_wait "$out" "target $1"
}

# Two -p pids (one list, one repeated): both traced, nothing else.
t_sys_pids()
{
	local a b

	sys_ready a "$TARGETS/sysproc" wait leak 3 1000 || return
	a=$target_pid
	sys_ready b "$TARGETS/sysproc" wait leak 2 500 || return
	b=$target_pid
	tool_bg -q -t 0 -o "$d/out/report.json" -p "$a,$b" -p "$a" || return
	wait_tracing || return
	kill -USR1 "$a" "$b"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("kernel (allocs, live blocks, live bytes) of the two pids",
       (5, 5, 4000), (k.get("allocs"), k.get("live_blocks"), k.get("live_bytes")))
got = sorted(((p["target"]["pid"], p["target"]["existing"]),
              (p["summary"]["allocs"], p["summary"]["live_bytes"]))
             for p in r.get("processes", []))
expect("processes ((pid, existing), (allocs, live bytes))",
       sorted([(($a, True), (3, 3000)), (($b, True), (2, 1000))]), got)
EOF
}

# sys_second_ready NAME: until sysproc's output NAME says "ready" twice
# (it allocated after the first wait and waits again).
sys_second_ready()
{
	local _

	for _ in $(seq 100); do
		[ "$(grep -c '^ready ' "$d/$1.out")" -ge 2 ] && return 0
		sleep 0.1
	done
	fail "target $1: expected a second 'ready' within 10 s, got: $(cat "$d/$1.out")"
	return 1
}

# The kernel's [uprobes] areas a process maps (0 or 1): it maps one at its
# first return probe and keeps it.
sys_uprobes_area()
{
	grep -c '\[uprobes\]' "/proc/$1/maps"
}

# -p A,B probes each object for each listed pid alone: a process outside
# the list running the same libc takes no trap. -f needs probes on every
# process (a fork inherits the breakpoints, not the pid filter), and there
# the same process traps: that is what makes the first half able to fail.
# Another tracer's system-wide probes on the host at the same moment would
# map the area too.
t_sys_pids_filtered()
{
	local flags n p a b c want got

	for flags in "" -f; do
		n=${flags:-p}
		sys_ready "a$n" "$TARGETS/sysproc" wait leak 3 1000 wait || return
		a=$target_pid
		sys_ready "b$n" "$TARGETS/sysproc" wait leak 2 500 wait || return
		b=$target_pid
		sys_ready "c$n" "$TARGETS/sysproc" wait leak 4 100 wait || return
		c=$target_pid
		tool_bg -q -t 0 -o "$d/out/report.json" $flags -p "$a,$b" ||
			return
		wait_tracing || return
		kill -USR1 "$a" "$b" "$c"
		for p in "a$n" "b$n" "c$n"; do
			sys_second_ready "$p" || return
		done
		want="1 1 $([ -n "$flags" ] && echo 1 || echo 0)"
		got="$(sys_uprobes_area "$a") $(sys_uprobes_area "$b") $(sys_uprobes_area "$c")"
		[ "$got" = "$want" ] ||
			fail "-p $a,$b ${flags:-(no -f)}: [uprobes] areas of the two traced and the untraced process: expected $want, got $got"
		kill -USR1 "$a" "$b" "$c"
		kill -INT "$tool_pid"
		tool_wait
		expect_rc 0 && expect_clean_stderr || return
		check_report <<EOF
$SYS_PY
expect("$flags kernel (allocs, live blocks, live bytes) of the two pids",
       (5, 5, 4000), (k.get("allocs"), k.get("live_blocks"), k.get("live_bytes")))
expect("$flags processes (pid, allocs, live bytes)",
       sorted([($a, 3, 3000), ($b, 2, 1000)]),
       sorted((p["target"]["pid"], p["summary"]["allocs"],
               p["summary"]["live_bytes"]) for p in r.get("processes", [])))
EOF
	done
}

# A set's lost records and stack stops are its processes' own: of two -p
# pids, the busy one loses records while the tool is stopped, every stack
# stops at --max-depth 3, and each process's kernel counters hold its
# own, adding up to the trace's; the text table says them.
t_sys_lost()
{
	local busy quiet

	sys_ready b "$TARGETS/busy" || return
	busy=$target_pid
	sys_ready q "$TARGETS/sysproc" wait leak 2 100 || return
	quiet=$target_pid
	tool_bg -q -t 0 --max-depth 3 -o "$d/out/report.json" \
		-p "$busy,$quiet" || return
	wait_tracing || return
	kill -STOP "$tool_pid"
	sleep 1.5
	kill -CONT "$tool_pid"
	sleep 0.3
	kill -USR1 "$busy" "$quiet"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
ps = r.get("processes") or []
by = {p["target"]["pid"]: p.get("kernel") or {} for p in ps}
lost = {pid: kc.get("lost_events", 0) for pid, kc in by.items()}
if not lost.get($busy):
    print(f"busy's kernel.lost_events: expected records lost while the tool was stopped, got {lost}")
expect("processes' kernel.lost_events added up", k.get("lost_events"), sum(lost.values()))
for why, n in (k.get("stack_stops") or {}).items():
    expect(f"processes' kernel.stack_stops.{why} added up", n,
           sum((kc.get("stack_stops") or {}).get(why, 0) for kc in by.values()))
expect("quiet's kernel stacks cut at --max-depth", 2, (by.get($quiet, {}).get("stack_stops") or {}).get("depth"))
for p in ps:
    if p["summary"].get("lost_events", 0) < lost.get(p["target"]["pid"], 0):
        print(f"pid {p['target']['pid']}: summary.lost_events below its kernel's")
EOF
	grep -A1 "^  $busy " "$d/stdout" | grep -Eq ', lost [1-9][0-9]*(,|$)' ||
		fail "text report: expected busy's row to say what it lost, got: $(grep -A1 "^  $busy " "$d/stdout")"
	grep -A1 "^  $quiet " "$d/stdout" | grep -q ', 2 stacks stopped early$' ||
		fail "text report: expected quiet's row to say its 2 stacks stopped early, got: $(grep -A1 "^  $quiet " "$d/stdout")"
}

# --comm: the processes of that name started after attach, also through
# an exec (from the shell), and no other.
t_sys_comm()
{
	local name other

	name=$(sys_comm c)
	other=$(sys_comm o)
	cp "$TARGETS/sysproc" "$d/$name"
	cp "$TARGETS/sysproc" "$d/$other"
	tool_bg -q -t 0 -o "$d/out/report.json" --comm "$name" || return
	wait_tracing || return
	run "$d/$name" leak 4 500
	run "$d/$other" leak 5 700
	run "$d/$name" churn 100 leak 1 10
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("kernel (allocs, live blocks, live bytes) of the two $name runs",
       (105, 5, 2010), (k.get("allocs"), k.get("live_blocks"), k.get("live_bytes")))
# each joined at its exec: the image before it is counted, not a row of "?"
expect("listed processes' comms", ["$name", "$name"],
       sorted(p["target"]["comm"] for p in r["processes"]))
expect("unlisted images (before each exec)", 2,
       r["process_counts"]["unlisted_images"])
EOF
}

# --max-procs 1: the first process of the comm joins, a second one while
# it runs finds the set full, is not traced and is counted: in the JSON
# summary, the text report's warning, and a replay of the recording.
t_sys_max_procs()
{
	local name a

	name=$(sys_comm m)
	cp "$TARGETS/sysproc" "$d/$name"
	tool_bg -q -t 0 -o "$d/out/report.json" -w "$d/rec.msr" \
		--max-procs 1 --comm "$name" || return
	wait_tracing || return
	sys_ready a "$d/$name" wait leak 1 100 || return
	a=$target_pid
	# not run(): the tool's stdout is $d/stdout
	$TIMEOUT "$d/$name" leak 2 200 >"$d/second.out" 2>&1 ||
		fail "the second $name: exit status $?: $(cat "$d/second.out")"
	release_wait "$a"
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("summary.procs_not_traced", 1, s.get("procs_not_traced"))
expect("kernel (allocs, live bytes): the first $name alone", (1, 100),
       (k.get("allocs"), k.get("live_bytes")))
expect("$name (allocations, live bytes)", (1, 100), live_of("$name"))
expect("pids of $name", [$a], sorted({p["target"]["pid"] for p in procs_of("$name")}))
EOF
	grep -q '^WARNING: report is incomplete: 1 process not traced (--max-procs 1 reached)' "$d/stdout" ||
		fail "text report: expected the --max-procs warning, got: $(grep WARNING "$d/stdout")"
	tool report "$d/rec.msr" -o "$d/out/report.json"
	expect_rc 0 || return
	check_report <<EOF
expect = lambda what, want, got: want == got or print(f"{what}: expected {want}, got {got}")
expect("replay: summary.procs_not_traced", 1, s.get("procs_not_traced"))
EOF
	grep -q '^WARNING: report is incomplete: 1 process not traced (--max-procs 1 reached)' "$d/stdout" ||
		fail "replay's text report: expected the --max-procs warning, got: $(grep WARNING "$d/stdout")"
}

# -a: two targets started after attach, found by their comm names. With
# --stacks fp: what is tested is the selection, and compiling the CFI of
# every object the host's processes allocate from (other engineers' cc1,
# clang...) takes minutes under ASan.
t_sys_all()
{
	# Every process of a busy host (hundreds of images while other
	# tests build and run) is symbolized at the end: more than the
	# usual limit under ASan.
	local a b TIMEOUT="timeout -k 5 240"

	a=$(sys_comm a)
	b=$(sys_comm b)
	cp "$TARGETS/sysproc" "$d/$a"
	cp "$TARGETS/sysproc" "$d/$b"
	tool_bg -q -t 1 -o "$d/out/report.json" --stacks fp -a || return
	wait_tracing || return
	run "$d/$a" leak 3 300
	run "$d/$b" churn 10 leak 2 700
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
if "processes" in r:
    expect("$a (allocations, live bytes)", (3, 900), live_of("$a"))
    expect("$b (allocations, live bytes)", (12, 1400), live_of("$b"))
elif k.get("allocs", 0) < 15 or k.get("live_bytes", 0) < 2300:
    print(f"kernel: expected at least the targets' 15 allocations and 2300 live bytes, got {k.get('allocs')}, {k.get('live_bytes')}")
EOF
}

# The cgroup v2 mount, if any.
cgroup2_root()
{
	awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts
}

# --cgroup: a process that moved into the test's cgroup and exec'd is
# traced, and so is its child; one outside it is not. The test makes the
# cgroup and removes it.
# cgroup_new: a cgroup of the test's own, its path in $cg.
cgroup_new()
{
	local root

	root=$(cgroup2_root)
	if [ -z "$root" ]; then
		fail "no cgroup2 mount in /proc/mounts"
		return 1
	fi
	cg=$root/memscope-test-$$-$RANDOM
	mkdir "$cg" && return
	fail "cannot make the cgroup $cg"
	return 1
}

# cgroup_run SCRIPT TOOL_OPTS...: the tool traces a new cgroup (--cgroup
# and TOOL_OPTS) while a shell that moved into it runs SCRIPT to its end;
# then the tool stops, the cgroup goes, and the tool must have ended well.
cgroup_run()
{
	local cg script=$1

	shift
	cgroup_new || return
	if tool_bg "$@" --cgroup "$cg" && wait_tracing; then
		run sh -c "echo \$\$ >'$cg/cgroup.procs' || exit
$script"
		kill -INT "$tool_pid"
		tool_wait
	fi
	rmdir "$cg" || fail "cannot remove the cgroup $cg"
	expect_rc 0 && expect_clean_stderr
}

t_sys_cgroup()
{
	local cg

	cgroup_new || return
	if tool_bg -q -t 0 -o "$d/out/report.json" --cgroup "$cg" &&
	   wait_tracing; then
		run sh -c "echo \$\$ >'$cg/cgroup.procs' && exec '$TARGETS/sysproc' leak 2 3000 fork leak 1 5 ';'"
		run "$TARGETS/sysproc" leak 7 77
		kill -INT "$tool_pid"
		tool_wait
	fi
	rmdir "$cg" || fail "cannot remove the cgroup $cg"
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("kernel (allocs, live blocks, live bytes) of the cgroup's processes",
       (3, 3, 6005), (k.get("allocs"), k.get("live_blocks"), k.get("live_bytes")))
EOF
}

# A prefork server: 64 workers forked from one parent hold blocks at the
# same addresses (each heap is a copy of the parent's) all at once. The
# kernel's live table has a slot for each: exact counters, and no
# "kernel live table full" line. Where one address's copies shared one
# bucket and one window (40 slots), the tree before left 3,476 of the
# workers' blocks out of it.
t_sys_prefork()
{
	cgroup_run "exec python3 -c '
import os
r, w = os.pipe()
kids = []
for i in range(64):
    pid = os.fork()
    if not pid:
        os.close(w)
        keep = [bytearray(1000 + j) for j in range(100)]
        os.read(r, 1)
        os._exit(0)
    kids.append(pid)
os.close(r)
import time; time.sleep(0.5)
os.close(w)
for k in kids:
    os.waitpid(k, 0)'" \
		-q -t 0 --fold 0 -o "$d/out/report.json" || return
	check_report <<EOF
$SYS_PY
k = r.get("kernel") or {}
workers = [p for p in procs_of("python3") if p["target"]["image"] == 0
           and p["target"]["ppid"] != 0 and (p.get("summary") or {}).get("allocs", 0) >= 100]
expect("workers of 100 blocks or more", 64, len(workers))
expect("kernel (live_full, exact)", (0, True), (k.get("live_full"), k.get("exact")))
EOF
}

# -- CMD follows the tree: a fork chain, then an exec of the root. The
# blocks each image left at its exit count once.
t_sys_fork_exec()
{
	tool -q -t 0 -o "$d/out/report.json" -- "$TARGETS/sysproc" \
		leak 1 100 fork leak 2 200 fork leak 3 300 ';' ';' \
		exec "$TARGETS/sysproc" leak 4 400
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("kernel (allocs, live blocks, live bytes) of the tree",
       (10, 10, 3000), (k.get("allocs"), k.get("live_blocks"), k.get("live_bytes")))
if "processes" in r:
    expect("sysproc images (root, child, grandchild, root after exec)", 4,
           len(procs_of("sysproc")))
    expect("sysproc (allocations, live bytes)", (10, 3000), live_of("sysproc"))
    # the root's first image, ended by its exec, keeps its own counters
    expect("sysproc images (image, kernel allocs, kernel live bytes)",
           [(0, 1, 100), (0, 2, 400), (0, 3, 900), (1, 4, 1600)],
           sorted(((p["target"].get("image"),) +
                   tuple((p.get("kernel") or {}).get(f)
                         for f in ("allocs", "live_bytes")))
                  for p in procs_of("sysproc")))
EOF
	# --no-follow: the root process alone, through its exec.
	tool -q -t 0 -o "$d/out/report.json" --no-follow -- \
		"$TARGETS/sysproc" leak 1 100 fork leak 2 200 ';' \
		exec "$TARGETS/sysproc" leak 4 400
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("--no-follow kernel (allocs, live bytes)", (5, 1700),
       (k.get("allocs"), k.get("live_bytes")))
EOF
}

# Several images in the text report: each process's section has its own
# anonymous memory, and its declarations when it made any (the executor
# example's USDT records), never another's.
t_sys_text_sections()
{
	have_example executor || return
	tool -q -t 0 -o "$d/out/report.json" -- sh -c \
		"'$examples_bin/executor' && '$TARGETS/sysproc' leak 1 10"
	expect_rc 0 && expect_clean_stderr || return
	python3 - "$d/stdout" >>"$d/fail" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
parts = re.split(r"^== pid \d+ (.*) ==$", text, flags=re.M)
secs = {}
for name, body in zip(parts[1::2], parts[2::2]):
    secs.setdefault(name, []).append(body)
want = {"executor [exec 1]": (True, True), "sysproc [exec 1]": (True, False)}
for name, (anon, declared) in want.items():
    bodies = secs.get(name)
    if not bodies:
        print(f"text report: expected a section '== pid N {name} ==', got {sorted(secs)}")
        continue
    got = ("\nAnonymous memory (" in bodies[0],
           "\nDeclared by the program (USDT probes)" in bodies[0])
    if got != (anon, declared):
        print(f"{name}: (anonymous memory, declared) sections: expected {(anon, declared)}, got {got}")
EOF
}

# Launch through the shell's rules: a #! script found on PATH that execs
# the program, as a pyenv shim does; the program is traced from its first
# allocation, its leaks at its site.
t_sys_script()
{
	mkdir -p "$d/bin"
	printf '#!/bin/sh\nexec "%s" leak 5 50 "$@"\n' "$TARGETS/sysproc" \
		>"$d/bin/sysshim"
	chmod +x "$d/bin/sysshim"
	tool -q -t 0 -o "$d/out/report.json" -- env PATH="$d/bin:$PATH" \
		sysshim leak 1 7
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("live bytes at sysproc's leak site", 257, site_bytes("leak"))
if "processes" in r:
    expect("sysproc (allocations, live bytes)", (6, 257), live_of("sysproc"))
EOF
	# The same script run directly, without follow: its interpreter.
	PATH="$d/bin:$PATH" tool -q -t 0 -o "$d/out/report.json" \
		--no-follow -- sysshim leak 1 7
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("--no-follow: live bytes at sysproc's leak site", 257, site_bytes("leak"))
EOF
}

# env LD_PRELOAD=jemalloc prog: the preloaded allocator, mapped after the
# exec, is probed before prog runs, and takes prog's blocks.
t_sys_preload()
{
	local je=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

	tool -q -t 0 -o "$d/out/report.json" -- env LD_PRELOAD="$je" \
		"$TARGETS/sysproc" leak 6 60
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("live bytes at sysproc's leak site", 360, site_bytes("leak"))
objs = {p["object"] for p in r.get("probes", []) if p["symbol"] == "malloc"}
if "$je" not in objs:
    print(f"probes: expected malloc probed in $je, got it in {sorted(objs)}")
EOF
}

# A static build of sysproc.c at $1, built as production code is (no
# frame pointers); fails the test when there is no libc.a.
sys_static()
{
	gcc -static -O1 -g -fno-inline "$src/sysproc.c" -o "$1" \
		>"$d/gcc.log" 2>&1 && return
	fail "could not build the static target (libc.a?): $(cat "$d/gcc.log")"
	return 1
}

# An exec of a static binary: its own malloc, in the executable, probed
# at the exec before it runs.
t_sys_static_exec()
{
	sys_static "$d/sysproc_static" || return
	tool -q -t 0 -o "$d/out/report.json" -- "$TARGETS/sysproc" leak 1 9 \
		exec "$d/sysproc_static" leak 3 111
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("live bytes at the leak sites (9 dynamic, 333 static)", 342,
       site_bytes("leak"))
EOF
}

# --comm and an exec chain of our own name, faster than a drain: nothing
# holds the execs outside launch mode, so two or three of them land in
# one drain; each image's kernel counters come in its exec's record and
# none is lost (an entry could keep one ended image only).
t_sys_exec_chain()
{
	local name

	name=$(sys_comm x)
	cp "$TARGETS/sysproc" "$d/$name"
	tool_bg -q -t 0 -o "$d/out/report.json" --comm "$name" || return
	wait_tracing || return
	run "$d/$name" leak 1 100 exec "$d/$name" leak 2 200 \
		exec "$d/$name" leak 3 300 exec "$d/$name" leak 4 400
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
ps = sorted(procs_of("$name"), key=lambda p: p["target"]["image"])
expect("$name images (image, captured allocs, kernel allocs, kernel live bytes)",
       [(1, 1, 1, 100), (2, 2, 2, 400), (3, 3, 3, 900), (4, 4, 4, 1600)],
       [(p["target"]["image"], p["summary"].get("allocs")) +
        tuple((p.get("kernel") or {}).get(f) for f in ("allocs", "live_bytes"))
        for p in ps])
EOF
}

# --hold-exec: a static binary of our own name exec'd under --comm is
# stopped at its exec until its own malloc is probed and the worker has
# compiled its unwind tables, so it is traced from its first allocation
# (not late) with whole stacks; one started in its own process
# group (setsid: a job-control shell's job, which must never be seen
# stopped) is not held and says it joined late instead.
t_sys_hold_exec()
{
	local name n0 j

	name=$(sys_comm h)
	sys_static "$d/$name" || return
	cp "$d/$name" "$d/${name}j"
	tool_bg -t 0 -o "$d/out/report.json" --comm "$name" \
		--comm "${name}j" --hold-exec || return
	wait_tracing || return
	run "$d/$name" leak 3 111
	# Not held: it allocates once its probes are in, after it said ready.
	n0=$(tool_links)
	sys_ready j setsid "$d/${name}j" wait leak 2 222 || return
	j=$target_pid
	links_grew "$n0"
	release_wait "$j"
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	grep -Eq '^memscope-bpf: --hold-exec held 1 exec or mapping of a new file until it was probed: median [0-9.]+ ms, max [0-9.]+ ms$' "$d/stderr" ||
		fail "tool stderr: expected one hold and its length, got: $(grep hold "$d/stderr")"
	check_report <<EOF
$SYS_PY
held = [p for p in procs_of("$name") if p["summary"].get("allocs")]
job = [p for p in procs_of("${name}j") if p["summary"].get("allocs")]
expect("images of $name and ${name}j that allocated", (1, 1), (len(held), len(job)))
if held and job:
    expect("held $name joined_late_ns", None, held[0]["target"].get("joined_late_ns"))
    # by size: a process gone before its drain is not symbolized
    expect("held $name: its 3 leaks right after its exec", [(333, 3)],
           [(l["bytes"], l["count"]) for l in held[0].get("leaks") or []
            if l["bytes"] == 333])
    # held until the worker compiled its tables too: every stack whole
    stops = (held[0].get("kernel") or {}).get("stack_stops") or {}
    expect("held $name: stacks not_loaded", 0, stops.get("not_loaded"))
    if not stops.get("end"):
        print(f"held $name: expected its stacks to reach the entry, stops {stops}")
    late = job[0]["target"].get("joined_late_ns")
    if not isinstance(late, int) or late <= 0:
        print(f"${name}j in its own process group: expected not held, joined_late_ns > 0, got {late}")
EOF
}

# --hold-exec and the tool killed (SIGKILL) while it holds a process: the
# tool, stopped, cannot let it go; its guardian, a child that sees the
# tool's end, does. A held process is never left stopped.
t_sys_hold_killed()
{
	local name tpid st _

	name=$(sys_comm k)
	sys_static "$d/$name" || return
	tool_bg -q -t 0 -o "$d/out/report.json" --comm "$name" --hold-exec ||
		return
	wait_tracing || return
	kill -STOP "$tool_pid"
	"$d/$name" leak 1 5 >"$d/target.out" 2>&1 &
	tpid=$!
	bg_pids="$bg_pids $tpid"
	for _ in $(seq 100); do
		st=$(awk '{ print $3 }' "/proc/$tpid/stat" 2>/dev/null)
		[ "$st" = T ] && break
		sleep 0.1
	done
	[ "$st" = T ] || fail "$name: expected it held (stopped) at its exec, its state is ${st:-gone}"
	kill -KILL "$tool_pid"
	# bash says "Killed" of the job: expected here
	tool_wait 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$tpid" 2>/dev/null; then
		fail "$name: still held 10 s after the tool was killed (state $(awk '{ print $3 }' "/proc/$tpid/stat"))"
		kill -CONT "$tpid"
	fi
	wait "$tpid" || fail "$name: exit status $?: $(cat "$d/target.out")"
}

# --hold-exec and a dlopen'd allocator: a process of our own name dlopens
# mimalloc (no process of the set mapped it before) and at once leaks 7
# blocks from its mi_malloc. Held at that mapping until mi_malloc is
# probed, it has all 7 counted and is not late. Without --hold-exec (a
# second name, a second tool) the same run says it joined late, or is
# exact if the drain won the race: never silently short.
# Two short runs that dlopen a big library each (libbigcode: 32 MB of
# frame-pointer code without CFI, decoded whole, holds a worker over a
# second) and exit, while a live process's new object waits
# behind them: the compiles nobody maps any more are given up for it (a
# build's 'rustc --version' held the workers 9 s, and every cc1 meanwhile
# stopped as not_loaded). Then, with nothing else waiting, they are
# compiled anyway for the table cache: libbigcode_a's table is kept, and
# said to be; libbigcode_b's, frame-pointer rows alone, is not, nor said
# to be.
t_sys_given_up()
{
	local a b c pa pb lib id n

	a=$(sys_comm ga)
	b=$(sys_comm gb)
	c=$(sys_comm gc)
	cp "$TARGETS/dlbig" "$d/$a"
	cp "$TARGETS/dlbig" "$d/$b"
	cp "$TARGETS/dlhold" "$d/$c"
	tool_bg -v -t 0 -o "$d/out/report.json" --comm "$a" --comm "$b" \
		--comm "$c" --table-cache "$d/cache" || return
	wait_tracing || return
	"$d/$a" "$TARGETS/libbigcode_a.so" >"$d/a.out" 2>&1 &
	pa=$!
	"$d/$b" "$TARGETS/libbigcode_b.so" >"$d/b.out" 2>&1 &
	pb=$!
	bg_pids="$bg_pids $pa $pb"
	if ! wait "$pa" || ! wait "$pb"; then
		fail "dlbig: $(cat "$d/a.out" "$d/b.out")"
		return
	fi
	# their compiles a second old, their processes gone: a live process
	# now maps libmimalloc, whose compile waits behind the two (started
	# before they were, its job was taken when the first was given up,
	# and the second then ran on)
	sleep 1.2
	sys_ready "$c" "$d/$c" 1 64 --wait || return
	# the drain gives both up; then, with nothing else to compile, they
	# are done for the table cache alone: the next trace has them
	sleep 2
	id=$(readelf -n "$TARGETS/libbigcode_a.so" | awk '/Build ID/ { print $3 }')
	# (its compile takes seconds; on a loaded machine over 30)
	for n in $(seq 450); do
		[ -s "$d/cache/$id" ] && break
		sleep 0.1
	done
	[ -s "$d/cache/$id" ] ||
		fail "expected libbigcode_a's table kept after its compile was given up, got: $(ls "$d/cache")"
	# b's, as big, on the other worker at the same time: done too
	sleep 1
	release_wait "$target_pid"
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 || return
	for lib in libbigcode_a.so libbigcode_b.so; do
		grep -Eq "^memscope-bpf: unwind table .*/$lib: compile given up: the processes that mapped it ended first(; compiled later for the table cache)?\$" "$d/stderr" ||
			fail "expected $lib's compile given up, got: $(grep -F "$lib" "$d/stderr")"
	done
	# kept above, and so said (a drain, every 10 ms, saw it done)
	grep -Eq "^memscope-bpf: unwind table .*/libbigcode_a\.so: .*; compiled later for the table cache\$" "$d/stderr" ||
		fail "expected libbigcode_a's table said compiled later, got: $(grep -F libbigcode_a "$d/stderr")"
	id=$(readelf -n "$TARGETS/libbigcode_b.so" | awk '/Build ID/ { print $3 }')
	if [ -e "$d/cache/$id" ] ||
	   grep -q "libbigcode_b\.so: .*compiled later" "$d/stderr"; then
		fail "expected libbigcode_b's table not kept nor said to be, got: $(ls "$d/cache"), $(grep -F libbigcode_b "$d/stderr")"
	fi
	if ! grep -Eq "^memscope-bpf: unwind table .*/libmimalloc[^:]*: [0-9]+ rows from" "$d/stderr"; then
		fail "expected libmimalloc's table in, got: $(grep -F mimalloc "$d/stderr")"
	fi
	if ! grep -Eq '^memscope-bpf: unwind tables: [1-9][0-9]* compiles? given up, the processes mapping them having ended$' "$d/stderr"; then
		fail "expected the count of compiles given up, got: $(grep 'unwind tables' "$d/stderr")"
	fi
}

t_sys_hold_dlopen()
{
	local name hold n0 p

	for hold in --hold-exec ""; do
		name=$(sys_comm "d${hold:+h}")
		cp "$TARGETS/dlhold" "$d/$name"
		tool_bg -t 0 -o "$d/out/report.json" --comm "$name" $hold ||
			return
		wait_tracing || return
		n0=$(tool_links)
		sys_ready "$name" "$d/$name" 7 4321 --wait || return
		p=$target_pid
		# attached while it lives: a late one is said to be
		links_grew "$n0"
		release_wait "$p"
		kill -INT "$tool_pid"
		tool_wait
		expect_rc 0 && expect_clean_stderr || return
		[ -n "$hold" ] && cp "$d/stderr" "$d/stderr.hold"
		if [ -n "$hold" ] && ! grep -Eq '^memscope-bpf: --hold-exec held [0-9]+ execs? or mappings? of a new file until it was probed: median [0-9.]+ ms, max [0-9.]+ ms$' "$d/stderr"; then
			fail "tool stderr: expected the holds and their length, got: $(grep hold "$d/stderr")"
		fi
		[ -n "$hold" ] && cp "$d/out/report.json" "$d/report.hold.json"
		check_report <<EOF
$SYS_PY
ps = [p for p in procs_of("$name") if p["summary"].get("allocs")]
expect("images of $name that allocated", 1, len(ps))
if ps:
    late = ps[0]["target"].get("joined_late_ns")
    mi = [(l["bytes"], l["count"]) for l in ps[0].get("leaks") or []
          if l["bytes"] % 4321 == 0]
    if "$hold":
        expect("held $name joined_late_ns", None, late)
        expect("held $name: its 7 mi_malloc leaks", [(7 * 4321, 7)], mi)
    elif not (isinstance(late, int) and late > 0) and mi != [(7 * 4321, 7)]:
        print(f"$name without a hold: expected joined late or its 7 leaks, got late {late}, leaks {mi}")
EOF
	done
}

# --hold-exec and an LD_PRELOAD'd allocator: ld.so maps mimalloc after
# the exec (whose own hold is let go first), so the process is held again
# at that mapping: its 3 leaks through mimalloc's malloc, all counted,
# not late.
t_sys_hold_preload()
{
	local name p

	name=$(sys_comm p)
	cp "$TARGETS/sysproc" "$d/$name"
	tool_bg -t 0 -o "$d/out/report.json" --comm "$name" --hold-exec ||
		return
	wait_tracing || return
	sys_ready "$name" env LD_PRELOAD=libmimalloc.so.2 "$d/$name" \
		leak 3 111 wait || return
	p=$target_pid
	release_wait "$p"
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
ps = [p for p in procs_of("$name") if p["summary"].get("allocs")]
expect("images of $name that allocated", 1, len(ps))
if ps:
    expect("held $name joined_late_ns", None, ps[0]["target"].get("joined_late_ns"))
    expect("held $name: its 3 leaks", [(333, 3)],
           [(l["bytes"], l["count"]) for l in ps[0].get("leaks") or []
            if l["bytes"] == 333])
EOF
}

# The tool's BPF links (every probe file it attached adds some).
tool_links()
{
	ls -l "/proc/$tool_pid/fd" 2>/dev/null | grep -c 'bpf_link'
}

# Waits up to 10 s for the tool to hold more BPF links than $1: the probes
# of a file new to it are in.
links_grew()
{
	local _

	for _ in $(seq 100); do
		[ "$(tool_links)" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# Lets the waiting target $1 go on (SIGUSR1); waits up to 10 s for its end.
release_wait()
{
	local _

	kill -USR1 "$1"
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
}

# --comm and a static binary of our own name: its exec joins the set, but
# nothing holds it, so it runs its own malloc unprobed until the drain
# after its exec has attached it. The report says so (joined late, by how
# much; never silently fewer allocations): its row, a WARNING, JSON
# target.joined_late_ns and summary.procs_joined_late, and a replay of
# the recording. A second run of the same file, once the file is probed,
# is traced from its first allocation and is not late.
t_sys_late_static()
{
	local name a n0

	name=$(sys_comm l)
	sys_static "$d/$name" || return
	tool_bg -q -t 0 -o "$d/out/report.json" -w "$d/rec.msr" \
		--comm "$name" || return
	wait_tracing || return
	n0=$(tool_links)
	sys_ready a "$d/$name" leak 3 111 wait leak 2 222 || return
	a=$target_pid
	# Its probes are in once the tool holds more links.
	links_grew "$n0" ||
		fail "tool: expected the static $name's probes within 10 s"
	release_wait "$a"
	# not run(): the tool's stdout is $d/stdout
	$TIMEOUT "$d/$name" leak 1 5 >"$d/second.out" 2>&1 ||
		fail "the second $name: exit status $?: $(cat "$d/second.out")"
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
ps = procs_of("$name")
first = [p for p in ps if p["target"]["pid"] == $a]
second = [p for p in ps if p["target"]["pid"] != $a]
expect("images of $name (first, second)", (1, 1), (len(first), len(second)))
if first and second:
    late = first[0]["target"].get("joined_late_ns")
    if not isinstance(late, int) or late <= 0:
        print(f"first $name: expected joined_late_ns > 0, got {late}")
    # Its startup's mallocs (static glibc's) and the 3 leaks right
    # after its exec ran unprobed (unless its probes beat them); the 2
    # after they were in count exactly.
    got = sum(l["bytes"] for l in with_stacks(r, first[0].get("leaks"))
              if l["frames"] and l["frames"][0].get("function") == "leak")
    if got not in (444, 777):
        print(f"first $name: expected 444 bytes leaked at leak(), or 777, got {got}")
    expect("second $name joined_late_ns", None,
           second[0]["target"].get("joined_late_ns"))
    expect("second $name: its leak 1 5 from its first malloc on", [5],
           [l["bytes"] for l in second[0].get("leaks") or [] if l["bytes"] == 5])
expect("summary.procs_joined_late", 1, s.get("procs_joined_late"))
EOF
	grep -q '^WARNING: report is incomplete: 1 process image ran unprobed before its allocator probes were in (joined late, up to [0-9.]* ms): its counts start there' "$d/stdout" ||
		fail "text report: expected the joined-late warning, got: $(grep WARNING "$d/stdout")"
	grep -A2 "^  $a " "$d/stdout" | grep -q '^           joined late: its allocator probed [0-9.]* ms after it ran it, counts start there$' ||
		fail "text report: expected $name's row to say it joined late, got: $(grep -A2 "^  $a " "$d/stdout")"
	late_replayed
}

# The replay of $d/rec.msr says of each image what the live run's report,
# $d/out/report.json (kept as $d/live.json), said of its joining late.
late_replayed()
{
	cp "$d/out/report.json" "$d/live.json"
	tool report "$d/rec.msr" -o "$d/out/report.json"
	expect_rc 0 || return
	check_report <<EOF
live = msjson.load("$d/live.json")
late = lambda r: sorted((p["target"]["pid"], p["target"]["image"],
                         p["target"].get("joined_late_ns") or 0)
                        for p in r.get("processes") or [])
if late(r) != late(live):
    print(f"replay: processes' joined_late_ns {late(r)}, live run {late(live)}")
EOF
}

# late_set SAME: under --cgroup, a shell of the set forks 6 children that
# exec static binaries new to the tool (6 copies; SAME=1: one file), each
# leaking 3 x 111 bytes from its own malloc, then blocking in a wait. The
# report is checked in $d/out/report.json, the live text kept in
# $d/live.txt, the recording in $d/rec.msr.
late_set()
{
	local cg name i n=6 pids= sh prog

	name=$(sys_comm f)
	sys_static "$d/${name}1" || return
	for i in $(seq 2 $n); do
		cp "$d/${name}1" "$d/$name$i" || return
	done
	prog="'$d/$name'\$i"
	[ "$1" = 1 ] && prog="'$d/${name}1'"
	cgroup_new || return
	if tool_bg -q -t 0 -o "$d/out/report.json" -w "$d/rec.msr" \
		--cgroup "$cg" && wait_tracing; then
		sh -c "echo \$\$ >'$cg/cgroup.procs' || exit
		       for i in \$(seq $n); do
		           $prog leak 3 111 wait leak 2 222 >'$d/'\$i.out 2>&1 &
		       done
		       wait" &
		sh=$!
		for i in $(seq $n); do
			ready_wait "$d/$i.out" "$name$i" &&
				pids="$pids $target_pid"
		done
		for i in $pids; do
			release_wait "$i"
		done
		pkill -KILL -P "$sh"
		wait "$sh"
		kill -INT "$tool_pid"
		tool_wait
	fi
	rmdir "$cg" || fail "cannot remove the cgroup $cg"
	expect_rc 0 && expect_clean_stderr || return
	cp "$d/stdout" "$d/live.txt"
	check_report <<EOF
$SYS_PY
ps = r.get("processes") or []
late = lambda p: p["target"].get("joined_late_ns")
is_late = lambda p: isinstance(late(p), int) and late(p) > 0
progs = [p for p in ps if p["target"]["comm"].startswith("$name")]
expect("images of the programs", $n, len(progs))
if "$1" == "1":
    # the first to exec got the file probed; any that ran it before
    # the probes went in joined late, though its own attach made none
    whole = lambda p: sum(l["bytes"] for l in p.get("leaks") or []
                          if l["bytes"] == 333) == 333
    expect("programs neither late nor traced whole", [],
           [p["target"]["pid"] for p in progs if not is_late(p) and not whole(p)])
    expect("summary.procs_joined_late", len([p for p in progs if is_late(p)]),
           s.get("procs_joined_late"))
    if not any(is_late(p) for p in progs):
        print("expected the first program late at least")
else:
    expect("programs not late", [], [p["target"]["comm"] for p in progs
                                     if not is_late(p)])
    expect("summary.procs_joined_late", $n, s.get("procs_joined_late"))
expect("forks of the shell said late", [],
       [(p["target"]["pid"], p["target"]["image"], late(p)) for p in ps
        if p["target"]["comm"] == "sh" and late(p)])
# each program began at its exec, after the fork it came from (/proc's
# start, the fork's in clock ticks, came before it)
forks = {p["target"]["pid"]: p["target"]["start_ns"] for p in ps
         if p["target"]["comm"] == "sh" and p["target"]["image"] == 0}
expect("programs begun before their fork", [],
       [(p["target"]["start_ns"], forks.get(p["target"]["pid"])) for p in progs
        if p["target"]["start_ns"] < forks.get(p["target"]["pid"], 0)])
EOF
}

# The drain that sees a fork's start record attaches the child, which
# has often exec'd meanwhile: the probes are for the program, whose image
# joined late, not for the fork, which ran the shell's probed code (it
# was said to have joined late too, as long).
t_sys_late_fork()
{
	late_set 0 || return
	# the replay's text as the live run's: --top-procs 5 by default too
	tool report "$d/rec.msr"
	expect_rc 0 || return
	grep -q "^[0-9]* more process images: --top-procs 0 shows them all" \
		"$d/live.txt" ||
		fail "live text: expected the processes past --top-procs counted, got $(grep -c '^== pid' "$d/live.txt") sections"
	[ "$(grep -c '^== pid' "$d/stdout")" = "$(grep -c '^== pid' "$d/live.txt")" ] ||
		fail "replay text: $(grep -c '^== pid' "$d/stdout") processes' sections, the live run $(grep -c '^== pid' "$d/live.txt")"
}

# Six processes of one new file: the first one's attach probes it; those
# that ran it before then joined late as well (their own attach found it
# probed and said nothing: their blocks went uncounted, and a C++
# program's unprobed new made blocks its delete freed as mismatches).
t_sys_late_shared()
{
	late_set 1
}

# Short static programs gone before the tool could read their maps: a
# shell of the set runs 6 new static binaries one after the other (3 by
# their full name, 3 as ./NAME from their directory), each leaking 3 x
# 111 bytes from its own malloc and exiting at once, then the first one
# again. Each first run joined late (all of its life: its file was probed
# only when its exec was drained) or is traced whole; the tree before left
# such a run with no allocation and nothing said (its file was never
# examined). A ./NAME is found in the parent's working directory; its
# fork sleeps before the exec, so the fork's record came in an earlier
# drain (the tree before knew the parent only from a start record in
# the exec's drain: CI failed 1 run in 10 under load). The second run of
# the first file, probed by then, is traced whole from its first malloc.
# A replay says the same.
t_sys_late_gone()
{
	local name i n=6

	name=$(sys_comm g)
	sys_static "$d/${name}1" || return
	for i in $(seq 2 $n); do
		cp "$d/${name}1" "$d/$name$i" || return
	done
	cgroup_run "for i in \$(seq $((n / 2))); do
		        '$d/$name'\$i leak 3 111 >/dev/null 2>&1
		    done
		    cd '$d' || exit
		    for i in \$(seq $((n / 2 + 1)) $n); do
		        (sleep 0.2; exec ./$name\$i leak 3 111) >/dev/null 2>&1
		    done
		    sleep 1
		    '$d/${name}1' leak 3 111 >/dev/null 2>&1" \
		-q -t 0 -o "$d/out/report.json" -w "$d/rec.msr" || return
	check_report <<EOF
$SYS_PY
ps = r.get("processes") or []
late = lambda p: p["target"].get("joined_late_ns")
is_late = lambda p: isinstance(late(p), int) and late(p) > 0
whole = lambda p: sum(l["bytes"] for l in p.get("leaks") or []
                      if l["bytes"] == 333) == 333
progs = sorted((p for p in ps if p["target"]["comm"].startswith("$name")),
               key=lambda p: p["target"]["start_ns"])
expect("images of the programs (6 first runs, a second)", $n + 1, len(progs))
if len(progs) == $n + 1:
    first, again = progs[:$n], progs[$n]
    expect("first runs neither late nor traced whole", [],
           [(p["target"]["comm"], p["summary"]["allocs"]) for p in first
            if not is_late(p) and not whole(p)])
    for p in first:
        t = p["target"]
        if is_late(p) and late(p) > t["exit_ns"] - t["start_ns"]:
            print(f"{t['comm']}: joined_late_ns {late(p)} past its life, "
                  f"{t['exit_ns'] - t['start_ns']} ns")
    expect("the second run: (late, traced whole)", (None, True),
           (late(again), whole(again)))
    expect("summary.procs_joined_late", len([p for p in ps if is_late(p)]),
           s.get("procs_joined_late"))
EOF
	late_replayed
}

# A shell's forks (command substitutions, pipelines) that exec a program
# before the tool has read their maps: their frames in the shell are named
# through the shell's mappings. The tree before read such a fork's maps
# after its exec, took the new program's for its own, and left 65 % of the
# forks' allocations of a bash loop with no frame named (-a, by hand).
t_sys_fork_names()
{
	# the shell joins the set at its exec (its forks' parent image)
	cgroup_run "exec bash -c 'for i in \$(seq 40); do
		                      x=\$(echo a | sed s/a/b/)
		                      y=\$(cat /proc/self/stat)
		                  done'" \
		-q -t 0 --fold 0 -o "$d/out/report.json" || return
	check_report <<EOF
$SYS_PY
ps = r.get("processes") or []
expect_named("forks of bash", 40,
             {i for i, p in enumerate(ps) if p["target"]["comm"] == "bash"
              and p["target"]["image"] == 0 and p["target"]["end"] == "exec"},
             any)
EOF
}

# Programs that exec another at once (sh -c 'exec env true'): each runs a
# few milliseconds, and the drain reads a process's maps after the fact,
# by then the next program's. Their frames are named from the mappings
# the kernel walked for their image. The tree before took the maps of the
# program each had exec'd for its own (or read them within the exec,
# under the old image's number): 364 to 644 of the 40 sh's 1,840
# allocations had a frame of no object; in a busy host's -a trace, every
# frame of 1,028 of 17,250 images. So for the forks of a shell the tool
# does not trace (it joined the cgroup without an exec: no image to name
# them through) that exec'd sed: the tree before left 4,937 of 6,907
# allocations of 81 such forks with no frame named (by hand). A dash run
# first makes its file known: the first fork of a file no traced process
# ran or mapped before has nothing to name its frames by.
t_sys_exec_names()
{
	cgroup_run "sh -c 'exec true' && sleep 0.3 || exit
		    for i in \$(seq 20); do x=\$(echo a | sed s/a/b/); done
		    exec bash -c 'for i in \$(seq 40); do
		                      sh -c \"exec env true\"
		                  done'" \
		-q -t 0 --fold 0 -o "$d/out/report.json" || return
	check_report <<EOF
$SYS_PY
ps = r.get("processes") or []
def images(comm, image, then):
    pids = {p["target"]["pid"] for p in ps if p["target"]["comm"] == then}
    return {i for i, p in enumerate(ps)
            if p["target"]["comm"] == comm and p["target"]["image"] == image
            and p["target"]["end"] == "exec" and p["target"]["pid"] in pids}
expect_named("sh that exec'd env", 40, images("sh", 1, "env"), all)
expect_named("forks of an untraced sh that exec'd sed", 20,
             images("sh", 0, "sed"), any)
EOF
}

# A program run many times in a set is one entry of the report (--fold):
# a shell of the set runs sysproc once by another name, then 13 times, each
# leaking 2 x 100 bytes but the last, which leaks 5 and exits 3. Traced
# with --fold 0, each image is an entry, and so in the replay, which folds
# as the run did. Replayed with --fold 8, its 13 images are one entry whose
# figures are theirs added up and whose one leak site (leak() in each of
# 13 address spaces) holds all 25 blocks with its whole chain. The tree
# before had an entry per image (13 for sysproc, 13 for the shell's forks),
# and thousands on a busy host.
t_sys_fold()
{
	local n=12

	# the same file by another name (comm): its tables compile while it
	# runs, so the folded runs' stacks are whole from their first malloc
	ln -s "$TARGETS/sysproc" "$d/warm" || return
	cgroup_run "'$d/warm' churn 1 && sleep 1 || exit
		    for i in \$(seq $n); do
		        '$TARGETS/sysproc' leak 2 100 || exit
		    done
		    '$TARGETS/sysproc' leak 1 5 exit 3
		    exit 0" \
		-q -t 0 --fold 0 -o "$d/out/report.json" -w "$d/rec.msr" ||
		return
	cp "$d/out/report.json" "$d/live.json"
	check_report <<EOF
$SYS_PY
expect("--fold 0: sysproc's images, their (allocations, live bytes)",
       (13, (25, 2405)), (len(procs_of("sysproc")), live_of("sysproc")))
expect("--fold 0: images folded", 0,
       (r.get("process_counts") or {}).get("folded_images"))
EOF
	# the run's --fold is the replay's
	tool report "$d/rec.msr" -o "$d/out/report.json"
	expect_rc 0 || return
	check_report <<EOF
live = msjson.load("$d/live.json")
if live["processes"] != r["processes"]:
    print(f"replay: {len(r['processes'])} entries, the live run's "
          f"{len(live['processes'])}, or other figures")
EOF
	tool report "$d/rec.msr" --fold 8 -o "$d/out/report.json"
	expect_rc 0 || return
	grep -q "^  sysproc: 13 ended images folded (pids [0-9]* to [0-9]*), from .*, 1 failed$" \
		"$d/stdout" || fail "text: no fold row for sysproc in $d/stdout"
	check_report <<EOF
$SYS_PY
ps = r.get("processes") or []
folds = [i for i, p in enumerate(ps)
         if p["target"].get("folded") and p["target"]["comm"] == "sysproc"]
expect("entries of sysproc, folds among them", (1, 1),
       (len(procs_of("sysproc")), len(folds)))
if folds:
    i = folds[0]
    p, t = ps[i], ps[i]["target"]
    expect("the fold's (images, failed)", (13, 1),
           (t["folded"]["images"], t["folded"]["failed"]))
    expect("its (allocations, live bytes)", (25, 2405),
           (p["summary"]["allocs"], p["summary"]["live_bytes"]))
    expect("its kernel (allocations, live bytes)", (25, 2405),
           ((p.get("kernel") or {}).get("allocs"),
            (p.get("kernel") or {}).get("live_bytes")))
    sites = [x for x in r["sites"] if x["proc"] == i]
    expect("its sites (live blocks, bytes)", [(25, 2405)],
           [(x["live_count"], x["live_bytes"]) for x in sites])
    fns = [f.get("function") for f in sites[0]["frames"]] if sites else []
    if not ("leak" in fns and "main" in fns and sites[0]["stack_stop"] == "end"):
        print(f"its site's frames: {fns}, stop {sites[0]['stack_stop'] if sites else None}")
    expect("its peak: the largest of one image", 200, p["summary"]["peak_bytes"])
c = r.get("process_counts") or {}
expect("process_counts.images: entries, a fold counting its images",
       len(ps) + sum(p["target"]["folded"]["images"] - 1 for p in ps
                     if p["target"].get("folded")), c.get("images"))
EOF
}

# -a and a table cache: a static binary run under one trace (its table
# kept) is probed at the start of the next, which traces its next run
# from its first malloc. The tree before probed a new file only once its
# exec was drained: each trace's first run of it joined late, or, gone
# by then, ran unseen.
t_sys_cache_probes()
{
	local name id i

	name=$(sys_comm k)
	sys_static "$d/$name" || return
	id=$(readelf -n "$d/$name" | awk '/Build ID/ { print $3 }')
	mkdir -m 700 "$d/cache" || return
	tool_bg -q -t 0 -o "$d/first.json" -a --table-cache "$d/cache" ||
		return
	wait_tracing || return
	"$d/$name" leak 3 111 >/dev/null 2>&1
	# a program's table: its build-id, and .entry (its entry outermost)
	for i in $(seq 100); do
		[ -s "$d/cache/$id.entry" ] && break
		sleep 0.1
	done
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 || return
	[ -s "$d/cache/$id.entry" ] ||
		fail "expected $name's table kept as $d/cache/$id.entry, got: $(ls "$d/cache" | head)"
	tool_bg -v -t 0 -o "$d/out/report.json" -a --table-cache "$d/cache" ||
		return
	wait_tracing || return
	"$d/$name" leak 3 111 >/dev/null 2>&1
	kill -INT "$tool_pid"
	tool_wait
	expect_rc 0 || return
	grep -Eq '^memscope-bpf: unwind tables: [0-9]+ kept from earlier runs loaded at the start \([0-9]+ rows\); [1-9][0-9]* of their files define an allocator, probed at the start \(-a\)$' "$d/stderr" ||
		fail "tool stderr: expected the files kept probed at the start, got: $(grep 'kept from earlier' "$d/stderr")"
	check_report <<EOF
$SYS_PY
ps = procs_of("$name")
expect("images of $name", 1, len(ps))
if ps:
    expect("$name joined_late_ns", None, ps[0]["target"].get("joined_late_ns"))
    expect("$name's 3 x 111 bytes at leak()", [333],
           [l["bytes"] for l in with_stacks(r, ps[0].get("leaks"))
            if l["frames"] and l["frames"][0].get("function") == "leak"])
EOF
}

# A process in its own mount and pid namespaces: its objects opened
# through /proc/PID/root, its pid as the host and as it sees it.
t_sys_namespaces()
{
	tool -q -t 0 -o "$d/out/report.json" -- unshare -m -p -f --mount-proc \
		"$TARGETS/sysproc" leak 2 222
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
if "processes" in r:
    expect("sysproc (allocations, live bytes)", (2, 444), live_of("sysproc"))
    ns = [(p.get("target") or {}).get("ns_pid") for p in procs_of("sysproc")]
    expect("sysproc's pid in its namespace", [1], ns)
elif k.get("live_bytes", 0) < 444:
    print(f"kernel.live_bytes: expected at least sysproc's 444, got {k.get('live_bytes')}")
EOF
}

# A chrooted process: its maps name its files from our root, where its
# own root has no such path, so its copies of the program and of libc are
# probed and read through map_files; libc's static functions are named by
# the host's debug file of the same build-id (libc6-dbg).
t_sys_chroot()
{
	local root=$d/root lib

	mkdir -p "$root/app" && cp "$TARGETS/sysproc" "$root/app/" || return
	for lib in $(ldd "$TARGETS/sysproc" | grep -o '/[^ ]*'); do
		mkdir -p "$root${lib%/*}" && cp -L "$lib" "$root$lib" || return
	done
	tool -q -t 0 -o "$d/out/report.json" -- chroot "$root" /app/sysproc \
		leak 2 222
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("sysproc (allocations, live bytes)", (2, 444), live_of("sysproc"))
leaks = with_stacks(r, (procs_of("sysproc") or [{}])[0].get("leaks"))
names = [[f.get("function") for f in l["frames"]] for l in leaks]
want = ["leak", "run", "main", "__libc_start_call_main", "__libc_start_main",
        "_start"]
if [(n, l["stack_stop"]) for n, l in zip(names, leaks)] != [(want, "end")]:
    print(f"sysproc's leaks: expected one, {want}, end; got {names}")
EOF
}

# -p on a process whose libc was deleted since it started, as an upgrade
# of the package leaves every running service: its maps say "(deleted)",
# so its probes and tables go through map_files. The tree before refused
# to attach: "no allocator symbols (malloc, free...) in any object".
t_deleted_libc()
{
	local libc

	libc=$(ldd "$TARGETS/sysproc" | grep -o '/[^ ]*/libc\.so\.6') &&
		mkdir -p "$d/lib" && cp -L "$libc" "$d/lib/" || return
	start_ready env LD_LIBRARY_PATH="$d/lib" "$TARGETS/sysproc" wait \
		leak 3 333 || return
	rm "$d/lib/libc.so.6"
	if ! grep -q "$d/lib/libc.so.6 (deleted)$" "/proc/$target_pid/maps"; then
		fail "sysproc: expected $d/lib/libc.so.6 (deleted) in its maps, got: $(grep libc "/proc/$target_pid/maps")"
		return 1
	fi
	attach_usr1
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("kernel (allocs, live bytes)", (3, 999), (k.get("allocs"), k.get("live_bytes")))
names = [[f.get("function") for f in l["frames"]] for l in r.get("leaks", [])]
want = ["leak", "run", "main", "__libc_start_call_main", "__libc_start_main",
        "_start"]
if names != [want]:
    print(f"leaks: expected one, {want}; got {names}")
EOF
}

# A 32-bit program (sysproc32, gcc -m32): the probes read x86-64 argument
# registers, so it is never traced. Launched or attached to: one clear
# line and exit 1 (the tree before traced it as a program that allocated
# nothing). In a set: its image not traced, said in the report, while the
# rest is traced.
t_foreign()
{
	local want="memscope-bpf traces x86-64 programs only"

	tool -q -t 0 -- "$TARGETS/sysproc32" leak 1 1
	expect_rc 1 && expect_clean_stderr || return
	grep -q "^memscope-bpf: cannot trace .*/sysproc32: .*/sysproc32 is a 32-bit (i386) program: $want$" "$d/stderr" ||
		fail "launch: expected the 32-bit refusal, got: $(cat "$d/stderr")"
	start_ready "$TARGETS/sysproc32" wait leak 1 1 || return
	tool -q -t 0 -p "$target_pid"
	expect_rc 1 && expect_clean_stderr || return
	grep -q "^memscope-bpf: cannot attach to pid $target_pid: it runs a 32-bit (i386) program: $want$" "$d/stderr" ||
		fail "-p: expected the 32-bit refusal, got: $(cat "$d/stderr")"
	kill -USR1 "$target_pid"

	tool -t 0 -o "$d/out/report.json" -- sh -c \
		"$TARGETS/sysproc leak 1 111; $TARGETS/sysproc32 leak 2 222"
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("summary.procs_foreign", 1, s.get("procs_foreign"))
expect("sysproc (allocations, live bytes)", (1, 111), live_of("sysproc"))
expect("sysproc32's images: foreign", [True],
       [p["target"]["foreign"] for p in procs_of("sysproc32")])
expect("foreign images", ["sysproc32"],
       [p["target"]["comm"] for p in r["processes"] if p["target"]["foreign"]])
EOF
	grep -q '^WARNING: report is incomplete: 1 process image not traced: not x86-64 (a 32-bit program), which memscope-bpf cannot trace' "$d/stdout" ||
		fail "text report: expected the not-traced warning, got: $(grep WARNING "$d/stdout")"
}

# A program on musl (sysproc_musl, musl-gcc), whose NEEDED libc.so is its
# dynamic linker: launched (the tree before stopped at "cannot read
# /lib/x86_64-linux-gnu/libc.so", glibc's linker script, and looked for a
# libc.so.6 it has none of), with a fork, and attached to: exact figures,
# and stacks whole up to musl's own code, which Debian builds without CFI
# (no_info, counted: never a guessed frame).
t_musl()
{
	tool -q -t 0 -o "$d/out/report.json" -- "$TARGETS/sysproc_musl" \
		leak 3 333 fork leak 2 222 \;
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
expect("images (allocations, live bytes)", [(2, 444), (3, 999)],
       sorted((p["summary"]["allocs"], p["summary"]["live_bytes"])
              for p in procs_of("sysproc_musl")))
for p in procs_of("sysproc_musl"):
    for l in with_stacks(r, p.get("leaks")):
        names = [f.get("function") for f in l["frames"]]
        if names[:2] != ["leak", "run"] or "main" not in names or \
                l["stack_stop"] not in ("end", "no_info"):
            print(f"pid {p['target']['pid']}: expected leak < run ... < main, "
                  f"then end or no_info; got {names}, {l['stack_stop']}")
EOF
	start_ready "$TARGETS/sysproc_musl" wait leak 2 222 || return
	attach_usr1
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
expect = lambda what, want, got: want == got or print(f"{what}: expected {want}, got {got}")
expect("-p: kernel (allocs, live bytes)", (2, 444),
       (k.get("allocs"), k.get("live_bytes")))
EOF
}

# A forked child frees blocks its parent made before the fork (bash's
# command substitutions do): in a trace from the start these are unknown
# frees of its copied heap, never invalid frees (7180c05 reported one
# invalid_free per subshell free), and said to be the forks' in JSON
# (forked_frees) and text (the tree before left them unexplained: 856 of
# a build's 864 unknown frees).
t_fork_inherited()
{
	local n

	tool -q -t 0 -o "$d/out/report.json" -- bash -c \
		'for i in 1 2 3; do x=$(echo $i); done'
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
kinds = [a["kind"] for a in r.get("anomalies", [])]
expect("anomalies", [], kinds)
expect("summary.anomalies", 0, s.get("anomalies"))
subshells = [p for p in procs_of("bash") if p["target"]["image"] == 0 and
             p["target"]["pid"] != r["target"]["pid"]]
if not subshells or not all(p["summary"]["unknown_frees"] > 0 for p in subshells):
    print("subshells: expected each to free blocks of its parent (unknown "
          f"frees), got {[(p['target']['pid'], p['summary']['unknown_frees']) for p in subshells]}")
expect("subshells' unknown frees not the allocator's: forked_frees", [],
       [(p["target"]["pid"], p["summary"]["unknown_frees"],
         p["summary"]["allocator_frees"], p["summary"].get("forked_frees"))
        for p in subshells
        if p["summary"]["unknown_frees"] - p["summary"]["allocator_frees"] !=
           p["summary"].get("forked_frees")])
expect("summary: (unknown frees, the allocator's, the forks')",
       (s.get("unknown_frees"), s.get("allocator_frees"),
        s.get("unknown_frees", 0) - s.get("allocator_frees", 0)),
       (s.get("unknown_frees"), s.get("allocator_frees"),
        s.get("forked_frees")))
EOF
	n=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["summary"].get("forked_frees"))' "$d/out/report.json")
	grep -Eq "^  unknown frees  [0-9]+; (of them|.*;) $n by forked processes, of blocks their parent made before the fork\$" "$d/stdout" ||
		fail "text report: expected $n unknown frees said to be the forks', got: $(grep '^  unknown frees' "$d/stdout")"
}

# A vfork child runs in its parent's memory until it execs, and what it
# allocates there its parent frees (dash builds a command's path in its
# vfork child): its calls count in the parent's heap, so the parent's
# frees are of blocks it holds, exact against the kernel's counters. The
# tree before put the block in the child's image and called the free an
# invalid one (every make recipe `sh -c 'rm -f x && ...'` had one). With
# --no-follow the child's calls are not seen (its probes are filtered to
# the one pid): the frees are unknown, never judged invalid.
t_vfork_heap()
{
	tool -q -t 0 -o "$d/out/report.json" -- "$TARGETS/sysproc" \
		vfork 100 /bin/true vfork 200 - leak 1 50
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
$SYS_PY
p = procs_of("sysproc")
p = [x for x in p if x["target"]["image"] == 0 and
     x["target"]["pid"] == r["target"]["pid"]]
got = p and (p[0]["summary"]["allocs"], p[0]["summary"]["frees"],
             p[0]["summary"]["unknown_frees"], p[0]["summary"]["live_bytes"],
             (p[0].get("kernel") or {}).get("allocs"))
expect("parent (allocs, frees, unknown frees, live bytes, kernel allocs)",
       (3, 2, 0, 50, 3), got)
expect("anomalies", [], [a["kind"] for a in r.get("anomalies", [])])
EOF
	tool -q -t 0 -o "$d/out/report.json" --no-follow -- "$TARGETS/sysproc" \
		vfork 100 /bin/true vfork 200 - leak 1 50
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
expect = lambda what, want, got: want == got or print(f"{what}: expected {want}, got {got}")
expect("--no-follow: (allocs, unknown frees, anomalies)", (1, 2, 0),
       (s.get("allocs"), s.get("unknown_frees"), s.get("anomalies")))
EOF
	# Debian's sh (dash) vforks for rm; the shell frees the path it built
	tool -q -t 0 -o "$d/out/report.json" -- sh -c "rm -f '$d/none' && true"
	expect_rc 0 && expect_clean_stderr || return
	check_report <<EOF
expect = lambda what, want, got: want == got or print(f"{what}: expected {want}, got {got}")
expect("sh -c 'rm -f x && true': anomalies", [],
       [a["kind"] for a in r.get("anomalies", [])])
EOF
}

# The totals' live bytes count what exited processes left, and say how
# much: beside a peak of the running ones, live over peak is no puzzle.
t_totals_ended()
{
	local want='  live now       3 blocks, 544 bytes; of them 1 block, 100 bytes, left by processes at their exit or exec'

	tool -q -t 0 -- "$TARGETS/sysproc" fork leak 1 100 ';' leak 2 222
	expect_rc 0 && expect_clean_stderr || return
	grep -qxF "$want" "$d/stdout" ||
		fail "text report: expected '$want', got: $(grep 'live now' "$d/stdout" | head -1)"
	grep -qx '  peak           444 bytes at [0-9.]* s' "$d/stdout" ||
		fail "text report: expected the peak of the running processes, 444 bytes, got: $(grep '^  peak' "$d/stdout")"
}

# --reachability -p on a process a debugger or strace traces: ptrace takes
# one tracer, so the scan is refused; the line names who traces it (read
# from /proc, where the tree before guessed "traced by another process?")
# and the report is written without the heap's classes.
t_reach_traced()
{
	local tracer want

	start_ready python3 -c 'import ctypes, os, sys, time
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(0x4206, child, None, None):  # PTRACE_SEIZE
    sys.exit("ptrace: " + os.strerror(ctypes.get_errno()))
print("ready", child, flush=True)
time.sleep(30)' || return
	tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$target_pid/status")
	tool -q -t 0 --reachability -d 0.5 -o "$d/out/report.json" -p "$target_pid"
	expect_rc 0 && expect_clean_stderr || return
	want="memscope-bpf: cannot scan the heap of pid $target_pid: pid $tracer ($(cat "/proc/$tracer/comm")) traces it, and a process has one tracer"
	grep -qxF "$want" "$d/stderr" ||
		fail "stderr: expected '$want', got: $(cat "$d/stderr")"
	check_report <<-'EOF'
	if "reachability" in r:
	    print(f"reachability: expected none (no scan), got {r['reachability']}")
	if r.get("target", {}).get("pid") is None:
	    print("report: expected the trace's report, got no target")
	EOF
}

# --max-stacks: a program that makes thousands of distinct stacks (a random
# recursion) keeps the tool's memory bounded. Past the cap a new stack
# counts at its innermost frame alone, flagged, counted and warned of; the
# figures stay exact. The tree before kept every stack: such a program
# grew the tool by ~50 MB/s and its report past 20 GB. A replay takes its
# own --max-stacks.
t_max_stacks()
{
	tool -t 0 --max-stacks 500 -w "$d/out/rec.msr" \
		-o "$d/out/report.json" -- "$TARGETS/manystacks"
	expect_rc 0 && expect_clean_stderr || return
	check_report <<-'EOF'
	sites = r.get("sites", [])
	whole = [x for x in sites if not x.get("stack_full")]
	cut = [x for x in sites if x.get("stack_full")]
	if s.get("allocs") != k.get("allocs") or s.get("allocs", 0) < 20000:
	    print(f"allocs: expected all captured, got {s.get('allocs')} of {k.get('allocs')}")
	if not 500 <= len(whole) + s.get("stacks_cut", 0):
	    print(f"stacks: expected 500 kept and the rest cut, got {len(whole)} kept, {s.get('stacks_cut')} cut")
	if len(whole) > 500 or not s.get("stacks_cut"):
	    print(f"sites: expected at most 500 whole stacks and some cut, got {len(whole)} whole, stacks_cut {s.get('stacks_cut')}")
	if sorted(x["frames"][0]["function"] for x in cut if x["frames"]) != ["left", "right"] or any(len(x["frames"]) != 1 or not x["stack_truncated"] for x in cut):
	    print(f"cut sites: expected left and right, one frame each, truncated, got {[(len(x['frames']), x['frames'][0].get('function'), x['stack_truncated']) for x in cut]}")
	if sum(x["alloc_count"] for x in sites) != s.get("allocs"):
	    print(f"sites: expected their allocations to sum to {s.get('allocs')}, got {sum(x['alloc_count'] for x in sites)}")
	EOF
	grep -q '^WARNING: report is incomplete: [0-9]* records whose stack was cut to its first frame (--max-stacks: ' "$d/stdout" ||
		fail "text report: expected the WARNING of cut stacks, got: $(grep WARNING "$d/stdout")"
	grep -q "(stacks cut to their first frame: the process's table of distinct stacks was full, --max-stacks)" "$d/stdout" ||
		fail "text report: expected a cut site marked, got none"
	tool report "$d/out/rec.msr" -q --max-stacks 100 -o "$d/out/report.json"
	expect_rc 0 || return
	check_report <<-'EOF'
	if len([x for x in r.get("sites", []) if not x.get("stack_full")]) > 100 or s.get("allocs") != k.get("allocs"):
	    print(f"replay with --max-stacks 100: expected at most 100 whole stacks and every allocation, got {len(r.get('sites', []))} sites, allocs {s.get('allocs')} of {k.get('allocs')}")
	EOF
}

# Debian's python3 keeps objects under 512 bytes in pymalloc's own arenas,
# mapped with mmap: 200,000 small tuples held show as anonymous memory,
# not heap blocks; PYTHONMALLOC=malloc makes each object a malloc block
# at its stack. As the README says, with the figures of this run. The
# trace stops once the list is built (a fixed -d 2 cut it short on a
# loaded machine: 11 of 20 MB).
t_python_pymalloc()
{
	local m

	for m in pymalloc malloc; do
		rm -f "$d/built"
		printf 'PYTHONMALLOC=%s ' "$m" >>"$d/cmd"
		PYTHONMALLOC=$m tool_bg -q -t 1 --kill -o "$d/out/report.json" \
			-- /usr/bin/python3 -c 'import sys, time
held = [(i, str(i)) for i in range(200000)]
open(sys.argv[1], "w").write("built")
time.sleep(60)' "$d/built" || return
		wait_for "$d/built" built 50 ||
			fail "python3: expected its list built within 50 s"
		kill -INT "$tool_pid"
		tool_wait
		expect_rc 0 && expect_clean_stderr || return
		M=$m check_report <<-'EOF'
		import os
		heap, anon = s.get("live_bytes", 0), r.get("anon_memory", {}).get("live_bytes", 0)
		if os.environ["M"] == "pymalloc" and not (heap < 8 << 20 and anon > 16 << 20):
		    print(f"pymalloc: expected the objects in anonymous memory (arenas), got heap {heap}, anon {anon}")
		if os.environ["M"] == "malloc" and not (heap > 16 << 20 and anon < 8 << 20):
		    print(f"PYTHONMALLOC=malloc: expected the objects as heap blocks, got heap {heap}, anon {anon}")
		EOF
	done
}

# A soft limit of open files well under what a traced set needs (Debian's
# default is 1,024; here 150, for 150 new programs): the tool raises its
# own to the hard limit, after the command was forked, which keeps 150.
# The tree before ran out: 91 of 659 stacks stopped not_loaded.
t_nofile()
{
	local i

	mkdir -p "$d/bins"
	for i in $(seq 150); do
		cp "$TARGETS/sysproc" "$d/bins/s$i" || return
	done
	printf '(ulimit -Sn 150) ' >>"$d/cmd"
	(
		ulimit -Sn 150
		tool -q -t 0 -o "$d/out/report.json" -- sh -c \
			'ulimit -Sn; for f in "$0"/s*; do "$f" leak 1 100; done' \
			"$d/bins"
		echo "$rc" >"$d/rc"
	)
	rc=$(cat "$d/rc")
	expect_rc 0 && expect_clean_stderr || return
	[ "$(head -1 "$d/stdout")" = 150 ] ||
		fail "the command: expected its soft limit of 150 open files, got $(head -1 "$d/stdout")"
	check_report <<-'EOF'
	st = k.get("stack_stops") or {}
	images = (r.get("process_counts") or {}).get("images")
	if st.get("not_loaded") or images != 301:
	    print(f"expected 301 images, every stack loaded, got {images} images, stack stops {st}")
	EOF
}

# 400 threads allocating at once on the machine's few cores: the drain
# shared the CPU with them as one thread in 401 and the ring filled (8-15 %
# of the records lost; up to 58 % at nice -10 once the threads started
# together); real-time it keeps up, and that does not reach the command
# (storm prints its nice). The frees glibc makes of each
# thread's cache at thread exit are unknown frees the text says are the
# allocator's own, not blocks the trace missed.
t_storm()
{
	local line

	tool -t 0 -o "$d/out/report.json" -- "$TARGETS/storm"
	expect_rc 0 && expect_clean_stderr || return
	grep -qx "nice $(nice)" "$d/stdout" ||
		fail "storm: expected to run at the tool's nice $(nice), got: $(grep nice "$d/stdout")"
	check_report <<-'EOF'
	if k.get("lost_events") != 0 or s.get("lost_events") != 0:
	    print(f"lost events: expected 0, got kernel {k.get('lost_events')}, summary {s.get('lost_events')}")
	if s.get("allocs") != k.get("allocs") or k.get("allocs", 0) < 800000:
	    print(f"allocs: expected all 800000+ captured, got {s.get('allocs')} of {k.get('allocs')}")
	if not s.get("unknown_frees") or s.get("allocator_frees") != s.get("unknown_frees"):
	    print(f"unknown frees: expected all the allocator's own (thread caches), got {s.get('unknown_frees')} unknown, {s.get('allocator_frees')} allocator's")
	EOF
	line=$(grep '^  unknown frees' "$d/stdout")
	echo "$line" | grep -qx '  unknown frees  \([0-9]*\); of them \1 by the allocator itself, of blocks it took internally (glibc frees a thread'"'"'s cache at its exit)' ||
		fail "text report: expected the unknown frees said to be the allocator's, got: $line"
}

# A launched command's parent is the tool, in every image: the first said
# "parent ?" while its exec's image, from the kernel, named the tool.
t_launch_parent()
{
	tool_bg -q -t 0 -o "$d/out/report.json" -- sh -c 'exec sleep 0.5' ||
		return
	wait_tracing || return
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	check_report <<-EOF
	got = [(p["target"]["image"], p["target"]["ppid"]) for p in r.get("processes") or []]
	if got != [(0, $tool_pid), (1, $tool_pid)]:
	    print(f"the command's images (image, ppid): expected [(0, $tool_pid), (1, $tool_pid)], got {got}")
	EOF
}

# The drain runs real-time while tracing (storm above lost up to 924,031
# of its records with it ten nice levels up), the command and the tool's
# other threads as they were; without CAP_SYS_NICE it says why at -v and
# traces all the same.
t_drain_priority()
{
	local pid pol tid other=""

	tool_bg -q -t 0 -o "$d/out/report.json" -- sleep 2 || return
	wait_tracing || return
	pid=$(traced_pid)
	pol=$(chrt -p "$tool_pid" 2>&1)
	case $pol in
	*"policy: SCHED_FIFO|SCHED_RESET_ON_FORK"*) ;;
	*) fail "the drain's thread: expected SCHED_FIFO|SCHED_RESET_ON_FORK, got: $pol" ;;
	esac
	for tid in /proc/"$tool_pid"/task/*; do
		tid=${tid##*/}
		[ "$tid" = "$tool_pid" ] && continue
		chrt -p "$tid" 2>/dev/null | grep -q SCHED_FIFO && other="$other $tid"
	done
	[ -z "$other" ] ||
		fail "the tool's other threads: expected none real-time, got$other"
	pol=$(chrt -p "$pid" 2>&1)
	case $pol in
	*"policy: SCHED_OTHER"*) ;;
	*) fail "the command: expected SCHED_OTHER, got: $pol" ;;
	esac
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	run capsh --drop=cap_sys_nice -- -c \
		"$(printf '%q ' "$MEMSCOPE") -v -q -t 0 -o $(printf '%q' "$d/out/report.json") -- $(printf '%q' "$TARGETS/leaky")"
	expect_rc 0 && expect_clean_stderr || return
	grep -qx 'memscope-bpf: the drain runs without real-time priority: Operation not permitted' "$d/stderr" ||
		fail "without CAP_SYS_NICE: expected -v to say the drain runs without real-time priority, got: $(grep drain "$d/stderr")"
	expect_report leaky --exited yes --exit-status 0
}

# -p with a thread's id (as top -H shows it): one line naming the
# process to trace, exit 1. The tree before said "cannot attach to pid N:
# No such file or directory".
t_thread_id()
{
	local tid want

	start_ready python3 -c 'import os, threading, time
t = threading.Thread(target=time.sleep, args=(30,))
t.start()
print("ready", os.getpid(), flush=True)
t.join()' || return
	tid=$(ls "/proc/$target_pid/task" | grep -vx "$target_pid" | head -1)
	if [ -z "$tid" ]; then
		fail "python3: expected a second thread in /proc/$target_pid/task"
		return 1
	fi
	tool -q -t 0 -p "$tid"
	expect_rc 1 && expect_clean_stderr || return
	want="memscope-bpf: pid $tid is a thread of process $target_pid: -p $target_pid traces that process (all its threads)"
	grep -qxF "$want" "$d/stderr" ||
		fail "stderr: expected '$want', got: $(cat "$d/stderr")"
}

# -p on a zombie (a child its parent, sleep, never reaps): one line that
# says it exited, exit 1. The tree before called it a kernel thread.
t_zombie()
{
	local want _

	start_ready sh -c 'sleep 0 & echo ready $!; exec sleep 30' || return
	for _ in $(seq 100); do
		grep -q '^State:.Z' "/proc/$target_pid/status" && break
		sleep 0.05
	done
	tool -q -t 0 -p "$target_pid"
	expect_rc 1 && expect_clean_stderr || return
	want="memscope-bpf: cannot attach to pid $target_pid: it has exited (a zombie its parent has not reaped): nothing to trace"
	grep -qxF "$want" "$d/stderr" ||
		fail "stderr: expected '$want', got: $(cat "$d/stderr")"
}

only="${*:-}"

# --live under tmux (a server of our own, on its own socket): the view
# draws the grower's sites, each key sorts or selects as it says, q ends
# tracing and the report follows on stdout, and the terminal is as it was
# (settings and the main screen) once the tool has exited.
live_pane()
{
	tmux -L "$live_sock" capture-pane -p -t live >"$d/pane" 2>/dev/null
}

# live_wait ERE WHAT: until the pane shows a line matching ERE (10 s).
live_wait()
{
	local _

	for _ in $(seq 100); do
		live_pane
		grep -Eq "$1" "$d/pane" && return 0
		sleep 0.1
	done
	fail "--live: expected $2, got:"
	fail "$(sed 's/^/  | /' "$d/pane")"
	return 1
}

# live_start ARGS...: memscope-bpf --live ARGS (its command line also in
# cmd) in a tmux session of its own server ($live_sock), 132 x 40, whose
# pane live_pane reads. Its stdout, stderr and exit status go to
# $d/stdout, stderr and rc, the terminal's settings before and after it to
# stty.before and stty.after.
live_start()
{
	local sh

	sh="stty -a >'$d/stty.before';"
	# --foreground: the tool's keys come from the terminal
	sh+=" timeout --foreground -k 5 $LIMIT $(printf '%q ' "$MEMSCOPE" --live "$@")"
	sh+=" >'$d/stdout' 2>'$d/stderr'; echo \$? >'$d/rc';"
	sh+=" stty -a >'$d/stty.after'; exec sleep $LIMIT"
	printf '%s\n' "$sh" >>"$d/cmd"
	tmux -L "$live_sock" new-session -d -s live -x 132 -y 40 "$sh" &&
		return
	fail "cannot start tmux"
	return 1
}

# live_status SECONDS WHAT: the tool's exit status into rc, once it has
# one; WHAT is the failure when it has none within SECONDS.
live_status()
{
	wait_for "$d/rc" '^[0-9]+$' "$1" || fail "--live: $2"
	rc=$(cat "$d/rc" 2>/dev/null || echo 1)
}

# q ends the trace, which exits 0; the terminal goes with it.
live_quit()
{
	tmux -L "$live_sock" send-keys -t live q
	live_status 20 "q did not end tracing"
	expect_rc 0
	tmux -L "$live_sock" kill-server 2>/dev/null
}

t_live()
{
	live_sock=memscope-live-$$
	live_start --kill -- "$TARGETS/grower" || return
	live_wait '^> +1 .* grow_fast ' "grow_fast first, selected, by live bytes" &&
	grep -q '^sorted by live bytes ' "$d/pane" ||
		fail "--live: expected 'sorted by live bytes' in the header"
	if live_wait 'grow_slow ' 'grow_slow listed'; then
		tmux -L "$live_sock" send-keys -t live a
		live_wait '^ +1 +0 +0 .* churn_only ' \
			"churn_only first by allocations, nothing live" &&
		grep -q '^sorted by allocations ' "$d/pane" ||
			fail "--live: 'a' did not sort by allocations"
		tmux -L "$live_sock" send-keys -t live g
		live_wait '^sorted by growth ' "'g': sorted by growth" &&
		live_wait '^. +1 +[0-9]+ +[0-9]+ +\+[1-9][0-9]* .* grow_fast ' \
			"grow_fast first by growth"
		# the selection stays on grow_fast; one down is grow_slow
		tmux -L "$live_sock" send-keys -t live l j
		live_wait '^> +2 .* grow_slow ' "'j' selecting grow_slow" &&
		live_wait '^stack of #2' 'the stack of #2' &&
		sed -n '/^stack of #2/,$p' "$d/pane" | grep -q '^  main ' ||
			fail "--live: the stack of #2 does not reach main"
		tmux -L "$live_sock" send-keys -t live Up
		live_wait '^> +1 .* grow_fast ' "the up arrow selecting #1"
	fi
	tmux -L "$live_sock" send-keys -t live q
	live_status 20 "q did not end tracing"
	expect_rc 0
	grep -q '^Top leaking call sites' "$d/stdout" &&
	grep -q 'grow_fast (.*grower\.c' "$d/stdout" ||
		fail "report: expected the leaking sites on stdout after q"
	grep -q 'killed when tracing ended (--kill)' "$d/stdout" ||
		fail "report: expected the target killed (--kill)"
	wait_for "$d/stty.after" . 5
	cmp -s "$d/stty.before" "$d/stty.after" ||
		fail "--live: terminal settings not restored: $(diff "$d/stty.before" "$d/stty.after" | head -3)"
	[ "$(tmux -L "$live_sock" display -p -t live '#{alternate_on}')" = 0 ] ||
		fail "--live: the terminal was left on the alternate screen"
	tmux -L "$live_sock" kill-server 2>/dev/null
}

# Two processes: the process pane, each image's live bytes, blocks and
# growth (top__growth: its sites' together), a child leaking 100 x 4 KiB
# under a parent that holds nothing.
t_live_procs()
{
	live_sock=memscope-live-procs-$$
	live_start --kill -- "$TARGETS/sysproc" fork leak 100 4096 wait ';' ||
		return
	live_wait ' GROWTH/S' "the process pane's header" &&
	live_wait ' sysproc +409600 +100 +\+409600 *$' \
		"the child: 409600 bytes in 100 blocks, all grown since the start" &&
	live_wait ' sysproc +0 +0 +\+0 *$' "the parent: nothing live, no growth"
	live_quit
}

# A process names itself (its file's name, prctl): the view escapes a
# control character in it, where the terminal would have taken it as one
# (here ESC [7m, reverse video), in the header and the process pane.
t_live_comm()
{
	local bad

	bad="$d/s$(printf '\033')[7mX"
	cp "$TARGETS/sysproc" "$bad" || return
	live_sock=memscope-live-comm-$$
	live_start --kill -- "$bad" fork leak 100 4096 wait ';' || return
	live_wait '^memscope-bpf --live  pid [0-9]+ \(s\\x1b\[7mX\) ' \
		"the header naming the command's comm, escaped" &&
	live_wait ' s\\x1b\[7mX +409600 +100 ' \
		"the child's row naming it escaped"
	live_quit
}

# The header's live bytes are the running processes', as its peak counts
# them: a child that leaked 100 x 4 KiB and exited holds nothing now (the
# tree before showed 409664 live under a peak of 409600).
t_live_ended()
{
	live_sock=memscope-live-ended-$$
	live_start --kill -- "$TARGETS/sysproc" fork leak 100 4096 ';' \
		leak 1 64 wait || return
	live_wait ' live 64 bytes in 1 blocks  peak 409600 bytes ' \
		"the header: the parent's 64 bytes live, the child's 409600 at the peak"
	live_quit
}

# --live when the table of stacks is full: the header counts the records
# cut, and the leaked block's site, cut to its innermost frame, says so
# rather than look like a stack of one frame.
t_live_max_stacks()
{
	live_sock=memscope-live-stacks-$$
	live_start --kill --max-stacks 500 -- env MANYSTACKS_HOLD=1 \
		"$TARGETS/manystacks" || return
	live_wait ' [0-9]+ cut \(--max-stacks\)' "the header counting the records cut" &&
	live_wait '^> +1 .* (left|right) \(tests/targets/manystacks\.c:[0-9]+\) < \(cut: --max-stacks\)' \
		"the leaked block's site first, marked cut" &&
	live_wait "^ +\\(stacks cut to their first frame: the process's table of distinct stacks was full, --max-stacks\\)" \
		"its stack saying why it ends"
	live_quit
}

# A stack cut at --max-depth says so under its frames in the live view,
# as in the text report (the view said nothing before).
t_live_depth()
{
	live_sock=memscope-live-depth-$$
	live_start --kill --max-depth 2 -- "$TARGETS/grower" || return
	live_wait '^> +1 .* grow_fast ' "grow_fast first, selected" &&
	live_wait '^ +\(stack cut at 2 frames\)' "its stack saying it was cut"
	live_quit
}

# --live on one process that execs another (--no-follow: the one-process
# path): the view goes on with the new image, the run ends clean when the
# program exits, and the report has each image's sites.
t_live_exec()
{
	live_sock=memscope-live-exec-$$
	live_start --no-follow -- "$TARGETS/stk_exec" || return
	live_status 30 "the run did not end with its program"
	tmux -L "$live_sock" kill-server 2>/dev/null
	expect_rc 0 && expect_clean_stderr || return
	grep -q 'exec_leaf (tests/targets/stk_exec.c:' "$d/stdout" ||
		fail "report: expected the first image's exec_leaf site, got: $(grep -c . "$d/stdout") lines"
	grep -q 'b_leaf (tests/targets/stk_exec_b.c:' "$d/stdout" ||
		fail "report: expected the second image's b_leaf site"
}

# Without a terminal: one line, exit 1, nothing traced for long.
t_live_no_tty()
{
	run setsid "$MEMSCOPE" --live -q -d 1 -- "$TARGETS/grower"
	expect_error 1 '^memscope-bpf: --live needs a terminal: '
}


run_test leaky_launch		t_launch leaky leaky
run_test leaky_attach		t_attach leaky leaky
run_test peak_launch		t_launch peak peak
run_test peak_attach		t_attach peak peak
run_test short_launch		t_launch short short
run_test static_launch		t_static
run_test hostile_launch		t_hostile
run_test hostile_names		t_hostile_names
run_test attach_execmap		t_attach_execmap
run_test attach_exit_status	t_attach_exit_status
run_test usdt_lib_launch	t_usdt_lib launch
run_test usdt_lib_attach	t_usdt_lib attach
run_test exits_mid_attach	t_exits_mid attach
run_test exits_mid_launch	t_exits_mid launch
run_test exits_during_attach	t_exits_during_attach
run_test launch_user_stop	t_launch_user_stop
run_test busy_attach		t_busy
run_test attach_busy_pid	t_attach_busy busy -p
run_test attach_busy_comm	t_attach_busy busy --comm
run_test attach_busy_cxx_pid	t_attach_busy busy_cxx -p
run_test attach_busy_cxx_comm	t_attach_busy busy_cxx --comm
run_test reload_pid		t_reload -p
run_test go_launch		t_go launch
run_test go_attach		t_go attach
run_test go_stripped_launch	t_go launch stk_go_stripped
run_test go_stripped_attach	t_go attach stk_go_stripped
run_test go_pure		t_go_pure
run_test reload_comm		t_reload --comm
run_test placement_launch	t_launch placement placement
run_test placement_attach	t_attach placement placement
run_test alloc_mode		t_alloc_mode
run_test tailcalls_alloc	t_tailcalls alloc
run_test tailcalls_default	t_tailcalls default
run_test fam_cxx_launch		t_launch fam_cxx fam_cxx
run_test fam_cxx_attach		t_attach fam_cxx fam_cxx
# nothrow new's sites, its frame dropped at the intake, in the recording
run_test fam_cxx_replay		t_record_replay launch fam_cxx
# bad_alloc thrown out of every operator new, and failing nothrow news:
# the program runs to its own exit, its leaks exact
run_test fam_cxx_throw_launch	t_launch fam_cxx_throw fam_cxx_throw
run_test fam_cxx_throw_attach	t_attach fam_cxx_throw fam_cxx_throw
# the probes' counted_at and throw_ends_program, kept by the recording
run_test fam_cxx_throw_replay	t_record_replay launch fam_cxx_throw
run_test fam_c_glibc		t_fam_c glibc ""
run_test fam_c_jemalloc		t_fam_c jemalloc /usr/lib/x86_64-linux-gnu/libjemalloc.so.2
run_test fam_c_tcmalloc		t_fam_c tcmalloc /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
run_test fam_c_mimalloc		t_fam_c mimalloc /usr/lib/x86_64-linux-gnu/libmimalloc.so.2
run_test fam_bad_launch		t_fam_bad launch
run_test fam_bad_attach		t_fam_bad attach
run_test fam_bad_rs		t_fam_bad_rs fam_bad_rs
run_test fam_bad_rs_new		t_fam_bad_rs fam_bad_rs_new
run_test fam_cross_attach	t_fam_cross
run_test live_full		t_live_full
run_test lost_events		t_lost_events
run_test sigint_attach		t_signal INT
run_test sigterm_attach		t_signal TERM
run_test no_such_pid		t_no_such_pid
run_test kernel_thread		t_kernel_thread
run_test no_such_command	t_no_such_command
run_test usage			t_usage
run_test help_version		t_help_version
run_test unknown_command		t_unknown_command
run_test quiet			t_quiet
run_test end_detach		t_end_running detach
run_test end_kill		t_end_running kill
run_test end_sigint		t_end_running sigint
run_test leak_filter		t_leak_filter
run_test growth			t_growth
run_test report_interval	t_report_interval
run_test live			t_live
run_test live_procs		t_live_procs
run_test live_comm		t_live_comm
run_test live_ended		t_live_ended
run_test live_max_stacks	t_live_max_stacks
run_test live_depth		t_live_depth
run_test live_exec		t_live_exec
run_test live_no_tty		t_live_no_tty
run_test reach_launch		t_reach_launch reach
run_test reach_cxx_launch	t_reach_launch reach_cxx
run_test reach_rs_launch	t_reach_launch reach_rs
run_test reach_rs_new_launch	t_reach_launch reach_rs_new reach_rs
run_test reach_attach		t_reach_running attach
run_test reach_replay_launch	t_reach_replay launch
run_test reach_replay_attach	t_reach_replay attach
run_test reach_kill		t_reach_running kill
run_test reach_alloc_mode	t_reach_alloc_mode
run_test reach_clone_window	t_reach_clone_window
run_test not_root		t_not_root
run_test no_btf			t_no_btf
run_test static_stripped_launch	t_static_stripped launch
run_test static_stripped_attach	t_static_stripped attach
run_test bad_output		t_bad_output
run_test bad_command		t_bad_command
run_test stdout_output		t_stdout_output
run_test own_allocator		t_own_allocator
run_test executor_launch		t_example executor launch
run_test executor_attach		t_example executor attach
run_test executor_clean_launch	t_example executor_clean launch
run_test one_slot_leaky		t_one_slot t_launch leaky leaky
run_test one_slot_executor	t_one_slot t_example executor launch
run_test executor_clean_attach	t_example executor_clean attach
run_test record_replay_launch	t_record_replay launch
run_test record_replay_attach	t_record_replay attach
run_test record_replay_rules	t_record_replay_rules
run_test replay_truncated	t_replay_truncated
run_test replay_corrupted	t_replay_corrupted
run_test record_killed		t_record_killed
run_test record_partial_exists	t_record_partial_exists
run_test replay_not_recording	t_replay_not_recording
run_test debuginfod		t_debuginfod
run_test names_launch		t_names
run_test rust_names_launch	t_rust_names /usr/bin/rustc
run_test rust_names_new_launch	t_rust_names "${MEMSCOPE_RUSTC_NEW-$(command -v /root/.cargo/bin/rustc)}"
run_test uw_chain_launch		t_uw_chain launch
run_test uw_chain_attach		t_uw_chain attach
run_test uw_fp			t_uw_fp
run_test uw_dlopen_launch	t_uw_dlopen launch
run_test uw_dlopen_attach	t_uw_dlopen attach
run_test uw_nocfi		t_uw_nocfi
run_test uw_protect_launch	t_uw_protect launch
run_test uw_protect_attach	t_uw_protect attach
# A whole file mapped at once from its start: one bias for the code in it.
run_test uw_protect_whole	t_uw_protect launch protect-whole
run_test uw_split_launch	t_uw_split launch
run_test uw_split_attach	t_uw_split attach
run_test uw_stops		t_uw_stops
run_test uw_perfmap		t_uw_perfmap
run_test uw_jit_fp_launch	t_uw_jit_fp launch
run_test uw_jit_fp_attach	t_uw_jit_fp attach
run_test node_perfmap		t_node_perfmap
run_test node_record		t_node_record
run_test anon_launch		t_anon launch
run_test anon_attach		t_anon attach
run_test anon_raw_launch		t_anon_raw launch
run_test anon_raw_attach		t_anon_raw attach
run_test sys_exit_where		t_sys_exit_where
run_test anon_exec_attach	t_anon_exec
run_test exec_images		t_exec_images
run_test exec_chain_names	t_exec_chain_names
run_test spilled_exec_chain	t_spilled t_exec_chain_names
run_test fresh_stacks		t_fresh_stacks
run_test fresh_exec_file		t_fresh_exec_file
run_test exec_tables_once		t_exec_tables_once
run_test anon_alloc_mode	t_anon_alloc_mode
run_test exec_thread		t_exec_thread
run_test xol_glibc		t_no_single_step glibc
run_test xol_jemalloc		t_no_single_step jemalloc
run_test xol_tcmalloc		t_no_single_step tcmalloc
run_test xol_mimalloc		t_no_single_step mimalloc
run_test xol_libstdcxx		t_no_single_step libstdcxx
run_test xol_own		t_no_single_step own
run_test foreign_uprobe		t_foreign_uprobe
run_test sys_pids		t_sys_pids
run_test sys_pids_filtered	t_sys_pids_filtered
run_test sys_lost		t_sys_lost
run_test sys_comm		t_sys_comm
run_test sys_max_procs		t_sys_max_procs
run_test sys_all		t_sys_all
run_test sys_cgroup		t_sys_cgroup
run_test sys_prefork		t_sys_prefork
run_test sys_fork_exec		t_sys_fork_exec
run_test sys_text_sections	t_sys_text_sections
run_test sys_script		t_sys_script
run_test sys_preload		t_sys_preload
run_test sys_static_exec	t_sys_static_exec
run_test sys_late_static	t_sys_late_static
run_test sys_late_fork		t_sys_late_fork
run_test sys_late_shared		t_sys_late_shared
run_test sys_late_gone		t_sys_late_gone
run_test sys_fold		t_sys_fold
run_test spilled_sys_fold	t_spilled t_sys_fold
run_test sys_fork_names		t_sys_fork_names
run_test sys_exec_names		t_sys_exec_names
run_test sys_cache_probes	t_sys_cache_probes
run_test sys_exec_chain		t_sys_exec_chain
run_test sys_hold_exec		t_sys_hold_exec
run_test sys_hold_killed		t_sys_hold_killed
run_test sys_hold_dlopen		t_sys_hold_dlopen
run_test sys_given_up		t_sys_given_up
run_test sys_hold_preload	t_sys_hold_preload
run_test sys_namespaces		t_sys_namespaces
run_test sys_chroot		t_sys_chroot
run_test deleted_libc		t_deleted_libc
run_test foreign_32bit		t_foreign
run_test musl			t_musl
run_test fork_inherited		t_fork_inherited
run_test vfork_heap		t_vfork_heap
run_test totals_ended		t_totals_ended
run_test thread_id		t_thread_id
run_test zombie			t_zombie
run_test storm			t_storm
run_test drain_priority		t_drain_priority
run_test launch_parent		t_launch_parent
run_test nofile			t_nofile
run_test python_pymalloc	t_python_pymalloc
run_test max_stacks		t_max_stacks
run_test reach_traced		t_reach_traced
run_stack_tests

[ "$failed" -gt 0 ] && echo "(files of the failed tests: $work)" >&2
summary="integration: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
