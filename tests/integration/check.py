#!/usr/bin/env python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Assertions on memscope-bpf JSON reports, for tests/integration/run.sh.

    check.py bpf-usable
        exit 0 if this machine can load and attach tracing BPF programs,
        else print the reason on one line and exit 1.

    check.py thread-slots PID
        print the owners (tids) of the thread slots (the `threads` map of
        bpf/memscope.bpf.c) held by the running tool PID, one line, sorted;
        exit 1 with the reason when it has no such map.

    check.py same LIVE.json REPLAY.json
        exit 0 if the two reports are the same JSON document, else print
        each path where they differ (at most 20) and exit 1.

    check.py SCENARIO REPORT.json [--pid N] [--exited yes|no]
             [--exit-status N] [--mode default|alloc] [--object NAME]
             [--max-duration SEC] [--src DIR]
        check a report: the checks every report gets, then the table of the
        scenario (leaky, peak, short, exits_mid, static, any, alloc).
        Quiet and exit 0 when it holds; otherwise one line per difference,
        "what: expected ..., got ...", and exit 1.

The expected numbers mirror the comments at the top of each target in
tests/targets/. Call sites are found by the function that called the
allocator (frames[0].function); their line numbers come from the
"@site NAME" markers in the target sources, so editing a target does not
silently break the line checks.
"""

import argparse
import json
import os
import re
import sys

import msjson

SCHEMA = "memscope-bpf/report/3"
MIB = 1 << 20

# Scenario tables: function -> (blocks, bytes), checked against leaks[].
LEAKS = {
    "leaky": {
        "leak_in_thread_a": (10, 10000),
        "leak_in_thread_b": (5, 10240),
        "leak_calloc": (3, 3072),
        "leak_realloc": (1, 400),
        "leak_posix_memalign": (2, 8192),
        "leak_aligned_alloc": (4, 512),
    },
    "peak": {"after_peak": (1, 4096)},
    "short": {"short_leak": (7, 2331)},
    "exits_mid": {"exits_mid_leak": (10, 640)},
    "static": {"static_leak": (3, 333)},
    "busy": {"busy_leak": (5, 3885)},
    # 1000 calls each through the probes placed past offset 0, all freed
    # but three: a missed free leaves more, a missed allocation fewer.
    "placement": {"via_posix_memalign": (3, 288), "via_memalign": (3, 600),
                  "via_valloc": (3, 900), "via_pvalloc": (3, 15000),
                  "via_malloc": (3, 120)},
    # (blocks, bytes, family): each block counted once, in the family of
    # the outermost call (operator new, not the malloc under it).
    "fam_cxx": {"cxx_leak_new()": (3, 72, "new"),
                "cxx_leak_array()": (2, 200, "new[]"),
                "cxx_leak_nothrow()": (1, 24, "new"),
                "cxx_leak_nothrow_array()": (1, 70, "new[]"),
                "cxx_leak_nothrow_aligned()": (1, 64, "new"),
                "cxx_leak_nothrow_aligned_array()": (1, 192, "new[]"),
                "cxx_leak_aligned()": (1, 64, "new"),
                "cxx_leak_aligned_array()": (1, 128, "new[]"),
                "cxx_leak_malloc()": (1, 333, "malloc")},
    # Each leak made after a bad_alloc thrown (or caught inside a nothrow
    # new) on the same thread: the program ran on to exit 0.
    "fam_cxx_throw": {"throw_leak_new()": (1, 24, "new"),
                      "throw_leak_array()": (1, 100, "new[]"),
                      "throw_leak_aligned()": (1, 64, "new"),
                      "throw_leak_aligned_array()": (1, 128, "new[]"),
                      "throw_leak_nothrow()": (1, 24, "new"),
                      "throw_leak_nothrow_array()": (1, 70, "new[]")},
}
# fam_c with each allocator preloaded: the C API is "malloc" whoever
# implements it, the allocator's own API its family.
FAM_C = {"c_leak_malloc": (4, 400), "c_leak_calloc": (2, 200),
         "c_leak_realloc": (1, 500)}
for _alloc, _fam in [("glibc", None), ("jemalloc", "jemalloc"),
                     ("tcmalloc", "tcmalloc"), ("mimalloc", "mimalloc")]:
    LEAKS["fam_c_" + _alloc] = dict(FAM_C)
    if _fam:
        LEAKS["fam_c_" + _alloc]["c_leak_ext"] = (3, 900, _fam)

# Functions that must appear in no frame of any leak: balanced work, and
# the earlier steps of the realloc chain (the block moved on from them).
NOT_LEAKING = {
    "leaky": ["churn", "realloc_start", "realloc_grow", "realloc_to_zero",
              "realloc_fail"],
    "peak": ["peak_big", "peak_small", "release_all"],
    "exits_mid": ["exits_mid_churn"],
    "busy": ["busy_churn"],
    "fam_cxx": ["cxx_balanced()"],
    "fam_cxx_throw": ["fail_new()", "fail_array()", "fail_aligned()",
                      "fail_aligned_array()", "fail_nothrow()"],
    "fam_c_glibc": ["c_churn", "c_churn_ext", "c_leak_ext"],
    "fam_c_jemalloc": ["c_churn", "c_churn_ext"],
    "fam_c_tcmalloc": ["c_churn", "c_churn_ext"],
    "fam_c_mimalloc": ["c_churn", "c_churn_ext"],
}

# Scenario -> libstdc++'s operator new that may throw -> what counts its
# blocks: each probed at its entry only (counted_at), no return probe.
LAYERS = {"fam_cxx_throw": {"_Znwm": "malloc",
                            "_ZnwmSt11align_val_t": "aligned_alloc",
                            "_Znam": "_Znwm",
                            "_ZnamSt11align_val_t": "_ZnwmSt11align_val_t"}}

# fam_c with an allocator preloaded -> (its object, the functions that may
# throw and keep a return probe, its layers: symbol -> counted_at). One
# probe per address, named by its first name (tcmalloc's new[] is new).
THROW_ENDS = {
    "fam_c_jemalloc": ("libjemalloc", ["_Znwm", "_Znam"],
                       {"_ZnwmSt11align_val_t": "aligned_alloc",
                        "_ZnamSt11align_val_t": "aligned_alloc"}),
    "fam_c_tcmalloc": ("libtcmalloc", ["_Znwm", "_ZnwmSt11align_val_t"],
                       {}),
    "fam_c_mimalloc": ("libmimalloc", ["_Znwm", "_ZnwmSt11align_val_t",
                                       "mi_new_n"], {}),
}

# Scenario -> allocations that failed, each counted once (operator new and
# the malloc under it are one call, and so are its retries' layers).
FAILED = {"fam_cxx_throw": 7}

# Scenario -> function -> (blocks, bytes) live at the peak.
PEAK = {
    "peak": {"peak_big": (10, 10 * MIB), "peak_small": (5, 5 * MIB // 2)},
}

# leaky's successful malloc/calloc/posix_memalign/aligned_alloc calls
# (reallocs left out: an entry-only profile may count them either way).
LEAKY_ALLOC_CALLS = 10 + 5 + 3 + 1 + 2 + 4 + 10000 + 1 + 1

SUMMARY_KEYS = ["allocs", "frees", "alloc_bytes", "free_bytes", "live_allocs",
                "live_bytes", "peak_bytes", "peak_ns", "failed_allocs",
                "unknown_frees", "lost_events", "stack_errors", "events"]
FAMILIES = ["malloc", "new", "new[]", "rust", "jemalloc", "tcmalloc",
            "mimalloc"]
FRAME_KEYS = ["function", "inlined", "file", "line", "object", "addr"]
STACK_KEYS = ["stack_truncated", "stack_full", "stack_stop", "frames"]
PROBE_KEYS = ["object", "symbol", "offset", "func_offset", "return",
              "emulated", "single_step_reason", "probed", "forwards_to",
              "counted_at", "throw_ends_program"]


def with_stacks(r, entries):
    """A process's list entries with the stack each names by its index
    in the top-level sites ("site") written out in place."""
    out = []
    for e in entries or []:
        if "site" in e:
            site = r["sites"][e["site"]]
            e = {k: v for k, v in e.items() if k != "site"}
            e.update({k: site[k] for k in STACK_KEYS})
        out.append(e)
    return out


class Checker:
    def __init__(self, report, args):
        self.r = report
        self.args = args
        self.errors = []

    def fail(self, msg):
        self.errors.append(msg)

    def expect(self, what, expected, got):
        if expected != got:
            self.fail(f"{what}: expected {expected!r}, got {got!r}")
            return False
        return True

    def get(self, path, kind=None):
        """Value at a dotted path, or None (and a failure) if missing."""
        node = self.r
        for key in path.split("."):
            if not isinstance(node, dict) or key not in node:
                self.fail(f"{path}: missing from the report")
                return None
            node = node[key]
        if kind is not None and not isinstance(node, kind):
            self.fail(f"{path}: expected a {kind.__name__}, got {node!r}")
            return None
        return node

    # --- the parts every report must have -------------------------------

    def common(self):
        a = self.args
        self.expect("schema", SCHEMA, self.r.get("schema"))
        summary = self.get("summary", dict) or {}
        for k in SUMMARY_KEYS:
            v = summary.get(k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                self.fail(f"summary.{k}: expected an integer >= 0, got {v!r}")
        self.expect("summary.source", "captured", summary.get("source"))

        kernel = self.r.get("kernel", "absent")
        if kernel == "absent":
            self.fail("kernel: missing from the report (null is allowed)")
        elif kernel is not None and not isinstance(kernel, dict):
            self.fail(f"kernel: expected an object or null, got {kernel!r}")

        target = self.get("target", dict) or {}
        if a.pid is not None:
            self.expect("target.pid", a.pid, target.get("pid"))
        if a.exited is not None:
            self.expect("target.exited", a.exited == "yes",
                        target.get("exited"))
        if a.exit_status is not None:
            self.expect("target.exit_status", a.exit_status,
                        target.get("exit_status"))
        self.expect("target.mode", a.mode, target.get("mode"))
        # The command traced: launched, or read from the attached pid.
        first = next((p.get("target") or {} for p in
                      self.get("processes", list) or []
                      if (p.get("target") or {}).get("pid") ==
                      target.get("pid") and
                      (p.get("target") or {}).get("image") == 0), {})
        if a.pid is not None and first.get("command") is not None:
            self.expect("target.command (its first image's)",
                        first.get("command"), target.get("command"))
        dur = target.get("duration_ns")
        if not isinstance(dur, int) or dur <= 0:
            self.fail(f"target.duration_ns: expected > 0, got {dur!r}")
        elif a.max_duration is not None and dur > a.max_duration * 1e9:
            self.fail(f"target.duration_ns: expected <= {a.max_duration} s "
                      f"(the target exited, the tool should stop), "
                      f"got {dur / 1e9:.1f} s")

        self.processes(summary)

        # Every program these scenarios trace is correct: no free of it
        # is an anomaly.
        for a in self.get("anomalies", list) or []:
            self.fail(f"anomalies: expected none on a correct program, got "
                      f"{a.get('kind')} x{a.get('count')} "
                      f"({a.get('alloc_family')} freed by "
                      f"{a.get('free_family')}) freed at "
                      f"{brief({'frames': a.get('free_frames') or []})}")
        for i, site in enumerate(self.get("sites", list) or []):
            if site.get("family") not in FAMILIES:
                self.fail(f"sites[{i}].family: expected one of {FAMILIES}, "
                          f"got {site.get('family')!r}")
        for i, leak in enumerate(self.get("leaks", list) or []):
            self.site_shape(f"leaks[{i}]", leak, leak=True)
        peak = self.get("peak", dict) or {}
        for i, site in enumerate(peak.get("by_stack") or []):
            self.site_shape(f"peak.by_stack[{i}]", site, leak=False)
        for i, probe in enumerate(self.get("probes", list) or []):
            missing = [k for k in PROBE_KEYS if k not in probe]
            if missing:
                self.fail(f"probes[{i}]: missing {missing}, got {probe!r}")
            elif probe["probed"] == (probe["forwards_to"] is not None):
                self.fail(f"probes[{i}]: forwards_to exactly when not "
                          f"probed, got {probe!r}")
            elif not probe["probed"]:
                # a wrapper left unprobed: nothing runs, nothing to say
                if probe["emulated"] or probe["single_step_reason"]:
                    self.fail(f"probes[{i}]: unprobed, yet emulated or "
                              f"single-stepped, got {probe!r}")
            elif probe["emulated"] != (probe["single_step_reason"] is None):
                self.fail(f"probes[{i}]: a reason exactly when not "
                          f"emulated, got {probe!r}")
            elif probe["counted_at"] is not None and probe["return"]:
                self.fail(f"probes[{i}]: a layer (counted_at) has no return "
                          f"probe, got {probe!r}")
            elif probe["throw_ends_program"] and not probe["return"]:
                self.fail(f"probes[{i}]: throw_ends_program on an entry "
                          f"probe, got {probe!r}")
        self.layers()
        self.throw_ends()

    def layers(self):
        """Each libstdc++ operator new that may throw: entry only."""
        want = LAYERS.get(self.args.scenario)
        if not want:
            return
        got, ret = {}, set()
        for p in self.get("probes", list) or []:
            if "libstdc++" not in (p.get("object") or ""):
                continue
            if p.get("counted_at"):
                got[p.get("symbol")] = p["counted_at"]
            if p.get("return"):
                ret.add(p.get("symbol"))
        self.expect("libstdc++ layers (symbol: counted_at)", want, got)
        self.expect("libstdc++ operator new with a return probe", [],
                    sorted(ret & set(want)))

    def throw_ends(self):
        """A preloaded allocator's own operator new: said to keep its
        return probe, and its aligned new a layer where it calls
        aligned_alloc."""
        want = THROW_ENDS.get(self.args.scenario)
        if not want:
            return
        obj, ends, layers = want
        got_ends, got_layers = set(), {}
        for p in self.get("probes", list) or []:
            if obj not in (p.get("object") or ""):
                continue
            if p.get("throw_ends_program"):
                got_ends.add(p.get("symbol"))
            if p.get("counted_at"):
                got_layers[p.get("symbol")] = p["counted_at"]
        self.expect(f"{obj} probes with throw_ends_program", sorted(ends),
                    sorted(got_ends))
        self.expect(f"{obj} layers (symbol: counted_at)", layers, got_layers)

    def processes(self, summary):
        """processes[]: one image is the report itself; more add up to it."""
        procs = self.get("processes", list) or []
        if not procs:
            self.fail("processes: expected at least one image, got none")
        elif len(procs) == 1:
            p = procs[0]
            for k in ["summary", "kernel"]:
                self.expect(f"processes[0].{k} (vs the top level's)",
                            self.r.get(k), p.get(k))
            self.expect("processes[0].leaks (vs the top level's, "
                        "stacks by site)", self.r.get("leaks"),
                        with_stacks(self.r, p.get("leaks")))
            self.expect("processes[0].sites (the top level's, by proc)",
                        None, p.get("sites"))
            if self.args.pid is not None:
                self.expect("processes[0].target.pid", self.args.pid,
                            (p.get("target") or {}).get("pid"))
        else:
            for k in ["allocs", "frees", "alloc_bytes", "free_bytes",
                      "live_allocs", "live_bytes"]:
                total = sum((p.get("summary") or {}).get(k, 0)
                            for p in procs)
                self.expect(f"summary.{k} (vs the processes' sum)",
                            total, summary.get(k))

    def site_shape(self, where, site, leak):
        for k in ["family", "count", "bytes", "frames"] + (["oldest_ns", "source"]
                                                 if leak else []):
            if k not in site:
                self.fail(f"{where}.{k}: missing, got {brief(site)}")
        if leak and "source" in site:
            self.expect(f"{where}.source", "captured", site["source"])
        for j, fr in enumerate(site.get("frames") or []):
            missing = [k for k in FRAME_KEYS if k not in fr]
            if missing:
                self.fail(f"{where}.frames[{j}]: missing {missing}, "
                          f"got {fr!r}")

    # --- exactness against the kernel's own counters ---------------------

    def exact(self):
        kernel = self.r.get("kernel")
        summary = self.r.get("summary") or {}
        if not isinstance(kernel, dict):
            self.fail(f"kernel: expected the kernel's counters, got {kernel!r}")
            return
        self.expect("kernel.lost_events", 0, kernel.get("lost_events"))
        self.expect("summary.lost_events", 0, summary.get("lost_events"))
        self.expect("summary.live_bytes (vs kernel.live_bytes)",
                    kernel.get("live_bytes"), summary.get("live_bytes"))
        self.expect("summary.live_allocs (vs kernel.live_blocks)",
                    kernel.get("live_blocks"), summary.get("live_allocs"))
        # Nothing was lost, so the event stream and the kernel's own
        # counters must tell the same story.
        for k in ["allocs", "frees", "alloc_bytes", "free_bytes",
                  "peak_bytes", "failed_allocs", "unknown_frees"]:
            self.expect(f"summary.{k} (vs kernel.{k})", kernel.get(k),
                        summary.get(k))

    # --- call sites -----------------------------------------------------

    def sites(self, what, entries, table):
        """Each function in table is frames[0] of exactly one entry."""
        for fn, (count, nbytes, *family) in table.items():
            hits = [e for e in entries if frame0(e) == fn]
            label = f"{what}[frames[0].function={fn}]"
            if len(hits) != 1:
                self.fail(f"{label}: expected 1 entry with count={count} "
                          f"bytes={nbytes}, got {len(hits)}: "
                          f"{[brief(e) for e in hits]}; all entries: "
                          f"{[brief(e) for e in entries]}")
                continue
            e = hits[0]
            if (e.get("count"), e.get("bytes")) != (count, nbytes):
                self.fail(f"{label}: expected count={count} bytes={nbytes}, "
                          f"got count={e.get('count')} "
                          f"bytes={e.get('bytes')}")
            self.expect(f"{label}.family", family[0] if family else "malloc",
                        e.get("family"))
            self.frame0_location(label, e, fn)

    def frame0_location(self, label, entry, fn):
        """frames[0] is symbolized to the marked call line in the source."""
        fr = entry["frames"][0]
        obj = fr.get("object")
        if self.args.object and (not isinstance(obj, str) or
                                 os.path.basename(obj) != self.args.object):
            self.fail(f"{label}.frames[0].object: expected a path ending in "
                      f"/{self.args.object}, got {obj!r}")
        # A C++ frame is named with its parameters: "f()" is marked "f".
        site = self.args.site_lines.get(re.sub(r"\(.*\)$", "", fn))
        if site is None:
            return
        src_file, line = site
        got_file = fr.get("file")
        if (not isinstance(got_file, str) or
                os.path.basename(got_file) != src_file):
            self.fail(f"{label}.frames[0].file: expected a path ending in "
                      f"{src_file}, got {got_file!r}")
        self.expect(f"{label}.frames[0].line ({src_file})", line,
                    fr.get("line"))

    def absent(self, what, entries, functions):
        for e in entries:
            names = [f.get("function") for f in e.get("frames") or []]
            bad = [fn for fn in functions if fn in names]
            if bad:
                self.fail(f"{what}: expected no entry with {bad} in its "
                          f"frames, got {brief(e)}")

    # --- scenarios --------------------------------------------------------

    def scenario(self, name):
        leaks = self.r.get("leaks") or []
        peak = self.r.get("peak") or {}
        if name in ("leaky", "peak", "short", "exits_mid", "static", "busy",
                    "placement") or name.startswith("fam_"):
            self.exact()
        if name in LEAKS:
            self.sites("leaks", leaks, LEAKS[name])
        if name in NOT_LEAKING:
            self.absent("leaks", leaks, NOT_LEAKING[name])
        if name in FAILED:
            self.expect("summary.failed_allocs", FAILED[name],
                        (self.r.get("summary") or {}).get("failed_allocs"))
        if name in PEAK:
            self.sites("peak.by_stack", peak.get("by_stack") or [],
                       PEAK[name])
            self.absent("peak.by_stack", peak.get("by_stack") or [],
                        ["after_peak"])
            total = sum(b for _, b in PEAK[name].values())
            pb = peak.get("bytes")
            if not isinstance(pb, int) or pb < total:
                self.fail(f"peak.bytes: expected >= {total}, got {pb!r}")
            summary = self.r.get("summary") or {}
            self.expect("peak.bytes (vs summary.peak_bytes)",
                        summary.get("peak_bytes"), pb)
            self.expect("peak.ns (vs summary.peak_ns)",
                        summary.get("peak_ns"), peak.get("ns"))
        if name == "leaky":
            summary = self.r.get("summary") or {}
            fa = summary.get("failed_allocs")
            if not isinstance(fa, int) or fa < 1:
                self.fail(f"summary.failed_allocs: expected >= 1 "
                          f"(realloc to SIZE_MAX/2), got {fa!r}")
            # glibc 2.36 defines aligned_alloc at memalign's address, and
            # one address is one probe, so either name may label it.
            self.probed(["malloc", "calloc", "realloc", "free",
                         "posix_memalign", "aligned_alloc|memalign"])
        if name == "busy":
            # Attached mid-call: no later call may look nested in it.
            kernel = self.r.get("kernel") or {}
            self.expect("kernel.nested_calls (busy nests no calls)", 0,
                        kernel.get("nested_calls"))
        if name == "placement":
            self.moved_probes()
        if name == "alloc":
            summary = self.r.get("summary") or {}
            n = summary.get("allocs")
            if not isinstance(n, int) or n < LEAKY_ALLOC_CALLS:
                self.fail(f"summary.allocs: expected >= {LEAKY_ALLOC_CALLS} "
                          f"(leaky's allocation calls), got {n!r}")
            self.expect("summary.frees (--mode=alloc probes no free)", 0,
                        summary.get("frees"))

    def moved_probes(self):
        """free sits past its NULL check on glibc 2.36; elsewhere at 0."""
        for p in self.r.get("probes") or []:
            if p.get("symbol") == "free" and p.get("func_offset", 0) > 0:
                return
        if "libc.so.6" in json.dumps(self.r.get("probes")):
            self.fail("probes: expected free probed past offset 0 "
                      "(its NULL check), got none")

    def probed(self, names):
        """Each name (an ERE of aliases) labels a probe symbol."""
        probes = self.r.get("probes") or []
        symbols = " ".join(str(p.get("symbol")) for p in probes)
        for n in names:
            if not re.search(rf"(^|[^A-Za-z0-9_])({n})([^A-Za-z0-9_]|$)",
                             symbols):
                self.fail(f"probes: expected a probe on {n}, got symbols "
                          f"{sorted(set(p.get('symbol') for p in probes))}")


def frame0(entry):
    frames = entry.get("frames") or []
    return frames[0].get("function") if frames else None


def brief(entry):
    """An entry in one short line: count/bytes and its frame functions."""
    frames = entry.get("frames") or []
    names = [f.get("function") or str(f.get("addr")) for f in frames[:6]]
    more = "..." if len(frames) > 6 else ""
    return (f"{{count={entry.get('count')} bytes={entry.get('bytes')} "
            f"frames={'<'.join(map(str, names))}{more}}}")


def site_lines(src_dir):
    """NAME -> (file, line) for every "@site NAME" marker in src_dir."""
    out = {}
    if not src_dir or not os.path.isdir(src_dir):
        return out
    marker = re.compile(r"@site\s+(\w+)")
    for fname in sorted(os.listdir(src_dir)):
        if not re.search(r"\.(c|cc)(\.in)?$", fname):
            continue
        with open(os.path.join(src_dir, fname), encoding="utf-8") as f:
            for lineno, text in enumerate(f, 1):
                m = marker.search(text)
                if m:
                    # A .c.in is compiled under its own name with .c.
                    out[m.group(1)] = (re.sub(r"\.in$", "", fname), lineno)
    return out


def bpf_usable():
    """Load a two-instruction kprobe program: the kind of check that fails
    the same way the tool would (no CAP_BPF/CAP_PERFMON, BPF disabled, a
    seccomp filter), without needing the tool. Also the two kernel
    features every test relies on: BTF and the uprobe PMU."""
    import ctypes
    import struct

    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "no kernel BTF (/sys/kernel/btf/vmlinux is missing)"
    if not os.path.exists("/sys/bus/event_source/devices/uprobe/type"):
        return "the kernel has no uprobe PMU (CONFIG_UPROBE_EVENTS)"
    nr = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine)
    if nr is None:
        return f"unknown bpf(2) syscall number on {os.uname().machine}"
    insns = struct.pack("<BBhi", 0xb7, 0, 0, 0)    # r0 = 0
    insns += struct.pack("<BBhi", 0x95, 0, 0, 0)   # exit
    insn_buf = ctypes.create_string_buffer(insns)
    license_buf = ctypes.create_string_buffer(b"GPL")
    # union bpf_attr for BPF_PROG_LOAD: prog_type, insn_cnt, insns, license
    attr = struct.pack("<IIQQ", 2, 2, ctypes.addressof(insn_buf),
                       ctypes.addressof(license_buf)).ljust(128, b"\0")
    attr_buf = ctypes.create_string_buffer(attr, len(attr))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fd = libc.syscall(ctypes.c_long(nr), ctypes.c_long(5),     # PROG_LOAD
                      attr_buf, ctypes.c_uint(len(attr)))
    if fd < 0:
        err = ctypes.get_errno()
        return f"cannot load a kprobe program: {os.strerror(err)}"
    os.close(fd)
    return None


def bpf_call(cmd, attr):
    """bpf(2) with attr (bytes, padded to the kernel's union): the result
    and the attr as the kernel left it."""
    import ctypes

    nr = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
    buf = ctypes.create_string_buffer(attr.ljust(128, b"\0"), 128)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    ret = libc.syscall(ctypes.c_long(nr), ctypes.c_long(cmd), buf,
                       ctypes.c_uint(128))
    if ret < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return ret, buf.raw


def thread_slots(pid):
    """The tids owning a slot of the tool's threads map: its maps by id
    (from /proc/PID/fdinfo), the one named threads, every element read
    (its first 4 bytes: struct thread_slot's tid)."""
    import ctypes
    import struct

    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                m = re.search(r"^map_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if not m:
            continue
        map_fd, _ = bpf_call(14, struct.pack("<I", int(m.group(1))))
        try:
            info = ctypes.create_string_buffer(88)
            bpf_call(15, struct.pack("<IIQ", map_fd, 88,
                                     ctypes.addressof(info)))
            _, _, key_size, value_size, entries = \
                struct.unpack_from("<IIIII", info.raw)
            name = info.raw[24:40].split(b"\0")[0]
            if name != b"threads" or key_size != 4:
                continue
            tids = []
            value = ctypes.create_string_buffer(value_size)
            for k in range(entries):
                key = ctypes.create_string_buffer(struct.pack("<I", k))
                bpf_call(1, struct.pack("<IIQQ", map_fd, 0,
                                        ctypes.addressof(key),
                                        ctypes.addressof(value)))
                tid = struct.unpack_from("<I", value.raw)[0]
                if tid:
                    tids.append(tid)
            return sorted(tids)
        finally:
            os.close(map_fd)
    return None


MAX_DIFFS = 20


def differences(a, b, path, out):
    """Appends "path: live ..., replay ..." for each place a and b differ."""
    if len(out) >= MAX_DIFFS:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: live {a.get(k, '(absent)')!r}, "
                           f"replay {b.get(k, '(absent)')!r}")
            else:
                differences(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: live has {len(a)} entries, replay {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            differences(x, y, f"{path}[{i}]", out)
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: live {a!r}, replay {b!r}")


def same(live_path, replay_path):
    docs = []
    for p in (live_path, replay_path):
        try:
            with open(p, encoding="utf-8") as f:
                docs.append(msjson.resolve(json.load(f)))
        except (OSError, ValueError) as e:
            print(f"report {p}: expected valid JSON, got {e}")
            return 1
    out = []
    differences(docs[0], docs[1], "report", out)
    for line in out:
        print(line)
    return 1 if out else 0


def main():
    if sys.argv[1:2] == ["bpf-usable"]:
        why = bpf_usable()
        if why:
            print(why)
            return 1
        return 0
    if sys.argv[1:2] == ["thread-slots"] and len(sys.argv) == 3:
        try:
            tids = thread_slots(int(sys.argv[2]))
        except (OSError, ValueError) as e:
            print(f"thread slots of {sys.argv[2]}: {e}")
            return 1
        if tids is None:
            print(f"thread slots of {sys.argv[2]}: no map named threads")
            return 1
        print(" ".join(map(str, tids)))
        return 0
    if sys.argv[1:2] == ["same"] and len(sys.argv) == 4:
        return same(sys.argv[2], sys.argv[3])

    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=["leaky", "peak", "short", "exits_mid",
                                        "static", "any", "alloc", "busy",
                                        "placement"] +
                   [k for k in LEAKS if k.startswith("fam_")])
    p.add_argument("report")
    p.add_argument("--pid", type=int)
    p.add_argument("--exited", choices=["yes", "no"])
    p.add_argument("--exit-status", type=int)
    p.add_argument("--mode", default="default")
    p.add_argument("--object", help="basename of the target executable")
    p.add_argument("--max-duration", type=float)
    p.add_argument("--src", help="tests/targets, for @site line numbers")
    args = p.parse_args()
    args.site_lines = site_lines(args.src)

    try:
        with open(args.report, encoding="utf-8") as f:
            report = msjson.resolve(json.load(f))
    except (OSError, ValueError) as e:
        print(f"report {args.report}: expected valid JSON, got {e}")
        return 1
    if not isinstance(report, dict):
        print(f"report: expected a JSON object, got {type(report).__name__}")
        return 1

    c = Checker(report, args)
    c.common()
    c.scenario(args.scenario)
    for e in c.errors:
        print(e)
    return 1 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
