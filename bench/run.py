#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The benchmark runner behind `make bench`.

Runs every tool on every workload in one go, the fast cells three times,
interleaved so that a noisy neighbour hits every tool alike, and writes
bench/RESULTS.md plus the raw data (results.json) and one directory of logs
per run under --output.

Workloads time themselves (only their loop), so a tool's start-up, attach
and report never enter ns per op. BPF tools attach with -p to a workload
started with --wait: the runner waits for the workload's "ready", starts
the tool, waits for its attached line, then sends SIGUSR1. LD_PRELOAD and
valgrind tools wrap the workload's command line instead.

Python standard library only.
"""
import argparse
import atexit
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys

import growth
import sections
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
# "ready PID": trace PID, then signal it; "ready PID signal DRIVER": trace
# PID (a service), signal its driver (bench/service.py).
READY_RE = re.compile(r"^ready (\d+)(?: signal (\d+))?")
RESULT_RE = re.compile(r"^bench: (.*)$")
PROBED_RE = re.compile(r"^probed (\d+)")
# Bounds that only matter when something hangs.
READY_TIMEOUT = 30
ATTACH_TIMEOUT = 120
RUN_TIMEOUT = 600
TOOL_EXIT_TIMEOUT = 60
# How long the attach workload runs traced before it is ended.
ATTACH_SETTLE = 0.5
# Runs of each repeated tool on the stack workloads (Workload.reps).
STACK_REPS = 7
ATTACH_REPS = 5
# How long memscope-bpf traces the busy target.
BUSY_SECONDS = 1


def mono_ns():
    """CLOCK_MONOTONIC, the clock bpf_ktime_get_ns() and the workloads use."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class Stream:
    """Reads a pipe on a thread: timestamped lines, also teed to a log."""

    def __init__(self, pipe, log_path):
        self.lines = []
        self.closed = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run,
                                       args=(pipe, log_path), daemon=True)
        self.thread.start()

    def _run(self, pipe, log_path):
        with open(log_path, "w") as log:
            for raw in iter(pipe.readline, b""):
                t = mono_ns()
                line = raw.decode(errors="replace").rstrip("\n")
                log.write(line + "\n")
                log.flush()
                with self.cond:
                    self.lines.append((t, line))
                    self.cond.notify_all()
        pipe.close()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, regex, timeout):
        """(time_ns, match) of the first matching line, or None."""
        deadline = time.monotonic() + timeout
        i = 0
        with self.cond:
            while True:
                for t, line in self.lines[i:]:
                    m = regex.search(line)
                    if m:
                        return t, m
                i = len(self.lines)
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    return None
                self.cond.wait(left)

    def text(self, timeout=10):
        self.thread.join(timeout)
        with self.cond:
            return "\n".join(line for _, line in self.lines)


def reap(proc, timeout):
    """wait4() a child with a timeout: (status, rusage), or None.

    wait4 rather than Popen.wait: the rusage is where peak RSS comes from
    (ru_maxrss: the largest of the process and of its reaped descendants).
    """
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, ru
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)


def stop(proc, sig=signal.SIGINT, grace=15):
    """Asks a child to stop, then kills it: (status, rusage)."""
    if proc.returncode is not None:
        return None
    # os.kill, not Popen.send_signal: that polls, and a poll would reap
    # the child and lose its rusage.
    os.kill(proc.pid, sig)
    r = reap(proc, grace)
    if r is None:
        os.kill(proc.pid, signal.SIGKILL)
        r = reap(proc, 10)
    return r


_bystanders = []


def bystanders():
    """Two idle processes on the host's libc, started at first use and
    killed when the runner exits."""
    if not _bystanders:
        for _ in range(2):
            _bystanders.append(subprocess.Popen(["sleep", "86400"]))
        atexit.register(lambda: [p.kill() for p in _bystanders])
    return [p.pid for p in _bystanders]


def spawn(argv, rundir, name, env=None):
    """Starts a child with both outputs read into Streams and logged."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    out = Stream(proc.stdout, os.path.join(rundir, name + ".stdout"))
    err = Stream(proc.stderr, os.path.join(rundir, name + ".stderr"))
    with open(os.path.join(rundir, name + ".argv"), "w") as f:
        f.write(" ".join(argv) + "\n")
    return proc, out, err


def parse_result(stream):
    """The workload's "bench: k=v ..." line as a dict of floats, or None."""
    hit = stream.wait_for(RESULT_RE, 0)
    if not hit:
        return None
    return {k: float(v) for k, v in
            (kv.split("=", 1) for kv in hit[1].group(1).split())}


def slug(name):
    """A tool name as a directory name: "floor --mode=alloc" -> floor-mode-alloc."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def dig(obj, path):
    for key in path.split("."):
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


@dataclass
class Workload:
    name: str
    title: str
    unit: str                   # what one op is
    base_n: int                 # ops for a scale-1 tool
    argv: Callable              # (n, wait) -> argv
    env: dict = field(default_factory=dict)
    only: Optional[set] = None  # the tools that run it, None: all
    # (n, launcher argv) -> argv: where a wrap tool's launcher goes when
    # it is not the whole command (a service under its driver); None:
    # in front of argv(n, False)
    wrap: Optional[Callable] = None
    # Runs of each repeated tool here, if more than its reps: a row whose
    # ratio is a target moves ±0.15 × the floor from one run to the next
    # on this shared machine, so its median takes more runs.
    reps: int = 0


@dataclass
class Tool:
    name: str
    kind: str                   # native | attach | wrap
    # attach: (pid, rundir, workload) -> argv; wrap: (argv, rundir) -> argv
    cmd: Optional[Callable] = None
    attached: Optional[re.Pattern] = None
    attached_on: str = "stderr"
    settle: float = 0.0         # seconds between attached line and go
    interrupt: bool = False     # must be told to stop after the target ends
    scale: float = 1.0          # fraction of the workload's base_n
    reps: int = 1
    lost: Optional[Callable] = None  # (rundir, stdout, stderr) -> dict
    floor: Optional[str] = None  # the floor with the same probe plan
    rss_of: str = "tool"        # tool | tree (wrapper + traced program)
    # the workloads it runs, None: all (those whose `only` takes it)
    workloads: Optional[set] = None


def memscope_lost(rundir, out, err):
    """Lost records as memscope-bpf's JSON report counts them."""
    path = os.path.join(rundir, "out.json")
    try:
        with open(path) as f:
            rep = json.load(f)
    except (OSError, ValueError) as e:
        return {"lost_error": "no readable report %s: %s" % (path, e)}
    kernel, total = dig(rep, "kernel.lost_events"), dig(rep,
                                                        "summary.lost_events")
    if not isinstance(kernel, int):
        return {"lost_error": "report has no kernel.lost_events"}
    # summary.lost_events is the kernel's count plus records the consumer
    # dropped: adding both would count the kernel's twice.
    lost = total if isinstance(total, int) and total >= kernel else kernel
    return {"lost": lost, "lost_kernel": kernel,
            "allocs": dig(rep, "kernel.allocs"),
            "nested_calls": dig(rep, "kernel.nested_calls"),
            "probes": dig(rep, "probes"),
            "frames_per_alloc": frames_per_alloc(rep),
            "stack_stops": dig(rep, "kernel.stack_stops")}


def frames_per_alloc(rep):
    """Mean frames of the stacks the allocations carried, from sites[]."""
    sites = rep.get("sites") if isinstance(rep, dict) else None
    if not isinstance(sites, list):
        return None
    n = sum(s.get("alloc_count") or 0 for s in sites)
    frames = sum((s.get("alloc_count") or 0) * len(s.get("frames") or [])
                 for s in sites)
    return frames / n if n else None


def bpftrace_lost(rundir, out, err):
    """bpftrace says "Lost N events" when its output buffer overflows."""
    n = sum(int(m) for m in re.findall(r"Lost (\d+) events", out + err))
    res = {"lost": n}
    # get_stackid without REUSE_STACKID fails on a hash collision: the
    # allocation is still counted, under a stack that cannot be printed.
    bad = len(re.findall(r"failed to look up stack id", err))
    if bad:
        res["note"] = ("%d @stacks keys were stack-id errors (collisions in "
                       "its stack map), printed without a stack" % bad)
    return res


def floor_probes(err):
    """The probe plan the floor printed with -v, as comparable tuples."""
    return sorted(set(re.findall(
        r"^floor: probe (entry|return) +(\S+)\+\d+ \(offset (0x[0-9a-f]+)\) in (\S+),",
        err, re.M)))


def memscope_probes(probes):
    if not isinstance(probes, list):
        return None
    plan = set()
    for p in probes:
        # listed with why it is not probed (a wrapper counted at the
        # function it forwards to): no probe, as in the floor's plan
        if p.get("probed") is False:
            continue
        off = p.get("offset")
        kind = "return" if p.get("is_return") or p.get("return") else "entry"
        if isinstance(off, int):
            off = hex(off)
        plan.add((kind, str(p.get("symbol")), str(off), str(p.get("object"))))
    return sorted(plan)


