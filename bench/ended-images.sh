#!/bin/bash
# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# What each ended process costs the tool under -a, which keeps every image
# it traced for the report: N runs of /bin/true (each a fork image and an
# exec image) while the tool traces the host, its RSS sampled before and
# after them, its most over the whole run (the report, which builds one per
# image, included), and its open descriptors.
#
#   bench/ended-images.sh .output/memscope-bpf [N]
set -u
tool=$(realpath "$1")
n=${2:-2000}
d=$(mktemp -d)
trap 'pkill -P "$job" 2>/dev/null; rm -rf "$d"' EXIT
. "$(dirname "$0")/traced-set.sh"

set_start
before=$(ps -o rss= -p "$tp" | tr -d ' ')
fd_before=$(ls "/proc/$tp/fd" | wc -l)
for _ in $(seq "$n"); do
	/bin/true
done
sleep 1
after=$(ps -o rss= -p "$tp" | tr -d ' ')
fd_after=$(ls "/proc/$tp/fd" | wc -l)
set_stop
/usr/bin/python3 - "$d/r.json" "$n" "$before" "$after" "$fd_before" "$fd_after" \
	"$(cat "$d/maxrss")" <<'EOP'
import json, sys
path, n, before, after, fd0, fd1, most = sys.argv[1], *map(int, sys.argv[2:])
r = json.load(open(path))
# a fold (--fold) is one entry for all its images
true = sum((p["target"].get("folded") or {"images": 1})["images"]
           for p in r["processes"] if p["target"].get("comm") == "true")
print(f"ended-images: {n} runs of /bin/true under -a, {true} images named true "
      f"in the report; the tool's RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB, "
      f"{(after - before) / n:.1f} KiB per process (a fork and an exec image); "
      f"{most / 1024:.1f} MiB at most (report included); "
      f"open descriptors {fd0} -> {fd1}")
EOP
