# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# Integration tests of call stacks in programs built the way production
# code is, without frame pointers: the stk_* targets (C, C++, Rust, deep
# recursion, a signal handler (also one interrupting the vDSO), a
# coroutine made by makecontext, dlopen
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

# The Rust builds (both rustc versions, default and #[global_allocator]):
# every block of the crate's marked functions is counted once, in the
# family of the outermost call. rustc < 1.87 (and >= 1.87 with the default
# allocator) calls the __rust_* shims: "rust". rustc >= 1.87 inlines the
# shims of a global allocator defined in the crate, so its blocks reach
# the allocator's methods, and malloc under them, with no __rust_* call:
# "malloc", and no anomaly either way (rust and the C API free each other).
# The shims the binary keeps (the standard library calls them) are probed
# on emulated instructions, under either compiler.
# t_rust_families PROG:FAMILY...
t_rust_families()
{
	local t prog fam

	for t in "$@"; do
		prog=${t%%:*} fam=${t##*:}
		rust_built "$prog" || return
		tool -q -t 0 -o "$d/out/report.json" -- "$TARGETS/$prog"
		expect_rc 0 || continue
		PROG=$prog FAM=$fam check_report <<-'EOF'
		import os, re
		prog, fam = os.environ["PROG"], os.environ["FAM"]
		for p in r.get("probes") or []:
		    if os.path.basename(p.get("object") or "") == prog and \
		            p.get("probed") and not p.get("emulated"):
		        print(f"{prog}: expected {p.get('symbol')} probed on an "
		              f"emulated instruction, got +{p.get('func_offset')} "
		              f"single-stepped ({p.get('single_step_reason')})")
		own = re.compile(r"^stk_rs::rs_(box|vec|string)$")
		got = {}
		for site in r.get("sites") or []:
		    names = [re.sub(r"::h[0-9a-f]{16}$", "", f.get("function") or "")
		             for f in site.get("frames") or []]
		    fn = next((n for n in names if own.match(n)), None)
		    if fn:
		        key = (fn, site.get("family"))
		        got[key] = got.get(key, 0) + (site.get("alloc_count") or 0)
		fams = {f for _, f in got}
		if fams != {fam}:
		    print(f"{prog}: expected the crate's sites in family {fam!r}, got {got}")
		box = sum(n for (fn, _), n in got.items() if fn.endswith("rs_box"))
		if box != 25:
		    print(f"{prog}: expected rs_box's 25 blocks counted once, got {box}")
		for a in r.get("anomalies") or []:
		    print(f"{prog}: expected no anomaly, got {a.get('kind')} "
		          f"({a.get('alloc_family')} freed by {a.get('free_family')})")
		EOF
	done
}

# rust_built PROG: whether $TARGETS/PROG is there to test. The *_new
# builds need a rustc >= 1.87, which the Makefile looks for (RUSTC_NEW,
# /root/.cargo/bin/rustc) and names in MEMSCOPE_RUSTC_NEW, empty when it
# found none: then the test says it is skipped, and why. A target the
# build should have made and did not is a failure.
rust_built()
{
	[ -x "$TARGETS/$1" ] && return 0
	case $1 in
	*_new)
		if [ -z "${MEMSCOPE_RUSTC_NEW:-}" ]; then
			skip "no rustc >= 1.87 on this machine (the Makefile's RUSTC_NEW, /root/.cargo/bin/rustc): $1, the build with mangled allocator shims, was not made"
			return 1
		fi ;;
	esac
	fail "$TARGETS/$1: expected it built (make integration builds it${MEMSCOPE_RUSTC_NEW:+ with $MEMSCOPE_RUSTC_NEW})"
	return 1
}