def malloc_of(pid):
    """The object whose malloc a process calls: the path bpftrace has to
    probe. An allocator library it links (redis-server: jemalloc) comes
    before libc in the search order, so it wins."""
    # A process caught in its exec (sqlite's, once) maps nothing yet:
    # its maps are read again for a while before giving up.
    for _ in range(50):
        libc = None
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                path = line.split(None, 5)[-1].strip()
                if re.search(r"/lib(jemalloc|tcmalloc[^/]*|mimalloc)"
                             r"[.-][^/]*so", path):
                    return path
                if re.search(r"/libc[.-][^/]*so", path):
                    libc = path
        if libc is not None:
            return libc
        time.sleep(0.1)
    raise RuntimeError("pid %d maps no libc" % pid)


def mapped_objects(pid):
    with open("/proc/%d/maps" % pid) as f:
        paths = {line.split(None, 5)[5].strip() for line in f
                 if len(line.split(None, 5)) == 6}
    return sorted(p for p in paths if p.startswith("/"))


def run_cell(tool, wl, n, rundir):
    """Runs one tool on one workload once. Returns a dict of what it saw."""
    os.makedirs(rundir, exist_ok=True)
    res = {"tool": tool.name, "workload": wl.name, "n": n}
    env = dict(os.environ, **wl.env)
    if tool.kind in ("native", "wrap"):
        argv = wl.argv(n, False)
        if tool.kind == "wrap":
            argv = (wl.wrap(n, tool.cmd([], rundir)) if wl.wrap else
                    tool.cmd(argv, rundir))
        proc, out, err = spawn(argv, rundir, "run", env)
        r = reap(proc, RUN_TIMEOUT) or stop(proc, signal.SIGKILL)
        res["rc"] = proc.returncode
        res["rss_kb"] = r[1].ru_maxrss if r else None
        res["workload_rss_kb"] = res["rss_kb"]
        outt, errt = out.text(), err.text()
        wl_out = out
    else:
        wl_proc, wl_out, _ = spawn(wl.argv(n, True), rundir,
                                        "workload", env)
        ready = wl_out.wait_for(READY_RE, READY_TIMEOUT)
        if not ready:
            stop(wl_proc, signal.SIGKILL)
            res["error"] = "workload never printed ready"
            return res
        pid = int(ready[1].group(1))
        go = int(ready[1].group(2) or pid)
        t0 = mono_ns()
        proc, out, err = spawn(tool.cmd(pid, rundir, wl), rundir, "tool")
        hit = (err if tool.attached_on == "stderr" else out).wait_for(
            tool.attached, ATTACH_TIMEOUT)
        if not hit:
            stop(wl_proc, signal.SIGKILL)
            stop(proc)
            res["error"] = "tool never attached (rc %s): %s" % (
                proc.returncode, err.text()[-300:].replace("\n", " | "))
            return res
        res["attach_s"] = (hit[0] - t0) / 1e9
        time.sleep(tool.settle)
        os.kill(go, signal.SIGUSR1)
        wr = reap(wl_proc, RUN_TIMEOUT) or stop(wl_proc, signal.SIGKILL)
        res["workload_rss_kb"] = wr[1].ru_maxrss if wr else None
        res["workload_rc"] = wl_proc.returncode
        if tool.interrupt:
            time.sleep(0.2)
            r = stop(proc, signal.SIGINT, TOOL_EXIT_TIMEOUT)
        else:
            r = reap(proc, TOOL_EXIT_TIMEOUT)
            if r is None:
                res["tool_hung"] = True
                r = stop(proc)
                res["error"] = ("still running %d s after its target "
                                "exited; stopped with SIGINT" %
                                TOOL_EXIT_TIMEOUT)
        res["rc"] = proc.returncode
        res["rss_kb"] = r[1].ru_maxrss if r else None
        outt, errt = out.text(), err.text()
    res["result"] = parse_result(wl_out)
    if not res["result"]:
        res["error"] = "no result line from the workload (rc %s)" % (
            res.get("workload_rc", res.get("rc")))
    elif res["rc"] != 0 and not res.get("tool_hung"):
        res["error"] = "%s exited with %s: %s" % (
            tool.name, res["rc"], errt.strip()[-300:].replace("\n", " | "))
    if tool.lost:
        res.update(tool.lost(rundir, outt, errt))
    if tool.name.startswith("floor"):
        res["plan"] = floor_probes(errt)
    return res


# ----------------------------------------------------------------------------
# The matrix

def make_workloads(out):
    def churn(binary):
        return lambda n, wait: ([binary, "-n", str(n)] +
                                (["--wait"] if wait else []))

    def pyobjs(n, wait):
        return ([PYTHON, os.path.join(BENCH_DIR, "pyobjs.py"), "-n", str(n)] +
                (["--wait"] if wait else []))

    def syscalls(mode):
        return lambda n, wait: ([os.path.join(out, "syscalls"), "-m", mode,
                                 "-n", str(n)] + (["--wait"] if wait else []))

    syscall_tools = {"native", "memscope-bpf", "memscope-bpf --mode=alloc"}
    def service(name):
        base = [PYTHON, os.path.join(BENCH_DIR, "service.py"), name,
                "--xol", os.path.join(out, "libxolcount.so")]
        return {"argv": lambda n, wait: base + ["-n", str(n)] +
                (["--wait"] if wait else []),
                "wrap": lambda n, prefix: base + ["-n", str(n), "--prefix"] +
                prefix}

    # The stack workloads: what unwinding costs on code built without
    # frame pointers, against the floor and the bpftrace script.
    stacks = {"native", "floor", "floor + one stack read", "memscope-bpf",
              "bpftrace"}
    services = {"native", "floor", "memscope-bpf", "memscope-bpf --mode=alloc",
                "bpftrace", "heaptrack"}
    return [
        Workload("churn", "churn: one thread, malloc/free pairs",
                 "malloc/free pair", 2_000_000,
                 churn(os.path.join(out, "churn"))),
        Workload("churn-nofp", "churn-nofp: churn built without frame "
                 "pointers (gcc -O2)", "malloc/free pair", 2_000_000,
                 churn(os.path.join(out, "churn-nofp")), only=stacks,
                 reps=STACK_REPS),
        Workload("chain30", "chain30: churn at the bottom of a 30-function "
                 "chain, without frame pointers", "malloc/free pair",
                 2_000_000, churn(os.path.join(out, "chain30")),
                 only=stacks, reps=STACK_REPS),
        Workload("churn2", "churn2: two threads, malloc/free pairs",
                 "malloc/free pair, per thread", 1_000_000,
                 churn(os.path.join(out, "churn2"))),
        # The syscall tracepoints fire on every syscall: a syscall-heavy
        # loop traced and not, and the anonymous-memory path per mmap.
        Workload("getppid", "getppid: one getppid() per op (the "
                 "syscall tracepoints' filter)", "syscall", 2_000_000,
                 syscalls("getppid"), only=syscall_tools),
        Workload("mmap", "mmap: an anonymous page mapped, touched and "
                 "unmapped per op", "mmap + munmap", 500_000,
                 syscalls("mmap"), only=syscall_tools),
        Workload("python", "python3 (PYTHONMALLOC=malloc) building and "
                 "dropping objects", "loop iteration", 20_000, pyobjs,
                 {"PYTHONMALLOC": "malloc"}),
        # Debian's services as they ship: redis-server allocates through
        # Debian's jemalloc, sqlite3 through libc.
        Workload("redis", "redis: Debian's redis-server (jemalloc) under "
                 "redis-benchmark, SET, GET and LPUSH of 64-byte values, "
                 "50 clients (bench/service.py)", "request", 200_000,
                 only=services, **service("redis")),
        Workload("sqlite", "sqlite: Debian's sqlite3 on an in-memory "
                 "database: insert, index, group, update, delete "
                 "(bench/service.py)", "row", 200_000, only=services,
                 **service("sqlite")),
    ]


