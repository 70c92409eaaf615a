#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Two or more builds of the tool against each other, in one run.

    bench/ab.py [--output .output/bench] [--stats] [--rounds 9]
        WORKLOAD OPS TOOL [TOOL...]

ns per op of WORKLOAD (a bench binary in --output, or redis) under the
empty-probe floor and under each TOOL (a command line: a binary and its
options), in interleaved rounds, so that the machine's drift falls on
every column alike; medians, every round, and × the floor. With
--stats, the kernel's BPF run-time statistics of each round (ns per call
/ calls per op). This is how a change to the hot path is judged: one
run of bench/run.py moves by ±0.15 × the floor on this shared machine.
"""
import argparse
import importlib.util
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "hot_path", os.path.join(HERE, "hot-path.py"))
hp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", default=os.path.join(HERE, "..", ".output",
                                                      "bench"))
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--stats", action="store_true")
    ap.add_argument("workload")
    ap.add_argument("ops", type=int)
    ap.add_argument("tools", nargs="+")
    a = ap.parse_args()
    tracers = [("floor", [os.path.join(a.output, "floor"), "-m",
                          "default"])]
    tracers += [(t, t.split()) for t in a.tools]
    ns = {n: [] for n, _ in tracers}
    progs = {n: {} for n, _ in tracers}
    if a.stats:
        open(hp.STATS, "w").write("1")
    try:
        for _ in range(a.rounds):
            for name, argv in tracers:
                per_op, _, per_prog = hp.run_once(
                    hp.workload_argv(a.output, a.workload, a.ops), argv)[:3]
                ns[name].append(per_op)
                for p, v in per_prog.items():
                    progs[name].setdefault(p, []).append(v)
    finally:
        if a.stats:
            open(hp.STATS, "w").write("0")
    floor = statistics.median(ns["floor"])
    for name, _ in tracers:
        m = statistics.median(ns[name])
        # Each round's own ratio too: the machine drifts between rounds
        # more than within one, so the median of the pairs moves less.
        pairs = [t / f for t, f in zip(ns[name], ns["floor"])]
        print("%-40s %8.0f ns  x%.2f  paired x%.2f [%.2f-%.2f]  (%s)" % (
            name[-40:], m, m / floor, statistics.median(pairs), min(pairs),
            max(pairs), " ".join("%.0f" % x for x in ns[name])))
        for p, v in sorted(progs[name].items()):
            print("    %-20s %s" % (p, " ".join("%.0f/%.2f" % (
                t, calls / a.ops) for t, calls in v)))


if __name__ == "__main__":
    main()
