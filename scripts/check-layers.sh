#!/bin/sh
# The stages of user/, in pipeline order, as arguments: a file may include
# headers of its own stage and of the stages before it, never after.
#   scripts/check-layers.sh common capture symbols store analysis report cli
set -eu
cd "$(dirname "$0")/../user"
bad=0
rank=0
for st in "$@"; do
	rank=$((rank + 1))
	eval "rank_$st=$rank"
done
for st in "$@"; do
	eval "mine=\$rank_$st"
	for f in "$st"/*.[ch]; do
		[ -e "$f" ] || continue
		for h in $(sed -n 's/^#include "\([^"]*\.h\)".*/\1/p' "$f"); do
			owner=""
			for o in "$@"; do
				[ -e "$o/$h" ] && owner=$o
			done
			[ -n "$owner" ] || continue	# bpf/, generated, include/
			eval "theirs=\$rank_$owner"
			if [ "$theirs" -gt "$mine" ]; then
				echo "layers: user/$f includes $owner/$h, a later stage" >&2
				bad=1
			fi
		done
	done
done
exit $bad
