# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# Sourced by the bench scripts that trace every process (-a) while they
# make work: $d (a scratch directory) and $tool are theirs.
#
#   set_start [OPTIONS...]  the tool, -q -a --ready-fd 3 -o $d/r.json and
#                           OPTIONS, under time(1) (its most RSS in
#                           $d/maxrss), once it traces and has settled;
#                           sets job (time's pid) and tp (the tool's)
#   set_stop                SIGINT to the tool and its end: the report

set_start()
{
	/usr/bin/time -f '%M' -o "$d/maxrss" "$tool" -q -a "$@" \
		--ready-fd 3 -o "$d/r.json" >/dev/null 2>"$d/err" 3>"$d/ready" &
	job=$!
	for _ in $(seq 100); do
		[ -s "$d/ready" ] && break
		sleep 0.2
	done
	[ -s "$d/ready" ] || { echo "not ready: $(cat "$d/err")" >&2; exit 1; }
	sleep 2
	tp=$(pgrep -x memscope-bpf | head -1)
}

set_stop()
{
	# time(1) passes no signal on: the tool is its child
	pkill -INT -P "$job"
	wait "$job"
}
