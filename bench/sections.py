# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The sections of bench/RESULTS.md that a script of their own measures.

run.py writes RESULTS.md whole; reach.py, soak.py, hot-path.py,
fresh-procs.py and tool-memory.py each take
minutes of a quiet machine, so they write their section between two marker
lines, and run.py keeps what lies between the markers when it rewrites the
rest: a bench run without the soak keeps the last soak's figures.
growth.py's section is written by run.py too (it runs in every bench) and
by growth.py alone, between the same kind of markers.
"""

import os

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