def make_tools(out, tool_bin):
    floor_bin = os.path.join(out, "floor")

    def floor(mode, *extra):
        return lambda pid, rundir, wl: [floor_bin, "-v", "-m", mode,
                                        *extra, "-p", str(pid)]

    # Not -q: its "tracing pid N" line on stderr (a pipe here, so no
    # status line is drawn) says when the probes are in.
    def memscope(mode):
        return lambda pid, rundir, wl: [tool_bin, "-p", str(pid),
                                        "--mode=" + mode, "-o",
                                        os.path.join(rundir, "out.json")]

    def bpftrace(pid, rundir, wl):
        return ["bpftrace", "-p", str(pid),
                os.path.join(BENCH_DIR, "outstanding.bt"), str(pid),
                malloc_of(pid)]

    def heaptrack(argv, rundir):
        return ["heaptrack", "-o", os.path.join(rundir, "heaptrack")] + argv

    def massif(argv, rundir):
        return ["valgrind", "--tool=massif",
                "--massif-out-file=" + os.path.join(rundir, "massif.out")] + argv

    ms_attached = re.compile(r"tracing pid \d+")

    # System-wide (issue 11): the workload in a traced set (-p PID -f,
    # the set's hash lookup on every probe), and the workload left out
    # of a set selected by name, whose probes still trap in it: what
    # every process on the host pays while -a runs.
    def memscope_set(pid, rundir, wl):
        return [tool_bin, "-p", str(pid), "-f", "-o",
                os.path.join(rundir, "out.json")]

    def memscope_other(pid, rundir, wl):
        return [tool_bin, "-a", "--comm", "msbench-other", "-o",
                os.path.join(rundir, "out.json")]

    # -p A,B links each object once per listed pid (uprobe_multi's pid
    # filter): a process outside the list, the workload here, should pay
    # nothing, while -a --comm pays every probe's trap. A and B are two
    # sleeps on the same libc as the workload.
    def memscope_pids(pid, rundir, wl):
        a, b = bystanders()
        return [tool_bin, "-p", "%d,%d" % (a, b), "-o",
                os.path.join(rundir, "out.json")]

    set_attached = re.compile(r"tracing the selected processes")
    return [
        Tool("native", "native", reps=3),
        Tool("floor", "attach", floor("default"),
             re.compile(r"^floor: tracing pid \d+"), scale=0.5, reps=3,
             floor="floor"),
        # The least a stack costs: one 8-byte user read per allocation.
        Tool("floor + one stack read", "attach", floor("default", "-r"),
             re.compile(r"^floor: tracing pid \d+"), scale=0.5, reps=3,
             floor="floor"),
        Tool("floor --mode=alloc", "attach", floor("alloc"),
             re.compile(r"^floor: tracing pid \d+"), scale=0.5, reps=3,
             floor="floor --mode=alloc"),
        Tool("memscope-bpf", "attach", memscope("default"), ms_attached,
             scale=0.5, reps=3, lost=memscope_lost, floor="floor"),
        Tool("memscope-bpf --mode=alloc", "attach", memscope("alloc"),
             ms_attached, scale=0.5, reps=3, lost=memscope_lost,
             floor="floor --mode=alloc"),
        Tool("memscope-bpf -f (a traced set)", "attach", memscope_set,
             set_attached, scale=0.5, reps=3, lost=memscope_lost,
             floor="floor", workloads={"churn"}),
        Tool("untraced beside -a --comm other", "attach", memscope_other,
             set_attached, interrupt=True, scale=0.5, reps=3,
             workloads={"churn"}),
        Tool("untraced beside a -p list", "attach", memscope_pids,
             set_attached, interrupt=True, scale=0.5, reps=3,
             workloads={"churn"}),
        # "Attaching N probes..." comes before the probes are live: the
        # script's BEGIN prints this line once they are. 1 s more for luck.
        Tool("bpftrace", "attach", bpftrace, re.compile(r"^tracing pid \d+"),
             attached_on="stdout", settle=1.0, interrupt=True, scale=0.05,
             reps=3, lost=bpftrace_lost, floor="floor"),
        # Peers run as often as memscope-bpf does: the "× faster than
        # bpftrace" targets are a ratio of two medians, not of one run.
        Tool("heaptrack", "wrap", heaptrack, scale=0.5, reps=3,
             floor="floor", rss_of="tree"),
        Tool("valgrind massif", "wrap", massif, scale=0.25, reps=3,
             floor="floor", rss_of="tree"),
    ]


def run_matrix(tools, workloads, args, logdir):
    """Every cell; the fast tools' repetitions in interleaved rounds."""
    cells = {}
    def reps_of(tool, wl):
        reps = max(tool.reps, wl.reps) if tool.reps > 1 else tool.reps
        return reps if args.reps is None else min(reps, args.reps)

    for wl in workloads:
        rounds = max(reps_of(t, wl) for t in tools)
        for rnd in range(rounds):
            for tool in tools:
                reps = reps_of(tool, wl)
                if rnd >= reps or (wl.only is not None and
                                   tool.name not in wl.only) or (
                        tool.workloads is not None and
                        wl.name not in tool.workloads):
                    continue
                n = max(1, int(wl.base_n * tool.scale * args.scale))
                rundir = os.path.join(logdir, wl.name, "%s.%d" % (
                    slug(tool.name), rnd))
                t = time.monotonic()
                res = run_cell(tool, wl, n, rundir)
                res["seconds"] = time.monotonic() - t
                cells.setdefault((wl.name, tool.name), []).append(res)
                ns = (res.get("result") or {}).get("ns_per_op")
                print("bench: %-7s %-26s n=%-8d %s ns/op (%.1f s)%s" % (
                    wl.name, tool.name, n, fmt_ns(ns), res["seconds"],
                    "  ERROR: " + res["error"] if res.get("error") else ""),
                    file=sys.stderr, flush=True)
    return cells


def summarize(runs):
    """Median ns over good runs; worst lost count; largest peak RSS."""
    good = [r for r in runs if not r.get("error") and r.get("result")]
    s = {"runs": len(runs), "good": len(good), "n": runs[0]["n"],
         "errors": [r["error"] for r in runs if r.get("error")],
         "notes": sorted({r[k] for r in runs for k in ("note", "lost_error")
                          if r.get(k)})}
    if good:
        nss = [r["result"]["ns_per_op"] for r in good]
        s["ns"] = statistics.median(nss)
        s["loop_s"] = statistics.median(r["result"]["total_ns"] / 1e9
                                        for r in good)
        s["ns_min"], s["ns_max"] = min(nss), max(nss)
    lost = [r["lost"] for r in runs if isinstance(r.get("lost"), int)]
    s["lost"] = max(lost) if lost else None
    rss = [r["rss_kb"] for r in runs if r.get("rss_kb")]
    s["rss_kb"] = max(rss) if rss else None
    wrss = [r["workload_rss_kb"] for r in runs if r.get("workload_rss_kb")]
    s["workload_rss_kb"] = max(wrss) if wrss else None
    allocs = [r["allocs"] / r["n"] for r in good if r.get("allocs")]
    s["allocs_per_op"] = statistics.median(allocs) if allocs else None
    att = [r["attach_s"] for r in runs if "attach_s" in r]
    s["attach_s"] = statistics.median(att) if att else None
    depth = [r["frames_per_alloc"] for r in good
             if r.get("frames_per_alloc")]
    s["frames_per_alloc"] = statistics.median(depth) if depth else None
    stops = [r["stack_stops"] for r in good
             if isinstance(r.get("stack_stops"), dict)]
    s["stack_stops"] = stops[-1] if stops else None
    # A service's throughput per test (redis: set_rps=...), median.
    keys = {k for r in good for k in r["result"] if k.endswith("_rps")}
    s["rps"] = {k: statistics.median(r["result"][k] for r in good
                                     if k in r["result"])
                for k in sorted(keys)}
    # Instructions the kernel single-stepped in the process (services).
    xol = [r["result"]["xol_slots"] for r in good
           if "xol_slots" in r["result"]]
    s["xol_slots"] = max(xol) if xol else None
    # Probes placed where the kernel single-steps, from the reports, with
    # the reason; and the functions left unprobed (wrappers: the function
    # they reach counts their blocks), which are no probe at all.
    probes = [p for r in runs for p in (r.get("probes") or [])
              if isinstance(p, dict)]
    s["single_stepped"] = sorted({
        "%s %s+%d (%s)" % (os.path.basename(str(p.get("object"))),
                           p.get("symbol"), p.get("func_offset") or 0,
                           p.get("single_step_reason"))
        for p in probes
        if p.get("probed", True) and p.get("emulated") is False})
    s["unprobed"] = sorted({
        "%s %s (reaches only %s)" % (os.path.basename(str(p.get("object"))),
                                     p.get("symbol"), p.get("forwards_to"))
        for p in probes if p.get("probed") is False})
    return s


# ----------------------------------------------------------------------------
# Attach time on a process that maps many objects

def run_attach(tools, out, logdir, reps):
    dso_dir = os.path.join(out, "dso")
    results = {}
    for rnd in range(reps):
        for tool in tools:
            rundir = os.path.join(logdir, "attach", "%s.%d" % (
                slug(tool.name), rnd))
            os.makedirs(rundir, exist_ok=True)
            results.setdefault(tool.name, []).append(
                attach_once(tool, out, dso_dir, rundir))
    return results


