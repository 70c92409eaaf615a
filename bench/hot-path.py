#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Where memscope-bpf's time goes on the allocation hot path, measured.

    bench/hot-path.py --output .output/bench --tool .output/memscope-bpf \\
        [--workloads chain30,churn-nofp,redis:50000] [--rounds 5] \\
        [--ops 300000] \\
        [--results bench/RESULTS.md]

For each workload (the bench's binaries in --output, `make -C bench
build`), three measurements of the same loop:

1. ns per op (a malloc/free pair; a request of redis-benchmark to
   Debian's redis-server, bench/service.py), untraced, under the
   empty-probe floor and under memscope-bpf, --rounds interleaved
   rounds, medians.
2. The kernel's BPF run-time statistics (kernel.bpf_stats_enabled): ns
   per call of each of memscope-bpf's programs, and calls per op. A
   tail-called program (the walk) is timed inside its caller; the
   syscall tracepoints' programs run for every process's syscalls, so
   their calls are the host's.
3. Where the traced thread spends its CPU, by `perf record -e cpu-clock`
   on the workload alone (samples in its context: its own code, the traps,
   the probes, the BPF programs), under the floor and under memscope-bpf,
   each sample charged to a cost by the function it fell in: on-CPU ns
   per op by cost, and memscope-bpf less the floor. The statistics of
   step 2 are off here: they read the clock twice per program run.

The machine is shared: compare within one run, and read the load figures.
With --results, writes its section into that file between its markers
(run.py keeps it when it rewrites the rest).
"""
import argparse
import collections
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import sections

STATS = "/proc/sys/kernel/bpf_stats_enabled"
HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
READY = re.compile(r"^ready (\d+)(?: signal (\d+))?")

# Each sample's function to a cost; first match wins, the rest is the
# probe machinery (traps, uprobe and uretprobe dispatch), as in the floor.
COSTS = [
    ("user code (program, allocator)", None),
    ("BPF: stack walk (ms_walk_multi, trail_follow, walk_frame, "
     "cfi_step, rule_find)",
     r"bpf_prog_\w+_(ms_walk\w*|walk_\w+|trail_\w+|cfi_step|fp_step|"
     r"rule_find|row_search_step|map_search_step)$"),
    ("BPF: live table (live_insert, live_reclaim)",
     r"bpf_prog_\w+_live_\w+$"),
    ("BPF: syscall tracepoints (ms_sys_exit) and their "
     "dispatch", r"bpf_prog_\w+_ms_sys_\w+$|bpf_trace_run\d|"
     r"__bpf_trace_sys_\w+|__traceiter_sys_\w+|syscall_trace_enter|"
     r"syscall_exit_work|trace_sys_\w+|perf_syscall_\w+|"
     r"perf_call_bpf_\w+|trace_call_bpf|perf_trace_buf_\w+"),
    ("BPF: ms_free_enter", r"bpf_prog_\w+_ms_free_enter$"),
    ("BPF: ms_alloc_return", r"bpf_prog_\w+_ms_alloc_return$"),
    ("BPF: ms_alloc_enter", r"bpf_prog_\w+_ms_alloc_enter$"),
    ("stack copies (bpf_probe_read_user: copy_from_user_nofault, "
     "usercopy checks)", r"copy_from_user_nofault|bpf_probe_read_user|"
     r"__check_object_size|check_heap_object|is_vmalloc_addr|"
     r"__virt_addr_valid|__check_heap_object"),
    ("BPF helpers (pid, clock, cookie)", r"bpf_get_current_pid_tgid|"
     r"bpf_ktime_get_ns|ktime_get_mono_fast_ns|read_tsc|"
     r"bpf_get_attach_cookie\w*|pvclock_clocksource_read\w*|"
     r"kvm_clock_get_cycles|bpf_get_current_task\w*"),
    ("BPF: other programs", r"bpf_prog_"),
    ("probe machinery (traps, uprobe and uretprobe dispatch), other "
     "kernel", r""),
]


def progs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"],
                         capture_output=True, text=True, check=True).stdout
    return {p["id"]: p for p in json.loads(out)}


def workload_argv(out, wl, ops):
    """The workload's command line: the bench's binaries, or a service
    driven by bench/service.py (its server is traced, its driver
    signalled)."""
    if wl in ("redis", "sqlite"):
        return [PYTHON, os.path.join(HERE, "service.py"), wl, "-n",
                str(ops), "--wait"]
    return [os.path.join(out, wl), "-n", str(ops), "--wait"]


def run_once(argv, tracer, perf_out=None):
    """(ns per op, ops, {prog: (ns per call, calls)}) of one traced run."""
    w = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    m = READY.match(w.stdout.readline())
    if not m:
        sys.exit("hot-path: %s did not start" % argv[0])
    pid = int(m.group(1))
    go = int(m.group(2) or pid)
    before = set(progs())
    t = perf = None
    if tracer:
        t = subprocess.Popen(tracer + ["-p", str(pid)],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        said = []
        # "tracing pid N", or with -f (a set) "tracing the selected ...";
        # the empty-probe floor's own "floor: tracing pid N"
        for line in t.stderr:
            if re.match(r"(memscope-bpf|floor): tracing ", line):
                break
            said.append(line.strip())
        else:
            # The workload waits for its go: left alone it holds the
            # caller's pipes until someone kills it.
            w.kill()
            sys.exit("hot-path: %s ended before tracing: %s" %
                     (tracer[0], " / ".join(said[-3:]) or "no message"))
    time.sleep(0.3)
    start = {i: p for i, p in progs().items() if i not in before}
    if perf_out:
        perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock",
                                 "-F", "4999", "-p", str(pid), "-o",
                                 perf_out], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    os.kill(go, signal.SIGUSR1)
    out = w.stdout.read()
    w.wait()
    end = progs()
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    if t:
        t.send_signal(signal.SIGINT)
        t.stderr.read()
        t.wait()
    per = {}
    for i, p in start.items():
        runs = end.get(i, {}).get("run_cnt", 0) - p.get("run_cnt", 0)
        if runs > 0:
            ns = end[i].get("run_time_ns", 0) - p.get("run_time_ns", 0)
            per[p["name"]] = (ns / runs, runs)
    m = re.search(r"ops=(\d+) ns_per_op=([0-9.]+)", out)
    if not m:
        sys.exit("hot-path: %s printed no result" % argv[0])
    return float(m.group(2)), int(m.group(1)), per


def perf_costs(data, ops):
    """On-CPU ns per op by cost, from a cpu-clock perf record."""
    out = subprocess.run(["perf", "script", "-i", data, "-F",
                          "period,ip,sym,dso"], capture_output=True,
                         text=True).stdout
    pats = [(name, re.compile(p) if p is not None else None)
            for name, p in COSTS]
    ns = collections.Counter()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 2 or not f[0].isdigit():
            continue
        period, sym = int(f[0]), f[2] if len(f) > 3 else ""
        kernel = "kernel.kallsyms" in line or "[bpf_prog]" in line or \
            sym.startswith("bpf_prog_")
        for name, pat in pats:
            if pat is None:
                if not kernel:
                    ns[name] += period
                    break
            elif kernel and pat.search(sym):
                ns[name] += period
                break
    return {k: v / ops for k, v in ns.items()}


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def measure(out, tool, wl, rounds, ops):
    argv = workload_argv(out, wl, ops)
    floor = [os.path.join(out, "floor"), "-m", "default"]
    tracers = [("native", None), ("floor", floor), ("memscope-bpf", [tool])]
    times = collections.defaultdict(list)
    with open(STATS, "w") as f:
        f.write("0")
    for _ in range(rounds):
        for name, tracer in tracers:
            times[name].append(run_once(argv, tracer)[0])
    res = {"load_before": load(), "ns": {}, "range": {}}
    for name, _ in tracers:
        res["ns"][name] = statistics.median(times[name])
        res["range"][name] = (min(times[name]), max(times[name]))
    with open(STATS, "w") as f:
        f.write("1")
    try:
        _, res["ops"], res["progs"] = run_once(argv, [tool])
    finally:
        with open(STATS, "w") as f:
            f.write("0")
    res["perf"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, tracer in tracers[1:]:
            data = os.path.join(tmp, "perf.data")
            _, n, _ = run_once(argv, tracer, data)
            res["perf"][name] = perf_costs(data, n)
    res["load_after"] = load()
    return res


def section(results, args):
    doc = ["## Where the hot path's time goes (bench/hot-path.py)", "",
           "Run of %s UTC: `bench/hot-path.py --workloads %s --rounds "
           "%d%s`. ns per op (a malloc/free pair; for redis a request); "
           "medians of %d interleaved "
           "rounds (min–max). The machine is shared and was loaded: "
           "compare within a workload's rows." % (
               time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
               args.workloads, args.rounds,
               " --ops %d" % args.ops if any(":" not in w for w in
                                             args.workloads.split(","))
               else "", args.rounds), ""]
    for wl, r in results.items():
        ns, rg = r["ns"], r["range"]
        doc += ["### %s" % wl, "",
                "Load average before / after: %s / %s." % (
                    r["load_before"], r["load_after"]), "",
                "| | ns per op | × floor |", "|---|---:|---:|"]
        for name in ("native", "floor", "memscope-bpf"):
            doc.append("| %s | %s (%s–%s) | %s |" % (
                name, "{:,.0f}".format(ns[name]),
                "{:,.0f}".format(rg[name][0]), "{:,.0f}".format(rg[name][1]),
                "%.2f" % (ns[name] / ns["floor"]) if name != "native"
                else "—"))
        doc += ["", "BPF run-time statistics, memscope-bpf (one run):", "",
                "| program | ns per call | calls per op |",
                "|---|---:|---:|"]
        ops = r["ops"]
        for name, (per, runs) in sorted(r["progs"].items(),
                                        key=lambda kv: -kv[1][0] * kv[1][1]):
            doc.append("| %s | %s | %.2f |" % (name, "{:,.0f}".format(per),
                                                runs / ops))
        doc += ["", "ms_sys_exit runs at the exits of mmap, munmap, "
                "mremap, brk and execve of every process on the host: "
                "its calls count other processes' too."]
        fl, ms = r["perf"]["floor"], r["perf"]["memscope-bpf"]
        tf, tm = sum(fl.values()), sum(ms.values())
        doc += ["", "On-CPU time of the traced thread by cost (perf "
                "cpu-clock samples; one run each, statistics off):", "",
                "| cost | floor | memscope-bpf | memscope-bpf − floor | "
                "share of the difference |", "|---|---:|---:|---:|---:|"]
        for name, _ in COSTS:
            a, b = fl.get(name, 0.0), ms.get(name, 0.0)
            if a < 0.5 and b < 0.5:
                continue
            doc.append("| %s | %s | %s | %s | %s |" % (
                name, "{:,.0f}".format(a), "{:,.0f}".format(b),
                "{:+,.0f}".format(b - a),
                "%.0f%%" % (100 * (b - a) / (tm - tf)) if tm > tf else "—"))
        doc += ["| all | %s | %s | %s | |" % (
            "{:,.0f}".format(tf), "{:,.0f}".format(tm),
            "{:+,.0f}".format(tm - tf)), ""]
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", required=True, help="bench build dir")
    ap.add_argument("--tool", required=True, help="memscope-bpf binary")
    ap.add_argument("--workloads", default="chain30,churn-nofp,redis:50000",
                    help="NAME[:OPS],...: bench binaries, or redis")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--ops", type=int, default=300000)
    ap.add_argument("--results", help="RESULTS.md to write the section in")
    args = ap.parse_args()
    results = {}
    for item in args.workloads.split(","):
        wl, _, ops = item.partition(":")
        results[wl] = measure(args.output, args.tool, wl, args.rounds,
                              int(ops) if ops else args.ops)
    lines = section(results, args)
    print("\n".join(lines))
    if args.results:
        sections.write(args.results, "hot-path.py", lines)


if __name__ == "__main__":
    main()
