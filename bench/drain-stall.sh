#!/bin/bash
# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# Does compiling a huge object's unwind tables stall the event drain?
# (issue 11, part 4). Under --comm, tests/targets/busy allocates as fast
# as it can; after a second a second process dlopens libLLVM (~1M CFI
# rows), whose tables the tool compiles when it attaches that process.
# Prints the records the kernel lost, with and without the dlopen.
#
#   bench/drain-stall.sh .output/memscope-bpf .output/targets/busy
set -u
tool=$(realpath "$1")
busy=$(realpath "$2")
llvm=${LLVM:-libLLVM-15.so.1}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

cat >"$d/dl.c" <<EOF
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	/* alive while the tool reads its maps and compiles the tables */
	int bad = !dlopen("$llvm", RTLD_NOW) || !malloc(100);

	sleep(3);
	return bad;
}
EOF
gcc -O1 "$d/dl.c" -o "$d/hxsdl" -ldl || exit 1
cp "$busy" "$d/hxsbusy"

# run WITH_DLOPEN: the kernel's lost records, busy's and the total
run()
{
	local tp bp _

	: >"$d/ready"
	"$tool" --ready-fd 3 -q -t 0 -o "$d/r.json" --comm hxsbusy \
		--comm hxsdl 3>"$d/ready" >/dev/null &
	tp=$!
	for _ in $(seq 300); do
		grep -q . "$d/ready" && break
		sleep 0.1
	done
	"$d/hxsbusy" >/dev/null &
	bp=$!
	sleep 1
	[ "$1" = 1 ] && "$d/hxsdl"
	sleep 1
	kill -USR1 "$bp"
	wait "$bp"
	kill -INT "$tp"
	wait "$tp"
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("lost records:", (r.get("kernel") or {}).get("lost_events"))' "$d/r.json"
}

echo "busy alone:"
run 0
echo "busy while another process dlopens $llvm:"
run 1
