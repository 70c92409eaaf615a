# SPDX-License-Identifier: (MIT OR Apache-2.0)
#
# No single-stepped probe: each allocator Debian ships, preloaded under
# tests/targets/xol (every function of the C API it defines) or serving
# tests/targets/xol_cxx (every operator new and delete), traced with -p.
# The kernel copies each instruction it single-steps into the process's
# "[uprobes]" area; tests/targets/libxolcount.c, preloaded too, writes the
# slots used when the target exits, the probes still in. Sourced by run.sh.
#
# A probe placement cannot make emulated is listed below with the reason
# -v gives for it; everything else must be emulated, and the area empty
# unless the target called a listed function. When the family branch
# probes more functions (operator new/delete, mi_*, tc_*...), the lists
# change here: XOL_RUNS and the target that calls them.

xol_lib=/usr/lib/x86_64-linux-gnu

# NAME:PRELOAD:TARGET:OBJECT:SLOTS:EXACT:SINGLE-STEPPED:FORWARDERS... one
# run each: OBJECT (a substring of the probed path) holds exactly the
# SINGLE-STEPPED functions (comma-separated symbol=reason), and leaves
# exactly the FORWARDERS unprobed (symbol=the function it forwards to);
# SLOTS is 0 when the target calls none of them, "used" when it does.
# EXACT "bytes": the kernel counted the calls and bytes xol says it asked
# for (the arguments were read right, also where placement found them
# moved, and the forwarders' blocks were counted by the functions they
# reach); "calls": the calls only (tcmalloc's pvalloc tail-calls its
# memalign with the size rounded up to pages, and a tail call is counted
# once, with the inner call's arguments); "-": the target says nothing
# of its calls. glibc's reallocarray (mul writes rdx, then jmp realloc)
# and libstdc++'s nothrow news (sub $8,%rsp, then call operator new) have
# no emulated site, and reach other code only through the function they
# forward to: they are not probed (the nothrow news' frame, which stands
# first in the stacks operator new's probe takes, is dropped at the
# intake). xol_own is a positive control: its own malloc must be
# single-stepped, and the count see it.
XOL_RUNS="
glibc::xol:libc.so.6:0:bytes::reallocarray=realloc
jemalloc:libjemalloc.so.2:xol:libjemalloc.so.2:0:bytes::
tcmalloc:libtcmalloc_minimal.so.4:xol:libtcmalloc_minimal.so.4:0:calls::
mimalloc:libmimalloc.so.2:xol:libmimalloc.so.2:0:bytes::
libstdcxx::xol_cxx:libstdc++.so.6:0:-::_ZnwmRKSt9nothrow_t=_Znwm,_ZnwmSt11align_val_tRKSt9nothrow_t=_ZnwmSt11align_val_t,_ZnamRKSt9nothrow_t=_Znam,_ZnamSt11align_val_tRKSt9nothrow_t=_ZnamSt11align_val_t
own::xol_own:xol_own:used:-:malloc=stack_changed:
"


