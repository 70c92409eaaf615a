#!/bin/sh
# make demo: trace the bundled leaky program from its first allocation,
# print the report and keep the JSON beside it as demo-report.json.
set -eu
tool=$1
targets=$2
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: tracing needs root (CAP_BPF): run 'sudo make demo'" >&2
	exit 1
fi
echo "== sudo memscope-bpf -o demo-report.json -- $targets/leaky" >&2
"$tool" -q -o demo-report.json -- "$targets/leaky"
echo "== JSON report written to demo-report.json" >&2