def attach_once(tool, out, dso_dir, rundir):
    """Time to the attached line, and to the first probed call.

    Both from the runner's CLOCK_MONOTONIC just before it spawns the tool.
    The workload allocates every 1 ms and prints "probed <ns>" (same clock)
    when its malloc first carries a uprobe; the malloc right after that is
    the first event, so this is the first event to within 1 ms.
    """
    res = {}
    wl, wl_out, _ = spawn([os.path.join(out, "manyobj"), "--seconds", "120",
                           dso_dir], rundir, "workload")
    ready = wl_out.wait_for(READY_RE, READY_TIMEOUT)
    if not ready:
        stop(wl, signal.SIGKILL)
        return {"error": "manyobj never printed ready"}
    pid = int(ready[1].group(1))
    res["objects"] = len(mapped_objects(pid))
    t0 = mono_ns()
    proc, _, err = spawn(tool.cmd(pid, rundir, None), rundir, "tool")
    hit = err.wait_for(tool.attached, ATTACH_TIMEOUT)
    if hit:
        res["attach_s"] = (hit[0] - t0) / 1e9
        probed = wl_out.wait_for(PROBED_RE, 10)
        if probed:
            res["first_event_s"] = (int(probed[1].group(1)) - t0) / 1e9
        else:
            res["error"] = "the workload never saw its malloc probed"
        # Let some hundred mallocs through: the tool must record them.
        time.sleep(ATTACH_SETTLE)
    else:
        res["error"] = "never attached: " + err.text()[-300:]
    stop(wl, signal.SIGTERM)
    reap(proc, TOOL_EXIT_TIMEOUT) or stop(proc)
    res["rc"] = proc.returncode
    if proc.returncode:
        res["error"] = "exited with %s: %s" % (proc.returncode,
                                              err.text()[-300:])
    elif tool.lost and hit:
        # A probe that fires is not yet a recorded event: check the report.
        rep = tool.lost(rundir, "", "")
        res["recorded"] = rep.get("allocs")
        res["nested_calls"] = rep.get("nested_calls")
        if not rep.get("allocs"):
            # The probes fired but nothing was recorded: no first event.
            res["probed_s"] = res.pop("first_event_s", None)
            res["silent"] = True
            res["error"] = ("recorded no allocation in %.1f s of a malloc "
                            "per ms (kernel.allocs %s, kernel.nested_calls "
                            "%s)" % (ATTACH_SETTLE, rep.get("allocs"),
                                     rep.get("nested_calls")))
    return res


def run_busy(tools, out, logdir):
    """memscope-bpf attached to a process that is allocating all the time.

    Every cell above attaches to a workload parked at --wait; a real target
    keeps allocating while the probes go in one by one. This checks the
    tool records such a process at all.
    """
    results = {}
    for tool in tools:
        rundir = os.path.join(logdir, "busy", slug(tool.name))
        os.makedirs(rundir, exist_ok=True)
        # Far more pairs than a second holds: it is stopped, not finished.
        wl, _, _ = spawn([os.path.join(out, "churn"), "-n", str(10 ** 11)],
                         rundir, "workload")
        time.sleep(0.2)
        proc, _, err = spawn(tool.cmd(wl.pid, rundir, None) +
                             ["-d", str(BUSY_SECONDS)], rundir, "tool")
        reap(proc, ATTACH_TIMEOUT + BUSY_SECONDS) or stop(proc)
        stop(wl, signal.SIGKILL)
        res = {"rc": proc.returncode}
        rep = tool.lost(rundir, "", "")
        res.update({k: rep.get(k) for k in ("allocs", "nested_calls",
                                            "lost_error")})
        if proc.returncode:
            res["error"] = "exited with %s: %s" % (proc.returncode,
                                                  err.text()[-300:])
        results[tool.name] = res
    return results


def busy_section(busy):
    if not busy:
        return ["Not run."]
    doc = ["`bench/churn` already running (malloc/free as fast as it can, "
           "never parked), then `memscope-bpf -p PID -d %d`: the "
           "allocations it recorded (`kernel.allocs`) and the calls it "
           "counted as nested in another (`kernel.nested_calls`). One run "
           "per mode." % BUSY_SECONDS, "",
           "| tool | allocations recorded | nested calls | |",
           "|---|---:|---:|---|"]
    for name, r in busy.items():
        ok = bool(r.get("allocs")) and not r.get("error")
        doc.append("| %s | %s | %s | %s |" % (
            name, r.get("allocs"), r.get("nested_calls"),
            "ok" if ok else "**recorded nothing**" if not r.get("error")
            else "**failed**: " + r["error"].replace("\n", " ")))
    return doc


# ----------------------------------------------------------------------------
# The consumer and store replay benchmark

def run_replay(out, logdir):
    binary = os.path.join(out, "store-replay")
    src = os.path.join(BENCH_DIR, "store-replay.c")
    if not os.path.exists(src):
        return {"skipped": "bench/store-replay.c does not exist yet"}
    if not os.path.exists(binary):
        return {"skipped": "store-replay.c is there but did not build"}
    rundir = os.path.join(logdir, "store-replay")
    os.makedirs(rundir, exist_ok=True)
    proc, out_s, err_s = spawn([binary], rundir, "replay")
    r = reap(proc, RUN_TIMEOUT) or stop(proc, signal.SIGKILL)
    text = out_s.text() + "\n" + err_s.text()
    res = {"rc": proc.returncode, "output": text.strip(),
           "rss_kb": r[1].ru_maxrss if r else None}
    m = re.search(r"([\d.,]+)\s*(M?)\s*events/s", text)
    if m:
        res["events_per_s"] = float(m.group(1).replace(",", "")) * (
            1e6 if m.group(2) else 1)
    m = re.search(r"([\d.]+) bytes per (?:live )?block", text)
    if m:
        res["bytes_per_block"] = float(m.group(1))
    return res


def run_usdt_cost(out, tool_bin, logdir):
    """A memscope USDT probe's cost, untraced and under memscope-bpf -p."""
    binary = os.path.join(out, "usdt-cost")
    if not os.path.exists(binary):
        return {"skipped": "usdt-cost did not build"}
    rundir = os.path.join(logdir, "usdt-cost")
    os.makedirs(rundir, exist_ok=True)
    wl, wl_out, _ = spawn([binary, "--wait"], rundir, "workload")
    res = {}
    ready = wl_out.wait_for(re.compile(r"^ready (\d+)$"), RUN_TIMEOUT)
    if not ready:
        stop(wl, signal.SIGKILL)
        return {"skipped": "usdt-cost never became ready"}
    proc, _, err = spawn([tool_bin, "-p", ready[1].group(1)], rundir,
                         "tool")
    if err.wait_for(re.compile(r"tracing pid"), ATTACH_TIMEOUT):
        wl.send_signal(signal.SIGUSR1)
    reap(wl, RUN_TIMEOUT) or stop(wl, signal.SIGKILL)
    reap(proc, ATTACH_TIMEOUT) or stop(proc)
    for key in ("untraced_ns", "traced_ns"):
        hit = wl_out.wait_for(re.compile(r"^bench: .*\b%s=(-?[\d.]+).*"
                                         r"active=(\d)" % key), 0)
        if hit:
            res[key] = float(hit[1].group(1))
            res[key + "_active"] = int(hit[1].group(2))
    return res


# sizeof(struct ms_unwind_row), bpf/events.h: a row of the kernel's table.
UNWIND_ROW_BYTES = 16
UNWIND_OBJ_RE = re.compile(r"unwind table (\S+): (\d+) rows")
UNWIND_ALL_RE = re.compile(r"unwind tables: (\d+) objects, (\d+) of (\d+) "
                           r"rows used, (\d+) KiB of kernel memory")


def run_unwind_memory(tool_bin, logdir):
    """The unwind tables memscope-bpf loads for Debian's python3 (the
    interpreter, libc and the rest it maps), from its -v lines."""
    rundir = os.path.join(logdir, "unwind-memory")
    os.makedirs(rundir, exist_ok=True)
    proc, _, err = spawn([tool_bin, "-v", "-q", "-o",
                          os.path.join(rundir, "out.json"), "--", PYTHON,
                          "-c", "pass"], rundir, "tool")
    reap(proc, RUN_TIMEOUT) or stop(proc, signal.SIGKILL)
    text = err.text()
    objs = {path: int(rows) for path, rows in UNWIND_OBJ_RE.findall(text)}
    if proc.returncode or not objs:
        return {"skipped": "memscope-bpf -v printed no unwind tables "
                "(exit status %s)" % proc.returncode}
    res = {"objects": objs}
    m = UNWIND_ALL_RE.search(text)
    if m:
        res.update(zip(("nr_objects", "rows_used", "rows_cap", "kib"),
                       map(int, m.groups())))
    return res


PROG_ROLES = {
    "ms_alloc_enter": "allocation entry: arguments into the thread's slot",
    "ms_alloc_return": "allocation return: live table insert, counters, "
                       "clock, stack copy and walk, one ring record",
    "ms_free_enter": "free: live table lookup and retire, counters, "
                     "one ring record",
}