# t_no_single_step NAME: the run NAME of XOL_RUNS.
t_no_single_step()
{
	local row name lib prog object slots exact known fwd used asked

	row=$(printf '%s\n' "$XOL_RUNS" | grep "^$1:")
	IFS=: read -r name lib prog object slots exact known fwd <<<"$row"
	if [ -n "$lib" ] && [ ! -e "$xol_lib/$lib" ]; then
		fail "$xol_lib/$lib: expected the allocator installed (scripts/install-deps.sh)"
		return
	fi
	start_target env LD_PRELOAD="${lib:+$xol_lib/$lib:}$TARGETS/libxolcount.so" \
		MEMSCOPE_XOL_OUT="$d/xol" "$TARGETS/$prog" || return
	tool_bg -q -v -o "$d/out/report.json" -p "$target_pid" || return
	wait_tracing || return
	kill -USR1 "$target_pid"
	tool_wait
	expect_rc 0 || return
	expect_clean_stderr
	grep -q '^done' "$d/target.out" ||
		fail "target $prog: expected 'done', got: $(cat "$d/target.out")"
	used=$(sed -n 's/^xol \([0-9]*\)$/\1/p' "$d/xol" 2>/dev/null)
	if [ -z "$used" ]; then
		fail "$d/xol: expected 'xol N' from libxolcount.so at the target's exit, got: $(cat "$d/xol" 2>&1)"
		return
	fi
	if [ "$slots" = 0 ] && [ "$used" != 0 ]; then
		fail "[uprobes] area: expected no single-stepped probe, got $used slots used: $(grep '^xol slot' "$d/xol" | tr '\n' ';')"
		grep 'single-stepped' "$d/stderr" | sed 's/^/    /' >>"$d/fail"
	elif [ "$slots" = used ] && [ "$used" = 0 ]; then
		fail "[uprobes] area: expected the slots of the single-stepped $known, got none used: the detection is blind"
	fi
	asked=$(sed -n 's/^done \([0-9]*\) bytes in \([0-9]*\) calls$/\1 \2/p' \
		"$d/target.out")
	XOL_OBJECT=$object XOL_KNOWN=$known XOL_FWD=$fwd XOL_EXACT=$exact \
		XOL_ASKED=$asked \
		check_report <<'PY'
import os
exact, asked = os.environ["XOL_EXACT"], os.environ["XOL_ASKED"].split()
if exact != "-":
    if len(asked) != 2:
        print("target: expected 'done BYTES bytes in CALLS calls'")
    else:
        if k.get("allocs") != int(asked[1]):
            print(f"kernel.allocs: expected {asked[1]} (the target's calls), got {k.get('allocs')}")
        if exact == "bytes" and k.get("alloc_bytes") != int(asked[0]):
            print(f"kernel.alloc_bytes: expected {asked[0]} (what the target asked for), got {k.get('alloc_bytes')}")
obj = os.environ["XOL_OBJECT"]
def pairs(var):
    return dict(kv.split("=") for kv in filter(None, os.environ[var].split(",")))
want, want_fwd = pairs("XOL_KNOWN"), pairs("XOL_FWD")
probes = [p for p in r.get("probes", []) if obj in p["object"]]
if not probes:
    print(f"probes: expected some in an object named {obj}, got none")
got = {p["symbol"]: p["single_step_reason"] for p in probes
       if p["probed"] and not p["emulated"]}
fwd = {p["symbol"]: p["forwards_to"] for p in probes if not p["probed"]}
for p in probes:
    if p["probed"] and p["emulated"] != (p["single_step_reason"] is None):
        print(f"probe {p}: emulated and single_step_reason disagree")
    if p["probed"] == (p["forwards_to"] is not None):
        print(f"probe {p}: probed and forwards_to disagree")
if got != want:
    print(f"probes in {obj}: expected single-stepped {want or 'none'}, got {got or 'none'}")
if fwd != want_fwd:
    print(f"probes in {obj}: expected unprobed forwarders {want_fwd or 'none'}, got {fwd or 'none'}")
PY
}

# Placement with someone else's system-wide uprobe on glibc's malloc and
# free (bpftrace's, registered for every process): the kernel writes its
# int3 into every mapping of libc that may execute, the tool's own reading
# of the file included, so placement must read the file's bytes, not a
# mapping, or it decodes the breakpoint and single-steps. The probes must
# sit where they sit without it.
t_foreign_uprobe()
{
	local libc=/lib/x86_64-linux-gnu/libc.so.6 i bt

	tool -q -v -o "$d/out/alone.json" -- /bin/true
	expect_rc 0 || return
	bpftrace -e "uprobe:$libc:malloc, uprobe:$libc:free { }" \
		>"$d/bpftrace.out" 2>&1 &
	bt=$!
	bg_pids="$bg_pids $bt"
	for i in $(seq 100); do
		grep -q '^Attaching' "$d/bpftrace.out" && break
		sleep 0.1
	done
	# "Attaching N probes..." comes before the links: let them in
	sleep 1
	if ! running "$bt"; then
		fail "bpftrace: expected it to attach, got: $(cat "$d/bpftrace.out")"
		return
	fi
	tool -q -v -o "$d/out/report.json" -- /bin/true
	expect_rc 0 || return
	kill_bg
	ALONE="$d/out/alone.json" check_report <<-'EOF'
	import os
	def sites(doc):
	    return {(p["symbol"], p["return"]): (p["func_offset"], p["emulated"])
	            for p in doc.get("probes", []) if "libc.so" in p["object"]}
	alone = sites(msjson.load(os.environ["ALONE"]))
	shared = sites(r)
	for key in (("malloc", False), ("free", False)):
	    if key not in alone or not alone[key][1]:
	        print(f"probe {key} alone: expected emulated, got {alone.get(key)}")
	if shared != alone:
	    diff = {k: (alone.get(k), shared.get(k)) for k in set(alone) | set(shared)
	            if alone.get(k) != shared.get(k)}
	    print(f"libc probes beside bpftrace's: expected those placed alone, got (alone, beside) {diff}")
	EOF
}
