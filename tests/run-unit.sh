#!/bin/sh
# Runs each Criterion unit-test binary; quiet when green, the failing
# binary's own output when red. Ends with the plain "N passed, N failed".
set -u
pass=0 fail=0
for t in "$@"; do
	out=$("$t" --jobs=1 2>&1)
	rc=$?
	line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -1)
	tp=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	tf=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	tc=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	tf=$(( ${tf:-0} + ${tc:-0} ))
	# LeakSanitizer reports from Criterion workers do not change the
	# exit code: a leak is a failure all the same.
	case $out in *LeakSanitizer*|*runtime\ error:*) rc=1 ;; esac
	[ "$rc" -ne 0 ] && [ "$tf" -eq 0 ] && tf=1
	pass=$((pass + ${tp:-0})); fail=$((fail + tf))
	[ "$rc" -ne 0 ] && printf '%s\n' "--- $(basename "$t") failed:" "$out" >&2
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