# Whose programs the statistics time: the empty floor, the floor with one
# user read per allocation return, and memscope-bpf.
PROG_RUNS = (("floor", ["-m", "default"]), ("floor + one stack read",
                                            ["-m", "default", "-r"]),
             ("memscope-bpf", []))


def prog_times(out, argv, rundir, name):
    """ns per run of each program named in PROG_ROLES while argv traces a
    churn, or None when it could not run."""
    wl, wl_out, _ = spawn([os.path.join(out, "churn"), "-n",
                           "1000000", "--wait"], rundir, name + "-workload")
    ready = wl_out.wait_for(re.compile(r"^ready (\d+)$"), RUN_TIMEOUT)
    if not ready:
        stop(wl, signal.SIGKILL)
        return None
    proc, _, err = spawn(argv + ["-p", ready[1].group(1)], rundir, name)
    costs = None
    if err.wait_for(re.compile(r"tracing pid"), ATTACH_TIMEOUT):
        wl.send_signal(signal.SIGUSR1)
        reap(wl, RUN_TIMEOUT) or stop(wl, signal.SIGKILL)
        progs = json.loads(subprocess.run(
            ["bpftool", "-j", "prog", "show"], capture_output=True,
            text=True).stdout or "[]")
        # The runs take turns: only this process's programs are loaded.
        costs = {}
        for p in progs:
            if p.get("name") in PROG_ROLES and p.get("run_cnt"):
                costs[p["name"]] = (p["run_cnt"],
                                    p["run_time_ns"] / p["run_cnt"])
    stop(wl, signal.SIGKILL)
    reap(proc, ATTACH_TIMEOUT) or stop(proc)
    return costs


def run_prog_costs(out, tool_bin, logdir):
    """ns per run of each program on churn, from the kernel's own BPF
    run-time statistics (kernel.bpf_stats_enabled), which time the program
    alone: the trap and uprobe dispatch around it are not in it."""
    stat = "/proc/sys/kernel/bpf_stats_enabled"
    rundir = os.path.join(logdir, "prog-costs")
    os.makedirs(rundir, exist_ok=True)
    try:
        with open(stat) as f:
            before = f.read().strip()
        with open(stat, "w") as f:
            f.write("1")
    except OSError as e:
        return {"skipped": "cannot enable BPF statistics: %s" % e}
    try:
        runs = {}
        for name, opts in PROG_RUNS:
            binary = tool_bin if name == "memscope-bpf" else \
                os.path.join(out, "floor")
            costs = prog_times(out, [binary] + opts, rundir,
                               name.replace(" ", "-"))
            if costs is None:
                return {"skipped": "%s did not trace churn" % name}
            runs[name] = costs
        return {"runs": runs}
    finally:
        with open(stat, "w") as f:
            f.write(before)


def prog_costs_section(pc):
    if "skipped" in pc:
        return ["Skipped: %s." % pc["skipped"]]
    runs = pc["runs"]
    names = [n for n, _ in PROG_RUNS]
    doc = ["The kernel's BPF run-time statistics on churn, for the empty "
           "floor's programs, the floor's with one 8-byte user-stack read "
           "per allocation return, and memscope-bpf's: each program's own "
           "time per run, without the trap and uprobe dispatch the floor "
           "measures. The statistics add a few tens of ns per run "
           "themselves (the empty programs show it), so compare columns: "
           "memscope-bpf less the floor is what its programs add.", "",
           "| program | " + " | ".join(names) + " | memscope-bpf does |",
           "|---|" + "---:|" * len(names) + "---|"]
    total = {n: 0.0 for n in names}
    for prog, role in PROG_ROLES.items():
        cells = []
        for n in names:
            if prog in runs[n]:
                total[n] += runs[n][prog][1]
                cells.append("{:,.0f}".format(runs[n][prog][1]))
            else:
                cells.append("—")
        doc.append("| %s | %s | %s |" % (prog, " | ".join(cells), role))
    doc.append("| per malloc/free pair | %s | |" % " | ".join(
        "{:,.0f}".format(total[n]) for n in names))
    fl, rd, ms = (total[n] for n in names)
    doc += ["", "memscope-bpf's programs add {:,.0f} ns per pair to the "
            "floor's; one user-stack read alone adds {:,.0f}.".format(
                ms - fl, rd - fl)]
    return doc


def usdt_section(u):
    if "skipped" in u:
        return ["Skipped: %s." % u["skipped"]]
    doc = ["`bench/usdt-cost` calls `MEMSCOPE_TRACK` in a loop: untraced "
           "(its semaphore down: one load and a branch), then traced by "
           "`memscope-bpf -p` (the uprobe on the 1-byte nop, the BPF program "
           "and one ring record). Per call, less the same loop without the "
           "probe.", "",
           "| | ns per probe call | semaphore raised |", "|---|---:|---|"]
    for key, label in (("untraced_ns", "untraced"),
                       ("traced_ns", "traced by memscope-bpf")):
        if key in u:
            # Untraced, the difference is below the loop's own noise and
            # may come out negative: it is shown as measured.
            doc.append("| %s | %s | %s |" % (
                label, "%.3f" % u[key] if u[key] < 10 else
                "{:,.0f}".format(u[key]),
                "yes" if u[key + "_active"] else "no"))
    return doc


# ----------------------------------------------------------------------------
# RESULTS.md

def fmt_ns(ns):
    if ns is None:
        return "—"
    return "{:,.0f}".format(ns) if ns >= 100 else "%.1f" % ns


def fmt_ratio(a, b):
    if a is None or not b:
        return "—"
    return "%.2f" % (a / b) if a / b < 100 else "%.0f" % (a / b)


def fmt_mib(kb):
    return "—" if kb is None else "%.1f MiB" % (kb / 1024)


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return {"nproc": os.cpu_count(), "kernel": os.uname().release,
            "cpu": model, "glibc": os.confstr("CS_GNU_LIBC_VERSION"),
            "loadavg": load}


def versions(tool_bin):
    def first_line(argv):
        try:
            p = subprocess.run(argv, capture_output=True, text=True,
                               timeout=20)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unavailable"

    git = subprocess.run(["git", "-C", BENCH_DIR, "describe", "--always",
                          "--dirty"], capture_output=True, text=True)
    return {"memscope-bpf": first_line([tool_bin, "--version"]) +
            " (tree %s)" % (git.stdout.strip() or "unknown"),
            "bpftrace": first_line(["bpftrace", "--version"]),
            "heaptrack": first_line(["heaptrack", "--version"]),
            "valgrind": first_line(["valgrind", "--version"]),
            "python3": first_line([PYTHON, "--version"])}


