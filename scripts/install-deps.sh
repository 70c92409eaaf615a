#!/bin/sh
# Installs what building and testing memscope-bpf needs, from Debian's
# packages. Idempotent and quiet when nothing is missing.
#   scripts/install-deps.sh         build and test dependencies
#   scripts/install-deps.sh bench   also the peers `make bench` compares against
set -eu

PKGS="clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev \
libcriterion-dev systemtap-sdt-dev pkg-config make gcc python3 \
libclang-rt-14-dev binutils chromium golang-go"
# Symbolization: libiberty demangles C++ and Rust names; libdebuginfod
# fetches debug files by build-id; debuginfod serves them to the tests,
# and dwz makes the alternate debug files they resolve through.
PKGS="$PKGS libiberty-dev libdebuginfod-dev debuginfod dwz"
# Probe placement decodes whole functions with Capstone; the unit and
# integration tests place and check probes in Debian's other allocators.
PKGS="$PKGS libcapstone-dev libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0"
# The tool links jemalloc in (libjemalloc_pic.a): its own allocations must
# not go through libc's malloc, which the probes of a traced set are on.
PKGS="$PKGS libjemalloc-dev"
# The stack tests: g++ and rustc build their targets, gdb gives the
# reference stacks, sqlite3 is traced, and libc6-dbg names libc's static
# frames (start_thread, __restore_rt).
PKGS="$PKGS g++ rustc sqlite3 gdb libc6-dbg"
# The allocator family tests preload Debian's other allocators (their
# extended APIs are found with dlsym, so no -dev package is needed).
PKGS="$PKGS libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0"
# tmux runs the --live view's integration test in a terminal of its own.
PKGS="$PKGS tmux"
# capsh (libcap2-bin) runs the tool without CAP_SYS_NICE: its drain then
# falls back from real-time priority to nice levels (test drain_priority).
PKGS="$PKGS libcap2-bin"
# gcc-multilib builds a 32-bit (i386) target: a program the tool cannot
# trace, which it must refuse, or count in a set, never report as idle.
PKGS="$PKGS gcc-multilib"
# musl-tools builds a program on musl's C library (Alpine's), whose
# dynamic linker is its libc: the launcher must probe that, not look for
# glibc's libc.so.6.
PKGS="$PKGS musl-tools"
# bpftrace is the other tracer of the foreign-uprobe test (xol.sh): with
# its uprobes' int3 in every mapping of libc, probe placement must still
# read the file's own bytes.
PKGS="$PKGS bpftrace"
# The man page test renders docs/memscope-bpf.8 with groff's warnings on.
PKGS="$PKGS groff-base"
# node writes the perf map (--perf-basic-prof) its JIT frames are named
# from in the node_perfmap test; a machine may have it from elsewhere.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
# Bench only: the peer tools `make bench` compares memscope-bpf with, and
# the Debian objects `make -C bench unwind-tables` compiles the CFI of.
if [ "${1:-}" = bench ]; then
	PKGS="$PKGS heaptrack valgrind redis-server libsqlite3-0 \
python3.11-minimal"
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing; run as root or install them" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