# t_rust_stacks WHAT PROG EXPECT: t_stacks launch, if PROG was built.
t_rust_stacks()
{
	rust_built "$2" || return
	t_stacks launch "$@"
}

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
# declarations, not the tool. t_gdb_truth PROG:EXPECT...
t_gdb_truth()
{
	local t prog expect out

	for t in "$@"; do
		prog=${t%%:*} expect=${t##*:}
		case $prog in
		stk_rs*) rust_built "$prog" || return ;;
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

# In a set, stk_rows's library (1.2M rows, 19 chunks) is loaded. A set
# compiles tables on a worker while the target runs, so its first stacks
# may stop not_loaded: what is checked is the table, not them.
t_rows_set()
{
	start_target "$TARGETS/stk_rows" || return
	tool_bg -q -t 0 -v -o "$d/out/report.json" -f -p "$target_pid" ||
		return
	wait_tracing || return
	kill -USR1 "$target_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	grep -Eq "unwind table .*/libstk_rows\.so: [0-9]+ rows" "$d/stderr" ||
		fail "-v: expected libstk_rows.so's table loaded, got: $(grep -E 'libstk_rows|rows used|rows were full' "$d/stderr")"
}

# The table cache (run.sh turns it off for every other test): a launch
# writes stk_c's and libc's tables, the next takes them (-v: "kept from
# an earlier run") and its stacks are as whole; libc's entry damaged, the
# third removes it, compiles and writes it again; a cache directory others
# may write is refused in one line. Then sets: one that traces stk_rows
# held until its maps are read keeps its library's table (1.2M rows);
# then stk_rows run unheld by a traced shell stops not_loaded while a
# worker compiles that table, and, with the tables kept, they are loaded
# at the start: no stack stops not_loaded. A kept table's file replaced
# by a FIFO is not opened.
t_table_cache()
{
	local cache=$d/cache libc id entry n

	libc=$(ldd "$TARGETS/stk_c" | awk '/libc\.so\.6/ { print $3 }')
	id=$(readelf -n "$libc" | awk '/Build ID/ { print $3 }')
	entry=$cache/$id
	for n in 1 2 3; do
		tool -q -t 0 -v --table-cache "$cache" \
			-o "$d/out/report.json" -- "$TARGETS/stk_c"
		expect_report any --pid "$(launched_pid)" --exited yes \
			--exit-status 0 || return
		expect_stacks chains stk_c
		cp "$d/stderr" "$d/stderr.$n"
		case $n in
		1)	grep -q "table cache: 0 tables read, [1-9][0-9]* written" "$d/stderr" &&
				[ -s "$entry" ] ||
				{ fail "run 1: expected tables written, libc's as $entry, got: $(grep 'table cache' "$d/stderr"); $(ls "$cache")"; return; }
			;;
		2)	grep -q "unwind table .*/stk_c: .*(kept from an earlier run)" "$d/stderr" &&
				grep -q "unwind table .*/libc\.so\.6: .*(kept from an earlier run)" "$d/stderr" &&
				grep -q "table cache: [1-9][0-9]* tables read, 0 written, 0 of another build of the tool, 0 damaged" "$d/stderr" ||
				{ fail "run 2: expected stk_c's and libc's tables kept, got: $(grep -E 'stk_c:|libc|table cache' "$d/stderr")"; return; }
			# one byte of a row changed: the CRC no longer holds
			printf 'X' | dd of="$entry" bs=1 seek=$(($(stat -c %s "$entry") - 5)) conv=notrunc status=none
			;;
		3)	grep -q "table cache: [1-9][0-9]* tables read, 1 written, 0 of another build of the tool, 1 damaged" "$d/stderr" &&
				! grep -q "unwind table .*/libc\.so\.6: .*(kept" "$d/stderr" &&
				[ -s "$entry" ] ||
				{ fail "run 3: expected libc's damaged entry removed and written again, got: $(grep -E 'libc|table cache' "$d/stderr")"; return; }
			;;
		esac
	done
	chmod 777 "$cache"
	tool -q --table-cache "$cache" -o "$d/out/bad.json" -- "$TARGETS/stk_c"
	expect_error 1 "invalid --table-cache $cache: not the user's own directory, or others may write it"
	[ -e "$d/out/bad.json" ] && fail "a report written though the run was refused"
	chmod 700 "$cache"

	# kept: a set's first run of stk_rows, held until its maps are read
	start_target "$TARGETS/stk_rows" || return
	tool_bg -q -t 0 --table-cache "$cache" -o "$d/out/report.json" \
		-f -p "$target_pid" || return
	wait_tracing || return
	kill -USR1 "$target_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	# then stk_rows runs unheld in the set: without the tables kept, and
	# with them
	for n in off "$cache"; do
		rm -f "$d/go" && mkfifo "$d/go" || return
		# blocked in a read while the tool attaches: nothing it
		# allocates then
		start_ready /bin/sh -c "echo ready \$\$; read x < $d/go;
			$TARGETS/stk_rows"
		tool_bg -q -t 0 -v --table-cache "$n" \
			-o "$d/out/report.json" -f -p "$target_pid" || return
		wait_tracing || return
		echo go >"$d/go"
		tool_wait
		expect_rc 0 && expect_clean_stderr || return
		[ "$n" = off ] || break
		check_report <<'PY'