def workload_table(wl, tools, summ):
    native = summ.get((wl.name, "native"), {}).get("ns")
    lines = ["| tool | ns per op | × native | × floor | lost events | "
             "tool peak RSS | runs × ops (loop time) |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for tool in tools:
        s = summ.get((wl.name, tool.name))
        if not s:
            continue
        floor = summ.get((wl.name, tool.floor or "floor"), {}).get("ns")
        ns = s.get("ns")
        if tool.kind == "native":
            rss = "— (program alone: %s)" % fmt_mib(s["rss_kb"])
            lost = "—"
        else:
            rss = fmt_mib(s["rss_kb"])
            if tool.rss_of == "tree":
                rss += " †"
            lost = "—" if tool.lost is None else (
                str(s["lost"]) if s["lost"] is not None else "unknown")
            if tool.name.startswith("floor"):
                lost = "— (no events)"
        cell = fmt_ns(ns)
        if ns is not None and s["good"] > 1:
            cell += " (%s–%s)" % (fmt_ns(s["ns_min"]), fmt_ns(s["ns_max"]))
        if s["errors"]:
            cell += " ⚠ %d/%d runs failed" % (len(s["errors"]), s["runs"])
        name = tool.name if tool.floor in (None, "floor") else \
            "%s ‡" % tool.name
        lines.append("| %s | %s | %s | %s | %s | %s | %d × %s%s |" % (
            name, cell, fmt_ratio(ns, native),
            "—" if tool.kind == "native" else fmt_ratio(ns, floor), lost,
            rss, s["runs"], "{:,}".format(s["n"]),
            " (%.2f s)" % s["loop_s"] if "loop_s" in s else ""))
    return "\n".join(lines)


def verdict(ok):
    return "**met**" if ok else "**missed**"


def reading(workloads, summ, attach, busy):
    """The targets of issue 3, checked against this run's numbers."""
    out = []

    def ns(wl, tool):
        return summ.get((wl, tool), {}).get("ns")

    def elsewhere(num, den, fmt):
        """num / den on each workload after churn that has both cells."""
        return [fmt % (wl.name, ns(wl.name, num) / ns(wl.name, den))
                for wl in workloads[1:]
                if ns(wl.name, num) and ns(wl.name, den)]

    ms, fl = ns("churn", "memscope-bpf"), ns("churn", "floor")
    if ms and fl:
        r = ms / fl
        line = ("- memscope-bpf default ≤ 1.15 × floor on churn: %s — %.2f × "
                "(%s vs %s ns per pair, +%s ns over the floor)" % (
                    verdict(r <= 1.15), r, fmt_ns(ms), fmt_ns(fl),
                    fmt_ns(ms - fl)))
        if r > 1.15:
            line += ("; %.0f%% above the target: to meet it memscope-bpf "
                     "must stay under %s ns per pair here" % (
                         (r / 1.15 - 1) * 100, fmt_ns(1.15 * fl)))
        out.append(line + ".")
        rd = ns("churn", "floor + one stack read")
        if rd:
            out.append("  The floor with one 8-byte user-stack read per "
                       "allocation (the least a stack capture does) is "
                       "%.2f × the floor (+%s ns): that read alone spends "
                       "%.0f%% of the 15%% the target allows." % (
                           rd / fl, fmt_ns(rd - fl),
                           100 * (rd - fl) / (0.15 * fl)))
        others = elsewhere("memscope-bpf", "floor", "%s %.2f ×")
        if others:
            out.append("  On the other workloads (no target, for context): "
                       + ", ".join(others) + ".")
    else:
        out.append("- memscope-bpf ≤ 1.15 × floor on churn: **not measured** "
                   "(a cell failed, see the table).")

    bt = ns("churn", "bpftrace")
    if ms and bt:
        r = bt / ms
        line = "- ≥ 5 × faster than bpftrace on churn: %s — %.1f ×" % (
            verdict(r >= 5), r)
        if r < 5:
            line += ", %.0f%% short of 5 ×" % ((1 - r / 5) * 100)
        others = elsewhere("bpftrace", "memscope-bpf", "%s %.1f ×")
        if others:
            line += " (%s)" % ", ".join(others)
        out.append(line + ".")
        bound = bpftrace_bound(bt, ns("churn", "floor"))
        if bound:
            out.append("  " + bound)
        bounds = elsewhere("bpftrace", "floor", "%s %.1f ×")
        if bounds:
            out.append("  The same bound on the other workloads: "
                       + ", ".join(bounds) + ".")
    else:
        out.append("- ≥ 5 × faster than bpftrace: **not measured**.")

    bad, unknown, seen = [], [], 0
    for wl in workloads:
        for tool in ("memscope-bpf", "memscope-bpf --mode=alloc"):
            s = summ.get((wl.name, tool))
            if not s:
                continue
            seen += 1
            if s["lost"] is None:
                unknown.append("%s/%s" % (wl.name, tool))
            elif s["lost"]:
                bad.append("%s/%s: %d" % (wl.name, tool, s["lost"]))
    line = "- 0 lost events on every workload: %s" % (
        verdict(not bad and not unknown) if seen else "**not measured**")
    if bad:
        line += " — lost (worst run): " + "; ".join(bad)
    if unknown:
        line += " — no count available for " + ", ".join(unknown)
    out.append(line + ".")

    for i, tool in enumerate(("memscope-bpf", "memscope-bpf --mode=alloc")):
        runs = attach.get(tool, [])
        firsts = [r["first_event_s"] for r in runs if "first_event_s" in r]
        silent = sum(1 for r in runs if r.get("silent"))
        head = ("- attach < 1 s for a process mapping 100 objects (every "
                "run): " if i == 0 else "  The same for %s: " % tool)
        if firsts:
            line = head + "%s — first event after %.3f s (median of %d)" % (
                verdict(max(firsts) < 1 and not silent),
                statistics.median(firsts), len(firsts))
            if max(firsts) >= 1:
                line += ", worst %.3f s" % max(firsts)
            if silent:
                line += ("; in %d of %d runs it recorded no event at all "
                         "(see the attach table)" % (silent, len(runs)))
            out.append(line + ".")
        elif silent:
            out.append(head + "**missed** — it recorded no event in %d of "
                       "%d runs." % (silent, len(runs)))
        elif i == 0:
            out.append(head + "**not measured**.")
    silent = [name for name, r in busy.items() if not r.get("allocs")]
    if silent:
        out.append("- (not a target, a defect) attached to a process that "
                   "was already allocating, %s recorded no allocation at all "
                   "(see above)." % " and ".join(silent))
    out.extend(service_reading(summ))
    return "\n".join(out)


def service_reading(summ):
    """Issue 10's targets on redis, and the services' wall-time ratios."""
    out = []

    def get(wl, tool):
        return summ.get((wl, tool), {})

    nat, ms, bt = (get("redis", t) for t in ("native", "memscope-bpf",
                                              "bpftrace"))
    if nat.get("ns") and ms.get("ns"):
        share = nat["ns"] / ms["ns"]
        tests = ", ".join("%s %.2f" % (k[:-4].upper(),
                                       ms["rps"][k] / nat["rps"][k])
                          for k in ms.get("rps", {}) if nat["rps"].get(k))
        out.append("- redis: memscope-bpf default keeps ≥ 0.45 of the "
                   "untraced throughput: %s — %.2f (%s; %s requests/s "
                   "untraced, all tests)." % (
                       verdict(share >= 0.45), share, tests,
                       "{:,.0f}".format(1e9 / nat["ns"])))
    else:
        out.append("- redis: memscope-bpf default ≥ 0.45 of untraced "
                   "throughput: **not measured**.")
    if ms.get("ns") and bt.get("ns"):
        r = bt["ns"] / ms["ns"]
        out.append("- redis: ≥ 5 × the bpftrace script's throughput: %s — "
                   "%.1f ×." % (verdict(r >= 5), r))
    else:
        out.append("- redis: ≥ 5 × bpftrace's throughput: **not measured**.")
    if ms.get("xol_slots") is not None:
        steps = ms.get("single_stepped") or []
        unprobed = ms.get("unprobed") or []
        out.append("- redis: no single-stepped probe: %s — the server's "
                   "[uprobes] area held %d single-stepped instruction(s) "
                   "after the runs; probes placed on one (not necessarily "
                   "hit): %s%s." % (
                       verdict(ms["xol_slots"] == 0), ms["xol_slots"],
                       ", ".join(steps) if steps else "none",
                       "; not probed, their blocks counted by the function "
                       "they reach: " + ", ".join(unprobed)
                       if unprobed else ""))
    else:
        out.append("- redis: no single-stepped probe: **not measured**.")
    ratios = []
    for wl in ("sqlite", "python"):
        n = get(wl, "native").get("ns")
        cells = ["%s %.2f ×" % (t, get(wl, t)["ns"] / n) for t in
                 ("memscope-bpf", "memscope-bpf --mode=alloc", "bpftrace",
                  "heaptrack") if n and get(wl, t).get("ns")]
        if cells:
            ratios.append("%s: %s" % (wl, ", ".join(cells)))
    if ratios:
        out.append("  Wall time over untraced (no target, for context): " +
                   "; ".join(ratios) + ".")
    return out


def write_results(path, ctx):
    wls, tools, summ = ctx["workloads"], ctx["tools"], ctx["summary"]
    m, v = ctx["machine"], ctx["versions"]
    doc = ["# memscope-bpf benchmark results", "",
           "Generated by `make bench` (bench/run.py); do not edit by hand. "
           "Raw data and per-run logs: `.output/bench/results.json`, "
           "`.output/bench/runs/`.", "",
           "- date: %s" % ctx["date"],
           "- machine: %d CPUs, %s, kernel %s, %s" % (
               m["nproc"], m["cpu"], m["kernel"], m["glibc"]),
           "- load average before / after: %s / %s (a shared machine: "
           "compare ratios within this run, not with other runs)" % (
               m["loadavg"], ctx["load_after"]),
           "- command: `make bench`%s" % (
               "" if not ctx["args"] else " (runner options: `%s`)" %
               ctx["args"]),
           "- wall time: %.0f s" % ctx["wall"],
           "- versions: " + "; ".join(v.values()),
           "", "## How it is measured", "",
           "Each workload times only its own loop (CLOCK_MONOTONIC, or "
           "time.perf_counter in Python) and prints ns per op: tool start-up, "
           "attach and report are not in the figures. BPF tools attach with "
           "`-p` to the workload waiting at `--wait`; the runner sends "
           "SIGUSR1 once the tool says it is attached (bpftrace: 1 s after "
           "the script's BEGIN line, which comes after all its probes are "
           "attached; its `Attaching N probes...` line came up to 1.7 s "
           "before its malloc probe was live here). heaptrack (`heaptrack -o FILE CMD`) and "
           "massif (`valgrind --tool=massif`) wrap the command. Native, floor, "
           "memscope-bpf and the peers' cells are the median of 3 runs (%d "
           "on churn-nofp and chain30, whose ratios are issue 9's targets; "
           "min–max in brackets), run in interleaved rounds. The slow "
           "tools run fewer ops (column `runs × "
           "ops`, with the median run's total loop time); ns per op stays "
           "comparable because the loop is the same." % STACK_REPS,
           "",
           "- **floor**: `bench/floor.bpf.c`, empty programs with the real "
           "programs' names and section types, attached by the tool's own "
           "attach module (`attach__prepare`, `attach__new`, "
           "`attach__process` from libmemscope.a), so the probe plan "
           "(objects, offsets, entry and return) and the kind of link "
           "(uprobe_multi where the kernel has it) are exactly "
           "memscope-bpf's; the plans are compared at the end. ‡ rows compare with the "
           "`--mode=alloc` plan's floor (allocation entries only) instead.",
           "- **lost events**: memscope-bpf's `summary.lost_events` from its "
           "`-o` JSON (the ring buffer's `kernel.lost_events` plus records "
           "the consumer dropped), worst run; bpftrace: its `Lost N "
           "events` lines (its maps do not lose events but silently stop "
           "growing when full: default 4096 keys).",
           "- **tool peak RSS**: ru_maxrss of the tool process from wait4 "
           "(the largest of it and its reaped children), largest run. † "
           "heaptrack and massif run inside or around the traced program: "
           "their figure is the largest process of the tree, traced program "
           "included; the native row shows the program alone.",
           "- bpftrace 0.17 attaches its uprobes for every process on the "
           "machine (`-p` does not filter uprobes); the script filters with "
           "`pid == $1`, so other processes pay its traps too.",
           ""]
    doc.append("## Results by workload")
    for wl in wls:
        doc += ["", "### %s" % wl.title, "",
                "One op = one %s." % wl.unit]
        s = summ.get((wl.name, "memscope-bpf"))
        if wl.name == "python" and s and s.get("allocs_per_op"):
            doc[-1] += (" memscope-bpf counted %.0f allocations per "
                        "iteration (kernel.allocs / iterations)." %
                        s["allocs_per_op"])
        if wl.name == "churn2":
            doc[-1] += (" Each of the two threads does the ops; ns per op "
                        "is per pair per thread (mean over the threads of "
                        "loop time / pairs).")
        doc += ["", workload_table(wl, tools, summ)]
        errs = ["- %s: %s" % (t.name, e) for t in tools
                for e in summ.get((wl.name, t.name), {}).get("errors", [])]
        if errs:
            doc += ["", "Failures:", ""] + errs
        notes = ["- %s: %s" % (t.name, e) for t in tools
                 for e in summ.get((wl.name, t.name), {}).get("notes", [])]
        if notes:
            doc += ["", "Notes:", ""] + notes
    doc += ["", "## Attach time: a process that maps 100 objects", ""]
    doc += attach_section(ctx["attach"])
    doc += ["", "## Attaching to a process that is allocating", ""]
    doc += busy_section(ctx["busy"])
    doc += ["", "## Consumer and store replay (bench/store-replay.c)", "",
            "A generated allocator-like stream (a 10,000-block window, "
            "200 stacks of 8-20 frames, 5% reallocs) goes onto a record ring "
            "laid out as the kernel's; the timed part is the tool's drain: "
            "`ms_ring__consume()` handing each record to `store__apply()`, "
            "on one core. Memory is the store's own, per live block.", ""]
    doc += replay_section(ctx["replay"])
    doc += ["", "## Where memscope-bpf's time goes (BPF run-time statistics)",
            ""]
    doc += prog_costs_section(ctx["prog_costs"])
    doc += ["", "## USDT probe cost (bench/usdt-cost.c)", ""]
    doc += usdt_section(ctx["usdt"])
    doc += ["", "## Stacks without frame pointers (issue 9)", ""]
    doc += stacks_section(summ)
    doc += ["", "### Kernel memory of the unwind tables", ""]
    doc += unwind_memory_section(ctx["unwind_memory"])
    doc += ["", "## Against the targets of issue 3", "",
            reading(wls, summ, ctx["attach"], ctx["busy"]), ""]
    plan = ctx.get("plan_check")
    if plan:
        doc += ["## Probe plan check", "", plan, ""]
    doc += sections.wrap("growth.py", [growth.TITLE, ""] +
                         growth.section(ctx["growth"])) + [""]
    doc += sections.kept(path)
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(doc))
    os.replace(path + ".tmp", path)


