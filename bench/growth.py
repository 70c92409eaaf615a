#!/usr/bin/python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Precision and recall of the leak suspects by growth (issue 12).

Traces each labelled pattern of tests/targets/growth.c alone, at two
snapshot intervals, and compares the tool's verdicts with the labels:
grow_leak and churn_leak leak, steady_set, plateau_cache, sawtooth_batch
and temporary_bufs do not. A run is a true positive when its leaking
pattern is a suspect, a false positive when a pattern that does not leak
is one. The pattern's own verdict (its busiest call site's) is compared
with its label too.

    bench/growth.py --tool .output/memscope-bpf --results bench/RESULTS.md

run.py calls measure() and section() for the whole bench; alone, this
script replaces (or appends) its section of RESULTS.md.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import sections

# Reports read with their frames resolved (msjson, beside the tests).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import msjson  # noqa: E402

TITLE = "## Leak suspects by growth (issue 12, bench/growth.py)"
PATTERNS = {
    "grow_leak": "growing",
    "churn_leak": "growing",
    "steady_set": "steady",
    "plateau_cache": "plateau",
    "sawtooth_batch": "sawtooth",
    "temporary_bufs": "temporary",
}
INTERVALS = (0.5, 1.0)
SECONDS = 12


def first_function(site):
    frames = site.get("frames") or [{}]
    return frames[0].get("function")


def run_one(tool, target, pattern, interval, logdir):
    """One traced run: (is the pattern a suspect, its verdict)."""
    out = os.path.join(logdir, "%s-%g.json" % (pattern, interval))
    cmd = [tool, "-q", "-t", "0", "-i", str(interval), "-o", out, "--",
           target, str(SECONDS), pattern]
    with open(out + ".log", "w") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                            timeout=SECONDS * 5).returncode
    if rc:
        return None, "exit %d (%s.log)" % (rc, out)
    r = msjson.load(out)
    suspect = any(first_function(s) == pattern for s in r.get("suspects", []))
    sites = [s for s in r.get("growth", {}).get("sites", [])
             if first_function(s) == pattern]
    main = max(sites, key=lambda s: s["live_blocks"] + s["old_blocks"],
               default=None)
    return suspect, main["pattern"] if main else "none"


def measure(tool, target, logdir):
    runs = []
    for interval in INTERVALS:
        for pattern, label in PATTERNS.items():
            suspect, verdict = run_one(tool, target, pattern, interval,
                                       logdir)
            runs.append({"pattern": pattern, "interval": interval,
                         "label": label, "suspect": suspect,
                         "verdict": verdict})
    return runs


def section(runs):
    tp = sum(1 for r in runs if r["label"] == "growing" and r["suspect"])
    fn = sum(1 for r in runs if r["label"] == "growing" and not r["suspect"])
    fp = sum(1 for r in runs if r["label"] != "growing" and r["suspect"])
    tn = sum(1 for r in runs if r["label"] != "growing" and
             r["suspect"] is False)
    right = sum(1 for r in runs if r["verdict"] == r["label"])
    prec = "%.2f" % (tp / (tp + fp)) if tp + fp else "n/a"
    rec = "%.2f" % (tp / (tp + fn)) if tp + fn else "n/a"
    doc = ["Each labelled pattern of `tests/targets/growth.c` traced alone "
           "for %d s with `-i SEC`, %d runs in all; a run is positive "
           "when the pattern's call site is among the JSON `suspects`." %
           (SECONDS, len(runs)), "",
           "| pattern | label | -i | suspect | verdict |",
           "|---|---|---|---|---|"]
    for r in runs:
        doc.append("| %s | %s | %g s | %s | %s |" % (
            r["pattern"], r["label"], r["interval"],
            {True: "yes", False: "no", None: "failed"}[r["suspect"]],
            r["verdict"]))
    doc += ["", "Precision %s, recall %s (%d true positives, %d false "
            "positives, %d false negatives, %d true negatives); the "
            "pattern's verdict matched its label in %d of %d runs." %
            (prec, rec, tp, fp, fn, tn, right, len(runs)), ""]
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--target", help="growth (default: beside the tool)")
    ap.add_argument("--results", required=True)
    args = ap.parse_args()
    target = args.target or os.path.join(
        os.path.dirname(os.path.abspath(args.tool)), "targets", "growth")
    with tempfile.TemporaryDirectory(prefix="growth-bench.") as logdir:
        doc = section(measure(os.path.abspath(args.tool), target, logdir))
    sections.write(args.results, "growth.py", [TITLE, ""] + doc)
    print("\n".join(doc))


if __name__ == "__main__":
    main()
