#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Stacks of processes that start while traced, outside -- CMD (issue 9).

Attaches with -f -p to a shell that, once the tool is ready, runs a few
short Debian programs ROUNDS times each, a second apart (with --gcc,
a compile too: gcc's cc1 and as are big objects, compiled while the
host is busy). Nothing holds them at their exec (only -- CMD does), so
each allocates before the tool has read its maps: the walker must find
its objects' tables through the process's own mappings. Prints, per program and round, the allocations, those whose
stack stopped not_loaded, and those whose stack is unnamed (no object
known for its frames: a process gone before its maps were read). Then
the same again with the tables the first trace kept (--table-cache, in
a directory of its own: the first trace starts with none).

    bench/fresh-procs.py --tool .output/memscope-bpf --rounds 3 \\
        [--gcc tests/targets/stk_c.c]
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

import ready
import sections

# Reports read with their frames resolved (msjson, beside the tests).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import msjson  # noqa: E402

TITLE = "## Processes that start while traced (bench/fresh-procs.py)"

# The programs' names as the report gives them, and the command.
PROGRAMS = [
    (("ls",), "ls -l /usr/bin"),
    (("python3",), "/usr/bin/python3 -c 'import json, email'"),
    (("git",), "git --version"),
    (("sort",), "sort /etc/services"),
    (("date",), "date"),
]


def run(tool, rounds, programs, cache):
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "go")
        os.mkfifo(fifo)
        body = "; ".join("%s >/dev/null" % c for _, c in programs)
        # a second between rounds: the tables of a round's new files
        # compile meanwhile, at the lowest priority
        script = "read x < %s; for r in $(seq %d); do %s; sleep 1; done" % (
            fifo, rounds, body)
        sh = subprocess.Popen(["/bin/sh", "-c", script])
        out = os.path.join(d, "r.json")
        t = ready.start(tool, ["-q", "-t", "0", "-o", out,
                               "--table-cache", cache, "-f",
                               "-p", str(sh.pid)], d)
        with open(fifo, "w") as f:
            f.write("go\n")
        _, err = t.communicate(timeout=300)
        sh.wait()
        if t.returncode:
            raise SystemExit("tool failed: %s" % err)
        return msjson.load(out)


def table(r, out, programs):
    names = {n for comms, _ in programs for n in comms}
    seen = collections.Counter()
    rows = []
    unnamed = collections.Counter()
    for i, p in enumerate(r.get("processes") or []):
        comm = p["target"].get("comm")
        if comm not in names or p["target"].get("image") != 1:
            continue
        seen[comm] += 1
        k = p.get("kernel") or {}
        stops = k.get("stack_stops") or {}
        rows.append((comm, seen[comm], i, k.get("allocs", 0),
                     stops.get("not_loaded", 0)))
    for s in r.get("sites") or []:
        if s["frames"] and s["frames"][0].get("object") is None:
            unnamed[s.get("proc")] += s.get("alloc_count") or 0
    out.append("| program | round | allocations | not_loaded | unnamed |")
    out.append("|---|---:|---:|---:|---:|")
    for comm, rnd, i, allocs, nl in rows:
        out.append("| %s | %d | %d | %d | %d |" % (comm, rnd, allocs, nl,
                                                   unnamed[i]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", default=".output/memscope-bpf")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--results", help="write the table's section here "
                    "(bench/RESULTS.md)")
    ap.add_argument("--gcc", metavar="SOURCE",
                    help="also gcc -O2 -c SOURCE each round: cc1 and as, "
                    "big objects, compiled while the host is busy")
    a = ap.parse_args()
    programs = list(PROGRAMS)
    if a.gcc:
        programs.append((("cc1", "as"),
                         "gcc -O2 -c %s -o /dev/null" % a.gcc))
    lines = [TITLE, "",
             "Run of %s: `bench/fresh-procs.py --rounds %d%s`. Per program "
             "and round: its allocations, those whose stack stopped "
             "`not_loaded`, those whose stack is unnamed (the process was "
             "gone before its maps were read)." %
             (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), a.rounds,
              " --gcc %s" % a.gcc if a.gcc else ""),
             ""]
    with tempfile.TemporaryDirectory() as d:
        cache = os.path.join(d, "tables")
        table(run(a.tool, a.rounds, programs, cache), lines, programs)
        lines += ["", "The same, the tables the trace above compiled kept "
                  "(`--table-cache`): none compiled while the programs run.",
                  ""]
        table(run(a.tool, a.rounds, programs, cache), lines, programs)
    print("\n".join(lines))
    if a.results:
        sections.write(a.results, "fresh-procs.py", lines)


if __name__ == "__main__":
    main()