def bpftrace_bound(bt, fl):
    """The most a tool on the floor's probe plan can gain over the bpftrace
    script in this run: no tool costs less than the empty floor."""
    if not bt or not fl:
        return None
    best = bt / fl
    line = ("Best possible vs bpftrace = bpftrace / floor = %.1f × in this "
            "run (%s / %s ns): memscope-bpf costs at least the floor, its "
            "empty programs on the same probes. " % (
                best, fmt_ns(bt), fmt_ns(fl)))
    if best < 5:
        return line + ("5 × is out of reach here whatever the programs do: "
                       "it would need memscope-bpf under %s ns, %s ns below "
                       "the floor." % (fmt_ns(bt / 5), fmt_ns(fl - bt / 5)))
    return line + ("5 × needs memscope-bpf at or under %s ns: at most %s ns "
                   "over the floor (%.2f × the floor)." % (
                       fmt_ns(bt / 5), fmt_ns(bt / 5 - fl), bt / 5 / fl))


def stacks_section(summ):
    """What unwinding costs: the frame-pointer-less workloads against their
    floor, per frame, and issue 9's targets."""
    def cell(wl, tool, key="ns"):
        return summ.get((wl, tool), {}).get(key)

    rows = []
    for wl in ("churn-nofp", "chain30"):
        fl, ms = cell(wl, "floor"), cell(wl, "memscope-bpf")
        depth = cell(wl, "memscope-bpf", "frames_per_alloc")
        rows.append((wl, fl, ms, depth))
    if not any(ms for _, _, ms, _ in rows):
        return ["Not run (the churn-nofp and chain30 workloads)."]
    doc = ["`bench/churn.c` built without frame pointers (`gcc -O2 -g`, as "
           "production code is): `churn-nofp`, and `chain30`, the same "
           "loop at the bottom of 30 more functions. **frames**: the mean "
           "frames per allocation's stack in memscope-bpf's report "
           "(`sites[].frames`, weighted by `alloc_count`). **over the "
           "floor**: memscope-bpf less the empty-probe floor, per pair. "
           "**per frame**: over the floor / frames; the last line is the "
           "marginal cost of a frame, chain30 against churn-nofp.", "",
           "| workload | frames | floor ns | memscope-bpf ns | × floor | "
           "over the floor | per frame |", "|---|---:|---:|---:|---:|---:|"
           "---:|"]
    for wl, fl, ms, depth in rows:
        over = ms - fl if ms and fl else None
        doc.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            wl, "%.1f" % depth if depth else "—", fmt_ns(fl), fmt_ns(ms),
            fmt_ratio(ms, fl), fmt_ns(over),
            fmt_ns(over / depth) if over is not None and depth else "—"))
    (_, fl0, ms0, d0), (_, fl1, ms1, d1) = rows
    if all((fl0, ms0, d0, fl1, ms1, d1)) and d1 > d0:
        doc += ["", "Marginal cost of a frame: %s ns (%s ns more over the "
                "floor for %.1f more frames)." % (
                    fmt_ns(((ms1 - fl1) - (ms0 - fl0)) / (d1 - d0)),
                    fmt_ns((ms1 - fl1) - (ms0 - fl0)), d1 - d0)]
    stops = cell("chain30", "memscope-bpf", "stack_stops")
    if stops:
        doc += ["", "Why chain30's stacks ended (kernel.stack_stops, last "
                "run): " + ", ".join("%s %s" % kv for kv in stops.items()
                                     if kv[0] != "source") + "."]
    doc += ["", "Targets (issue 9):", ""]
    for wl, limit in (("churn-nofp", 1.35), ("chain30", 1.8)):
        fl, ms = cell(wl, "floor"), cell(wl, "memscope-bpf")
        doc.append("- %s ≤ %.2f × the floor: %s" % (
            wl, limit, "%s — %.2f ×" % (verdict(ms / fl <= limit), ms / fl)
            if ms and fl else "**not measured**"))
    bt, ms = cell("chain30", "bpftrace"), cell("chain30", "memscope-bpf")
    doc.append("- chain30 ≥ 5 × faster than the bpftrace script: %s" % (
        "%s — %.1f ×" % (verdict(bt / ms >= 5), bt / ms) if bt and ms
        else "**not measured**"))
    bound = bpftrace_bound(bt, cell("chain30", "floor"))
    if bound:
        doc.append("  " + bound)
    lost = [cell(wl, "memscope-bpf", "lost") for wl, _, _, _ in rows]
    doc.append("- 0 lost events: %s" % (
        "**not measured**" if None in lost else
        "%s — %s" % (verdict(not any(lost)), ", ".join(map(str, lost)))))
    return doc


