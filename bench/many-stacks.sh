#!/bin/bash
# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# The tool's memory when a program makes new call stacks without end: a
# random walk of 24 calls through two functions (gcc -O2, no frame
# pointers) before each malloc/free, nearly every one on a stack of its
# own, for SECS seconds. Prints the allocations, the sites kept and the
# records cut (--max-stacks), the tool's largest RSS while tracing and
# over the whole run (the report included), the report's time and the
# JSON's size.
#
#   bench/many-stacks.sh .output/memscope-bpf [SECS [TOOL OPTIONS...]]
#   bench/many-stacks.sh .output/memscope-bpf 5 --max-stacks 1073741824
#       (every stack kept, as before --max-stacks: ~3 KiB each)
set -u
tool=$(realpath "$1")
secs=${2:-60}
shift 2 2>/dev/null || shift $#
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

cat >"$d/walk.c" <<'EOC'
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static unsigned long long st = 88172645463325252ull;
static unsigned rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return st; }
void *volatile sink;
__attribute__((noinline)) void a(int d);
__attribute__((noinline)) void b(int d);
__attribute__((noinline)) void a(int d)
{
	if (!d) { void *p = malloc(32); sink = p; free(p); return; }
	if (rnd() & 1) a(d - 1); else b(d - 1);
	__asm__ volatile("");
}
__attribute__((noinline)) void b(int d)
{
	if (!d) { void *p = malloc(48); sink = p; free(p); return; }
	if (rnd() & 1) a(d - 1); else b(d - 1);
	__asm__ volatile("");
}
int main(int argc, char **argv)
{
	time_t end = time(NULL) + atoi(argv[1]);

	while (time(NULL) < end) {
		for (int i = 0; i < 1000; i++)
			a(24);
		usleep(1000);
	}
	return 0;
}
EOC
gcc -O2 -g -fomit-frame-pointer -o "$d/walk" "$d/walk.c" || exit 1

start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$d/maxrss" "$tool" -q -t 1 -o "$d/r.json" "$@" \
	-- "$d/walk" "$secs" >/dev/null 2>"$d/err" &
job=$!
trace_rss=0
traced_at=""
while kill -0 "$job" 2>/dev/null; do
	pid=$(pgrep -f "^$d/walk" | head -1)
	tp=$(pgrep -x memscope-bpf | head -1)
	if [ -n "$pid" ] && [ -n "$tp" ]; then
		rss=$(ps -o rss= -p "$tp" | tr -d ' ')
		[ -n "$rss" ] && [ "$rss" -gt "$trace_rss" ] && trace_rss=$rss
		traced_at=$(date +%s.%N)
	fi
	sleep 0.5
done
wait "$job"
rc=$?
end=$(date +%s.%N)
[ "$rc" -eq 0 ] || { echo "memscope-bpf exited $rc: $(cat "$d/err")" >&2; exit 1; }
/usr/bin/python3 - "$d/r.json" "$trace_rss" "$(cat "$d/maxrss")" \
	"$(echo "$end - ${traced_at:-$start}" | bc)" "$secs" <<'EOP'
import json, os, sys
path, trace_kb, max_kb, report_s, secs = sys.argv[1:]
r = json.load(open(path))
s = r["summary"]
print(f"many-stacks, {secs} s: {s['allocs']:,} allocations, "
      f"{sum(1 for x in r['sites'] if not x.get('stack_full')):,} stacks kept, "
      f"{s.get('stacks_cut', 0):,} records cut; tool RSS {int(trace_kb) / 1024:.0f} MiB "
      f"while tracing, {int(max_kb) / 1024:.0f} MiB at most (report included); "
      f"report {float(report_s):.1f} s after the program's end; "
      f"JSON {os.path.getsize(path) / 1e9:.2f} GB")
EOP
