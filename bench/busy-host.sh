#!/bin/bash
# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# -a on a busy host: for SECS seconds a shell loop starts short programs
# (sh, sed, sort, ls, cat, env, python3 -c, perl -e: ~200 images a second
# here) while the tool traces every process with --fold FOLD (the
# default, 8; 0: an entry per image). Prints one line: the images and the
# entries of the JSON report, the tool's RSS when tracing ends and at most
# (its report included), how long the report took, and the JSON's size.
#
#   bench/busy-host.sh .output/memscope-bpf [SECS] [FOLD]
set -u
tool=$(realpath "$1")
secs=${2:-20}
fold=${3:-8}
d=$(mktemp -d)
trap 'pkill -P "$job" 2>/dev/null; rm -rf "$d"' EXIT
. "$(dirname "$0")/traced-set.sh"

set_start --fold "$fold"
end=$(($(date +%s) + secs))
while [ "$(date +%s)" -lt "$end" ]; do
	( cd /tmp && ls >/dev/null; exec sh -c 'exec true' )
	echo "$end" | sed s/1/2/ | sort | uniq >/dev/null
	sh -c 'for j in 1 2 3; do : $(cat /proc/self/stat); done' &
	p1=$!
	/usr/bin/python3 -c 'import json; json.dumps(list(range(1000)))' &
	p2=$!
	/usr/bin/perl -e '@a = map { "x" x $_ } 1..500' &
	p3=$!
	env A=1 sh -c 'exec env true'
	# these three: a bare wait would wait for the tool too
	wait "$p1" "$p2" "$p3"
done
tracing=$(ps -o rss= -p "$tp" | tr -d ' ')
# the ended images' sites the tool keeps on disk: its unlinked spill file
spill=0
for f in /proc/"$tp"/fd/*; do
	case $(readlink "$f") in
	/var/tmp/\#*|/tmp/\#*|"${TMPDIR:-/nonexistent}"/\#*)
		spill=$(stat -L -c %s "$f") ;;
	esac
done
t0=$(date +%s.%N)
set_stop
t1=$(date +%s.%N)
/usr/bin/python3 - "$d/r.json" "$secs" "$fold" "$tracing" \
	"$(cat "$d/maxrss")" "$t0" "$t1" "$spill" <<'EOP'
import json, os, sys
path, secs, fold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tracing, most = int(sys.argv[4]), int(sys.argv[5])
took = float(sys.argv[7]) - float(sys.argv[6])
spill = int(sys.argv[8])
r = json.load(open(path))
c = r["process_counts"]
print(f"busy-host: {secs} s of short programs under -a --fold {fold}: "
      f"{c['images']} images in {len(r['processes'])} entries "
      f"({c.get('folded_images', 0)} folded); the tool's RSS "
      f"{tracing / 1024:.0f} MiB when tracing ended, {most / 1024:.0f} MiB "
      f"at most; the report {took:.1f} s, its JSON "
      f"{os.path.getsize(path) / 1e6:.1f} MB; ended images' sites on disk "
      f"{spill / 1e6:.1f} MB")
EOP
