#!/bin/bash
# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# The pprof and folded exports, read by a real reader: `go tool pprof` from
# Debian's golang-go (a prebuilt tool of the Go distribution: no network,
# no module download). Each profile must parse, and its totals must be the
# JSON report's: per sample type, the sum over samples equals the sum over
# the report's sites and the summary's total; there is one sample per
# site; the folded weights add up to the live bytes.
#
#   GEN=/abs/gen MEMSCOPE=/abs/memscope-bpf TARGETS=/abs/.output/targets \
#       ./tests/pprof/check.sh
#
# Two profiles: one from tests/pprof/gen.c (a synthetic trace big enough
# to grow every table of the encoder, with hostile names), and one of
# tests/targets/leaky traced with real BPF, which also checks the leaking
# functions and the executable's build-id. The traced one needs root and
# BPF; MEMSCOPE_SKIP_INTEGRATION=1 skips it, as it does the integration
# tests. Quiet while green; a failure prints each difference and keeps
# the files. The last line is always "pprof: N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
LIMIT=60
# Frames without separators, white space or control characters; a weight.
FRAME='[^;[:space:][:cntrl:]]+'
FOLDED_LINE="^$FRAME(;$FRAME)* [1-9][0-9]*\$"
passed=0
failed=0

if [ -z "${GEN:-}" ] || [ -z "${MEMSCOPE:-}" ] || [ -z "${TARGETS:-}" ]; then
	echo "pprof: set GEN, MEMSCOPE and TARGETS; see 'make pprof-test'" >&2
	exit 1
fi
if ! go version >/dev/null 2>&1; then
	echo "pprof: no go tool; run scripts/install-deps.sh (golang-go)" >&2
	echo "pprof: 0 passed, 1 failed"
	exit 1
fi

work=$(mktemp -d /tmp/memscope-pprof.XXXXXX) || exit 1
trap '[ "$failed" -eq 0 ] && rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
# Nothing of the user's Go setup, and nothing fetched.
export HOME=$work GOCACHE=$work/go-cache GOPATH=$work/go GOENV=off \
	GOTOOLCHAIN=local GOPROXY=off GOFLAGS= PPROF_TMPDIR=$work

fail()
{
	printf '%s\n' "$*" >>"$d/fail"
}

# expect WHAT WANT GOT
expect()
{
	[ "$2" = "$3" ] || fail "$1: expected $2, got $3"
}

# pprof ARGS...: go tool pprof on what we wrote, symbols as they are.
pprof()
{
	timeout -k 5 $LIMIT go tool pprof -symbolize=none "$@" 2>>"$d/pprof.err"
}

# Sample count and the six column sums of `pprof -raw` output.
raw_totals()
{
	awk '
		/^Samples:/ { in_samples = 1; header = 1; next }
		/^Locations/ { in_samples = 0 }
		in_samples && header { header = 0; next }
		in_samples && /:/ {
			split(substr($0, 1, index($0, ":") - 1), v, " ")
			n++
			for (i = 1; i <= 6; i++)
				sum[i] += v[i]
		}
		END {
			printf "%d", n
			for (i = 1; i <= 6; i++)
				printf " %.0f", sum[i]
			printf "\n"
		}
	' "$1"
}

# Site count, the sums of each metric over sites, the summary's, sites
# with live bytes, the peak's blocks and bytes over sites, the summary's
# peak bytes, sites with bytes at the peak.
json_totals()
{
	python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
sites, s = r["sites"], r["summary"]
keys = ("alloc_count", "alloc_bytes", "live_count", "live_bytes")
print(len(sites), *(sum(x[k] for x in sites) for k in keys),
      s["allocs"], s["alloc_bytes"], s["live_allocs"], s["live_bytes"],
      sum(1 for x in sites if x["live_bytes"]),
      sum(x["peak_count"] for x in sites), sum(x["peak_bytes"] for x in sites),
      s["peak_bytes"], sum(1 for x in sites if x["peak_bytes"]))
EOF
}

# folded_total FILE: the weights of a folded file added up.
folded_total()
{
	awk '{ s += $NF } END { printf "%.0f", s }' "$1"
}