if not (k.get("stack_stops") or {}).get("not_loaded"):
    print(f"set without the tables kept: expected stk_rows's stacks to stop not_loaded while its library compiles, got {k.get('stack_stops')}")
PY
	done
	grep -q "unwind table .*/libstk_rows\.so: [0-9]* rows from .*(kept from an earlier run, loaded at the start)" "$d/stderr" &&
		grep -Eq "unwind tables: [0-9]+ kept from earlier runs loaded at the start" "$d/stderr" ||
		{ fail "set: expected libstk_rows.so's table loaded at the start, got: $(grep -E 'libstk_rows|table cache|at the start' "$d/stderr")"; return; }
	check_report <<'PY'
stops = k.get("stack_stops") or {}
if not stops.get("end") or stops.get("not_loaded"):
    print(f"set with the tables kept: expected no stack not_loaded, got {stops}")
PY
	# the file of a kept table replaced by a FIFO: a set's start opens
	# no such thing (it would block), and goes on
	cp "$TARGETS/stk_c" "$d/prog" &&
		tool -q --table-cache "$cache" -o "$d/out/prog.json" -- "$d/prog" &&
		expect_rc 0 && rm "$d/prog" && mkfifo "$d/prog" || return
	start_target "$TARGETS/stk_c" || return
	tool_bg -q -t 0 --table-cache "$cache" -o "$d/out/fifo.json" \
		-f -p "$target_pid" || return
	wait_tracing || return
	kill -USR1 "$target_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr
	expect_stacks chains stk_rows
}

