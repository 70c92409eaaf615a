#!/bin/bash
# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# `make install` into a staging directory, as a package build does, and the
# man page against the tool it documents:
#   - exactly the promised files land under DESTDIR/PREFIX, with their modes;
#   - the installed tool runs, and its version is the man page's;
#   - the man page renders without a groff warning;
#   - every option --help lists has its entry in the man page, and every
#     option the man page describes is one --help lists;
#   - a program builds against the installed header and library, and
#     carries the memscope USDT notes.
#
#   MAKE=make ./tests/install/check.sh      (from the top of the tree)
#
# Quiet while green; the last line is always "install: N passed, N failed".
set -u

MAKE=${MAKE:-make}
MAN=docs/memscope-bpf.8
passed=0
failed=0

work=$(mktemp -d /tmp/memscope-install.XXXXXX) || exit 1
trap '[ "$failed" -eq 0 ] && rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
stage=$work/stage
root=$stage/usr

fail()
{
	printf '%s\n' "$*" >>"$d/fail"
}

expect()
{
	[ "$2" = "$3" ] || fail "$1: expected $2, got $3"
}

run_test()
{
	d=$work/$1
	mkdir -p "$d"
	: >"$d/fail"
	"$2"
	if [ -s "$d/fail" ]; then
		failed=$((failed + 1))
		{
			echo "--- FAIL $1 (files kept in $d)"
			sed 's/^/    /' "$d/fail"
		} >&2
	else
		passed=$((passed + 1))
	fi
}

t_files()
{
	local want got

	if ! $MAKE -s install DESTDIR="$stage" PREFIX=/usr >"$d/make.out" 2>&1; then
		fail "make install failed: $(cat "$d/make.out")"
		return
	fi
	want="0644 usr/include/memscope.h
0644 usr/lib/libmemscope-usdt.a
0644 usr/share/man/man8/memscope-bpf.8
0755 usr/bin/memscope-bpf
0755 usr/lib/libmemscope-usdt.so"
	got=$(cd "$stage" && find . -type f -printf '%m %P\n' |
	      sed 's/^\([0-7][0-7][0-7]\) /0\1 /' | sort)
	expect "installed files" "$want" "$got"
}

t_version()
{
	local v m

	v=$("$root/bin/memscope-bpf" --version 2>&1)
	m=$(sed -n 's/^\.TH .*"memscope-bpf \([^"]*\)".*/\1/p' "$MAN")
	expect "installed --version vs the man page's" "memscope-bpf $m" "$v"
}

t_render()
{
	if ! groff -man -ww -z "$MAN" 2>"$d/groff.err" || [ -s "$d/groff.err" ]; then
		fail "groff -man -ww warns on $MAN:"
		fail "$(head -5 "$d/groff.err")"
	fi
}

# Long options of --help (its lines that start with an option, not the
# examples' command lines), and of the man page's entries (.TP, then .B,
# .BI or .BR).
help_options()
{
	"$root/bin/memscope-bpf" --help | grep -E '^ +-' |
		grep -Eo '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]*--//' | sort -u
}

man_options()
{
	awk 'prev == ".TP" && /^\.B[IR]? / { print } { prev = $0 }' "$MAN" |
		grep -Eo '\\-\\-[a-z\\-]+' | sed 's/\\//g; s/^--//' | sort -u
}

t_options()
{
	local missing stale

	help_options >"$d/help"
	man_options >"$d/man"
	[ -s "$d/help" ] || { fail "--help lists no option"; return; }
	missing=$(comm -23 "$d/help" "$d/man" | tr '\n' ' ')
	stale=$(comm -13 "$d/help" "$d/man" | tr '\n' ' ')
	[ -z "$missing" ] || fail "options --help lists without a man page entry: $missing"
	[ -z "$stale" ] || fail "man page entries --help does not list: $stale"
}

t_usdt()
{
	cat >"$d/app.c" <<'EOF'
#include <stdlib.h>
#include <memscope.h>

int main(void)
{
	void *p = malloc(64);

	MEMSCOPE_TRACK(p, 64, "buf", "char[64]", MEMSCOPE_CONTAINER);
	memscope_untrack(p);
	free(p);
	return 0;
}
EOF
	if ! ${CC:-cc} -I"$root/include" "$d/app.c" -L"$root/lib" \
	     -lmemscope-usdt -o "$d/app" 2>"$d/cc.err"; then
		fail "cannot build against the installed header and library:"
		fail "$(head -5 "$d/cc.err")"
		return
	fi
	LD_LIBRARY_PATH=$root/lib "$d/app" || fail "the instrumented program failed"
	readelf -n "$d/app" | grep -q 'Provider: memscope' ||
		fail "no memscope USDT note in a program built with the installed header"
	readelf -n "$root/lib/libmemscope-usdt.so" | grep -q 'Provider: memscope' ||
		fail "no memscope USDT note in the installed libmemscope-usdt.so"
}

run_test files t_files
if [ -x "$root/bin/memscope-bpf" ]; then
	run_test version t_version
	run_test options t_options
	run_test usdt t_usdt
fi
run_test render t_render

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