# check_exports DIR: DIR/r.json, DIR/p.pb.gz and DIR/f.txt agree.
check_exports()
{
	local raw=$1/raw.txt t j names i
	local types="alloc_objects alloc_space inuse_objects inuse_space"

	if ! pprof -raw "$1/p.pb.gz" >"$raw"; then
		fail "go tool pprof -raw cannot read the profile:"
		fail "$(cat "$d/pprof.err")"
		return
	fi
	read -r -a t <<<"$(raw_totals "$raw")"
	read -r -a j <<<"$(json_totals "$1/r.json")"
	[ "${#j[@]}" -eq 14 ] || { fail "cannot read $1/r.json"; return; }
	expect "samples vs JSON sites" "${j[0]}" "${t[0]}"
	names=($types)
	for i in 0 1 2 3; do
		expect "${names[i]} total vs JSON sites" "${j[i + 1]}" "${t[i + 1]}"
		expect "${names[i]} total vs JSON summary" "${j[i + 5]}" "${t[i + 1]}"
	done
	expect "peak_objects total vs JSON sites" "${j[10]}" "${t[5]}"
	expect "peak_space total vs JSON sites" "${j[11]}" "${t[6]}"
	expect "peak_space total vs JSON summary" "${j[12]}" "${t[6]}"
	expect "sample types" "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt] peak_objects/count peak_space/bytes" \
		"$(sed -n '/^Samples:/{n;p;q}' "$raw")"
	grep -q '^Comment: captured by memscope-bpf' "$raw" ||
		fail "no 'captured by memscope-bpf' comment"

	# -top reads the same totals through pprof's own aggregation.
	expect "-top inuse_space total" "${j[8]}B" \
		"$(pprof -top -sample_index=inuse_space -unit=B "$1/p.pb.gz" |
		   sed -n 's/.* of \([0-9]*B\) total.*/\1/p')"

	# Folded: one well-formed line per site with live bytes, summing to them.
	if grep -Evq "$FOLDED_LINE" "$1/f.txt"; then
		fail "malformed folded lines:"
		fail "$(grep -Ev "$FOLDED_LINE" "$1/f.txt" | head -3)"
	fi
	expect "folded lines vs sites with live bytes" "${j[9]}" \
		"$(wc -l <"$1/f.txt")"
	expect "folded weight total vs live bytes" "${j[8]}" \
		"$(folded_total "$1/f.txt")"
}

# check_folded_weights DIR: DIR/f-peak.txt and DIR/f-allocs.txt, written
# with --folded-weight peak and allocs, add up to the JSON's peak and
# allocated bytes, a line per site that weighs anything.
check_folded_weights()
{
	local j

	read -r -a j <<<"$(json_totals "$1/r.json")"
	[ "${#j[@]}" -eq 14 ] || { fail "cannot read $1/r.json"; return; }
	expect "--folded-weight peak total vs summary.peak_bytes" "${j[12]}" \
		"$(folded_total "$1/f-peak.txt")"
	expect "--folded-weight peak lines vs sites live at the peak" \
		"${j[13]}" "$(wc -l <"$1/f-peak.txt")"
	expect "--folded-weight allocs total vs summary.alloc_bytes" "${j[6]}" \
		"$(folded_total "$1/f-allocs.txt")"
	expect "--folded-weight allocs lines vs sites" "${j[0]}" \
		"$(wc -l <"$1/f-allocs.txt")"
	if grep -Evhq "$FOLDED_LINE" "$1/f-peak.txt" "$1/f-allocs.txt"; then
		fail "malformed folded lines with --folded-weight"
	fi
}

# "address function" of each location in mapping $1 of `pprof -raw` $2.
functions_in()
{
	awk -v m="M=$1" '$3 == m { print $2, $4 }' "$2" | sort
}

# run_test NAME FUNCTION: one test in its own directory $d.
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

