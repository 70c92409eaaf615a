#!/usr/bin/env python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The price of memscope-bpf's stack walk, by mode, beside the empty floor.

    bench/walk-cost.py OUT REPS

OUT holds the binaries (`make -C bench build` puts the floor there; this
builds churn without frame pointers and walkchain into OUT/walk). Runs
churn (shallow stacks) and walkchain (30 frames) untraced, under the floor,
and under memscope-bpf with --stacks dwarf and fp, REPS times each, and
prints the median ns per malloc/free pair, its range, and the kernel's BPF
run-time statistics (ns per run) of the programs the tracer loaded, told
from other tools' programs of the same names by their ids. The machine is
shared: compare within one run.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(*cmd):
    subprocess.run(cmd, check=True)


def progs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def run_once(workload, args, tracer, ids):
    w = subprocess.Popen([workload] + args + ["--wait"],
                         stdout=subprocess.PIPE, text=True)
    pid = int(w.stdout.readline().split()[1])
    before = {p["id"] for p in progs()}
    t = None
    if tracer:
        t = subprocess.Popen(tracer + ["-p", str(pid)],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        for line in t.stderr:
            if "tracing pid" in line:
                break
        else:
            sys.exit(f"{tracer[0]} ended before tracing")
    time.sleep(0.3)
    ids.clear()
    ids.update(p["id"] for p in progs() if p["id"] not in before and
               p.get("name", "").startswith("ms_"))
    start = {p["id"]: p for p in progs() if p["id"] in ids}
    os.kill(pid, signal.SIGUSR1)
    out = w.stdout.read()
    w.wait()
    end = {p["id"]: p for p in progs() if p["id"] in ids}
    if t:
        t.send_signal(signal.SIGINT)
        t.wait()
    per = {}
    for i, p in end.items():
        runs = p.get("run_cnt", 0) - start[i].get("run_cnt", 0)
        if runs:
            per[p["name"]] = (p.get("run_time_ns", 0) -
                              start[i].get("run_time_ns", 0)) / runs
    return float(re.search(r"ns_per_op=([0-9.]+)", out).group(1)), per


def main():
    out, reps = sys.argv[1], int(sys.argv[2])
    tool = os.path.join(out, "..", "memscope-bpf")
    wdir = os.path.join(out, "walk")
    os.makedirs(wdir, exist_ok=True)
    nofp = ["-O2", "-g", "-fomit-frame-pointer", "-std=gnu11",
            "-D_GNU_SOURCE"]
    sh("gcc", *nofp, "-pthread", "-DCHURN_THREADS=1",
       os.path.join(HERE, "churn.c"), "-o", os.path.join(wdir, "churn"))
    sh("gcc", *nofp, os.path.join(HERE, "walkchain.c"), "-o",
       os.path.join(wdir, "walkchain"))
    tracers = [("native", None), ("floor", [os.path.join(out, "floor")]),
               ("memscope-bpf", [tool]),
               ("memscope-bpf --stacks fp", [tool, "--stacks", "fp"])]
    stat = "/proc/sys/kernel/bpf_stats_enabled"
    with open(stat, "w") as f:
        f.write("1")
    try:
        for wl in ("churn", "walkchain"):
            for name, tracer in tracers:
                rs = sorted((run_once(os.path.join(wdir, wl),
                                      ["-n", "300000"], tracer, set())
                             for _ in range(reps)), key=lambda r: r[0])
                ns, per = rs[len(rs) // 2]
                progs_ns = " ".join(f"{k}={v:.0f}" for k, v in
                                    sorted(per.items()) if k in
                                    ("ms_alloc_return", "ms_free_enter"))
                print(f"{wl:10} {name:26} {ns:9.1f} ns/pair "
                      f"[{rs[0][0]:.0f}-{rs[-1][0]:.0f}] {progs_ns}",
                      flush=True)
    finally:
        with open(stat, "w") as f:
            f.write("0")


if __name__ == "__main__":
    main()
