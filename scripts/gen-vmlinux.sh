#!/bin/sh
# Regenerates vmlinux/<arch>/vmlinux.h from the running kernel's BTF.
set -eu
arch=${1:-x86}
out=$(dirname "$0")/../vmlinux/$arch/vmlinux.h
if [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "gen-vmlinux: /sys/kernel/btf/vmlinux is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF=y is needed)" >&2
	exit 1
fi
mkdir -p "$(dirname "$out")"
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$out.tmp"
mv "$out.tmp" "$out"
