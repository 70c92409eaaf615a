# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The sections of bench/RESULTS.md that a script of their own measures.

run.py writes RESULTS.md whole; reach.py, soak.py, hot-path.py,
fresh-procs.py, tool-memory.py and nocfi-stacks.py each take
minutes of a quiet machine, so they write their section between two marker
lines, and run.py keeps what lies between the markers when it rewrites the
rest: a bench run without the soak keeps the last soak's figures.
growth.py's section is written by run.py too (it runs in every bench) and
by growth.py alone, between the same kind of markers.
"""

import datetime
import os
import statistics
import subprocess
import sys

# Kept by run.py as they are when it rewrites RESULTS.md.
KEPT = ("reach.py", "soak.py", "hot-path.py", "fresh-procs.py",
        "tool-memory.py", "nocfi-stacks.py")


def bounds(script):
    return ("<!-- bench/%s: begin -->" % script,
            "<!-- bench/%s: end -->" % script)


def wrap(script, lines):
    """The section's lines between its markers."""
    begin, end = bounds(script)
    return [begin] + list(lines) + [end]


def write(path, script, lines):
    """Replaces the script's section of PATH, or appends it; the file is
    replaced whole, never left half written."""
    begin, end = bounds(script)
    old = open(path).read() if os.path.exists(path) else ""
    text = "\n".join(wrap(script, lines)).rstrip("\n") + "\n"
    start, stop = old.find(begin), old.find(end)
    if start < 0 or stop < start:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        new = old[:start] + text.rstrip("\n") + old[stop + len(end):]
    with open(path + ".tmp", "w") as f:
        f.write(new)
    os.replace(path + ".tmp", path)


def kept(path):
    """The KEPT sections of PATH as they are, markers included."""
    try:
        text = open(path).read()
    except OSError:
        return []
    out = []
    for script in KEPT:
        begin, end = bounds(script)
        if begin in text and end in text:
            body = text.split(begin, 1)[1].split(end, 1)[0]
            out += [begin + body + end, ""]
    return out


def run(cmd):
    """A command's stdout; its failure ends the script, saying why."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if p.returncode:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}: "
                 f"{p.stderr.strip()[-2000:]}")
    return p.stdout.strip()


def spread(values, fmt):
    """The median of values and their range, each formatted by fmt."""
    return (fmt % statistics.median(values) + " (" + fmt % min(values) +
            " to " + fmt % max(values) + ")")


def header(runs, reproduce):
    """A section's first lines: when, the tree, the runs, how to redo it."""
    head = run(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                "rev-parse", "--short", "HEAD"])
    when = datetime.datetime.now(datetime.timezone.utc)
    return [f"{when:%Y-%m-%d %H:%M} UTC, tree {head}, {runs} runs: median "
            f"(range). Reproduce: `{reproduce}`.", ""]
