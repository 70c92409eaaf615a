#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The tool's own memory where a trace adds to it: distinct call stacks
(bench/many-stacks.sh: a random walk of 24 calls before each malloc,
bounded by --max-stacks), ended process images under -a
(bench/ended-images.sh: runs of /bin/true), and a busy host's short
programs under -a with their images folded and not (bench/busy-host.sh).
Each script runs --runs times; the section of bench/RESULTS.md gives the
median and the range.

    bench/tool-memory.py --tool .output/memscope-bpf [--runs 3]
        [--secs 30] [--procs 2000] [--busy-secs 20]
        [--results bench/RESULTS.md]
"""

import argparse
import os
import re
import sys

import sections
from sections import header, run, spread

HERE = os.path.dirname(os.path.abspath(__file__))


def nums(line, pattern):
    m = re.search(pattern, line)
    if not m:
        sys.exit(f"cannot read {pattern!r} in: {line}")
    return [float(x.replace(",", "")) for x in m.groups()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--secs", type=int, default=30)
    ap.add_argument("--procs", type=int, default=2000)
    ap.add_argument("--busy-secs", type=int, default=20)
    ap.add_argument("--results")
    args = ap.parse_args()

    stacks, ended, busy = [], [], {8: [], 0: []}
    for _ in range(args.runs):
        line = run([os.path.join(HERE, "many-stacks.sh"), args.tool,
                    str(args.secs)])
        print(line)
        stacks.append(nums(line, r": ([\d,]+) allocations, ([\d,]+) stacks "
                           r"kept, ([\d,]+) records cut; tool RSS (\d+) MiB "
                           r"while tracing, (\d+) MiB at most.*report "
                           r"([\d.]+) s.*JSON ([\d.]+) GB"))
        line = run([os.path.join(HERE, "ended-images.sh"), args.tool,
                    str(args.procs)])
        print(line)
        ended.append(nums(line, r"RSS ([\d.]+) -> ([\d.]+) MiB, ([\d.]+) "
                          r"KiB per process.*; ([\d.]+) MiB at most.*"
                          r"descriptors (\d+) -> (\d+)"))
        for fold in busy:
            line = run([os.path.join(HERE, "busy-host.sh"), args.tool,
                        str(args.busy_secs), str(fold)])
            print(line)
            busy[fold].append(nums(line, r": (\d+) images in (\d+) entries "
                                   r"\((\d+) folded\); the tool's RSS (\d+) "
                                   r"MiB when tracing ended, (\d+) MiB at "
                                   r"most; the report ([\d.]+) s, its JSON "
                                   r"([\d.]+) MB; ended images' sites on "
                                   r"disk ([\d.]+) MB"))
    col = lambda rows, i: [r[i] for r in rows]
    lines = [
        "## The tool's memory where a trace adds to it (bench/tool-memory.py)",
        "",
    ] + header(f"{args.runs}", "bench/tool-memory.py --tool "
               ".output/memscope-bpf --results bench/RESULTS.md") + [
        f"- Distinct stacks (`bench/many-stacks.sh`, {args.secs} s of a "
        "random walk of 24 calls before each malloc, default "
        "`--max-stacks`): "
        f"{spread(col(stacks, 0), '%.0f')} allocations, "
        f"{spread(col(stacks, 1), '%.0f')} stacks kept, the tool's RSS "
        f"{spread(col(stacks, 3), '%.0f')} MiB while tracing and "
        f"{spread(col(stacks, 4), '%.0f')} MiB at most, the report "
        f"{spread(col(stacks, 5), '%.1f')} s, its JSON "
        f"{spread(col(stacks, 6), '%.2f')} GB.",
        f"- Ended process images (`bench/ended-images.sh`, {args.procs} runs "
        "of /bin/true under -a): "
        f"{spread(col(ended, 2), '%.1f')} KiB of the tool's RSS per process "
        "(a fork and an exec image) while tracing, from "
        f"{spread(col(ended, 0), '%.0f')} MiB before the runs to "
        f"{spread(col(ended, 1), '%.0f')} MiB after them, and "
        f"{spread(col(ended, 3), '%.0f')} MiB at most (the report, its "
        "images folded, included); open descriptors "
        f"{spread(col(ended, 4), '%.0f')} before and "
        f"{spread(col(ended, 5), '%.0f')} after.",
    ] + [
        f"- A busy host (`bench/busy-host.sh`, {args.busy_secs} s of a shell "
        "loop starting sh, sed, sort, ls, cat, env, python3 and perl under "
        f"-a) with `--fold {fold}`: "
        f"{spread(col(rows, 0), '%.0f')} images in "
        f"{spread(col(rows, 1), '%.0f')} entries of the report, the tool's "
        f"RSS {spread(col(rows, 3), '%.0f')} MiB when tracing ended and "
        f"{spread(col(rows, 4), '%.0f')} MiB at most, the report "
        f"{spread(col(rows, 5), '%.1f')} s, its JSON "
        f"{spread(col(rows, 6), '%.1f')} MB; the sites of the images that "
        f"ended, in the tool's spill file, {spread(col(rows, 7), '%.1f')} "
        "MB of disk when tracing ended."
        for fold, rows in busy.items()
    ]
    if args.results:
        sections.write(args.results, "tool-memory.py", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
