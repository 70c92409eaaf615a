#!/usr/bin/env python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The heap scan's accuracy and scale, into bench/RESULTS.md.

    bench/reach.py --tool .output/memscope-bpf --targets .output/targets \\
        --scale .output/bench/heapscan-scale --results bench/RESULTS.md

Runs each program of the labelled corpus (tests/targets/reach*, the truth
in tests/integration/check_reach.py) under memscope-bpf --reachability
and under Valgrind memcheck, and scores both against the truth per class
(precision and recall over the labelled blocks) and against each other
(agreement); then the scan alone over a generated heap of 1 M blocks
(bench/heapscan-scale.c). The section it writes sits between two marker
lines of RESULTS.md (bench/sections.py), which bench/run.py keeps when it
rewrites the rest.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import check_reach  # noqa: E402
import msjson  # noqa: E402
import sections  # noqa: E402

RUNS = 3


def run_memscope(tool, prog, out):
    subprocess.run([tool, "-q", "-t", "0", "--reachability", "-o", out,
                    "--", prog], check=True, stdout=subprocess.DEVNULL,
                   timeout=120)
    return msjson.load(out)


def run_memcheck(prog, out):
    subprocess.run(["valgrind", "--tool=memcheck", "--leak-check=full",
                    "--show-leak-kinds=all", "--xml=yes",
                    f"--xml-file={out}", prog], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=300)


def ratio(a, b):
    return f"{a / b:.2f}" if b else "—"


def add(acc, sc):
    for cls, (tp, rep, tru) in sc.items():
        a = acc.setdefault(cls, [0, 0, 0])
        a[0] += tp
        a[1] += rep
        a[2] += tru


def agreement(a, b):
    same = total = 0
    for site in a:
        for cls in check_reach.CLASSES:
            same += min(a[site][cls], b[site][cls])
        total += max(sum(a[site].values()), sum(b[site].values()))
    return same, total


def measure(args, tmp):
    ms_acc, vg_acc, rows, pauses = {}, {}, [], []
    agree = [0, 0]
    for target in check_reach.TRUTH:
        prog = os.path.join(args.targets, target)
        truth = check_reach.TRUTH[target]
        report = run_memscope(args.tool, prog,
                              os.path.join(tmp, target + ".json"))
        for _ in range(RUNS - 1):
            r = run_memscope(args.tool, prog, os.path.join(tmp, "p.json"))
            pauses.append(r["reachability"]["pause"]["ns"])
        pauses.append(report["reachability"]["pause"]["ns"])
        ms = check_reach.from_report(target, report)
        xml = os.path.join(tmp, target + ".xml")
        run_memcheck(prog, xml)
        vg = check_reach.from_memcheck(target, xml)
        add(ms_acc, check_reach.score(truth, ms))
        add(vg_acc, check_reach.score(truth, vg))
        s, t = agreement(ms, vg)
        agree[0] += s
        agree[1] += t
        for site in truth:
            want = {c: n for c, n in truth[site].items() if n}
            rows.append((target, site, want,
                         {c: n for c, n in ms[site].items() if n},
                         {c: n for c, n in vg[site].items() if n}))
    scale = json.loads(subprocess.run([args.scale, "1000000"], check=True,
                                      capture_output=True, text=True,
                                      timeout=300).stdout)
    return ms_acc, vg_acc, agree, rows, sorted(pauses), scale


def fmt_classes(d):
    short = {"definitely_lost": "DL", "indirectly_lost": "IL",
             "possibly_lost": "PL", "still_reachable": "SR"}
    return ", ".join(f"{short[c]} {n}" for c, n in d.items()) or "none"


def section(ms_acc, vg_acc, agree, rows, pauses, scale):
    vg = subprocess.run(["valgrind", "--version"], capture_output=True,
                        text=True).stdout.strip()
    doc = ["", "## Heap scan: memcheck's classes (issue 13, bench/reach.py)", "",
           f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {vg}",
           "- corpus: tests/targets/reach.c, reach_cxx.cc, reach_rs.rs; the "
           "truth: tests/integration/check_reach.py (memcheck's definitions "
           "applied to what each program does). A block counts for the site "
           "of its allocating stack; per class, a site's blocks both agree on "
           "are min(truth, verdict).",
           "- memscope-bpf: `memscope-bpf -t 0 --reachability -o R.json -- "
           "PROG` (scanned at the program's exit); memcheck: `valgrind "
           "--leak-check=full --show-leak-kinds=all --xml=yes PROG`.", "",
           "| class | memscope-bpf precision | memscope-bpf recall | "
           "memcheck precision | memcheck recall | blocks (truth) |",
           "|---|---:|---:|---:|---:|---:|"]
    for cls in check_reach.CLASSES:
        tp, rep, tru = ms_acc[cls]
        vtp, vrep, _ = vg_acc[cls]
        doc.append(f"| {cls.replace('_', ' ')} | {ratio(tp, rep)} | "
                   f"{ratio(tp, tru)} | {ratio(vtp, vrep)} | "
                   f"{ratio(vtp, tru)} | {tru} |")
    doc += ["", f"Agreement with memcheck: {agree[0]} of {agree[1]} labelled "
            f"blocks in the same class ({ratio(agree[0], agree[1])}).", "",
            "| program | site | truth | memscope-bpf | memcheck |",
            "|---|---|---|---|---|"]
    for target, site, want, ms, vg_ in rows:
        doc.append(f"| {target} | {site} | {fmt_classes(want)} | "
                   f"{fmt_classes(ms)} | {fmt_classes(vg_)} |")
    mid = pauses[len(pauses) // 2]
    doc += ["", "Target stopped (registers and stacks copied, every thread; "
            f"{len(pauses)} runs of the corpus): median {mid / 1e3:.0f} µs, "
            f"max {pauses[-1] / 1e3:.0f} µs.", "",
            "Scale (`heapscan-scale 1000000`: 1 M blocks of 48 bytes read with "
            "process_vm_readv from the bench's own heap, lists of 16, a "
            "quarter held): "
            f"{scale['seconds']:.2f} s (goal: at most 5 s), "
            f"{scale['extra_bytes_per_block']:.1f} bytes of peak memory per "
            "block over the heap's own (goal: at most 64), "
            f"{scale['kept_bytes_per_block']:.1f} kept after the scan; "
            f"{scale['edges']} pointers.", ""]
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--scale", required=True)
    ap.add_argument("--results", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        doc = section(*measure(args, tmp))
    sections.write(args.results, "reach.py", doc)
    print("\n".join(doc))


if __name__ == "__main__":
    main()