t_generated()
{
	if ! "$GEN" "$d/r.json" "$d/p.pb.gz" "$d/f.txt" 2>"$d/gen.err"; then
		fail "gen failed: $(cat "$d/gen.err")"
		return
	fi
	check_exports "$d"
	# 6 GiB in one block: varints past 32 bits survive the trip.
	grep -Eq '^ +1 +6442450944 +1 +6442450944 +1 +6442450944:' "$d/raw.txt" ||
		fail "the 6 GiB sample is not in the profile"
	grep -q '^ *[0-9]*: 0x[0-9a-f]* M=[0-9]* ns::f<a, b>(int; 5) ' \
		"$d/raw.txt" || fail "a function name with '; ' did not survive"
	grep -q ' /usr/lib/libone.so b0a1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3 ' \
		"$d/raw.txt" || fail "no build-id on the libone.so mapping"
}

t_leaky()
{
	local leaky=$TARGETS/leaky id fn m w

	if ! timeout -k 5 $LIMIT "$MEMSCOPE" -q -t 0 -o "$d/r.json" \
	     --pprof "$d/p.pb.gz" --folded "$d/f.txt" -w "$d/t.msr" \
	     -- "$leaky" >"$d/stdout" 2>"$d/stderr"; then
		fail "memscope-bpf failed: $(cat "$d/stderr")"
		return
	fi
	check_exports "$d"
	# The other weights, from the recording: the same model.
	for w in peak allocs; do
		timeout -k 5 $LIMIT "$MEMSCOPE" report "$d/t.msr" -t 0 \
			--folded-weight $w --folded "$d/f-$w.txt" \
			>/dev/null 2>>"$d/stderr" ||
			fail "report --folded-weight $w failed: $(cat "$d/stderr")"
	done
	check_folded_weights "$d"
	pprof -top -nodefraction=0 -sample_index=inuse_space "$d/p.pb.gz" \
		>"$d/top.txt"
	for fn in leak_in_thread_a leak_in_thread_b leak_calloc leak_realloc \
		  leak_posix_memalign leak_aligned_alloc; do
		grep -Eq "^ +[0-9]+: 0x[0-9a-f]+ M=[0-9]+ $fn .*leaky\.c:[0-9]+ " \
			"$d/raw.txt" || fail "no location in $fn (leaky.c) in the profile"
		grep -q " $fn\$" "$d/top.txt" ||
			fail "-top inuse_space does not list $fn"
	done
	id=$(readelf -n "$leaky" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
	grep -Eq "^[0-9]+: 0x0/0x0/0x0 $leaky $id \[FN\]\[FL\]\[LN\]\$" \
		"$d/raw.txt" ||
		fail "no mapping '$leaky $id [FN][FL][LN]' (build-id of readelf -n)"

	# A reader that symbolizes by itself (pprof here, Parca by build-id)
	# must find our functions at our addresses. (The later -symbolize
	# overrides pprof()'s.)
	m=$(sed -n "s|^\([0-9]*\): .* $leaky .*|\1|p" "$d/raw.txt")
	pprof -raw -symbolize=force "$d/p.pb.gz" >"$d/resymbolized.txt"
	expect "leaky's functions as pprof itself symbolizes them" \
		"$(functions_in "$m" "$d/raw.txt")" \
		"$(functions_in "$m" "$d/resymbolized.txt")"
	grep -q "^$m: .*\[IN\]\$" "$d/resymbolized.txt" ||
		fail "pprof found no symbols of leaky at our addresses (no [IN] on its mapping)"
}

run_test generated t_generated
if [ "${MEMSCOPE_SKIP_INTEGRATION:-0}" = 1 ]; then
	echo "pprof: traced leaky skipped (MEMSCOPE_SKIP_INTEGRATION=1)"
elif [ "$(id -u)" -ne 0 ]; then
	echo "pprof: tracing needs root; run as root or set MEMSCOPE_SKIP_INTEGRATION=1" >&2
	failed=$((failed + 1))
elif ! why=$(python3 "$here/../integration/check.py" bpf-usable 2>&1); then
	echo "pprof: BPF is not usable here: $why; set MEMSCOPE_SKIP_INTEGRATION=1 to skip" >&2
	failed=$((failed + 1))
else
	run_test leaky t_leaky
fi

echo "pprof: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
