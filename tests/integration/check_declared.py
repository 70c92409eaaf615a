#!/usr/bin/env python3
# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""Assertions on the declared part of memscope-bpf JSON reports, for the
instrumented examples (examples/executor.c, examples/executor_clean.c).

    check_declared.py executor|executor_clean REPORT.json --src EXAMPLES_DIR

Quiet and exit 0 when the report holds; otherwise one line per
difference, "what: expected ..., got ...", and exit 1.

The per-task figures are read from the table at the top of
examples/executor.h, the planted mistakes mirror the table in
examples/executor.c, and source lines come from the "@site NAME" markers
in examples/executor.h, so editing the example does not silently break
the checks.
"""

import argparse
import json
import os
import re
import sys

import msjson

# The planted mistakes of executor.c: what each must produce. "stack" is
# the documented call chain, innermost first: frames[0] must be its first
# function and the others must follow in that order; "site" names the
# @site marker whose line the frame of "site_fn" must carry.
ZOMBIES = {
    7: {"rule": "completed-with-live-blocks", "count": 2, "bytes": 1280,
        "stack": ["cache_fill_step"], "site": "zombie",
        "site_fn": "cache_fill_step"},
    8: {"rule": "never-completed-idle", "count": 1, "bytes": 512,
        "stack": ["watch_step"], "site": "idle", "site_fn": "watch_step"},
}
VIOLATIONS = [
    {"kind": "never_freed_in_foreign_custody", "passport": "snapshot",
     "size": 2500, "custody": "libfoo", "op": "handover", "side": "libfoo",
     "stack": ["host_submit", "host_submit_checked", "register_snapshot",
               "main"],
     "site": "snapshot", "site_fn": "register_snapshot"},
    {"kind": "freed_by_wrong_side", "passport": "bulk", "size": 5000,
     "custody": "libfoo", "op": "free", "side": "host",
     "stack": ["ffi_send_bulk", "ffi_step"],
     "site": "wrong_side", "site_fn": "ffi_send_bulk"},
    {"kind": "handover_after_free", "passport": "late", "size": 320,
     "custody": "host", "op": "handover", "side": "libfoo",
     "stack": ["ffi_drop_late", "ffi_step"],
     "site": "after_free", "site_fn": "ffi_drop_late"},
    {"kind": "double_handover", "passport": "retry", "size": 900,
     "custody": "libfoo", "op": "handover", "side": "libfoo",
     "stack": ["host_submit", "ffi_resubmit", "ffi_send_retry", "ffi_step"],
     "site": "twice", "site_fn": "ffi_resubmit"},
    {"kind": "unknown_passport", "passport": None, "size": None,
     "custody": None, "op": "reclaim", "side": None,
     "stack": ["ffi_take_reply", "ffi_step"],
     "site": "unknown_passport", "site_fn": "ffi_take_reply"},
]
# The clones are made by cfg_clone, inlined into fanout_clones: frame 0
# names fanout_clones but carries the line of the inlined callee, so only
# the functions are checked (no "site").
STORM = {"name": "config", "size": 160, "min_clones": 1000,
         "stack": ["fanout_clones", "fanout_step"], "site": None,
         "site_fn": None}
# Declared names on leak entries: frames[0].function -> declared name.
LEAK_NAMES = {"cache_fill_step": ("result_entry", 2),
              "watch_step": ("watch_state", 1)}
LIVE_AT_EXIT = {"executor": (4, 4292), "executor_clean": (0, 0)}


def task_table(path, variant):
    """id -> expected figures, from the table at the top of executor.h."""
    row = re.compile(r"^\s*\*\s+(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+"
                     r"(\d+)\s+(.*)$")
    cont = re.compile(r"^\s*\*\s{20,}(\S.*)$")
    live = re.compile(r"^(?:([EC]): )?(\d+)(?: / (\d+))?\s*(.*)$")
    state = re.compile(r"^(?:([EC]): )?(.+?)\s*$")
    mine = "E" if variant == "executor" else "C"
    out, last = {}, None

    def columns(t, text):
        m = live.match(text)
        if not m:
            return
        who, count, nbytes, rest = m.groups()
        if who in (None, mine):
            t["live"] = (int(count), int(nbytes or 0))
        m = state.match(rest) if rest else None
        if m and m.group(1) in (None, mine):
            t["state"] = m.group(2)

    with open(path, encoding="utf-8") as f:
        for text in f:
            if text.startswith(" */"):
                break
            m = row.match(text)
            if m:
                tid, name, parent, blocks, nbytes, peak, rest = m.groups()
                last = out[int(tid)] = {
                    "name": name, "parent": int(parent),
                    "allocs": int(blocks), "alloc_bytes": int(nbytes),
                    "peak_bytes": int(peak)}
                columns(last, rest)
                continue
            m = cont.match(text)
            if m and last is not None:
                columns(last, m.group(1))
            elif last is not None and text.strip() != "*":
                last = None
    return out


def site_lines(src_dir):
    """NAME -> line of every "@site NAME" marker in executor.h."""
    out = {}
    with open(os.path.join(src_dir, "executor.h"), encoding="utf-8") as f:
        for lineno, text in enumerate(f, 1):
            m = re.search(r"@site\s+(\w+)", text)
            if m:
                out[m.group(1)] = lineno
    return out


def names(frames):
    return [f.get("function") for f in frames or []]


class Checker:
    def __init__(self, report, variant, src):
        self.r = report
        self.d = report.get("declared") or {}
        self.variant = variant
        self.src = src
        self.errors = []
        self.lines = site_lines(src)

    def fail(self, msg):
        self.errors.append(msg)

    def expect(self, what, expected, got):
        if expected != got:
            self.fail(f"{what}: expected {expected!r}, got {got!r}")

    def stack(self, what, frames, want, site, site_fn):
        """frames[0] is want[0], the rest of want follows in order, and
        the frame of site_fn is on the @site line (site None: no line).
        Calls inlined into want[0] (helpers the chain does not name) come
        before it, marked inlined: they are skipped."""
        frames = list(frames or [])
        while (frames and frames[0].get("inlined") and
               frames[0].get("function") != want[0]):
            frames.pop(0)
        got = names(frames)
        if not got or got[0] != want[0]:
            self.fail(f"{what}.frames[0].function: expected {want[0]}, "
                      f"got {got[:1] or 'no frames'} (stack {got})")
            return
        i = 0
        for fn in want[1:]:
            while i < len(got) and got[i] != fn:
                i += 1
            if i == len(got):
                self.fail(f"{what}.frames: expected {' <- '.join(want)} "
                          f"in that order, got {' <- '.join(map(str, got))}")
                return
        if site is None:
            return
        line = self.lines.get(site)
        if line is None:
            self.fail(f"examples/executor.h: expected an '@site {site}' "
                      f"marker, found none")
            return
        fr = next(f for f in frames if f.get("function") == site_fn)
        self.expect(f"{what}: line of {site_fn} (@site {site}, "
                    f"executor.h)", line, fr.get("line"))

    # --- tasks --------------------------------------------------------

    def tasks(self):
        table = task_table(os.path.join(self.src, "executor.h"),
                           self.variant)
        if len(table) < 10:
            self.fail(f"examples/executor.h: expected the per-task table "
                      f"(10 tasks), read {len(table)}: {sorted(table)}")
            return
        got = {t.get("id"): t for t in self.d.get("tasks") or []}
        self.expect("declared.tasks ids", sorted(table), sorted(got))
        for tid, want in sorted(table.items()):
            t = got.get(tid)
            if t is None:
                continue
            what = f"task {tid} ({want['name']})"
            self.expect(f"{what}.source", "declared", t.get("source"))
            self.expect(f"{what}.name", want["name"], t.get("name"))
            self.expect(f"{what}.parent", want["parent"], t.get("parent"))
            if want["parent"]:
                self.expect(f"{what}.parent_known", True,
                            t.get("parent_known"))
            mem = t.get("memory") or {}
            self.expect(f"{what}.memory.source", "captured",
                        mem.get("source"))
            for k in ("allocs", "alloc_bytes", "peak_bytes"):
                self.expect(f"{what}.memory.{k}", want[k], mem.get(k))
            completed = want.get("state") == "completed"
            self.expect(f"{what}.state",
                        "completed" if completed else "not completed",
                        "completed" if t.get("state") == "completed"
                        else "not completed")
            # live at completion, or at exit for a task never completed
            at = mem.get("at_completion") if completed else mem
            at = at or {}
            self.expect(f"{what} live at end (blocks, bytes)",
                        want.get("live"),
                        (at.get("live_count"), at.get("live_bytes")))

    # --- inferred zombies ---------------------------------------------

    def zombies(self, planted):
        rules = self.d.get("rules") or {}
        tasks = {t.get("id"): t for t in self.d.get("tasks") or []}
        got = {}
        for z in self.d.get("zombies") or []:
            got.setdefault(z.get("task"), []).append(z)
            self.expect(f"zombie of task {z.get('task')}.source", "inferred",
                        z.get("source"))
            c = z.get("confidence")
            if not isinstance(c, (int, float)) or not 0 <= c <= 1:
                self.fail(f"zombie of task {z.get('task')}.confidence: "
                          f"expected 0..1, got {c!r}")
        for tid in sorted(set(got) - set(planted)):
            self.fail(f"zombies: expected none for task {tid}, got "
                      f"{[z.get('rule') for z in got[tid]]}")
        for tid, want in sorted(planted.items()):
            zs = got.get(tid) or []
            what = f"zombie of task {tid}"
            if len(zs) != 1 or zs[0].get("rule") != want["rule"]:
                t = tasks.get(tid) or {}
                idle = ((rules.get("end_ns") or 0) -
                        (t.get("last_active_ns") or 0)) / 1e9
                self.fail(f"{what}: expected rule {want['rule']}, got "
                          f"{[z.get('rule') for z in zs]} (task state "
                          f"{t.get('state')}, idle {idle:.3f} s at the end, "
                          f"idle threshold "
                          f"{(rules.get('idle_threshold_ns') or 0) / 1e9:.3f}"
                          f" s)")
                continue
            z = zs[0]
            self.expect(f"{what}.count", want["count"], z.get("count"))
            self.expect(f"{what}.bytes", want["bytes"], z.get("bytes"))
            self.stack(f"{what}.top", (z.get("top") or {}).get("frames"),
                       want["stack"], want["site"], want["site_fn"])

    # --- passports ----------------------------------------------------

    def violations(self, planted):
        passports = self.d.get("passports") or []
        got = list(self.d.get("violations") or [])
        for v in got:
            self.expect(f"violation {v.get('kind')}.source", "declared",
                        v.get("source"))
        for want in planted:
            what = f"violation {want['kind']}"
            hits = [v for v in got if v.get("kind") == want["kind"]]
            if len(hits) != 1:
                self.fail(f"{what}: expected 1, got {len(hits)}")
                continue
            v = hits[0]
            got.remove(v)
            p = v.get("passport")
            if want["passport"] is None:
                self.expect(f"{what}.passport", None, p)
            elif not isinstance(p, int) or p >= len(passports):
                self.fail(f"{what}.passport: expected the index of "
                          f"\"{want['passport']}\", got {p!r}")
            else:
                self.expect(f"{what}: passport name", want["passport"],
                            passports[p].get("name"))
                self.expect(f"{what}: passport size", want["size"],
                            passports[p].get("size"))
            for k in ("custody", "op", "side"):
                self.expect(f"{what}.{k}", want[k], v.get(k))
            self.stack(what, v.get("frames"), want["stack"], want["site"],
                       want["site_fn"])
        for v in got:
            self.fail(f"violations: expected no {v.get('kind')}, got one "
                      f"(ptr {v.get('ptr')}, op {v.get('op')}, stack "
                      f"{' <- '.join(map(str, names(v.get('frames'))))})")

    # --- shared handles -----------------------------------------------

    def storms(self, planted):
        shared = self.d.get("shared") or []
        got = self.d.get("storms") or []
        if not planted:
            for s in got:
                self.fail(f"storms: expected none, got {s.get('clones')} "
                          f"clones of {s.get('ptr')}")
            return
        if len(got) != 1:
            self.fail(f"storms: expected 1 on \"{STORM['name']}\", got "
                      f"{len(got)}")
            return
        s = got[0]
        self.expect("storm.source", "inferred", s.get("source"))
        self.expect("storm.rule", "clone-storm", s.get("rule"))
        i = s.get("shared")
        blk = shared[i] if isinstance(i, int) and i < len(shared) else {}
        self.expect("storm: shared block name", STORM["name"],
                    blk.get("name"))
        self.expect("storm: shared block size", STORM["size"],
                    (blk.get("block") or {}).get("size"))
        n = s.get("clones")
        if not isinstance(n, int) or n < STORM["min_clones"]:
            self.fail(f"storm.clones: expected >= {STORM['min_clones']}, "
                      f"got {n!r}")
        self.stack("storm", s.get("frames"), STORM["stack"], STORM["site"],
                   STORM["site_fn"])

    # --- leaks and their declared names -------------------------------

    def leaks(self):
        leaks = self.r.get("leaks") or []
        count = sum(e.get("count") or 0 for e in leaks)
        nbytes = sum(e.get("bytes") or 0 for e in leaks)
        self.expect("leaks: blocks and bytes live at exit",
                    LIVE_AT_EXIT[self.variant], (count, nbytes))
        if self.variant != "executor":
            return
        by_index = {s.get("index"): s for s in
                    (self.d.get("sites") or {}).get("leaks") or []}
        for fn, (name, n) in LEAK_NAMES.items():
            idx = [i for i, e in enumerate(leaks)
                   if names(e.get("frames"))[:1] == [fn]]
            if len(idx) != 1:
                self.fail(f"leaks[frames[0].function={fn}]: expected 1 "
                          f"entry, got {len(idx)}")
                continue
            decl = by_index.get(idx[0]) or {}
            got = [(x.get("name"), x.get("count"))
                   for x in decl.get("names") or []]
            self.expect(f"declared.sites.leaks for leaks[{idx[0]}] ({fn})",
                        [(name, n)], got)

    def run(self):
        if not isinstance(self.r.get("declared"), dict):
            self.fail("declared: missing from the report")
            return
        self.expect("declared.source", "declared", self.d.get("source"))
        stats = self.d.get("stats") or {}
        self.expect("declared.stats.malformed (every record the example "
                    "sends is well formed)", 0, stats.get("malformed"))
        self.expect("declared.stats.dropped", 0, stats.get("dropped"))
        self.tasks()
        self.leaks()
        planted = self.variant == "executor"
        self.zombies(ZOMBIES if planted else {})
        self.violations(VIOLATIONS if planted else [])
        self.storms(planted)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("variant", choices=sorted(LIVE_AT_EXIT))
    ap.add_argument("report")
    ap.add_argument("--src", required=True, help="the examples/ directory")
    a = ap.parse_args()
    try:
        with open(a.report, encoding="utf-8") as f:
            report = msjson.resolve(json.load(f))
    except (OSError, ValueError) as e:
        print(f"report {a.report}: expected valid JSON, got {e}")
        return 1
    c = Checker(report, a.variant, a.src)
    c.run()
    for e in c.errors:
        print(e)
    return 1 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