# A process whose auxv cannot be read (MEMSCOPE_NO_AUXV stands in for one
# gone or refused) in a set (-f -p): a shell that execs stk_c once traced.
# The program is known from its exec record, so its table is compiled
# once, as the program's (its entry point outermost), not first as a
# library when its maps are read and again at its exec record; its
# stacks are whole (stk_c waits at --wait until its table is in: in a
# set a new program's first stacks stop as not_loaded while it compiles,
# which under -p is not held).
t_no_auxv()
{
	local n

	start_ready /bin/sh -c "trap 'go=1' USR1; echo ready \$\$;
		while [ -z \"\$go\" ]; do sleep 0.05; done;
		exec $TARGETS/stk_c --wait"
	MEMSCOPE_NO_AUXV=1 tool_bg -q -t 0 -v -o "$d/out/report.json" -f \
		-p "$target_pid" || return
	wait_tracing || return
	kill -USR1 "$target_pid"
	# stk_c's own "ready": exec'd; its exec record then compiles its
	# table, which a drain (10 ms) loads
	for n in $(seq 100); do
		[ "$(grep -c '^ready' "$d/target.out")" -ge 2 ] && break
		sleep 0.1
	done
	sleep 1
	kill -USR1 "$target_pid"
	tool_wait
	expect_rc 0 && expect_clean_stderr || return
	n=$(grep -c "unwind table .*/stk_c: " "$d/stderr")
	[ "$n" -eq 1 ] && grep -q "unwind table .*/stk_c: .*its entry point outermost" "$d/stderr" ||
		{ fail "-v: expected stk_c's table compiled once, as the program's, got: $(grep 'unwind table .*/stk_c' "$d/stderr")"; return; }
	expect_stacks chains stk_c
}

# A launched wrapper that execs the real program (a shell's exec, rustup's
# proxies): the rows grow for what the program maps after the exec, where
# an array sized at the start for the wrapper left stk_rows's library out.
# And the rows' kernel memory follows what is loaded, 1 MiB chunks, not
# the --unwind-rows cap (16M rows, 256 MiB).
t_rows_exec()
{
	local used kib

	tool -q -t 0 -v -o "$d/out/report.json" -- /bin/sh -c \
		"exec $TARGETS/stk_rows"
	expect_report any --pid "$(launched_pid)" --exited yes \
		--exit-status 0 --object stk_rows
	expect_stacks chains stk_rows
	read -r used kib < <(sed -En 's/.* ([0-9]+) of [0-9]+ rows used, ([0-9]+) KiB of kernel memory.*/\1 \2/p' "$d/stderr")
	if [ -z "$used" ] || [ "$used" -lt 1200000 ]; then
		fail "-v: expected stk_rows's 1.2M rows loaded, got: $(grep -E 'rows used|libstk_rows' "$d/stderr")"
		return
	fi
	# the rows' own bytes, a chunk's rounding, and the other maps (< 1 MiB,
	# and 82 KiB a CPU for the mappings kept for names: trace.c lru_room)
	local cpus=$(($(sed 's/.*[-,]//' /sys/devices/system/cpu/possible) + 1))
	[ "$kib" -le $((used * 16 / 1024 + 2048 + cpus * 82)) ] ||
		fail "-v: $kib KiB of kernel memory for $used rows: more than they take"
}

# Tables go for room once no traced process maps them. With rows for
# little more than stk_rows's library (19 chunks), a set that runs stk_rows
# and, once it exited, python3 loads python3's table in the room the
# library left, which -v says went.
t_rows_reclaim()
{
	tool -q -t 0 -v -f --unwind-rows 1245184 -o "$d/out/report.json" \
		-- /bin/sh -c "$TARGETS/stk_rows; /usr/bin/python3 -c pass"
	expect_rc 0 && expect_clean_stderr || return
	grep -Eq "unwind table .*/libstk_rows\.so: released for room" \
		"$d/stderr" ||
		fail "-v: expected libstk_rows.so's table released, got: $(grep -E 'libstk_rows|rows used' "$d/stderr")"
	grep -Eq "unwind table /usr/bin/python3\.11: [0-9]+ rows" "$d/stderr" ||
		fail "-v: expected python3.11's table loaded, got: $(grep -E 'python3|rows used' "$d/stderr")"
}

# CMD...: through perf-event probes.
t_perf()
{
	MEMSCOPE_PERF_UPROBES=1 "$@"
}

# Kernels before 6.6 have no uprobe_multi: the probes go in as perf
# events, one per probe, and the entry programs take the attach cookie
# from its helper, not the run context (MEMSCOPE_PERF_UPROBES stands in
# for such a kernel). The same chains, C++'s layers (new over malloc)
# told by the cookie.
t_perf_uprobes()
{
	t_perf t_stacks launch chains stk_cxx stk_cxx -v
	grep -q "allocator probes: perf-event uprobes" "$d/stderr" ||
		fail "-v, MEMSCOPE_PERF_UPROBES=1: expected perf-event uprobes, got: $(grep 'allocator probes' "$d/stderr")"
}

run_stack_tests()
{
	local rs

	run_test stk_gdb_truth		t_gdb_truth stk_c:stk_c \
		stk_recurse:stk_recurse stk_signal:stk_signal stk_vdso:stk_vdso \
		stk_dlopen:stk_dlopen stk_dlthread:stk_dlthread stk_plt:stk_plt \
		stk_cxx:stk_cxx stk_rs:stk_rs stk_rs_fwd:stk_rs_fwd
	run_test stk_gdb_truth_rs_new	t_gdb_truth stk_rs_new:stk_rs \
		stk_rs_fwd_new:stk_rs_fwd
	run_test stk_c_launch		t_stacks launch chains stk_c stk_c
	run_test stk_c_attach		t_stacks attach chains stk_c stk_c
	# Frame pointers on code built without them: today's walk, kept as
	# an option, gives the immediate caller and no whole chain.
	run_test stk_c_fp		t_stacks launch fp stk_c stk_c --stacks fp
	# Code without unwind tables (as Chromium is built): with frame
	# pointers, their prologues give the rules, and every chain is
	# whole; without, the walk stops where the CFI does, no frame
	# guessed.
	run_test stk_c_fp_nocfi		t_stacks launch chains stk_c_fp_nocfi \
		stk_c_fp_nocfi
	run_test stk_c_fp_nocfi_attach	t_stacks attach chains stk_c_fp_nocfi \
		stk_c_fp_nocfi
	run_test stk_c_clang_fp_nocfi	t_stacks launch chains \
		stk_c_clang_fp_nocfi stk_c_fp_nocfi
	run_test stk_c_nocfi		t_stacks launch stops stk_c_nocfi stk_c
	run_test stk_recurse_cut	t_stacks launch cut stk_recurse stk_recurse
	run_test stk_recurse_whole	t_stacks launch chains stk_recurse \
		stk_recurse --max-depth 256
	run_test stk_signal_launch	t_stacks launch chains stk_signal stk_signal
	# A coroutine (makecontext): its stack ends, whole, at the function
	# makecontext wrote as its first return address. (No gdb truth: gdb
	# takes that address for a call and goes on into three frames of
	# garbage from the context's arguments.)
	run_test stk_ucontext_launch	t_stacks launch chains stk_ucontext \
		stk_ucontext
	run_test stk_ucontext_attach	t_stacks attach chains stk_ucontext \
		stk_ucontext
	# A signal that interrupted the vDSO: on through its in-memory CFI.
	run_test stk_vdso_launch	t_stacks launch chains stk_vdso stk_vdso
	run_test stk_dlopen_launch	t_stacks launch chains stk_dlopen stk_dlopen
	run_test stk_dlopen_attach	t_stacks attach chains stk_dlopen stk_dlopen
	# A mapping made by a thread other than main: held all the same.
	run_test stk_dlthread_launch	t_stacks launch chains stk_dlthread \
		stk_dlthread
	run_test stk_plt_launch		t_stacks launch chains stk_plt stk_plt
	# A library's constructor, run by ld.so before main: the stack ends
	# at the loader's entry code, which has no CFI, as its outermost
	# frame. (gdb_stacks.py starts at main: no gdb truth for it.)
	run_test stk_ctor_launch	t_stacks launch chains stk_ctor stk_ctor
	# A library whose table takes many chunks of rows: attached...
	run_test stk_rows_attach	t_stacks attach chains stk_rows stk_rows
	# ...launched...
	run_test stk_rows_launch	t_stacks launch chains stk_rows stk_rows
	# ...in a set (-p with -f)...
	run_test stk_rows_set		t_rows_set
	run_test stk_table_cache	t_table_cache
	run_test stk_no_auxv		t_no_auxv
	# ...and exec'd by a launched wrapper, which maps none of it.
	run_test stk_rows_exec		t_rows_exec
	# Its rows go for room once its process exited.
	run_test stk_rows_reclaim	t_rows_reclaim
	run_test stk_cxx_launch		t_stacks launch chains stk_cxx stk_cxx
	run_test stk_cxx_names		t_stacks launch names stk_cxx stk_cxx
	# stk_rs*_new: Debian's rustc is 1.63; the same crate built by a
	# rustc >= 1.87 where the Makefile finds one (else they say skipped).
	for rs in stk_rs stk_rs_new; do
		run_test "${rs}_launch"		t_rust_stacks chains "$rs" stk_rs
		run_test "${rs}_names"		t_rust_stacks names "$rs" stk_rs
		# The global allocator's frames are inside the __rust_* call
		# that counts the block (or frames[0] where rustc >= 1.87
		# inlined the shim): the chains of the crate are stk_rs's.
		# stk_rs_fwd.json, the real stacks through it, is gdb's.
		run_test "${rs/stk_rs/stk_rs_fwd}_launch" t_rust_stacks \
			chains "${rs/stk_rs/stk_rs_fwd}" stk_rs
	done
	run_test rust_families		t_rust_families stk_rs:rust \
		stk_rs_fwd:rust
	run_test rust_families_new	t_rust_families stk_rs_new:rust \
		stk_rs_fwd_new:malloc
	# The cookie from its helper (kernels before 6.6): chains, layers and
	# families as from the run context.
	run_test perf_uprobes_cxx	t_perf_uprobes
	run_test perf_uprobes_families	t_perf t_rust_families stk_rs:rust \
		stk_rs_fwd:rust
	run_test python3_entry		t_entry python3 /usr/bin/python3 -c "$PY_WORK"
	run_test sqlite3_entry		t_entry sqlite3 /usr/bin/sqlite3 :memory: "$SQL_WORK"
}
