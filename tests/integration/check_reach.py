#!/usr/bin/env python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The heap scan's labelled corpus, and its verdicts checked against it.

    check_reach.py check TARGET REPORT.json
        the report's classes per site (leaks[].reachability, --top 0,
        and sites[].reachability alike) and its leaked cycles must be the
        corpus' exactly: quiet and exit
        0 when they are, else one line per difference and exit 1.

As a module (bench/reach.py): TRUTH, CYCLES, site_of(), from_report(),
from_memcheck() and score().

The truth mirrors the tables at the top of tests/targets/reach*.
A block belongs to the site of the first frame of its stack whose
function is one of the target's site names (C++ argument lists and Rust
paths cut); blocks of no site (the C library's, the runtime's) are not
labelled and not scored.
"""

import re
import sys
import xml.etree.ElementTree as ET

import msjson

CLASSES = ("definitely_lost", "indirectly_lost", "possibly_lost",
           "still_reachable")

TRUTH = {
    "reach": {
        "list_head": {"definitely_lost": 1},
        "list_node": {"indirectly_lost": 9},
        "tree_root": {"definitely_lost": 1},
        "tree_node": {"indirectly_lost": 14},
        "ring_node": {"definitely_lost": 1, "indirectly_lost": 3},
        "alone": {"definitely_lost": 8},
        "xor_hidden": {"definitely_lost": 2},
        "interior": {"possibly_lost": 3},
        "tagged": {"possibly_lost": 2},
        "global_held": {"still_reachable": 4},
        "chain_head": {"still_reachable": 1},
        "chain_node": {"still_reachable": 5},
        "thread_held": {"still_reachable": 1},
        "cloned": {"still_reachable": 3},
    },
    "reach_cxx": {
        "sp_cycle": {"definitely_lost": 3, "indirectly_lost": 3},
        "sp_held": {"still_reachable": 3},
    },
    "reach_rs": {
        "rc_cycle": {"definitely_lost": 3, "indirectly_lost": 3},
        "box_held": {"still_reachable": 1},
    },
}

# Clone candidates: site -> blocks alike. make_shared's blocks hold the
# same vtable pointer and counts, their pointers aside: the six of the
# cycles are alike (the rule's own example of a false candidate).
CLONES = {"reach": {"cloned": 3}, "reach_cxx": {"sp_cycle": 6},
          "reach_rs": {}}

# Leaked cycles: (cycles, blocks in each), one group per entry.
CYCLES = {
    "reach": [(1, 4)],
    "reach_cxx": [(3, 2)],
    "reach_rs": [(3, 2)],
}


def bare(fn):
    """'ns::f(int)' and 'crate::f' -> 'f'."""
    if not fn:
        return ""
    fn = re.sub(r"\(.*", "", fn)
    return fn.rsplit("::", 1)[-1]


def site_of(target, functions):
    names = TRUTH[target]
    for fn in functions:
        b = bare(fn)
        if b in names:
            return b
    return None


def counts(target, rows):
    """rows: (functions, class, blocks) -> {site: {class: blocks}}."""
    out = {s: dict.fromkeys(CLASSES, 0) for s in TRUTH[target]}
    for functions, cls, n in rows:
        site = site_of(target, functions)
        if site:
            out[site][cls] += n
    return out


def from_report(target, report, key="leaks"):
    """The classes per site of report[key]: "leaks" or "sites"."""
    rows = []
    for leak in report.get(key, []):
        fns = [f.get("function") for f in leak.get("frames", [])]
        reach = leak.get("reachability") or {}
        for cls in CLASSES:
            rows.append((fns, cls, (reach.get(cls) or {}).get("count", 0)))
    return counts(target, rows)


MEMCHECK_KINDS = {
    "Leak_DefinitelyLost": "definitely_lost",
    "Leak_IndirectlyLost": "indirectly_lost",
    "Leak_PossiblyLost": "possibly_lost",
    "Leak_StillReachable": "still_reachable",
}


def from_memcheck(target, xml_path):
    rows = []
    for err in ET.parse(xml_path).getroot().iter("error"):
        cls = MEMCHECK_KINDS.get(err.findtext("kind"))
        if not cls:
            continue
        n = int(err.findtext("xwhat/leakedblocks") or 0)
        fns = [f.findtext("fn") for f in err.iter("frame")]
        rows.append((fns, cls, n))
    return counts(target, rows)


def score(truth, got):
    """Per class: (true positives, reported, true) over the sites,
    counting min(truth, got) per site as the blocks both agree on."""
    out = {}
    for cls in CLASSES:
        tp = rep = tru = 0
        for site, want in truth.items():
            t = want.get(cls, 0)
            g = got[site][cls]
            tp += min(t, g)
            rep += g
            tru += t
        out[cls] = (tp, rep, tru)
    return out


def check(target, path):
    report = msjson.load(path)
    errs = []
    if not report.get("reachability"):
        errs.append("reachability: expected the heap scan's summary, got none")
    got = from_report(target, report)
    for site, want in TRUTH[target].items():
        full = {c: want.get(c, 0) for c in CLASSES}
        have = got[site]
        if have != full:
            errs.append(f"{site}: expected {full}, got {have}")
    # Every site carries the classes too (the flame graph reads them):
    # with --top 0 the same as the leaks'.
    sites = from_report(target, report, "sites")
    if sites != got:
        errs.append(f"sites[].reachability: expected the leaks' {got}, got {sites}")
    cycles = report.get("cycles") or {}
    have = sorted((c["instances"], c["blocks"] // c["instances"])
                  for c in cycles.get("list", []))
    if have != sorted(CYCLES[target]):
        errs.append(f"cycles: expected (instances, blocks each) {CYCLES[target]}, got {have}")
    for c in cycles.get("list", []):
        for m in c.get("members", []):
            fns = [f.get("function") for f in m.get("frames", [])]
            if not site_of(target, fns):
                errs.append(f"cycle member: expected a site of {target}, got frames {fns[:4]}")
    clones = ((report.get("graph") or {}).get("clones") or {}).get("list", [])
    have = {}
    for c in clones:
        site = site_of(target, [f.get("function") for f in c["frames"]])
        if site:
            have[site] = have.get(site, 0) + c["count"]
    if have != CLONES[target]:
        errs.append(f"clones: expected {CLONES[target]}, got {have}")
    pause = (report.get("reachability") or {}).get("pause") or {}
    if not pause.get("threads") or pause.get("ns", 0) <= 0:
        errs.append(f"pause: expected stopped threads and a duration, got {pause}")
    return errs


def main(argv):
    if len(argv) != 4 or argv[1] != "check" or argv[2] not in TRUTH:
        sys.exit(f"usage: {argv[0]} check {'|'.join(TRUTH)} REPORT.json")
    errs = check(argv[2], argv[3])
    for e in errs:
        print(e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
