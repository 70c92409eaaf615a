# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# Integration tests of what instrumented programs declare: the examples
# (examples/executor.c and its clean twin) traced with real BPF in both
# modes, their JSON reports checked by check_declared.py against the
# figures and mistakes documented in the examples' sources. Sourced by
# run.sh, which provides run_test, tool, expect_report and the rest.

# Built beside the targets: make .output/examples/executor ...
examples_bin=${EXAMPLES:-$(dirname "$TARGETS")/examples}
examples_src=$(cd "$here/../../examples" && pwd)

have_example()
{
	[ -x "$examples_bin/$1" ] && return 0
	fail "$examples_bin/$1: expected the built example, got none (make .output/examples/$1)"
	return 1
}

# expect_declared VARIANT: the declared part of $d/out/report.json holds.
expect_declared()
{
	local out

	[ -f "$d/out/report.json" ] || return
	if ! out=$(python3 "$here/check_declared.py" "$1" \
		"$d/out/report.json" --src "$examples_src" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/declared: /' >>"$d/fail"
		echo "(report: $d/out/report.json)" >>"$d/fail"
	fi
}

# The example's idle task lingers 200 ms before the program ends; the
# clean twin's tasks are never idle more than a few ms. 0.1 s tells them
# apart where the default (1 s) would see no idle task at all.
rules="--idle-threshold 0.1"

# t_example PROGRAM launch|attach: -- mode runs it to its end; -p mode
# holds it at --wait until the probes are in.
t_example()
{
	local prog=$1

	have_example "$prog" || return
	# shellcheck disable=SC2086
	trace_program "$2" "$examples_bin/$prog" any $rules
	expect_declared "$prog"
}