def unwind_memory_section(um):
    if "skipped" in um:
        return ["Skipped: %s." % um["skipped"]]
    doc = ["`memscope-bpf -v -- python3 -c pass`: the rows it loaded for "
           "each object python3 maps (its `unwind table PATH: N rows` "
           "lines), as kernel memory at %d bytes a row. The row array "
           "is made in 1 MiB chunks as objects load (%s of at most %s "
           "rows used here, %s KiB for every unwind map): an object's "
           "share is what it uses of it, once per build-id, whatever "
           "the number of processes that map it." % (
               UNWIND_ROW_BYTES, "{:,}".format(um.get("rows_used", 0)),
               "{:,}".format(um.get("rows_cap", 0)),
               "{:,}".format(um.get("kib", 0))), "",
           "| object | rows | bytes |", "|---|---:|---:|"]
    for path, rows in sorted(um["objects"].items(), key=lambda kv: -kv[1]):
        doc.append("| %s | %s | %s |" % (
            path, "{:,}".format(rows),
            "{:,}".format(rows * UNWIND_ROW_BYTES)))
    return doc


def attach_section(attach):
    if not attach:
        return ["Not run."]
    objs = [r["objects"] for runs in attach.values() for r in runs
            if "objects" in r]
    doc = ["`bench/manyobj` dlopen()s 100 generated shared objects (one C "
           "template, `bench/dso.c`, built 100 times), %s file-backed "
           "objects mapped in all, and mallocs+frees one block every 1 ms. "
           "**attached**: from just before the runner spawns `TOOL -p PID` "
           "to the tool's `tracing pid N` line on stderr (process start, BPF "
           "load, ELF scan of every mapped object, attach, and for "
           "memscope-bpf reading the maps for symbolization). **first "
           "event**: from the same start to the moment the workload first "
           "sees an int3 in its own malloc (it polls the first 32 bytes "
           "every 1 ms and prints a CLOCK_MONOTONIC time, the runner's "
           "clock): its next malloc, at most 1 ms later, is the first call "
           "the tracer sees. Measured in the target, so the same for every "
           "tool. (In default mode a record also needs malloc's return "
           "probe, which the attach module attaches before the entries; "
           "the last column checks that the tool did record.) Median of "
           "the runs, min–max in brackets." % (
               "/".join(str(o) for o in sorted(set(objs))) or "?"), "",
           "| tool | attached | first event | runs | runs that recorded "
           "nothing |", "|---|---:|---:|---:|---:|"]

    def span(vals):
        if not vals:
            return "—"
        med = statistics.median(vals)
        return "%.3f s (%.3f–%.3f)" % (med, min(vals), max(vals))

    notes = []
    for name, runs in attach.items():
        att = [r["attach_s"] for r in runs if "attach_s" in r]
        first = [r["first_event_s"] for r in runs if "first_event_s" in r]
        fe = span(first) if first else "not measured"
        silent = sum(1 for r in runs if r.get("silent"))
        doc.append("| %s | %s | %s | %d | %s |" % (
            name, span(att), fe, len(runs),
            "—" if name.startswith("floor") else str(silent)))
        for r in runs:
            if r.get("error"):
                notes.append("- %s: %s" % (name, r["error"]))
    if notes:
        doc += [""] + sorted(set(notes))
    return doc


def replay_section(rep):
    if "skipped" in rep:
        return ["Skipped: %s." % rep["skipped"]]
    doc = []
    if "events_per_s" in rep:
        doc.append("- events/s: %s (target ≥ 5,000,000 on one core: %s)" % (
            "{:,.0f}".format(rep["events_per_s"]),
            verdict(rep["events_per_s"] >= 5e6)))
    if "bytes_per_block" in rep:
        doc.append("- bytes per live block: %.1f (target ≤ 96: %s)" % (
            rep["bytes_per_block"], verdict(rep["bytes_per_block"] <= 96)))
    if rep.get("rc"):
        doc.append("- exited with %s" % rep["rc"])
    doc += ["", "Its output:", "", "```", rep["output"] or "(none)", "```"]
    return doc


def plan_check(cells):
    """Does the floor sit on exactly the probes memscope-bpf reported?"""
    lines = []
    for mode, fl, ms in (("default", "floor", "memscope-bpf"),
                         ("alloc", "floor --mode=alloc",
                          "memscope-bpf --mode=alloc")):
        fplan = next((r["plan"] for (w, t), runs in cells.items()
                      if t == fl for r in runs if r.get("plan")), None)
        mplan = next((memscope_probes(r["probes"]) for (w, t), runs in
                      cells.items() if t == ms for r in runs
                      if r.get("probes")), None)
        if not fplan:
            continue
        if mplan is None:
            lines.append("- %s: floor probes %d sites; memscope-bpf's report "
                         "lists no probes to compare with." % (mode,
                                                               len(fplan)))
        elif set(fplan) == set(mplan):
            lines.append("- %s: floor and memscope-bpf attach the same %d "
                         "probes (kind, symbol, file offset, object)." % (
                             mode, len(fplan)))
        else:
            lines.append("- %s: **the plans differ**: only floor %s; only "
                         "memscope-bpf %s." % (
                             mode, sorted(set(fplan) - set(mplan)),
                             sorted(set(mplan) - set(fplan))))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", required=True, help="bench build/output dir")
    ap.add_argument("--tool", required=True, help="memscope-bpf binary")
    ap.add_argument("--results", required=True, help="RESULTS.md to write")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply every op count (quick checks)")
    ap.add_argument("--reps", type=int, help="cap repetitions per cell")
    ap.add_argument("--tools", help="comma-separated tool names to run")
    ap.add_argument("--workloads", help="comma-separated workload names")
    ap.add_argument("--no-attach", action="store_true")
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("bench: needs root for the BPF tools", file=sys.stderr)
        return 1
    out = os.path.abspath(args.output)
    logdir = os.path.join(out, "runs")
    shutil.rmtree(logdir, ignore_errors=True)
    tools = make_tools(out, args.tool)
    workloads = make_workloads(out)
    if args.tools:
        keep = args.tools.split(",")
        tools = [t for t in tools if t.name in keep]
    if args.workloads:
        keep = args.workloads.split(",")
        workloads = [w for w in workloads if w.name in keep]
    for t in ("bpftrace", "heaptrack", "valgrind"):
        if not shutil.which(t):
            print("bench: %s is missing: scripts/install-deps.sh bench" % t,
                  file=sys.stderr)
            return 1

    start = time.monotonic()
    ctx = {"date": datetime.datetime.now(datetime.timezone.utc)
           .strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine(), "versions": versions(args.tool),
           "workloads": workloads, "tools": tools,
           "args": " ".join(opt for opt in (
               args.scale != 1 and "--scale %g" % args.scale,
               args.reps is not None and "--reps %d" % args.reps,
               args.tools and "--tools '%s'" % args.tools,
               args.workloads and "--workloads %s" % args.workloads,
               args.no_attach and "--no-attach") if opt)}
    cells = run_matrix(tools, workloads, args, logdir)
    ctx["summary"] = {k: summarize(v) for k, v in cells.items()}
    attach_tools = [t for t in tools if t.kind == "attach" and
                    not t.name.startswith("bpftrace")]
    ctx["attach"] = {} if args.no_attach else run_attach(
        attach_tools, out, logdir,
        ATTACH_REPS if args.reps is None else min(args.reps, ATTACH_REPS))
    ctx["busy"] = {} if args.no_attach else run_busy(
        [t for t in attach_tools if t.name.startswith("memscope")], out,
        logdir)
    ctx["replay"] = run_replay(out, logdir)
    ctx["usdt"] = run_usdt_cost(out, args.tool, logdir)
    ctx["prog_costs"] = run_prog_costs(out, args.tool, logdir)
    ctx["unwind_memory"] = run_unwind_memory(args.tool, logdir)
    ctx["plan_check"] = plan_check(cells)
    ctx["growth"] = growth.measure(
        args.tool, os.path.join(os.path.dirname(os.path.abspath(args.tool)),
                                "targets", "growth"), logdir)
    with open("/proc/loadavg") as f:
        ctx["load_after"] = " ".join(f.read().split()[:3])
    ctx["wall"] = time.monotonic() - start

    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"cells": [r for runs in cells.values() for r in runs],
                   "summary": {"%s/%s" % k: v for k, v in
                               ctx["summary"].items()},
                   "attach": ctx["attach"], "busy": ctx["busy"],
                   "replay": ctx["replay"], "usdt": ctx["usdt"],
                   "prog_costs": ctx["prog_costs"],
                   "unwind_memory": ctx["unwind_memory"],
                   "machine": ctx["machine"], "versions": ctx["versions"]},
                  f, indent=1, default=str)
    write_results(args.results, ctx)
    print("bench: wrote %s (%.0f s)" % (args.results, ctx["wall"]),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
