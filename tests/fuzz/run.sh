#!/bin/sh
# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# Runs a libFuzzer target for a bounded time, from the seeds and the
# corpus earlier runs grew; `make fuzz` (part of `make test`) calls it.
#
#   run.sh FUZZER SEEDS_DIR WORK_DIR SECONDS
#
# Quiet when nothing was found: one line, "fuzz: N inputs in S s, no
# crash". On a crash, a sanitizer report, a hang or an allocation past the
# limit: the fuzzer's report, the input that did it (kept in WORK_DIR) and
# how to replay it; exit 1.
set -u

if [ $# -ne 4 ]; then
	echo "usage: $0 FUZZER SEEDS_DIR WORK_DIR SECONDS" >&2
	exit 2
fi
fuzzer=$1 seeds=$2 work=$3 secs=$4
name=$(basename "$fuzzer")
corpus=$work/corpus
log=$work/$name.log

mkdir -p "$corpus" "$work/crashes" || exit 1
# What failed last time is tried first this time, as part of the corpus.
for f in "$work"/crashes/*; do
	[ -e "$f" ] && mv "$f" "$corpus/"
done
# -timeout: one input may take 10 s at most (a hang is a failure);
# -rss_limit_mb also caps any single allocation (malloc_limit_mb).
"$fuzzer" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$work/crashes/" \
	"$corpus" "$seeds" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
if [ "$rc" -ne 0 ]; then
	echo "--- $name failed (exit status $rc); the end of its log ($log):" >&2
	tail -n 60 "$log" >&2
	for f in "$work"/crashes/*; do
		[ -e "$f" ] || continue
		echo "input: $f (replay: $fuzzer $f)" >&2
	done
	echo "fuzz: $name failed after ${runs:-?} inputs"
	exit 1
fi
echo "fuzz: $name ran ${runs:-?} inputs in $secs s, no crash"
