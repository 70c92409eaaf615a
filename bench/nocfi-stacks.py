#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Code built without unwind tables and with frame pointers: Debian's
chromium (225 MB of code, 0.4 MB of .eh_frame). How many of its
allocations' stacks end whole, and why the others stopped
(kernel.stack_stops over every process of a headless page load, --runs
times), and what its table costs (bench/unwind-tables: rows, kernel bytes,
compile time). The section of bench/RESULTS.md gives medians and ranges.

    bench/nocfi-stacks.py --tool .output/memscope-bpf
        --unwind-tables .output/bench/unwind-tables [--runs 3]
        [--results bench/RESULTS.md]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

import sections
from sections import header, run, spread

CHROMIUM = "/usr/lib/chromium/chromium"
PAGE = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--dump-dom", "about:blank"]


def stops(tool, out):
    """kernel.stack_stops summed over the processes of one traced run."""
    run([tool, "-q", "-o", out, "--"] + PAGE)
    with open(out) as f:
        report = json.load(f)
    total = {}
    for p in report["processes"]:
        for k, v in p["kernel"]["stack_stops"].items():
            total[k] = total.get(k, 0) + v
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--unwind-tables", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--results")
    args = ap.parse_args()
    if not shutil.which("chromium") or not os.path.exists(CHROMIUM):
        sys.exit("nocfi-stacks: needs Debian's chromium "
                 "(scripts/install-deps.sh installs it)")

    table = run([args.unwind_tables, "-n", str(args.runs), CHROMIUM])
    row = [c.strip() for c in table.strip().splitlines()[-1].split("|")]
    # | object | source | FDEs | rows | by rule | bytes | ms best / median |
    source, rows, nbytes = row[2], int(row[4]), int(row[6])
    ms = float(row[7].split("/")[1])
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            s = stops(args.tool, os.path.join(tmp, f"r{i}.json"))
            print(s)
            runs.append(s)
    whole = [100.0 * r["end"] / sum(r.values()) for r in runs]
    col = lambda k: [r.get(k, 0) for r in runs]
    lines = [
        "## Code without CFI, with frame pointers: Debian's chromium "
        "(bench/nocfi-stacks.py)",
        "",
    ] + header(args.runs, "bench/nocfi-stacks.py --tool "
               ".output/memscope-bpf --unwind-tables "
               ".output/bench/unwind-tables --results bench/RESULTS.md") + [
        f"- Its table: {rows:,} rows from {source}, {nbytes:,} bytes of "
        f"kernel memory, compiled in {ms / 1000:.1f} s (median of "
        f"{args.runs}), once per build-id.",
        f"- `memscope-bpf -- {' '.join(PAGE)}`, every process: "
        f"{spread(whole, '%.1f')} % of the stacks end whole "
        f"({spread(col('end'), '%.0f')} of "
        f"{spread([sum(r.values()) for r in runs], '%.0f')}); stopped "
        f"no_info {spread(col('no_info'), '%.0f')}, depth (past "
        f"the default --max-depth) {spread(col('depth'), '%.0f')}, not_loaded "
        f"{spread(col('not_loaded'), '%.0f')}.",
    ]
    if args.results:
        sections.write(args.results, "nocfi-stacks.py", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
